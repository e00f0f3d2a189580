"""``ps``: the flags, their conflicts and the default tables (plain, ``--size``, ``--pod``, ``--ns``)."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext
from sealpod.errors import InvalidArgument

_HEADERS = {"ID": "CONTAINER ID", "CreatedHuman": "CREATED", "Names": "NAMES", "RunningFor": "CREATED",
            "Pod": "POD ID", "PodName": "PODNAME", "CgroupNS": "CGROUPNS", "IPC": "IPC", "MNT": "MNT",
            "NET": "NET", "PIDNS": "PIDNS", "UserNS": "USERNS", "UTS": "UTS", "Pid": "PID"}
_DEFAULT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
_NS_TABLE = ("table {{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.CgroupNS}}\t{{.IPC}}\t{{.MNT}}\t{{.NET}}\t{{.PIDNS}}"
             "\t{{.UserNS}}\t{{.UTS}}")


def setup_ps(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="show all the containers, default is only running")
    p.add_argument("-q", "--quiet", action="store_true", help="print the numeric IDs of the containers only")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("-n", "--last", type=int, default=-1, help="print the n last created containers")
    p.add_argument("-f", "--filter", action="append", default=[], help="filter output based on conditions given")
    p.add_argument("--format", help="pretty-print containers to JSON or using a Go template")
    p.add_argument("--no-trunc", action="store_true", help="display the extended information")
    p.add_argument("-s", "--size", action="store_true", help="display the total file sizes")
    p.add_argument("--sort", default="created", help="sort output by: command, created, id, image, names, "
                   "runningfor, size, status")
    p.add_argument("--noheading", action="store_true", help="do not print headers")
    p.add_argument("--ns", "--namespace", dest="ns", action="store_true", help="display namespace information")
    p.add_argument("-p", "--pod", action="store_true", help="print the pod of the containers")
    p.add_argument("-w", "--watch", type=int, default=0, help="watch the ps output on an interval in seconds")
    p.add_argument("--sync", action="store_true", help="sync container state with the OCI runtime")
    p.add_argument("--external", action="store_true", help="show containers in storage not controlled by sealpod")


def _check(args: argparse.Namespace) -> None:
    """Podman's refusals, before anything is listed."""
    if args.quiet and (args.size or args.ns):
        raise InvalidArgument("quiet conflicts with size and namespace")
    if args.size and args.ns:
        raise InvalidArgument("size and namespace options conflict")
    if args.sort == "size" and not args.size:
        args.size = True  # sizes are needed to sort by them
    if args.format and ".Size" in args.format and not args.size:
        from sealpod.utils.logrus import error

        error("Size format requires --size option")


def run_ps(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.container_rows import ContainerRow, sort_rows
    from sealpod.cli.formatting import render

    _check(args)
    every = args.all or args.latest or args.last > 0 or any(f.startswith("status=") for f in args.filter)
    summaries = ctx.engine.containers.summaries(all_containers=every,  # a status filter implies --all
                                                filters=args.filter, size=args.size, namespaces=args.ns,
                                                external=args.external)
    if args.latest:
        summaries = summaries[-1:]
    if args.last > 0:
        summaries = summaries[-args.last:]
    rows = sort_rows([ContainerRow(s, no_trunc=args.no_trunc) for s in summaries], args.sort)
    if args.quiet and not args.format:  # with a format, -q only drops the table's header, as in Podman
        sys.stdout.write("".join(f"{r.ID}\n" for r in rows))
        return 0
    default = _NS_TABLE if args.ns else _DEFAULT
    if args.size:
        default += "\t{{.Size}}"
    if args.pod:
        default += "\t{{.Pod}}\t{{.PodName}}"
    sys.stdout.write(render(args.format or default, rows, default=default, headers=_HEADERS, name="ps",
                            go_type="containers.psReporter", json_indent=2, escape_html=False,
                            json_rows=lambda: [r.to_json() for r in rows], noheading=args.noheading or args.quiet))
    return 0
