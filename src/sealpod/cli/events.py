"""``events`` (and ``system events``): show the engine's recorded events, or follow new ones."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from sealpod.cli.args import parse_bool
from sealpod.cli.context import CliContext, Command

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.events import Event


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], help="filter output")
    p.add_argument("--format", help="format the output using a Go template or json")
    p.add_argument("--since", help="show all events created since timestamp")
    p.add_argument("--until", help="show all events until timestamp")
    p.add_argument("--stream", nargs="?", const=True, default=True, type=parse_bool,
                   help="stream events and do not exit when returning the last known event")
    p.add_argument("--no-trunc", nargs="?", const=True, default=True, type=parse_bool,
                   help="do not truncate the output")


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.events import parse_filters, parse_time

    filters = parse_filters(args.filter)
    since, until = parse_time(args.since), parse_time(args.until, until=True)
    show = _printer(args.format, args.no_trunc)
    log = ctx.engine.events
    events = log.follow(since, until, filters) if args.stream else iter(log.read(since, until, filters))
    try:
        for ev in events:
            sys.stdout.write(show(ev))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    return 0


def _template_doc(ev: Event) -> dict[str, Any]:
    """The fields Podman's templates see; ``.Time`` prints as Go prints a time.  ``.ID`` is always
    the full ID: ``--no-trunc`` only shortens the default output, as in Podman."""
    from sealpod.engine.events import go_time

    doc = ev.podman_json()
    doc.update({"ID": ev.id, "Image": ev.image, "Name": ev.name,
                "Time": go_time(ev.time_ns), "Attributes": ev.labels, "Network": ev.name if ev.type == "network"
                else "", "ContainerExitCode": doc.get("ContainerExitCode", 0), "PodID": ev.pod_id})
    return doc


def _printer(fmt: str | None, no_trunc: bool) -> Callable[[Event], str]:
    from sealpod.cli.formatting import is_json, unescape

    if not fmt:
        return lambda ev: ev.text(no_trunc=no_trunc) + "\n"
    if is_json(fmt):
        return lambda ev: json.dumps(ev.podman_json(), separators=(",", ":")) + "\n"
    from sealpod.cli.gotemplate import compile_template
    from sealpod.cli.gotemplate.values import StrictFields

    tmpl = compile_template(unescape(fmt).rstrip("\n") + "\n", name="events")
    return lambda ev: tmpl.execute(StrictFields(_template_doc(ev), "*events.Event", _EVENT_FIELDS))


# events.Event's fields (and its embedded Details'): a name none of these is Go's "can't evaluate field"
_EVENT_FIELDS = frozenset("ContainerExitCode ID Image Name Network Status Time Type HealthStatus Details PodID "
                          "Attributes".split())


COMMANDS: dict[str, Command] = {
    "events": Command("Show sealpod events", _setup, _run),
}
