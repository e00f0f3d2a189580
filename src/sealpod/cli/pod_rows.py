"""Template rows for ``pod ps`` (Podman 4.3's field names) and the ``pod stats`` table."""

from __future__ import annotations

import sys
import time

from sealpod.cli.image_rows import created_since
from sealpod.utils.timefmt import rfc3339

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.cli.context import CliContext
    from sealpod.engine.container_stats import ContainerStats, StatsSample
    from sealpod.engine.pods import PodSummary


def default_format(names: bool, ids: bool, statuses: bool, ns: bool = False) -> str:
    """``--ctr-*`` replace the container count with those columns, in Podman's order; ``--ns``
    adds the cgroup and namespaces after them."""
    cols = ["{{.ID}}", "{{.Name}}", "{{.Status}}", "{{.Created}}", "{{.InfraID}}"]
    extra = [c for c, on in (("{{.ContainerIds}}", ids), ("{{.ContainerNames}}", names),
                             ("{{.ContainerStatuses}}", statuses)) if on]
    tail = ["{{.Cgroup}}", "{{.Namespace}}"] if ns else []
    return "table " + "\t".join(cols + extra + tail + ([] if extra else ["{{.NumberOfContainers}}"]))


class PodRow:
    def __init__(self, summary: PodSummary, *, no_trunc: bool = False) -> None:
        self._s = summary
        self._no_trunc = no_trunc
        self._now = time.time()

    def _short(self, value: str) -> str:
        return value if self._no_trunc else value[:12]

    @property
    def ID(self) -> str:  # noqa: N802 - Go template field names
        return self._short(self._s.id)

    @property
    def Id(self) -> str:  # noqa: N802
        return self._s.id

    @property
    def Name(self) -> str:  # noqa: N802
        return self._s.name

    @property
    def Status(self) -> str:  # noqa: N802
        return self._s.status

    @property
    def Created(self) -> str:  # noqa: N802
        return created_since(self._s.created, self._now)

    @property
    def InfraID(self) -> str:  # noqa: N802
        return self._short(self._s.infra_id)

    @property
    def InfraId(self) -> str:  # noqa: N802
        return self.InfraID

    @property
    def NumberOfContainers(self) -> int:  # noqa: N802
        return len(self._s.containers)

    @property
    def Labels(self) -> dict[str, str]:  # noqa: N802
        return self._s.labels

    def Label(self, name: str) -> str:  # noqa: N802
        return self._s.labels.get(name, "")

    @property
    def Networks(self) -> str:  # noqa: N802
        return ",".join(self._s.networks)

    @property
    def ContainerNames(self) -> str:  # noqa: N802
        return ",".join(c.name for c in self._s.containers)

    @property
    def ContainerIds(self) -> str:  # noqa: N802
        return ",".join(self._short(c.id) for c in self._s.containers)

    @property
    def ContainerStatuses(self) -> str:  # noqa: N802
        return ",".join(c.state for c in self._s.containers)

    @property
    def Cgroup(self) -> str:  # noqa: N802
        return "/sealpod_parent"

    @property
    def Namespace(self) -> str:  # noqa: N802
        return ""

    def to_json(self) -> dict[str, Any]:
        s = self._s
        return {
            "Cgroup": self.Cgroup, "Containers": [{"Id": c.id, "Names": c.name, "Status": c.state}
                                                  for c in s.containers],
            "Created": rfc3339(s.created), "Id": s.id, "InfraId": s.infra_id, "Name": s.name, "Namespace": "",
            "Networks": list(s.networks), "Status": s.status, "Labels": dict(s.labels),
        }


_SORT = {
    "created": lambda r: r._s.created, "id": lambda r: r._s.id, "name": lambda r: r._s.name,
    "number": lambda r: len(r._s.containers), "status": lambda r: r._s.status,
}


def sort_rows(rows: list[PodRow], key: str) -> list[PodRow]:
    from sealpod.errors import InvalidArgument

    if key not in _SORT:
        raise InvalidArgument(f"invalid option for --sort, options are: {', '.join(_SORT)}")
    return sorted(rows, key=_SORT[key], reverse=key == "created")


class PodStatsRow:
    """One member's line of ``pod stats``: Podman 4.3's fields (``.CPU`` is a percentage here)."""

    def __init__(self, pod_id: str, stats: ContainerStats) -> None:
        from sealpod.cli.stats import StatsRow

        self._row = StatsRow(stats)
        self.Pod = pod_id[:12]
        self.CID = stats.sample.id[:12]
        self.Name = stats.sample.name
        self.CPU = self._row.CPUPerc
        self.MemUsage = self._row.MemUsage
        self.MemUsageBytes = self._row.MemUsageBytes
        self.Mem = self._row.MemPerc
        self.NetIO = self._row.NetIO
        self.BlockIO = self._row.BlockIO
        self.PIDS = self._row.PIDS

    def to_json(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("CPU", "MemUsage", "MemUsageBytes", "Mem", "NetIO", "BlockIO",
                                             "PIDS", "Pod", "CID", "Name")}


_STATS_DEFAULT = ("table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.NetIO}}\t"
                  "{{.BlockIO}}\t{{.PIDS}}")
_STATS_HEADERS = {"Pod": "POD", "CID": "CID", "Name": "NAME", "CPU": "CPU %", "MemUsage": "MEM USAGE/ LIMIT",
                  "MemUsageBytes": "MEM USAGE/ LIMIT", "Mem": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO",
                  "PIDS": "PIDS"}


def _stats_rows(ctx: CliContext, pods: list[str], previous: dict[str, StatsSample]) -> list[PodStatsRow] | None:
    """Every running member of the pods still there (None once all are gone)."""
    from sealpod.engine.container_stats import compute
    from sealpod.errors import NoSuchPod

    engine = ctx.engine
    rows: list[PodStatsRow] = []
    found = 0
    for name in pods:
        try:
            pod = engine.pods.lookup(name)
        except NoSuchPod:
            continue
        found += 1
        for ctr_id in engine.pods.container_ids(pod):
            sample = engine.container_stats.sample(ctr_id)
            if sample is None or not sample.running:
                continue
            rows.append(PodStatsRow(pod.id, compute(sample, previous.get(ctr_id))))
            previous[ctr_id] = sample
    return rows if found or not pods else None


def stats(ctx: CliContext, pods: list[str], fmt: str | None, *, stream: bool = False, reset: bool = True) -> int:
    """Samples of every running member, each second while streaming (CPU % over the last one), as
    ``stats`` does for containers; a stream ends when the pods are gone or on Ctrl-C."""
    from sealpod.cli.formatting import render

    for name in pods:  # a pod named that does not exist is an error before anything is shown
        ctx.engine.pods.lookup(name)
    previous: dict[str, StatsSample] = {}
    while True:
        rows = _stats_rows(ctx, pods, previous)
        if rows is None:
            return 0
        docs = [r.to_json() for r in rows]
        out = render(fmt, rows, default=_STATS_DEFAULT, headers=_STATS_HEADERS, name="pod stats", json_indent=5,
                     escape_html=False, json_rows=lambda: docs)  # noqa: B023 - used within this pass
        if not stream:
            sys.stdout.write(out)
            return 0
        sys.stdout.write(("\033[2J\033[1;1H" if reset else "") + out)
        sys.stdout.flush()
        try:
            time.sleep(1)
        except KeyboardInterrupt:
            return 0
