"""Timestamps as inspect shows them.  A module of its own so that writing a container's spec
(its ``io.kubernetes.cri-o.Created`` annotation) does not load the whole inspect report."""

from __future__ import annotations

from datetime import UTC, datetime

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time, for what never happened


def rfc3339(ts: float) -> str:
    """RFC 3339 in UTC with microseconds, as inspect's ``Created``; Go's zero time for 0."""
    if not ts:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
