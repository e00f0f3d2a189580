"""``stats``: a live (or one-shot) table of containers' resource use, in Podman 4's columns."""

from __future__ import annotations

import argparse
import sys
import time

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument
from sealpod.utils.units import bytes_size, human_size

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_stats import ContainerStats, StatsSample

_DEFAULT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t"
            "{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}")
_HEADERS = {"ID": "ID", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
            "MemUsageBytes": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO",
            "PIDS": "PIDS", "PIDs": "PIDS", "UpTime": "CPU TIME", "AVGCPU": "AVG CPU %", "CPU": "CPU",
            "ContainerID": "ID"}
_CLEAR = "\033[2J\033[1;1H"  # what Podman writes before each report of a streaming stats


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``812ns``, ``1.5µs``, ``29.97622ms``, ``1m2.5s``."""
    if ns == 0:
        return "0s"
    if ns < 1000:
        return f"{ns}ns"
    for scale, unit in ((1_000, "µs"), (1_000_000, "ms")):
        if ns < scale * 1000:
            return _go_fraction(ns, scale) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if hours or minutes else ""
    return out + _go_fraction(rest, 1_000_000_000) + "s"


def _go_fraction(ns: int, scale: int) -> str:
    whole, frac = divmod(ns, scale)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


class StatsRow:
    """The fields Podman's ``stats --format`` offers."""

    def __init__(self, stats: ContainerStats, *, no_trunc: bool = False) -> None:
        self._st = stats
        self._s: StatsSample = stats.sample
        self._no_trunc = no_trunc

    @property
    def ID(self) -> str:  # noqa: N802 - Go template field names
        return self._s.id if self._no_trunc else self._s.id[:12]

    ContainerID = ID

    @property
    def Name(self) -> str:  # noqa: N802
        return self._s.name

    @property
    def CPUPerc(self) -> str:  # noqa: N802
        return f"{self._st.cpu_percent:.2f}%"

    @property
    def CPU(self) -> float:  # noqa: N802
        return self._st.cpu_percent

    @property
    def AVGCPU(self) -> str:  # noqa: N802
        return f"{self._st.avg_cpu_percent:.2f}%"

    @property
    def MemUsage(self) -> str:  # noqa: N802
        return f"{human_size(self._s.mem_usage)} / {human_size(self._s.mem_limit)}"

    @property
    def MemUsageBytes(self) -> str:  # noqa: N802
        return f"{bytes_size(self._s.mem_usage)} / {bytes_size(self._s.mem_limit)}"

    # Podman's raw ContainerStats numbers, beside the formatted columns
    @property
    def MemLimit(self) -> int:  # noqa: N802
        return self._s.mem_limit

    @property
    def NetInput(self) -> int:  # noqa: N802
        return self._s.net_rx

    @property
    def NetOutput(self) -> int:  # noqa: N802
        return self._s.net_tx

    @property
    def BlockInput(self) -> int:  # noqa: N802
        return self._s.block_read

    @property
    def BlockOutput(self) -> int:  # noqa: N802
        return self._s.block_write

    @property
    def CPUNano(self) -> int:  # noqa: N802
        return self._s.cpu_ns

    @property
    def AvgCPU(self) -> float:  # noqa: N802
        return self._st.avg_cpu_percent

    @property
    def MemPerc(self) -> str:  # noqa: N802
        return f"{self._st.mem_percent:.2f}%"

    @property
    def NetIO(self) -> str:  # noqa: N802
        return f"{human_size(self._s.net_rx)} / {human_size(self._s.net_tx)}"

    @property
    def BlockIO(self) -> str:  # noqa: N802
        return f"{human_size(self._s.block_read)} / {human_size(self._s.block_write)}"

    @property
    def PIDS(self) -> str:  # noqa: N802
        return str(self._s.pids)

    PIDs = PIDS

    @property
    def UpTime(self) -> str:  # noqa: N802
        return go_duration(self._s.cpu_ns)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.ID, "name": self.Name, "cpu_time": self.UpTime, "cpu_percent": self.CPUPerc,
                "avg_cpu": self.AVGCPU, "mem_usage": self.MemUsage, "mem_percent": self.MemPerc,
                "net_io": self.NetIO, "block_io": self.BlockIO, "pids": self.PIDS}


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="show all containers (default shows just running)")
    p.add_argument("--format", default=None, help="pretty-print container statistics to JSON or a Go template")
    p.add_argument("-i", "--interval", type=int, default=5, help="time in seconds between stats reports")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("--no-reset", action="store_true", help="disable resetting the screen between intervals")
    p.add_argument("--no-stream", action="store_true", help="disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="do not truncate output")


def _render(args: argparse.Namespace, reports: list[ContainerStats]) -> str:
    from sealpod.cli.formatting import render

    rows = [StatsRow(r, no_trunc=args.no_trunc) for r in reports]
    return render(args.format, rows, default=_DEFAULT, headers=_HEADERS, name="stats", json_indent=1,
                  escape_html=False, json_rows=lambda: [r.to_json() for r in rows])


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.container_stats import compute

    if args.interval < 1:
        raise InvalidArgument("stats interval cannot be less than 1 second")
    if args.latest and args.containers:
        raise InvalidArgument("--latest and containers cannot be used together")
    stats = ctx.engine.container_stats
    names = [_latest(ctx)] if args.latest else args.containers
    previous: dict[str, StatsSample] = {}
    while True:
        reports = []
        for ctr_id in stats.targets(names, all_containers=args.all):
            sample = stats.sample(ctr_id)
            if sample is not None:
                reports.append(compute(sample, previous.get(ctr_id)))
                previous[ctr_id] = sample
        out = _render(args, reports)
        if args.no_stream:
            sys.stdout.write(out)
            return 0
        sys.stdout.write(("" if args.no_reset else _CLEAR) + out)
        sys.stdout.flush()
        if names and not reports:
            return 0  # everything named was removed meanwhile
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


COMMANDS: dict[str, Command] = {
    "stats": Command("Display a live stream of container resource usage statistics", _setup, _run),
}


def _latest(ctx: CliContext) -> str:
    from sealpod.errors import NoSuchContainer

    try:
        return ctx.engine.containers.latest().id
    except NoSuchContainer as e:  # Podman's words
        raise NoSuchContainer(f"unable to get list of containers: {e.message}") from None
