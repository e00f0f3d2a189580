"""What RUN containers get besides the image's config: ``build``'s run flags, as Buildah applies them.

Resources (``--memory``, ``--cpu-*``, ``--shm-size``, ``--cgroup-parent``), namespaces (``--ipc``,
``--pid``, ``--uts``, ``--userns``, ``--cgroupns``) and ``--http-proxy`` are only ever set on
the containers that run RUN instructions: they change what a step sees, never the image.
"""

from __future__ import annotations

from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_config import MountSpec

#: Buildah's ``--shm-size`` default, "65536k" (1024-based: a /dev/shm of 64 MiB).
DEFAULT_SHM_SIZE = 65536 * 1024


@dataclass(frozen=True)
class RunSettings:
    """``build``'s flags for RUN containers ("" and None: the engine's defaults)."""

    ulimits: tuple[str, ...] = ()
    security_opts: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    add_hosts: tuple[str, ...] = ()
    no_hosts: bool = False
    devices: tuple[str, ...] = ()
    memory: int | None = None  # -m/--memory, bytes
    memory_swap: int | None = None  # --memory-swap, bytes (-1: unlimited)
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    shm_size: int | None = DEFAULT_SHM_SIZE
    cgroup_parent: str = ""
    ipc: str = ""  # "" | private | host | ns:PATH
    pid: str = ""
    uts: str = ""
    userns: str = ""
    uid_maps: tuple[str, ...] = ()  # --userns-uid-map CONTAINER:HOST:LENGTH (a user namespace of these)
    gid_maps: tuple[str, ...] = ()  # --userns-gid-map
    cgroupns: str = ""
    http_proxy: bool = True  # --http-proxy: the caller's proxy variables reach RUN


def container_fields(run: RunSettings) -> dict[str, Any]:
    """The ContainerConfig fields a RUN container takes from ``run`` (besides mounts and the like)."""
    return {"memory": run.memory, "memory_swap": run.memory_swap, "cpu_period": run.cpu_period,
            "cpu_quota": run.cpu_quota, "cpu_shares": run.cpu_shares, "cpuset_cpus": run.cpuset_cpus,
            "cpuset_mems": run.cpuset_mems, "shm_size": run.shm_size, "cgroup_parent": run.cgroup_parent,
            "ipc": run.ipc, "pid": run.pid, "uts": run.uts, "userns": run.userns, "cgroupns": run.cgroupns,
            "uid_maps": run.uid_maps, "gid_maps": run.gid_maps, "http_proxy": run.http_proxy}
