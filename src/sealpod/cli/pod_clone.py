"""``pod clone POD [NAME]``: ``pod create``'s flags, each one given replacing the source pod's value."""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.cli.context import CliContext


#: ``pod create`` flags Podman 4.3's ``pod clone`` does not have ("unknown flag"): the clone keeps the
#: source's networks, addresses and ports, its sharing and infra image, and is never a replacement
_NOT_CLONE_FLAGS = frozenset({
    "--publish", "--network", "--share", "--share-parent", "--infra", "--infra-image", "--pod-id-file",
    "--exit-policy", "--replace", "--add-host", "--dns", "--dns-search", "--dns-option", "--no-hosts", "--ip",
    "--ip6", "--mac-address", "--network-alias",
})


def setup_clone(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.pod import _setup_create

    p.add_argument("pod", metavar="POD")
    _setup_create(p)
    p.add_argument("--destroy", action="store_true", help="destroy the original pod")
    p.add_argument("--start", action="store_true", help="start the new pod")
    _drop_flags(p, _NOT_CLONE_FLAGS)


def _drop_flags(p: argparse.ArgumentParser, names: frozenset[str]) -> None:
    """Takes ``names`` (and their other spellings) out of the parser, their defaults kept for the spec."""
    defaults: dict[str, Any] = {}
    for action in list(p._actions):
        if names.isdisjoint(action.option_strings):
            continue
        p._remove_action(action)
        for group in p._action_groups:
            if action in group._group_actions:
                group._group_actions.remove(action)
        for opt in action.option_strings:
            p._option_string_actions.pop(opt, None)
        defaults[action.dest] = action.default
    p.set_defaults(**defaults)


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
