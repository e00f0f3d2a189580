"""The create command line of a container or pod, rewritten for a ``--new`` unit.

The recorded command (inspect's CreateCommand) is replayed by the unit's ExecStart, so the flags
that would fight the unit (another cidfile, ``--rm`` twice, a restart policy systemd now owns, the
pod it joins by name) are dropped and the ones the unit depends on are added, as Podman does.
Which flags take a value is known here from a small table: everything unknown is assumed to.
"""

from __future__ import annotations

from collections.abc import Sequence

from sealpod.engine import GLOBAL_FLAGS_WITH_VALUE
from sealpod.errors import SystemdError
from sealpod.utils.record import dataclass

# global options (before the command) that take a value, as the CLI defines them
GLOBAL_VALUED = GLOBAL_FLAGS_WITH_VALUE

# run/create/pod create options that take no value (all others do)
BOOLEAN = frozenset({
    "-d", "--detach", "-i", "--interactive", "-t", "--tty", "-P", "--publish-all", "-q", "--quiet", "--rm",
    "--replace", "--privileged", "--read-only", "--read-only-tmpfs", "--init", "--no-hosts", "--env-host",
    "--http-proxy", "--rmi", "--unsetenv-all", "--no-healthcheck", "--sig-proxy", "--tls-verify", "--help",
})
_SHORT_BOOLEAN = frozenset("diPqt")


@dataclass(frozen=True)
class SplitCommand:
    """A create command in its parts: ``exe GLOBAL... [container|pod] VERB OPTION... [ARG...]``."""

    globals: tuple[str, ...]  # what stood between the executable and the verb (Podman keeps "container")
    options: tuple[str, ...]  # the verb's options, up to the first operand
    operands: tuple[str, ...]  # image and command (or the pod's name)


def _takes_value(arg: str) -> bool:
    if "=" in arg:
        return False
    if arg.startswith("--"):
        return arg not in BOOLEAN
    letters = arg[1:]
    return not all(ch in _SHORT_BOOLEAN for ch in letters) if letters else False


def split_command(argv: Sequence[str], verbs: tuple[str, ...]) -> SplitCommand:
    """Split at the first of ``verbs`` that is a word (not a global option's value)."""
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in verbs:
            break
        i += 2 if arg in GLOBAL_VALUED else 1
    else:
        raise SystemdError(f"container's create command is too short or invalid: [{' '.join(argv)}]")
    head, rest = tuple(argv[1:i]), list(argv[i + 1:])
    j = 0
    while j < len(rest) and rest[j].startswith("-") and rest[j] != "-":
        if rest[j] == "--":
            j += 1
            break
        j += 2 if _takes_value(rest[j]) else 1
    return SplitCommand(head, tuple(rest[:j]), tuple(rest[j:]))


def pairs(options: Sequence[str]) -> list[tuple[str, ...]]:
    """Options grouped with their values: ``("--name", "x")``, ``("--rm",)``, ``("--name=x",)``."""
    out: list[tuple[str, ...]] = []
    i = 0
    while i < len(options):
        width = 2 if _takes_value(options[i]) and i + 1 < len(options) else 1
        out.append(tuple(options[i:i + width]))
        i += width
    return out


def flag_name(group: tuple[str, ...]) -> str:
    return group[0].split("=", 1)[0]


def flag_value(group: tuple[str, ...]) -> str | None:
    if len(group) == 2:
        return group[1]
    name, eq, value = group[0].partition("=")
    return value if eq else None


def has(groups: Sequence[tuple[str, ...]], *names: str) -> bool:
    return any(flag_name(g) in names or _short_bundle(g[0], names) for g in groups)


def _short_bundle(arg: str, names: tuple[str, ...]) -> bool:
    """``-dit`` holds ``-d``: bundles of one-letter booleans."""
    if arg.startswith("--") or len(arg) < 3 or "=" in arg:
        return False
    return any(len(n) == 2 and n[0] == "-" and n[1] in arg[1:] for n in names)


def drop(groups: Sequence[tuple[str, ...]], *names: str) -> list[tuple[str, ...]]:
    return [g for g in groups if flag_name(g) not in names]


def root_flags(split: SplitCommand) -> tuple[str, ...]:
    """The global options alone (without the "container"/"pod" group word), for stop and rm lines."""
    return tuple(split.globals[:-1]) if split.globals and split.globals[-1] in ("container", "pod") \
        else split.globals
