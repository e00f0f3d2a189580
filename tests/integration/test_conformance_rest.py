"""Conformance with Podman's system tests: what earlier passes left of 005-info, 035-logs, 120-load
and 330-corrupt-images.

Each test names the Podman BATS case (test/system/*.bats) whose assertions it pins; the scenarios
run against the real sealpod command line with real conmon, runc, overlay mounts and a registry.
"""

from __future__ import annotations

import http.server
import json
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("rest"), seeded_registry.host) as runner:
        yield runner


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr


# --- 005-info.bats ------------------------------------------------------------------------------

def test_info_basic_and_json_like_podman(ctr: SealpodRunner) -> None:
    """`info` basic test (YAML keys, in Podman's order where the test's regexes depend on it) and
    `info --format=json` (packages, network backend, helpers, store)."""
    out = ctr.run("info").stdout
    for expect in (r"buildahVersion: *[0-9.]+", r"conmon:\s+package:", "distribution:", "logDriver:",
                   r"ociRuntime:\s+name:", "os:", "rootless:", "registries:", "store:", "graphDriverName:",
                   "graphRoot:", "graphStatus:", r"imageStore:\s+number: 1", r"runRoot:",
                   r"cgroupManager: (systemd|cgroupfs)", "cgroupVersion: v[12]"):
        assert re.search(expect, out), expect
    doc = json.loads(ctr.run("info", "--format=json").stdout)
    host, store = doc["host"], doc["store"]
    path = re.compile(r"/[a-z0-9/.-]+$")
    assert re.fullmatch(r"[1-9][0-9]*\.[0-9.]+.*", host["buildahVersion"])
    assert path.fullmatch(host["conmon"]["path"]) and "conmon" in host["conmon"]["package"]
    assert "runc" in host["ociRuntime"]["package"] and path.fullmatch(host["ociRuntime"]["path"])
    assert re.fullmatch(r"[a-z0-9-]+_[^_]+_[a-z0-9]+", host["conmon"]["package"])  # dpkg's name_version_arch
    assert host["cgroupManager"] in ("systemd", "cgroupfs") and re.fullmatch("v[12]", host["cgroupVersion"])
    assert re.search(".*dns.*package.*", json.dumps(host["networkBackendInfo"]))
    assert host["networkBackendInfo"]["backend"] == "netavark"
    assert re.search(".*executable.*package.*", json.dumps(host["pasta"]))
    assert path.fullmatch(host["slirp4netns"]["executable"])
    assert host["rootlessNetworkCmd"] in ("slirp4netns", "pasta") and host["databaseBackend"] == "sqlite"
    assert path.fullmatch(store["configFile"]) and re.fullmatch("[a-z0-9]+", store["graphDriverName"])
    assert path.fullmatch(store["graphRoot"]) and store["imageStore"]["number"] == 1
    assert "local" in doc["plugins"]["volume"]


def test_info_format_forms_like_podman(ctr: SealpodRunner, tmp_path: Path) -> None:
    """The `--format` forms of 005-info: backend and runtime names, `--storage-opt=''`, `--root` and
    `--volumepath` resetting GraphOptions and VolumePath, volume plugins merged from CONTAINERS_CONF
    and CONTAINERS_CONF_OVERRIDE; and container counts in the store."""
    assert ctr.run("info", "--format", "{{.Host.NetworkBackend}}").stdout == "netavark\n"
    assert ctr.run("info", "--format", "{{.Host.OCIRuntime.Name}}").stdout == "runc\n"
    assert "graphOptions: {}" in ctr.run("--storage-opt=", "info").stdout
    fresh = ["--storage-driver=vfs", "--root", str(tmp_path / "nothing-here-move-along")]
    assert ctr.run(*fresh, "info", "--format", "{{ .Store.GraphOptions }}").stdout == "map[]\n"
    vols = tmp_path / "volumesGoHere"
    assert ctr.run(*fresh, "--volumepath", str(vols), "info", "--format", "{{ .Store.VolumePath }}").stdout == \
        f"{vols}\n"
    conf, override = tmp_path / "containers.conf", tmp_path / "override.conf"
    conf.write_text('[engine.volume_plugins]\nvolplugin1 = "not used"\n')
    override.write_text('[engine.volume_plugins]\nvolplugin2 = "not used either"\n')
    env = {**ctr.env, "CONTAINERS_CONF": str(conf), "CONTAINERS_CONF_OVERRIDE": str(override)}
    res = subprocess.run(ctr.argv("info", "--format", "{{.Plugins.Volume}}"), env=env, capture_output=True,
                         text=True, check=True)
    assert "volplugin1" in res.stdout and "volplugin2" in res.stdout
    ctr.run("create", "--name", "counted", IMAGE, "true")
    fields = "{{.Store.ContainerStore.Number}} {{.Store.ContainerStore.Stopped}} {{.Host.Conmon.Package}}"
    number, stopped, package = ctr.run("info", "--format", fields).stdout.split()
    assert int(number) >= 1 and int(stopped) >= 1 and package.startswith("conmon_")
    ctr.run("rm", "counted")


# --- 035-logs.bats ------------------------------------------------------------------------------

def test_logs_basic_and_tail_after_restart_like_podman(ctr: SealpodRunner) -> None:
    """`logs` basic test (empty before start, `start --attach --interactive`, Unix-time --since/--until)
    and the k8s-file tail test (`--tail 1 -t` shows the last line; after restart, a new timestamp)."""
    cid = ctr.run("create", IMAGE, "echo", "rand0mStr1ng").stdout.strip()
    assert ctr.run("logs", cid).stdout == ""
    assert ctr.run("start", "--attach", "--interactive", cid).stdout == "rand0mStr1ng\n"
    assert ctr.run("logs", cid).stdout == "rand0mStr1ng\n"
    ctr.run("logs", "--since", "1000", cid)
    ctr.run("logs", "--until", "1000", cid)
    ctr.run("rm", cid)
    cid = ctr.run("run", "-d", "--log-driver=k8s-file", IMAGE, "sh", "-c", "echo test1; echo test2").stdout.strip()
    ctr.run("wait", cid)
    stamp = re.compile(r"^[0-9-]+T[0-9:.]+([+-][0-9:]+|Z) test2\n$")
    log1 = ctr.run("logs", "--tail", "1", "--timestamps", cid).stdout
    assert stamp.match(log1), log1
    ctr.run("restart", cid)
    ctr.run("wait", cid)
    log2 = ctr.run("logs", "-t", "--tail", "1", cid).stdout
    assert stamp.match(log2) and log2 != log1
    ctr.run("rm", cid)


def test_logs_multi_follow_like_podman(ctr: SealpodRunner) -> None:
    """`logs -f c1 c2`: lines of both, each prefixed by its container's short ID, in the order they
    were written, though c2 (--rm) is gone before c1 ends."""
    c1 = ctr.run("run", "--log-driver=k8s-file", "--rm", "-d", "--name", "c1", IMAGE, "sh", "-c",
                 "echo a;sleep 4;echo d;sleep 1").stdout.strip()[:12]
    c2 = ctr.run("run", "--log-driver=k8s-file", "--rm", "-d", "--name", "c2", IMAGE, "sh", "-c",
                 "sleep 1;echo b;sleep 1;echo c;sleep 1").stdout.strip()[:12]
    out = ctr.run("logs", "-f", "c1", "c2", timeout=30).stdout
    assert out == f"{c1} a\n{c2} b\n{c2} c\n{c1} d\n"


def test_logs_restarted_like_podman(ctr: SealpodRunner) -> None:
    """A container run, then `start -a`ed again: `logs -f` shows both runs' output (1..20)."""
    script = ("start=0; if test -s log; then start=`tail -n 1 log`; fi; "
              "seq `expr $start + 1` `expr $start + 10` | tee -a log")
    ctr.run("run", "--log-driver=k8s-file", "--name", "logtest", IMAGE, "sh", "-c", script)
    ctr.run("container", "wait", "--condition=exited", "--condition=stopped", "logtest")
    assert ctr.run("start", "-a", "logtest").stdout == "".join(f"{n}\n" for n in range(11, 21))
    assert ctr.run("logs", "-f", "logtest").stdout == "".join(f"{n}\n" for n in range(1, 21))
    ctr.run("rm", "logtest")


def test_logs_since_until_rfc3339_and_follow_like_podman(ctr: SealpodRunner) -> None:
    """--since/--until with `date --iso-8601` times around a run, and `logs -f` of an exited container."""
    before = datetime.now(UTC).replace(microsecond=0).isoformat()
    time.sleep(1)
    ctr.run("run", "-d", "--name", "since", IMAGE, "sh", "-c",
            "echo BEFORE; trap 'echo AFTER; exit' TERM; while :; do sleep 0.1; done")
    time.sleep(1.2)
    after = datetime.now(UTC).replace(microsecond=0).isoformat()
    ctr.run("stop", "since")
    assert ctr.run("logs", "since").stdout == "BEFORE\nAFTER\n"
    assert ctr.run("logs", "--since", before, "since").stdout == "BEFORE\nAFTER\n"
    assert ctr.run("logs", "--since", after, "since").stdout == "AFTER\n"
    assert ctr.run("logs", "--until", before, "since").stdout == ""
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    assert ctr.run("logs", "--until", later, "since").stdout == "BEFORE\nAFTER\n"
    ctr.run("rm", "-t", "0", "-f", "since")
    ctr.run("run", "--name", "fol", IMAGE, "sh", "-c", "echo A; echo B; echo C")
    assert ctr.run("logs", "-f", "fol").stdout == "A\nB\nC\n"
    ctr.run("rm", "fol")


def test_logs_none_and_passthrough_drivers_like_podman(ctr: SealpodRunner) -> None:
    """The none driver: output still reaches an attached run, `logs` refuses as Podman does."""
    for driver in ("none", "passthrough"):
        assert ctr.run("run", "--name", "nolog", f"--log-driver={driver}", IMAGE, "echo", "hi").stdout == "hi\n"
        assert ctr.run("inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "nolog").stdout == f"{driver}\n"
        res = ctr.run("logs", "nolog", check=False)
        assert res.returncode == 125
        assert res.stderr == (f"Error: this container is using the '{driver}' log driver, cannot read logs: "
                              "this container is not logging output\n")
        ctr.run("rm", "nolog")


# --- 120-load.bats ------------------------------------------------------------------------------

def test_load_from_url_like_podman(ctr: SealpodRunner, tmp_path: Path) -> None:
    """`load -i http://...`: the archive is downloaded and loaded, names kept; a 404 is one clear line."""
    iid, name = ctr.run("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}", IMAGE).stdout.split()
    ctr.run("save", name, "-o", str(tmp_path / "image.tar"))
    handler = partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ctr.run("tag", IMAGE, "localhost/keep:me")  # the test image stays while its archive reloads
        ctr.run("rmi", name)
        ctr.run("load", "-i", f"{url}/image.tar")
        assert f"{iid} {name}" in ctr.run("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout.splitlines()
        res = ctr.run("load", "-i", f"{url}/nope.tar", check=False)
        assert res.returncode == 125 and res.stderr == f"Error: downloading {url}/nope.tar: 404 File not found\n"
    finally:
        server.shutdown()
        ctr.run("untag", IMAGE, "localhost/keep:me", check=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


# --- 330-corrupt-images.bats --------------------------------------------------------------------

def _corrupt(root: Path, image_id: str, layer: str, what: str) -> None:
    """Damage the store as 330-corrupt-images removes manifest and blob files of c/storage: here the
    layer files, the DB rows and the config that correspond."""
    if what == "layer-dir":
        subprocess.run(["rm", "-rf", str(root / "overlay" / layer)], check=True)
    elif what == "layer-diff":
        subprocess.run(["rm", "-rf", str(root / "overlay" / layer / "diff")], check=True)
    else:
        sql = {"layer-row": "DELETE FROM layers", "manifest-row": "DELETE FROM manifests",
               "config": "UPDATE images SET config=substr(config, 1, 40)",
               "layers-nowhere": "UPDATE images SET layers='[\"deadbeef\"]', top_layer='deadbeef'"}[what]
        with sqlite3.connect(root / "sealpod.db") as db:
            db.execute(sql)
        db.close()


_CORRUPTIONS = ("layer-dir", "layer-diff", "layer-row", "manifest-row", "config", "layers-nowhere")


@pytest.mark.parametrize("what", _CORRUPTIONS)
def test_corrupt_images_like_podman(tmp_path: Path, seeded_registry: RegistryServer, what: str) -> None:
    """A damaged image: `images` and `run` fail with one line naming the image (or work), never a
    traceback; `rmi -f` removes it; pulling again repairs it; `run` works afterwards."""
    require_root()
    sp = SealpodRunner(tmp_path, search_registries=[seeded_registry.host],
                       insecure_registries=[seeded_registry.host])
    image_id = sp.run("pull", "-q", IMAGE).stdout.strip()
    layer = sp.run("image", "inspect", "--format", "{{index .RootFS.Layers 0}}", IMAGE).stdout.strip()
    _corrupt(sp.root, image_id, layer.removeprefix("sha256:"), what)
    images = sp.run("images", check=False)
    _no_traceback(images)
    if what == "config":
        assert images.returncode == 125
        assert images.stderr.startswith(f'Error: decoding configuration of image with ID "{image_id}" (consider '
                                        "removing the image to resolve the issue): ")
    run = sp.run("run", "--rm", IMAGE, "true", check=False)
    _no_traceback(run)
    if what in ("layer-dir", "layer-diff", "layers-nowhere"):
        assert run.returncode == 125 and re.fullmatch(
            f'Error: layer "[0-9a-f]+" of image with ID "{image_id}" is missing from storage \\(consider removing '
            "the image to resolve the issue\\): file does not exist\n", run.stderr), run.stderr
    if what != "layers-nowhere":  # pulling again repairs what it can find again
        assert sp.run("pull", "-q", IMAGE).stdout.strip() == image_id
        assert sp.run("run", "--rm", IMAGE, "echo", "repaired").stdout == "repaired\n"
        _corrupt(sp.root, image_id, layer.removeprefix("sha256:"), what)
    sp.run("rmi", "-f", IMAGE)
    assert sp.run("images", "-a", "--noheading").stdout == ""
    sp.run("pull", "-q", IMAGE)
    assert sp.run("run", "--rm", IMAGE, "echo", "ok").stdout == "ok\n"


@pytest.mark.parametrize("command", [("rmi", "-f", "-a"), ("image", "prune", "-a", "-f"), ("system", "reset", "-f")])
def test_corrupt_images_cleanup_commands_like_podman(tmp_path: Path, seeded_registry: RegistryServer,
                                                     command: tuple[str, ...]) -> None:
    """`rmi -f -a`, `image prune -a -f` and `system reset -f` clear a store whose image lost its
    layer files and whose config is damaged; `images -a` is empty afterwards."""
    require_root()
    sp = SealpodRunner(tmp_path, search_registries=[seeded_registry.host],
                       insecure_registries=[seeded_registry.host])
    image_id = sp.run("pull", "-q", IMAGE).stdout.strip()
    layer = sp.run("image", "inspect", "--format", "{{index .RootFS.Layers 0}}", IMAGE).stdout.strip()
    _corrupt(sp.root, image_id, layer.removeprefix("sha256:"), "layer-dir")
    _corrupt(sp.root, image_id, layer.removeprefix("sha256:"), "config")
    res = sp.run(*command, check=False)
    _no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert sp.run("images", "-a", "--noheading").stdout == ""
