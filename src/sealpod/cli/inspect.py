"""``inspect``: any object by name or ID — containers first, then images, as Podman looks them up."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument, NotFound, SealpodError

_TYPES = ("all", "container", "image", "pod", "network", "volume")


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--format", help="format the output using a Go template or json")
    p.add_argument("-t", "--type", default="all", choices=_TYPES, help="the type of object to inspect")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("-s", "--size", action="store_true", help="display the total file size")


def _one(ctx: CliContext, name: str, kind: str) -> dict[str, Any]:
    if kind in ("all", "container"):
        try:
            return ctx.engine.containers.inspect(name)
        except NotFound:
            if kind == "container":
                raise NotFound(f'no such container "{name}"') from None
    if kind in ("all", "image"):
        try:
            return ctx.engine.images.inspect(name)
        except NotFound:
            if kind == "image":
                raise NotFound(f"inspecting object: {name}: image not known") from None
    if kind in ("all", "volume"):
        try:
            return ctx.engine.volumes.inspect(name)
        except NotFound:
            if kind == "volume":
                raise NotFound(f'no such volume "{name}"') from None
    if kind in ("pod", "network"):
        raise NotFound(f'no such {kind} "{name}"')
    raise NotFound(f'no such object: "{name}"')


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.container import print_inspect

    names = list(args.names)
    if args.latest:
        names.append(ctx.engine.containers.latest().id)
    if not names:
        raise InvalidArgument("inspect requires at least 1 arg(s), only received 0")
    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in names:
        try:
            docs.append(_one(ctx, name, args.type))
        except NotFound as e:
            errors.append(NotFound(f"inspecting object: {e}") if not str(e).startswith("inspecting") else e)
    if docs or not args.format:
        print_inspect(docs, args.format)
    if errors:
        for err in errors[:-1]:
            sys.stderr.write(f"Error: {err}\n")
        raise errors[-1]
    return 0


COMMANDS: dict[str, Command] = {"inspect": Command("Display the configuration of object denoted by ID", _setup, _run)}
