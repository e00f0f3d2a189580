"""Volume commands: create, ls, inspect, rm, prune, exists, export, import, mount, unmount, reload."""

from __future__ import annotations

import argparse
import json
import sys

from sealpod.cli.args import confirm, key_values
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, NoSuchVolume, NotFound, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# --- create -------------------------------------------------------------------------------

def _setup_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("-d", "--driver", default="local", help="volume driver name")
    p.add_argument("-o", "--opt", action="append", default=[], help="set driver specific options")
    p.add_argument("-l", "--label", action="append", default=[], help="set metadata for a volume")
    p.add_argument("--ignore", action="store_true", help="don't fail if the named volume already exists")


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    vol = ctx.engine.volumes.create(args.name, driver=args.driver, options=key_values(args.opt, "option"),
                                    labels=key_values(args.label, "label"), ignore=args.ignore)
    sys.stdout.write(vol.name + "\n")
    return 0


# --- ls -----------------------------------------------------------------------------------

def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], help="filter volume output")
    p.add_argument("--format", help="format volume output using a Go template or json")
    p.add_argument("-q", "--quiet", action="store_true", help="print volume output in quiet mode")
    p.add_argument("-n", "--noheading", action="store_true", help="do not print headers")


def _run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import is_json, render

    service = ctx.engine.volumes
    volumes = service.list_volumes(args.filter)
    if args.quiet:
        sys.stdout.write("".join(f"{v.name}\n" for v in volumes))
        return 0
    docs = [service.inspect_doc(v) for v in volumes]
    default = "table {{.Driver}}\t{{.Name}}"
    fmt = args.format or default
    if not docs and not is_json(fmt):
        return 0  # Podman prints not even the header
    from sealpod.cli.gotemplate.values import StrictFields

    zeros = {"UID": 0, "GID": 0, "Anonymous": False, "Timeout": 0}  # Go's zero values, left out of the JSON
    rows = [StrictFields({**zeros, **d}, "*entities.VolumeListReport", _VOLUME_FIELDS) for d in docs]
    out = render(fmt, rows, default=default, headers={"Name": "VOLUME NAME"}, name="ls", json_indent=2,
                 noheading=args.noheading, go_type="*entities.VolumeListReport")
    sys.stdout.write(out)
    return 0


# the Go fields of Podman's volume list rows (a name none of these is Go's "can't evaluate field")
_VOLUME_FIELDS = frozenset("Name Driver Mountpoint CreatedAt Status Labels Scope Options UID GID Anonymous "
                           "MountCount NeedsCopyUp NeedsChown Timeout".split())


# --- inspect ------------------------------------------------------------------------------

def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="VOLUME")
    p.add_argument("-a", "--all", action="store_true", help="inspect all volumes")
    p.add_argument("-f", "--format", help="format volume output using a Go template or json")


def _print_docs(docs: list[dict[str, Any]], fmt: str | None) -> None:
    from sealpod.cli.formatting import is_json, unescape

    if not fmt or is_json(fmt):
        sys.stdout.write(json.dumps(docs, indent=5, ensure_ascii=False) + "\n")  # Podman's volume indent
        return
    from sealpod.cli.gotemplate import compile_template

    tmpl = compile_template(unescape(fmt).rstrip("\n") + "\n", name="inspect")
    # JSON leaves false flags out, as Podman's does; its templates still see them as false
    defaults = {"NeedsCopyUp": False, "NeedsChown": False, "UID": 0, "GID": 0, "Anonymous": False}
    sys.stdout.write("".join(tmpl.execute({**defaults, **d}) for d in docs))


def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    if bool(args.all) == bool(args.names):  # Podman 4.3 words both faults alike
        raise InvalidArgument("provide one or more volume names or use --all")
    service = ctx.engine.volumes
    if args.all:
        _print_docs(service.inspect_all(), args.format)
        return 0
    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in args.names:
        try:
            docs.append(service.inspect(name))
        except NoSuchVolume:
            errors.append(NotFound(f"inspecting object: no such volume {name}"))
    if docs or not args.format:
        _print_docs(docs, args.format)
    return fail_with(errors)


# --- rm / prune / exists ------------------------------------------------------------------

def _setup_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="VOLUME")
    p.add_argument("-a", "--all", action="store_true", help="remove all volumes")
    p.add_argument("-f", "--force", action="store_true",
                   help="remove a volume by force; containers using it are removed too")
    p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait before forcibly stopping")


def _run_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.all == bool(args.names):
        raise InvalidArgument("choose either one or more volumes or all")
    service = ctx.engine.volumes
    names = [v.name for v in service.all()] if args.all else args.names
    errors: list[SealpodError] = []
    for name in names:
        try:
            sys.stdout.write(service.remove(name, force=args.force) + "\n")
            sys.stdout.flush()
        except NoSuchVolume as e:
            if args.force:
                continue  # as Podman: --force ignores a volume that does not exist
            e.exit_code = 1
            errors.append(e)
        except SealpodError as e:
            errors.append(e)
    return fail_with(errors)


# --- mount / unmount ----------------------------------------------------------------------

def _setup_mount(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="VOLUME")


def _run_mount(args: argparse.Namespace, ctx: CliContext) -> int:
    import os

    in_userns = os.geteuid() == 0  # before the engine joins the user's namespace on its own
    service = ctx.engine.volumes
    for name in args.names:
        sys.stdout.write(f"{service.mount_volume(name, in_userns=in_userns)}\n")
    return 0


def _run_unmount(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.engine.volumes
    for name in args.names:
        service.unmount_volume(name)
    return 0


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="provide filter values (e.g. 'label=<key>=<value>')")


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.force:
        sys.stdout.write("WARNING! This will remove all volumes not used by at least one container. "
                         "The following volumes will be removed:\n")
        candidates = ctx.engine.volumes.prune_candidates(args.filter)
        sys.stdout.write("".join(f"{v.name}\n" for v in candidates))
        if not confirm(""):
            return 0
    for name in ctx.engine.volumes.prune(args.filter):
        sys.stdout.write(name + "\n")
    return 0


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="VOLUME")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.volumes.exists(args.name) else 1


# --- export / import ----------------------------------------------------------------------

def _setup_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="VOLUME")
    p.add_argument("-o", "--output", help="write to a specified file (default: stdout)")


def _run_export(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.engine.volumes
    if not service.exists(args.name):
        raise NoSuchVolume(f"no such volume {args.name}")
    if args.output:
        with open(args.output, "wb") as out:
            service.export(args.name, out)
        return 0
    if sys.stdout.isatty():
        raise InvalidArgument("cannot write to terminal, use command-line redirection or the --output flag")
    sys.stdout.flush()
    service.export(args.name, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


def _setup_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="VOLUME")
    p.add_argument("source", metavar="TARBALL", help="a tar archive, or - for stdin")


def _run_import(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.engine.volumes
    if args.source == "-":
        if not service.exists(args.name):
            raise NoSuchVolume(f"no such volume {args.name}")
        service.import_(args.name, sys.stdin.buffer)
        return 0
    try:  # the tarball first, as Podman: a missing file is the error even for a missing volume
        src = open(args.source, "rb")
    except OSError as e:
        raise InvalidArgument(f"open {args.source}: {(e.strerror or str(e)).lower()}") from e
    with src:
        if not service.exists(args.name):
            raise NoSuchVolume(f"no such volume {args.name}")
        service.import_(args.name, src)
    return 0


def _setup_reload(p: argparse.ArgumentParser) -> None:
    """No operands, no flags (cobra's NoArgs)."""


def _run_reload(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.volume_reload import reload_plugins

    report = reload_plugins(ctx.engine)
    for title, names in (("Added", report.added), ("Removed", report.removed)):
        if names:
            sys.stdout.write(f"{title}:\n" + "".join(f"{n}\n" for n in names))
    return fail_with(report.errors)


_LS = Command("List volumes", _setup_list, _run_list)
_RM = Command("Remove one or more volumes", _setup_remove, _run_remove)

_UNMOUNT = Command("Unmount volume", _setup_mount, _run_unmount)

COMMANDS: dict[str, Command] = {
    "create": Command("Create a new volume", _setup_create, _run_create),
    "ls": _LS,
    "list": _LS,
    "inspect": Command("Display detailed information on one or more volumes", _setup_inspect, _run_inspect),
    "rm": _RM,
    "remove": _RM,
    "prune": Command("Remove all unused volumes", _setup_prune, _run_prune),
    "exists": Command("Check if volume exists", _setup_exists, _run_exists),
    "export": Command("Export volumes", _setup_export, _run_export),
    "import": Command("Import a tarball contents into a volume", _setup_import, _run_import),
    "mount": Command("Mount volume", _setup_mount, _run_mount),
    "unmount": _UNMOUNT,
    "umount": _UNMOUNT,
    "reload": Command("reload all volumes from volume plugins", _setup_reload, _run_reload),
}
