"""Registry authentication: the escalation chain anonymous → Bearer token → Basic.

A request first goes out with whatever the registry asked for last time (nothing, at first).
A 401 carries ``WWW-Authenticate`` challenges; :meth:`Authenticator.challenged` learns from them
and says whether a retry can succeed:

* ``Bearer realm=..,service=..,scope=..`` — fetch a token from the realm (anonymously, or with
  the user's credentials as Basic auth, or with an identity token through the OAuth2
  refresh-token grant), cache it per (realm, service, scopes) until it expires, retry;
* ``Basic`` — retry with the credentials, if there are any.

A second 401 with the same credentials is final: the caller reports the registry's words.
Token fetches need HTTP; the caller passes a ``fetch`` function so that this module stays
free of connection handling and testable against any server.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

from sealpod.errors import RegistryAuthError, RegistryError
from sealpod.utils.record import dataclass, field

# Docker's convention: this user name means "the password is an identity (refresh) token".
IDENTITY_TOKEN_USER = "<token>"
# The token spec says a token lives 60 s unless the server says otherwise.
_DEFAULT_TOKEN_LIFETIME = 60
_EXPIRY_MARGIN = 5.0

Fetch = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, bytes]]
"""``fetch(method, url, headers, body) -> (status, body)``; raises RegistryError when unreachable."""


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or ``<token>`` and an identity token."""

    username: str
    password: str = field(repr=False)

    @property
    def is_identity_token(self) -> bool:
        return self.username == IDENTITY_TOKEN_USER

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge; ``scheme`` lower-cased, parameter names too."""

    scheme: str
    params: Mapping[str, str]


def repo_scope(repo: str, *actions: str) -> str:
    """The token scope string for a repository, e.g. ``repository:library/busybox:pull``."""
    return f"repository:{repo}:{','.join(actions or ('pull',))}"


CATALOG_SCOPE = "registry:catalog:*"


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """Parse ``WWW-Authenticate`` header values (RFC 7235; several challenges may share one value).

    >>> parse_challenges(['Bearer realm="https://a/token",service="reg", Basic realm="x"'])[1].scheme
    'basic'
    """
    out: list[Challenge] = []
    for value in values:
        out.extend(_parse_one_header(value))
    return out


def _parse_one_header(text: str) -> list[Challenge]:
    out: list[Challenge] = []
    pos, n = 0, len(text)
    while pos < n:
        pos = _skip(text, pos, " \t,")
        start = pos
        while pos < n and text[pos] not in " \t,=":
            pos += 1
        if pos == start:
            break
        scheme = text[start:pos].lower()
        params: dict[str, str] = {}
        pos = _parse_params(text, _skip_token68(text, pos), params)
        out.append(Challenge(scheme, params))
    return out


def _skip_token68(text: str, pos: int) -> int:
    """Skip a ``token68`` credential right after the scheme (``Negotiate abc==``); no parameters there."""
    n = len(text)
    p = _skip(text, pos, " \t")
    start = p
    while p < n and text[p] not in " \t,=":
        p += 1
    if p == start:
        return pos
    p = _skip(text, p, "=")
    end = _skip(text, p, " \t")
    return end if end >= n or text[end] == "," else pos


def _parse_params(text: str, pos: int, params: dict[str, str]) -> int:
    """Read ``name=value`` pairs until the next challenge's scheme; return where it starts."""
    n = len(text)
    while True:
        save = _skip(text, pos, " \t,")
        start = save
        while save < n and text[save] not in " \t,=":
            save += 1
        name = text[start:save]
        after = _skip(text, save, " \t")
        if not name or after >= n or text[after] != "=":
            return start  # another scheme, or the end
        value, pos = _parse_value(text, _skip(text, after + 1, " \t"))
        params[name.lower()] = value


def _parse_value(text: str, pos: int) -> tuple[str, int]:
    n = len(text)
    if pos < n and text[pos] == '"':
        buf: list[str] = []
        pos += 1
        while pos < n and text[pos] != '"':
            if text[pos] == "\\" and pos + 1 < n:
                pos += 1
            buf.append(text[pos])
            pos += 1
        return "".join(buf), pos + 1
    start = pos
    while pos < n and text[pos] not in " \t,":
        pos += 1
    return text[start:pos], pos


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """Per-registry authentication state, shared by all threads of one client (it locks)."""

    def __init__(self, registry: str, credentials: Credentials | None, fetch: Fetch) -> None:
        self.registry = registry
        self.credentials = credentials
        self._fetch = fetch
        self._lock = threading.Lock()
        self._scheme: str | None = None
        self._bearer: Mapping[str, str] = {}
        self._tokens: dict[tuple[str, str, frozenset[str]], _Token] = {}

    @property
    def scheme(self) -> str | None:
        """``None`` until a registry challenged us, then ``"bearer"`` or ``"basic"``."""
        return self._scheme

    def header(self, scopes: Sequence[str]) -> str | None:
        """The Authorization value to send up front, from what earlier challenges taught us."""
        with self._lock:
            if self._scheme == "basic" and self.credentials is not None:
                return self.credentials.basic_header()
            if self._scheme == "bearer":
                return "Bearer " + self._token_locked(self._key(scopes, ()))
        return None

    def learn(self, challenges: Sequence[Challenge]) -> None:
        """Remember how the registry wants us to authenticate (from the ping), fetching nothing yet."""
        bearer = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
        with self._lock:
            if bearer is not None:
                self._scheme, self._bearer = "bearer", dict(bearer.params)
            elif any(c.scheme == "basic" for c in challenges):
                self._scheme = "basic"

    def challenged(self, challenges: Sequence[Challenge], scopes: Sequence[str], sent: str | None) -> bool:
        """Learn from a 401; True when retrying with the new Authorization may succeed."""
        bearer = next((c for c in challenges if c.scheme == "bearer" and c.params.get("realm")), None)
        with self._lock:
            if bearer is not None:
                return self._bearer_challenge(bearer, scopes, sent)
            if any(c.scheme == "basic" for c in challenges) and self.credentials is not None:
                self._scheme = "basic"
                return sent != self.credentials.basic_header()
        return False

    def _bearer_challenge(self, ch: Challenge, scopes: Sequence[str], sent: str | None) -> bool:
        self._scheme = "bearer"
        self._bearer = dict(ch.params)
        key = self._key(scopes, ch.params.get("scope", "").split())
        cached = self._tokens.get(key)
        if cached is not None and sent == "Bearer " + cached.value:
            del self._tokens[key]  # the registry refused the very token: it is final
            return False
        self._token_locked(key)
        return True

    def _key(self, scopes: Sequence[str], extra: Sequence[str]) -> tuple[str, str, frozenset[str]]:
        return (self._bearer.get("realm", ""), self._bearer.get("service", ""),
                frozenset(s for s in (*scopes, *extra) if s))

    def _token_locked(self, key: tuple[str, str, frozenset[str]]) -> str:
        tok = self._tokens.get(key)
        if tok is not None and tok.expires > time.monotonic():
            return tok.value
        tok = self._request_token(*key)
        self._tokens[key] = tok
        return tok.value

    def _request_token(self, realm: str, service: str, scopes: frozenset[str]) -> _Token:
        if urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(f"invalid token realm {realm!r} in the challenge of {self.registry}")
        creds = self.credentials
        if creds is not None and creds.is_identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": creds.password,
                    "service": service, "scope": " ".join(sorted(scopes)), "client_id": "sealpod"}
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            status, body = self._fetch("POST", realm, headers, urlencode(form).encode())
        else:
            query = [("service", service)] if service else []
            query += [("scope", s) for s in sorted(scopes)]
            headers = {}
            if creds is not None:
                query.append(("account", creds.username))
                headers["Authorization"] = creds.basic_header()
            url = realm + (("&" if "?" in realm else "?") + urlencode(query) if query else "")
            status, body = self._fetch("GET", url, headers, None)
        return self._parse_token(status, body)

    def _parse_token(self, status: int, body: bytes) -> _Token:
        if status in (401, 403):
            detail = registry_error_text(body) or "unauthorized"
            words = "invalid username/password: " if self.credentials is not None else ""
            raise RegistryAuthError(f"unable to retrieve auth token: {words}{detail}")
        if status != 200:
            raise RegistryAuthError(f"unable to retrieve auth token: unexpected HTTP status {status} "
                                    "from the token server")
        try:
            doc = json.loads(body)
            value = doc.get("token") or doc.get("access_token")
            lifetime = int(doc.get("expires_in") or _DEFAULT_TOKEN_LIFETIME)
        except (ValueError, AttributeError, TypeError) as e:
            raise RegistryAuthError("unable to retrieve auth token: invalid JSON from token server") from e
        if not isinstance(value, str) or not value:
            raise RegistryAuthError("unable to retrieve auth token: the token server sent no token")
        lifetime = max(lifetime, _DEFAULT_TOKEN_LIFETIME)
        return _Token(value, time.monotonic() + lifetime - _EXPIRY_MARGIN)


def registry_error_text(body: bytes) -> str:
    """The words of a registry's JSON error body (``{"errors": [{"code", "message"}]}``), or ''.

    Worded as containers/image does: ``manifest unknown: manifest unknown`` or ``unauthorized:
    authentication required`` (the code, lower-cased, then the message, even when they agree).
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list):
        if isinstance(doc, dict) and isinstance(doc.get("details"), str):
            return str(doc["details"])  # Docker Hub's token server
        return ""
    texts = []
    for err in errors:
        if not isinstance(err, dict):
            continue
        code = str(err.get("code", "")).lower().replace("_", " ")
        msg = str(err.get("message", "") or "")
        texts.append(f"{code}: {msg}" if code and msg else code or msg)
    return "; ".join(t for t in texts if t)
