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
    from sealpod.engine.container_stats import StatsSample
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
        return "/libpod_parent"

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
    """One member's line of ``pod stats``: Podman 4.3's fields, from the engine's report."""

    def __init__(self, report: dict[str, str]) -> None:
        self._report = report
        for key, value in report.items():
            setattr(self, key, value)

    def to_json(self) -> dict[str, str]:
        return dict(self._report)


_STATS_DEFAULT = ("table {{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.Mem}}\t{{.NetIO}}\t"
                  "{{.BlockIO}}\t{{.PIDS}}")
_STATS_HEADERS = {"Pod": "POD", "CID": "CID", "Name": "NAME", "CPU": "CPU %", "MemUsage": "MEM USAGE/ LIMIT",
                  "MemUsageBytes": "MEM USAGE/ LIMIT", "Mem": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO",
                  "PIDS": "PIDS"}
# A template of the user's: Podman's headers there name .Mem "MEM" (its override, "MEM %", misses the field)
_USER_STATS_HEADERS = {**_STATS_HEADERS, "Mem": "MEM"}


def _render_stats(fmt: str | None, rows: list[PodStatsRow]) -> str:
    """Podman's pod stats output: its default table (a row of ``--`` when there is nothing), JSON, or
    the user's template, which gets a header line, table or not, and prints nothing without rows."""
    from sealpod.cli.formatting import is_json, render, render_header, unescape

    if not fmt or is_json(fmt):
        if not rows and not fmt:
            return render(None, [_NO_STATS], default=_STATS_DEFAULT, headers=_STATS_HEADERS, name="stats")
        return render(fmt, rows, default=_STATS_DEFAULT, headers=_STATS_HEADERS, name="stats", json_indent=5,
                      escape_html=False, json_rows=lambda: [r.to_json() for r in rows])
    if not rows:
        return ""
    body = unescape(fmt)
    if body.startswith("table ") or body.rstrip() == "table":
        return render(fmt, rows, default=_STATS_DEFAULT, headers=_USER_STATS_HEADERS, name="stats")
    from sealpod.cli.gotemplate import compile_template

    tmpl = compile_template(body.rstrip("\n") + "\n", name="stats")
    return render_header(tmpl, _USER_STATS_HEADERS) + "".join(tmpl.execute(r) for r in rows)


class _NoStats:
    """The placeholder row of Podman's default table when no container is running."""

    Pod = CID = Name = CPU = MemUsage = MemUsageBytes = Mem = NetIO = BlockIO = PIDS = "--"


_NO_STATS = _NoStats()


def stats(ctx: CliContext, pods: list[str], fmt: str | None, *, stream: bool = False, reset: bool = True) -> int:
    """Samples of every running member, each second while streaming (CPU % over the last one), as
    ``stats`` does for containers; a stream ends when the pods are gone or on Ctrl-C."""
    from sealpod.engine.pod_stats import reports

    previous: dict[str, StatsSample] = {}
    while True:
        found = reports(ctx.engine, pods, previous)
        if found is None:
            return 0
        out = _render_stats(fmt, [PodStatsRow(r) for r in found])
        if not stream:
            sys.stdout.write(out)
            return 0
        sys.stdout.write(("\033[2J\033[1;1H" if reset else "") + out)
        sys.stdout.flush()
        try:
            time.sleep(1)
        except KeyboardInterrupt:
            return 0
