"""``--userns=auto:uidmapping=C:H:N``: mappings the user forces into an automatic namespace.

The namespace still holds ``size`` container ids; those the forced triples cover keep their given
host ids, and the rest are laid, in order, over one range picked from the free subordinate ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from sealpod.rootless.idmap import IdMapping


def free_segments(size: int, forced: Sequence[IdMapping]) -> list[tuple[int, int]]:
    """(container start, count) runs of ``0..size-1`` that no forced mapping covers."""
    covered = sorted((m.container_id, m.container_id + m.size) for m in forced)
    out: list[tuple[int, int]] = []
    cursor = 0
    for start, end in covered:
        if start > cursor and cursor < size:
            out.append((cursor, min(start, size) - cursor))
        cursor = max(cursor, end)
    if cursor < size:
        out.append((cursor, size - cursor))
    return out


def lay_out(segments: Sequence[tuple[int, int]], host_start: int, forced: Sequence[IdMapping]) -> list[IdMapping]:
    """The segments over consecutive host ids from ``host_start``, then the forced mappings."""
    out: list[IdMapping] = []
    host = host_start
    for start, count in segments:
        out.append(IdMapping(start, host, count))
        host += count
    return out + list(forced)
