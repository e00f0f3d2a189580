"""Timestamps in the RFC 3339 shapes Podman and Docker print.  One module so every report spells a
time the same way, and small so that writing a container's spec (its ``io.kubernetes.cri-o.Created``
annotation) does not load the whole inspect report.

Go prints times in several shapes and clients compare them as text, so each shape has its own
function rather than one with switches."""

from __future__ import annotations

import time
from datetime import UTC, datetime

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time, for what never happened


def rfc3339(ts: float) -> str:
    """RFC 3339 in UTC with microseconds, as inspect's ``Created``; Go's zero time for 0."""
    if not ts:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def rfc3339_nano(ns: int) -> str:
    """Go's ``RFC3339Nano`` in UTC, trailing zeros of the fraction dropped (events, system df)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    tail = f".{frac:09d}".rstrip("0").rstrip(".")
    return f"{base}{tail}Z"


def rfc3339_local(ts: float) -> str:
    """Go's ``RFC3339Nano`` in the local zone (``Z`` for UTC), as volume and secret inspect print it."""
    text = datetime.fromtimestamp(ts).astimezone().isoformat(timespec="microseconds")
    stamp, frac_zone = text.split(".", 1)
    frac, zone = frac_zone[:6].rstrip("0"), frac_zone[6:]
    zone = "Z" if zone in ("+00:00", "-00:00") else zone
    return f"{stamp}{'.' + frac if frac else ''}{zone}"


def rfc3339_seconds(ts: float) -> str:
    """Whole seconds in UTC, as Kubernetes' ``creationTimestamp`` and image summaries."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts or 0))


def now_rfc3339() -> str:
    """This moment in UTC with microseconds, as a network's ``created``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
