"""``pod create``'s flags for the infra container: limits, devices, security, namespaces, volumes.

They take the values ``run``/``create`` take and are parsed by the same helpers; the result is a
dict of ContainerConfig fields (plus ``cpuset_mems``, which only the pod reports) that the engine
gives the infra container and that members inherit.
"""

from __future__ import annotations

import argparse

from sealpod.cli.args import flag_bool, key_values

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def add_infra_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--blkio-weight", default="", help="block IO weight (relative weight) accepts a weight value between 10 and 1000")
    a("--blkio-weight-device", action="append", default=[],
      help="block IO weight (relative device weight, format: DEVICE_NAME:WEIGHT)")
    a("--cgroup-parent", default="", help="optional parent cgroup for the pod's containers")
    a("-c", "--cpu-shares", type=int, default=None, help="CPU shares (relative weight)")
    a("--cpus", type=float, default=None, help="number of CPUs")
    a("--cpuset-cpus", default=None, help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", default=None, help="memory nodes (MEMs) in which to allow execution (0-3, 0,1)")
    a("--device", action="append", default=[], help="add a host device to the pod's containers")
    a("--device-read-bps", action="append", default=[], help="limit read rate (bytes per second) from a device")
    a("--device-write-bps", action="append", default=[], help="limit write rate (bytes per second) to a device")
    a("-m", "--memory", default=None, help="memory limit (format: <number>[<unit>])")
    a("--memory-swap", default=None, help="swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    a("--pid", default="", help="PID namespace to use")
    a("--uts", default="", help="UTS namespace to use")
    a("--security-opt", action="append", default=[], help="security options")
    a("--share-parent", nargs="?", const="true", default="true",
      help="set the pod's cgroup as the cgroup parent for all containers joining the pod")
    a("--sysctl", action="append", default=[], help="sysctl options")
    a("--volumes-from", action="append", default=[], help="mount volumes from the specified container(s)")
    a("--uidmap", action="append", default=[], help="UID map for the pod's user namespace (CONTAINER:HOST:SIZE)")
    a("--gidmap", action="append", default=[], help="GID map for the pod's user namespace (CONTAINER:HOST:SIZE)")
    a("--subuidname", default="", help="name of the range from /etc/subuid for the pod's user namespace")
    a("--subgidname", default="", help="name of the range from /etc/subgid for the pod's user namespace")


def share_parent(args: argparse.Namespace) -> bool:
    return flag_bool(args.share_parent, "--share-parent")


def infra_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The infra container's fields these flags set; flags left alone set nothing."""
    from sealpod.cli.cgroup_flags import cgroup_fields
    from sealpod.cli.container_flags import parse_size
    from sealpod.cli.run_checks import check_security_opts
    from sealpod.engine.image_volumes import check_volumes_from

    check_security_opts(args.security_opt)
    volumes_from = [v for v in args.volumes_from if v]
    for spec in volumes_from:
        check_volumes_from(spec)
    cg = cgroup_fields(argparse.Namespace(
        cgroup_parent=args.cgroup_parent, blkio_weight=args.blkio_weight, blkio_weight_device=args.blkio_weight_device,
        device_read_bps=args.device_read_bps, device_write_bps=args.device_write_bps))
    out: dict[str, Any] = {
        "cpu_shares": args.cpu_shares, "cpus": args.cpus, "cpuset_cpus": args.cpuset_cpus,
        "cpuset_mems": args.cpuset_mems, "devices": list(args.device), "pid": args.pid, "uts": args.uts,
        "security_opts": list(args.security_opt), "sysctls": key_values(args.sysctl, "sysctl"),
        "volumes_from": volumes_from, "uid_maps": list(args.uidmap), "gid_maps": list(args.gidmap),
        "subuidname": args.subuidname, "subgidname": args.subgidname,
        "memory": parse_size(args.memory, "--memory") if args.memory else None,
        "memory_swap": (-1 if args.memory_swap == "-1" else parse_size(args.memory_swap, "--memory-swap"))
        if args.memory_swap else None,
        **{k: cg[k] for k in ("cgroup_parent", "blkio_weight", "blkio_weight_device", "device_read_bps",
                              "device_write_bps")}}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items() if v not in (None, "", [], (), {})}


def init_ctr_flag(value: str, pod: str) -> str:
    """``create --init-ctr``: checked now, in Podman's words, before anything is pulled."""
    from sealpod.errors import InvalidArgument

    if not value:
        return ""
    if not pod:
        raise InvalidArgument("must specify pod value with init-ctr")
    if value not in ("always", "once"):
        raise InvalidArgument("init-ctr value must be 'always' or 'once'")
    return value
