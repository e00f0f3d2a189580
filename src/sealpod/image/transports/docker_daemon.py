"""The docker-daemon: transport: images held by a Docker Engine, reached through its API.

The engine speaks docker-archive both ways (``GET /images/{name}/get``, ``POST /images/load``),
so this module only moves tarballs; the docker_archive transport reads and writes them.
The engine is found as the Docker CLI finds it: ``DOCKER_HOST``, else the default socket.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from sealpod.errors import ImageTransportError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

DEFAULT_HOST = "unix:///var/run/docker.sock"
_TIMEOUT = 300.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=_TIMEOUT)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_TIMEOUT)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def daemon_host(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_HOST") or DEFAULT_HOST


def _connect(host: str) -> http.client.HTTPConnection:
    url = urlsplit(host)
    if url.scheme == "unix":
        return _UnixConnection(url.path)
    if url.scheme in ("tcp", "http"):
        return http.client.HTTPConnection(url.netloc, timeout=_TIMEOUT)
    raise ImageTransportError(f"unsupported DOCKER_HOST {host!r}: use unix:// or tcp://")


def _request(host: str, method: str, path: str, body: BinaryIO | None = None,
             length: int = 0) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = _connect(host)
    headers = {"Content-Type": "application/x-tar", "Content-Length": str(length)} if body is not None else {}
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
    except OSError as e:
        conn.close()
        raise ImageTransportError(f"Cannot connect to the Docker daemon at {host}. "
                                  f"Is the docker daemon running? ({e.strerror or e})") from e
    if resp.status >= 300:
        detail = resp.read(64 << 10)
        conn.close()
        raise ImageTransportError(f"docker engine at {host}: {_message(detail, resp.status)}")
    return conn, resp


def _message(body: bytes, status: int) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    text = doc.get("message") if isinstance(doc, dict) else None
    return str(text or body.decode(errors="replace").strip() or f"HTTP status {status}").splitlines()[0]


def export_image(env: Mapping[str, str], name: str, out: BinaryIO) -> None:
    """Write the engine's docker-archive of ``name`` to ``out``."""
    host = daemon_host(env)
    conn, resp = _request(host, "GET", f"/images/{quote(name, safe='/:@')}/get")
    try:
        shutil.copyfileobj(resp, out, 1 << 20)
    except OSError as e:
        raise ImageTransportError(f"loading image from docker engine: {e}") from e
    finally:
        conn.close()


def import_archive(env: Mapping[str, str], archive: Path) -> str:
    """Hand a docker-archive to the engine; return what it said (its last status line)."""
    host = daemon_host(env)
    with open(archive, "rb") as f:
        conn, resp = _request(host, "POST", "/images/load?quiet=1", f, archive.stat().st_size)
        try:
            reply = resp.read()
        finally:
            conn.close()
    for line in reversed(reply.decode(errors="replace").splitlines()):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("error"):
            raise ImageTransportError(f"docker engine at {host}: {doc['error']}")
        if isinstance(doc, dict) and doc.get("stream"):
            return str(doc["stream"]).strip()
    return ""
