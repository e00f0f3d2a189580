"""Events end to end: real containers, volumes and images, read back by `events` and Docker's CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ev(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    require_root()
    runner = SealpodRunner(tmp_path_factory.mktemp("ev"), search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    runner.run("pull", "-q", IMAGE)
    yield runner
    runner.run("rm", "-af", check=False)


def _json(runner: SealpodRunner, *args: str) -> list[dict[str, Any]]:
    out = runner.run("events", "--stream=false", "--format", "json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_container_lifecycle_is_recorded(ev: SealpodRunner) -> None:
    ev.run("run", "--name", "life", "--label", "tier=front", IMAGE, "sh", "-c", "exit 3", check=False)
    ev.run("rm", "life")
    docs = _json(ev, "--filter", "container=life")
    assert [d["Status"] for d in docs] == ["create", "init", "start", "died", "cleanup", "remove"]
    died = docs[3]
    assert died["ContainerExitCode"] == 3 and died["Name"] == "life" and died["Type"] == "container"
    assert died["Attributes"]["tier"] == "front" and len(died["ID"]) == 64
    assert died["Image"].endswith("sealtest/tiny:latest")
    text = ev.run("events", "--stream=false", "--filter", "container=life", "--filter", "event=died").stdout
    assert text.count("\n") == 1
    details = f"(image={died['Image']}, name=life, org.sealtest.image=true, tier=front)"
    assert f" +0000 UTC container died {died['ID']} {details}\n" in text


def test_pull_is_recorded(ev: SealpodRunner) -> None:
    docs = _json(ev, "--filter", "type=image", "--filter", "event=pull")
    assert docs and docs[0]["Name"] == IMAGE and "ID" not in docs[0]  # Podman 4.3: the name as typed, no ID


def test_volume_and_image_events_with_since_until_and_template(ev: SealpodRunner) -> None:
    time.sleep(0.05)
    start = f"{time.time():.6f}"
    ev.run("volume", "create", "ev1")
    ev.run("tag", IMAGE, "localhost/evtag:1")
    ev.run("untag", IMAGE, "localhost/evtag:1")
    ev.run("volume", "rm", "ev1")
    mid = f"{time.time():.6f}"
    ev.run("volume", "create", "ev2")
    ev.run("volume", "rm", "ev2")
    out = ev.run("events", "--stream=false", "--since", start, "--until", mid,
                 "--format", "{{.Type}} {{.Status}} {{.Name}}").stdout
    assert out.splitlines() == ["volume create ev1", "image tag localhost/evtag:1", "image untag localhost/evtag:1",
                                "volume remove ev1"]
    names = [d["Name"] for d in _json(ev, "--since", mid, "--filter", "type=volume")]
    assert names == ["ev2", "ev2"]
    # a bounded stream ends by itself
    bounded = ev.run("events", "--since", start, "--until", mid, "--filter", "volume=ev1", timeout=10).stdout
    assert bounded.count("\n") == 2


def test_stop_kill_pause_events(ev: SealpodRunner) -> None:
    ev.run("run", "-d", "--name", "busy", IMAGE, "sleep", "60")
    ev.run("pause", "busy")
    ev.run("unpause", "busy")
    ev.run("stop", "-t", "0", "busy")
    ev.run("rm", "busy")
    actions = [d["Status"] for d in _json(ev, "--filter", "container=busy")]
    for wanted in ("pause", "unpause", "stop", "died", "remove"):
        assert wanted in actions
    assert actions.index("pause") < actions.index("unpause") < actions.index("remove")


def test_docker_events_through_the_api(api: ApiService) -> None:
    since = f"{time.time():.3f}"
    api.runner.run("volume", "create", "apiev")
    api.runner.run("volume", "rm", "apiev")
    until = f"{time.time() + 0.5:.3f}"
    out = api.docker("events", "--since", since, "--until", until, "--format", "{{json .}}", timeout=20).stdout
    docs = [json.loads(line) for line in out.splitlines()]
    assert [(d["Type"], d["Action"], d["Actor"]["ID"]) for d in docs] == [("volume", "create", "apiev"),
                                                                        ("volume", "remove", "apiev")]
    assert docs[0]["scope"] == "local" and docs[0]["timeNano"] // 10**9 == docs[0]["time"]
    filtered = api.docker("events", "--since", since, "--until", until, "--filter", "event=remove",
                          "--format", "{{.Action}}", timeout=20).stdout
    assert filtered.split() == ["remove"]


def test_save_and_load_events(ev: SealpodRunner, tmp_path: Path) -> None:
    start = f"{time.time():.6f}"
    archive = tmp_path / "saved.tar"
    ev.run("save", "-q", "-o", str(archive), IMAGE)
    ev.run("load", "-q", "-i", str(archive))
    out = ev.run("events", "--stream=false", "--since", start, "--filter", "type=image",
                 "--format", "{{.Status}} {{.Name}}").stdout
    assert out.splitlines() == [f"save {archive}", f"loadfromarchive {archive}"]
