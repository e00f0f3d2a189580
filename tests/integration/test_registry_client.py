"""The registry client against a real docker-distribution registry (and, for misbehaviour a real
registry never shows, against tiny raw-socket servers written here)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sealpod.errors import ConfigError, DigestMismatch, ManifestUnknown, RegistryAuthError, RegistryError
from sealpod.image.registry.auth import Credentials
from sealpod.image.registry.client import MANIFEST_LIMIT, RegistryClient, RegistryOptions
from tests.rig.images import SeedSet
from tests.rig.registry import RegistryServer, free_port

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
ALL_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def plain(server: RegistryServer, **kw: object) -> RegistryClient:
    """A client for one of the rig's registries (http ones need tls_verify=False, like podman)."""
    opts: dict[str, object] = {"timeout": 10.0}
    if server.url.startswith("http:"):
        opts["tls_verify"] = False
    if server.cert_dir is not None:
        opts["cert_dir"] = server.cert_dir
    if server.username is not None:
        opts["credentials"] = Credentials(server.username, server.password or "")
    opts.update(kw)
    return RegistryClient(server.host, RegistryOptions(**opts))  # type: ignore[arg-type]


def push_blob(c: RegistryClient, repo: str, data: bytes) -> str:
    digest = sha(data)
    c.upload_blob(repo, digest, len(data), io.BytesIO(data))
    return digest


@pytest.fixture
def client(seeded_registry: RegistryServer) -> Iterator[RegistryClient]:
    with plain(seeded_registry) as c:
        yield c


# -- manifests ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "media_type"), [
    ("sealtest/tiny:latest", OCI_MANIFEST), ("sealtest/tiny-docker:latest", DOCKER_MANIFEST),
    ("sealtest/multiarch:latest", OCI_INDEX), ("sealtest/docker-list:latest", DOCKER_LIST)])
def test_get_and_head_manifest(
    client: RegistryClient, seed_images: SeedSet, name: str, media_type: str
) -> None:
    repo, _, tag = name.rpartition(":")
    body, mt, digest = client.get_manifest(repo, tag, ALL_TYPES)
    assert (mt, digest) == (media_type, seed_images.digest(name))
    assert sha(body) == digest
    assert client.head_manifest(repo, tag, ALL_TYPES) == (digest, media_type)
    assert client.get_manifest(repo, digest, ALL_TYPES) == (body, media_type, digest)


def test_unknown_manifest(client: RegistryClient, seeded_registry: RegistryServer) -> None:
    assert client.head_manifest("sealtest/tiny", "nope", ALL_TYPES) is None
    with pytest.raises(ManifestUnknown) as e:
        client.get_manifest("sealtest/tiny", "nope", ALL_TYPES)
    assert str(e.value) == (f"reading manifest nope in {seeded_registry.host}/sealtest/tiny: "
                            "manifest unknown: manifest unknown")
    with pytest.raises(ManifestUnknown, match="manifest unknown"):
        client.get_manifest("sealtest/does-not-exist", "latest", ALL_TYPES)


# -- blobs -------------------------------------------------------------------------------------

def test_fetch_blob_verifies_digest_and_size(client: RegistryClient, seed_images: SeedSet) -> None:
    layer = seed_images.images["sealtest/tiny:latest"].layers[0]
    seen: list[int] = []
    out = io.BytesIO()
    client.fetch_blob("sealtest/tiny", layer.digest, len(layer.data), out, seen.append)
    assert out.getvalue() == layer.data
    assert seen[-1] == len(layer.data)

    out = io.BytesIO()
    with pytest.raises(DigestMismatch, match="size mismatch: expected"):
        client.fetch_blob("sealtest/tiny", layer.digest, len(layer.data) - 1, out)
    assert out.getvalue() == b""  # refused at once: the announced length was already too long
    with pytest.raises(DigestMismatch, match="size mismatch"):
        client.fetch_blob("sealtest/tiny", layer.digest, len(layer.data) + 1, io.BytesIO())
    with pytest.raises(RegistryError, match="blob unknown"):
        client.fetch_blob("sealtest/tiny", sha(b"never pushed"), 12, io.BytesIO())


def test_upload_exists_mount(registry: RegistryServer) -> None:
    data = os.urandom(300_000)
    digest = sha(data)
    with plain(registry) as c:
        assert not c.blob_exists("sealtest/up-a", digest)
        seen: list[int] = []
        c.upload_blob("sealtest/up-a", digest, len(data), io.BytesIO(data), seen.append)
        assert seen[-1] == len(data)
        assert c.blob_exists("sealtest/up-a", digest)
        assert c.mount_blob("sealtest/up-b", digest, "sealtest/up-a") is True
        assert c.blob_exists("sealtest/up-b", digest)
        other = sha(b"nowhere")
        assert c.mount_blob("sealtest/up-c", other, "sealtest/up-a") is False
        out = io.BytesIO()
        c.fetch_blob("sealtest/up-b", digest, len(data), out)
        assert out.getvalue() == data


def test_upload_refuses_wrong_digest_and_short_source(registry: RegistryServer) -> None:
    with plain(registry) as c:
        with pytest.raises(RegistryError, match="digest"):
            c.upload_blob("sealtest/bad", sha(b"other"), 5, io.BytesIO(b"hello"))
        with pytest.raises(DigestMismatch, match="source ended"):
            c.upload_blob("sealtest/bad", sha(b"hello"), 10, io.BytesIO(b"hello"))
        # the client is still usable after an aborted request
        assert push_blob(c, "sealtest/bad", b"hello") == sha(b"hello")


def test_put_manifest_and_tags_pagination(registry: RegistryServer) -> None:
    with plain(registry) as c:
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                                                                                "diff_ids": []}}).encode()
        cdigest = push_blob(c, "sealtest/put", config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [], "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest,
            "size": len(config)}}).encode()
        tags = [f"t{i}" for i in range(7)]
        for tag in tags:
            assert c.put_manifest("sealtest/put", tag, manifest, OCI_MANIFEST) == sha(manifest)
        assert c.put_manifest("sealtest/put", sha(manifest), manifest, OCI_MANIFEST) == sha(manifest)
        assert c.get_manifest("sealtest/put", "t3", [OCI_MANIFEST]) == (manifest, OCI_MANIFEST, sha(manifest))
        assert sorted(c.list_tags("sealtest/put", page_size=3)) == tags
        assert sorted(c.list_tags("sealtest/put")) == tags
        with pytest.raises(RegistryError, match="repository name not known"):
            c.list_tags("sealtest/none")


def test_catalog_pagination(client: RegistryClient) -> None:
    repos = client.catalog(n=2)
    assert len(repos) == len(set(repos))
    assert {"sealtest/tiny", "sealtest/multiarch", "sealtest/docker-list"} <= set(repos)
    assert client.catalog() == repos


def test_parallel_fetches_share_one_client(client: RegistryClient, seed_images: SeedSet) -> None:
    image = seed_images.images["sealtest/multilayer:latest"]
    blobs = [*image.layers, image.config] * 3

    def fetch(i: int) -> bytes:
        out = io.BytesIO()
        client.fetch_blob("sealtest/multilayer", blobs[i].digest, len(blobs[i].data), out)
        return out.getvalue()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(fetch, range(len(blobs)))) == [b.data for b in blobs]


# -- auth and TLS --------------------------------------------------------------------------------

def test_basic_auth(auth_registry: RegistryServer) -> None:
    with plain(auth_registry) as c:
        c.ping()
        digest = push_blob(c, "sealtest/auth", b"secret layer")
        assert c.blob_exists("sealtest/auth", digest)
    with plain(auth_registry, credentials=Credentials("sealtest", "wrong")) as c:
        with pytest.raises(RegistryAuthError, match="^invalid username/password$"):
            c.ping()
        with pytest.raises(RegistryAuthError, match="unauthorized: authentication required"):
            c.get_manifest("sealtest/auth", "latest", ALL_TYPES)
    with plain(auth_registry, credentials=None) as c, pytest.raises(RegistryAuthError) as e:
        c.get_manifest("sealtest/auth", "latest", ALL_TYPES)
    assert str(e.value) == (f"reading manifest latest in {auth_registry.host}/sealtest/auth: "
                            "unauthorized: authentication required")


def test_tls_with_ca_from_cert_dir(tls_registry: RegistryServer) -> None:
    with plain(tls_registry) as c:
        c.ping()
        digest = push_blob(c, "sealtest/tls", b"over tls")
        assert c.blob_exists("sealtest/tls", digest)


def test_tls_refused_without_ca(tls_registry: RegistryServer, tmp_path: Path) -> None:
    with plain(tls_registry, cert_dir=tmp_path) as c, pytest.raises(RegistryError) as e:
        c.ping()
    assert str(e.value) == (f'pinging container registry {tls_registry.host}: Get "https://{tls_registry.host}'
                            '/v2/": x509: certificate signed by unknown authority')


def test_tls_verify_false_accepts_self_signed(tls_registry: RegistryServer, tmp_path: Path) -> None:
    with plain(tls_registry, cert_dir=tmp_path, tls_verify=False) as c:
        c.ping()
        assert c.catalog() is not None


def test_client_certificate_pairs_in_cert_dir(tls_registry: RegistryServer, tmp_path: Path) -> None:
    assert tls_registry.cert_dir is not None and tls_registry.ca_cert is not None
    tls_dir = tls_registry.ca_cert.parent
    certs = tmp_path / "certs.d"
    certs.mkdir()
    shutil.copy(tls_registry.ca_cert, certs / "ca.crt")
    shutil.copy(tls_dir / "server.crt", certs / "client.cert")
    with pytest.raises(ConfigError, match="missing key client.key"):
        plain(tls_registry, cert_dir=certs)
    shutil.copy(tls_dir / "server.key", certs / "client.key")
    with plain(tls_registry, cert_dir=certs) as c:
        c.ping()
    (certs / "client.cert").unlink()
    with pytest.raises(ConfigError, match="missing client certificate client.cert"):
        plain(tls_registry, cert_dir=certs)


def test_tls_and_auth(tls_auth_registry: RegistryServer) -> None:
    with plain(tls_auth_registry) as c:
        c.ping()
        push_blob(c, "sealtest/tls-auth", b"both")
    with plain(tls_auth_registry, credentials=Credentials("sealtest", "bad")) as c, \
            pytest.raises(RegistryAuthError):
        c.ping()


def test_http_registry_needs_insecure(registry: RegistryServer) -> None:
    with plain(registry, tls_verify=True) as c, pytest.raises(RegistryError) as e:
        c.ping()
    assert str(e.value).endswith("http: server gave HTTP response to HTTPS client")
    with plain(registry, tls_verify=True, insecure=True) as c:
        c.ping()


# -- failures of the network and of misbehaving servers -----------------------------------------

def test_connection_refused() -> None:
    port = free_port()
    start = time.monotonic()
    with RegistryClient(f"127.0.0.1:{port}", RegistryOptions(tls_verify=False)) as c, \
            pytest.raises(RegistryError) as e:
        c.get_manifest("a/b", "latest", ALL_TYPES)
    assert str(e.value) == (f"pinging container registry 127.0.0.1:{port}: "
                            f'Get "http://127.0.0.1:{port}/v2/": '
                            f"dial tcp 127.0.0.1:{port}: connect: connection refused")
    assert time.monotonic() - start < 5


@dataclass
class RawServer:
    """Accepts connections and answers each request with whatever ``respond`` returns.

    ``respond(method, path, headers)`` gives raw bytes to send and whether to then stall (keep
    the connection open, silent) instead of closing. A TLS hello is dropped at once, so that
    an insecure client's https attempt fails fast and it falls back to http.
    """

    respond: Callable[[str, str, dict[str, str]], tuple[bytes, bool]]
    sock: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    silent: bool = False  # accept, then never say a word (not even to a TLS hello)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by the fixture
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            if self.silent:
                self.stop.wait()
                return
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data or buf[:1] == b"\x16" or data[:1] == b"\x16":
                    return
                buf += data
            head = buf.split(b"\r\n\r\n")[0].decode().split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            self.requests.append((method, path, headers))
            payload, stall = self.respond(method, path, headers)
            try:
                conn.sendall(payload)
            except OSError:
                return  # the client hung up, as it should for a body too long
            if stall:
                self.stop.wait()


def http_reply(status: str, body: bytes = b"", headers: dict[str, str] | None = None,
               length: int | None = None) -> bytes:
    hdrs = {"Connection": "close", **(headers or {})}
    if length is not None:
        hdrs["Content-Length"] = str(length)
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return head.encode() + body


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[str, str, dict[str, str]], tuple[bytes, bool]]], RawServer]]:
    servers: list[RawServer] = []

    def start(respond: Callable[[str, str, dict[str, str]], tuple[bytes, bool]]) -> RawServer:
        server = RawServer(respond)
        threading.Thread(target=server.serve, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop.set()
        s.sock.close()


RawStart = Callable[[Callable[[str, str, dict[str, str]], tuple[bytes, bool]]], RawServer]


def ping_ok(then: Callable[[str, str, dict[str, str]], tuple[bytes, bool]]) -> Callable[
        [str, str, dict[str, str]], tuple[bytes, bool]]:
    def respond(method: str, path: str, headers: dict[str, str]) -> tuple[bytes, bool]:
        if path == "/v2/":
            return http_reply("200 OK", b"{}", length=2), False
        return then(method, path, headers)
    return respond


@pytest.mark.parametrize("tls_verify", [True, False])
def test_stalled_server_times_out(raw_server: RawStart, tls_verify: bool) -> None:
    server = raw_server(lambda m, p, h: (b"", True))
    server.silent = True
    start = time.monotonic()
    with RegistryClient(server.host, RegistryOptions(tls_verify=tls_verify, timeout=1.0)) as c, \
            pytest.raises(RegistryError, match="timed out"):
        c.get_manifest("a/b", "latest", ALL_TYPES)
    # with tls_verify=False the https attempt times out, then the http fallback does
    assert time.monotonic() - start < (2.0 if tls_verify else 3.0)


def test_stall_in_the_middle_of_a_blob(raw_server: RawStart) -> None:
    data = b"x" * 1000
    server = raw_server(ping_ok(lambda m, p, h: (http_reply("200 OK", data[:100], length=1000), True)))
    start = time.monotonic()
    with RegistryClient(server.host, RegistryOptions(tls_verify=False, timeout=1.0, retries=0)) as c, \
            pytest.raises(RegistryError, match="timed out"):
        c.fetch_blob("a/b", sha(data), 1000, io.BytesIO())
    assert time.monotonic() - start < 3


def test_too_long_blob_is_refused_while_streaming(raw_server: RawStart) -> None:
    data = os.urandom(4096)
    evil = data + os.urandom(10_000_000)
    # no Content-Length: the client only learns the length by reading; it must stop at `size`
    server = raw_server(ping_ok(lambda m, p, h: (http_reply("200 OK", evil), False)))
    out = io.BytesIO()
    with RegistryClient(server.host, RegistryOptions(tls_verify=False, timeout=5)) as c, \
            pytest.raises(DigestMismatch, match="size mismatch"):
        c.fetch_blob("a/b", sha(data), len(data), out)
    assert len(out.getvalue()) <= len(data)


def test_wrong_content_is_a_digest_mismatch(raw_server: RawStart) -> None:
    data = b"what we asked for"
    server = raw_server(ping_ok(lambda m, p, h: (http_reply("200 OK", b"X" * len(data), length=len(data)),
                                                  False)))
    with RegistryClient(server.host, RegistryOptions(tls_verify=False)) as c, \
            pytest.raises(DigestMismatch, match=f"Digest did not match, expected {sha(data)}"):
        c.fetch_blob("a/b", sha(data), len(data), io.BytesIO())


def test_manifest_digest_and_size_limits(raw_server: RawStart) -> None:
    good = b'{"schemaVersion":2}'
    huge = b" " * (MANIFEST_LIMIT + 1)

    def respond(method: str, path: str, headers: dict[str, str]) -> tuple[bytes, bool]:
        body = huge if path.endswith("/huge") else b'{"schemaVersion":2,"evil":1}'
        return http_reply("200 OK", body, {"Content-Type": OCI_MANIFEST}, length=len(body)), False

    server = raw_server(ping_ok(respond))
    with RegistryClient(server.host, RegistryOptions(tls_verify=False)) as c:
        with pytest.raises(DigestMismatch, match="does not match"):
            c.get_manifest("a/b", sha(good), ALL_TYPES)
        with pytest.raises(RegistryError, match="more than the limit"):
            c.get_manifest("a/b", "huge", ALL_TYPES)


def test_transient_errors_are_retried(raw_server: RawStart) -> None:
    data = b"eventually"
    count = {"n": 0}

    def respond(method: str, path: str, headers: dict[str, str]) -> tuple[bytes, bool]:
        count["n"] += 1
        if count["n"] <= 2:
            return http_reply("503 Service Unavailable", b"busy", length=4), False
        return http_reply("200 OK", data, length=len(data)), False

    server = raw_server(ping_ok(respond))
    with RegistryClient(server.host, RegistryOptions(tls_verify=False, retries=3)) as c:
        out = io.BytesIO()
        c.fetch_blob("a/b", sha(data), len(data), out)
        assert out.getvalue() == data
    count["n"] = 0
    with RegistryClient(server.host, RegistryOptions(tls_verify=False, retries=0)) as c, \
            pytest.raises(RegistryError, match="received unexpected HTTP status: 503"):
        c.fetch_blob("a/b", sha(data), len(data), io.BytesIO())


@pytest.mark.parametrize("ranges", [True, False])
def test_cut_download_resumes_or_restarts(raw_server: RawStart, ranges: bool) -> None:
    data = os.urandom(50_000)

    def respond(method: str, path: str, headers: dict[str, str]) -> tuple[bytes, bool]:
        rng = headers.get("range", "")
        if rng and ranges:
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            content_range = {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            reply = http_reply("206 Partial Content", data[start:], content_range, length=len(data) - start)
            return reply, False
        if len(server.requests) <= 2:  # ping, then the first GET: cut after 20 kB
            return http_reply("200 OK", data[:20_000], length=len(data)), False
        return http_reply("200 OK", data, length=len(data)), False

    server = raw_server(ping_ok(respond))
    out = io.BytesIO()
    with RegistryClient(server.host, RegistryOptions(tls_verify=False)) as c:
        c.fetch_blob("a/b", sha(data), len(data), out)
    assert out.getvalue() == data
    assert len(server.requests) == 3
    assert server.requests[-1][2].get("range") == "bytes=20000-"
