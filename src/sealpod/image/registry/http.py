"""Connections to registries: stdlib ``http.client`` + ``ssl``, one keep-alive connection per thread.

``requests`` would cost more start-up time than the whole CLI budget, and a registry client needs
little of it: keep-alive, TLS with the containers-certs.d.5 layout, redirects for blob storage,
and failures worded the way Podman words them (``dial tcp ...: connect: connection refused``).

Nothing here knows the distribution API; :mod:`sealpod.image.registry.client` does.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from sealpod.errors import ConfigError
from sealpod.utils.record import dataclass

CHUNK = 256 * 1024
CERT_DIRS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))

# Statuses after which a redirect is followed (GET/HEAD only: blobs live on CDNs).
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


TYPE_CHECKING = False  # typing costs ~2 ms of a command's start-up; the Protocol is for type checkers
if TYPE_CHECKING:
    from typing import Protocol

    class Readable(Protocol):
        """A request body streamed from a file-like object."""

        def read(self, n: int = -1, /) -> bytes: ...


class TransportFailure(Exception):
    """A request failed below HTTP. Internal: the client turns it into a RegistryError.

    ``text`` is the Go-like tail Podman shows (``Get "URL": dial tcp H: connect: connection
    refused``); ``kind`` lets the caller decide whether a retry or an http fallback makes sense.
    """

    def __init__(self, kind: str, text: str, *, sent: bool = False) -> None:
        super().__init__(text)
        self.kind = kind  # "refused" | "timeout" | "tls" | "reset" | "dns" | "other"
        self.text = text
        self.sent = sent  # whether the request may have reached the server

    @property
    def transient(self) -> bool:
        return self.kind == "reset"


def cert_dirs_for(registry: str, cert_dir: Path | None, home: Path | None = None) -> list[Path]:
    """Directories whose certificates apply to ``registry`` (containers-certs.d.5).

    An explicit ``--cert-dir`` replaces the defaults, as in Podman. The per-user directory
    applies to root too: Podman consults ``$HOME/.config/containers/certs.d`` before /etc.
    """
    if cert_dir is not None:
        return [cert_dir]
    base = home if home is not None else Path.home()
    dirs = [base / ".config/containers/certs.d" / registry]
    dirs.extend(d / registry for d in CERT_DIRS)
    return dirs


def make_ssl_context(dirs: Sequence[Path], verify: bool) -> ssl.SSLContext:
    """System trust plus every ``*.crt`` in ``dirs``; ``*.cert``/``*.key`` pairs as client certs."""
    if verify:
        ctx = ssl.create_default_context()
    else:
        # Loading the system trust store costs ~30 ms and is useless when nothing is verified.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    for d in dirs:
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            try:
                _load_cert_file(ctx, d, f)
            except (ssl.SSLError, OSError) as e:
                raise ConfigError(f"loading certificates from {f}: {e}") from e
    return ctx


def _load_cert_file(ctx: ssl.SSLContext, d: Path, f: Path) -> None:
    if f.suffix == ".crt":
        ctx.load_verify_locations(cafile=str(f))
    elif f.suffix == ".cert":
        key = d / (f.stem + ".key")
        if not key.exists():
            raise ConfigError(f"missing key {key.name} for client certificate {f.name}. Note that CA "
                              "certificates should use the extension .crt")
        ctx.load_cert_chain(certfile=str(f), keyfile=str(key))
    elif f.suffix == ".key" and not (d / (f.stem + ".cert")).exists():
        raise ConfigError(f"missing client certificate {f.stem}.cert for key {f.name}")


@dataclass
class Reply:
    """One HTTP response whose body is still on the wire.

    Read it (``read``/``chunks``) or ``close()`` it: an unread body cannot share the connection
    with the next request, so ``close`` drops the connection in that case.
    """

    status: int
    reason: str
    headers: http.client.HTTPMessage
    url: str
    _resp: http.client.HTTPResponse
    _pool: HttpPool
    _key: tuple[str, str]

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def read(self, limit: int | None = None) -> bytes:
        """The whole body; more than ``limit`` bytes raises ValueError (and drops the connection)."""
        parts: list[bytes] = []
        total = 0
        for chunk in self.chunks():
            total += len(chunk)
            if limit is not None and total > limit:
                self.close()
                raise ValueError(f"body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        try:
            while True:
                chunk = self._resp.read(size)
                if not chunk:
                    if self._resp.length:  # http.client ends a cut body silently; it is an error
                        raise http.client.IncompleteRead(b"", self._resp.length)
                    break
                yield chunk
        except (OSError, http.client.HTTPException) as e:
            self._pool.drop(self._key)
            raise describe(e, "GET", self.url, sent=True) from e
        self.close()

    def close(self) -> None:
        if self._resp.isclosed():
            return
        clean = self._resp.length == 0
        self._resp.close()
        if not clean:
            self._pool.drop(self._key)


class HttpPool:
    """Keep-alive connections, one per (thread, scheme, host), all closable from ``close()``.

    Parallel layer downloads call one client from several threads; ``http.client`` connections
    are not thread-safe, so each thread gets its own, created on first use.
    """

    def __init__(self, ssl_context: ssl.SSLContext, timeout: float) -> None:
        self._ssl = ssl_context
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[http.client.HTTPConnection] = set()

    def _conns(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        conns: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = {}
            self._local.conns = conns
        return conns

    def _connection(self, key: tuple[str, str]) -> tuple[http.client.HTTPConnection, bool]:
        conns = self._conns()
        conn = conns.get(key)
        if conn is not None:
            return conn, True
        scheme, netloc = key
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=self._timeout, context=self._ssl,
                                               blocksize=CHUNK)
        else:
            conn = http.client.HTTPConnection(netloc, timeout=self._timeout, blocksize=CHUNK)
        conns[key] = conn
        with self._lock:
            self._all.add(conn)
        return conn, False

    def drop(self, key: tuple[str, str]) -> None:
        conn = self._conns().pop(key, None)
        if conn is not None:
            conn.close()
            with self._lock:
                self._all.discard(conn)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, set()
        for conn in conns:
            conn.close()

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | Readable | None = None,
        *,
        follow: bool = True,
    ) -> Reply:
        """Send one request; GET/HEAD follow redirects (dropping credentials on another host)."""
        hdrs = dict(headers)
        for _ in range(_MAX_REDIRECTS + 1):
            reply = self._send(method, url, hdrs, body)
            if not (follow and method in ("GET", "HEAD") and reply.status in _REDIRECTS):
                return reply
            location = reply.header("Location")
            reply.read()
            if not location:
                return reply
            new = urljoin(url, location)
            if urlsplit(new).netloc != urlsplit(url).netloc:
                hdrs.pop("Authorization", None)
            url = new
        raise TransportFailure("other", f'{method.capitalize()} "{url}": too many redirects')

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | Readable | None) -> Reply:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        replayable = body is None or isinstance(body, bytes)
        while True:
            try:
                conn, reused = self._connection(key)
            except http.client.InvalidURL:  # "host:abc": Go's URL parser refuses it before dialling
                port = parts.netloc.rpartition(":")[2]
                raise TransportFailure("other", f'parse "{url}": invalid port ":{port}" after host') from None
            try:
                conn.request(method, target, body=body, headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self.drop(key)
                # A kept-alive connection the server closed meanwhile: try once on a fresh one.
                if reused and replayable and _is_stale(e):
                    continue
                raise describe(e, method, url, sent=reused or not _is_connect_error(e)) from e
            except BaseException:
                self.drop(key)  # e.g. the upload source failed half-way: the request is garbage
                raise
            return Reply(resp.status, resp.reason, resp.headers, url, resp, self, key)


def _is_stale(e: BaseException) -> bool:
    return isinstance(e, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                      | ConnectionAbortedError | http.client.BadStatusLine)


def _is_connect_error(e: BaseException) -> bool:
    return isinstance(e, ConnectionRefusedError | socket.gaierror | ssl.SSLError)


def describe(e: BaseException, method: str, url: str, *, sent: bool = False) -> TransportFailure:
    """Word a low-level failure like Go's net/http does, which is what Podman users see."""
    if isinstance(e, TransportFailure):
        return e
    verb = f'{method.capitalize()} "{url}"'
    host = urlsplit(url).netloc
    if isinstance(e, ConnectionRefusedError):
        return TransportFailure("refused", f"{verb}: dial tcp {host}: connect: connection refused")
    if isinstance(e, socket.timeout | TimeoutError):
        return TransportFailure("timeout", f"{verb}: timed out: no answer from {host}", sent=sent)
    if isinstance(e, socket.gaierror):
        words = "no such host" if e.errno in (socket.EAI_NONAME, socket.EAI_NODATA) else e.strerror
        return TransportFailure("dns", f"{verb}: dial tcp: lookup {urlsplit(url).hostname}: {words}")
    if isinstance(e, ssl.SSLCertVerificationError):
        return TransportFailure("tls", f"{verb}: {_x509_words(e)}")
    if isinstance(e, ssl.SSLError):
        if e.reason == "WRONG_VERSION_NUMBER" or "wrong version number" in str(e):
            return TransportFailure("tls", f"{verb}: http: server gave HTTP response to HTTPS client")
        return TransportFailure("tls", f"{verb}: tls: {e.reason or e}")
    if isinstance(e, ConnectionResetError | BrokenPipeError | http.client.RemoteDisconnected
                  | http.client.IncompleteRead | ConnectionAbortedError):
        return TransportFailure("reset", f"{verb}: read tcp {host}: connection reset by peer", sent=True)
    if isinstance(e, OSError) and e.strerror:
        return TransportFailure("other", f"{verb}: dial tcp {host}: {e.strerror.lower()}", sent=sent)
    return TransportFailure("other", f"{verb}: {e}", sent=sent)


def _x509_words(e: ssl.SSLCertVerificationError) -> str:
    code = e.verify_code
    if code in (18, 19, 20, 21):  # self-signed / unknown issuer
        return "x509: certificate signed by unknown authority"
    if code == 10:
        return "x509: certificate has expired or is not yet valid"
    if code == 62 or "mismatch" in (e.verify_message or ""):
        return f"x509: certificate is not valid for this host ({e.verify_message})"
    return f"x509: {e.verify_message or e.reason}"
