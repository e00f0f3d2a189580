"""``pod stats``: one report per running member of the pods asked for, with Podman 4.3's string
fields (its ``PodStatsReport``), for the CLI and for ``GET /libpod/pods/stats`` alike."""

from __future__ import annotations

from sealpod.errors import InvalidArgument, NoSuchPod
from sealpod.utils.units import bytes_size, human_size

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sealpod.engine import Engine
    from sealpod.engine.container_stats import ContainerStats, StatsSample

REPORT_FIELDS = ("CPU", "MemUsage", "MemUsageBytes", "Mem", "NetIO", "BlockIO", "PIDS", "Pod", "CID", "Name")


def target_pods(engine: Engine, names: Sequence[str], *, all_pods: bool = False, latest: bool = False) -> list[str]:
    """The IDs of the pods named (all of them when none is, or with ``all_pods``; the newest with
    ``latest``): every name is looked up first, and a miss fails it all, in Podman's words."""
    if names and (all_pods or latest):
        raise InvalidArgument("--all, --latest and arguments cannot be used together")
    try:
        if latest:
            found = engine.pods.list_pods()
            if not found:
                raise NoSuchPod("no such pod")
            return [found[-1].id]
        if not names:  # in the order of Podman's state DB: by ID
            return sorted(p.id for p in engine.pods.list_pods())
        return [engine.pods.lookup(name).id for name in names]
    except NoSuchPod as e:
        raise NoSuchPod(f"unable to get list of pods: {e}") from None


def reports(engine: Engine, pod_ids: Sequence[str], previous: dict[str, StatsSample]) -> list[dict[str, str]] | None:
    """A report per running member of the pods still there (None once all of them are gone), each
    pod's members by ID as Podman lists them; CPU % over the interval since ``previous`` (updated)."""
    from sealpod.engine.container_stats import compute

    out: list[dict[str, str]] = []
    found = 0
    for pod_id in pod_ids:
        try:
            pod = engine.pods.lookup(pod_id)
        except NoSuchPod:
            continue
        found += 1
        for ctr_id in sorted(engine.pods.container_ids(pod)):
            sample = engine.container_stats.sample(ctr_id)
            if sample is None or not sample.running:
                continue
            out.append(report(pod.id, compute(sample, previous.get(ctr_id))))
            previous[ctr_id] = sample
    return out if found or not pod_ids else None


def report(pod_id: str, stats: ContainerStats) -> dict[str, str]:
    """One member's line: a zero shows as ``--`` (``-- / --`` for a pair), as Podman's pod stats shows it."""
    s = stats.sample
    return {
        "CPU": _percent(stats.cpu_percent),
        "MemUsage": _pair(human_size, s.mem_usage, s.mem_limit),
        "MemUsageBytes": _pair(bytes_size, s.mem_usage, s.mem_limit),
        "Mem": _percent(stats.mem_percent),
        "NetIO": _pair(human_size, s.net_rx, s.net_tx),
        "BlockIO": _pair(human_size, s.block_read, s.block_write),
        "PIDS": str(s.pids) if s.pids else "--",
        "Pod": pod_id[:12], "CID": s.id[:12], "Name": s.name,
    }


def _percent(value: float) -> str:
    return f"{value:.2f}%" if value else "--"


def _pair(size: Callable[[float], str], a: int, b: int) -> str:
    return f"{size(a)} / {size(b)}" if a or b else "-- / --"
