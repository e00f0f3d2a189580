"""cp, diff, export, commit and import: a container's files as archives and images."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sealpod.cli.args import parse_bool
from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument


def _stderr_report(quiet: bool) -> Callable[[str], None]:
    def report(line: str) -> None:
        if not quiet:
            sys.stderr.write(line + "\n")

    return report


# --- cp ----------------------------------------------------------------------------------


def _setup_cp(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SRC_PATH")
    p.add_argument("dest", metavar="DEST_PATH")
    p.add_argument("-a", "--archive", nargs="?", const=True, default=True, type=parse_bool,
                   help="chown copied files to the primary uid/gid of the destination container")
    p.add_argument("--overwrite", action="store_true",
                   help="allow directories to be overwritten with non-directories and vice versa")
    p.add_argument("-L", "--follow-link", action="store_true", help="always follow symbolic links in SRC_PATH")
    p.add_argument("--pause", nargs="?", const=True, default=True, type=parse_bool,
                   help=argparse.SUPPRESS)  # hidden in Podman too, where it has no effect


def _split(arg: str) -> tuple[str | None, str]:
    """``CTR:PATH`` → (CTR, PATH); a host path → (None, path).  ``./a:b`` stays a host path."""
    head, sep, rest = arg.partition(":")
    if sep and head and "/" not in head and not head.startswith("."):
        return head, rest or "/"
    return None, arg


def _run_cp(args: argparse.Namespace, ctx: CliContext) -> int:
    src_ctr, src = _split(args.source)
    dst_ctr, dst = _split(args.dest)
    if not src_ctr and not dst_ctr:
        raise InvalidArgument("one of SRC_PATH or DEST_PATH must be a container path (CONTAINER:PATH)")
    for name in (src_ctr, dst_ctr):
        _check_exists(ctx, name)
    files = ctx.engine.container_files
    if src_ctr and dst_ctr:
        files.copy_between(src_ctr, src, dst_ctr, dst, overwrite=args.overwrite)
        return 0
    if src_ctr:
        if dst == "-":
            files.copy_out(src_ctr, src, out=sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            files.copy_out(src_ctr, src, dest=dst, overwrite=args.overwrite)
        return 0
    assert dst_ctr is not None
    if src == "-":
        files.copy_in(dst_ctr, dst, stream=sys.stdin.buffer, archive=args.archive, overwrite=args.overwrite)
    else:
        files.copy_in(dst_ctr, dst, src=src, archive=args.archive, overwrite=args.overwrite)
    return 0


def _check_exists(ctx: CliContext, name: str | None) -> None:
    """Podman's cp names a container it cannot find (or a build's working one) in its own words."""
    from sealpod.errors import NoSuchContainer

    if name:
        try:
            ctx.engine.containers.lookup(name)
        except NoSuchContainer:
            raise NoSuchContainer(f'container "{name}" does not exist') from None


# --- diff --------------------------------------------------------------------------------


def _setup_diff(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER|IMAGE")
    p.add_argument("--format", help="change the output format (json)")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")


def _run_diff(args: argparse.Namespace, ctx: CliContext, kind: str = "") -> int:
    """``diff`` (an image first, then a container), ``container diff``, ``image diff A [B]``."""
    names = list(args.names)
    if args.latest:
        from sealpod.errors import NoSuchContainer

        try:
            names.append(ctx.engine.containers.latest().id)
        except NoSuchContainer as e:
            raise NoSuchContainer(f"unable to get latest container: {e.message}") from None
    if not names:
        raise InvalidArgument("sealpod diff requires exactly one argument: container or image name or ID")
    if kind == "image":
        from sealpod.engine.image_diff import image_diff

        if len(names) > 2:
            raise InvalidArgument("sealpod image diff accepts at most two images")
        changes = image_diff(ctx.engine, names[0], names[1] if len(names) == 2 else None)
    else:
        if len(names) != 1:
            raise InvalidArgument("sealpod diff requires exactly one argument: container or image name or ID")
        changes = ctx.engine.container_files.changes(names[0], containers_only=kind == "container")
    if args.format:
        if args.format.strip().lower() != "json":
            raise InvalidArgument(f'only "json" is supported as a --format value, not "{args.format}"')
        doc: dict[str, list[str]] = {}
        for letter, key in (("C", "changed"), ("A", "added"), ("D", "deleted")):
            paths = [c.path for c in changes if c.kind == letter]
            if paths:
                doc[key] = paths
        sys.stdout.write(json.dumps(doc, indent=5) + "\n")
        return 0
    sys.stdout.write("".join(f"{c.kind} {c.path}\n" for c in changes))
    return 0


# --- export ------------------------------------------------------------------------------


def _setup_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-o", "--output", help="write to a specified file (default: stdout, which must be redirected)")


def _run_export(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.output and ":" in args.output:  # Podman's check, as for save -o
        raise InvalidArgument(f'invalid filename (should not contain \':\') "{args.output}"')
    if args.output:
        with open(args.output, "wb") as f:
            ctx.engine.container_files.export(args.container, f)
        return 0
    if sys.stdout.isatty():
        raise InvalidArgument("refusing to export to terminal. Use -o flag or redirect")
    ctx.engine.container_files.export(args.container, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


# --- import / commit ---------------------------------------------------------------------


def _setup_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("operands", nargs="+", metavar="PATH [REFERENCE]")
    p.set_defaults(intermixed=True)  # "import PATH --change X REFERENCE", as Podman takes it
    p.add_argument("-c", "--change", action="append", default=[], help="apply the following possible "
                   "instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | "
                   "STOPSIGNAL | USER | VOLUME | WORKDIR")
    p.add_argument("-m", "--message", default="", help="set commit message for imported image")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress output")
    p.add_argument("--arch", default="", help="set the architecture of the imported image")
    p.add_argument("--os", default="", help="set the OS of the imported image")
    p.add_argument("--variant", default="", help="set the variant of the imported image")
    p.add_argument("--signature-policy", default=None, help=argparse.SUPPRESS)  # hidden, as in Podman


def _run_import(args: argparse.Namespace, ctx: CliContext) -> int:
    if len(args.operands) > 2:
        raise InvalidArgument(f"accepts between 1 and 2 arg(s), received {len(args.operands)}")
    args.source, args.reference = (args.operands + [None])[:2]
    if args.signature_policy is not None and not Path(args.signature_policy).exists():
        raise InvalidArgument(f"open {args.signature_policy}: no such file or directory")  # read first, as Podman
    report = _stderr_report(args.quiet)
    files = ctx.engine.container_files
    if args.source == "-":
        image_id = files.import_image(sys.stdin.buffer, args.reference, changes=args.change, message=args.message,
                                      report=report, os_name=args.os, arch=args.arch,
                                      variant=args.variant)
    else:
        if "://" in args.source:
            raise InvalidArgument(f"importing from a URL is not supported: {args.source}")
        try:
            f = open(args.source, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise InvalidArgument(f"opening {args.source}: {e.strerror.lower() if e.strerror else e}") from e
        with f:
            image_id = files.import_image(f, args.reference, changes=args.change, message=args.message,
                                          report=report, os_name=args.os, arch=args.arch,
                                          variant=args.variant)
    sys.stdout.write(f"sha256:{image_id}\n")
    return 0


def _setup_commit(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("image", nargs="?", metavar="IMAGE")
    p.add_argument("-c", "--change", action="append", default=[], help="apply the following possible "
                   "instructions to the created image: CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | "
                   "STOPSIGNAL | USER | VOLUME | WORKDIR")
    p.add_argument("-m", "--message", default="", help="set commit message for imported image")
    p.add_argument("-a", "--author", default="", help="set the author for the image committed")
    p.add_argument("-p", "--pause", nargs="?", const=True, default=False, type=parse_bool,
                   help="pause container during commit")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress output")
    p.add_argument("-f", "--format", default="oci", help="format of the image manifest and metadata")
    p.add_argument("--iidfile", default="", help="write the image ID to the file")
    p.add_argument("-s", "--squash", action="store_true", help="squash newly built layers into a single new layer")
    p.add_argument("--include-volumes", action="store_true", help="include container volumes as image volumes")


def _run_commit(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.container_files import CommitOptions

    if args.message and args.format.lower() != "docker":  # OCI configs have no comment field
        raise InvalidArgument("messages are only compatible with the docker image format (-f docker)")
    options = CommitOptions(changes=tuple(args.change), message=args.message, author=args.author,
                            pause=args.pause, format=args.format.lower(), squash=args.squash,
                            include_volumes=args.include_volumes)
    image_id = ctx.engine.container_files.commit(args.container, args.image, options,
                                                 report=_stderr_report(args.quiet))
    if args.iidfile:
        Path(args.iidfile).write_text(image_id)
    sys.stdout.write(image_id + "\n")
    return 0


COMMANDS: dict[str, Command] = {
    "cp": Command("Copy files/folders between a container and the local filesystem", _setup_cp, _run_cp),
    "diff": Command("Display the changes to the object's file system", _setup_diff, _run_diff),
    "container_diff": Command("Inspect changes to the container's file systems", _setup_diff,
                              lambda args, ctx: _run_diff(args, ctx, "container")),
    "image_diff": Command("Inspect changes to the image's file systems", _setup_diff,
                          lambda args, ctx: _run_diff(args, ctx, "image")),
    "export": Command("Export container's filesystem contents as a tar archive", _setup_export, _run_export),
    "commit": Command("Create new image based on the changed container", _setup_commit, _run_commit),
    "import": Command("Import a tarball to create a filesystem image", _setup_import, _run_import),
}
