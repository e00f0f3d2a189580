"""Secret commands: create, ls, inspect, rm, exists."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from sealpod.cli.args import key_values
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, NoSuchSecret, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_DEFAULT_LS = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}"
_LS_HEADERS = {"ID": "ID", "Name": "NAME", "Driver": "DRIVER", "CreatedAt": "CREATED", "UpdatedAt": "UPDATED"}


def _setup_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME")
    p.add_argument("source", metavar="FILE", nargs="?",
                   help="file with the secret's data, - for stdin (with --env: an environment variable)")
    p.add_argument("-d", "--driver", default="file", help="specify secret driver")
    p.add_argument("--driver-opts", action="append", default=[], help="specify driver specific options")
    p.add_argument("--env", action="store_true", help="read secret data from environment variable")
    p.add_argument("-l", "--label", action="append", default=[], help="specify labels on the secret")
    p.add_argument("--replace", action="store_true", help="replace an existing secret of the same name")


def _secret_data(args: argparse.Namespace) -> bytes:
    if args.source is None:
        raise InvalidArgument("accepts 2 arg(s), received 1")
    if args.env:
        value = os.environ.get(args.source)
        if value is None:
            raise InvalidArgument(f"cannot create store secret data: environment variable {args.source} is not set")
        return value.encode()
    if args.source == "-":
        if sys.stdin.isatty():
            raise InvalidArgument("if `-` is used, data must be passed into stdin")
        data = sys.stdin.buffer.read()
        if not data:
            raise InvalidArgument("if `-` is used, data must be passed into stdin")
        return data
    try:
        with open(args.source, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidArgument(f"open {args.source}: {(e.strerror or str(e)).lower()}") from None


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    secret = ctx.engine.secrets.create(
        args.name, _secret_data(args), driver=args.driver, driver_opts=key_values(args.driver_opts, "driver option"),
        labels=key_values(args.label, "label"), replace=args.replace)
    sys.stdout.write(secret.id + "\n")
    return 0


def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], help="filter secret output (name=, id=)")
    p.add_argument("--format", help="format secret output using a Go template or json")
    p.add_argument("-n", "--noheading", action="store_true", help="do not print headers")
    p.add_argument("-q", "--quiet", action="store_true", help="print secret IDs only")


def _matches(doc: dict[str, Any], filters: list[str]) -> bool:
    wanted: dict[str, list[str]] = {}
    for spec in (part for item in filters for part in item.split(",")):  # name=a,name=b: two filters, as Podman
        key, sep, value = spec.partition("=")
        if not sep or key not in ("name", "id", "label"):
            raise InvalidArgument(f'invalid filter "{spec}"')
        wanted.setdefault(key, []).append(value)
    for key, values in wanted.items():
        if key == "name" and not any(v in doc["Spec"]["Name"] for v in values):
            return False
        if key == "id" and not any(doc["ID"].startswith(v) for v in values):
            return False
        if key == "label" and not all(_label_match(doc["Spec"]["Labels"], v) for v in values):
            return False
    return True


def _label_match(labels: dict[str, str], want: str) -> bool:
    key, sep, value = want.partition("=")
    return key in labels and (not sep or labels[key] == value)


def _run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render
    from sealpod.utils.units import human_duration

    service = ctx.engine.secrets
    secrets = service.all()
    docs = [service.inspect(s) for s in secrets]
    keep = [i for i, d in enumerate(docs) if _matches(d, args.filter)]
    if args.quiet and not args.format:  # a --format wins over --quiet, as in Podman
        sys.stdout.write("".join(f"{secrets[i].id}\n" for i in keep))
        return 0
    now = time.time()
    from sealpod.cli.gotemplate.values import StrictFields

    rows = [StrictFields({"ID": secrets[i].id, "Name": secrets[i].name, "Driver": secrets[i].driver,
                          "CreatedAt": human_duration(now - secrets[i].created) + " ago",
                          "UpdatedAt": human_duration(now - secrets[i].updated) + " ago", "Labels": secrets[i].labels},
                         "*entities.SecretListReport")
            for i in keep]
    out = render(args.format, rows, default=_DEFAULT_LS, headers=_LS_HEADERS, name="ls",
                 json_rows=lambda: [docs[i] for i in keep], noheading=args.noheading,
                 go_type="*entities.SecretListReport")
    sys.stdout.write(out)
    return 0


def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="+", metavar="SECRET")
    p.add_argument("-f", "--format", help="format inspect output using a Go template")
    p.add_argument("--pretty", action="store_true", help="print inspect output in human-readable format")


def _pretty(doc: dict[str, Any]) -> str:
    spec = doc["Spec"]
    labels = "".join(f" - {k}={v}\n" for k, v in spec["Labels"].items())
    return (f"ID:              {doc['ID']}\nName:            {spec['Name']}\n"
            + (f"Labels:\n{labels}" if labels else "")
            + f"Driver:          {spec['Driver']['Name']}\nCreated at:      {doc['CreatedAt']}\n"
            f"Updated at:      {doc['UpdatedAt']}\n")


def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.engine.secrets
    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in args.names:
        try:
            docs.append(service.inspect(service.lookup(name)))
        except NoSuchSecret as e:
            errors.append(e)
    if args.pretty:
        sys.stdout.write("\n".join(_pretty(d) for d in docs))
    elif args.format and args.format != "json":
        from sealpod.cli.formatting import unescape
        from sealpod.cli.gotemplate import compile_template

        tmpl = compile_template(unescape(args.format).rstrip("\n") + "\n", name="inspect")
        sys.stdout.write("".join(tmpl.execute(d) for d in docs))
    elif docs or not errors:
        sys.stdout.write(json.dumps(docs, indent=4, ensure_ascii=False) + "\n")
    return fail_with(errors)


def _setup_remove(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="SECRET")
    p.add_argument("-a", "--all", action="store_true", help="remove all secrets")
    p.add_argument("-i", "--ignore", action="store_true", help="ignore errors when a secret does not exist")


def _run_remove(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.all == bool(args.names):
        raise InvalidArgument("`sealpod secret rm` requires one argument, or `--all`" if not args.all
                              else "when using the --all switch, you may not pass any secret names")
    service = ctx.engine.secrets
    names = [s.id for s in service.all()] if args.all else args.names
    errors: list[SealpodError] = []
    for name in names:
        try:
            sys.stdout.write(service.remove(name) + "\n")
        except NoSuchSecret as e:
            if not args.ignore:
                errors.append(e)
    return fail_with(errors)


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="SECRET")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.secrets.exists(args.name) else 1


_LS = Command("List secrets", _setup_list, _run_list)
_RM = Command("Remove one or more secrets", _setup_remove, _run_remove)

COMMANDS: dict[str, Command] = {
    "create": Command("Create a new secret", _setup_create, _run_create),
    "ls": _LS,
    "list": _LS,
    "inspect": Command("Inspect a secret", _setup_inspect, _run_inspect),
    "rm": _RM,
    "remove": _RM,
    "exists": Command("Check if a secret exists", _setup_exists, _run_exists),
}
