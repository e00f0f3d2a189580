"""`sealpod info`: the YAML report, JSON, and Go templates written against Podman's struct fields."""

from __future__ import annotations

import json

from tests.rig.sealpod import SealpodRunner


def test_info_formats(sealpod: SealpodRunner) -> None:
    doc = json.loads(sealpod.run("info", "--format", "json").stdout)
    assert doc["store"]["graphRoot"] == str(sealpod.root)
    out = sealpod.run("info", "--format", "{{.Store.GraphRoot}}|{{.Host.OCIRuntime.Name}}|{{.host.arch}}|"
                      "{{.Store.RunRoot}}").stdout
    assert out == f"{sealpod.root}|{doc['host']['ociRuntime']['name']}|{doc['host']['arch']}|{sealpod.runroot}\n"
    assert "graphRoot: " + str(sealpod.root) in sealpod.run("info").stdout
    bad = sealpod.run("info", "--format", "{{.Store.GraphRoot", check=False)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: ") and "Traceback" not in bad.stderr
