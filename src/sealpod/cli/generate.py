"""``generate systemd``: systemd units that start (or create) a container or a pod; ``generate spec``."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument

# global options that locate the store and runtime: units must run sealpod with the same ones
_ROOT_FLAGS = (("root", "--root"), ("runroot", "--runroot"), ("storage_driver", "--storage-driver"),
               ("storage_opt", "--storage-opt"), ("runtime", "--runtime"), ("cgroup_manager", "--cgroup-manager"),
               ("tmpdir", "--tmpdir"), ("volumepath", "--volumepath"), ("events_backend", "--events-backend"),
               ("runtime_flag", "--runtime-flag"))


def _setup(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("target", nargs="*", metavar="CONTAINER|POD")
    a("--after", action="append", default=[], help="add dependencies order to the generated unit file")
    a("--container-prefix", default="container", help='systemd unit name prefix for containers (default "container")')
    a("-e", "--env", action="append", default=[], help="set environment variables to the systemd unit files")
    a("-f", "--files", action="store_true", help="generate .service files instead of printing to stdout")
    a("--format", default="", help="print the created units in specified format (json)")
    a("-n", "--name", action="store_true", help="use container/pod names instead of IDs")
    a("--new", action="store_true", default=None,
      help="create a new container or pod instead of starting an existing one")
    a("--no-header", action="store_true", help="skip header generation")
    a("--pod-prefix", default="pod", help='systemd unit name prefix for pods (default "pod")')
    a("--requires", action="append", default=[],
      help="similar to wants, but declares stronger requirement dependencies")
    a("--restart-policy", default=None, help='systemd restart-policy (default "on-failure")')
    a("--restart-sec", type=_uint("--restart-sec"), default=None, help="systemd restart-sec")
    a("--separator", default="-", help='systemd unit name separator between name/id and prefix (default "-")')
    a("--start-timeout", type=_uint("--start-timeout"), default=None, help="start timeout override")
    a("--stop-timeout", "-t", "--time", dest="stop_timeout", type=_uint("--stop-timeout"), default=None,
      help="stop timeout override (default 10)")
    a("--template", action="store_true",
      help="make it a template file and use %%i and %%I specifiers. Working only for containers")
    a("--wants", action="append", default=[], help="add (weak) requirement dependencies to the generated unit file")


def _uint(flag: str) -> argparse._ActionType:
    def parse(text: str) -> int:
        if not text.isdigit():
            raise argparse.ArgumentTypeError(f'invalid argument "{text}" for "{flag}" flag: strconv.ParseUint: '
                                             f'parsing "{text}": invalid syntax')
        return int(text)

    return parse


def root_flags(args: argparse.Namespace) -> tuple[str, ...]:
    out: list[str] = []
    for dest, flag in _ROOT_FLAGS:
        value = getattr(args, dest, None)
        for item in value if isinstance(value, list) else [value]:
            if item is not None and str(item):
                out += [flag, str(item)]
    return tuple(out)


def _unit_env(items: list[str]) -> tuple[str, ...]:
    """``--env`` as Podman reads it: NAME=VALUE as is, NAME and PREFIX* from this environment, no empty name."""
    import os

    out: list[str] = []
    for item in items:
        key, sep, _ = item.partition("=")
        if not key:
            raise InvalidArgument(f'parsing environment variables: invalid environment variable: "{item}"')
        if sep:
            out.append(item)
        elif key.endswith("*"):
            out += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(key[:-1]))
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
    return tuple(out)


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    import json

    from sealpod import __version__
    from sealpod.systemd.generate import executable, generate, timestamp
    from sealpod.systemd.units import Invocation, UnitOptions

    if len(args.target) != 1:
        raise InvalidArgument(f"accepts 1 arg(s), received {len(args.target)}")
    if args.format and args.format != "json":
        raise InvalidArgument(f"unknown --format argument: {args.format}")
    if args.template and args.new is False:
        raise InvalidArgument("--template cannot be set with --new=false")
    opts = UnitOptions(new=bool(args.new) or args.template, name=args.name, no_header=args.no_header,
                       restart_policy=args.restart_policy, restart_sec=args.restart_sec,
                       start_timeout=args.start_timeout, stop_timeout=args.stop_timeout,
                       container_prefix=args.container_prefix, pod_prefix=args.pod_prefix, separator=args.separator,
                       wants=tuple(args.wants), after=tuple(args.after), requires=tuple(args.requires),
                       env=_unit_env(args.env), template=args.template)
    inv = Invocation(executable(), root_flags(ctx.args), __version__, timestamp())
    units = generate(ctx.engine, args.target[0], opts, inv)
    if args.files:
        import os

        result = {}
        for unit in units:
            path = os.path.join(os.getcwd(), f"{unit.name}.service")
            with open(path, "w") as f:
                f.write(unit.text)
            result[unit.name] = path
    else:
        result = {unit.name: unit.text for unit in units}
    if args.format == "json":
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
    else:
        sys.stdout.write("".join(v + "\n" if args.files else v for v in result.values()))
    return 0


def _setup_spec(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("target", metavar="{CONTAINER|POD}")
    a("-c", "--compact", action="store_true", help="Print the json in a compact format for consumption")
    a("-f", "--filename", default="", help="Write output to the specified path")
    a("-n", "--name", action="store_true", default=True,
      help="Specify a new name for the generated spec (default true)")


def _run_spec(args: argparse.Namespace, ctx: CliContext) -> int:
    """``generate spec``: the Libpod create body that makes a copy (``NAME-clone``) of a container or pod."""
    import json

    from sealpod.engine.spec_export import generate_spec

    doc = generate_spec(ctx.engine, args.target, rename=args.name)
    text = json.dumps(doc, separators=(",", ":")) if args.compact else json.dumps(doc, indent=1)
    if args.filename:
        try:
            with open(args.filename, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise InvalidArgument(f"open {args.filename}: {(e.strerror or str(e)).lower()}") from None
        sys.stdout.write(args.filename + "\n")
        return 0
    sys.stdout.write(text + "\n")
    return 0


COMMANDS: dict[str, Command] = {
    "systemd": Command("Generate systemd units", _setup, _run),
    "spec": Command("Generate Specgen JSON based on containers or pods", _setup_spec, _run_spec),
}
