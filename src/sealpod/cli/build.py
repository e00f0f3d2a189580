"""``build`` (``image build``): a Containerfile into an image, Podman's flags and output."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("context", nargs="?", default=".", metavar="CONTEXT",
                   help="directory, tar file or - (a tar on standard input)")
    p.add_argument("-t", "--tag", action="append", default=[], help="name and optionally a tag for the image")
    p.add_argument("-f", "--file", default=None, help="pathname or URL of a Containerfile (- for stdin)")
    p.add_argument("--build-arg", action="append", default=[], help="argument=value to supply to the builder")
    p.add_argument("--target", default="", help="set the target build stage to build")
    p.add_argument("--no-cache", action="store_true", help="do not use existing cached images")
    p.add_argument("-q", "--quiet", action="store_true", help="refrain from announcing build instructions")
    p.add_argument("--pull", nargs="?", const="always", default="missing",
                   help="pull image policy (always, missing, never, newer)")
    p.add_argument("--pull-always", action="store_const", const="always", dest="pull", help=argparse.SUPPRESS)
    p.add_argument("--pull-never", action="store_const", const="never", dest="pull", help=argparse.SUPPRESS)
    p.add_argument("--label", action="append", default=[], help="set metadata for an image (key=value)")
    p.add_argument("--iidfile", default="", help="write the image ID to the file")
    p.add_argument("--network", default="", help="network mode for RUN instructions")
    p.add_argument("--format", default="oci", help="format of the built image's manifest and metadata")
    p.add_argument("--squash", action="store_true", help="accepted; layers are kept")
    p.add_argument("--rm", nargs="?", const="true", default="true", help="remove intermediate containers")
    p.add_argument("--force-rm", nargs="?", const="true", default="false", help="always remove them")
    p.add_argument("--layers", nargs="?", const="true", default="true", help=argparse.SUPPRESS)
    p.add_argument("--platform", default="", help="set the OS/ARCH of the built image (the host's only)")
    for flag in ("--ulimit", "--volume", "--cap-add", "--cap-drop", "--security-opt"):
        p.add_argument(flag, action="append", default=[], help=argparse.SUPPRESS)


def _bool(value: str, flag: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise InvalidArgument(f'invalid argument "{value}" for "{flag}" flag: strconv.ParseBool: parsing '
                              f'"{value}": invalid syntax')
    return value.lower() == "true"


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {what} {v!r}: expected KEY=VALUE")
        out[key] = value if sep else ""
    return out


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.build.builder import BuildOptions, Output, find_containerfile, host_arch, run_build
    from sealpod.build.context import BuildContext

    if args.platform and args.platform.split("/")[:2] != ["linux", host_arch()]:
        raise InvalidArgument(f'--platform "{args.platform}" is not supported: only linux/{host_arch()} builds')
    if args.pull not in ("always", "missing", "never", "newer", "true", "false"):
        raise InvalidArgument(f'unsupported pull policy "{args.pull}"')
    if args.file == "-" and args.context == "-":
        raise InvalidArgument("the Containerfile and the context cannot both come from standard input")
    build_args = _pairs(args.build_arg, "--build-arg")
    for name in [a for a in args.build_arg if "=" not in a]:  # --build-arg NAME: the value from the environment
        if name in os.environ:
            build_args[name] = os.environ[name]
        else:
            del build_args[name]
    options = BuildOptions(tags=tuple(args.tag), build_args=build_args, target=args.target, pull=args.pull,
                           labels=_pairs(args.label, "--label"), network=args.network,
                           format=args.format.lower(), quiet=args.quiet, layers=_bool(args.layers, "--layers"),
                           no_cache=args.no_cache)
    out = sys.stdout.buffer

    def line(text: str) -> None:
        out.write(text.encode() + b"\n")
        out.flush()

    def raw(data: bytes) -> None:
        out.write(data)
        out.flush()

    context = BuildContext.open(args.context, sys.stdin.buffer)
    try:
        if args.file == "-":
            containerfile = ("-", sys.stdin.read())
        else:
            containerfile = find_containerfile(context, args.file, in_context=False)
        image_id = run_build(ctx.engine, context, containerfile, options, Output(line, raw))
    finally:
        context.close()
    if args.iidfile:
        Path(args.iidfile).write_text(f"sha256:{image_id}")
    line(image_id)
    return 0


COMMANDS: dict[str, Command] = {
    "build": Command("Build an image using instructions from Containerfiles", _setup, _run),
}
