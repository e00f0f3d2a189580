"""Process resource limits: ``--ulimit`` parsing and clamping to what this host allows.

Podman asks for RLIMIT_NOFILE 1048576 and a high RLIMIT_NPROC by default; a process without
CAP_SYS_RESOURCE cannot raise a hard limit above its own, and runc then fails the whole start
with "operation not permitted".  Clamping (with a warning) keeps the container startable.
"""

from __future__ import annotations

import resource
from collections.abc import Iterable

from sealpod.errors import InvalidArgument
from sealpod.utils.record import dataclass

UNLIMITED = -1
"""How a user writes "no limit" (``--ulimit core=-1``); the kernel's RLIM_INFINITY."""

# ulimit name (as Docker and Podman accept it) -> OCI rlimit type.
RLIMIT_NAMES: dict[str, str] = {
    "as": "RLIMIT_AS",
    "core": "RLIMIT_CORE",
    "cpu": "RLIMIT_CPU",
    "data": "RLIMIT_DATA",
    "fsize": "RLIMIT_FSIZE",
    "locks": "RLIMIT_LOCKS",
    "memlock": "RLIMIT_MEMLOCK",
    "msgqueue": "RLIMIT_MSGQUEUE",
    "nice": "RLIMIT_NICE",
    "nofile": "RLIMIT_NOFILE",
    "nproc": "RLIMIT_NPROC",
    "rss": "RLIMIT_RSS",
    "rtprio": "RLIMIT_RTPRIO",
    "rttime": "RLIMIT_RTTIME",
    "sigpending": "RLIMIT_SIGPENDING",
    "stack": "RLIMIT_STACK",
}

_CAP_SYS_RESOURCE = 24
_RLIM_INFINITY_U64 = 2**64 - 1


@dataclass(frozen=True)
class Rlimit:
    """One OCI ``process.rlimits`` entry; ``type`` is the OCI name (``RLIMIT_NOFILE``)."""

    type: str
    soft: int
    hard: int

    def to_oci(self) -> dict[str, object]:
        return {"type": self.type, "hard": _oci_value(self.hard), "soft": _oci_value(self.soft)}


def _oci_value(v: int) -> int:
    # The OCI spec types limits as uint64: "unlimited" is all ones, not -1.
    return _RLIM_INFINITY_U64 if v < 0 or v == resource.RLIM_INFINITY else v


def _parse_number(text: str, flag: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidArgument(f'invalid ulimit argument "{flag}": invalid value "{text}"') from None
    if value < UNLIMITED:
        raise InvalidArgument(f'invalid ulimit argument "{flag}": ulimit value cannot be below -1')
    if value >= 1 << 63:  # Go's ParseInt refuses it, and no kernel limit is that large
        raise InvalidArgument(f'invalid ulimit argument "{flag}": strconv.ParseInt: parsing "{text}": '
                              "value out of range")
    return value


def parse_ulimit(flag: str) -> Rlimit:
    """Parse ``name=soft[:hard]`` as ``--ulimit`` takes it; a lone value sets both limits."""
    name, sep, values = flag.partition("=")
    if not sep or not values:
        raise InvalidArgument(f'invalid ulimit argument "{flag}": expected name=soft[:hard]')
    oci = RLIMIT_NAMES.get(name.strip().lower())
    if oci is None:
        raise InvalidArgument(f'invalid ulimit argument "{flag}": invalid ulimit type: {name}')
    soft_s, colon, hard_s = values.partition(":")
    soft = _parse_number(soft_s, flag)
    hard = _parse_number(hard_s, flag) if colon else soft
    if hard != UNLIMITED and (soft == UNLIMITED or soft > hard):
        raise InvalidArgument(
            f'invalid ulimit argument "{flag}": ulimit soft limit must be less than or equal to hard limit: '
            f"{soft} > {hard}")
    return Rlimit(oci, soft, hard)


def parse_ulimits(flags: Iterable[str]) -> tuple[Rlimit, ...]:
    """Parse every ``--ulimit``; a later flag for the same limit wins, as in Podman."""
    by_type: dict[str, Rlimit] = {}
    for flag in flags:
        rl = parse_ulimit(flag)
        by_type[rl.type] = rl
    return tuple(by_type.values())


def _resource_const(oci_type: str) -> int | None:
    value = getattr(resource, oci_type, None)
    return value if isinstance(value, int) else None


def host_limit(oci_type: str) -> tuple[int, int] | None:
    """This process's (soft, hard) for an OCI rlimit type, -1 meaning unlimited; None if unknown."""
    const = _resource_const(oci_type)
    if const is None:
        return None
    soft, hard = resource.getrlimit(const)
    inf = resource.RLIM_INFINITY
    return (UNLIMITED if soft == inf else soft, UNLIMITED if hard == inf else hard)


def host_rlimits(types: Iterable[str] | None = None) -> tuple[Rlimit, ...]:
    """The host's own limits (all of them by default), for ``--ulimit host``."""
    out = []
    for t in RLIMIT_NAMES.values() if types is None else types:
        lim = host_limit(t)
        if lim is not None:
            out.append(Rlimit(t, lim[0], lim[1]))
    return tuple(out)


def can_raise_limits() -> bool:
    """Whether this process may raise a hard limit: it needs CAP_SYS_RESOURCE in its effective set,
    and not merely inside a user namespace (the kernel asks the host's namespace: rootless)."""
    from sealpod.rootless.idmap import in_user_namespace

    if in_user_namespace():
        return False
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> _CAP_SYS_RESOURCE & 1)
    except OSError:
        pass
    return False


def _above(value: int, limit: int) -> bool:
    if limit == UNLIMITED:
        return False
    return value == UNLIMITED or value > limit


def clamp_rlimit(rl: Rlimit, *, can_raise: bool | None = None) -> Rlimit:
    """Lower a limit to the host's hard limit when we could not raise it, warning the user.

    ``can_raise`` defaults to asking the kernel (CAP_SYS_RESOURCE); callers that start the
    runtime in a user namespace know better and pass False.
    """
    if can_raise is None:
        can_raise = can_raise_limits()
    lim = host_limit(rl.type)
    if can_raise or lim is None:
        return rl
    host_hard = lim[1]
    if not _above(rl.hard, host_hard) and not _above(rl.soft, host_hard):
        return rl
    hard = host_hard if _above(rl.hard, host_hard) else rl.hard
    soft = hard if _above(rl.soft, hard) else rl.soft
    from sealpod.utils.logrus import warning

    warning(f"Requested {rl.type} {_fmt(rl.soft)}:{_fmt(rl.hard)} exceeds the host's hard limit {_fmt(host_hard)}, "
            f"using {_fmt(soft)}:{_fmt(hard)}")
    return Rlimit(rl.type, soft, hard)


def _fmt(v: int) -> str:
    return "unlimited" if v == UNLIMITED else str(v)


def clamp_rlimits(rlimits: Iterable[Rlimit], *, can_raise: bool | None = None) -> tuple[Rlimit, ...]:
    """:func:`clamp_rlimit` over a set, checking the capability once."""
    if can_raise is None:
        can_raise = can_raise_limits()
    return tuple(clamp_rlimit(rl, can_raise=can_raise) for rl in rlimits)
