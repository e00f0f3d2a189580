"""Container and exec routes, driven by the real Docker CLI against `sealpod system service`."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from sealpod.api.routes.containers import human_duration
from sealpod.api.streams import frame, split_frames
from tests.rig.api import ApiService


def test_run_rm_output_and_exit_code(api: ApiService) -> None:
    assert api.docker("run", "--rm", "-l", "rmtest=1", "sealtest/tiny", "echo", "hi").stdout == "hi\n"
    failed = api.docker("run", "--rm", "-l", "rmtest=1", "sealtest/tiny", "sh", "-c", "echo oops >&2; exit 3",
                        check=False)
    assert failed.returncode == 3 and failed.stderr == "oops\n", failed
    assert api.docker("ps", "-aq", "--filter", "label=rmtest=1").stdout.strip() == ""


def test_detached_lifecycle_ps_logs_exec_inspect(api: ApiService) -> None:
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done; sleep 60"
    cid = api.docker("run", "-d", "--name", "life", "-l", "role=web", "sealtest/tiny", "sh", "-c",
                     script).stdout.strip()
    assert len(cid) == 64
    ps = api.docker("ps", "--filter", "label=role=web", "--format", "{{.Names}}|{{.Status}}").stdout.strip()
    assert ps.startswith("life|Up ")
    deadline = time.monotonic() + 10
    while "out3" not in api.docker("logs", "life").stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    logs = api.docker("logs", "life")
    assert logs.stdout == "out1\nout2\nout3\n" and logs.stderr == "err1\nerr2\nerr3\n"
    exec_rc = api.docker("exec", "life", "sh", "-c", "echo in-exec; exit 5", check=False)
    assert exec_rc.returncode == 5 and exec_rc.stdout == "in-exec\n"
    assert api.docker("exec", "-i", "life", "cat", input="piped\n").stdout == "piped\n"
    fmt = "{{.State.Status}} {{.Name}} {{.State.Running}} {{.Config.Labels.role}}"
    assert api.docker("inspect", "--format", fmt, "life").stdout.strip() == "running /life true web"
    assert "sleep 60" in api.docker("top", "life").stdout
    stats = api.docker("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "life").stdout.split()
    assert stats[0] == "life" and int(stats[1]) >= 1
    api.docker("rename", "life", "life2")
    api.docker("stop", "-t", "1", "life2")
    status = api.docker("ps", "-a", "--filter", "name=life2", "--format", "{{.Status}}").stdout
    assert status.startswith("Exited (")
    assert api.docker("inspect", "--format", "{{.State.Status}}", "life2").stdout.strip() == "exited"
    api.docker("rm", "life2")
    missing = api.docker("inspect", "life2", check=False)
    assert missing.returncode != 0 and "No such" in missing.stderr + missing.stdout


def test_logs_follow_until_exit(api: ApiService) -> None:
    api.docker("run", "-d", "--name", "follow", "sealtest/tiny", "sh", "-c",
               "for i in 1 2 3; do echo tick$i; sleep 0.3; done")
    out = api.docker("logs", "-f", "follow", timeout=30).stdout
    assert out == "tick1\ntick2\ntick3\n"
    assert api.docker("wait", "follow").stdout.strip() == "0"
    api.docker("rm", "follow")


def test_cp_both_ways_and_export(api: ApiService, tmp_path: Path) -> None:
    api.docker("run", "-d", "--name", "files", "sealtest/tiny", "sleep", "60")
    src = tmp_path / "hello.txt"
    src.write_text("hello from host\n")
    api.docker("cp", str(src), "files:/tmp/")
    assert api.docker("exec", "files", "cat", "/tmp/hello.txt").stdout == "hello from host\n"
    api.docker("exec", "files", "sh", "-c", "mkdir /data && echo inside > /data/f")
    api.docker("cp", "files:/data", str(tmp_path / "out"))
    assert (tmp_path / "out" / "f").read_text() == "inside\n"
    export = subprocess.run(["docker", "export", "files"], env=api.docker_env(), capture_output=True, timeout=60)
    listing = subprocess.run(["tar", "t"], input=export.stdout, capture_output=True, check=True).stdout.decode()
    assert "bin/busybox" in listing and "tmp/hello.txt" in listing
    assert "/tmp/hello.txt" in api.docker("diff", "files").stdout
    api.docker("kill", "files")
    api.docker("rm", "-f", "files")


def test_run_interactive_tty_and_stdin(api: ApiService) -> None:
    piped = api.docker("run", "-i", "--rm", "sealtest/tiny", "sh", input="echo via-stdin\nexit 4\n", check=False)
    assert piped.returncode == 4 and piped.stdout == "via-stdin\n"
    cmd = "docker run -it --rm sealtest/tiny sh -c 'tty; echo tty-ok'"
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=api.docker_env(), capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert tty.returncode == 0 and b"/dev/pts/" in tty.stdout and b"tty-ok\r\n" in tty.stdout


def test_missing_container_and_bad_requests(api: ApiService) -> None:
    gone = api.docker("stop", "nosuchctr", check=False)
    assert gone.returncode != 0 and "nosuchctr" in gone.stderr
    bad = api.docker("run", "--rm", "--restart", "always", "sealtest/tiny", "true", check=False)
    assert bad.returncode != 0
    info = json.loads(api.docker("info", "--format", "{{json .}}").stdout)
    assert info["Containers"] >= 0


def test_stream_framing_and_status_wording() -> None:
    data = frame(1, b"out") + frame(2, b"err!")
    assert data[:8] == bytes([1, 0, 0, 0, 0, 0, 0, 3])
    assert split_frames(data) == [(1, b"out"), (2, b"err!")]
    assert [human_duration(s) for s in (0.2, 1, 3, 60, 150, 3600, 7200, 3 * 86400)] == [
        "Less than a second", "1 second", "3 seconds", "About a minute", "2 minutes", "About an hour",
        "2 hours", "3 days"]


def test_libpod_create_takes_systemd_sdnotify_and_cgroup_parent(api: ApiService) -> None:
    """SpecGenerator's systemd/sdnotifyMode reach the container as the CLI flags do; bad values
    are refused with the CLI's words."""
    body = {"image": "sealtest/tiny", "name": "api-sd", "command": ["true"], "systemd": "always",
            "sdnotifyMode": "ignore", "cgroup_parent": "/sealpod_api_parent"}
    status, out = api.request("POST", "/v4.0.0/libpod/containers/create", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})
    assert status == 201, out
    try:
        fmt = "{{.Config.SystemdMode}} {{.Config.SdNotifyMode}} {{.HostConfig.CgroupParent}}"
        assert api.runner.run("inspect", "--format", fmt, "api-sd").stdout.split() == [
            "true", "ignore", "/sealpod_api_parent"]
    finally:
        api.runner.run("rm", "-f", "api-sd")
    status, out = api.request("POST", "/v4.0.0/libpod/containers/create",
                              json.dumps({**body, "name": "api-sd2", "systemd": "maybe"}).encode(),
                              {"Content-Type": "application/json"})
    assert status in (400, 500) and b"--systemd values must be one of" in out
