"""A stand-in for systemd's notify socket (``NOTIFY_SOCKET``), for the sd_notify tests."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def notify_listener(where: Path) -> Iterator[tuple[str, socket.socket]]:
    """A bound datagram socket under ``where``, as systemd (or BATS's socat) offers a unit."""
    path = os.fspath(where / f"notify-{os.getpid()}-{time.monotonic_ns()}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    try:
        yield path, sock
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def messages(sock: socket.socket, want: str = "", timeout: float = 10.0) -> list[str]:
    """Datagrams until one contains ``want`` (or, without it, until ``timeout`` passes quietly)."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if want and want in got[-1]:
            break
    return got


@contextlib.contextmanager
def as_fd3(sock: socket.socket) -> Iterator[None]:
    """``sock`` on fd 3 (inheritable) while a socket-activated child starts, as systemd hands it over;
    whatever this process had on fd 3 is put back afterwards."""
    try:
        os.fstat(3)
        saved = os.dup(3)
    except OSError:
        saved = -1
    os.dup2(sock.fileno(), 3, inheritable=True)
    try:
        yield
    finally:
        if saved >= 0:
            os.dup2(saved, 3)
            os.close(saved)
        else:
            os.close(3)
