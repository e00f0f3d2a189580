"""Healthchecks end to end: checks exec'd in real containers, a detached timer loop, ps/inspect/events,
the image's HEALTHCHECK, --health-on-failure, and the Docker API's State.Health."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("health"), seeded_registry.host) as runner:
        yield runner


def _until(check: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _health(ctr: SealpodRunner, name: str) -> dict[str, object]:
    return json.loads(ctr.run("inspect", "--format", "{{json .State.Health}}", name).stdout)  # type: ignore[no-any-return]


def _timers(ctr: SealpodRunner) -> list[int]:
    """PIDs of live check loops of this store (their command line names its graph root)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "while sleep" in cmd and str(ctr.root) in cmd:
                found.append(int(entry.name))
    return found


def test_healthcheck_run_records_results_and_streak(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "manual", "--health-cmd", "echo probing; test -e /tmp/ok",
            "--health-interval", "0", "--health-retries", "2", IMAGE, "sleep", "1000")
    assert ctr.run("ps", "--format", "{{.Status}}", "--filter", "name=manual").stdout.endswith("(starting)\n")
    first = ctr.run("healthcheck", "run", "manual", check=False)
    assert (first.returncode, first.stdout) == (1, "unhealthy\n")
    health = _health(ctr, "manual")
    assert health["Status"] == "starting" and health["FailingStreak"] == 1  # one failure < 2 retries
    assert ctr.run("healthcheck", "run", "manual", check=False).returncode == 1
    health = _health(ctr, "manual")
    assert health["Status"] == "unhealthy" and health["FailingStreak"] == 2
    log = health["Log"]
    assert isinstance(log, list) and len(log) == 2
    assert log[-1]["ExitCode"] == 1 and log[-1]["Output"] == "probing"
    assert log[-1]["Start"] <= log[-1]["End"]
    assert "(unhealthy)" in ctr.run("ps", "--filter", "health=unhealthy").stdout
    ctr.run("exec", "manual", "touch", "/tmp/ok")
    ok = ctr.run("healthcheck", "run", "manual")
    assert ok.stdout == "" and ok.returncode == 0
    assert _health(ctr, "manual")["Status"] == "healthy"
    assert ctr.run("ps", "--format", "{{.Names}} {{.Status}}", "--filter", "health=healthy").stdout.startswith(
        "manual Up")
    assert "manual" not in ctr.run("ps", "--filter", "health=none").stdout
    for _ in range(5):
        ctr.run("healthcheck", "run", "manual")
    assert len(_health(ctr, "manual")["Log"]) == 5  # type: ignore[arg-type]
    doc = json.loads(ctr.run("inspect", "manual").stdout)[0]
    assert "Healthcheck" not in doc["State"]  # Podman 4.3.1's JSON; templates still answer to it
    assert _health(ctr, "manual") == json.loads(
        ctr.run("inspect", "--format", "{{json .State.Healthcheck}}", "manual").stdout)
    assert doc["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "echo probing; test -e /tmp/ok"],
                                            "Timeout": 30_000_000_000, "Retries": 2}
    events = ctr.run("events", "--stream=false", "--filter", "event=health_status").stdout.splitlines()
    assert any("container health_status" in e and "name=manual" in e and "health_status=healthy" in e
               for e in events), events


def test_errors_match_podman(ctr: SealpodRunner) -> None:
    cid = ctr.run("run", "-d", "--name", "nocheck", IMAGE, "sleep", "1000").stdout.strip()
    res = ctr.run("healthcheck", "run", "nocheck", check=False)
    assert res.returncode == 125 and res.stderr == f"Error: container {cid} has no defined healthcheck\n"
    res = ctr.run("healthcheck", "run", "nosuch", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: unable to look up nosuch to perform a health check")
    hc = ctr.run("create", "--name", "stopped-hc", "--health-cmd", "true", IMAGE, "true").stdout.strip()
    res = ctr.run("healthcheck", "run", "stopped-hc", check=False)
    assert res.returncode == 125 and res.stderr == f"Error: container {hc} is not running\n"
    res = ctr.run("run", "--rm", "--health-on-failure", "kill", IMAGE, "true", check=False)
    assert res.returncode == 125
    assert res.stderr == "Error: cannot set on-failure action to kill without a health check\n"
    res = ctr.run("create", "--health-cmd", "true", "--health-interval", "soon", IMAGE, check=False)
    assert res.returncode == 125 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1
    assert "nocheck" in ctr.run("ps", "--filter", "health=none").stdout


def test_timer_runs_checks_and_dies_with_the_container(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "timed", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s",
            "--health-retries", "1", IMAGE, "sleep", "1000")
    assert len(_timers(ctr)) == 1
    assert _until(lambda: _health(ctr, "timed")["Status"] == "unhealthy")
    ctr.run("exec", "timed", "touch", "/tmp/ok")
    assert _until(lambda: "(healthy)" in ctr.run("ps", "--filter", "name=timed").stdout)
    ctr.run("stop", "-t", "0", "timed")
    assert _until(lambda: not _timers(ctr), 5)  # no loop left behind once the container stopped
    ctr.run("start", "timed")
    assert _health(ctr, "timed")["Status"] == "starting"  # a new run starts over
    assert len(_timers(ctr)) == 1
    ctr.run("rm", "-f", "-t", "0", "timed")
    assert _until(lambda: not _timers(ctr), 5)


def test_start_period_and_timeout(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "slowstart", "--health-cmd", "false", "--health-start-period", "1m",
            "--health-retries", "1", "--health-interval", "0", IMAGE, "sleep", "1000")
    assert ctr.run("healthcheck", "run", "slowstart", check=False).returncode == 1
    health = _health(ctr, "slowstart")
    assert health["Status"] == "starting" and health["FailingStreak"] == 0  # failures in the start period don't count
    ctr.run("run", "-d", "--name", "hangs", "--health-cmd", "sleep 30", "--health-timeout", "1s",
            "--health-interval", "0", "--health-retries", "1", IMAGE, "sleep", "1000")
    start = time.monotonic()
    assert ctr.run("healthcheck", "run", "hangs", check=False).returncode == 1
    assert time.monotonic() - start < 10
    health = _health(ctr, "hangs")
    assert health["Status"] == "unhealthy" and "Timed out" in health["Log"][-1]["Output"]  # type: ignore[index]


@pytest.mark.parametrize("action,expected", [("kill", "exited"), ("stop", "exited"), ("restart", "running")])
def test_on_failure_actions(ctr: SealpodRunner, action: str, expected: str) -> None:
    name = f"onfail-{action}"
    ctr.run("run", "-d", "--name", name, "--health-cmd", "false", "--health-interval", "0", "--health-retries", "1",
            "--health-on-failure", action, "--stop-timeout", "0", IMAGE, "sleep", "1000")
    before = json.loads(ctr.run("inspect", name).stdout)[0]["State"]["StartedAt"]
    assert json.loads(ctr.run("inspect", name).stdout)[0]["Config"]["HealthcheckOnFailureAction"] == action
    assert ctr.run("healthcheck", "run", name, check=False).returncode == 1
    state = json.loads(ctr.run("inspect", name).stdout)[0]["State"]
    assert state["Status"] == expected
    if action == "restart":
        assert state["StartedAt"] > before


def _docker_archive(path: Path, tag: str, healthcheck: dict[str, object]) -> None:
    """A docker-archive with one busybox layer and a HEALTHCHECK in its config."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = Path("/bin/busybox").read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in ("sh", "test", "touch", "sleep", "true", "false"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    raw = layer.getvalue()
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [
        "sha256:" + hashlib.sha256(raw).hexdigest()]}, "config": {
        "Cmd": ["sleep", "1000"], "Env": ["PATH=/bin"], "Healthcheck": healthcheck}}
    cfg = json.dumps(config).encode()
    with tarfile.open(path, "w") as tar:
        for name, content in (("layer.tar", raw), ("config.json", cfg), ("manifest.json", json.dumps(
                [{"Config": "config.json", "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_image_healthcheck_is_used_and_can_be_overridden(ctr: SealpodRunner, tmp_path: Path) -> None:
    archive = tmp_path / "hc.tar"
    _docker_archive(archive, "localhost/hc:latest", {"Test": ["CMD", "test", "-e", "/ready"],
                                                     "Interval": 0, "Retries": 1})
    ctr.run("load", "-q", "-i", os.fspath(archive))
    ctr.run("run", "-d", "--name", "fromimage", "--health-interval", "0", "localhost/hc")
    doc = json.loads(ctr.run("inspect", "fromimage").stdout)[0]
    assert doc["Config"]["Healthcheck"]["Test"] == ["CMD", "test", "-e", "/ready"]
    assert doc["Config"]["Healthcheck"]["Retries"] == 1
    assert ctr.run("healthcheck", "run", "fromimage", check=False).returncode == 1
    ctr.run("exec", "fromimage", "touch", "/ready")
    assert ctr.run("healthcheck", "run", "fromimage").returncode == 0
    ctr.run("run", "-d", "--name", "overridden", "--health-cmd", "true", "--health-interval", "0", "localhost/hc")
    assert ctr.run("healthcheck", "run", "overridden").returncode == 0
    ctr.run("run", "-d", "--name", "disabled", "--no-healthcheck", "localhost/hc")
    assert ctr.run("healthcheck", "run", "disabled", check=False).returncode == 125
    assert "Healthcheck" not in json.loads(ctr.run("inspect", "disabled").stdout)[0]["Config"]


def test_docker_api_inspect_has_state_health(api: object) -> None:
    from tests.rig.api import ApiService

    assert isinstance(api, ApiService)
    runner = api.runner
    runner.run("run", "-d", "--name", "apihealth", "--health-cmd", "true", "--health-interval", "0", IMAGE,
               "sleep", "1000")
    runner.run("healthcheck", "run", "apihealth")
    out = api.docker("inspect", "--format", "{{json .State.Health}}", "apihealth").stdout
    health = json.loads(out)
    assert health["Status"] == "healthy" and health["FailingStreak"] == 0 and health["Log"][0]["ExitCode"] == 0
    assert "(healthy)" in api.docker("ps", "--filter", "name=apihealth").stdout
    runner.run("rm", "-f", "-t", "0", "apihealth")


def test_wait_for_healthy(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "waiter", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s", IMAGE,
            "sleep", "1000")
    ctr.run("exec", "waiter", "touch", "/tmp/ok")
    res = ctr.run("wait", "--condition", "healthy", "waiter", timeout=30)
    assert res.returncode == 0 and _health(ctr, "waiter")["Status"] == "healthy"
    ctr.run("rm", "-f", "-t", "0", "waiter")


def test_flag_parsing_and_merge_with_the_image() -> None:
    from sealpod.engine.health import effective, parse_duration, parse_test
    from sealpod.errors import InvalidArgument

    assert parse_duration("1m30s", "x") == 90_000_000_000 and parse_duration("500ms", "x") == 500_000_000
    assert parse_duration("0", "x") == 0 and parse_duration("disable", "x") == 0
    with pytest.raises(InvalidArgument):
        parse_duration("5 parsecs", "--health-interval")
    assert parse_test("curl -f http://x/") == ["CMD-SHELL", "curl -f http://x/"]
    assert parse_test('["CMD", "true"]') == ["CMD", "true"] and parse_test("none") == ["NONE"]
    image = {"Test": ["CMD", "check"], "Interval": 0, "Retries": 5}
    assert effective(image, {}) == {"Test": ["CMD", "check"], "Interval": 30_000_000_000,
                                    "Timeout": 30_000_000_000, "Retries": 5, "StartPeriod": 0}
    assert effective(image, {"Interval": 0, "Retries": 1})["Interval"] == 0  # type: ignore[index]
    assert effective(image, {"Test": ["NONE"]}) is None and effective(None, {}) is None


def test_docker_cli_health_flags_through_the_api(api: object) -> None:
    from tests.rig.api import ApiService

    assert isinstance(api, ApiService)
    api.docker("run", "-d", "--name", "dockerhealth", "--health-cmd", "exit 1", "--health-interval", "1h",
               "--health-retries", "1", IMAGE, "sleep", "1000")
    cfg = json.loads(api.docker("inspect", "--format", "{{json .Config.Healthcheck}}", "dockerhealth").stdout)
    assert cfg["Test"] == ["CMD-SHELL", "exit 1"] and cfg["Interval"] == 3600 * 10**9 and cfg["Retries"] == 1
    assert api.runner.run("healthcheck", "run", "dockerhealth", check=False).returncode == 1
    status = api.docker("inspect", "--format", "{{.State.Health.Status}}", "dockerhealth").stdout.strip()
    assert status == "unhealthy"
    api.docker("rm", "-f", "dockerhealth")
