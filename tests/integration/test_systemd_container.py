"""systemd and sealpod, both ways: systemd mode for an init in the container, NOTIFY_SOCKET
(``--sdnotify``) and socket activation (LISTEN_FDS) passed through, as Podman 4 does them.

The notify tests listen on a unix datagram socket of their own and give its path to sealpod as
NOTIFY_SOCKET, exactly as systemd does for a ``Type=notify`` unit.  The one slow test boots a
real Debian systemd as PID 1 (a debootstrap root, built once and cached under /var/tmp).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.notify import as_fd3, messages, notify_listener
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, describe, skip_or_fail, store_with_image
from tests.rig.wait import wait_for

pytestmark = pytest.mark.integration

IMAGE = "sealtest/tiny"
DEBIAN_CACHE = Path("/var/tmp/sealpod-test-debian-systemd")
DEBIAN_MIRROR = "http://deb.debian.org/debian"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("sd"), seeded_registry.host) as runner:
        yield runner


def run_with(ctr: SealpodRunner, env: dict[str, str], *args: str, pass_fds: tuple[int, ...] = (),
             shell_prefix: str = "") -> subprocess.CompletedProcess[str]:
    """sealpod with extra environment; ``shell_prefix`` runs before exec in the same process."""
    argv = ctr.argv(*args)
    if shell_prefix:
        argv = ["/bin/sh", "-c", f'{shell_prefix} exec "$@"', "sh", *argv]
    res = subprocess.run(argv, env={**ctr.env, **env}, cwd=ctr.base, pass_fds=pass_fds, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, describe(res)
    return res


def inspect(ctr: SealpodRunner, name: str) -> dict[str, object]:
    doc = json.loads(ctr.run("inspect", name).stdout)[0]
    assert isinstance(doc, dict)
    return doc


# --- --systemd ---------------------------------------------------------------------------------

def test_systemd_always_mounts_what_an_init_needs(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", "--systemd=always", IMAGE, "sh", "-c",
                  "cat /proc/self/mounts; env; echo x > /sys/fs/cgroup/systemd/probe; "
                  "mkdir /sys/fs/cgroup/systemd$(sed -n 's/^[0-9]*:name=systemd://p' /proc/self/cgroup)/sub "
                  "&& echo MKDIR-OK").stdout
    mounts = {line.split()[1]: line.split() for line in out.splitlines() if line.count(" ") >= 5}
    for d in ("/run", "/run/lock", "/tmp", "/var/log/journal"):
        assert mounts[d][2] == "tmpfs", d
        assert "nosuid" in mounts[d][3] and "nodev" in mounts[d][3]
    assert "rw" in mounts["/sys/fs/cgroup/systemd"][3].split(",")  # the named hierarchy, writable (cgroup v1)
    assert "MKDIR-OK" in out  # systemd may create its units under its own cgroup
    assert any(line.startswith("container_uuid=") and len(line) == len("container_uuid=") + 32
               for line in out.splitlines())
    assert "container=podman" in out.splitlines()


@pytest.mark.parametrize(("flags", "command", "systemd"), [
    ((), ("/sbin/init",), True),
    ((), ("/usr/lib/systemd/systemd",), True),
    (("--systemd=false",), ("/sbin/init",), False),
    (("--systemd=always",), ("sleep", "1"), True),
    ((), ("sleep", "1"), False),
])
def test_systemd_mode_is_decided_at_create_and_inspected(ctr: SealpodRunner, flags: tuple[str, ...],
                                                         command: tuple[str, ...], systemd: bool) -> None:
    cid = ctr.run("create", *flags, IMAGE, *command).stdout.strip()
    try:
        config = inspect(ctr, cid)["Config"]
        assert isinstance(config, dict)
        assert config.get("SystemdMode", False) is systemd
        assert config["StopSignal"] == (37 if systemd else 15)  # SIGRTMIN+3, SIGTERM: numbers, as Podman prints
        assert config["sdNotifyMode"] == "container"  # Podman 4.3.1's default
    finally:
        ctr.run("rm", "-f", cid)


def test_systemd_mode_keeps_the_users_stop_signal_and_mounts(ctr: SealpodRunner) -> None:
    out = ctr.run("run", "--rm", "--systemd=always", "--stop-signal=SIGUSR1", "--tmpfs", "/tmp:size=1m", IMAGE,
                  "sh", "-c", "grep ' /tmp ' /proc/self/mounts").stdout
    assert "size=1024k" in out
    cid = ctr.run("create", "--systemd=always", "--stop-signal=SIGUSR1", IMAGE, "true").stdout.strip()
    try:
        assert inspect(ctr, cid)["Config"]["StopSignal"] == 10  # type: ignore[index]  # SIGUSR1
    finally:
        ctr.run("rm", "-f", cid)


def test_bad_systemd_value_is_refused(ctr: SealpodRunner) -> None:
    res = ctr.run("create", "--systemd=maybe", IMAGE, "true", check=False)
    assert res.returncode == 125
    assert '--systemd values must be one of "true, false, always"' in res.stderr
    assert "Traceback" not in res.stderr


# --- NOTIFY_SOCKET -----------------------------------------------------------------------------

def test_sdnotify_conmon_says_ready_with_conmon_as_main_pid(ctr: SealpodRunner) -> None:
    with notify_listener(ctr.base) as (path, sock):
        cid = run_with(ctr, {"NOTIFY_SOCKET": path}, "run", "-d", "--sdnotify=conmon", IMAGE, "sh", "-c",
                       "env; ls /run/notify 2>&1; sleep 60").stdout.strip()
        try:
            got = messages(sock, "READY=1")
            conmon_pid = inspect(ctr, cid)["State"]["ConmonPid"]  # type: ignore[index]
            assert got == [f"MAINPID={conmon_pid}\nREADY=1"]
            logs = ctr.run("logs", cid).stdout
            assert "NOTIFY_SOCKET" not in logs  # never passed to the container
            assert "No such file or directory" in logs
        finally:
            ctr.run("rm", "-f", "-t", "0", cid)


def test_sdnotify_container_relays_the_containers_own_messages(ctr: SealpodRunner) -> None:
    with notify_listener(ctr.base) as (path, sock):
        cid = run_with(ctr, {"NOTIFY_SOCKET": path}, "run", "-d", "--sdnotify=container", IMAGE, "sh", "-c",
                       "env; ls -l /run/notify/; sleep 60").stdout.strip()
        try:
            conmon_pid = inspect(ctr, cid)["State"]["ConmonPid"]  # type: ignore[index]
            assert messages(sock, "MAINPID") == [f"MAINPID={conmon_pid}"]  # no READY: the container says it
            logs = ctr.run("logs", cid).stdout
            assert "NOTIFY_SOCKET=/run/notify/notify.sock" in logs.splitlines()
            assert "notify.sock" in logs
            # what a process in the container sends there, conmon hands to "systemd"
            relay = os.path.join(str(inspect(ctr, cid)["StaticDir"]), "notify", "notify.sock")
            with tempfile.TemporaryDirectory() as short:  # a sun_path holds 107 bytes: reach it by a link
                os.symlink(relay, os.path.join(short, "s"))
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
                    client.sendto(b"READY=1", os.path.join(short, "s"))
            assert "READY=1" in messages(sock, "READY=1")
            assert inspect(ctr, cid)["Config"]["sdNotifyMode"] == "container"  # type: ignore[index]
        finally:
            ctr.run("rm", "-f", "-t", "0", cid)


def test_sdnotify_ignore_sends_nothing(ctr: SealpodRunner) -> None:
    with notify_listener(ctr.base) as (path, sock):
        cid = run_with(ctr, {"NOTIFY_SOCKET": path}, "run", "-d", "--sdnotify=ignore", IMAGE,
                       "sh", "-c", "env; sleep 60").stdout.strip()
        try:
            assert messages(sock, timeout=1.5) == []
            assert "NOTIFY_SOCKET" not in ctr.run("logs", cid).stdout
        finally:
            ctr.run("rm", "-f", "-t", "0", cid)


def test_foreground_run_under_notify_socket_does_not_hang(ctr: SealpodRunner) -> None:
    """``runc start`` waits for READY=1 when it sees NOTIFY_SOCKET: sealpod must never pass it on."""
    with notify_listener(ctr.base) as (path, sock):
        res = run_with(ctr, {"NOTIFY_SOCKET": path}, "run", "--rm", "--sdnotify=conmon", IMAGE, "echo", "done")
        assert res.stdout.strip() == "done"
        assert [m for m in messages(sock, "READY=1", timeout=2) if "READY=1" in m]


# --- socket activation -------------------------------------------------------------------------

def test_socket_activation_passes_the_listening_socket(ctr: SealpodRunner) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    inode = os.fstat(listener.fileno()).st_ino
    with as_fd3(listener):
        cid = run_with(ctr, {"LISTEN_FDS": "1", "LISTEN_FDNAMES": "web"}, "run", "-d", IMAGE, "sh", "-c",
                       "env; ls -l /proc/self/fd/; sleep 60", pass_fds=(3,),
                       shell_prefix="LISTEN_PID=$$; export LISTEN_PID;").stdout.strip()
    listener.close()  # from now on only the container holds the socket
    try:
        wait_for(lambda: "socket:" in ctr.run("logs", cid).stdout)
        logs = ctr.run("logs", cid).stdout.splitlines()
        for var in ("LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=web"):
            assert var in logs
        assert any(line.rstrip().endswith(f"3 -> socket:[{inode}]") for line in logs)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # still listening, in the container
        ctr.run("rm", "-f", "-t", "0", cid)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        ctr.run("rm", "-f", "-t", "0", cid)


def test_listen_fds_for_another_process_are_not_passed(ctr: SealpodRunner) -> None:
    """The variables pass as in Podman (250-systemd.bats); our own fds 3.. never do."""
    out = run_with(ctr, {"LISTEN_FDS": "1", "LISTEN_PID": "1"}, "run", "--rm", IMAGE, "sh", "-c",
                   "env; ls /proc/self/fd/").stdout.split()
    assert sorted(w for w in out if w.startswith("LISTEN_")) == ["LISTEN_FDS=1", "LISTEN_PID=1"]
    assert "3" in out and "4" not in out  # 0-2 and the listing's own directory fd only


# --- a real systemd as PID 1 -------------------------------------------------------------------

def debian_systemd_root() -> Path:
    """A Debian bookworm minbase with systemd, built once per machine; an interrupted build is
    never reused (it is built under another name and renamed when complete)."""
    if (DEBIAN_CACHE / "sbin" / "init").exists():
        return DEBIAN_CACHE
    tool = shutil.which("debootstrap")
    if tool is None:
        skip_or_fail("debootstrap is not installed (scripts/setup.sh installs it)")
    building = Path(tempfile.mkdtemp(prefix=DEBIAN_CACHE.name + ".build-", dir=DEBIAN_CACHE.parent))
    try:
        res = subprocess.run([tool, "--variant=minbase", "--include=systemd,systemd-sysv", "bookworm",
                              os.fspath(building), DEBIAN_MIRROR], capture_output=True, text=True, timeout=1500)
        if res.returncode != 0:
            skip_or_fail(f"debootstrap failed (no Debian mirror?): {res.stderr.strip()[-300:]}")
        with contextlib.suppress(OSError):  # another worker may have finished first
            building.rename(DEBIAN_CACHE)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return DEBIAN_CACHE


@pytest.fixture(scope="module")
def debian_image(ctr: SealpodRunner) -> str:
    root = debian_systemd_root()
    image = "localhost/sealtest-debian-systemd:latest"
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:  # /tmp is RAM: the tar is ~250 MB
        tarball = os.path.join(scratch, "rootfs.tar")
        subprocess.run(["tar", "-C", os.fspath(root), "-cf", tarball, "."], check=True, timeout=300)
        ctr.run("import", tarball, image, timeout=300)
    return image


def _system_state(ctr: SealpodRunner, cid: str) -> str:
    return ctr.run("exec", cid, "systemctl", "is-system-running", check=False).stdout.strip()


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_systemd_boots_as_pid1_and_shuts_down_on_stop(ctr: SealpodRunner, debian_image: str) -> None:
    with notify_listener(ctr.base) as (path, sock):
        cid = run_with(ctr, {"NOTIFY_SOCKET": path}, "run", "-d", "--sdnotify=container", debian_image,
                       "/sbin/init").stdout.strip()
        try:
            # systemd itself tells its manager (us, through conmon) that the boot is done
            assert any("READY=1" in m for m in messages(sock, "READY=1", timeout=60))
            deadline = time.monotonic() + 60
            while _system_state(ctr, cid) not in ("running", "degraded"):
                assert time.monotonic() < deadline, f"systemd did not finish booting: {_system_state(ctr, cid)}"
                time.sleep(1)
            assert ctr.run("exec", cid, "cat", "/proc/1/comm").stdout.strip() == "systemd"
            assert ctr.run("exec", cid, "systemctl", "is-active", "systemd-journald").stdout.strip() == "active"
            assert inspect(ctr, cid)["Config"]["SystemdMode"] is True  # type: ignore[index]
            started = time.monotonic()
            ctr.run("stop", cid)  # SIGRTMIN+3: a clean halt, well within the 10 s stop timeout
            assert time.monotonic() - started < 9
            state = inspect(ctr, cid)["State"]
            assert isinstance(state, dict)
            assert state["Status"] == "exited" and state["ExitCode"] == 0
        finally:
            ctr.run("rm", "-f", "-t", "0", cid)
