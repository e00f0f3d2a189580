"""``container runlabel`` (an image's own command lines) and ``system renumber``."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument


def _setup_runlabel(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.args import parse_bool

    a = p.add_argument
    a("label", metavar="LABEL")
    a("image", metavar="IMAGE")
    a("args", nargs="*", metavar="ARG")
    a("--authfile", help="Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override")
    a("--cert-dir", help="Pathname of a directory containing TLS certificates and keys")
    a("--creds", help="Credentials (USERNAME:PASSWORD) to use for authenticating to a registry")
    a("--display", action="store_true", help="Preview the command that the label would run")
    a("-n", "--name", default="", help="Assign a name to the container")
    a("-q", "--quiet", action="store_true", help="Suppress output information when installing images")
    a("--replace", action="store_true", help="Replace existing container with a new one from the image")
    a("--tls-verify", nargs="?", const=True, default=None, type=parse_bool,
      help="Require HTTPS and verify certificates when contacting registries (default true)")
    for i in (1, 2, 3):
        a(f"--opt{i}", default="", help=argparse.SUPPRESS)
    a("--pull", nargs="?", const=True, default=True, type=parse_bool, help=argparse.SUPPRESS)


def _ensure_image(args: argparse.Namespace, ctx: CliContext) -> None:
    """Podman pulls an image runlabel does not find locally (quietly with -q)."""
    from pathlib import Path

    from sealpod.engine.entities import PullOptions, RegistryFlags

    if ctx.engine.images.exists(args.image) or not args.pull:
        return
    flags = RegistryFlags(tls_verify=args.tls_verify, cert_dir=Path(args.cert_dir) if args.cert_dir else None,
                          creds=args.creds, auth_file=Path(args.authfile) if args.authfile else None)

    def report(line: str) -> None:
        if not args.quiet:
            sys.stderr.write(line + "\n")

    ctx.engine.images.pull_with_policy(args.image, "missing", PullOptions(registry=flags), report)


def _run_runlabel(args: argparse.Namespace, ctx: CliContext) -> int:
    import shlex

    from sealpod.cli.run_checks import check_authfile
    from sealpod.engine.runlabel import command_for, execute
    from sealpod.systemd.generate import executable

    check_authfile(args.authfile)
    _ensure_image(args, ctx)
    command = command_for(ctx.engine, args.image, args.label, name=args.name or None,
                          opts=(args.opt1, args.opt2, args.opt3), args=args.args, program=executable())
    if args.display:  # as Podman shows it: this program's name in place of the label's first word
        sys.stdout.write("command: " + " ".join((executable(), *command.argv[1:])) + "\n")
        return 0
    if not command.argv:
        raise InvalidArgument(f"label {args.label} of image {args.image} is empty: {shlex.join(command.argv)}")
    from sealpod.cli.generate import root_flags
    from sealpod.utils.record import replace

    if command.argv[0] == executable():  # the same store and runtime as this command (Podman would lose them)
        command = replace(command, argv=(command.argv[0], *root_flags(ctx.args), *command.argv[1:]))
    return execute(ctx.engine, command, replace=args.replace)


def _setup_renumber(p: argparse.ArgumentParser) -> None:
    return None


def _run_renumber(args: argparse.Namespace, ctx: CliContext) -> int:
    """sealpod allocates no lock numbers (its locks are files named by object), so there is nothing to
    migrate; the store is still opened, so a broken one fails here as it would in Podman."""
    ctx.engine.containers.list_containers()
    return 0


COMMANDS: dict[str, Command] = {
    "runlabel": Command("Execute the command described by an image label", _setup_runlabel, _run_runlabel),
    "renumber": Command("Migrate lock numbers", _setup_renumber, _run_renumber),
}
