"""Docker's stream framing for logs, attach and exec, and the adapters between the engine's
push-style writers and the server's sockets and chunked bodies.

Without a terminal, stdout and stderr share one connection: each write is a frame with an
8-byte header ``[stream, 0, 0, 0, length (big-endian uint32)]`` (1 stdout, 2 stderr).  With a
terminal there is only one stream and the bytes go raw, as the Docker daemon sends them.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, cast

STDIN, STDOUT, STDERR = 0, 1, 2
MUX_CONTENT_TYPE = "application/vnd.docker.multiplexed-stream"
RAW_CONTENT_TYPE = "application/vnd.docker.raw-stream"
_HEADER = struct.Struct(">BxxxI")


def frame(stream: int, data: bytes) -> bytes:
    """One frame of the multiplexed stream."""
    return _HEADER.pack(stream, len(data)) + data


def split_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The frames of a complete multiplexed buffer (for tests and clients of our own)."""
    out = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        stream, size = _HEADER.unpack_from(data, pos)
        pos += _HEADER.size
        out.append((stream, data[pos:pos + size]))
        pos += size
    return out


class _Writer:
    """A write-only binary file object; ``send`` decides where the bytes go."""

    def __init__(self, send: Callable[[bytes], None], stream: int, mux: bool) -> None:
        self._send = send
        self.stream = stream
        self.mux = mux

    def write(self, data: bytes) -> int:
        if data:
            self._send(frame(self.stream, bytes(data)) if self.mux else bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True


def socket_writers(sock: socket.socket, tty: bool) -> tuple[BinaryIO, BinaryIO]:
    """stdout and stderr writers onto a hijacked connection (framed unless ``tty``)."""
    lock = threading.Lock()

    def send(data: bytes) -> None:
        with lock:
            sock.sendall(data)

    return (cast(BinaryIO, _Writer(send, STDOUT, not tty)), cast(BinaryIO, _Writer(send, STDERR, not tty)))


class SocketReader:
    """The client's side of a hijacked connection as the engine's stdin: it selects on and reads
    the descriptor directly, so only ``fileno`` matters; EOF is the client's half-close."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self, size: int = -1) -> bytes:
        return self.sock.recv(size if size > 0 else 65536)


def stdin_of(sock: socket.socket) -> BinaryIO:
    return cast(BinaryIO, SocketReader(sock))


class _Closed(Exception):
    """The consumer went away: the producer stops at its next write."""


def produced(produce: Callable[[BinaryIO, BinaryIO], Any], tty: bool, *, mux: bool = True) -> Iterator[bytes]:
    """Run ``produce(stdout, stderr)`` in a thread and yield what it writes (framed unless
    ``tty`` or not ``mux``), for chunked responses such as ``logs --follow``.  Closing the
    iterator (the client hung up) makes the producer's next write fail, which ends it."""
    chunks: queue.Queue[bytes | None | BaseException] = queue.Queue(maxsize=256)
    closed = threading.Event()

    def send(data: bytes) -> None:
        if closed.is_set():
            raise _Closed()
        chunks.put(data)

    def work() -> None:
        framed = mux and not tty
        try:
            produce(cast(BinaryIO, _Writer(send, STDOUT, framed)), cast(BinaryIO, _Writer(send, STDERR, framed)))
            chunks.put(None)
        except _Closed:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            chunks.put(e)

    threading.Thread(target=work, daemon=True, name="api-stream").start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                return  # the status line is long gone: the stream just ends, as Docker's does
            yield item
    finally:
        closed.set()
        with contextlib.suppress(queue.Empty):
            while True:
                chunks.get_nowait()


def close_quietly(sock: socket.socket | IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        sock.close()


__all__ = ["MUX_CONTENT_TYPE", "RAW_CONTENT_TYPE", "frame", "produced", "socket_writers", "split_frames", "stdin_of"]
