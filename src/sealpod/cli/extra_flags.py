"""Three rarer flags of run/create: ``--seccomp-policy``, ``--hostuser`` and ``--cgroup-conf``,
declared apart from container_flags and checked now, so that a bad value fails before any pull
and leaves no container behind (Podman's words)."""

from __future__ import annotations

import argparse

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SECCOMP_POLICIES = ("default", "image")


def add_extra_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--seccomp-policy", default="default", help="policy for selecting a seccomp profile (default, image)")
    a("--hostuser", action="append", default=[], help="host user account to add to /etc/passwd within container")
    a("--cgroup-conf", action="append", default=[], help="configure cgroup v2 (key=value)")


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


def extra_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ContainerConfig fields of these flags."""
    return {"seccomp_policy": check_seccomp_policy(getattr(args, "seccomp_policy", "")),
            "hostusers": tuple(u for item in getattr(args, "hostuser", ()) for u in item.split(",") if u),
            "cgroup_conf": _cgroup_conf(getattr(args, "cgroup_conf", []))}
