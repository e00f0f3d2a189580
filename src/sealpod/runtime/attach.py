"""Talking to conmon's attach socket: the container's stdio for ``run``, ``attach`` and ``exec``.

The socket is SOCK_SEQPACKET.  Each packet conmon sends starts with one byte naming the stream
(2 stdout, 3 stderr; everything is stdout on a terminal); what we send is raw stdin.  Half-closing
our side tells conmon stdin reached EOF.  Terminal resizes go to the ``ctl`` FIFO beside the socket
as ``1 ROWS COLS``.  The socket's path can exceed the 108 bytes of ``sun_path``, so we connect
through ``/proc/self/fd/N/attach`` with N an O_PATH descriptor of its directory.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from sealpod.errors import InvalidArgument, OCIRuntimeError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

STREAM_STDIN = 1
STREAM_STDOUT = 2
STREAM_STDERR = 3
PACKET_SIZE = 8192 + 1          # conmon's buffer plus the stream byte
DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q
_CTRL_SPECIALS = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse_detach_keys(spec: str) -> bytes:
    """Turn Podman's ``--detach-keys`` syntax (``ctrl-p,ctrl-q``, ``a,ctrl-@``) into bytes.

    An empty string disables detaching, as in Podman.
    """
    out = bytearray()
    for key in filter(None, (k.strip() for k in spec.split(","))) if spec else ():
        if len(key) == 1:
            out.append(ord(key))
        elif key.lower().startswith("ctrl-") and len(key) == 6:
            ch = key[5].lower()
            if "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
            elif ch in _CTRL_SPECIALS:
                out.append(_CTRL_SPECIALS[ch])
            else:
                raise InvalidArgument(f"invalid detach keys: {spec}")
        else:
            raise InvalidArgument(f"invalid detach keys: {spec}")
    return bytes(out)


def _open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def connect(socket_path: Path, *, accepted_by: int = 0) -> socket.socket:
    """Connect to an attach socket, whatever the length of its path.

    ``accepted_by``: conmon's PID, when the container is about to start. connect() returns
    once the kernel queued the connection, but conmon only forwards output to connections it
    has accepted: wait (briefly) until its open files show it did, or the first lines of a
    short-lived container can miss us on a busy machine.
    """
    before = _open_fds(accepted_by) if accepted_by > 0 else -1
    dirfd = os.open(socket_path.parent, os.O_PATH | os.O_CLOEXEC)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        sock.connect(f"/proc/self/fd/{dirfd}/{socket_path.name}")
    except OSError as e:
        sock.close()
        raise OCIRuntimeError(f"failed to connect to container's attach socket: {socket_path}: "
                              f"{e.strerror or e}") from e
    finally:
        os.close(dirfd)
    if before >= 0:
        import time

        deadline = time.monotonic() + 1.0
        while 0 <= _open_fds(accepted_by) <= before and time.monotonic() < deadline:
            time.sleep(0.0005)
    return sock


class _DetachMatcher:
    """Holds back bytes that may be the start of the detach sequence, as Podman does."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Return (bytes to forward, whether the full sequence was typed)."""
        if not self.keys:
            return data, False
        out = bytearray()
        for b in data:
            if b == self.keys[len(self.held)]:
                self.held += bytes([b])
                if self.held == self.keys:
                    return bytes(out), True
                continue
            out += self.held
            self.held = b""
            if b == self.keys[0]:
                self.held = bytes([b])
                if self.held == self.keys:
                    return bytes(out), True
            else:
                out.append(b)
        return bytes(out), False


def resize(ctl_path: Path, rows: int, cols: int) -> None:
    """Ask conmon to resize the container's terminal; silently skipped if conmon is gone."""
    try:
        fd = os.open(ctl_path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.write(fd, f"1 {rows} {cols}\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def _terminal_fd(*streams: BinaryIO | None) -> int | None:
    for s in streams:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if s is not None and os.isatty(s.fileno()):
                return s.fileno()
    return None


@contextlib.contextmanager
def _raw_mode(fd: int | None) -> Iterator[None]:
    """Put the user's terminal in raw mode so keys reach the container untouched."""
    if fd is None:
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _winch_pipe(enabled: bool) -> Iterator[int | None]:
    """A pipe that becomes readable on SIGWINCH (only the main thread may take signals)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield None
        return
    import signal

    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def on_winch(_sig: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.write(w, b"x")

    old = signal.signal(signal.SIGWINCH, on_winch)
    try:
        yield r
    finally:
        signal.signal(signal.SIGWINCH, old)
        os.close(r)
        os.close(w)


def _send_size(ctl_path: Path | None, term_fd: int | None) -> None:
    if ctl_path is None or term_fd is None:
        return
    with contextlib.suppress(OSError):
        size = os.get_terminal_size(term_fd)
        resize(ctl_path, size.lines, size.columns)


def _write(stream: BinaryIO, data: bytes) -> None:
    stream.write(data)
    stream.flush()


class _Pump:
    """One attach session's state: which ends are still open, and the detach matcher."""

    def __init__(self, sock: socket.socket, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO,
                 detach_keys: bytes) -> None:
        self.sock = sock
        self.stdout = stdout
        self.stderr = stderr
        self.matcher = _DetachMatcher(detach_keys)
        self.stdin_fd: int | None = None
        if stdin is not None:
            try:
                self.stdin_fd = stdin.fileno()
            except (AttributeError, OSError, ValueError):
                self._send_all_then_close(stdin.read())

    def _send_all_then_close(self, data: bytes) -> None:
        for i in range(0, len(data), PACKET_SIZE - 1):
            self.sock.sendall(data[i:i + PACKET_SIZE - 1])
        self.sock.shutdown(socket.SHUT_WR)

    def on_socket(self) -> bool:
        """Copy one packet out; False once conmon closed the socket (the process ended)."""
        try:
            pkt = self.sock.recv(PACKET_SIZE)
        except (ConnectionResetError, BrokenPipeError):
            return False
        if not pkt:
            return False
        _write(self.stderr if pkt[0] == STREAM_STDERR else self.stdout, pkt[1:])
        return True

    def on_stdin(self) -> bool:
        """Forward one read of stdin; True if the user typed the detach keys."""
        assert self.stdin_fd is not None
        data = os.read(self.stdin_fd, PACKET_SIZE - 1)
        if not data:
            self.stdin_fd = None
            with contextlib.suppress(OSError):
                if self.matcher.held:
                    self.sock.sendall(self.matcher.held)
                self.sock.shutdown(socket.SHUT_WR)
            return False
        out, detached = self.matcher.feed(data)
        if out:
            try:
                self.sock.sendall(out)
            except (BrokenPipeError, ConnectionResetError):
                self.stdin_fd = None
        return detached


def stream(sock: socket.socket, *, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO, tty: bool,
           detach_keys: bytes = DEFAULT_DETACH_KEYS, ctl_path: Path | None = None) -> bool:
    """Pump stdio over a connected attach socket until the process ends or the user detaches.

    Returns True when the user detached (the container keeps running), False when conmon
    closed the socket because the process ended.  Closes ``sock``.
    """
    pump = _Pump(sock, stdin, stdout, stderr, detach_keys)
    if not tty and pump.stdin_fd is not None and not os.isatty(pump.stdin_fd):
        pump.matcher = _DetachMatcher(b"")  # as Podman: piped bytes are data, never the detach keys
    term_fd = _terminal_fd(stdin, stdout) if tty else None
    raw_fd = pump.stdin_fd if tty and pump.stdin_fd is not None and os.isatty(pump.stdin_fd) else None
    try:
        with _raw_mode(raw_fd), _winch_pipe(term_fd is not None and ctl_path is not None) as winch:
            _send_size(ctl_path, term_fd)
            while True:
                fds = [sock.fileno()] + [fd for fd in (pump.stdin_fd, winch) if fd is not None]
                ready, _, _ = select.select(fds, [], [])
                if winch is not None and winch in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(winch, 64)
                    _send_size(ctl_path, term_fd)
                if pump.stdin_fd is not None and pump.stdin_fd in ready and pump.on_stdin():
                    return True
                if sock.fileno() in ready and not pump.on_socket():
                    return False
    finally:
        sock.close()


def attach(socket_path: Path, *, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO, tty: bool,
           detach_keys: bytes = DEFAULT_DETACH_KEYS) -> bool:
    """Attach to a container's (or exec session's) stdio; True if the user detached.

    The ``ctl`` FIFO beside the socket receives terminal sizes when ``tty`` is set.
    """
    sock = connect(socket_path)
    ctl = socket_path.parent / "ctl"
    return stream(sock, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty, detach_keys=detach_keys,
                  ctl_path=ctl if tty else None)
