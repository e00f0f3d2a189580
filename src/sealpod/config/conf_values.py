"""containers.conf values Podman checks beyond their TOML type: integer ranges of the Go field,
sizes, ulimits, devices, umask, time zone, CIDRs, pull policy, absolute paths.

Podman refuses such a file before any command runs (``validating containers config: ...``), so a
bad value is an error of every command here too, never a surprise deep inside ``run``.  The checks
are cheap (no ipaddress import for the usual IPv4 CIDRs): every default passes through them on
each start-up.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_SIZE = re.compile(r"^\d+(\.\d+)?\s*([kmgtp]i?)?b?$", re.IGNORECASE)
_UMASK = re.compile(r"^[0-7]{1,4}$")
_IPV4_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
_ULIMITS = frozenset({"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
                      "rss", "rtprio", "rttime", "sigpending", "stack", "as"})
_RANGES = {"int64": (-(1 << 63), (1 << 63) - 1), "uint32": (0, (1 << 32) - 1), "uint16": (0, (1 << 16) - 1)}
PULL_POLICIES = ("always", "missing", "never", "newer", "ifmissing", "ifnewer", "true", "false")
ZONEINFO = ("/usr/share/zoneinfo", "/etc/zoneinfo")


def _error(message: str) -> Exception:
    from sealpod.config.settings import SettingTypeError

    return SettingTypeError(message)


def int_of(go_type: str) -> Callable[[object], int]:
    """An integer that fits the Go field Podman decodes it into, refused in TOML decoder's words."""
    low, high = _RANGES[go_type]

    def parse(value: object) -> int:
        from sealpod.config.settings import parse_int

        number = parse_int(value)
        if not low <= number <= high:
            raise _error(f"{number} is out of range for {go_type}")
        return number
    return parse


def parse_shm_size(value: object) -> str:
    from sealpod.config.settings import parse_size_str

    text = parse_size_str(value)
    if not _SIZE.match(text.strip()):
        raise _error(f"invalid --shm-size {text}, \"invalid size: '{text}'\"")
    return text


def parse_umask(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    if not _UMASK.match(text):
        raise _error(f"not a valid umask {text}")
    return text


def parse_ulimits(value: object) -> tuple[str, ...]:
    """``name=soft[:hard]``, as ``--ulimit`` takes them (-1 or "unlimited" for no limit)."""
    from sealpod.config.settings import parse_str_list

    items = parse_str_list(value)
    for item in items:
        name, sep, limits = item.partition("=")
        if not sep or name not in _ULIMITS:
            raise _error(f"unrecognized ulimit {item}: invalid ulimit type: {name}")
        for part in limits.split(":", 1):
            if part not in ("-1", "unlimited") and not re.fullmatch(r"\d+", part):
                raise _error(f'unrecognized ulimit {item}: strconv.ParseInt: parsing "{part}": invalid syntax')
    return items


def parse_devices(value: object) -> tuple[str, ...]:
    """``host[:container[:mode]]``, mode made of r, w and m."""
    from sealpod.config.settings import parse_str_list

    items = parse_str_list(value)
    for item in items:
        parts = item.split(":")
        if len(parts) > 3 or not parts[0]:
            raise _error(f"invalid device specification: {item}")
        if len(parts) == 3 or (len(parts) == 2 and not parts[1].startswith("/")):
            mode = parts[-1]
            if not mode or set(mode) - set("rwm") or len(set(mode)) != len(mode):
                raise _error(f"invalid device mode: {mode}")
    return items


def parse_tz(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    if text and text != "local":
        import os

        if ".." in text.split("/") or not any(os.path.isfile(os.path.join(d, text)) for d in ZONEINFO):
            raise _error(f"find timezone {text} in paths: {', '.join(ZONEINFO)}")
    return text


def cidr_problem(text: str) -> str | None:
    """Why ``text`` is no CIDR (Go's words), or None."""
    m = _IPV4_CIDR.match(text)
    if m:
        if all(int(g) <= 255 for g in m.groups()[:4]) and int(m.group(5)) <= 32:
            return None
        return f"invalid CIDR address: {text}"
    if ":" in text and "/" in text:
        import ipaddress

        try:
            ipaddress.ip_network(text, strict=False)
            return None
        except ValueError:
            pass
    return f"invalid CIDR address: {text}"


def parse_subnet(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    problem = cidr_problem(text)
    if problem:
        raise _error(f"failed to parse default subnet: {problem}")
    return text


def parse_pools(value: object) -> Any:
    from sealpod.config.settings import parse_subnet_pools

    pools = parse_subnet_pools(value)
    for pool in pools:
        problem = cidr_problem(pool.base)
        if problem:
            raise _error(problem)
    return pools


def parse_pull_policy(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    if text.lower() not in PULL_POLICIES:
        raise _error(f'invalid pull type from containers.conf "{text}": unsupported pull policy "{text}"')
    return text


def parse_abs_path(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    if text and not text.startswith("/"):
        raise _error(f'temporary directory must be an absolute path - instead got "{text}"')
    return text


def parse_network_backend(value: object) -> str:
    from sealpod.config.settings import parse_str

    text = parse_str(value)
    if text not in ("", "netavark", "cni"):
        raise _error(f'unsupported network backend "{text}", check network_backend in containers.conf')
    return text

