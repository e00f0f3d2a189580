"""Argument value parsers shared by the command modules (one definition each)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from sealpod.errors import InvalidArgument


def parse_bool(value: str) -> bool:
    """Go's strconv.ParseBool spelling, as cobra accepts for ``--flag=VALUE``."""
    lowered = value.lower()
    if lowered in ("true", "1", "t", "yes"):
        return True
    if lowered in ("false", "0", "f", "no"):
        return False
    raise argparse.ArgumentTypeError(f'invalid boolean value "{value}"')


def read_text_file(path: str) -> str:
    """A file named on the command line (env, label, ID files), as text.  Binary content is refused
    here with the file's name: Go's readers take any bytes, but nothing sensible follows from them."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode()
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"{path}: invalid UTF-8 at byte {e.start}") from None


def uint(text: str) -> int:
    """An unsigned integer (the parser words a refusal as cobra's ``strconv.ParseUint`` error)."""
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def flag_bool(value: str, flag: str) -> bool:
    """A boolean flag's value given after the parse (``--infra=maybe``), refused in cobra's words."""
    try:
        return parse_bool(value)
    except argparse.ArgumentTypeError:
        raise InvalidArgument(f'invalid argument "{value}" for "{flag}" flag: strconv.ParseBool: parsing '
                              f'"{value}": invalid syntax') from None


def key_values(items: Iterable[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` flags (labels, annotations, options) into a dict; a bare KEY maps to ""."""
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f'invalid {what} "{item}": must be in the format KEY=VALUE')
        out[key] = value
    return out


def confirm(warning: str, *, eof_error: bool = False) -> bool:
    """Podman's prune prompt: the warning, then ``Are you sure you want to continue? [y/N]``; an
    answer starting with y (any case) goes on.  ``eof_error``: input that ends before a newline
    fails with Podman's ``Error: EOF``, as its prune commands do."""
    sys.stdout.write(f"{warning}Are you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if eof_error and not answer.endswith("\n"):
        from sealpod.errors import SealpodError

        raise SealpodError("EOF")
    return answer[:1].lower() == "y"


def add_addressing_flags(parser: argparse.ArgumentParser, subject: str, hosts_of: str) -> None:
    """Host entries, DNS and the address on the network: ``run``/``create`` and ``pod create``
    take the same flags, worded for ``subject`` (container, pod); ``hosts_of`` says whose
    /etc/hosts ``--no-hosts`` leaves out."""
    a = parser.add_argument
    a("--add-host", action="append", default=[], help="add a custom host-to-IP mapping (host:ip)")
    a("--dns", action="append", default=[], help="set custom DNS servers")
    a("--dns-search", action="append", default=[], help="set custom DNS search domains")
    a("--dns-option", "--dns-opt", action="append", default=[], help="set custom DNS options")
    # None when not given: containers.conf's no_hosts decides, as Podman's flag default does
    a("--no-hosts", action="store_true", default=None, help=f"do not create /etc/hosts within {hosts_of}")
    a("--ip", default="", help=f"specify a static IPv4 address for the {subject}")
    a("--ip6", default="", help=f"specify a static IPv6 address for the {subject}")
    a("--mac-address", default="", help="container MAC address (e.g. 92:d0:c6:0a:29:33)")
    a("--network-alias", action="append", default=[], help=f"add a network-scoped alias for the {subject}")


def require_passed_fds(count: int) -> None:
    """``--preserve-fds N`` passes fds 3..3+N-1 of the caller on: each must be open, as Podman checks."""
    import os

    for fd in range(3, 3 + count):
        try:
            os.fstat(fd)
        except OSError:
            raise InvalidArgument(f"file descriptor {fd} is not available - the preserve-fds option requires "
                                  "that file descriptors must be passed") from None
