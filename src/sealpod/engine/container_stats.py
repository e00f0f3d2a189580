"""``stats``: samples of running containers' cgroup (v1), network and block I/O counters.

A sample is raw counters only; percentages need two samples (CPU time used over wall time
elapsed).  The first report of a container compares with its start, as Podman does, so a
one-shot ``stats --no-stream`` shows the average since the start and later reports of a
streaming ``stats`` show the last interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import NoSuchContainer
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine

_CGROUP_V1 = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class StatsSample:
    """Raw counters of one container at one moment (wall clock ``at``, seconds)."""

    id: str
    name: str
    running: bool
    at: float
    started_at: float
    cpu_ns: int = 0
    mem_usage: int = 0
    mem_limit: int = 0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0


@dataclass(frozen=True)
class ContainerStats:
    """One line of ``stats``: a sample plus the percentages computed against an earlier one."""

    sample: StatsSample
    cpu_percent: float
    avg_cpu_percent: float
    mem_percent: float


def compute(now: StatsSample, before: StatsSample | None) -> ContainerStats:
    """CPU% over the interval since ``before`` (or since the start), not divided by the CPU
    count: a container busy on two CPUs shows 200%, as in Podman."""
    if not now.running:
        return ContainerStats(now, 0.0, 0.0, 0.0)
    since_start = now.at - now.started_at if now.started_at else 0.0
    avg = now.cpu_ns / (since_start * 1e9) * 100 if since_start > 0 else 0.0
    if before is not None and before.running and before.id == now.id and now.at > before.at:
        cpu = max(now.cpu_ns - before.cpu_ns, 0) / ((now.at - before.at) * 1e9) * 100
    else:
        cpu = avg
    mem = now.mem_usage / now.mem_limit * 100 if now.mem_limit else 0.0
    return ContainerStats(now, cpu, avg, mem)


class StatsService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.svc = engine.containers

    def targets(self, names: Sequence[str], *, all_containers: bool) -> list[str]:
        """Container IDs to report: those named (each must exist), else the running ones (all
        with ``all_containers``), in creation order."""
        if names:
            found: list[str] = []
            for name in names:
                try:
                    found.append(self.svc.lookup(name).id)
                except NoSuchContainer as e:
                    raise NoSuchContainer(f"unable to get list of containers: unable to look up container "
                                          f"{name}: {e}") from None
            return found
        records = sorted(self.svc.list_containers(), key=lambda r: r.created)
        return [r.id for r in records if all_containers or r.state in (State.RUNNING, State.PAUSED)]

    def sample(self, ctr_id: str) -> StatsSample | None:
        """None once the container is gone (removed while a streaming ``stats`` watched it)."""
        try:
            rec = self.svc.lookup(ctr_id)
        except NoSuchContainer:
            return None
        return sample_record(rec)


def sample_record(rec: ContainerRecord) -> StatsSample:
    import os

    running = rec.state in (State.RUNNING, State.PAUSED)
    now = time.time()
    if not running:
        return StatsSample(rec.id, rec.name, False, now, rec.started_at)
    from sealpod.engine.cgroups import stored_cgroups_path

    base = stored_cgroups_path(rec.config.get("cgroup_parent") or "", rec.id).lstrip("/")
    limit = _read_int(_CGROUP_V1 / "memory" / base / "memory.limit_in_bytes")
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    rx, tx = _net_io(rec.pid)
    read, write = _block_io(_CGROUP_V1 / "blkio" / base / "blkio.throttle.io_service_bytes")
    return StatsSample(
        rec.id, rec.name, True, now, rec.started_at,
        cpu_ns=_read_int(_CGROUP_V1 / "cpuacct" / base / "cpuacct.usage"),
        mem_usage=_mem_usage(_CGROUP_V1 / "memory" / base),
        mem_limit=limit if 0 < limit < total else total, net_rx=rx, net_tx=tx, block_read=read,
        block_write=write, pids=_read_int(_CGROUP_V1 / "pids" / base / "pids.current"))


def _read_int(path: Path) -> int:
    try:
        text = path.read_text().split()
        return int(text[0]) if text and text[0] != "max" else 0
    except (OSError, ValueError):
        return 0


def _mem_usage(memcg: Path) -> int:
    """Usage without the page cache the kernel can drop (``total_inactive_file``), as Podman and
    Docker report it: a container that read a big file is not "using" that memory."""
    usage = _read_int(memcg / "memory.usage_in_bytes")
    try:
        for line in (memcg / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "total_inactive_file":
                return max(usage - int(value), 0)
    except (OSError, ValueError):
        pass
    return usage


def _net_io(pid: int) -> tuple[int, int]:
    """Bytes received and sent on the container's interfaces other than loopback; none for a
    container in our own network namespace (``--net host``), as Podman counts only a netns of its own."""
    import os

    rx = tx = 0
    if pid <= 0:
        return rx, tx
    try:
        if os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            return rx, tx
        lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    except OSError:
        return rx, tx
    for line in lines:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def _block_io(path: Path) -> tuple[int, int]:
    read = write = 0
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return read, write
    for line in lines:
        parts = line.split()
        if len(parts) == 3 and parts[1] == "Read":
            read += int(parts[2])
        elif len(parts) == 3 and parts[1] == "Write":
            write += int(parts[2])
    return read, write


__all__ = ["ContainerStats", "StatsSample", "StatsService", "compute", "sample_record"]
