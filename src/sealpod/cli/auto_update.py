"""``auto-update``: restart the systemd units of containers whose image changed."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command, fail_with

_DEFAULT = "table {{.Unit}}\t{{.Container}}\t{{.Image}}\t{{.Policy}}\t{{.Updated}}"
_HEADERS = {"Unit": "UNIT", "Container": "CONTAINER", "ContainerID": "CONTAINER ID",
            "ContainerName": "CONTAINER NAME", "Image": "IMAGE", "Policy": "POLICY", "Updated": "UPDATED"}


def _setup(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.args import parse_bool

    a = p.add_argument
    a("--authfile", help="Path to the authentication file. Use REGISTRY_AUTH_FILE environment variable to override")
    a("--dry-run", action="store_true", help="Check for pending updates")
    a("--format", help="Change the output format to JSON or a Go template")
    a("--rollback", nargs="?", const=True, default=True, type=parse_bool,
      help="Rollback to previous image if update fails (default true)")


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from pathlib import Path

    from sealpod.cli.formatting import render
    from sealpod.engine.auto_update import AutoUpdater
    from sealpod.engine.entities import PullOptions, RegistryFlags

    options = PullOptions(registry=RegistryFlags(auth_file=Path(args.authfile) if args.authfile else None))
    reports, errors = AutoUpdater(ctx.engine, dry_run=args.dry_run, rollback=args.rollback, options=options).run()
    if reports:
        rows = [r.to_json() for r in reports]
        sys.stdout.write(render(args.format, rows, default=_DEFAULT, headers=_HEADERS, name="auto-update"))
    return fail_with(errors)


COMMANDS: dict[str, Command] = {
    "auto-update": Command("Auto update containers according to their auto-update policy", _setup, _run),
}
