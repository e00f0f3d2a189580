"""Running containers and exec sessions under conmon, the way Podman 4 does.

conmon double-forks and becomes the container's only monitor: it runs ``runc create`` (or
``runc exec``), holds the attach socket and the log, writes the exit code to the exit dir and runs
the exit command (``sealpod container cleanup ID``).  No sealpod process stays behind.  We talk to
it through three pipes whose fd numbers go in the environment (conmon API version 1):

* ``_OCI_SYNCPIPE``: conmon writes ``{"data": PID}`` once the container exists, or
  ``{"data": -1, "message": "..."}`` when the runtime failed; exec sessions get a second message
  with the exit code.
* ``_OCI_STARTPIPE``: conmon blocks on it before doing anything (the moment to move it into a
  cgroup); exec sessions that attach block on it a second time until the client is connected.
* ``_OCI_ATTACHPIPE`` (exec ``--exec-attach`` only): conmon says the attach socket is listening.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import ConmonError, OCIRuntimeError
from sealpod.runtime.oci import PendingDelete, RuncRuntime, runtime_error
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# conmon's log drivers; docker's json-file is written as k8s-file, as Podman does.
_LOG_DRIVERS = {"k8s-file": "k8s-file", "json-file": "k8s-file", "journald": "journald",
                "none": "none", "passthrough": "passthrough"}


@dataclass(frozen=True)
class RuntimePaths:
    """Where conmon and the runtime keep their state; the engine derives them from the run root."""

    runtime: str              # path of runc / crun
    runtime_root: Path        # runc --root
    conmon: str
    exit_dir: Path            # conmon writes <exit_dir>/<ctr id> holding the exit code
    socket_dir: Path          # attach sockets: <socket_dir>/<ctr id>/attach
    persist_dir_base: Path    # conmon --persist-dir is <persist_dir_base>/<ctr id>


@dataclass(frozen=True)
class CreateRequest:
    """One container to create; everything the engine has decided about it."""

    id: str
    name: str
    bundle: Path               # holds config.json (and receives ctl, winsz, oci-log, attach)
    log_path: Path
    pidfile: Path              # runc --pid-file: the container's init PID
    conmon_pidfile: Path
    log_driver: str = "k8s-file"
    log_size_max: int = -1
    log_tag: str = ""
    terminal: bool = False
    stdin: bool = False
    exit_command: tuple[str, ...] = ()   # argv of `sealpod ... container cleanup <id>`
    exit_delay: int = 0
    no_pivot: bool = False
    no_new_keyring: bool = False
    timeout: int = 0                     # conmon kills the container after this many seconds (run --timeout)
    preserve_fds: int = 0                # fds 3..3+N-1 of this process reach the container (run --preserve-fds)
    sdnotify_socket: str = ""            # the host's NOTIFY_SOCKET: conmon relays <bundle>/notify/notify.sock to it
    held_fds: tuple[int, ...] = ()       # published host ports, bound: conmon keeps them open (not the container)


@dataclass(frozen=True)
class ExecRequest:
    """One exec session: its own directory becomes conmon's bundle, persist and exit dirs."""

    ctr_id: str
    exec_id: str
    exec_dir: Path
    process: dict[str, Any]
    terminal: bool = False
    stdin: bool = False
    detach: bool = False
    name: str = ""
    preserve_fds: int = 0  # fds 3..3+N-1 of this process reach the exec'd process (exec --preserve-fds)


class SyncPipe:
    """The read end of a conmon pipe: newline-separated JSON messages, read with a deadline."""

    def __init__(self, fd: int, what: str) -> None:
        self.fd = fd
        self.what = what
        self._buf = b""

    def read_message(self, timeout: float | None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                raise ConmonError(f"timed out waiting for conmon on the {self.what} pipe")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                if self._buf.strip():
                    break
                raise ConmonError(f"conmon closed the {self.what} pipe without reporting")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            msg = json.loads(line)
        except ValueError as e:
            raise ConmonError(f"conmon sent garbage on the {self.what} pipe: {line[:200]!r}") from e
        if not isinstance(msg, dict) or not isinstance(msg.get("data"), int):
            raise ConmonError(f"conmon sent an unexpected message on the {self.what} pipe: {line[:200]!r}")
        return msg

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@dataclass
class _Pipes:
    """The three pipes, both ends, until conmon is spawned and we drop its ends."""

    sync_r: int
    sync_w: int
    start_r: int
    start_w: int
    attach_r: int = -1
    attach_w: int = -1

    @classmethod
    def open(cls, attach: bool) -> _Pipes:
        sync_r, sync_w = os.pipe()
        start_r, start_w = os.pipe()
        p = cls(sync_r, sync_w, start_r, start_w)
        if attach:
            p.attach_r, p.attach_w = os.pipe()
        return p

    def child_fds(self) -> tuple[int, ...]:
        return tuple(fd for fd in (self.sync_w, self.start_r, self.attach_w) if fd >= 0)

    def env(self) -> dict[str, str]:
        env = {"_OCI_SYNCPIPE": str(self.sync_w), "_OCI_STARTPIPE": str(self.start_r)}
        if self.attach_w >= 0:
            env["_OCI_ATTACHPIPE"] = str(self.attach_w)
        return env

    def close_child_ends(self) -> None:
        for fd in self.child_fds():
            os.close(fd)
        self.sync_w = self.start_r = self.attach_w = -1

    def close_all(self) -> None:
        for fd in (self.sync_r, self.sync_w, self.start_r, self.start_w, self.attach_r, self.attach_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.sync_r = self.sync_w = self.start_r = self.start_w = self.attach_r = self.attach_w = -1


def _signal_start(fd: int) -> None:
    """Let conmon proceed past a start-pipe barrier (it reads whatever we write)."""
    try:
        os.write(fd, b"0")
    except BrokenPipeError as e:
        raise ConmonError("conmon exited before it could be started") from e


@dataclass
class ExecSession:
    """A running exec session; attached ones wait for :meth:`start` after the client connects."""

    ctr_id: str
    exec_id: str
    exec_dir: Path
    exit_file: Path
    attach_socket: Path | None
    runtime_name: str
    pid: int | None = None
    sync: SyncPipe | None = None
    start_fd: int = -1
    exit_status: int | None = field(default=None)

    def start(self, timeout: float | None = 60.0) -> int:
        """Let conmon run the process (after the client attached); returns its PID."""
        if self.pid is not None:
            return self.pid
        if self.start_fd >= 0:
            try:
                _signal_start(self.start_fd)
            finally:
                os.close(self.start_fd)
                self.start_fd = -1
        assert self.sync is not None
        self.pid = _expect_pid(self.sync.read_message(timeout), self.runtime_name)
        return self.pid

    def wait(self, timeout: float | None = None) -> int:
        """The exit code: conmon's second sync message, else the exit file (detached sessions)."""
        if self.exit_status is not None:
            return self.exit_status
        if self.sync is not None and self.sync.fd >= 0:
            try:
                msg = self.sync.read_message(timeout)
                self.exit_status = int(msg["data"])
                return self.exit_status
            except ConmonError:
                pass
            finally:
                self.sync.close()
        code = _wait_exit_file(self.exit_file, timeout)
        if code is None:
            raise ConmonError(f"exec session {self.exec_id} did not report an exit code")
        self.exit_status = code
        return code

    def exit_code(self) -> int | None:
        """The exit code if the process has ended, without blocking."""
        return self.exit_status if self.exit_status is not None else read_exit_file(self.exit_file)

    def close(self) -> None:
        if self.sync is not None:
            self.sync.close()
        if self.start_fd >= 0:
            os.close(self.start_fd)
            self.start_fd = -1


def read_exit_file(path: Path) -> int | None:
    """conmon's exit file holds the exit code in decimal; None while it is absent or empty."""
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _wait_exit_file(path: Path, timeout: float | None) -> int | None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        code = read_exit_file(path)
        if code is not None or (deadline is not None and time.monotonic() >= deadline):
            return code
        time.sleep(0.05)


def _expect_pid(msg: dict[str, Any], runtime_name: str) -> int:
    pid = int(msg["data"])
    if pid > 0:
        return pid
    text = str(msg.get("message") or "")
    if not text:
        raise OCIRuntimeError(f"{runtime_name}: container create failed (no logs from conmon)")
    raise runtime_error(runtime_name, text)


def _wait_child(proc: Any, timeout: float) -> int:
    """``Popen.wait(timeout)`` polls with doubling sleeps, waking up to tens of ms after conmon's
    first process is gone; a pidfd becomes readable the moment it exits."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except OSError:  # a kernel before 5.3
        return int(proc.wait(timeout=timeout))
    try:
        if not select.select([pidfd], [], [], timeout)[0]:
            raise TimeoutError(f"conmon did not exit within {timeout}s")
    finally:
        os.close(pidfd)
    return int(proc.wait())


class ConmonRuntime:
    """Creates containers and exec sessions through conmon; other verbs go straight to runc."""

    def __init__(self, paths: RuntimePaths, *, log_level: str = "error", sync_timeout: float = 120.0,
                 env: dict[str, str] | None = None, runtime_flags: Sequence[str] = ()) -> None:
        self.paths = paths
        self.log_level = log_level
        self.sync_timeout = sync_timeout
        self.env = env
        # --runtime-flag NAME[=VALUE] reaches every runtime call as --NAME[=VALUE], as in Podman
        self.oci = RuncRuntime(paths.runtime, paths.runtime_root,
                               extra_args=[f"--{f.lstrip('-')}" for f in runtime_flags])

    # -- paths -------------------------------------------------------------------------------
    def attach_socket_path(self, ctr_id: str) -> Path:
        """conmon listens on <bundle>/attach (``--full-attach``); <socket_dir>/<id> links to the bundle."""
        return self.paths.socket_dir / ctr_id / "attach"

    def ctl_path(self, ctr_id: str) -> Path:
        """The FIFO that takes ``1 HEIGHT WIDTH`` resize and ``2 0 0`` log-reopen commands."""
        return self.paths.socket_dir / ctr_id / "ctl"

    def exit_file(self, ctr_id: str) -> Path:
        return self.paths.exit_dir / ctr_id

    def persist_dir(self, ctr_id: str) -> Path:
        return self.paths.persist_dir_base / ctr_id

    # -- argv --------------------------------------------------------------------------------
    def _runtime_args(self, oci_log: Path) -> list[str]:
        args = [*self.oci.global_args(), "--log-format=json", "--log", os.fspath(oci_log)]
        return [f"--runtime-arg={a}" for a in args]

    def _shared_argv(self, cid: str, cuuid: str, name: str, bundle: Path, pidfile: Path, log_arg: str,
                     exit_dir: Path, persist_dir: Path | None) -> list[str]:
        """What create and exec share.  A container needs no ``--persist-dir`` (its exit code comes
        from the exit dir): every argument stays in conmon's memory for the container's life."""
        return [
            self.paths.conmon,
            "--api-version", "1",
            "-c", cid,
            "-u", cuuid,
            "-r", self.paths.runtime,
            "-b", os.fspath(bundle),
            "-p", os.fspath(pidfile),
            "-n", name,
            "--exit-dir", os.fspath(exit_dir),
            *(("--persist-dir", os.fspath(persist_dir)) if persist_dir is not None else ()),
            "--full-attach",
            "-l", log_arg,
            "--log-level", self.log_level,
            *self._runtime_args(bundle / "oci-log"),
        ]  # fmt: skip

    def conmon_argv(self, req: CreateRequest) -> list[str]:
        """conmon's command line for creating ``req``; pure, for the tests."""
        driver = _LOG_DRIVERS.get(req.log_driver, "k8s-file")
        log_arg = f"{driver}:{req.log_path}" if driver == "k8s-file" else f"{driver}:"
        argv = self._shared_argv(req.id, req.id, req.name or req.id, req.bundle, req.pidfile, log_arg,
                                 self.paths.exit_dir, None)
        argv += ["--conmon-pidfile", os.fspath(req.conmon_pidfile)]
        if req.log_size_max > 0:
            argv += ["--log-size-max", str(req.log_size_max)]
        if req.log_tag:
            argv += ["--log-tag", req.log_tag]
        if req.terminal:
            argv.append("-t")
        if req.stdin:
            argv.append("-i")
        if req.no_pivot:
            argv.append("--no-pivot")
        if req.no_new_keyring:
            argv.append("--no-new-keyring")
        if req.timeout > 0:
            argv += ["--timeout", str(req.timeout)]
        if req.preserve_fds > 0:
            argv += ["--runtime-opt", "--preserve-fds", "--runtime-opt", str(req.preserve_fds)]
        if req.sdnotify_socket:
            argv.append(f"--sdnotify-socket={req.sdnotify_socket}")
        if req.exit_command:
            argv += ["--exit-command", req.exit_command[0]]
            for arg in req.exit_command[1:]:
                argv += ["--exit-command-arg", arg]
            if req.exit_delay > 0:
                argv += ["--exit-delay", str(req.exit_delay)]
        return argv

    def exec_argv(self, req: ExecRequest, spec_file: Path) -> list[str]:
        """conmon's command line for an exec session; pure, for the tests."""
        argv = self._shared_argv(req.ctr_id, req.exec_id, req.name or req.ctr_id, req.exec_dir,
                                 req.exec_dir / "exec_pid", f"k8s-file:{req.exec_dir / 'exec_log'}",
                                 req.exec_dir / "exits", req.exec_dir)
        argv += ["--conmon-pidfile", os.fspath(req.exec_dir / "conmon.pid")]
        argv += ["-e", "--exec-process-spec", os.fspath(spec_file)]
        if not req.detach:
            argv.append("--exec-attach")
        if req.preserve_fds > 0:  # conmon hands --runtime-opt to ``runc exec``
            argv += ["--runtime-opt", "--preserve-fds", "--runtime-opt", str(req.preserve_fds)]
        if req.terminal:
            argv.append("-t")
        if req.stdin:
            argv.append("-i")
        return argv

    # -- spawning ----------------------------------------------------------------------------
    def _spawn(self, argv: list[str], pipes: _Pipes, timeout: float, inherit_stdio: bool = False,
               preserve: tuple[int, ...] = (), held: tuple[int, ...] = ()) -> None:
        """Start conmon and wait for its first process to exit (it double-forks).

        ``inherit_stdio``: the passthrough log driver, where conmon hands its stdio to the container.
        ``preserve``: our fds that conmon passes on to the container (``--preserve-fds``).
        ``held``: fds conmon only keeps open (the runtime closes them for the container)."""
        from sealpod.utils.proc import spawn

        env = dict(os.environ if self.env is None else self.env)
        env.pop("NOTIFY_SOCKET", None)  # runc would proxy it itself; conmon gets --sdnotify-socket instead
        env.update(pipes.env())
        pass_fds = (*preserve, *held, *pipes.child_fds())
        # conmon's own complaints, read back only if it fails: an anonymous in-memory file
        with open(os.memfd_create("conmon-stderr", os.MFD_CLOEXEC), "w+b") as errf:
            try:
                proc = spawn(argv, stdout=errf, stderr=errf, env=env, pass_fds=pass_fds) \
                    if not inherit_stdio else spawn(argv, stdin=None, env=env, pass_fds=pass_fds)
            finally:
                pipes.close_child_ends()
            _signal_start(pipes.start_w)
            try:
                rc = _wait_child(proc, timeout)
            except Exception as e:
                proc.kill()
                proc.wait()
                raise ConmonError("conmon did not daemonize in time") from e
            if rc != 0:
                errf.seek(0)
                lines = [ln for ln in errf.read().decode(errors="replace").splitlines() if ln.strip()]
                raise ConmonError(f"conmon failed: {lines[-1] if lines else f'exit status {rc}'}")

    def _link_bundle(self, ctr_id: str, bundle: Path) -> None:
        """Give the attach socket and ctl FIFO a path derived from the ID alone."""
        link = self.paths.socket_dir / ctr_id
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(bundle.absolute())

    def create(self, req: CreateRequest) -> int:
        """Create the container under conmon; returns its PID once runc has it in 'created'."""
        dirs = (self.paths.exit_dir, self.paths.socket_dir, self.persist_dir(req.id), self.paths.runtime_root)
        for d in dirs:
            d.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.exit_file(req.id).unlink()
        self._link_bundle(req.id, req.bundle)
        from sealpod.utils.proc import hold_fds

        preserve = hold_fds(req.preserve_fds)  # before the pipes, so that those never take 3..3+N-1
        pipes = _Pipes.open(attach=False)
        sync = SyncPipe(pipes.sync_r, "sync")
        try:
            self._spawn(self.conmon_argv(req), pipes, self.sync_timeout, req.log_driver == "passthrough",
                        preserve, held=req.held_fds)
            try:
                msg = sync.read_message(self.sync_timeout)
            except ConmonError:
                _kill_pidfile(req.conmon_pidfile)
                raise
            return _expect_pid(msg, self.oci.name)
        finally:
            sync.close()
            pipes.sync_r = -1
            pipes.close_all()

    def exec(self, ctr_id: str, process: dict[str, Any], *, terminal: bool, stdin: bool, detach: bool,
             exec_id: str, exec_dir: Path | None = None, name: str = "", preserve_fds: int = 0) -> ExecSession:
        """Start an exec session through ``conmon --exec``.

        Detached sessions are running when this returns (``pid`` set).  Attached ones are waiting
        with their attach socket listening: connect to ``attach_socket``, then call ``start()``.
        """
        exec_dir = exec_dir or self.persist_dir(ctr_id) / "exec" / exec_id
        from sealpod.utils.proc import hold_fds

        req = ExecRequest(ctr_id, exec_id, exec_dir, process, terminal, stdin, detach, name, preserve_fds)
        (exec_dir / "exits").mkdir(parents=True, exist_ok=True)
        spec_file = exec_dir / "process.json"
        spec_file.write_text(json.dumps({**process, "terminal": terminal}))
        preserve = hold_fds(preserve_fds)  # before the pipes, so that those never take 3..3+N-1
        pipes = _Pipes.open(attach=not detach)
        sess = ExecSession(ctr_id, exec_id, exec_dir, exec_dir / "exits" / exec_id,
                           None if detach else exec_dir / "attach", self.oci.name,
                           sync=SyncPipe(pipes.sync_r, "sync"))
        pipes.sync_r = -1
        try:
            self._spawn(self.exec_argv(req, spec_file), pipes, self.sync_timeout, preserve=preserve)
            if detach:
                sess.start(self.sync_timeout)
            else:
                SyncPipe(pipes.attach_r, "attach").read_message(self.sync_timeout)
                sess.start_fd, pipes.start_w = pipes.start_w, -1
        except BaseException:
            sess.close()
            _kill_pidfile(exec_dir / "conmon.pid")
            raise
        finally:
            pipes.close_all()
        return sess

    # -- the other verbs -------------------------------------------------------------------
    def start(self, ctr_id: str) -> None:
        self.oci.start(ctr_id)

    def kill(self, ctr_id: str, signal: int, all_procs: bool = False) -> None:
        self.oci.kill(ctr_id, signal, all_procs)

    def delete(self, ctr_id: str, force: bool = False) -> None:
        """Delete the runtime's record and conmon's attach symlink."""
        self.oci.delete(ctr_id, force)
        link = self.paths.socket_dir / ctr_id
        if link.is_symlink():
            link.unlink()

    def delete_begin(self, ctr_id: str, force: bool = False) -> PendingDelete:
        """``delete`` started in the background; its ``wait`` also drops the attach symlink."""
        pending = self.oci.delete_begin(ctr_id, force)
        link = self.paths.socket_dir / ctr_id

        def drop_link() -> None:
            if link.is_symlink():
                link.unlink()

        pending.after = drop_link
        return pending

    def state(self, ctr_id: str) -> dict[str, Any] | None:
        return self.oci.state(ctr_id)

    def pause(self, ctr_id: str) -> None:
        self.oci.pause(ctr_id)

    def resume(self, ctr_id: str) -> None:
        self.oci.resume(ctr_id)

    def update(self, ctr_id: str, resources: dict[str, Any]) -> None:
        self.oci.update(ctr_id, resources)

    def exit_code(self, ctr_id: str) -> int | None:
        """The container's exit code from conmon's exit file; None while it runs."""
        return read_exit_file(self.exit_file(ctr_id))

    def forget(self, ctr_id: str) -> None:
        """Remove what conmon left for a container (exit file, persist dir, attach symlink)."""
        with contextlib.suppress(FileNotFoundError):
            self.exit_file(ctr_id).unlink()
        import shutil

        shutil.rmtree(self.persist_dir(ctr_id), ignore_errors=True)
        link = self.paths.socket_dir / ctr_id
        if link.is_symlink():
            link.unlink()


def _kill_pidfile(pidfile: Path) -> None:
    """Kill a conmon that never reported, so a failed create leaves nothing behind."""
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
