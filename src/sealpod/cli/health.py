"""Healthchecks: the ``--health-*`` flags of run/create, and ``healthcheck run``."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def add_health_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--health-cmd", default=None, help='command to check the container\'s health ("none" disables)')
    a("--health-interval", default=None, help='time between checks ("0" or "disable": no timer; default 30s)')
    a("--health-retries", type=int, default=None, help="failures in a row before unhealthy (default 3)")
    a("--health-start-period", default=None, help="time to bootstrap before failures count (default 0s)")
    a("--health-timeout", default=None, help="longest time a check may run (default 30s)")
    a("--health-on-failure", default=None, help="action when unhealthy: none, kill, restart or stop")
    a("--no-healthcheck", action="store_true", help="disable healthchecks on the container")


def health_fields(args: argparse.Namespace) -> dict[str, Any]:
    """ContainerConfig's ``healthcheck`` (only what was given, Docker's keys) and ``health_on_failure``."""
    given = (args.health_cmd, args.health_interval, args.health_timeout, args.health_start_period,
             args.health_retries, args.health_on_failure)
    if not args.no_healthcheck and all(v is None for v in given):
        return {"healthcheck": {}, "health_on_failure": ""}  # most runs: the health machinery stays unloaded
    from sealpod.engine.health import ON_FAILURE, parse_duration, parse_test

    hc: dict[str, Any] = {}
    if args.no_healthcheck:
        if args.health_cmd is not None:
            raise InvalidArgument("cannot specify both --no-healthcheck and --health-cmd")
        hc["Test"] = ["NONE"]
    elif args.health_cmd is not None:
        if not args.health_cmd.strip():
            raise InvalidArgument("must define a healthcheck command for all healthcheck options")
        hc["Test"] = parse_test(args.health_cmd)
    for key, value, flag in (("Interval", args.health_interval, "--health-interval"),
                             ("Timeout", args.health_timeout, "--health-timeout"),
                             ("StartPeriod", args.health_start_period, "--health-start-period")):
        if value is not None:
            negative = key == "StartPeriod" and value.strip().startswith("-")  # a valid Go duration, below 0
            hc[key] = parse_duration(value.strip()[1:] if negative else value, flag)
            if negative and hc[key] > 0:
                raise InvalidArgument("healthcheck-start-period must be 0 seconds or greater")
    if hc.get("Timeout") is not None and hc["Timeout"] < 1_000_000_000:
        raise InvalidArgument("healthcheck-timeout must be at least 1 second")
    if args.health_retries is not None:
        if args.health_retries < 1:
            raise InvalidArgument("healthcheck-retries must be greater than 0")
        hc["Retries"] = args.health_retries
    action = args.health_on_failure
    if action is not None and action not in ON_FAILURE:
        raise InvalidArgument(f'invalid on-failure action "{action}" for health check: '
                              f"supported actions are {','.join(ON_FAILURE)}")
    return {"healthcheck": hc, "health_on_failure": action if action not in (None, "none") else ""}


def _setup_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")


def _run_run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Podman's contract: nothing and 0 when the check passed, ``unhealthy`` and 1 when it failed."""
    result = ctx.engine.health.run(args.container)
    if result.exit_code != 0:
        sys.stdout.write("unhealthy\n")
        return 1
    return 0


COMMANDS: dict[str, Command] = {
    "run": Command("Run the health check of a container", _setup_run, _run_run),
}
