"""Go's ``time.ParseDuration``, with its error messages: flags Podman parses as durations
(``wait --interval``) reject bad input in Go's words."""

from __future__ import annotations

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_go_duration(text: str) -> int:
    """Nanoseconds in ``text`` (``1h2m3.5s``, ``-250ms``, ``0``); ValueError worded as Go's."""
    rest, sign = text, 1
    if rest[:1] in ("-", "+"):
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"time: invalid duration {_quote(text)}")
    total = 0.0
    while rest:
        i = 0
        while i < len(rest) and rest[i].isdigit():
            i += 1
        whole, rest = rest[:i], rest[i:]
        frac = ""
        if rest[:1] == ".":
            j = 1
            while j < len(rest) and rest[j].isdigit():
                j += 1
            frac, rest = rest[1:j], rest[j:]
        if not whole and not frac:
            raise ValueError(f"time: invalid duration {_quote(text)}")
        j = 0
        while j < len(rest) and rest[j] != "." and not rest[j].isdigit():
            j += 1
        unit, rest = rest[:j], rest[j:]
        if not unit:
            raise ValueError(f"time: missing unit in duration {_quote(text)}")
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {_quote(unit)} in duration {_quote(text)}")
        total += float(f"{whole or 0}.{frac or 0}") * _UNITS[unit]
    return sign * int(total)
