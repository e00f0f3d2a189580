"""``POST /sealpod/v1/exec-cli``: run a whole sealpod command line for a remote client.

The remote CLI (``sealpod --url``/``--remote``/``--connection``, :mod:`sealpod.cli.remote`)
does not re-implement each command over REST: it forwards its command line, and the service
runs ``sealpod <the service's own global flags> <argv>`` as a child process with the service's
identity and storage.  This is sealpod's own route, outside the Docker and libpod namespaces.

Request body (JSON)::

    {"argv": ["run", "--rm", "alpine", "echo", "hi"],   # the command line without global flags
     "tty": false,         # run the child on a pseudo-terminal (stdin and stdout)
     "stderr_tty": false,  # its stderr on that terminal too (else a separate stream)
     "stdin": true,        # the client sends stdin; otherwise the child reads /dev/null
     "env": {"TERM": "xterm", "COLUMNS": "80"},         # only TERM, COLUMNS, LINES, NO_COLOR
     "size": [24, 80],     # rows, columns of the terminal
     "cwd": "/home/me"}    # used when it exists here (same host), else /

The connection is then hijacked (101 UPGRADED when the client asked to upgrade, else 200) and
both directions carry frames with Docker's 8-byte header ``[type, 0, 0, 0, size (uint32 BE)]``:

- service → client: 1 stdout (with ``tty``: the terminal's raw bytes), 2 stderr, and last
  3 EXIT whose payload is the exit status in ASCII decimal (``"125"``); then the service closes.
- client → service: 0 stdin data, where an empty payload means end of input; 4 RESIZE with
  payload ``>HH`` (rows, columns); 5 SIGNAL with payload ``>I`` (SIGINT, SIGTERM, SIGHUP, SIGQUIT).

A client that goes away (the connection closes before EXIT) hangs up the child (SIGHUP),
as a closed terminal would; the service itself carries on.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

from sealpod.api.http import Request, Response, Router
from sealpod.api.streams import MUX_CONTENT_TYPE, frame
from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

PATH = "/sealpod/v1/exec-cli"
STDIN, STDOUT, STDERR, EXIT, RESIZE, SIGNAL = 0, 1, 2, 3, 4, 5
# Set for the child: how many leading words of its argv are the service's flags (the client may
# not set these itself); the CLI checks it (sealpod.cli.remote.check_served).
SERVED_ENV = "_SEALPOD_SERVED"
_CTTY_ENV = "_SEALPOD_CTTY"
_CLIENT_ENV = ("TERM", "COLUMNS", "LINES", "NO_COLOR")
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_HEADER = struct.Struct(">BxxxI")
_DRAIN_AFTER_EXIT = 2.0  # descendants (conmon) may keep the output open: stop waiting for them

# The child: no site processing and an explicit path, like conmon's exit command; ^C and hang-ups
# act even if the service was started with them ignored (nohup, a shell's background job); with
# a terminal it makes it its controlling one (for ^C and SIGWINCH), which Popen cannot do.
_BOOT = ("import os, signal, sys\nsys.path[:0] = {paths!r}\n"
         "signal.signal(signal.SIGINT, signal.default_int_handler)\nsignal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
         "if os.environ.pop('" + _CTTY_ENV + "', ''):\n"
         "    import fcntl, termios\n    os.setsid()\n    fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
         "from sealpod.__main__ import leave, main\nleave(main(sys.argv[1:]))\n")


class CliRequest:
    """The decoded request body."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise InvalidArgument("decoding request body: expected a JSON object")
        argv = body.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise InvalidArgument('"argv" must be a non-empty list of strings')
        self.argv: list[str] = argv
        self.tty = bool(body.get("tty"))
        self.stderr_tty = self.tty and bool(body.get("stderr_tty"))
        self.stdin = bool(body.get("stdin", True))
        env = body.get("env") or {}
        self.env = {k: str(v) for k, v in env.items() if k in _CLIENT_ENV} if isinstance(env, dict) else {}
        size = body.get("size") or [0, 0]
        ok = isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) and 0 <= n < 65536 for n in size)
        self.rows: int = size[0] if ok else 0
        self.cols: int = size[1] if ok else 0
        cwd = body.get("cwd")
        self.cwd = cwd if isinstance(cwd, str) and cwd.startswith("/") and os.path.isdir(cwd) else "/"


def service_flags(engine: Engine) -> list[str]:
    """The global flags that give the child the service's own storage and runtime."""
    cfg = engine.config
    storage, eng = cfg.storage, cfg.containers.engine
    flags = ["--root", os.fspath(storage.graph_root), "--runroot", os.fspath(storage.run_root),
             "--storage-driver", storage.driver]
    for opt in storage.driver_options:
        flags += ["--storage-opt", opt]
    for flag, value in (("--runtime", eng.runtime), ("--cgroup-manager", eng.cgroup_manager),
                        ("--events-backend", eng.events_logger), ("--tmpdir", os.fspath(cfg.tmp_dir))):
        if value:  # empty: chosen at run time (the runtime found on the host)
            flags += [flag, value]
    return flags


def _child_argv(flags: list[str], argv: list[str]) -> list[str]:
    import sysconfig

    import sealpod

    site = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    paths = [os.path.dirname(os.path.dirname(os.path.abspath(sealpod.__file__))), site[0]]
    return [sys.executable, "-I", "-S", "-c", _BOOT.format(paths=paths), *flags, *argv]


def _child_env(engine: Engine, req: CliRequest, nflags: int) -> dict[str, str]:
    env = {k: v for k, v in engine.env.items() if k not in ("CONTAINER_HOST", "CONTAINER_CONNECTION")}
    env.update(req.env)
    env[SERVED_ENV] = str(nflags)
    if req.tty:
        env[_CTTY_ENV] = "1"
    return env


def _set_size(fd: int, rows: int, cols: int) -> None:
    if rows and cols:
        import fcntl
        import termios

        with contextlib.suppress(OSError):
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Session:
    """One forwarded command line: the child process and the relay between it and the client."""

    def __init__(self, sock: socket.socket, engine: Engine, req: CliRequest) -> None:
        from sealpod.utils.proc import spawn

        self.sock = sock
        self.master: int | None = None
        self.send_lock = threading.Lock()
        self.client_gone = False
        flags = service_flags(engine)
        argv, env = _child_argv(flags, req.argv), _child_env(engine, req, len(flags))
        pipe = subprocess.PIPE
        if req.tty:
            self.master, slave = os.openpty()
            _set_size(slave, req.rows, req.cols)
            try:
                self.proc: subprocess.Popen[bytes] = spawn(
                    argv, stdin=slave, stdout=slave, stderr=slave if req.stderr_tty else pipe, env=env, cwd=req.cwd)
            except BaseException:
                os.close(self.master)
                raise
            finally:
                os.close(slave)
            self.stdin_fd: int | None = self.master
        else:
            self.proc = spawn(argv, stdin=pipe if req.stdin else subprocess.DEVNULL, stdout=pipe, stderr=pipe,
                              env=env, cwd=req.cwd)
            self.stdin_fd = self.proc.stdin.fileno() if self.proc.stdin is not None else None
        self.outputs: dict[int, int] = {}
        if self.master is not None:
            self.outputs[self.master] = STDOUT
        elif self.proc.stdout is not None:
            self.outputs[self.proc.stdout.fileno()] = STDOUT
        if self.proc.stderr is not None:
            self.outputs[self.proc.stderr.fileno()] = STDERR

    def send(self, kind: int, data: bytes) -> None:
        if self.client_gone:
            return
        try:
            with self.send_lock:
                self.sock.sendall(frame(kind, data))
        except OSError:
            self.hang_up()

    def hang_up(self) -> None:
        """The client went away: the child loses its "terminal", as on a closed ssh session."""
        self.client_gone = True
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.proc.pid, signal.SIGHUP)

    def run(self) -> None:
        threading.Thread(target=self._from_client, daemon=True, name="exec-cli-in").start()
        try:
            self._relay_output()
            code = self.proc.wait()
            self.send(EXIT, str(code if code >= 0 else 128 - code).encode())
        finally:
            self._close()

    def _relay_output(self) -> None:
        exited_at = 0.0
        while self.outputs:
            ready, _, _ = select.select(list(self.outputs), [], [], 0.2)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the terminal's last user is gone
                    data = b""
                if data:
                    self.send(self.outputs[fd], data)
                else:
                    del self.outputs[fd]
            if self.proc.poll() is not None:
                now = time.monotonic()
                exited_at = exited_at or now
                if not ready or now - exited_at > _DRAIN_AFTER_EXIT:
                    return

    def _from_client(self) -> None:
        """Client frames: stdin, window size, signals; the connection's end is a hang-up."""
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                if self.proc.poll() is None:
                    self.hang_up()
                return
            buf += data
            while len(buf) >= _HEADER.size:
                kind, size = _HEADER.unpack_from(buf)
                if len(buf) < _HEADER.size + size:
                    break
                payload, buf = buf[_HEADER.size:_HEADER.size + size], buf[_HEADER.size + size:]
                self._client_frame(kind, payload)

    def _client_frame(self, kind: int, payload: bytes) -> None:
        if kind == STDIN:
            self._write_stdin(payload)
        elif kind == RESIZE and len(payload) == 4 and self.master is not None:
            _set_size(self.master, *struct.unpack(">HH", payload))
        elif kind == SIGNAL and len(payload) == 4:
            (signum,) = struct.unpack(">I", payload)
            if signum in _SIGNALS and self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    os.kill(self.proc.pid, signum)

    def _write_stdin(self, data: bytes) -> None:
        fd = self.stdin_fd
        if fd is None:
            return
        if not data:  # end of input; a terminal has no such thing: ignore it there
            if self.master is None and self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
                self.stdin_fd = None
            return
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:  # the child stopped reading: drop the rest
            self.stdin_fd = None

    def _close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.close(self.master)
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


def exec_cli(req: Request) -> Response:
    cli_req = CliRequest(req.json())
    engine = req.engine

    def run(sock: socket.socket) -> None:
        try:
            session = Session(sock, engine, cli_req)
        except (SealpodError, OSError) as e:  # the 101 is sent: report in the stream itself
            with contextlib.suppress(OSError):
                sock.sendall(frame(STDERR, f"Error: {e}\n".encode()) + frame(EXIT, b"125"))
                sock.shutdown(socket.SHUT_RDWR)
            return
        session.run()

    return Response(200, content_type=MUX_CONTENT_TYPE, hijack=run)


def register(r: Router) -> None:
    r.add("POST", PATH, exec_cli)
