"""``image scp``: copy an image to or from another user's store on this machine."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command


def _setup_scp(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("host", nargs="?", metavar="HOST::")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the output")


def _run_scp(args: argparse.Namespace, ctx: CliContext) -> int:
    """Progress (save, then load) on stderr unless -q; ``Loaded image: NAME`` on stdout, as Podman."""
    from sealpod.engine.image_scp import plan, transfer

    def report(line: str) -> None:
        if not args.quiet:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    operands = [a for a in (args.image, args.host) if a is not None]
    loaded = transfer(ctx.engine, plan(operands), args.quiet, report)
    sys.stdout.write("".join(f"Loaded image: {name}\n" for name in loaded))
    return 0


COMMANDS: dict[str, Command] = {
    "scp": Command("securely copy images", _setup_scp, _run_scp),
}
