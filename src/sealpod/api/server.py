"""The HTTP/1.1 server of ``sealpod system service``: one thread per connection.

Every request gets its own :class:`~sealpod.engine.Engine` (its own database connection)
built from the configuration loaded once at start, so handlers never share state.  No
failure of a handler, a malformed request or a client hanging up may stop the service.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from sealpod.api.http import (
    API_VERSION,
    LIBPOD_API_VERSION,
    MIN_API_VERSION,
    Request,
    Response,
    Router,
    error_body,
)
from sealpod.errors import SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

log = logging.getLogger("sealpod.api")

_VERSIONED = re.compile(r"^/v(\d+(?:\.\d+)*)(/.*)$")
_MAX_BODY = 64 * 1024 * 1024


def split_version(path: str) -> tuple[str | None, str, bool]:
    """``/v1.41/containers/json`` → (``1.41``, ``/containers/json``, libpod?)."""
    version = None
    found = _VERSIONED.match(path)
    if found:
        version, path = found.group(1), found.group(2)
    libpod = path.startswith("/libpod/")
    if libpod:
        path = path[len("/libpod"):]
    return version, path, libpod


class RequestHeaders(dict[str, str]):
    """Request headers with case-insensitive lookups (keys are stored lower-cased)."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


# Listings are short, CPU-bound Python: run one at a time. Four clients polling containers/json
# otherwise fight over the GIL and get less done together than one client alone.
_LISTINGS = frozenset({"/containers/json", "/images/json", "/volumes", "/volumes/json", "/networks",
                       "/networks/json", "/pods/json"})
_MAX_HEADERS = 100
_CORS_HEADERS = ("Origin, X-Requested-With, Content-Type, Accept, X-Registry-Auth, Connection, Upgrade, "
                 "X-Registry-Config")
_MAX_LINE = 65536


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Service

    def parse_request(self) -> bool:
        """The request line and headers, read directly: http.server's parser goes through the
        email package and was a third of the time of a ``/_ping``."""
        line = str(getattr(self, "raw_requestline", b""), "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"
            self.send_error(400, f"Bad request syntax ({line!r})")
            return False
        self.command, self.path, self.request_version = parts
        headers = RequestHeaders()
        while True:
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE or len(headers) > _MAX_HEADERS:
                self.send_error(431, "Request header fields too large")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, sep, value = str(raw, "iso-8859-1").partition(":")
            if not sep or not name.strip():
                self.send_error(400, "Malformed header line")
                return False
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.request_headers = headers
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        self.close_connection = "close" in connection or (
            self.request_version == "HTTP/1.0" and "keep-alive" not in connection)
        if headers.get("expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        return True

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            pass  # the client went away: nothing to answer
        finally:
            engine = getattr(self, "_conn_engine", None)
            if engine is not None:
                engine.close()

    def _engine(self) -> Engine:
        """One engine per connection: its requests come one after another on this thread, so
        keep-alive clients do not pay for a new database connection on every request."""
        engine = getattr(self, "_conn_engine", None)
        if engine is None:
            engine = self._conn_engine = self.server.engine_factory()
        return engine

    def version_string(self) -> str:
        return f"Libpod/{LIBPOD_API_VERSION} (linux; sealpod)"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s " + fmt, self.client_address, *args)

    def _dispatch(self) -> None:
        self.server.activity(+1)
        try:
            self._handle()
        finally:
            self.server.activity(-1)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _dispatch  # noqa: N815 - http.server's names

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                if size < 0 or total + size > _MAX_BODY:  # a hostile size would be read (and held) forever
                    raise ValueError("request body too large")
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                total += size
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        version, route_path, libpod = split_version(path)
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True  # the rest of the stream cannot be trusted to frame a request
            self._send(Response(400, error_body(400, "malformed request body")))
            return
        if self.command == "OPTIONS" and self.server.cors:  # a browser's preflight: the headers say it all
            self._send(Response(200, b""))
            return
        found = self.server.router.match(self.command, route_path)
        if found is None or found == "405":
            status = 404 if found is None else 405
            what = "page not found" if status == 404 else "method not allowed"
            self._send(Response(status, error_body(status, what)))
            return
        assert not isinstance(found, str)
        handler, params = found
        try:
            engine = self._engine()
        except SealpodError as e:
            self._send(Response(e.http_status, error_body(e.http_status, e.message)))
            return
        req = Request(self.command, route_path, query, self.request_headers, body, params, engine,
                      version or API_VERSION, libpod, self.connection)
        try:
            if self.command == "GET" and route_path in _LISTINGS:
                with self.server.listing:  # see _LISTINGS
                    response = handler(req)
            else:
                response = handler(req)
        except SealpodError as e:
            response = Response(e.http_status, error_body(e.http_status, e.message))
        except Exception as e:  # noqa: BLE001 - a handler bug must not kill the service
            log.warning("internal error on %s %s: %s", self.command, self.path, e, exc_info=True)
            response = Response(500, error_body(500, f"internal error: {type(e).__name__}: {e}"))
        self._send(response)

    def _common_headers(self, response: Response) -> None:
        self.send_header("API-Version", API_VERSION)
        self.send_header("Libpod-API-Version", LIBPOD_API_VERSION)
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        if self.server.cors:
            self.send_header("Access-Control-Allow-Origin", self.server.cors)
            self.send_header("Access-Control-Allow-Headers", _CORS_HEADERS)
            self.send_header("Access-Control-Allow-Methods", "HEAD, GET, POST, DELETE, PUT, OPTIONS")
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)

    def _send(self, response: Response) -> None:
        try:
            if response.hijack is not None:
                self._hijack(response)
                return
            self.send_response(response.status)
            self._common_headers(response)
            if response.stream is not None:
                self._send_stream(response)
                return
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_stream(self, response: Response) -> None:
        assert response.stream is not None
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in response.stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(response.stream, "close", None)
            if callable(close):
                close()

    def _hijack(self, response: Response) -> None:
        """Attach and exec: answer 101 (or 200 for clients that did not ask to upgrade), then the
        raw connection belongs to the handler until it is done."""
        assert response.hijack is not None
        upgrade = "upgrade" in self.headers.get("Connection", "").lower()
        if upgrade:
            self.send_response(101, "UPGRADED")
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "tcp")
        else:
            self.send_response(200)
        self._common_headers(response)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        response.hijack(self.connection)


class Service(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listener: socket.socket, router: Router, engine_factory: Callable[[], Engine],
                 idle_timeout: float) -> None:
        # Adopt an already bound and listening socket (our own, or systemd's).
        socketserver.BaseServer.__init__(self, listener.getsockname(), _Handler)
        self.socket = listener
        self.router = router
        self.engine_factory = engine_factory
        self.idle_timeout = idle_timeout
        self._active = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self.listing = threading.Lock()
        self.cors = ""  # --cors: the Access-Control-Allow-Origin of every response

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)

    def activity(self, delta: int) -> None:
        with self._lock:
            self._active += delta
            self._last = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self._active else time.monotonic() - self._last

    def watch_idle(self) -> None:
        """Shut down after ``idle_timeout`` seconds without a request in flight (0: never)."""
        if self.idle_timeout <= 0:
            return
        while True:
            time.sleep(min(1.0, self.idle_timeout / 4))
            if self.idle_for() >= self.idle_timeout:
                self.shutdown()
                return


def listen(uri: str) -> tuple[socket.socket, str | None]:
    """A listening socket for ``unix:///path`` (or ``tcp://host:port``) or the one systemd passed.

    Returns the socket and the path to remove at exit (None for inherited or TCP sockets).
    """
    if os.environ.get("LISTEN_FDS") and os.environ.get("LISTEN_PID") == str(os.getpid()):
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):  # systemd's, for this process only
            os.environ.pop(name, None)
        fd = 3  # SD_LISTEN_FDS_START
        return socket.socket(fileno=fd), None
    if uri.startswith("tcp://"):
        host, _, port = uri[len("tcp://"):].rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        sock = socket.create_server((host or "127.0.0.1", int(port)), reuse_port=False)
        return sock, None
    path = uri.removeprefix("unix://")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o660)
    sock.listen(128)
    return sock, path


def serve(uri: str, engine_factory: Callable[[], Engine], idle_timeout: float, cors: str = "") -> None:
    from sealpod.api.routes import build_router

    sock, cleanup_path = listen(uri)
    service = Service(sock, build_router(), engine_factory, idle_timeout)
    service.cors = cors
    where = sock.getsockname()
    log.info('API service listening on "%s". URI: "%s"', where if isinstance(where, str) else uri, uri)
    if cors:
        log.debug("CORS Headers were set to %s", json.dumps(cors))
    threading.Thread(target=service.watch_idle, daemon=True, name="idle").start()
    try:
        service.serve_forever(poll_interval=0.25)
    finally:
        service.server_close()
        if cleanup_path:
            try:
                os.unlink(cleanup_path)
            except FileNotFoundError:
                pass


__all__ = ["MIN_API_VERSION", "serve", "split_version"]
