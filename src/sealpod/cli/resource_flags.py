"""More flags of run/create: memory and CPU limits beyond the common ones, the OOM killer,
the execution domain, /etc/passwd management, --env-merge, the no-op --gpus, and
--seccomp-policy, --hostuser and --cgroup-conf.

Declared apart from container_flags (as the cgroup flags are) so that its table stays in one place;
values are checked now, so a typo fails before any pull, with Podman's wording.
"""

from __future__ import annotations

import argparse

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The execution domains of personality(2) that runtimes accept in ``linux.personality.domain``.
PERSONALITIES = ("LINUX", "LINUX32")
SECCOMP_POLICIES = ("default", "image")


def add_resource_flags(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.args import uint  # refused as cobra refuses a uint flag's value

    a = p.add_argument
    a("--memory-reservation", default="", help="memory soft limit (format: <number>[<unit>], unit = b, k, m or g)")
    a("--memory-swappiness", type=int, default=None, help="tune container memory swappiness (0 to 100, or -1)")
    # booleans as cobra's (store_true: "--passwd=false" works, "--passwd IMAGE" never takes IMAGE)
    a("--oom-kill-disable", action="store_true", help="disable OOM Killer")
    a("--cpuset-mems", default="", help="memory nodes (MEMs) in which to allow execution (0-3, 0,1)")
    a("--cpu-rt-period", type=uint, default=None, help="limit the CPU real-time period in microseconds")
    a("--cpu-rt-runtime", type=int, default=None, help="limit the CPU real-time runtime in microseconds")
    a("--personality", default="", help="configure execution domain using personality (e.g., LINUX/LINUX32)")
    a("--passwd", action="store_true", default=True, help="add entries to /etc/passwd and /etc/group")
    a("--passwd-entry", default="", help="entry to write to /etc/passwd")
    a("--read-only-tmpfs", action="store_true", default=True,
      help="when running containers in read-only mode mount a read-write tmpfs on /run, /tmp and /var/tmp")
    a("--env-merge", action="append", default=[], help="preprocess environment variables from image before injecting")
    a("--gpus", action="append", default=[], help=argparse.SUPPRESS)  # Docker's; accepted and ignored, as Podman
    a("--seccomp-policy", default="default", help="policy for selecting a seccomp profile (default, image)")
    a("--hostuser", action="append", default=[], help="host user account to add to /etc/passwd within container")
    a("--cgroup-conf", action="append", default=[], help="configure cgroup v2 (key=value)")


def resource_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ContainerConfig fields of these flags (create and run share them)."""
    from sealpod.cli.container_flags import parse_size

    swappiness = getattr(args, "memory_swappiness", None)
    if swappiness is not None and not -1 <= swappiness <= 100:
        raise InvalidArgument(f"invalid value: {swappiness}, valid memory swappiness range is 0-100")
    personality = getattr(args, "personality", "")
    if personality and personality not in PERSONALITIES:
        raise InvalidArgument(f'invalid personality "{personality}": must be one of {", ".join(PERSONALITIES)}')
    reservation = getattr(args, "memory_reservation", "")
    for item in getattr(args, "env_merge", []):
        if "=" not in item:
            raise InvalidArgument(f"invalid env-merge {item!r}: must be KEY=VALUE")
    return {
        "memory_reservation": parse_size(reservation, "--memory-reservation") if reservation else None,
        "memory_swappiness": swappiness if swappiness is not None and swappiness >= 0 else None,
        "oom_kill_disable": bool(getattr(args, "oom_kill_disable", False)),
        "cpuset_mems": getattr(args, "cpuset_mems", "") or None,
        "cpu_rt_period": getattr(args, "cpu_rt_period", None), "cpu_rt_runtime": getattr(args, "cpu_rt_runtime", None),
        "personality": personality, "passwd": bool(getattr(args, "passwd", True)),
        "passwd_entry": getattr(args, "passwd_entry", ""), "env_merge": tuple(getattr(args, "env_merge", [])),
        "read_only_tmpfs": bool(getattr(args, "read_only_tmpfs", True)), **_security_fields(args),
    }


def check_seccomp_policy(policy: str) -> str:
    if policy not in ("", *SECCOMP_POLICIES):
        quoted = " ".join(f'"{p}"' for p in SECCOMP_POLICIES)
        raise InvalidArgument(f'invalid seccomp policy "{policy}": valid policies are [{quoted}]')
    return "" if policy == "default" else policy


def _cgroup_conf(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument("--cgroup-conf must be formatted KEY=VALUE")
        out[key] = value
    if out:
        from sealpod.engine.systemd_mode import host_cgroup_v2

        if not host_cgroup_v2():
            raise InvalidArgument("cannot use --cgroup-conf without cgroup v2")
    return out


def _security_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"seccomp_policy": check_seccomp_policy(getattr(args, "seccomp_policy", "")),
            "hostusers": tuple(u for item in getattr(args, "hostuser", ()) for u in item.split(",") if u),
            "cgroup_conf": _cgroup_conf(getattr(args, "cgroup_conf", []))}
