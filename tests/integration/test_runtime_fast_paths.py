"""The shortcuts on the path of every run, against real runc: the exec-FIFO start instead of
``runc start``, ``runc delete`` running while the rest is torn down, and conmon's exit command
as a script in the run root.  Each must leave runc and the store exactly as the slow way did."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("fast"), seeded_registry.host) as runner:
        yield runner


def _runc_state(ctr: SealpodRunner, ctr_id: str) -> dict[str, object] | None:
    res = subprocess.run(["runc", "--root", str(ctr.runroot / "runc"), "state", ctr_id], capture_output=True,
                         text=True)
    return json.loads(res.stdout) if res.returncode == 0 else None


def test_a_fifo_started_container_is_running_for_runc(ctr: SealpodRunner) -> None:
    cid = ctr.run("run", "-d", IMAGE, "sleep", "60").stdout.strip()
    try:
        state = _runc_state(ctr, cid)
        assert state is not None and state["status"] == "running"
        assert not (ctr.runroot / "runc" / cid / "exec.fifo").exists()  # as `runc start` leaves it
        assert ctr.run("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "running"
    finally:
        ctr.run("rm", "-f", "-t", "0", cid)


def test_start_after_the_init_died_runs_it_afresh(ctr: SealpodRunner) -> None:
    """A created container whose init was killed is exited for conmon; start creates it again."""
    cid = ctr.run("create", IMAGE, "echo", "fresh").stdout.strip()
    try:
        ctr.run("init", cid)
        init_pid = int(str(_runc_state(ctr, cid)["pid"]))  # type: ignore[index]
        os.kill(init_pid, signal.SIGKILL)
        res = ctr.run("start", "-a", cid, check=False)
        assert "Traceback" not in res.stderr
        if res.returncode == 0:
            assert res.stdout == "fresh\n"
        else:  # the kill raced the start: one clear line, and the container can still go
            assert res.stderr.startswith("Error: ") and res.stderr.count("\n") == 1
    finally:
        ctr.run("rm", "-f", cid)
    assert ctr.run("container", "exists", cid, check=False).returncode == 1


@pytest.mark.parametrize("pid_mode", ["", "host"])
def test_run_rm_leaves_nothing_in_the_runtime(ctr: SealpodRunner, pid_mode: str) -> None:
    """``runc delete`` overlaps the teardown, yet it has finished when ``run --rm`` returns."""
    flags = ["--pid", pid_mode] if pid_mode else []
    before = set(os.listdir(ctr.runroot / "runc")) if (ctr.runroot / "runc").exists() else set()
    res = ctr.run("run", "--rm", *flags, IMAGE, "sh", "-c", "echo hello; exit 4", check=False)
    assert (res.returncode, res.stdout) == (4, "hello\n")
    assert set(os.listdir(ctr.runroot / "runc")) <= before
    assert not list((ctr.root / "overlay-containers").glob("*/merged"))


def test_restart_policy_recreates_after_the_overlapped_delete(ctr: SealpodRunner) -> None:
    cid = ctr.run("run", "-d", "--restart", "on-failure:2", IMAGE, "sh", "-c", "exit 3").stdout.strip()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            fmt = "{{.State.Status}} {{.RestartCount}}"
            if ctr.run("inspect", "--format", fmt, cid).stdout.split() == ["exited", "2"]:
                break
            time.sleep(0.2)
        assert ctr.run("inspect", "--format", "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}",
                       cid).stdout.split() == ["exited", "2", "3"]
    finally:
        ctr.run("rm", "-f", cid)


def test_exit_command_is_the_run_roots_script(ctr: SealpodRunner) -> None:
    """A detached container is cleaned up by the script conmon runs; an attached run by itself."""
    cid = ctr.run("run", "-d", IMAGE, "sh", "-c", "sleep 0.3").stdout.strip()
    script = ctr.runroot / "sealpod-cleanup"
    assert script.is_file() and os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")
    merged = ctr.root / "overlay-containers" / cid / "merged"
    deadline = time.monotonic() + 15  # the runtime's delete may end before the cleanup unmounted the root
    while time.monotonic() < deadline and (_runc_state(ctr, cid) is not None or merged.is_mount()):
        time.sleep(0.1)
    assert _runc_state(ctr, cid) is None  # the exit command ran `container cleanup`
    assert ctr.run("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "exited"
    assert not merged.is_mount()
    ctr.run("rm", cid)
