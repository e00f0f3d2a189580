"""``pod clone POD [NAME]``: ``pod create``'s flags, each one given replacing the source pod's value."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.cli.context import CliContext


def setup_clone(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.pod import _setup_create

    p.add_argument("pod", metavar="POD")
    _setup_create(p)
    p.add_argument("--destroy", action="store_true", help="destroy the original pod")
    p.add_argument("--start", action="store_true", help="start the new pod")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The PodSpec fields the flags set, found by comparing with what no flag at all gives."""
    from sealpod.cli.pod import spec_from_args
    from sealpod.utils import record

    plain = argparse.ArgumentParser(add_help=False)
    setup_clone(plain)
    default = spec_from_args(plain.parse_args([args.pod]))
    given = spec_from_args(args)
    out = {f.name: getattr(given, f.name) for f in record.fields(type(given))
           if f.name not in ("name", "create_command", "infra_config")
           and getattr(given, f.name) != getattr(default, f.name)}
    out["infra_config"] = {k: v for k, v in given.infra_config.items() if default.infra_config.get(k) != v}
    return out


def run_clone(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.pod_clone import clone_pod

    pod = clone_pod(ctx.engine, args.pod, _overrides(args), name=args.name or args.name_arg or "",
                    destroy=args.destroy, start=args.start)
    sys.stdout.write(pod.id + "\n")
    return 0
