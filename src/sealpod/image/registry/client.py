"""A client for the OCI distribution API (``/v2/``): manifests, blobs, uploads, tags, catalog.

Pull and push are built on it; they never see HTTP. Every failure is a
:class:`~sealpod.errors.RegistryError` (or a subclass) whose message is the tail Podman would
print after ``initializing source docker://...:``, e.g. ``reading manifest latest in
127.0.0.1:5000/foo: manifest unknown``.

One client is safe to share between threads: connections are per thread and the token cache
is locked, so parallel layer downloads just call :meth:`RegistryClient.fetch_blob` concurrently.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urljoin

from sealpod import __version__
from sealpod.errors import DigestMismatch, ManifestUnknown, RegistryAuthError, RegistryError
from sealpod.image.registry.auth import (
    CATALOG_SCOPE,
    Authenticator,
    Credentials,
    parse_challenges,
    registry_error_text,
    repo_scope,
)
from sealpod.image.registry.http import (
    HttpPool,
    Reply,
    TransportFailure,
    cert_dirs_for,
    make_ssl_context,
)
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

    from sealpod.image.registry.http import Readable

MANIFEST_LIMIT = 4 * 1024 * 1024
_ERROR_BODY_LIMIT = 64 * 1024
_USER_AGENT = f"sealpod/{__version__}"
_DIGEST_ALGOS = {"sha256": 64, "sha384": 96, "sha512": 128}
_GENERIC_TYPES = ("", "application/json", "text/plain", "application/octet-stream")

Progress = Callable[[int], None]
"""Called with the number of bytes of the blob transferred so far."""


@dataclass(frozen=True)
class RegistryOptions:
    """How to reach one registry; built by the caller from flags and registries.conf."""

    tls_verify: bool = True  # False: accept any certificate AND allow falling back to plain http
    insecure: bool = False  # registries.conf ``insecure = true``: same effect as tls_verify=False
    cert_dir: Path | None = None  # replaces /etc/containers/certs.d/<host:port> and /etc/docker/certs.d
    credentials: Credentials | None = None
    timeout: float = 30.0  # seconds of silence before a request fails
    retries: int = 3  # retries of transient failures (connection reset, 5xx, 429)
    home: Path | None = None  # for ~/.config/containers/certs.d (tests isolate it)

    @property
    def verify(self) -> bool:
        return self.tls_verify and not self.insecure


def endpoint_host(registry: str) -> str:
    """Where a registry name is served: Docker Hub's API is not on ``docker.io`` itself."""
    return "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry


class _Transient(RegistryError):
    """A failure worth retrying, raised only where the caller asked to retry itself."""


class RegistryClient:
    """The distribution API of one registry ("host[:port]"), over keep-alive connections."""

    def __init__(self, registry: str, options: RegistryOptions) -> None:
        self.registry = registry
        self.options = options
        self._host = endpoint_host(registry)
        ctx = make_ssl_context(cert_dirs_for(registry, options.cert_dir, options.home), options.verify)
        self._pool = HttpPool(ctx, options.timeout)
        self._auth = Authenticator(registry, options.credentials, self._fetch_token)
        self._base: str | None = None
        self._base_lock = threading.Lock()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoint -------------------------------------------------------------------------

    def _base_url(self) -> str:
        with self._base_lock:
            if self._base is None:
                self._base = self._detect_scheme()
            return self._base

    def _detect_scheme(self) -> str:
        """Ping ``/v2/`` over https, then over http when the registry may be insecure (c/image)."""
        schemes = ("https", "http") if not self.options.verify else ("https",)
        for scheme in schemes:
            url = f"{scheme}://{self._host}/v2/"
            try:
                reply = self._pool.request("GET", url, {"User-Agent": _USER_AGENT})
                body = reply.read(_ERROR_BODY_LIMIT)
            except (TransportFailure, ValueError) as e:
                if scheme != schemes[-1]:
                    continue
                raise RegistryError(f"pinging container registry {self.registry}: {e}") from e
            if reply.status == 401:
                self._auth.learn(parse_challenges(reply.headers.get_all("WWW-Authenticate") or []))
            elif reply.status != 200:
                text = registry_error_text(body) or f"{reply.status} ({reply.reason})"
                raise RegistryError(f"pinging container registry {self.registry}: "
                                    f"invalid status code from registry {text}")
            return f"{scheme}://{self._host}"
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """Check that the registry answers and accepts our credentials (what ``login`` needs)."""
        try:
            self._call("GET", "/v2/", (), f"pinging container registry {self.registry}", (200,)).read()
        except RegistryAuthError as e:
            if self.options.credentials is None:
                raise
            raise RegistryAuthError("invalid username/password") from e

    # -- the request loop -----------------------------------------------------------------

    def _call(
        self,
        method: str,
        target: str,
        scopes: Sequence[str],
        what: str,
        ok: Sequence[int],
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | Readable | None = None,
        kind: str = "",
        retry: bool = True,
    ) -> Reply:
        """One API request with authentication, retries and error mapping; returns an ``ok`` reply."""
        url = target if "://" in target else self._base_url() + target
        attempt = auth_rounds = 0
        while True:
            hdrs = {"User-Agent": _USER_AGENT, **(headers or {})}
            authz = self._auth.header(scopes)
            if authz:
                hdrs["Authorization"] = authz
            try:
                reply = self._pool.request(method, url, hdrs, body)
                if reply.status in ok:
                    return reply
                err_body = reply.read(_ERROR_BODY_LIMIT)
            except (TransportFailure, ValueError) as e:
                text = e.text if isinstance(e, TransportFailure) else str(e)
                transient = isinstance(e, TransportFailure) and e.transient
                if transient and retry and attempt < self.options.retries and _rewind(body):
                    attempt += 1
                    self._backoff(attempt, None)
                    continue
                cls = _Transient if transient else RegistryError
                raise cls(f"{what}: {text}") from e
            if reply.status == 401 and auth_rounds < 2:
                challenges = parse_challenges(reply.headers.get_all("WWW-Authenticate") or [])
                if self._auth.challenged(challenges, scopes, authz) and _rewind(body):
                    auth_rounds += 1
                    continue
            if reply.status == 429 or reply.status >= 500:
                if retry and attempt < self.options.retries and _rewind(body):
                    attempt += 1
                    self._backoff(attempt, reply.header("Retry-After"))
                    continue
                if not retry:
                    raise _Transient(f"{what}: {_status_text(reply, err_body)}")
            raise _map_error(what, reply, err_body, kind)

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> None:
        delay = min(0.25 * 2 ** (attempt - 1), 4.0)
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), 10.0)
        time.sleep(delay)

    def _fetch_token(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        hdrs = {"User-Agent": _USER_AGENT, **headers}
        attempt = 0
        while True:
            try:
                reply = self._pool.request(method, url, hdrs, body)
                data = reply.read(MANIFEST_LIMIT)
            except (TransportFailure, ValueError) as e:
                if isinstance(e, TransportFailure) and e.transient and attempt < self.options.retries:
                    attempt += 1
                    self._backoff(attempt, None)
                    continue
                raise RegistryError(f"unable to retrieve auth token: {e}") from e
            if reply.status >= 500 and attempt < self.options.retries:
                attempt += 1
                self._backoff(attempt, reply.header("Retry-After"))
                continue
            return reply.status, data

    def _read_small(self, reply: Reply, what: str, limit: int) -> bytes:
        size = reply.content_length()
        if size is not None and size > limit:
            reply.close()
            raise RegistryError(f"{what}: the registry sent {size} bytes, more than the limit of {limit}")
        try:
            return reply.read(limit)
        except TransportFailure as e:
            raise (_Transient if e.transient else RegistryError)(f"{what}: {e.text}") from e
        except ValueError as e:
            raise RegistryError(f"{what}: the registry sent more than the limit of {limit} bytes") from e

    # -- manifests ------------------------------------------------------------------------

    def get_manifest(self, repo: str, reference: str, accept: Sequence[str]) -> tuple[bytes, str, str]:
        """``(body, media_type, digest)``; a digest reference is verified against the body."""
        what = f"reading manifest {reference} in {self.registry}/{repo}"
        attempt = 0
        while True:
            reply = self._call("GET", f"/v2/{repo}/manifests/{reference}", [repo_scope(repo, "pull")], what,
                               (200,), headers={"Accept": ", ".join(accept)}, kind="manifest")
            try:
                body = self._read_small(reply, what, MANIFEST_LIMIT)
                break
            except _Transient:
                attempt += 1
                if attempt > self.options.retries:
                    raise
                self._backoff(attempt, None)
        media_type = guess_media_type(reply.header("Content-Type"), body)
        if is_digest(reference):
            check_digest(body, reference, what)
            return body, media_type, reference
        return body, media_type, "sha256:" + hashlib.sha256(body).hexdigest()

    def head_manifest(self, repo: str, reference: str, accept: Sequence[str]) -> tuple[str, str] | None:
        """``(digest, media_type)`` of a manifest, or None when the registry does not know it."""
        what = f"reading manifest {reference} in {self.registry}/{repo}"
        reply = self._call("HEAD", f"/v2/{repo}/manifests/{reference}", [repo_scope(repo, "pull")], what,
                           (200, 404), headers={"Accept": ", ".join(accept)}, kind="manifest")
        reply.close()
        if reply.status == 404:
            return None
        digest = reply.header("Docker-Content-Digest")
        media_type = reply.header("Content-Type").split(";")[0].strip()
        if not is_digest(digest) or media_type in _GENERIC_TYPES:
            _, media_type, digest = self.get_manifest(repo, reference, accept)
        return digest, media_type

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """Upload a manifest under a tag or digest; returns its digest."""
        what = f"uploading manifest {reference} to {self.registry}/{repo}"
        if len(body) > MANIFEST_LIMIT:
            raise RegistryError(f"{what}: manifest is larger than {MANIFEST_LIMIT} bytes")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if is_digest(reference):
            check_digest(body, reference, what)
            digest = reference
        scopes = [repo_scope(repo, "pull", "push")]
        reply = self._call("PUT", f"/v2/{repo}/manifests/{reference}", scopes, what, (200, 201, 202),
                           headers={"Content-Type": media_type}, body=body, kind="manifest")
        reply.read(_ERROR_BODY_LIMIT)
        return digest

    # -- blobs ----------------------------------------------------------------------------

    def blob_exists(self, repo: str, digest: str) -> bool:
        what = f"checking whether blob {digest} exists in {self.registry}/{repo}"
        reply = self._call("HEAD", f"/v2/{repo}/blobs/{digest}", [repo_scope(repo, "pull")], what, (200, 404))
        reply.close()
        return reply.status == 200

    def fetch_blob(
        self, repo: str, digest: str, size: int, out: BinaryIO, progress: Progress | None = None
    ) -> None:
        """Stream a blob to ``out``, verifying size and digest on the way (``size < 0``: unknown).

        A transfer cut short resumes with a Range request when the registry honours it, else
        starts over (``out`` must then be seekable).
        """
        what = f"reading blob {digest}"
        rx = _BlobReceiver(digest, size, out, progress, what)
        attempt = 0
        while True:
            headers = {"Range": f"bytes={rx.received}-"} if rx.received else {}
            reply = self._call("GET", f"/v2/{repo}/blobs/{digest}", [repo_scope(repo, "pull")], what,
                               (200, 206), headers=headers, kind="blob")
            try:
                rx.receive(reply)
                break
            except TransportFailure as e:
                attempt += 1
                if not e.transient or attempt > self.options.retries:
                    raise RegistryError(f"{what}: {e.text}") from e
                self._backoff(attempt, None)
        rx.finish()

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; False when the registry opened an upload session instead."""
        what = f"mounting blob {digest} from {self.registry}/{from_repo} to {self.registry}/{repo}"
        target = f"/v2/{repo}/blobs/uploads/?mount={quote(digest)}&from={quote(from_repo)}"
        scopes = [repo_scope(repo, "pull", "push"), repo_scope(from_repo, "pull")]
        reply = self._call("POST", target, scopes, what, (201, 202))
        reply.read(_ERROR_BODY_LIMIT)
        if reply.status == 201:
            return True
        location = reply.header("Location")
        if location:
            try:
                self._call("DELETE", urljoin(reply.url, location), scopes, what, (200, 202, 204, 404),
                           retry=False).read(_ERROR_BODY_LIMIT)
            except RegistryError:
                pass  # an abandoned session is garbage-collected by the registry anyway
        return False

    def upload_blob(
        self, repo: str, digest: str, size: int, src: BinaryIO, progress: Progress | None = None
    ) -> None:
        """Monolithic upload (POST, then PUT with the content); restarts if ``src`` is seekable."""
        what = f"writing blob {digest} to {self.registry}/{repo}"
        scopes = [repo_scope(repo, "pull", "push")]
        start = src.tell() if src.seekable() else None
        attempt = 0
        while True:
            reply = self._call("POST", f"/v2/{repo}/blobs/uploads/", scopes, what, (202,))
            reply.read(_ERROR_BODY_LIMIT)
            location = urljoin(reply.url, reply.header("Location") or f"/v2/{repo}/blobs/uploads/")
            put_url = location + ("&" if "?" in location else "?") + "digest=" + quote(digest)
            body = _UploadReader(src, size, progress, what)
            try:
                self._call("PUT", put_url, scopes, what, (201, 204), body=body, kind="blob",
                           headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                           retry=False).read(_ERROR_BODY_LIMIT)
                return
            except _Transient:
                attempt += 1
                if start is None or attempt > self.options.retries:
                    raise
                src.seek(start)
                self._backoff(attempt, None)

    # -- listings -------------------------------------------------------------------------

    def list_tags(self, repo: str, page_size: int | None = None) -> list[str]:
        """All tags, following ``Link`` pagination (``page_size`` per request if given)."""
        what = f"fetching tags list of {self.registry}/{repo}"
        target = f"/v2/{repo}/tags/list" + (f"?n={page_size}" if page_size else "")
        return self._paginate(target, "tags", [repo_scope(repo, "pull")], what, "tags")

    def catalog(self, n: int | None = None) -> list[str]:
        """All repositories, asking ``n`` per page (the registry's default when None)."""
        target = "/v2/_catalog" + (f"?n={n}" if n else "")
        what = f"fetching the catalog of {self.registry}"
        return self._paginate(target, "repositories", [CATALOG_SCOPE], what, "catalog")

    def _paginate(self, target: str, field: str, scopes: Sequence[str], what: str, kind: str) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        while target and target not in seen:
            seen.add(target)
            reply = self._call("GET", target, scopes, what, (200,), kind=kind)
            data = self._read_small(reply, what, MANIFEST_LIMIT * 4)
            try:
                items = json.loads(data).get(field) or []
            except (ValueError, AttributeError) as e:
                raise RegistryError(f"{what}: the registry sent invalid JSON") from e
            out.extend(str(i) for i in items)
            nxt = next_link(reply.header("Link"))
            target = urljoin(reply.url, nxt) if nxt else ""
        return out


def _rewind(body: bytes | Readable | None) -> bool:
    """Whether ``body`` can be sent again (rewinding it when it is a stream)."""
    if body is None or isinstance(body, bytes):
        return True
    rewind = getattr(body, "rewind", None)
    return bool(rewind()) if callable(rewind) else False


def _status_text(reply: Reply, body: bytes) -> str:
    return registry_error_text(body) or f"received unexpected HTTP status: {reply.status} {reply.reason}"


def _map_error(what: str, reply: Reply, body: bytes, kind: str) -> RegistryError:
    """One place that turns a registry's status and JSON errors into sealpod errors."""
    text = registry_error_text(body)
    codes = _error_codes(body)
    status = reply.status
    if status == 401 or (status == 403 and codes & {"DENIED", "UNAUTHORIZED"}):
        # a HEAD's 401 has no body: c/image's words then are "unauthorized: authentication required"
        default = "unauthorized: authentication required" if status == 401 else \
            "requested access to the resource is denied"
        return RegistryAuthError(f"{what}: {text or default}")
    if kind == "manifest" and (codes & {"MANIFEST_UNKNOWN", "NAME_UNKNOWN"} or (status == 404 and not codes)):
        return ManifestUnknown(f"{what}: {text or 'manifest unknown'}")
    if status == 404 and not text:
        text = {"blob": "blob unknown to registry", "tags": "repository name not known to registry"}.get(
            kind, "not found")
    return RegistryError(f"{what}: {text or _status_text(reply, body)}")


def _error_codes(body: bytes) -> set[str]:
    try:
        errors = json.loads(body).get("errors") or []
        return {str(e.get("code", "")) for e in errors if isinstance(e, dict)}
    except (ValueError, AttributeError, TypeError):
        return set()


def is_digest(reference: str) -> bool:
    algo, _, hexpart = reference.partition(":")
    return _DIGEST_ALGOS.get(algo) == len(hexpart) and all(c in "0123456789abcdef" for c in hexpart)


def check_digest(data: bytes, digest: str, what: str) -> None:
    algo, _, expected = digest.partition(":")
    actual = hashlib.new(algo, data).hexdigest()
    if actual != expected:
        raise DigestMismatch(f"{what}: manifest digest {digest} does not match the content ({algo}:{actual})")


def guess_media_type(content_type: str, body: bytes) -> str:
    """The manifest's media type: the header, or the body's own when the header is generic."""
    header = content_type.split(";")[0].strip().lower()
    if header not in _GENERIC_TYPES:
        return header
    try:
        doc = json.loads(body)
    except ValueError:
        return header
    if not isinstance(doc, dict):
        return header
    if isinstance(doc.get("mediaType"), str):
        return str(doc["mediaType"])
    if doc.get("schemaVersion") == 1:
        suffix = "prettyjws" if "signatures" in doc else "json"
        return "application/vnd.docker.distribution.manifest.v1+" + suffix
    if "manifests" in doc:
        return "application/vnd.oci.image.index.v1+json"
    if "config" in doc and "layers" in doc:
        return "application/vnd.oci.image.manifest.v1+json"
    return header


def next_link(link: str) -> str:
    """The target of ``rel="next"`` in a Link header, or ''."""
    for part in link.split(","):
        url, _, params = part.partition(";")
        url = url.strip()
        if url.startswith("<") and url.endswith(">") and any(
            p.strip().replace('"', "") == "rel=next" for p in params.split(";")
        ):
            return url[1:-1]
    return ""


class _BlobReceiver:
    """Writes a blob to ``out`` while hashing and counting, across resumed or restarted replies."""

    def __init__(self, digest: str, size: int, out: BinaryIO, progress: Progress | None, what: str) -> None:
        algo, _, self.expected = digest.partition(":")
        if not is_digest(digest):
            raise RegistryError(f"{what}: invalid digest {digest!r}")
        self.algo, self.digest, self.size, self.out = algo, digest, size, out
        self.progress, self.what = progress, what
        self.hasher = hashlib.new(algo)
        self.received = 0
        self.start = out.tell() if out.seekable() else None

    def _restart(self) -> None:
        if self.start is None:
            raise RegistryError(f"{self.what}: the transfer broke, the registry cannot resume it, "
                                "and the destination cannot be rewound")
        self.out.seek(self.start)
        self.out.truncate()
        self.hasher = hashlib.new(self.algo)
        self.received = 0
        if self.progress:
            self.progress(0)

    def receive(self, reply: Reply) -> None:
        if self.received and not (reply.status == 206 and
                                  reply.header("Content-Range").startswith(f"bytes {self.received}-")):
            self._restart()
        announced = reply.content_length()
        if self.size >= 0 and announced is not None and announced != self.size - self.received:
            reply.close()
            raise DigestMismatch(f"{self.what}: size mismatch: expected {self.size} bytes, "
                                 f"the registry announced {announced + self.received}")
        for chunk in reply.chunks():
            if 0 <= self.size < self.received + len(chunk):
                reply.close()
                raise DigestMismatch(f"{self.what}: size mismatch: expected {self.size} bytes, "
                                     "the registry sent more")
            self.hasher.update(chunk)
            self.out.write(chunk)
            self.received += len(chunk)
            if self.progress:
                self.progress(self.received)

    def finish(self) -> None:
        if self.size >= 0 and self.received != self.size:
            raise DigestMismatch(f"{self.what}: size mismatch: expected {self.size} bytes, "
                                 f"got {self.received}")
        actual = self.hasher.hexdigest()
        if actual != self.expected:
            raise DigestMismatch(f"{self.what}: Digest did not match, expected {self.digest}, "
                                 f"got {self.algo}:{actual}")


class _UploadReader:
    """The request body of an upload: exactly ``size`` bytes of ``src``, reporting progress."""

    def __init__(self, src: BinaryIO, size: int, progress: Progress | None, what: str) -> None:
        self.src, self.size, self.progress, self.what = src, size, progress, what
        self.sent = 0

    def read(self, n: int = -1) -> bytes:
        want = self.size - self.sent if n < 0 else min(n, self.size - self.sent)
        if want <= 0:
            return b""
        data = self.src.read(want)
        if not data:
            raise DigestMismatch(f"{self.what}: the source ended after {self.sent} of {self.size} bytes")
        self.sent += len(data)
        if self.progress:
            self.progress(self.sent)
        return data
