"""System commands: version and info."""

from __future__ import annotations

import argparse
import json
import sys

from sealpod.cli.context import CliContext, Command


def _setup_version(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", help="change the output format to JSON or a Go template")


def _run_version(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.system import SystemService

    doc = SystemService.static_version()
    if args.format:
        from sealpod.cli.formatting import is_json, unescape

        if is_json(args.format):
            sys.stdout.write(json.dumps({"Client": doc}, indent=2) + "\n")
            return 0
        from sealpod.cli.gotemplate import compile_template

        out = compile_template(unescape(args.format), name="version").execute({"Client": doc, "Server": None})
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        return 0
    lines = [("Version", doc["Version"]), ("API Version", doc["APIVersion"]),
             ("Python Version", doc["PythonVersion"]), ("Built", doc["BuiltTime"] or "-"),
             ("OS/Arch", doc["OsArch"])]
    sys.stdout.write("".join(f"{k + ':':<16}{v}\n" for k, v in lines))
    return 0


def _setup_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", help="change the output format to JSON or a Go template")
    p.add_argument("-D", "--debug", action="store_true", help="display additional debug information")


def _run_info(args: argparse.Namespace, ctx: CliContext) -> int:
    doc = ctx.engine.system.info()
    if not args.format:
        from sealpod.cli.yamlout import dump

        sys.stdout.write(dump(doc))
        return 0
    from sealpod.cli.formatting import is_json, unescape

    if is_json(args.format):
        sys.stdout.write(json.dumps(doc, indent=4) + "\n")
        return 0
    from sealpod.cli.gotemplate import compile_template

    out = compile_template(unescape(args.format), name="info").execute(_Info(doc))
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


class _Info(dict):  # type: ignore[type-arg]
    """Go templates address info as ``{{.Host.Arch}}``: accept capitalised keys at any depth."""

    def __missing__(self, key: str) -> object:
        for k, v in self.items():
            if k.lower() == key.lower():
                return _Info(v) if isinstance(v, dict) else v
        raise KeyError(key)


def _setup_service(p: argparse.ArgumentParser) -> None:
    p.add_argument("uri", nargs="?", metavar="URI", help="where to listen: unix:///path or tcp://host:port")
    p.add_argument("-t", "--time", type=float, default=5.0, help="seconds idle before exiting (0: never)")
    p.add_argument("--cors", default="", help="set CORS headers (not supported)")


def default_socket(ctx: CliContext) -> str:
    import os

    if ctx.engine.config.rootless:
        base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/sealpod-{os.getuid()}"
        return f"unix://{base}/sealpod/sealpod.sock"
    return "unix:///run/sealpod/sealpod.sock"


def _run_service(args: argparse.Namespace, ctx: CliContext) -> int:
    """Serve the Docker and Libpod APIs; containers started through it outlive the service."""
    from sealpod.api.server import serve
    from sealpod.engine import Engine

    engine = ctx.engine
    config, env, home = engine.config, engine.env, engine.home
    uri = args.uri or default_socket(ctx)
    if not uri.startswith(("unix://", "tcp://")):
        from sealpod.errors import InvalidArgument

        raise InvalidArgument(f'invalid URI "{uri}": use unix:///path or tcp://host:port')
    if uri.startswith("tcp://"):
        sys.stderr.write("WARN[0000] Using the Docker and Libpod APIs over TCP: they are not authenticated\n")
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is every thread?
    serve(uri, lambda: Engine(config, env, home), args.time)
    return 0


COMMANDS: dict[str, Command] = {
    "service": Command("Run an API service", _setup_service, _run_service),
    "version": Command("Display the sealpod version information", _setup_version, _run_version),
    "info": Command("Display sealpod system information", _setup_info, _run_info),
}
