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


def key_values(items: Iterable[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` flags (labels, annotations, options) into a dict; a bare KEY maps to ""."""
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f'invalid {what} "{item}": must be in the format KEY=VALUE')
        out[key] = value
    return out


def confirm(warning: str) -> bool:
    """Podman's prune prompt: the warning, then ``Are you sure you want to continue? [y/N]``."""
    sys.stdout.write(f"{warning}Are you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
