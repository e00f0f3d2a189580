"""Which resource limits a container's process gets, decided as Podman 4.3.1 decides them.

Three sources, in Podman's order: ``--ulimit`` flags *replace* containers.conf's ``default_ulimits``
(those are the flag's default value, not a base the flags add to); with no ``default_ulimits`` in any
file, containers/common's built-in default is ``nproc`` at the kernel's ``pid_max`` (when this
process could set that much); and whatever is still unset of NOFILE and NPROC gets libpod's 1048576.
This sandbox refuses limits above its hard ones unless we may raise them, so the asked-for values are
clamped with a warning and the defaults are lowered quietly (runtime.rlimits does the clamping).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Sequence

    from sealpod.runtime.rlimits import Rlimit

#: libpod's default for RLIMIT_NOFILE and RLIMIT_NPROC when nothing else set them.
PODMAN_DEFAULT_LIMIT = 1048576
_PID_MAX = "/proc/sys/kernel/pid_max"


def _settable(value: int, host: tuple[int, int] | None, can_raise: bool) -> bool:
    return host is None or can_raise or host[1] < 0 or value <= host[1]


def builtin_default_ulimits(pid_max_path: str = _PID_MAX) -> tuple[str, ...]:
    """containers.conf's ``default_ulimits`` when no file sets it: ``nproc=PID_MAX:PID_MAX`` if this
    process could take that limit, else ``nproc=1048576`` if it could take that, else nothing."""
    from sealpod.runtime import rlimits

    try:
        with open(pid_max_path, encoding="ascii") as f:
            pid_max = int(f.read().strip())
    except (OSError, ValueError):
        pid_max = PODMAN_DEFAULT_LIMIT
    host = rlimits.host_limit("RLIMIT_NPROC")
    can_raise = rlimits.can_raise_limits()
    for value in (pid_max, PODMAN_DEFAULT_LIMIT):
        if _settable(value, host, can_raise):
            return (f"nproc={value}:{value}",)
    return ()


def requested_ulimits(configured: Sequence[str], flags: Sequence[str]) -> list[str]:
    """The ``name=soft:hard`` limits asked for: the flags if any, else containers.conf's (or its built-in)."""
    if flags:
        return list(flags)
    return list(configured) if configured else list(builtin_default_ulimits())


def default_rlimits(given: set[str]) -> list[Rlimit]:
    """libpod's NOFILE and NPROC for those not ``given``, lowered to the host's hard limit when we
    could not raise it."""
    from sealpod.runtime import rlimits

    can_raise = rlimits.can_raise_limits()
    out = []
    for kind in ("RLIMIT_NOFILE", "RLIMIT_NPROC"):
        host = rlimits.host_limit(kind)
        if kind in given or host is None:
            continue
        limit = PODMAN_DEFAULT_LIMIT if _settable(PODMAN_DEFAULT_LIMIT, host, can_raise) else host[1]
        out.append(rlimits.Rlimit(kind, limit, limit))
    return out


def container_rlimits(configured: Sequence[str], flags: Sequence[str]) -> tuple[Rlimit, ...]:
    """process.rlimits of the spec: ``--ulimit host`` is the host's own; else the asked-for limits,
    clamped (with a warning) where the host refuses them, then libpod's defaults for the rest."""
    from sealpod.runtime import rlimits

    if "host" in flags:
        return rlimits.host_rlimits()
    asked = rlimits.clamp_rlimits(rlimits.parse_ulimits(requested_ulimits(configured, flags)))
    every = [*asked, *default_rlimits({r.type for r in asked})]
    return tuple(sorted(every, key=lambda r: r.type != "RLIMIT_NOFILE"))  # Podman's order: NOFILE leads
