"""``system connection add/ls/rm/default/rename``: named service connections in containers.conf.

These commands only edit configuration, so they work without any service running and
run locally even under ``--remote`` (as Podman's do).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from sealpod.cli.context import CliContext, Command, program_name
from sealpod.errors import InvalidArgument, NoSuchConnection

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.connections import ConnectionTable


def _setup(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND")
    add = sub.add_parser("add", help="Record destination for the sealpod service")
    add.add_argument("name", metavar="NAME")
    add.add_argument("destination", metavar="DESTINATION")
    add.add_argument("-d", "--default", action="store_true", help="set connection to be default")
    add.add_argument("--identity", default="", help="path to SSH identity file")
    add.add_argument("-p", "--port", type=int, default=0, help="SSH port number for destination")
    add.add_argument("--socket-path", default="", help="path to the sealpod socket on the remote host (ssh)")
    for name in ("list", "ls"):
        ls = sub.add_parser(name, help="List destination for the sealpod service(s)")
        ls.add_argument("-f", "--format", default="", help="custom Go template for printing connections")
        ls.add_argument("-q", "--quiet", action="store_true", help="print connection names only")
    for name in ("remove", "rm"):
        rm = sub.add_parser(name, help="Delete named destination")
        rm.add_argument("name", nargs="?", metavar="NAME")
        rm.add_argument("-a", "--all", action="store_true", help="remove all connections")
    default = sub.add_parser("default", help="Set named destination as default")
    default.add_argument("name", metavar="NAME")
    for name in ("rename", "mv"):
        mv = sub.add_parser(name, help='Rename "old" to "new"')
        mv.add_argument("old", metavar="OLD")
        mv.add_argument("new", metavar="NEW")


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    action = getattr(args, "action", None)
    if action is None:
        sys.stdout.write(f"Manage remote API service destinations\n\nUsage:\n  {program_name()} system connection "
                         "[command]\n\nAvailable Commands:\n  add, default, list (ls), remove (rm), rename (mv)\n")
        raise InvalidArgument(f"missing command '{program_name()} system connection COMMAND'")
    handler: Callable[[argparse.Namespace], int] = _ACTIONS[action]
    return handler(args)


def _undefined(name: str) -> NoSuchConnection:
    return NoSuchConnection(f'"{name}" destination is not defined. See "{program_name()} system connection add ..." '
                            "to create a connection")


def _edit(change: Callable[[ConnectionTable], None]) -> None:
    from sealpod.engine.connections import update_table, writable_conf

    update_table(writable_conf(os.environ), change)


def _destination(args: argparse.Namespace, identity: str = "") -> str:
    """The URI to record; ``--port``/``--socket-path`` complete an ssh destination, and without
    a socket path the far host is asked over ssh for its service's socket (as Podman does)."""
    from sealpod.engine.connections import parse_uri

    text: str = args.destination
    if "://" not in text and not text.startswith("unix:"):
        text = f"ssh://{text}"  # Podman's form: [user@]host[:port][/path]
    uri = parse_uri(text)
    if uri.scheme == "tcp" and args.identity:
        raise InvalidArgument("--identity option not supported for tcp scheme")
    if uri.scheme == "ssh" and (args.port or args.socket_path or uri.path in ("", "/")):
        from sealpod.utils.record import replace

        uri = replace(uri, port=args.port or uri.port)
        path = args.socket_path or (uri.path if uri.path not in ("", "/") else "")
        if not path:
            from sealpod.cli.ssh_tunnel import check_identity, remote_socket

            path = remote_socket(uri, check_identity(identity), os.environ)
        user = f"{uri.user}@" if uri.user else ""
        host = f"[{uri.host}]" if ":" in uri.host else uri.host
        text = f"ssh://{user}{host}:{uri.port}{'' if path.startswith('/') else '/'}{path}"
    if uri.scheme == "unix" and args.socket_path:  # --socket-path names the socket, as Podman takes it
        uri = parse_uri(f"unix://{args.socket_path}")
        text = f"unix://{uri.path}"
    if uri.scheme == "unix" and not os.path.exists(uri.path):
        from sealpod.utils.logrus import warning

        warning(f'"{uri.path}" does not exists')  # sic: Podman's words
    return text


def _add(args: argparse.Namespace) -> int:
    from sealpod.engine.connections import Connection

    identity = os.path.abspath(os.path.expanduser(args.identity)) if args.identity else ""
    uri = _destination(args, identity)

    def change(table: ConnectionTable) -> None:
        table.destinations[args.name] = Connection(args.name, uri, identity)
        if args.default or not table.active:
            table.active = args.name

    _edit(change)
    return 0


def _list(args: argparse.Namespace) -> int:
    from sealpod.engine.connections import merged_connections

    table = merged_connections(os.environ)
    conns = [table.destinations[n] for n in sorted(table.destinations)]
    if args.quiet:
        sys.stdout.write("".join(f"{c.name}\n" for c in conns))
        return 0
    from sealpod.cli.formatting import render, tabwrite

    rows = [{"Name": c.name, "URI": c.uri, "Identity": c.identity, "IsMachine": c.is_machine,
             "Default": c.name == table.active} for c in conns]
    if not args.format:  # Podman's header here is not upper-cased
        lines = ["Name\tURI\tIdentity\tDefault\n"]
        lines += [f"{r['Name']}\t{r['URI']}\t{r['Identity']}\t{str(r['Default']).lower()}\n" for r in rows]
        sys.stdout.write(tabwrite("".join(lines)))
        return 0
    default = "table {{.Name}}\t{{.URI}}\t{{.Identity}}\t{{.Default}}"
    sys.stdout.write(render(args.format, rows, default=default, name="connection"))
    return 0


def _remove(args: argparse.Namespace) -> int:
    if args.all:
        if args.name:
            raise InvalidArgument("--all and a connection name cannot be used together")

        def clear(table: ConnectionTable) -> None:
            table.destinations.clear()
            table.active = ""

        _edit(clear)
        return 0
    if not args.name:
        raise InvalidArgument("accepts 1 arg(s), received 0")

    def drop(table: ConnectionTable) -> None:  # a name that is not there is no error, as in Podman
        table.destinations.pop(args.name, None)

    _edit(drop)
    return 0


def _default(args: argparse.Namespace) -> int:
    def change(table: ConnectionTable) -> None:
        if args.name not in table.destinations:
            raise _undefined(args.name)
        table.active = args.name

    _edit(change)
    return 0


def _rename(args: argparse.Namespace) -> int:
    def change(table: ConnectionTable) -> None:
        conn = table.destinations.pop(args.old, None)
        if conn is None:
            raise _undefined(args.old)
        from sealpod.utils.record import replace

        table.destinations[args.new] = replace(conn, name=args.new)
        if table.active == args.old:
            table.active = args.new

    _edit(change)
    return 0


_ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add": _add, "list": _list, "ls": _list, "remove": _remove, "rm": _remove, "default": _default,
    "rename": _rename, "mv": _rename,
}

# ``context``: Docker's names for the same connections (``docker context create --docker host=URI``).

def _setup_context_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME")
    p.add_argument("destination", nargs="?", default="", metavar="DESTINATION")
    p.add_argument("--docker", default="", help="description of the context")
    for ignored in ("--default-stack-orchestrator", "--description", "--from", "--kubernetes"):
        p.add_argument(ignored, default="", help="ignored, just for script compatibility")


def _run_context_create(args: argparse.Namespace, ctx: CliContext) -> int:
    host = args.destination
    if args.docker or not host:
        fields = dict(item.partition("=")[::2] for item in args.docker.split(",") if item)
        host = fields.get("host", "")
        if not host:
            raise InvalidArgument('"host" is required for --docker option')
        extra = [f"{k}={v}" for k, v in fields.items() if k != "host"]
        if extra:
            raise InvalidArgument(f'--docker additional options "{",".join(extra)}" not supported')
    return _add(argparse.Namespace(name=args.name, destination=host, default=False, identity="", port=0,
                                   socket_path=""))


def _setup_context_ls(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--format", default="", help="custom Go template for printing connections")
    p.add_argument("-q", "--quiet", action="store_true", help="print connection names only")


def _setup_context_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME")
    _setup_context_ls(p)


def _run_context_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    """As Podman 4's: the named connections only (none named, none shown), JSON by default."""
    from sealpod.cli.formatting import render
    from sealpod.engine.connections import merged_connections

    table = merged_connections(os.environ)
    conns = [table.destinations[n] for n in sorted(table.destinations) if n in args.names]
    if args.quiet:
        sys.stdout.write("".join(f"{c.name}\n" for c in conns))
        return 0
    rows = [{"Name": c.name, "URI": c.uri, "Identity": c.identity, "IsMachine": c.is_machine,
             "Default": c.name == table.active} for c in conns]
    sys.stdout.write(render(args.format or "json", rows, default="json", name="connection"))
    return 0


def _setup_context_rm(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("-a", "--all", action="store_true", help="remove all connections")


def _setup_context_use(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME")


COMMANDS: dict[str, Command] = {
    "connection": Command("Manage remote API service destinations", _setup, _run),
    "context create": Command("Record destination for the sealpod service", _setup_context_create,
                              _run_context_create),
    "context inspect": Command("Inspect destination for a sealpod service(s)", _setup_context_inspect,
                               _run_context_inspect),
    "context ls": Command("List destination for the sealpod service(s)", _setup_context_ls,
                          lambda args, ctx: _list(args)),
    "context rm": Command("Delete named destination", _setup_context_rm, lambda args, ctx: _remove(args)),
    "context use": Command("Set named destination as default", _setup_context_use, lambda args, ctx: _default(args)),
}
