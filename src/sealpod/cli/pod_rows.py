"""Template rows for ``pod ps`` (Podman 4.3's field names) and the ``pod stats`` table."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from sealpod.cli.image_rows import created_since

if TYPE_CHECKING:
    from sealpod.cli.context import CliContext
    from sealpod.engine.pods import PodSummary


def default_format(names: bool, ids: bool, statuses: bool) -> str:
    """``--ctr-*`` replace the container count with those columns, in Podman's order."""
    cols = ["{{.ID}}", "{{.Name}}", "{{.Status}}", "{{.Created}}", "{{.InfraID}}"]
    extra = [c for c, on in (("{{.ContainerIds}}", ids), ("{{.ContainerNames}}", names),
                             ("{{.ContainerStatuses}}", statuses)) if on]
    return "table " + "\t".join(cols + (extra or ["{{.NumberOfContainers}}"]))


def _rfc3339(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


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
            "Created": _rfc3339(s.created), "Id": s.id, "InfraId": s.infra_id, "Name": s.name, "Namespace": "",
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


def stats(ctx: CliContext, pods: list[str], fmt: str | None) -> int:
    """One sample of every running member's counters (CPU since start, memory, PIDs)."""
    from sealpod.cli.formatting import human_size, render

    engine = ctx.engine
    rows: list[dict[str, Any]] = []
    for name in pods:
        pod = engine.pods.lookup(name)
        for ctr_id in engine.pods.container_ids(pod):
            st = engine.container_io.stats(ctr_id)
            if not st["running"]:
                continue
            limit = st["memory_limit"] or 1
            rows.append({
                "Pod": pod.id[:12], "CID": ctr_id[:12], "Name": st["name"],
                "CPU": f"{st['cpu_usage_ns'] / 1e9:.2f}s", "MemUsage":
                f"{human_size(st['memory_usage'], sep='')} / {human_size(limit, sep='')}",
                "Mem": f"{100 * st['memory_usage'] / limit:.2f}%", "PIDS": str(st["pids"]),
            })
    default = "table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.PIDS}}"
    headers = {"Pod": "POD", "CID": "CID", "CPU": "CPU TIME", "MemUsage": "MEM USAGE / LIMIT", "Mem": "MEM %"}
    sys.stdout.write(render(fmt, rows, default=default, headers=headers, name="pod stats", json_indent=2))
    return 0
