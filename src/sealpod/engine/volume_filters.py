"""``volume ls``/``volume prune`` filters, and the Go-style times they take (``until=1h30m``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.volumes import Volume

_DURATION_RE = re.compile(r"(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_until(value: str, now: float) -> float:
    """A Go duration (``1h30m``: that long ago), Unix seconds, or an RFC 3339 date/time."""
    if _DURATION_RE.fullmatch(value):
        return now - sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(value))
    try:
        return float(value)
    except ValueError:
        pass
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f'failed to parse time "{value}"') from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.timestamp()


VolumePredicate = Callable[["Volume"], bool]


def _bool(key: str, value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidArgument(f'"{value}" is not a valid value for the "{key}" filter - must be true or false')


def _key_value_match(have: Mapping[str, str], value: str) -> bool:
    """``KEY`` or ``KEY=VALUE``; a ``*`` in KEY stands for any text, the whole key matched (Podman's
    ``label=hello*`` finds ``helloworld``); the value is compared as is."""
    key, has_value, want = value.partition("=")
    if "*" in key:
        pattern = re.compile(".*".join(re.escape(part) for part in key.split("*")))
        keys = [k for k in have if pattern.fullmatch(k)]
    else:
        keys = [key] if key in have else []
    return any(not has_value or have[k] == want for k in keys)


def filter_predicate(key: str, value: str, in_use: Callable[[Volume], bool], now: float) -> VolumePredicate:
    """One ``--filter key=value`` of ``volume ls``/``prune``."""
    if key == "name":
        pattern = re.compile(value)
        return lambda v: pattern.search(v.name) is not None
    if key == "driver":
        return lambda v: v.driver == value
    if key == "scope":
        return lambda v: value == "local"
    if key == "label":
        return lambda v: _key_value_match(v.labels, value)
    if key == "label!":
        return lambda v: not _key_value_match(v.labels, value)
    if key == "opt":
        return lambda v: _key_value_match(v.options, value)
    if key == "dangling":
        want = _bool(key, value)
        return lambda v: in_use(v) != want
    if key == "until":
        pivot = parse_until(value, now)
        return lambda v: v.created < pivot
    raise InvalidArgument(f'"{key}" is an invalid volume filter')


def build_filters(filters: Sequence[str], allowed: Sequence[str],
                  in_use: Callable[[Volume], bool], now: float) -> list[VolumePredicate]:
    out = []
    for spec in filters:
        key, sep, value = spec.partition("=")
        if not sep or key not in allowed:
            raise InvalidArgument(f'"{key}" is an invalid volume filter')
        out.append(filter_predicate(key, value, in_use, now))
    return out
