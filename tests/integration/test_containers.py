"""Containers end to end: real conmon, real runc, real overlay mounts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    """One store per module holding the tiny busybox image; every container removed at the end."""
    with store_with_image(tmp_path_factory.mktemp("ctr"), seeded_registry.host) as runner:
        yield runner


def _state(ctr: SealpodRunner, name: str) -> dict[str, object]:
    return json.loads(ctr.run("container", "inspect", name).stdout)[0]["State"]  # type: ignore[no-any-return]


def test_run_prints_output_and_passes_exit_code(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert out.returncode == 3
    assert out.stdout == "out\n"
    assert out.stderr == "err\n"


def test_rm_leaves_no_container_and_no_mount(ctr: SealpodRunner) -> None:
    ctr.run("run", "--rm", "--name", "gone", IMAGE, "true")
    assert ctr.run("container", "exists", "gone", check=False).returncode == 1
    assert not list((ctr.root / "overlay-containers").glob("*/merged"))


def test_missing_executable_exits_127_with_podmans_message(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", "--name", "nocmd", IMAGE, "nosuchcmd", check=False)
    assert out.returncode == 127
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("Error: ")
    assert '"nosuchcmd": executable file not found' in out.stderr
    assert "Traceback" not in out.stderr
    assert ctr.run("container", "exists", "nocmd", check=False).returncode == 1


def test_detached_lifecycle_ps_logs_stop_rm(ctr: SealpodRunner) -> None:
    cid = ctr.run("run", "-d", "--name", "web", IMAGE, "sh", "-c", "echo started; exec sleep 1000").stdout.strip()
    assert len(cid) == 64
    assert ctr.run("ps", "-q").stdout.split() == [cid[:12]]
    ps = ctr.run("ps", "--format", "{{.Names}} {{.State}} {{.Command}}").stdout
    assert "web running sh -c echo starte..." in ps
    deadline = time.monotonic() + 5
    while "started" not in ctr.run("logs", "web").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ctr.run("logs", "web").stdout == "started\n"
    state = _state(ctr, "web")
    assert state["Running"] is True and isinstance(state["Pid"], int) and state["Pid"] > 0
    os.kill(int(state["Pid"]), 0)  # the container process really runs on this host
    start = time.monotonic()
    assert ctr.run("stop", "-t", "1", "web").stdout == "web\n"
    assert time.monotonic() - start < 8  # SIGTERM ignored by pid 1 -> SIGKILL after the timeout
    state = _state(ctr, "web")
    assert state["Status"] == "exited" and state["ExitCode"] == 137
    assert ctr.run("logs", "web").stdout == "started\n"  # logs outlive the process
    assert ctr.run("ps", "-q").stdout == ""
    assert cid[:12] in ctr.run("ps", "-aq").stdout
    ctr.run("rm", "web")
    assert cid[:12] not in ctr.run("ps", "-aq").stdout


def test_kill_with_signal_and_trap(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "trap", IMAGE, "sh", "-c",
            "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done")
    deadline = time.monotonic() + 5
    while "ready" not in ctr.run("logs", "trap").stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    ctr.run("kill", "-s", "TERM", "trap")
    assert ctr.run("wait", "trap").stdout.strip() == "42"
    assert "got-term" in ctr.run("logs", "trap").stdout
    ctr.run("rm", "trap")


def test_create_start_wait_and_attach_start(ctr: SealpodRunner) -> None:
    cid = ctr.run("create", "--name", "later", IMAGE, "sh", "-c", "echo hi; exit 5").stdout.strip()
    assert _state(ctr, cid)["Status"] == "created"
    assert "Created" in ctr.run("ps", "-a", "--filter", "name=later").stdout
    out = ctr.run("start", "-a", "later", check=False)
    assert out.returncode == 5 and out.stdout == "hi\n"
    ctr.run("start", "later")
    assert ctr.run("wait", "later").stdout.strip() == "5"
    assert ctr.run("logs", "later").stdout == "hi\nhi\n"
    ctr.run("rm", "later")


def test_env_workdir_user_hostname(ctr: SealpodRunner, tmp_path: Path) -> None:
    envfile = tmp_path / "env"
    envfile.write_text("# comment\nFROM_FILE=yes\n")
    out = ctr.run("run", "--rm", "-e", "A=1", "--env-file", str(envfile), "-w", "/etc", "-u", "nobody",
                  "--hostname", "box", IMAGE, "sh", "-c", 'echo $A $FROM_FILE $PWD $(id -un) $(hostname) $container')
    assert out.stdout.split() == ["1", "yes", "/etc", "nobody", "box", "podman"]


def test_bind_mounts_tmpfs_read_only(ctr: SealpodRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("from host\n")
    out = ctr.run("run", "--rm", "--read-only", "-v", f"{data}:/data", "-v", f"{data}:/ro:ro", "--tmpfs", "/scratch",
                  IMAGE, "sh", "-c", "cat /data/in.txt; echo w > /data/out.txt; echo x > /ro/no 2>/dev/null "
                  "|| echo ro-refused; echo s > /scratch/s && echo tmpfs-ok; touch /root-fs 2>/dev/null "
                  "|| echo rootfs-ro")
    assert out.stdout.split("\n")[:4] == ["from host", "ro-refused", "tmpfs-ok", "rootfs-ro"]
    assert (data / "out.txt").read_text() == "w\n"


def test_restart_policy_on_failure(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "flaky", "--restart", "on-failure:2", IMAGE, "sh", "-c", "echo run; exit 1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        doc = json.loads(ctr.run("container", "inspect", "flaky").stdout)[0]
        if doc["RestartCount"] == 2 and doc["State"]["Status"] == "exited":
            break
        time.sleep(0.2)
    assert doc["RestartCount"] == 2
    assert ctr.run("logs", "flaky").stdout == "run\n" * 3
    ctr.run("rm", "-f", "flaky")


def test_inspect_ps_format_and_filters(ctr: SealpodRunner) -> None:
    ctr.run("create", "--name", "labelled", "-l", "tier=web", IMAGE, "true")
    doc = json.loads(ctr.run("inspect", "labelled").stdout)[0]
    assert doc["Name"] == "labelled" and doc["Config"]["Labels"]["tier"] == "web"
    assert doc["Config"]["Cmd"] == ["true"] and doc["State"]["Status"] == "created"
    assert ctr.run("inspect", "--format", "{{.Name}} {{.State.Status}}", "labelled").stdout == "labelled created\n"
    assert ctr.run("ps", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").stdout == "labelled\n"
    assert ctr.run("ps", "-a", "--filter", "label=tier=db", "--format", "{{.Names}}").stdout == ""
    rows = json.loads(ctr.run("ps", "-a", "--filter", "name=labelled", "--format", "json").stdout)
    assert rows[0]["Names"] == ["labelled"] and rows[0]["State"] == "created"
    bad = ctr.run("ps", "--filter", "bogus=1", check=False)
    assert bad.returncode == 125 and "invalid filter" in bad.stderr
    ctr.run("rm", "labelled")


def test_bad_input_is_one_line_error(ctr: SealpodRunner) -> None:
    for args, code in ((("run", "--bogus", IMAGE), 125), (("run", "--rm", "--pull=never", "nosuchimage:latest"), 125),
                       (("run", "--name", "bad name!", IMAGE, "true"), 125), (("stop", "nosuchctr"), 125),
                       (("ps", "--format", "{{.Nope"), 125)):
        out = ctr.run(*args, check=False)
        assert out.returncode == code, (args, out)
        assert out.stderr.startswith("Error: ") and "Traceback" not in out.stderr, (args, out.stderr)


def test_name_conflict_and_replace(ctr: SealpodRunner) -> None:
    ctr.run("create", "--name", "dup", IMAGE, "true")
    out = ctr.run("create", "--name", "dup", IMAGE, "true", check=False)
    assert out.returncode == 125 and "already in use" in out.stderr
    ctr.run("create", "--replace", "--name", "dup", IMAGE, "true")
    assert ctr.run("ps", "-a", "--filter", "name=dup", "-q").stdout.count("\n") == 1
    ctr.run("rm", "dup")


def test_parallel_runs_and_ps_do_not_corrupt_state(ctr: SealpodRunner) -> None:
    def one(i: int) -> subprocess.CompletedProcess[str]:
        return ctr.run("run", "--rm", "--name", f"par{i}", IMAGE, "sh", "-c", f"echo {i}", check=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(one, i) for i in range(12)]
        for _ in range(5):
            assert ctr.run("ps", "-a", check=False).returncode == 0
        results = [f.result() for f in futures]
    assert [r.returncode for r in results] == [0] * 12, [r.stderr for r in results if r.returncode]
    assert sorted(int(r.stdout) for r in results) == list(range(12))
    assert "par" not in ctr.run("ps", "-a", "--format", "{{.Names}}").stdout


def test_dead_conmon_is_reported_exited_and_rm_works(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "orphan", IMAGE, "sleep", "1000")
    doc = json.loads(ctr.run("container", "inspect", "orphan").stdout)[0]
    os.kill(int(doc["State"]["ConmonPid"]), signal.SIGKILL)
    os.kill(int(doc["State"]["Pid"]), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while "Exited" not in ctr.run("ps", "-a", "--filter", "name=orphan").stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Exited" in ctr.run("ps", "-a", "--filter", "name=orphan").stdout
    ctr.run("rm", "-f", "orphan")
    assert ctr.run("container", "exists", "orphan", check=False).returncode == 1


def test_stdin_tty_and_window_size(ctr: SealpodRunner) -> None:
    assert ctr.run("run", "--rm", "-i", IMAGE, "cat", input="piped\n").stdout == "piped\n"
    cmd = " ".join(ctr.argv("run", "--rm", "-t", IMAGE, "sh", "-c", "tty; stty size"))
    out = subprocess.run(["script", "-qec", f"stty rows 33 cols 99; {cmd}", "/dev/null"], env=ctr.env,
                         capture_output=True, text=True, timeout=60)
    assert "/dev/pts/" in out.stdout and "33 99" in out.stdout, out


def test_sig_proxy_forwards_signals(ctr: SealpodRunner) -> None:
    proc = subprocess.Popen(ctr.argv("run", "--rm", IMAGE, "sh", "-c",
                                     "trap 'echo got-int; exit 9' INT; echo ready; while :; do sleep 0.1; done"),
                            env=ctr.env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 9
    assert proc.stdout.read() == "got-int\n"


def test_init_caps_privileged_and_limits(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", "--init", IMAGE, "cat", "/proc/1/cmdline").stdout
    assert out.split("\0")[:2] == ["/run/podman-init", "--"]
    assert "CapEff:\t0000000000000000" in ctr.run("run", "--rm", "--cap-drop", "all", IMAGE, "grep", "CapEff",
                                                  "/proc/self/status").stdout
    default = ctr.run("run", "--rm", IMAGE, "grep", "CapEff", "/proc/self/status").stdout
    added = ctr.run("run", "--rm", "--cap-add", "NET_ADMIN", IMAGE, "grep", "CapEff", "/proc/self/status").stdout
    assert int(added.split()[1], 16) == int(default.split()[1], 16) | (1 << 12)
    assert int(ctr.run("run", "--rm", "--privileged", IMAGE, "ls", "/dev").stdout.count("\n")) > 20
    limits = ctr.run("run", "--rm", "--pids-limit", "50", "-m", "64m", IMAGE, "sh", "-c",
                     "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes").stdout
    assert limits.split() == ["50", str(64 * 1024 * 1024)]


def test_log_driver_none_keeps_no_log(ctr: SealpodRunner) -> None:
    assert ctr.run("run", "--name", "nolog", "--log-driver", "none", IMAGE, "echo", "hi").stdout == "hi\n"
    out = ctr.run("logs", "nolog", check=False)
    assert out.returncode == 125 and "none" in out.stderr
    ctr.run("rm", "nolog")


def test_conmon_keeps_only_the_environment_its_exit_command_needs(ctr: SealpodRunner) -> None:
    """What stays running per container is one conmon: a locale in its environment makes glib load
    the locale tables into it (memory per detached container is measured against Podman's)."""
    ctr.env["LANG"] = ctr.env["LC_ALL"] = "C.UTF-8"
    try:
        ctr.run("run", "-d", "--name", "lean", IMAGE, "sleep", "1000")
    finally:
        del ctr.env["LANG"], ctr.env["LC_ALL"]
    pid = _state(ctr, "lean")["ConmonPid"]
    names = {item.split("=", 1)[0] for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if item}
    assert not names & {"LANG", "LC_ALL"}
    assert {"PATH", "_OCI_SYNCPIPE"} <= names and any(n.startswith("SEALPOD_") for n in names)
    ctr.run("rm", "-f", "-t", "0", "lean")
