"""System commands: version, info, service, df, prune (and the rootless unshare, migrate, reset)."""

from __future__ import annotations

import argparse
import json
import sys

from sealpod.cli.context import CliContext, Command, program_name

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _setup_version(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", help="change the output format to JSON or a Go template")


def _run_version(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.system import SystemService

    doc = SystemService.static_version()
    if args.format:
        from sealpod.cli.formatting import is_json, unescape

        if is_json(args.format):
            sys.stdout.write(json.dumps({"Client": doc}, indent=2) + "\n")
            return 0
        from sealpod.cli.gotemplate import compile_template

        # a local engine is its own server: Podman fills .Server like .Client (scripts read either)
        # and a template naming neither (``{{.Version}}``) reads the client's fields, as Podman's does
        fmt = unescape(args.format)
        from sealpod.cli.gotemplate.values import StrictFields

        data = {"Client": doc, "Server": doc} if ".Client" in fmt or ".Server" in fmt else doc
        kind = "*entities.SystemVersionReport" if data is not doc else "*define.Version"
        out = compile_template(fmt, name="version").execute(StrictFields(data, kind))
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        return 0
    lines = [("Version", doc["Version"]), ("API Version", doc["APIVersion"]), ("Go Version", doc["GoVersion"]),
             ("Built", doc["BuiltTime"] or "-"), ("OS/Arch", doc["OsArch"])]
    sys.stdout.write("".join(f"{k + ':':<14}{v}\n" for k, v in lines))
    return 0


def _setup_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", help="change the output format to JSON or a Go template")
    p.add_argument("-D", "--debug", action="store_true", help="display additional debug information")


def _run_info(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli import info_report

    doc = ctx.engine.system.info()
    if args.format is None:  # -f '' is an empty template (one empty line), as in Podman
        from sealpod.cli.yamlout import dump

        sys.stdout.write(dump(info_report.as_yaml(doc)) + "\n")  # Podman's YAML ends with an empty line
        return 0
    from sealpod.cli.formatting import is_json, unescape

    if is_json(args.format):
        sys.stdout.write(json.dumps(info_report.as_json(doc), indent=4) + "\n")
        return 0
    from sealpod.cli.gotemplate import compile_template

    info = info_report.as_template_data(doc)  # a top-level name Podman's struct lacks is an error there
    out = compile_template(unescape(args.format), name="info").execute(info)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def _setup_service(p: argparse.ArgumentParser) -> None:
    p.add_argument("uri", nargs="?", metavar="URI", help="where to listen: unix:///path or tcp://host:port")
    p.add_argument("-t", "--time", type=float, default=None,
                   help="seconds idle before exiting, 0: never (default: containers.conf's service_timeout, 5)")
    p.add_argument("--cors", default="", help="set CORS headers to inject to the HTTP response")


def default_socket(ctx: CliContext) -> str:
    import os

    if ctx.engine.config.rootless:
        base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/sealpod-{os.getuid()}"
        return f"unix://{base}/sealpod/sealpod.sock"
    return "unix:///run/sealpod/sealpod.sock"


def _run_service(args: argparse.Namespace, ctx: CliContext) -> int:
    """Serve the Docker and Libpod APIs; containers started through it outlive the service."""
    from sealpod.api.server import serve
    from sealpod.engine import Engine

    engine = ctx.engine
    config, env, home = engine.config, engine.env, engine.home
    uri = service_uri(args.uri or default_socket(ctx))
    if uri.startswith("tcp://"):
        from sealpod.utils.logrus import warning

        warning("Using the Podman API service with TCP sockets is not recommended, please see "
                f"`{program_name()} system service --help` for more information")
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is every thread?
    # commands run for remote clients report where they were reached (info's remoteSocket)
    env = {**{k: v for k, v in env.items() if not k.startswith("LISTEN_")}, "_SEALPOD_SERVICE_URI": uri}
    idle = args.time if args.time is not None else float(config.containers.engine.service_timeout)
    serve(uri, lambda: Engine(config, env, home), idle, cors=args.cors)
    return 0


def service_uri(text: str) -> str:
    """``unix:/path``, ``unix:///path``, ``tcp:host:port`` or ``tcp://host:port`` (Podman takes each),
    normalised to ``unix:///path`` or ``tcp://host:port``; other schemes get Podman's error."""
    import re

    found = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    scheme = found.group(1) if found else ""
    rest = text[len(scheme) + 1:] if found else text
    if scheme == "tcp" and rest.removeprefix("//"):
        return "tcp://" + rest.removeprefix("//")
    if scheme == "unix" and rest.lstrip("/"):
        return "unix:///" + rest.lstrip("/")
    from sealpod.errors import InvalidArgument

    raise InvalidArgument(f'API Service endpoint scheme "{scheme}" is not supported. Try tcp://{text} or '
                          f"unix:/{text}")


def _setup_unshare(p: argparse.ArgumentParser) -> None:
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND", help="command to run (default: $SHELL)")


def _run_unshare(args: argparse.Namespace, ctx: CliContext) -> int:
    """Like ``podman unshare``: a command (or shell) as root of the user's own namespace."""
    return ctx.engine.system.unshare(list(args.command))


def _setup_migrate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--new-runtime", default="", help="specify a new runtime for all containers (ignored)")


def _run_migrate(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.system.migrate()
    return 0


def _setup_reset(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")


_RESET_WARNING = ("WARNING! This will remove:\n        - all containers\n        - all pods\n        - all images\n"
                  "        - all networks\n        - all build cache\n        - all machines\n"
                  "        - all volumes\n")


def _run_reset(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.args import confirm

    store = ctx.engine.store  # Podman names the two directories that go
    warning = (_RESET_WARNING + f'        - the graphRoot directory: "{store.graph_root}"\n'
               f'        - the runRoot directory: "{store.run_root}"\n')
    if not args.force and not confirm(warning):
        return 0
    ctx.engine.system.reset()
    return 0


def _setup_df(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="show detailed information on disk usage")
    p.add_argument("--format", default=None, help="pretty-print the summary to JSON or using a Go template")


class _DfRow:
    """One line of ``system df``: Podman's template fields (Raw* are numbers, the rest text)."""

    def __init__(self, kind: str, total: int, active: int, size: int, reclaimable: int) -> None:
        from sealpod.utils.units import human_size

        self.Type, self.TotalCount, self.Active = kind, total, active
        self.Total = total
        self.RawSize, self.RawReclaimable = size, reclaimable
        self.Size = human_size(size)
        self.Reclaimable = f"{human_size(reclaimable)} ({round(100 * reclaimable / size) if size else 0}%)"

    def to_json(self) -> dict[str, object]:
        return dict(vars(self))


def _df_rows(usage: Any) -> list[_DfRow]:
    """The summary, counted as Podman counts it: an image once for each of its names."""
    ctrs, vols = usage.containers, usage.volumes
    imgs = [i for i in usage.images for _ in i.names or ("",)]
    return [
        _DfRow("Images", len(imgs), sum(1 for i in imgs if i.containers), sum(i.size for i in imgs),
               sum(i.size for i in imgs if not i.containers)),
        _DfRow("Containers", len(ctrs), sum(1 for c in ctrs if c.status in ("running", "paused")),
               sum(c.size for c in ctrs), sum(c.size for c in ctrs if c.status not in ("running", "paused"))),
        _DfRow("Local Volumes", len(vols), sum(1 for v in vols if v.links), sum(v.size for v in vols),
               sum(v.size for v in vols if not v.links)),
    ]


def _run_df(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render

    usage = ctx.engine.system.df()
    if args.verbose:
        if args.format:
            from sealpod.errors import InvalidArgument

            raise InvalidArgument("cannot combine --format and --verbose flags")
        sys.stdout.write(_df_verbose(usage))
        return 0
    rows = _df_rows(usage)
    from sealpod.cli.formatting import is_json

    if is_json(args.format) and str(args.format).strip() != "json":  # Podman 4.3.1: a template, run per row
        from sealpod.cli.gotemplate.values import go_json

        sys.stdout.write("".join(go_json({"Type": r.Type, "Total": r.Total, "Active": r.Active, "Size": r.RawSize,
                                          "Reclaimable": r.RawReclaimable}) + "\n" for r in rows))
        return 0
    default = "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
    sys.stdout.write(render(args.format, rows, default=default, name="df", json_indent=4,
                            json_rows=lambda: [r.to_json() for r in rows]))
    return 0


def _df_verbose(usage: Any) -> str:
    import time

    from sealpod.cli.formatting import human_duration, tabwrite
    from sealpod.utils.units import human_size

    now = time.time()
    lines = ["REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS"]
    for i in usage.images:
        for name in i.names or ("<none>:<none>",):
            repo, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "<none>")
            lines.append(f"{repo}\t{tag}\t{i.id[:12]}\t{human_duration(max(0.0, now - i.created))}\t"
                         f"{human_size(i.size)}\t{human_size(i.shared_size)}\t{human_size(i.unique_size)}\t"
                         f"{i.containers}")
    out = "Images space usage:\n\n" + tabwrite("\n".join(lines) + "\n")
    lines = ["CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES"]
    lines += [f"{c.id[:12]}\t{c.image_id[:12]}\t{c.command}\t{c.volumes}\t{human_size(c.size)}\t"
              f"{human_duration(max(0.0, now - c.created))}\t{c.status}\t{c.name}" for c in usage.containers]
    out += "\nContainers space usage:\n\n" + tabwrite("\n".join(lines) + "\n")
    lines = ["VOLUME NAME\tLINKS\tSIZE"] + [f"{v.name}\t{v.links}\t{human_size(v.size)}" for v in usage.volumes]
    return out + "\nLocal Volumes space usage:\n\n" + tabwrite("\n".join(lines) + "\n")


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="remove all unused data")
    p.add_argument("--filter", action="append", default=[], help="provide filter values (e.g. 'label=<key>=<value>')")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--volumes", action="store_true", help="prune volumes")


def _prune_warning(args: argparse.Namespace) -> str:
    items = ["all stopped containers", "all networks not used by at least one container"]
    if args.volumes:
        items.append("all volumes not used by at least one container")
    items += ["all images without at least one container associated with them", "all build cache"] if args.all \
        else ["all dangling images", "all dangling build cache"]
    return "WARNING! This command removes:\n" + "".join(f"\t- {i}\n" for i in items) + "\n"


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.args import confirm
    from sealpod.utils.units import human_size

    if not args.force and not confirm(_prune_warning(args), eof_error=True):
        return 0
    report = ctx.engine.system.prune(all_images=args.all, volumes=args.volumes, filters=args.filter)
    for title, ids in (("Pods", report.pods), ("Containers", report.containers), ("Volumes", report.volumes),
                       ("Networks", report.networks), ("Images", report.images)):
        if ids:
            sys.stdout.write(f"Deleted {title}\n" + "".join(f"{i}\n" for i in ids))
    sys.stdout.write(f"Total reclaimed space: {human_size(report.reclaimed)}\n")
    return 0


COMMANDS: dict[str, Command] = {
    "df": Command("Show sealpod disk usage", _setup_df, _run_df),
    "prune": Command("Remove unused data", _setup_prune, _run_prune),
    "unshare": Command("Run a command in a modified user namespace", _setup_unshare, _run_unshare),
    "migrate": Command("Migrate containers", _setup_migrate, _run_migrate),
    "reset": Command("Reset sealpod storage", _setup_reset, _run_reset),
    "service": Command("Run an API service", _setup_service, _run_service),
    "version": Command("Display the sealpod version information", _setup_version, _run_version),
    "info": Command("Display sealpod system information", _setup_info, _run_info),
}
