"""Requests, responses and the router: the small vocabulary every route module uses."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qs, unquote

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

# The newest Docker API we answer to, and the oldest.  Current Docker clients refuse servers
# older than 1.44 ("client version is too new") unless negotiation succeeds.
API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
LIBPOD_API_VERSION = "4.3.1"


class Request:
    def __init__(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
                 params: dict[str, str], engine: Engine, api_version: str, libpod: bool,
                 conn: socket.socket | None = None) -> None:
        self.method = method
        self.path = path
        self.query = {k: v for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.headers = headers
        self.body = body
        self.params = params
        self.engine = engine
        self.api_version = api_version
        self.libpod = libpod
        self.conn = conn

    def _values(self, name: str) -> list[str]:
        """libpod decodes its query with gorilla/schema, which ignores case: the remote podman sends
        ``usename`` for ``useName``."""
        values = self.query.get(name)
        if values is None and self.libpod:
            lowered = name.lower()
            values = next((v for k, v in self.query.items() if k.lower() == lowered), None)
        return values or []

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self._values(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self._values(name))

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", ""):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise InvalidArgument(f'invalid boolean value for "{name}": "{value}"')

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value in (None, ""):
            return default
        try:
            number = int(value) if value.lstrip("-").isdigit() else int(float(value))  # some clients send 10.0
        except (ValueError, OverflowError) as e:  # "abc", "inf", "nan"
            raise InvalidArgument(f'invalid integer value for "{name}": "{value}"') from e
        if not -(1 << 63) <= number < 1 << 63:  # what Go's strconv refuses as out of range
            raise InvalidArgument(f'invalid integer value for "{name}": "{value}": value out of range')
        return number

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body, parse_constant=_no_constant, parse_float=_finite_float)
        except (ValueError, RecursionError) as e:
            raise InvalidArgument(f"decoding request body: {e}") from e

    def filters(self) -> dict[str, list[str]]:
        """Docker's ``filters`` query: JSON ``{"key": ["v"]}`` or ``{"key": {"v": true}}``."""
        raw = self.arg("filters")
        if not raw:
            return {}
        try:
            doc = json.loads(raw)
        except ValueError as e:
            raise InvalidArgument(f"invalid filters: {e}") from e
        if doc is not None and not isinstance(doc, dict):
            raise InvalidArgument("invalid filters: a JSON object of key: [values] is expected")
        out: dict[str, list[str]] = {}
        for key, value in (doc or {}).items():
            if isinstance(value, dict):
                out[key] = [k for k, on in value.items() if on]
            elif isinstance(value, list):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out

    def filter_specs(self) -> list[str]:
        """The ``filters`` query as CLI-style ``key=value`` strings, for engine filters."""
        return [f"{k}={v}" for k, values in self.filters().items() for v in values]


def error_body(status: int, message: str) -> bytes:
    """Docker clients read ``message``; podman-py reads ``cause`` and ``response`` too."""
    cause = message.rsplit(": ", 1)[-1] if ": " in message else message
    return json.dumps({"cause": cause, "message": message, "response": status}).encode() + b"\n"


class Response:
    """A complete body, a stream of chunks, or a hijacked connection."""

    def __init__(self, status: int = 200, body: bytes = b"", content_type: str = "application/json",
                 headers: Mapping[str, str] | None = None, stream: Iterable[bytes] | None = None,
                 hijack: Callable[[socket.socket], None] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.stream = stream
        self.hijack = hijack


def string_map(value: Any, what: str) -> dict[str, str]:
    """A request body's object of strings (Labels, Options...): absent is empty, anything else a 400."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"decoding request body: {what} must be an object of strings")
    return {str(k): str(v) for k, v in value.items()}


def string_field(doc: dict[str, Any], key: str) -> str:
    """A string field of a request body (absent or null is ""); another JSON type is a 400 in the
    words of Go's decoder, which is what Docker and Podman answer."""
    value = doc.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        kind = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}.get(type(value), "value")
        raise InvalidArgument(f"decoding request body: json: cannot unmarshal {kind} into field {key} of type string")
    return value


def json_response(doc: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(doc).encode() + b"\n")


def no_content() -> Response:
    return Response(204, b"", content_type="")


Handler = Callable[[Request], Response]


class Router:
    """Routes are ``METHOD /path/{param}``; ``{name:path}`` matches slashes too (image names)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None | str:
        """The handler and path parameters; "405" when the path exists for another method."""
        other = False
        for m, regex, handler in self._routes:
            found = regex.match(path)
            if found:
                if m == method or (method == "HEAD" and m == "GET"):  # values decoded: "sealtest%2Ftiny"
                    return handler, {k: unquote(v) for k, v in found.groupdict().items()}
                other = True
        return "405" if other else None


def _no_constant(name: str) -> Any:
    """NaN and Infinity are no JSON (Python's reader takes them): refused, as Go's decoder refuses them,
    before such a number can reach the state DB or an integer conversion."""
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"json: cannot unmarshal number {text} into a float64: value out of range")
    return number
