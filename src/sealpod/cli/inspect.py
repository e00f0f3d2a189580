"""``inspect``: any object by name or ID — containers first, then images, as Podman looks them up."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, NotFound, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

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
    if kind in ("all", "pod"):
        try:
            return ctx.engine.pods.inspect(name)
        except NotFound:
            if kind == "pod":
                raise NotFound(f'no such pod "{name}"') from None
    if kind == "network":
        raise NotFound(f'no such {kind} "{name}"')
    raise NotFound(f'no such object: "{name}"')


def inspect_each(names: list[str], fetch: Callable[[str], dict[str, Any]], fmt: str | None, *,
                 prefix: str = "") -> int:
    """Inspect several objects: print what was found (``[]`` when nothing, unless templated),
    then fail with the errors of the rest, as Podman does."""
    from sealpod.cli.formatting import inspect_output

    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in names:
        try:
            docs.append(fetch(name))
        except NotFound as e:
            errors.append(NotFound(f"{prefix}{e}") if prefix and not str(e).startswith(prefix) else e)
    if docs or not fmt:
        sys.stdout.write(inspect_output(docs, fmt))
    return fail_with(errors)


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    names = list(args.names)
    if args.latest:
        names.append(ctx.engine.containers.latest().id)
    if not names:
        raise InvalidArgument("inspect requires at least 1 arg(s), only received 0")
    return inspect_each(names, lambda name: _one(ctx, name, args.type), args.format, prefix="inspecting object: ")


COMMANDS: dict[str, Command] = {"inspect": Command("Display the configuration of object denoted by ID", _setup, _run)}
