"""The processes of a PID namespace, for ``top`` of containers that share one (a pod's ``--share pid``,
``--pid container:ID``): Podman lists every process the container can see, not only its cgroup's."""

from __future__ import annotations

import os


def _ns(pid: int | str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def namespace_pids(pid: int) -> list[int]:
    """Host PIDs of the processes in ``pid``'s PID namespace (none when that is the host's own)."""
    ns = _ns(pid)
    if not ns or ns == _ns("self"):
        return []
    return sorted(int(e) for e in os.listdir("/proc") if e.isdigit() and _ns(e) == ns)


def shared_namespace(pid: int) -> str:
    """``pid``'s PID namespace ("" when it is the host's, or unknown)."""
    ns = _ns(pid)
    return "" if ns == _ns("self") else ns
