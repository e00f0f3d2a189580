"""conmon + runc for real: create/start, exit files, logs, exit command, kill, tty, exec, attach, errors.

Bundles are built here from /bin/busybox and ``runc spec``; nothing depends on sealpod's spec
generator.  Every container is force-deleted and its conmon killed in teardown, even on failure.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealpod.errors import ConmonError, ExecutableNotFound, OCIRuntimeError
from sealpod.runtime import attach as att
from sealpod.runtime.conmon import ConmonRuntime, CreateRequest, RuntimePaths
from sealpod.runtime.logs import read_entries
from sealpod.utils.proc import run
from tests.rig.sealpod import require_root, skip_or_fail

pytestmark = pytest.mark.integration

RUNC = shutil.which("runc") or "/usr/sbin/runc"
CONMON = shutil.which("conmon") or "/usr/bin/conmon"
APPLETS = ("sh", "echo", "sleep", "cat", "tty", "true", "ls", "printf", "touch")
ENV = ["PATH=/bin", "TERM=xterm"]


@pytest.fixture(scope="module")
def base_spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_root()
    for tool in (RUNC, CONMON, "/bin/busybox"):
        if not os.path.exists(tool):
            skip_or_fail(f"{tool} is not installed")
    d = tmp_path_factory.mktemp("spec")
    run([RUNC, "spec"], cwd=d)
    spec: dict[str, Any] = json.loads((d / "config.json").read_text())
    return spec


def make_rootfs(where: Path) -> Path:
    rootfs = where / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    return rootfs


class Rig:
    """A ConmonRuntime under tmp_path plus a bundle factory that remembers what to clean up."""

    def __init__(self, base: Path, spec: dict[str, Any], runtime: str = RUNC,
                 sync_timeout: float = 30) -> None:
        self.base = base
        self.spec = spec
        run_root = base / "run"
        self.paths = RuntimePaths(runtime=runtime, runtime_root=run_root / "runc", conmon=CONMON,
                                  exit_dir=run_root / "exits", socket_dir=run_root / "socket",
                                  persist_dir_base=run_root / "persist")
        self.rt = ConmonRuntime(self.paths, sync_timeout=sync_timeout)
        self.created: list[CreateRequest] = []
        self.rootfs = make_rootfs(base)

    def request(self, args: list[str], *, terminal: bool = False, stdin: bool = False,
                exit_command: tuple[str, ...] = ()) -> CreateRequest:
        cid = uuid.uuid4().hex
        bundle = self.base / "ctr" / cid
        bundle.mkdir(parents=True)
        spec = json.loads(json.dumps(self.spec))
        spec["root"] = {"path": str(self.rootfs), "readonly": False}
        spec["process"].update(args=args, terminal=terminal, env=ENV)
        spec["linux"]["cgroupsPath"] = f"/sealpod-test-{cid[:16]}"
        (bundle / "config.json").write_text(json.dumps(spec))
        req = CreateRequest(id=cid, name=f"t-{cid[:8]}", bundle=bundle, log_path=bundle / "ctr.log",
                            pidfile=bundle / "pidfile", conmon_pidfile=bundle / "conmon.pid",
                            terminal=terminal, stdin=stdin, exit_command=exit_command)
        self.created.append(req)
        return req

    def exit_code(self, cid: str, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.rt.exit_code(cid)) is None:
            assert time.monotonic() < deadline, "container did not exit in time"
            time.sleep(0.05)
        return code

    def cleanup(self) -> None:
        for req in self.created:
            run([self.paths.runtime, "--root", str(self.paths.runtime_root), "delete", "-f", req.id],
                check=False)
            pid = _read_pid(req.conmon_pidfile)
            if pid:
                _kill(pid)
        for pidfile in self.base.glob("**/exec/*/conmon.pid"):
            if pid := _read_pid(pidfile):
                _kill(pid)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _kill(pid: int) -> None:
    try:
        if "conmon" in Path(f"/proc/{pid}/comm").read_text():
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


def _alive_conmon(pid: int) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return "conmon" in comm and state != "Z"


def _ppid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.fixture
def rig(tmp_path: Path, base_spec: dict[str, Any]) -> Iterator[Rig]:
    r = Rig(tmp_path, base_spec)
    try:
        yield r
    finally:
        r.cleanup()


def test_create_start_exit_code_logs_and_exit_command(rig: Rig, tmp_path: Path) -> None:
    marker = tmp_path / "exit-command.out"
    req = rig.request(["sh", "-c", "echo hello; echo oops >&2; sleep 0.5; exit 3"],
                      exit_command=("/bin/sh", "-c", f'echo "$@" > {marker}', "sh", "container", "cleanup"))
    pid = rig.rt.create(req)
    assert pid == int(req.pidfile.read_text())
    state = rig.rt.state(req.id)
    assert state is not None and state["status"] == "created" and state["pid"] == pid
    conmon_pid = _read_pid(req.conmon_pidfile)
    assert conmon_pid and os.path.exists(f"/proc/{conmon_pid}")
    assert _ppid(conmon_pid) != os.getpid()      # double-forked: not our child
    assert rig.rt.exit_code(req.id) is None
    rig.rt.start(req.id)
    assert rig.exit_code(req.id) == 3
    entries = read_entries(req.log_path)
    assert [(e.stream, e.text) for e in entries] == [("stdout", b"hello\n"), ("stderr", b"oops\n")]
    deadline = time.monotonic() + 10
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline, "exit command did not run"
        time.sleep(0.05)
    assert marker.read_text().split() == ["container", "cleanup"]
    rig.rt.delete(req.id)
    assert rig.rt.state(req.id) is None
    rig.rt.delete(req.id)                          # unknown to runc: still fine


def test_kill_with_sigterm(rig: Rig) -> None:
    req = rig.request(["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"])
    rig.rt.create(req)
    rig.rt.start(req.id)
    time.sleep(0.3)
    state = rig.rt.state(req.id)
    assert state is not None and state["status"] == "running"
    rig.rt.kill(req.id, signal.SIGTERM)
    assert rig.exit_code(req.id) == 7


def test_sigkill_exit_code_is_137(rig: Rig) -> None:
    req = rig.request(["sleep", "100"])
    rig.rt.create(req)
    rig.rt.start(req.id)
    rig.rt.kill(req.id, signal.SIGKILL, all_procs=True)
    assert rig.exit_code(req.id) == 137
    with pytest.raises(OCIRuntimeError):
        rig.rt.kill(req.id, signal.SIGTERM)       # not running any more


def test_pause_resume(rig: Rig) -> None:
    req = rig.request(["sleep", "100"])
    rig.rt.create(req)
    rig.rt.start(req.id)
    rig.rt.pause(req.id)
    assert (rig.rt.state(req.id) or {})["status"] == "paused"
    rig.rt.resume(req.id)
    assert (rig.rt.state(req.id) or {})["status"] == "running"


def test_tty_container(rig: Rig) -> None:
    req = rig.request(["sh", "-c", "tty; echo hi-from-tty"], terminal=True)
    rig.rt.create(req)
    sock = att.connect(rig.rt.attach_socket_path(req.id))
    rig.rt.start(req.id)
    out = io.BytesIO()
    detached = att.stream(sock, stdin=None, stdout=out, stderr=out, tty=True)
    assert not detached
    assert b"/dev/pts/" in out.getvalue() and b"hi-from-tty\r\n" in out.getvalue()
    assert rig.exit_code(req.id) == 0
    assert b"hi-from-tty" in b"".join(e.text for e in read_entries(req.log_path))


def test_attach_reads_output_of_running_container(rig: Rig) -> None:
    req = rig.request(["sh", "-c", "for i in 1 2 3; do echo line$i; echo err$i >&2; sleep 0.2; done"])
    rig.rt.create(req)
    sock = att.connect(rig.rt.attach_socket_path(req.id))
    rig.rt.start(req.id)
    out, err = io.BytesIO(), io.BytesIO()
    assert att.stream(sock, stdin=None, stdout=out, stderr=err, tty=False) is False
    assert out.getvalue() == b"line1\nline2\nline3\n"
    assert err.getvalue() == b"err1\nerr2\nerr3\n"


def test_attach_stdin_and_eof(rig: Rig) -> None:
    req = rig.request(["cat"], stdin=True)
    rig.rt.create(req)
    rig.rt.start(req.id)
    r, w = os.pipe()
    os.write(w, b"ping\npong\n")
    os.close(w)
    out = io.BytesIO()
    with open(r, "rb", buffering=0) as stdin:
        detached = att.attach(rig.rt.attach_socket_path(req.id), stdin=stdin, stdout=out, stderr=out,
                              tty=False)
    assert not detached
    assert out.getvalue() == b"ping\npong\n"
    assert rig.exit_code(req.id) == 0


def test_detach_keys_leave_container_running(rig: Rig) -> None:
    req = rig.request(["cat"], stdin=True, terminal=True)
    rig.rt.create(req)
    rig.rt.start(req.id)
    r, w = os.pipe()
    os.write(w, b"abc\n" + att.parse_detach_keys("ctrl-p,ctrl-q") + b"never sent\n")
    out = io.BytesIO()
    with open(r, "rb", buffering=0) as stdin:
        detached = att.attach(rig.rt.attach_socket_path(req.id), stdin=stdin, stdout=out, stderr=out,
                              tty=True)
    os.close(w)
    assert detached
    assert (rig.rt.state(req.id) or {})["status"] == "running"
    assert rig.rt.exit_code(req.id) is None


def _process(args: list[str]) -> dict[str, Any]:
    return {"args": args, "env": ENV, "cwd": "/", "user": {"uid": 0, "gid": 0}, "terminal": False}


def test_exec_attached_and_detached(rig: Rig) -> None:
    req = rig.request(["sleep", "100"])
    rig.rt.create(req)
    rig.rt.start(req.id)
    sess = rig.rt.exec(req.id, _process(["sh", "-c", "echo out; echo err >&2; exit 5"]), terminal=False,
                       stdin=False, detach=False, exec_id="e1" + uuid.uuid4().hex[:10])
    assert sess.attach_socket is not None
    sock = att.connect(sess.attach_socket)
    assert sess.start() > 0
    out, err = io.BytesIO(), io.BytesIO()
    att.stream(sock, stdin=None, stdout=out, stderr=err, tty=False)
    assert sess.wait(timeout=10) == 5
    assert (out.getvalue(), err.getvalue()) == (b"out\n", b"err\n")

    marker = "/tmp-detached"
    dsess = rig.rt.exec(req.id, _process(["sh", "-c", f"touch {marker}; exit 4"]), terminal=False,
                        stdin=False, detach=True, exec_id="e2" + uuid.uuid4().hex[:10])
    assert dsess.pid and dsess.pid > 0
    assert dsess.wait(timeout=10) == 4
    assert (rig.rootfs / marker.lstrip("/")).exists()
    assert (rig.rt.state(req.id) or {})["status"] == "running"   # exec did not disturb the container


def test_exec_of_missing_command_is_127_style(rig: Rig) -> None:
    req = rig.request(["sleep", "100"])
    rig.rt.create(req)
    rig.rt.start(req.id)
    with pytest.raises(ExecutableNotFound) as ei:
        sess = rig.rt.exec(req.id, _process(["nosuch"]), terminal=False, stdin=False, detach=True,
                           exec_id="e3" + uuid.uuid4().hex[:10])
        sess.wait(timeout=10)
    assert ei.value.exit_code == 127


def test_missing_executable_gives_podman_error(rig: Rig) -> None:
    req = rig.request(["nosuch"])
    with pytest.raises(ExecutableNotFound) as ei:
        rig.rt.create(req)
    assert ei.value.exit_code == 127
    assert str(ei.value) == (
        'runc: runc create failed: unable to start container process: exec: "nosuch": executable file '
        "not found in $PATH: OCI runtime attempted to invoke a command that was not found")


def _fake_runtime(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-runtime"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("body", ["sleep 4", "exit 1"])
def test_sync_pipe_failure_does_not_hang(tmp_path: Path, base_spec: dict[str, Any], body: str) -> None:
    r = Rig(tmp_path, base_spec, runtime=_fake_runtime(tmp_path, body), sync_timeout=1.5)
    try:
        req = r.request(["true"])
        t0 = time.monotonic()
        with pytest.raises((ConmonError, OCIRuntimeError)):
            r.rt.create(req)
        assert time.monotonic() - t0 < 6
        pid = _read_pid(req.conmon_pidfile)
        if pid:
            time.sleep(0.2)
            assert not _alive_conmon(pid)
    finally:
        r.cleanup()


def test_attach_through_a_path_longer_than_sun_path(tmp_path: Path, base_spec: dict[str, Any]) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    r = Rig(deep, base_spec)
    try:
        req = r.request(["sh", "-c", "sleep 0.3; echo far-away"])
        r.rt.create(req)
        sock_path = r.rt.attach_socket_path(req.id)
        assert len(str(sock_path)) > 108
        sock = att.connect(sock_path)
        r.rt.start(req.id)
        out = io.BytesIO()
        att.stream(sock, stdin=None, stdout=out, stderr=out, tty=False)
        assert out.getvalue() == b"far-away\n"
    finally:
        r.cleanup()

