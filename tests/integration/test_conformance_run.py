"""Conformance with Podman's own system tests for running containers (test/system/030-run,
032-sig-proxy, 045-start, 050-stop, 055-rm, 075-exec, 080-pause, 085-top, 130-kill, 620-option-conflicts),
as Podman 4.3.1 behaves: outputs, exit codes and messages, against real conmon, runc and overlay mounts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
SLEEPLOOP = 'trap "echo BYE;exit 0" INT;echo READY;while :;do sleep 0.1;done'


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-run"), seeded_registry.host) as runner:
        yield runner


def _inspect(ctr: SealpodRunner, name: str, fmt: str) -> str:
    return ctr.run("inspect", "--format", fmt, name).stdout.strip()


def _wait_for(ctr: SealpodRunner, name: str, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in ctr.run("logs", name).stdout:
        assert time.monotonic() < deadline, f"{name} never said {text!r}"
        time.sleep(0.1)


# --- 030-run.bats -----------------------------------------------------------------------

@pytest.mark.parametrize(("cmd", "code", "output"), [
    (["true"], 0, ""), (["false"], 1, ""), (["sh", "-c", "exit 32"], 32, ""), (["echo", "hi"], 0, "hi\n"),
    (["/no/such/command"], 127, "no such file or directory"), (["/etc"], 126, "permission denied"),
])
def test_run_basic_exit_codes_like_podman(ctr: SealpodRunner, cmd: list[str], code: int, output: str) -> None:
    out = ctr.run("run", "--rm", IMAGE, *cmd, check=False)
    assert out.returncode == code
    assert output in (out.stdout if code == 0 else out.stderr)
    if code >= 126:
        assert out.stderr.startswith("Error: ") and "Traceback" not in out.stderr


def test_run_attach_stdin_prints_container_id(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--name", "attin", "--attach", "stdin", IMAGE, "echo", "hello")
    assert out.stdout == _inspect(ctr, "attin", "{{.Id}}") + "\n"
    ctr.run("rm", "attin")


def test_run_big_output_not_truncated(ctr: SealpodRunner) -> None:
    """#9096: only stderr attached, the 700000 NULs all reach the k8s-file log."""
    out = ctr.run("run", "--name", "bigout", "--attach", "stderr", "--log-driver", "k8s-file", IMAGE, "dd",
                  "if=/dev/zero", "count=700000", "bs=1")
    assert out.stdout == ""
    assert out.stderr.splitlines()[:2] == ["700000+0 records in", "700000+0 records out"]
    log = Path(_inspect(ctr, "bigout", "{{.HostConfig.LogConfig.Path}}")).read_bytes()
    assert log.count(b"\0") == 700000
    ctr.run("rm", "bigout")


def test_run_global_runtime_flag(ctr: SealpodRunner) -> None:
    out = ctr.run("--runtime-flag", "invalidflag", "run", "--rm", IMAGE, "true", check=False)
    assert out.returncode == 126
    assert "invalidflag" in out.stderr and out.stderr.count("\n") == 1
    assert ctr.run("--runtime-flag", "log-format=json", "run", "--rm", IMAGE, "echo", "ok").stdout == "ok\n"


def test_run_boolean_flags_take_explicit_values(ctr: SealpodRunner) -> None:
    """cobra's ``--flag=false``: "--rm=false", "-t=true"; "-af" stays -a -f."""
    ctr.run("run", "--name", "keepme", "--rm=false", IMAGE, "true")
    assert ctr.run("container", "exists", "keepme").returncode == 0
    assert ctr.run("run", "-t=false", "--rm", IMAGE, "sh", "-c", "test -t 1 || echo notty").stdout == "notty\n"
    assert ctr.run("run", "-t=true", "--rm", IMAGE, "sh", "-c", "echo $TERM").stdout == "xterm\r\n"
    bad = ctr.run("run", "--rm=bogus", IMAGE, "true", check=False)
    assert bad.returncode == 125
    assert 'invalid argument "bogus" for "--rm" flag' in bad.stderr
    assert ctr.run("run", "--rm", IMAGE, "echo", "--rm=false").stdout == "--rm=false\n"
    ctr.run("rm", "-f", "keepme")


def test_run_rmi_removes_image_after_run(ctr: SealpodRunner) -> None:
    ctr.run("tag", IMAGE, "rmitest")
    ctr.run("run", "--rmi", "--rm", "rmitest", "true")
    assert ctr.run("image", "exists", "rmitest", check=False).returncode == 1
    assert ctr.run("image", "exists", IMAGE).returncode == 0


def test_run_cidfile_exists_leaves_no_container(ctr: SealpodRunner, tmp_path: Path) -> None:
    cidfile = tmp_path / "cidfile"
    cidfile.write_text("garbage\n")
    out = ctr.run("run", "-d", "--name", "cidc", "--cidfile", str(cidfile), IMAGE, "true", check=False)
    assert out.returncode == 125
    assert out.stderr == (f"Error: container id file exists. Ensure another container is not using it or delete "
                          f"{cidfile}\n")
    assert ctr.run("container", "exists", "cidc", check=False).returncode == 1


def test_run_conmon_pidfile_and_cidfile(ctr: SealpodRunner, tmp_path: Path) -> None:
    pidfile, cidfile = tmp_path / "pidfile", tmp_path / "cidfile"
    cid = ctr.run("run", "-d", "--name", "pidc", f"--conmon-pidfile={pidfile}", f"--cidfile={cidfile}", IMAGE,
                  "sleep", "100").stdout.strip()
    assert cidfile.read_text() == cid
    pid = pidfile.read_text().strip()
    assert _inspect(ctr, cid, "{{.State.ConmonPid}}") == pid
    assert os.readlink(f"/proc/{pid}/exe").endswith("/conmon")
    ctr.run("rm", "-f", "-t0", cid)


def test_run_log_driver_none_has_no_path(ctr: SealpodRunner) -> None:
    ctr.run("run", "--name", "nolog", "--log-driver", "none", IMAGE, "echo", "msg")
    assert _inspect(ctr, "nolog", "{{.HostConfig.LogConfig.Type}}|{{.HostConfig.LogConfig.Path}}|") == "none||"
    logs = ctr.run("logs", "nolog", check=False)
    assert logs.returncode == 125 and "this container is using the 'none' log driver, cannot read logs" in logs.stderr
    ctr.run("run", "--name", "k8slog", "--log-driver", "k8s-file", IMAGE, "echo", "msg")
    path = _inspect(ctr, "k8slog", "{{.HostConfig.LogConfig.Path}}")
    assert Path(path).read_text().rstrip().endswith(" stdout F msg")
    ctr.run("rm", "nolog", "k8slog")
    bad = ctr.run("run", "--log-driver=InvalidDriver", IMAGE, "true", check=False)
    assert bad.returncode == 125
    assert bad.stderr == "Error: running container create option: invalid log driver: invalid argument\n"


def test_run_log_opt_size_in_inspect(ctr: SealpodRunner) -> None:
    ctr.run("create", "--name", "logsize", "--log-opt", "max-size=1.234m", IMAGE, "true")
    ctr.run("create", "--name", "logsize0", IMAGE, "true")
    assert _inspect(ctr, "logsize", "{{.HostConfig.LogConfig.Size}}") == "1.234MB"
    assert _inspect(ctr, "logsize0", "{{.HostConfig.LogConfig.Size}}") == "0B"
    ctr.run("rm", "logsize", "logsize0")


def test_noout_global_flag(ctr: SealpodRunner) -> None:
    out = ctr.run("--noout", "create", "--name", "quiet", IMAGE, "echo", "hi")
    assert out.stdout == ""
    assert ctr.run("--noout", "rm", "quiet").stdout == ""
    assert ctr.run("container", "exists", "quiet", check=False).returncode == 1


def test_run_image_name_is_the_name_given(ctr: SealpodRunner) -> None:
    """#8082: the container's ImageName is what create was given (with :latest added)."""
    ctr.run("tag", IMAGE, "localhost/r_x/i_y", "localhost/r_x/i_y:abc")
    ctr.run("create", "--name", "in1", "localhost/r_x/i_y")
    ctr.run("create", "--name", "in2", "localhost/r_x/i_y:abc")
    assert _inspect(ctr, "in1", "{{.ImageName}}") == "localhost/r_x/i_y:latest"
    assert _inspect(ctr, "in2", "{{.ImageName}}") == "localhost/r_x/i_y:abc"
    digests = json.loads(ctr.run("image", "inspect", "--format", "{{json .RepoDigests}}", IMAGE).stdout)
    assert any(d.endswith("@" + _inspect(ctr, "in1", "{{.ImageDigest}}")) for d in digests)
    ctr.run("rm", "in1", "in2")
    ctr.run("untag", IMAGE, "localhost/r_x/i_y", "localhost/r_x/i_y:abc")


def test_run_containerenv_like_podman(ctr: SealpodRunner, tmp_path: Path) -> None:
    assert ctr.run("run", "--rm", IMAGE, "stat", "-c", "%s", "/run/.containerenv").stdout == "0\n"
    for opts in (["--tmpfs=/run"], ["--read-only"]):  # a tmpfs on /run shows the image's own file, if any, as Podman
        assert ctr.run("run", "--rm", *opts, IMAGE, "stat", "/run/.containerenv", check=False).returncode == 1
    bind = tmp_path / "run"
    bind.mkdir()
    out = ctr.run("run", "--rm", "-v", f"{bind}:/run", IMAGE, "stat", "-c", "%s", "/run/.containerenv", check=False)
    assert out.returncode == 1
    assert not (bind / ".containerenv").exists()
    iid = ctr.run("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    lines = ctr.run("run", "--privileged", "--rm", "--name", "cenv", IMAGE, "sh", "-c",
                    ". /run/.containerenv; echo $engine; echo $name; echo $id; echo $imageid; echo $rootless"
                    ).stdout.split("\n")
    assert lines[0].startswith("podman-") and lines[1] == "cenv" and len(lines[2]) == 64
    assert lines[3:5] == [iid, "0"]


@pytest.mark.parametrize("net", ["host", "none"])
def test_run_publish_with_host_or_none_network_warns(ctr: SealpodRunner, net: str) -> None:
    out = ctr.run("run", "--rm", "-p", "8080", f"--net={net}", IMAGE, "echo", "ran")
    assert out.stdout == "ran\n"
    assert "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in " \
           "use" in out.stderr


def test_run_check_workdir(ctr: SealpodRunner, tmp_path: Path) -> None:
    out = ctr.run("run", "--rm", "--workdir", "/i/do/not/exist", IMAGE, "pwd", check=False)
    assert out.returncode == 126
    assert out.stderr.startswith('Error: workdir "/i/do/not/exist" does not exist on container ')
    (tmp_path / "content").write_text("hello\n")
    assert ctr.run("run", "--rm", "--workdir", "/NotOnImage", "-v", f"{tmp_path}:/NotOnImage", IMAGE,
                   "cat", "content").stdout == "hello\n"
    assert ctr.run("run", "--rm", "--workdir", "/NotOnImage", "-v", f"{tmp_path / 'content'}:/NotOnImage/foo",
                   IMAGE, "cat", "foo").stdout == "hello\n"


def test_run_tz(ctr: SealpodRunner, tmp_path: Path) -> None:
    """The last --tz wins; "local" is the host's /etc/localtime; an unknown zone fails create."""
    ref = tmp_path / "ref"
    ref.touch()
    os.utime(ref, (1600000000, 1600000000))
    vol = f"{tmp_path}:/v"
    assert ctr.run("run", "--rm", "-v", vol, IMAGE, "date", "-r", "/v/ref").stdout == "Sun Sep 13 12:26:40 UTC 2020\n"
    out = ctr.run("run", "--rm", "-v", vol, "--tz=US/Eastern", "--tz=Iceland", "--tz=America/New_York", IMAGE,
                  "date", "-r", "/v/ref")
    assert out.stdout == "Sun Sep 13 08:26:40 EDT 2020\n"
    expect = subprocess.run(["date", "--date=@1600000000", "--iso=seconds"], capture_output=True, text=True).stdout
    assert ctr.run("run", "--rm", "-v", vol, "--tz=local", IMAGE, "date", "-Iseconds", "-r", "/v/ref").stdout == expect
    bad = ctr.run("run", "--rm", "--tz=Bogus/Zone", IMAGE, "true", check=False)
    assert bad.returncode == 125
    assert bad.stderr == ("Error: running container create option: stat /usr/share/zoneinfo/Bogus/Zone: "
                          "no such file or directory\n")


def test_run_timeout_basic(ctr: SealpodRunner) -> None:
    start = time.monotonic()
    out = ctr.run("run", "--name", "timed", "--timeout", "2", IMAGE, "sleep", "60", check=False)
    elapsed = time.monotonic() - start
    assert out.returncode == 255
    assert _inspect(ctr, "timed", "{{.State.Status}} {{.State.ExitCode}}") == "exited -1"
    assert 1 < elapsed <= 8
    ctr.run("rm", "timed")


def test_run_preserve_fds(ctr: SealpodRunner, tmp_path: Path) -> None:
    import shlex

    (tmp_path / "tempfile").write_text("fd-content\n")
    argv = ctr.argv("run", "--rm", "-i", "--preserve-fds=2", IMAGE, "sh", "-c", "cat <&4; readlink /proc/self/fd/3")
    out = subprocess.run(["bash", "-c", f"{shlex.join(argv)} 3</dev/null 4<{shlex.quote(str(tmp_path / 'tempfile'))}"],
                         env=ctr.env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "fd-content\n/dev/null\n"  # the caller's fd 3, never one of sealpod's own files


def test_run_unsetenv_and_kernel_memory(ctr: SealpodRunner) -> None:
    env = ctr.run("run", "--rm", "--unsetenv=TERM", IMAGE, "/bin/env").stdout
    assert "container=podman" in env and "TERM=" not in env
    env = ctr.run("run", "--rm", "--unsetenv-all", "--env", "TERM=abc", IMAGE, "/bin/env").stdout
    assert "TERM=abc" in env and "PATH=" not in env and "container=" not in env
    out = ctr.run("run", "--rm", "--kernel-memory", "100", IMAGE, "false", check=False)
    assert out.returncode == 1
    assert "The --kernel-memory flag is no longer supported. This flag is a noop." in out.stderr


def test_run_device_cgroup_rule(ctr: SealpodRunner) -> None:
    for rule in ("b 7:* rmw", "c 7:* rmw", "a 7:1 rmw", "a 7 rmw"):
        ctr.run("run", f"--device-cgroup-rule={rule}", "--rm", IMAGE, "true")
    for rule, message in (("b 7:* rmX", "invalid device access in device-access-add: X"),
                          ("b 7:2", 'invalid device cgroup rule requires type, major:Minor, and access rules: "b 7:2"'),
                          ("x 7:* rmw", "invalid device type in device-access-add: x"),
                          ("a a:* rmw", 'strconv.ParseUint: parsing "a": invalid syntax')):
        out = ctr.run("run", f"--device-cgroup-rule={rule}", "--rm", IMAGE, "true", check=False)
        assert out.returncode == 125 and out.stderr == f"Error: {message}\n"
    listed = ctr.run("run", "--rm", "--device-cgroup-rule=c 42:7 rw", IMAGE, "cat",
                     "/sys/fs/cgroup/devices/devices.list", check=False)
    if listed.returncode == 0:  # cgroups v1: the rule is in force
        assert "c 42:7 rw" in listed.stdout.splitlines()


def test_run_failed_rm(ctr: SealpodRunner) -> None:
    """#15060: a second container on a taken port fails with 126; with --rm it leaves nothing behind."""
    import socket

    with socket.socket() as s:
        s.bind(("", 0))
        port = s.getsockname()[1]
    ctr.run("run", "-p", f"{port}:80", "--rm", "-d", "--name", "c1_ok", IMAGE, "top")
    for name, rm in (("c2_fail_no_rm", []), ("c3_fail_with_rm", ["--rm"])):
        out = ctr.run("run", "-p", f"{port}:80", *rm, "-d", "--name", name, IMAGE, "top", check=False)
        assert out.returncode == 126 and "ddress already in use" in out.stderr
    names = ctr.run("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "c3_fail_with_rm" not in names and {"c1_ok", "c2_fail_no_rm"} <= set(names)
    ctr.run("rm", "-f", "-t0", "c1_ok", "c2_fail_no_rm")


def test_run_closes_stdin_and_keeps_binary_input(ctr: SealpodRunner) -> None:
    """Piped stdin is data: the detach keys (ctrl-p,ctrl-q) pass through, as in Podman."""
    data = b"a\x10\x11b\n"
    out = subprocess.run(ctr.argv("run", "-i", "--rm", IMAGE, "cat"), input=data, env=ctr.env,
                         capture_output=True, timeout=60)
    assert out.returncode == 0 and out.stdout == data


def test_run_failed_rm_leaves_nothing_and_security_opt(ctr: SealpodRunner) -> None:
    for opt in ("no-new-privileges=true", "no-new-privileges:true", "no-new-privileges=false", "no-new-privileges"):
        cid = ctr.run("create", "--security-opt", opt, IMAGE).stdout.strip()
        ctr.run("rm", cid)


# --- 032-sig-proxy.bats --------------------------------------------------------------------

@pytest.mark.parametrize("how", ["run", "start", "attach"])
def test_sigproxy_forwards_sigint(ctr: SealpodRunner, how: str) -> None:
    name = f"sig_{how}"
    if how == "run":
        argv = ctr.argv("run", "-i", "--name", name, IMAGE, "sh", "-c", SLEEPLOOP)
    elif how == "start":
        ctr.run("create", "--name", name, IMAGE, "sh", "-c", SLEEPLOOP)
        argv = ctr.argv("start", "--attach", name)
    else:
        ctr.run("run", "-d", "--name", name, IMAGE, "sh", "-c", SLEEPLOOP)
        argv = ctr.argv("attach", name)
    proc = subprocess.Popen(argv, env=ctr.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while ctr.run("container", "exists", name, check=False).returncode != 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        _wait_for(ctr, name, "READY")
        time.sleep(0.5)  # the attach is in place
        proc.send_signal(signal.SIGINT)
        _wait_for(ctr, name, "BYE", timeout=20)
    finally:
        proc.kill()
        proc.wait()
        ctr.run("rm", "-f", "-t0", name)


# --- 045-start.bats ------------------------------------------------------------------------

def test_start_all_skips_running_and_refuses_names(ctr: SealpodRunner) -> None:
    ran = [ctr.run("run", "-d", *extra, IMAGE, cmd).stdout.strip()
           for extra, cmd in (([], "/bin/true"), (["--restart=no"], "/bin/false"), (["--restart=on-failure"],
                                                                                   "/bin/true"))]
    always = ctr.run("run", "-d", "--restart=always", IMAGE, "sleep", "20").stdout.strip()
    ctr.run("wait", *ran, check=False)
    out = ctr.run("start", "--all").stdout
    assert all(c in out for c in ran) and always not in out
    ctr.run("wait", *ran, check=False)
    bad = ctr.run("start", "--all", "12333", check=False)
    assert bad.returncode == 125
    assert bad.stderr == "Error: either start all containers or the container(s) provided in the arguments\n"
    ctr.run("rm", "-f", "-t0", *ran, always)


def test_start_filter(ctr: SealpodRunner) -> None:
    c1 = ctr.run("create", "--name=fc1", "--restart=always", IMAGE, "/bin/true").stdout.strip()
    ctr.run("create", "--name=fc2", "--restart=on-failure", IMAGE, "/bin/true")
    c3 = ctr.run("create", "--name=fc3", "--restart=always", IMAGE, "/bin/true").stdout.strip()
    out = ctr.run("start", "--filter", "restart-policy=always").stdout.split()
    assert sorted(out) == sorted([c1, c3])
    ctr.run("start", "--filter", "restart-policy=always")
    assert ctr.run("start", "--filter", "restart-policy=on-failure", "fc2", "fc3").stdout == "fc2\n"
    assert ctr.run("start", "--filter", "restart-policy=none", "--all").stdout == ""
    bad = ctr.run("start", "--filter", "restart-policy=fakepolicy", "fc1", check=False)
    assert bad.returncode == 125 and bad.stderr == "Error: fakepolicy invalid restart policy\n"
    ctr.run("rm", "-f", "-t0", "fc1", "fc2", "fc3")
    ok = ctr.run("run", "-d", IMAGE, "/bin/true").stdout.strip()
    failed = ctr.run("run", "-d", IMAGE, "/bin/false").stdout.strip()
    ctr.run("wait", ok, failed, check=False)
    assert ctr.run("start", "--all", "--filter", "exited=0").stdout == f"{ok}\n"
    ctr.run("rm", "-f", "-t0", ok, failed)


# --- 050-stop.bats / 055-rm.bats ----------------------------------------------------------------

def test_stop_warns_when_resorting_to_sigkill(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "stopme", IMAGE, "sleep", "100")
    out = ctr.run("stop", "-t", "1", "stopme")
    assert out.stdout == "stopme\n"
    assert "StopSignal SIGTERM failed to stop container stopme in 1 seconds, resorting to SIGKILL" in out.stderr
    assert _inspect(ctr, "stopme", "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
    ctr.run("start", "stopme")
    assert "resorting" not in ctr.run("stop", "-t", "0", "stopme").stderr
    ctr.run("rm", "stopme")


def test_stop_ignore_and_missing_cidfile(ctr: SealpodRunner, tmp_path: Path) -> None:
    missing = ctr.run("stop", "thiscontainerdoesnotexist", check=False)
    assert missing.returncode == 125
    assert missing.stderr == ('Error: no container with name or ID "thiscontainerdoesnotexist" found: '
                              "no such container\n")
    assert ctr.run("stop", "--ignore", "thiscontainerdoesnotexist").stdout == ""
    nosuch = tmp_path / "no-such-file"
    out = ctr.run("stop", f"--cidfile={nosuch}", check=False)
    assert out.returncode == 125
    assert out.stderr == f"Error: reading CIDFile: open {nosuch}: no such file or directory\n"
    ok = ctr.run("stop", f"--cidfile={nosuch}", "--ignore")
    assert ok.stdout == "" and ok.stderr == ""


def test_rm_force_bogus(ctr: SealpodRunner) -> None:
    out = ctr.run("container", "rm", "bogus", check=False)
    assert out.returncode == 1
    assert ctr.run("container", "rm", "--force", "bogus").stdout == ""
    ctr.run("create", "--name", "rmtest", IMAGE)
    assert ctr.run("container", "rm", "--force", "bogus", "rmtest").stdout == "rmtest\n"
    assert ctr.run("container", "exists", "rmtest", check=False).returncode == 1


# --- 075-exec.bats --------------------------------------------------------------------------

def test_exec_cat_from_stdin_big_binary(ctr: SealpodRunner, tmp_path: Path) -> None:
    """#5046: a large binary stdin arrives whole (random bytes contain the detach keys)."""
    ctr.run("run", "-d", "--name", "execin", IMAGE, "top")
    data = os.urandom(1024 * 1500)
    out = subprocess.run(ctr.argv("exec", "-i", "execin", "dd", "of=/tmp/bigfile", "bs=512"), input=data,
                         env=ctr.env, capture_output=True, timeout=120)
    assert out.returncode == 0
    assert out.stderr.decode().splitlines()[:2] == ["3000+0 records in", "3000+0 records out"]
    assert ctr.run("exec", "execin", "stat", "-c", "%s", "/tmp/bigfile").stdout == f"{len(data)}\n"
    ctr.run("rm", "-f", "-t0", "execin")


def test_exec_group_add_comma_list(ctr: SealpodRunner) -> None:
    ctr.run("run", "--group-add", "1,2,3", "-d", "--name", "groups", IMAGE, "top")
    lines = ctr.run("exec", "groups", "grep", "-h", "^Groups:", "/proc/1/status", "/proc/self/status").stdout
    first, second = lines.splitlines()
    # as Podman 4.3.1: the main process has root's groups and the added ones, exec only the added ones
    assert first.startswith("Groups:\t0 1 2 3") and second == "Groups:\t1 2 3 "
    assert ctr.run("exec", "--user", "root:root", "groups", "id", "-G").stdout == "0\n"
    ctr.run("rm", "-f", "-t0", "groups")


# --- 130-kill.bats ------------------------------------------------------------------------

@pytest.mark.parametrize(("sig", "message"), [
    ("0", "invalid signal: 0"), ("SIGBADSIG", "invalid signal: SIGBADSIG"), ("SIG", "invalid signal: SIG"),
    ("BADSIG", "invalid signal: BADSIG"), ("%%", "invalid signal: %%"), ("!", "invalid signal: !"),
    ("-0", "invalid signal: 0"), ("=-SIGBADSIG", "invalid signal: SIGBADSIG"), ("-", "invalid signal: "),
    ("65", "valid signals are 1 through 64"), ("-65", "valid signals are 1 through 64"),
    ("96", "valid signals are 1 through 64"), ("99999999", "valid signals are 1 through 64"),
])
def test_kill_rejects_invalid_signals(ctr: SealpodRunner, sig: str, message: str) -> None:
    args = [f"--signal{sig}"] if sig.startswith("=") else ["-s", sig]
    out = ctr.run("kill", *args, "nosuchcontainer", check=False)
    assert out.returncode == 125
    assert out.stderr == f"Error: {message}\n"


def test_create_rejects_invalid_stop_signal(ctr: SealpodRunner) -> None:
    out = ctr.run("create", "--stop-signal=99", IMAGE, check=False)
    assert out.returncode == 125 and out.stderr == "Error: valid signals are 1 through 64\n"


# --- 620-option-conflicts.bats -------------------------------------------------------------------

@pytest.mark.parametrize(("opt1", "opt2"), [
    ("--cpu-period=1", "--cpus=2"), ("--cpu-quota=1", "--cpus=2"), ("--no-hosts", "--add-host=foo:1.1.1.1"),
])
@pytest.mark.parametrize("command", ["create", "run"])
def test_options_that_cannot_be_set_together(ctr: SealpodRunner, command: str, opt1: str, opt2: str) -> None:
    want = f"Error: {opt1.split('=')[0]} and {opt2.split('=')[0]} cannot be set together\n"
    for first, second in ((opt1, opt2), (opt2, opt1)):
        out = ctr.run(command, first, second, IMAGE, check=False)
        assert out.returncode == 125 and out.stderr == want


@pytest.mark.parametrize("opt", ["arch", "os"])
def test_platform_with_arch_or_os(ctr: SealpodRunner, opt: str) -> None:
    out = ctr.run("create", "--platform=foo", f"--{opt}=bar", "sdfsdf", check=False)
    assert out.returncode == 125
    assert out.stderr == "Error: --platform option can not be specified with --arch or --os\n"


def test_cpu_period_and_quota_reach_the_cgroup(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", "--cpu-period=100000", "--cpu-quota=50000", IMAGE, "cat",
                  "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", check=False)
    if out.returncode != 0 and "No such file" in out.stderr:
        pytest.skip("no cgroup v1 cpu controller in the container")
    assert out.stdout.split() == ["100000", "50000"]
