"""Podman 4.3.1's e2e tests of ``run`` (test/e2e/run_*_test.go), as sealpod must pass them: flags,
exit codes, messages and what the container sees, against real conmon, runc and overlay mounts.
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

from sealpod.engine.oci_hooks import hooks_for
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-run"), seeded_registry.host) as runner:
        yield runner


def _out(ctr: SealpodRunner, *args: str) -> str:
    return ctr.run(*args).stdout.strip()


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    out = ctr.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr


# --- run_test.go ---------------------------------------------------------------------------

def test_rm_with_restart_on_failure(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run --rm with --restart"""
    ctr.run("run", "--rm", "--restart", "on-failure", IMAGE, "true")
    for policy in ("always", "unless-stopped", "on-failure:2"):
        assert "conflicts with --restart" in _fails(ctr, "run", "--rm", "--restart", policy, IMAGE, "true")


def test_containerenv_says_graph_root_mounted(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run check /run/.containerenv"""
    assert _out(ctr, "run", "--rm", "-v", "/:/host", IMAGE, "cat", "/run/.containerenv") == "graphRootMounted=1"
    privileged = _out(ctr, "run", "--rm", "-v", "/:/host", "--privileged", IMAGE, "cat", "/run/.containerenv")
    assert privileged.endswith("graphRootMounted=1") and "rootless=0" in privileged
    assert _out(ctr, "run", "--rm", "-v", "/etc:/host", IMAGE, "cat", "/run/.containerenv") == ""


def test_security_opt_systempaths_and_bad_values(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run mask and unmask path test"""
    out = _out(ctr, "run", "--rm", "--security-opt", "systempaths=unconfined", IMAGE, "grep", "-c", "/proc",
               "/proc/self/mounts")
    assert out == "1"
    before = _out(ctr, "ps", "-aq")
    assert 'invalid --security-opt 1: "foo"' in _fails(ctr, "run", "--security-opt", "foo", IMAGE, "true")
    assert 'invalid --security-opt 2: "foo=bar"' in _fails(ctr, "run", "--security-opt", "foo=bar", IMAGE, "true")
    err = _fails(ctr, "run", "--security-opt", "systempaths=bogus", IMAGE, "true")
    assert 'invalid systempaths option "bogus", only `unconfined` is supported' in err
    assert _out(ctr, "ps", "-aq") == before  # refused before anything was created


def test_seccomp_profile_applies_with_privileged(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman run seccomp test --privileged"""
    profile = tmp_path / "seccomp.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"name": "getcwd", "action": "SCMP_ACT_ERRNO"}]}))
    out = ctr.run("run", "--rm", "--privileged", "--security-opt", f"seccomp={profile}", IMAGE, "pwd", check=False)
    assert out.returncode != 0 and "operation not permitted" in (out.stdout + out.stderr).lower()
    assert "Seccomp:\t0" in _out(ctr, "run", "--rm", "--privileged", IMAGE, "grep", "Seccomp:", "/proc/self/status")


def test_proc_opts(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run --security-opts proc-opts="""
    line = _out(ctr, "run", "--rm", "--security-opt", "proc-opts=nosuid,exec", IMAGE, "grep", " /proc ",
                "/proc/self/mountinfo")
    assert "nosuid" in line and "noexec" not in line


def test_named_volume_keeps_image_dir_mode_and_mtime(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run with named volume"""
    image = _out(ctr, "run", "--rm", IMAGE, "stat", "-c", "%a %Y", "/var/spool")
    assert _out(ctr, "run", "--rm", "-v", "e2e-mtime:/var/spool", IMAGE, "stat", "-c", "%a %Y", "/var/spool") == image
    ctr.run("volume", "rm", "e2e-mtime")


def test_volumes_from_option_errors(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman run --volumes-from flag options"""
    ctr_id = _out(ctr, "create", "-v", f"{tmp_path}:/myvol", IMAGE, "true")
    err = _fails(ctr, "run", "--rm", "--volumes-from", f"{ctr_id}:ro,rw", IMAGE, "true")
    assert "cannot set ro or rw options more than once" in err
    err = _fails(ctr, "run", "--rm", "--volumes-from", f"{ctr_id}:z,z,ro", IMAGE, "true")
    assert "cannot set :z more than once in mount options" in err
    ctr.run("rm", ctr_id)


def test_volume_with_empty_side(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run --volumes flag with empty host dir"""
    assert "Error: host directory cannot be empty" in _fails(ctr, "run", "-v", ":/myvol1:z", IMAGE, "true")
    assert "Error: container directory cannot be empty" in _fails(ctr, "run", "-v", "/tmp:", IMAGE, "true")


def test_health_start_period_below_zero(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run with bad healthcheck start-period"""
    err = _fails(ctr, "run", "-d", "--health-cmd", "foo", "--health-start-period", "-1s", IMAGE, "top")
    assert "healthcheck-start-period must be 0 seconds or greater" in err


def test_missing_authfile(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run should fail with nonexistent authfile"""
    assert "stat /tmp/nonexistent-e2e: no such file or directory" in \
        _fails(ctr, "run", "--authfile", "/tmp/nonexistent-e2e", IMAGE, "true")
    _fails(ctr, "pull", "--authfile", "/tmp/nonexistent-e2e", IMAGE)


def test_tz_outside_the_zone_database(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman run --tz"""
    (tmp_path / "tzfile.txt").write_text("Hello")
    err = _fails(ctr, "run", "--rm", "--tz", f"../../..{tmp_path}/tzfile.txt", IMAGE, "date")
    assert "finding timezone for container" in err


def test_secret_long_form(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman run --secret source=mysecret,type=mount with target"""
    (tmp_path / "secret").write_text("somesecretdata")
    ctr.run("secret", "create", "e2esecret", str(tmp_path / "secret"))
    try:
        assert _out(ctr, "run", "--rm", "--secret", "source=e2esecret,type=mount", IMAGE, "cat",
                    "/run/secrets/e2esecret") == "somesecretdata"
        assert _out(ctr, "run", "--rm", "--secret", "source=e2esecret,type=mount,target=hello", IMAGE, "cat",
                    "/run/secrets/hello") == "somesecretdata"
        assert _out(ctr, "run", "--rm", "--secret", "source=e2esecret,type=env,target=anotherplace", IMAGE,
                    "sh", "-c", "echo $anotherplace") == "somesecretdata"
        out = _out(ctr, "run", "--rm", "--secret", "source=e2esecret,type=mount,uid=1000,gid=1001,mode=777", IMAGE,
                   "ls", "-ln", "/run/secrets/e2esecret")
        assert out.startswith("-rwxrwxrwx") and "1000" in out and "1001" in out
        assert "secret name is required" in _fails(ctr, "run", "--rm", "--secret", "type=env", IMAGE, "true")
    finally:
        ctr.run("secret", "rm", "e2esecret")


def test_entrypoint_of_one_empty_string(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_entrypoint_test.go: podman run entrypoint == [""]"""
    ctx = build_context(tmp_path, "ep", f'FROM {IMAGE}\nENTRYPOINT [""]\nCMD []\n')
    ctr.run("build", "-q", "-t", "e2e-emptyep", str(ctx))
    assert _out(ctr, "run", "--rm", "e2e-emptyep", "echo", "hello") == "hello"
    ctr.run("rmi", "e2e-emptyep")


def test_cap_add_all_for_a_non_root_user(ctr: SealpodRunner) -> None:
    """e2e run_privileged_test.go: podman cap-add CapEff with --user"""
    root = _out(ctr, "run", "--rm", "--cap-add", "all", IMAGE, "grep", "CapEff", "/proc/self/status")
    user = _out(ctr, "run", "--rm", "--user=nobody", "--cap-add", "all", IMAGE, "grep", "CapEff", "/proc/self/status")
    assert user == root and not root.endswith("0000000000000000")


def test_sig_proxy_forwards_every_catchable_signal(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_signal_test.go: signals are forwarded to container using sig-proxy"""
    script = 'trap "echo FOO >> /h/out; exit 0" FPE; echo READY >> /h/out; while :; do sleep 0.1; done'
    proc = subprocess.Popen(ctr.argv("run", "--rm", "-v", f"{tmp_path}:/h", IMAGE, "sh", "-c", script), env=ctr.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "out"
    try:
        deadline = time.monotonic() + 20
        while not (out.exists() and "READY" in out.read_text()):
            assert time.monotonic() < deadline, "the container never got ready"
            time.sleep(0.1)
        time.sleep(0.5)  # the proxy is in place
        proc.send_signal(signal.SIGFPE)
        assert proc.wait(timeout=20) == 0
        assert "FOO" in out.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_network_sysctl_with_host_network(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run sysctl test"""
    err = _fails(ctr, "run", "--rm", "--net", "host", "--sysctl", "net.core.somaxconn=65535", IMAGE, "true")
    assert "sysctl net.core.somaxconn=65535 can't be set since Network Namespace set to host" in err


# --- /etc/passwd and /etc/group: run_passwd_test.go, run_test.go's --user tests ---------------

@pytest.mark.parametrize(("user", "passwd", "group", "ident"), [
    ("1234", "1234:*:1234:0:container user:/:/bin/sh", "1234:x:1234:1234", "uid=1234(1234) gid=0(root) groups=0(root)"),
    ("1234:5678", "1234:*:1234:5678:container user:/:/bin/sh", "5678:x:5678:1234",
     "uid=1234(1234) gid=5678(5678) groups=5678(5678)"),
    ("root:5555", "", "5555:x:5555:root", "uid=0(root) gid=5555(5555) groups=5555(5555)"),
    ("nobody:root", "", "", "uid=65534(nobody) gid=0(root) groups=0(root)"),
])
def test_user_gets_passwd_and_group_entries(ctr: SealpodRunner, user: str, passwd: str, group: str,
                                            ident: str) -> None:
    """e2e run_test.go: podman run with user (integer, not in /etc/passwd)"""
    out = _out(ctr, "run", "--rm", "--user", user, IMAGE, "sh", "-c", "tail -1 /etc/passwd; tail -1 /etc/group; id")
    last_passwd, last_group, got = out.splitlines()
    assert last_passwd == (passwd or "nobody:x:65534:65534:nobody:/home:/bin/false")
    assert last_group == (group or "nobody:x:65534:")
    assert got == ident


def test_passwd_flags_and_read_only(ctr: SealpodRunner) -> None:
    """e2e run_passwd_test.go: podman run --passwd-entry flag"""
    assert "1234:1234" not in _out(ctr, "run", "--rm", "--passwd=false", "--user", "1234:1234", IMAGE, "cat",
                                   "/etc/passwd")
    out = _out(ctr, "run", "--rm", "--user", "12345:12346", "-w", "/etc",
               "--passwd-entry=$UID-$GID-$NAME-$HOME-$USERNAME", IMAGE, "tail", "-1", "/etc/passwd")
    assert out == "12345-12346-container user-/etc-12345"
    mounts = _out(ctr, "run", "--rm", "--read-only", "-u", "20001:20001", IMAGE, "mount")
    assert " /etc/passwd " in mounts and " /etc/group " in mounts
    assert "passwd" not in _out(ctr, "run", "--rm", "--read-only", "-u", "nobody", IMAGE, "mount")


def test_passwd_file_made_for_image_without_one(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_passwd_test.go: podman can run container without /etc/passwd"""
    ctx = build_context(tmp_path, "nopw", f"FROM {IMAGE}\nRUN rm -f /etc/passwd /etc/group\nUSER 1000\n")
    ctr.run("build", "-q", "-t", "e2e-nopasswd", str(ctx))
    assert "passwd" not in _out(ctr, "run", "--rm", "--passwd=false", "e2e-nopasswd", "ls", "/etc/")
    assert _out(ctr, "run", "--rm", "--user", "0:0", "e2e-nopasswd", "cat", "/etc/passwd") == \
        "0:*:0:0:container user:/:/bin/sh"
    ctr.run("rmi", "e2e-nopasswd")


# --- hooks, mounts.conf ------------------------------------------------------------------

def test_hooks_dir_runs_prestart_hook(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman test hooks"""
    target = tmp_path / "target"
    script = tmp_path / "checkhooks.sh"
    script.write_text(f"#!/bin/sh\necho -n e2e-hook-ran >{target}\n")
    script.chmod(0o755)
    (tmp_path / "checkhooks.json").write_text(json.dumps({"cmd": [".*"], "hook": str(script),
                                                          "stage": ["prestart"]}))
    ctr.run("--hooks-dir", str(tmp_path), "run", "--rm", IMAGE, "true")
    assert target.read_text() == "e2e-hook-ran"


def test_hook_conditions(tmp_path: Path) -> None:
    """e2e run_test.go: podman test hooks (the selection of oci-hooks(5))"""
    (tmp_path / "a.json").write_text(json.dumps({
        "version": "1.0.0", "hook": {"path": "/bin/a", "args": ["a", "x"]},
        "when": {"annotations": {"^com\\.example\\.gpu$": "^yes$"}}, "stages": ["createRuntime", "poststop"]}))
    (tmp_path / "b.json").write_text(json.dumps({
        "version": "1.0.0", "hook": {"path": "/bin/b"}, "when": {"hasBindMounts": True}, "stages": ["prestart"]}))
    (tmp_path / "c.json").write_text(json.dumps({"cmds": ["^/usr/bin/sh$"], "hook": "/bin/c", "stages": ["prestart"]}))
    dirs = [str(tmp_path)]
    assert hooks_for(dirs, ["top"], {}, False) == {}
    a = ({"path": "/bin/a", "args": ["a", "x"]},)
    assert hooks_for(dirs, ["top"], {"com.example.gpu": "yes"}, False) == {"createRuntime": a, "poststop": a}
    assert hooks_for(dirs, ["/usr/bin/sh"], {}, True) == {
        "prestart": ({"path": "/bin/b"}, {"path": "/bin/c", "args": ["/bin/c"]})}


def test_mounts_conf_follows_symlinks(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_test.go: podman run with subscription secrets"""
    secrets = tmp_path / "rhel" / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "test.txt").write_text("Testing secrets mount. I am mounted!")
    target = tmp_path / "symlink" / "target"
    target.mkdir(parents=True)
    (target / "key.pem").write_text("key")
    os.symlink(target, secrets / "mysymlink")
    conf = tmp_path / "mounts.conf"
    conf.write_text(f"{secrets}:/run/secrets")
    assert _out(ctr, f"--default-mounts-file={conf}", "run", "--rm", IMAGE, "cat", "/run/secrets/test.txt") == \
        "Testing secrets mount. I am mounted!"
    assert "key.pem" in _out(ctr, f"--default-mounts-file={conf}", "run", "--rm", IMAGE, "ls", "/run/secrets/mysymlink")


# --- run_memory_test.go, run_cpu_test.go, run_env_test.go, run_device_test.go ----------------

def test_memory_and_cpu_flags(ctr: SealpodRunner) -> None:
    """e2e run_memory_test.go: podman run memory-reservation test"""
    cg = "/sys/fs/cgroup"
    if not os.path.isdir(f"{cg}/memory"):
        pytest.skip("cgroups v1 memory controller needed")
    assert _out(ctr, "run", "--rm", "--memory-reservation=40m", IMAGE, "cat",
                f"{cg}/memory/memory.soft_limit_in_bytes") == "41943040"
    assert _out(ctr, "run", "--rm", "--memory-swappiness=10", IMAGE, "cat", f"{cg}/memory/memory.swappiness") == "10"
    assert _out(ctr, "run", "--rm", "--oom-kill-disable=true", IMAGE, "head", "-1",
                f"{cg}/memory/memory.oom_control") == "oom_kill_disable 1"
    assert _out(ctr, "run", "--rm", "--cpuset-mems=0", IMAGE, "cat", f"{cg}/cpuset/cpuset.mems") == "0"
    ctr.run("create", "--name", "e2e-limits", "--memory-reservation=40m", "--memory-swappiness=10",
            "--oom-kill-disable", "--cpuset-mems=0", "--cpu-rt-period=5000", "--gpus", "all", IMAGE, "true")
    fmt = ("{{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}} "
           "{{.HostConfig.CpusetMems}} {{.HostConfig.CpuRealtimePeriod}}")
    assert _out(ctr, "inspect", "--format", fmt, "e2e-limits") == "41943040 10 true 0 5000"
    ctr.run("rm", "e2e-limits")


def test_env_merge(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_env_test.go: podman run with --env-merge"""
    ctx = build_context(tmp_path, "envmerge", f"FROM {IMAGE}\nENV hello=world\n")
    ctr.run("build", "-q", "-t", "e2e-envmerge", str(ctx))
    assert "hello=world-earth" in _out(ctr, "run", "--rm", "--env-merge", "hello=${hello}-earth", "e2e-envmerge",
                                       "env").splitlines()
    ctr.run("rmi", "e2e-envmerge")


def test_init_shows_in_path(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run a container with --init"""
    ctr.run("run", "--name", "e2e-init", "--init", IMAGE, "ls")
    fmt = "{{.Path}} {{json .Args}} {{index .Config.Annotations \"io.podman.annotations.init\"}}"
    assert _out(ctr, "inspect", "--format", fmt, "e2e-init") == '/run/podman-init ["--","ls"] TRUE'
    ctr.run("rm", "e2e-init")
    ctr.run("run", "--name", "e2e-noinit", IMAGE, "ls")
    assert _out(ctr, "inspect", "--format", "{{.Path}}", "e2e-noinit") == "ls"
    ctr.run("rm", "e2e-noinit")


# --- run_device_test.go --------------------------------------------------------------------

def test_cdi_device(ctr: SealpodRunner) -> None:
    """e2e run_device_test.go: podman run CDI device test"""
    spec = {"cdiVersion": "0.2.0", "kind": "sealtest.e2e/device", "containerEdits": {"env": ["CDI_SPEC=1"]},
            "devices": [{"name": "myKmsg", "containerEdits": {"env": ["CDI_DEV=kmsg"], "mounts": [
                {"hostPath": "/dev/kmsg", "containerPath": "/dev/kmsg1", "options": ["rw", "rprivate", "rbind"]}]}}]}
    os.makedirs("/etc/cdi", exist_ok=True)
    path = Path("/etc/cdi/sealtest-e2e-run.json")
    path.write_text(json.dumps(spec))
    try:
        out = _out(ctr, "run", "--rm", "--device", "sealtest.e2e/device=myKmsg", IMAGE, "sh", "-c",
                   "test -c /dev/kmsg1 && echo $CDI_SPEC $CDI_DEV")
        assert out == "1 kmsg"
        err = _fails(ctr, "run", "--rm", "--device", "sealtest.e2e/device=nope", IMAGE, "true")
        assert "unresolvable CDI devices sealtest.e2e/device=nope" in err
    finally:
        path.unlink()
    ctr.run("run", "--rm", "--gpus", "all", IMAGE, "true")  # Docker's flag: accepted, no effect


def test_bad_device_creates_nothing(ctr: SealpodRunner) -> None:
    """e2e run_device_test.go: podman run bad device test"""
    before = _out(ctr, "ps", "-aq")
    assert "stat /dev/baddevice: no such file or directory" in \
        _fails(ctr, "run", "-q", "--device", "/dev/baddevice", IMAGE, "true")
    assert _out(ctr, "ps", "-aq") == before


def test_cap_drop_wins_over_cap_add_all(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run capabilities test"""
    def cap_eff(*flags: str) -> int:
        return int(_out(ctr, "run", "--rm", *flags, IMAGE, "grep", "CapEff", "/proc/self/status").split()[1], 16)

    assert cap_eff("--cap-add", "all", "--cap-drop", "chown") == cap_eff("--cap-add", "all") & ~1  # CHOWN: bit 0


def test_read_only_tmpfs_flag(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run readonly container should NOT mount /run noexec"""
    assert _out(ctr, "run", "--rm", "--read-only", IMAGE, "sh", "-c", "touch /tmp/x && echo ok") == "ok"
    out = ctr.run("run", "--rm", "--read-only", "--read-only-tmpfs=false", IMAGE, "touch", "/tmp/x", check=False)
    assert out.returncode == 1 and "Read-only file system" in out.stderr


def test_log_level_any_case(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run a container with log-level (upper case)"""
    ctr.run("--log-level=INFO", "run", "--rm", IMAGE, "true")
    assert 'Log Level "Bogus" is not supported' in _fails(ctr, "--log-level=Bogus", "ps", code=1)


def test_default_capabilities_built_in_and_from_the_distribution_file(ctr: SealpodRunner) -> None:
    """e2e run_test.go: podman run user capabilities test (CONTAINERS_CONF=/dev/null: Podman's built-in 14)."""
    status = ("grep", "CapBnd", "/proc/self/status")
    assert _out(ctr, "run", "--rm", IMAGE, *status).endswith("00000000800405fb")  # the rig's Debian file: 11
    saved = ctr.env["CONTAINERS_CONF"]
    ctr.env["CONTAINERS_CONF"] = "/dev/null"
    try:
        assert _out(ctr, "run", "--rm", IMAGE, *status).endswith("00000000a80425fb")
    finally:
        ctr.env["CONTAINERS_CONF"] = saved
