"""Reaching a containerised server from the host, as a user would (retrying while it starts)."""

from __future__ import annotations

import socket
import time


def http_get(port: int, host: str = "127.0.0.1", deadline: float = 10, expect: bytes = b"") -> bytes:
    """The whole answer to ``GET /`` on ``host:port`` once something answers (and, if given,
    contains ``expect``); an AssertionError after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    data = b""
    while True:
        try:
            with socket.create_connection((host, port), timeout=3) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                if data and expect in data:
                    return data
        except OSError:
            pass
        if time.monotonic() > end:
            wanted = f" with {expect!r}: {data!r}" if expect else ""
            raise AssertionError(f"nothing answered on {host}:{port}{wanted}")
        time.sleep(0.1)
