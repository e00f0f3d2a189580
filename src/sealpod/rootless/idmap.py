"""Id mappings: the ``container host size`` triples of /proc/PID/uid_map and OCI specs.

The rootless namespace maps 0 to the user and 1..N to the subordinate ids, in that order,
so that image files owned by root belong to the user on the host and every other id of
an image lands in the user's own subordinate range.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sealpod.rootless.subid import SubIdRange
from sealpod.utils.record import dataclass


@dataclass(frozen=True)
class IdMapping:
    """Ids ``container_id .. container_id+size-1`` are host ids ``host_id ..``."""

    container_id: int
    host_id: int
    size: int

    def to_oci(self) -> dict[str, int]:
        return {"containerID": self.container_id, "hostID": self.host_id, "size": self.size}


def userns_mappings(outer_id: int, ranges: Sequence[SubIdRange]) -> list[IdMapping]:
    """0 → ``outer_id``, then 1.. → each subordinate range in turn."""
    maps = [IdMapping(0, outer_id, 1)]
    next_id = 1
    for r in ranges:
        maps.append(IdMapping(next_id, r.start, r.count))
        next_id += r.count
    return maps


def newidmap_args(mappings: Sequence[IdMapping]) -> list[str]:
    """The triples as newuidmap/newgidmap take them after the pid."""
    args: list[str] = []
    for m in mappings:
        args += [str(m.container_id), str(m.host_id), str(m.size)]
    return args


def parse_id_map(text: str) -> list[IdMapping]:
    """The lines of /proc/PID/uid_map (or gid_map)."""
    maps = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            maps.append(IdMapping(int(parts[0]), int(parts[1]), int(parts[2])))
    return maps


def read_id_map(pid: int | str = "self", kind: str = "uid") -> list[IdMapping]:
    return parse_id_map(Path(f"/proc/{pid}/{kind}_map").read_text())


def mapped_size(mappings: Sequence[IdMapping]) -> int:
    """How many ids the namespace has: the end of its highest mapped range."""
    return max((m.container_id + m.size for m in mappings), default=0)


def to_host(mappings: Sequence[IdMapping], container_id: int) -> int | None:
    """The host id of ``container_id`` under ``mappings``; None when it is not mapped."""
    for m in mappings:
        if m.container_id <= container_id < m.container_id + m.size:
            return m.host_id + container_id - m.container_id
    return None


def is_initial_namespace(mappings: Sequence[IdMapping]) -> bool:
    """Whether these are the init user namespace's maps (the identity over all 2**32-1 ids)."""
    return len(mappings) == 1 and mappings[0].container_id == 0 and mappings[0].host_id == 0 \
        and mappings[0].size == 4294967295


def in_user_namespace() -> bool:
    """Whether this process runs in a user namespace other than the host's."""
    try:
        return not is_initial_namespace(read_id_map("self", "uid"))
    except OSError:
        return False
