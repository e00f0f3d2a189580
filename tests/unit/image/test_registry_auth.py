"""Challenge parsing and the Bearer-token flow, against a small fake that speaks the token protocol.

docker-distribution's token auth needs an external token server, which is not available offline,
so the registry side here is a fake (http.server) that checks scopes the way the spec says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from sealpod.errors import RegistryAuthError
from sealpod.image.registry.auth import Challenge, Credentials, parse_challenges, registry_error_text
from sealpod.image.registry.client import RegistryClient, RegistryOptions

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {}, "layers": []}).encode()
IDENTITY_TOKEN = "refresh-me-please"


# -- the challenge parser ----------------------------------------------------------------------

def test_parse_bearer_challenge() -> None:
    [ch] = parse_challenges(['Bearer realm="https://auth.example.io/token",service="registry.example.io",'
                             'scope="repository:library/busybox:pull,push"'])
    assert ch == Challenge("bearer", {"realm": "https://auth.example.io/token",
                                      "service": "registry.example.io",
                                      "scope": "repository:library/busybox:pull,push"})


def test_parse_several_challenges_in_one_value_and_across_values() -> None:
    got = parse_challenges(['Basic realm="a, b", Bearer realm="https://t/x",error="invalid_token"',
                            "Negotiate abc123==", 'Digest realm=r,qop="auth"'])
    assert [c.scheme for c in got] == ["basic", "bearer", "negotiate", "digest"]
    assert got[0].params == {"realm": "a, b"}
    assert got[1].params == {"realm": "https://t/x", "error": "invalid_token"}
    assert got[2].params == {}
    assert got[3].params == {"realm": "r", "qop": "auth"}


def test_parse_quoted_escapes_spaces_and_case() -> None:
    [ch] = parse_challenges(['BEARER  Realm = "say \\"hi\\"" , Service=svc'])
    assert ch.scheme == "bearer"
    assert ch.params == {"realm": 'say "hi"', "service": "svc"}


def test_parse_empty_and_bare_scheme() -> None:
    assert parse_challenges([]) == []
    assert parse_challenges([""]) == []
    assert parse_challenges(["Basic"]) == [Challenge("basic", {})]


def test_registry_error_text_words_like_containers_image() -> None:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}'
    assert registry_error_text(body) == "manifest unknown: manifest unknown"  # as c/image words it
    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
    assert registry_error_text(body) == "unauthorized: authentication required"
    assert registry_error_text(b'{"details":"incorrect username or password"}') == \
        "incorrect username or password"
    assert registry_error_text(b"<html>") == ""


# -- a fake registry with a token server -------------------------------------------------------

@dataclass
class FakeState:
    users: dict[str, str] = field(default_factory=dict)  # token server accepts these (basic auth)
    anonymous: bool = True  # the token server issues tokens without credentials
    scheme: str = "bearer"  # "bearer" or "basic" (the registry then checks the users itself)
    refuse_tokens: bool = False  # the registry refuses every token (e.g. revoked)
    tokens: dict[str, set[str]] = field(default_factory=dict)
    token_requests: list[tuple[str, dict[str, list[str]], str]] = field(default_factory=list)
    registry_requests: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def grants(self, token: str, repo: str, actions: set[str]) -> bool:
        for scope in self.tokens.get(token, set()):
            kind, _, rest = scope.partition(":")
            name, _, acts = rest.rpartition(":")
            if kind == "repository" and name == repo and actions <= set(acts.split(",")):
                return True
        return False


class Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            self._token(parse_qs(urlsplit(self.path).query))
        else:
            self._registry()

    def do_HEAD(self) -> None:
        self._registry()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        if self.path.startswith("/token"):
            self._token(parse_qs(data.decode()), form=True)
        else:
            self._registry()

    def _basic_user(self) -> tuple[str, str] | None:
        authz = self.headers.get("Authorization", "")
        if not authz.startswith("Basic "):
            return None
        user, _, pw = base64.b64decode(authz[6:]).decode().partition(":")
        return user, pw

    def _token(self, query: dict[str, list[str]], form: bool = False) -> None:
        st = self.server.state
        with st.lock:
            st.token_requests.append((self.command, query, self.headers.get("Authorization", "")))
        if form:
            ok = query.get("grant_type") == ["refresh_token"]
            ok = ok and query.get("refresh_token") == [IDENTITY_TOKEN]
            scopes = query.get("scope", [""])[0].split()
        else:
            creds = self._basic_user()
            ok = st.users.get(creds[0]) == creds[1] if creds else st.anonymous
            scopes = query.get("scope", [])
        if not ok:
            self._send(401, b'{"details":"incorrect username or password"}')
            return
        token = f"tok{len(st.tokens)}"
        with st.lock:
            st.tokens[token] = set(scopes)
        self._send(200, json.dumps({"token": token, "expires_in": 300}).encode())

    def _challenge(self, scope: str) -> None:
        host = self.headers["Host"]
        if self.server.state.scheme == "basic":
            header = 'Basic realm="fake"'
        else:
            header = f'Bearer realm="http://{host}/token",service="fake-registry"'
            header += f',scope="{scope}"' if scope else ""
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        self._send(401, body, {"WWW-Authenticate": header, "Content-Type": "application/json"})

    def _authorized(self, repo: str, actions: set[str], extra: tuple[str, set[str]] | None) -> bool:
        st = self.server.state
        authz = self.headers.get("Authorization", "")
        if st.scheme == "basic":
            creds = self._basic_user()
            return creds is not None and st.users.get(creds[0]) == creds[1]
        if not authz.startswith("Bearer ") or st.refuse_tokens:
            return False
        token = authz[7:]
        if not repo:
            return token in st.tokens
        return st.grants(token, repo, actions) and (extra is None or st.grants(token, *extra))

    def _registry(self) -> None:
        st = self.server.state
        parts = urlsplit(self.path)
        with st.lock:
            st.registry_requests.append((self.command, self.path, self.headers.get("Authorization", "")))
        if parts.path == "/v2/":
            if self._authorized("", set(), None):
                self._send(200, b"{}")
            else:
                self._challenge("")
            return
        repo, _, rest = parts.path[len("/v2/"):].partition("/manifests/")
        if rest:
            if self._authorized(repo, {"pull"}, None):
                self._send(200, MANIFEST, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
            else:
                self._challenge(f"repository:{repo}:pull")
            return
        repo = parts.path[len("/v2/"):].partition("/blobs/uploads/")[0]
        src = dict(parse_qsl(parts.query)).get("from", "")
        if self._authorized(repo, {"pull", "push"}, (src, {"pull"})):
            self._send(201, b"", {"Location": f"/v2/{repo}/blobs/x"})
        else:
            self._challenge(f"repository:{repo}:pull,push repository:{src}:pull")


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer(FakeState())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def client(server: FakeServer, creds: Credentials | None = None) -> RegistryClient:
    return RegistryClient(server.host, RegistryOptions(tls_verify=False, credentials=creds, timeout=5,
                                                       retries=0))


# -- the token flow ----------------------------------------------------------------------------

def test_anonymous_token_is_fetched_once_per_scope(fake: FakeServer) -> None:
    with client(fake) as c:
        body, media_type, digest = c.get_manifest("lib/app", "latest", [OCI_MANIFEST])
        assert body == MANIFEST
        assert media_type == "application/vnd.oci.image.manifest.v1+json"
        assert digest == "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
        c.get_manifest("lib/app", "v2", [])
        c.get_manifest("lib/other", "latest", [])
    reqs = fake.state.token_requests
    assert len(reqs) == 2, reqs
    method, query, authz = reqs[0]
    assert (method, authz) == ("GET", "")
    assert query["service"] == ["fake-registry"] and query["scope"] == ["repository:lib/app:pull"]
    assert reqs[1][1]["scope"] == ["repository:lib/other:pull"]
    # after the first challenge (from the ping), requests carry the token up front: no more 401s
    manifest_requests = [r for r in fake.state.registry_requests if "/manifests/" in r[1]]
    assert all(r[2].startswith("Bearer ") for r in manifest_requests)


def test_token_with_credentials(fake: FakeServer) -> None:
    fake.state.users = {"alice": "wonderland"}
    fake.state.anonymous = False
    with client(fake, Credentials("alice", "wonderland")) as c:
        c.get_manifest("lib/app", "latest", [])
    [(_, query, authz)] = fake.state.token_requests
    assert authz == "Basic " + base64.b64encode(b"alice:wonderland").decode()
    assert query["account"] == ["alice"]


def test_token_server_refuses_bad_credentials(fake: FakeServer) -> None:
    fake.state.users = {"alice": "wonderland"}
    fake.state.anonymous = False
    with client(fake, Credentials("alice", "nope")) as c, pytest.raises(RegistryAuthError) as e:
        c.get_manifest("lib/app", "latest", [])
    assert str(e.value) == ("unable to retrieve auth token: invalid username/password: "
                            "incorrect username or password")


def test_anonymous_token_refused_without_credentials(fake: FakeServer) -> None:
    fake.state.anonymous = False
    with client(fake) as c, pytest.raises(RegistryAuthError, match="unable to retrieve auth token"):
        c.get_manifest("lib/app", "latest", [])


def test_identity_token_uses_the_refresh_token_grant(fake: FakeServer) -> None:
    with client(fake, Credentials("<token>", IDENTITY_TOKEN)) as c:
        c.get_manifest("lib/app", "latest", [])
    [(method, form, _)] = fake.state.token_requests
    assert method == "POST"
    assert form["grant_type"] == ["refresh_token"] and form["scope"] == ["repository:lib/app:pull"]


def test_push_scope_escalates_for_a_cross_repository_mount(fake: FakeServer) -> None:
    with client(fake) as c:
        c.get_manifest("lib/app", "latest", [])
        digest = "sha256:" + "0" * 64
        assert c.mount_blob("lib/copy", digest, "lib/app") is True
    scopes = [set(q.get("scope", [])) for _, q, _ in fake.state.token_requests]
    assert {"repository:lib/copy:pull,push", "repository:lib/app:pull"} in scopes


def test_a_refused_token_is_final_not_a_loop(fake: FakeServer) -> None:
    fake.state.refuse_tokens = True
    with client(fake) as c, pytest.raises(RegistryAuthError) as e:
        c.get_manifest("lib/app", "latest", [])
    want = f"reading manifest latest in {fake.host}/lib/app: unauthorized: authentication required"
    assert str(e.value) == want
    assert len(fake.state.registry_requests) < 6


def test_ping_validates_credentials_through_the_token(fake: FakeServer) -> None:
    fake.state.users = {"alice": "wonderland"}
    fake.state.anonymous = False
    with client(fake, Credentials("alice", "wonderland")) as c:
        c.ping()
    with client(fake, Credentials("alice", "bad")) as c, pytest.raises(RegistryAuthError):
        c.ping()


def test_basic_challenge(fake: FakeServer) -> None:
    fake.state.scheme = "basic"
    fake.state.users = {"bob": "builder"}
    with client(fake, Credentials("bob", "builder")) as c:
        assert c.get_manifest("lib/app", "latest", [])[0] == MANIFEST
        c.ping()
    with client(fake) as c, pytest.raises(RegistryAuthError, match="unauthorized: authentication required"):
        c.get_manifest("lib/app", "latest", [])
    with client(fake, Credentials("bob", "x")) as c, pytest.raises(RegistryAuthError,
                                                                   match="^invalid username/password$"):
        c.ping()
    assert fake.state.token_requests == []
