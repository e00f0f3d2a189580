"""Log drivers under real conmon: k8s-file rotation (--log-opt max-size), passthrough, and the
drivers that cannot work here (journald without systemd, unknown names)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("logs"), seeded_registry.host) as runner:
        yield runner


def _log_path(ctr: SealpodRunner, name: str) -> Path:
    return Path(ctr.run("inspect", "--format", "{{.HostConfig.LogConfig.Path}}", name).stdout.strip())


def _wait_for(ctr: SealpodRunner, name: str, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out = ctr.run("logs", name).stdout
        if text in out:
            return out
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the logs of {name}: {out[-300:]!r}")


def test_max_size_rotation_keeps_file_bounded_and_logs_working(ctr: SealpodRunner) -> None:
    script = ('i=0; while [ $i -lt 400 ]; do echo "line-$i-padding-padding"; i=$((i+1)); done; echo first-done; '
              "while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after-rotation; "
              "sleep 1000")
    ctr.run("run", "-d", "--name", "rotating", "--log-opt", "max-size=1k", IMAGE, "sh", "-c", script)
    out = _wait_for(ctr, "rotating", "first-done")
    path = _log_path(ctr, "rotating")
    assert path.stat().st_size <= 1024 + 200  # ~40 bytes a line: bounded, never the whole 12 kB written
    assert "line-0-" not in out  # the oldest lines were rotated away
    assert out.splitlines()[-1] == "first-done"
    ctr.run("exec", "rotating", "touch", "/tmp/go")
    out = _wait_for(ctr, "rotating", "after-rotation")  # conmon keeps writing after it truncated
    assert path.stat().st_size <= 1024 + 200
    config = json.loads(ctr.run("inspect", "rotating").stdout)[0]["HostConfig"]["LogConfig"]
    assert config["Type"] == "k8s-file" and config["Config"] == {"max-size": "1k"}
    ctr.run("rm", "-f", "-t", "0", "rotating")


def test_without_max_size_nothing_is_dropped(ctr: SealpodRunner) -> None:
    ctr.run("run", "--name", "whole", IMAGE, "sh", "-c", 'i=0; while [ $i -lt 400 ]; do echo "line-$i"; '
            "i=$((i+1)); done")
    lines = ctr.run("logs", "whole").stdout.splitlines()
    assert len(lines) == 400 and lines[0] == "line-0"


def test_passthrough_gives_the_container_our_stdio(ctr: SealpodRunner) -> None:
    res = ctr.run("run", "--rm", "--log-driver", "passthrough", IMAGE, "sh", "-c",
                  "echo to-out; echo to-err >&2; exit 7", check=False)
    assert (res.returncode, res.stdout, res.stderr) == (7, "to-out\n", "to-err\n")
    # the process writes straight into the file we hand over: no copy by conmon in between
    ctr.run("run", "--name", "pt", "--log-driver", "passthrough", IMAGE, "sh", "-c",
            "readlink /proc/self/fd/1")
    target = ctr.base / "passthrough-out"
    with open(target, "wb") as f:
        ctr_proc = subprocess.run(ctr.argv("start", "-a", "pt"), env=ctr.env, stdout=f, stderr=subprocess.PIPE,
                                  timeout=60, check=False)
    assert ctr_proc.returncode == 0, ctr_proc.stderr
    written = target.read_text()
    assert written.strip() and not written.startswith("pipe:"), written  # our file, not conmon's pipe
    res = ctr.run("logs", "pt", check=False)
    assert res.returncode == 125
    assert res.stderr == ("Error: this container is using the 'passthrough' log driver, cannot read logs: "
                          "this container is not logging output\n")
    assert ctr.run("inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "pt").stdout == "passthrough\n"


def test_detached_passthrough_hands_the_container_our_stdio(ctr: SealpodRunner) -> None:
    """As Podman 4.3.1: no ID is printed, the container writes to the stdio the command had (the
    captured pipe here, a unit's journal under quadlet), and there are no logs to read."""
    res = ctr.run("run", "-d", "--name", "ptd", "--log-driver", "passthrough", IMAGE, "echo", "passed")
    try:
        assert res.stdout == "passed\n"
        logs = ctr.run("logs", "ptd", check=False)
        assert logs.returncode == 125 and "passthrough" in logs.stderr and logs.stderr.count("\n") == 1
    finally:
        ctr.run("rm", "-f", "ptd")


def test_journald_without_systemd_and_unknown_drivers_are_clear_errors(ctr: SealpodRunner) -> None:
    before = ctr.run("ps", "-aq").stdout
    res = ctr.run("run", "--rm", "--log-driver", "journald", IMAGE, "echo", "hi", check=False)
    if Path("/run/systemd/journal/socket").exists():
        pytest.skip("journald runs on this host")
    assert res.returncode == 125 and res.stdout == ""
    assert res.stderr.startswith("Error: failed to initialize journal") and res.stderr.count("\n") == 1
    res = ctr.run("create", "--log-driver", "bogus", IMAGE, check=False)
    assert res.returncode == 125
    assert res.stderr == "Error: running container create option: invalid log driver: invalid argument\n"
    assert ctr.run("ps", "-aq").stdout == before  # nothing half-created
