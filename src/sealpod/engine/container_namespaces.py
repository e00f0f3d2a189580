"""The namespaces a container's spec names (its own, another container's, the host's) and what goes
with them: the /dev/shm a shared IPC namespace shares, the sysctls a namespace of its own may take.
Out of container_start so that module stays about the start itself."""

from __future__ import annotations

import os
from collections.abc import Sequence

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord
from sealpod.errors import ContainerStateInvalid, InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.containers import ContainerService
    from sealpod.engine.network_state import NetworkStatus
    from sealpod.runtime.spec import Mount


def conf_shm_size(text: str) -> int:
    """containers.conf's ``shm_size`` in bytes: Podman reads it with decimal units ("64m" is 64000000
    bytes; its default "65536k" makes a /dev/shm the kernel shows as 64000k), unlike ``--shm-size``."""
    units = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "b": 1}
    value = text.strip().lower().removesuffix("b").removesuffix("i") or "0"
    try:
        if value[-1] in units:
            return int(float(value[:-1]) * units[value[-1]])
        return int(float(value))
    except ValueError:
        raise InvalidArgument(f"invalid shm_size {text!r} in containers.conf") from None


def namespaces(cfg: ContainerConfig, net: NetworkStatus | None = None,
                svc: ContainerService | None = None) -> dict[str, str | None]:
    """The network namespace comes from ``engine.networks.setup_for`` (a netns file, another
    container's, ``ns:PATH``); None leaves runc to make a private one, with only ``lo``.
    ``container:ID`` (a pod's infra container, or ``--ipc container:ID``) joins that one's process."""
    ns: dict[str, str | None] = {"pid": None, "ipc": None, "uts": None, "mount": None, "network": None}
    for kind, value in (("pid", cfg.pid), ("ipc", cfg.ipc), ("uts", cfg.uts)):
        if kind == "ipc" and value in ("shareable", "none"):
            continue  # a private namespace; "none" has no /dev/shm, "shareable" may be joined
        if value == "host":
            ns.pop(kind)
        elif value.startswith("ns:"):
            ns[kind] = value[3:]
        elif value.startswith("container:") and svc is not None:
            ns[kind] = joined_namespace(svc, value.split(":", 1)[1], kind)
        elif value.startswith("container:"):
            raise InvalidArgument(f"--{kind}=container: is not supported here")
        elif value not in ("", "private"):
            raise InvalidArgument(f'invalid --{kind} "{value}"')
    if cfg.cgroupns == "private":  # "" and host: the host's (Podman's default on cgroup v1)
        ns["cgroup"] = None
    elif cfg.cgroupns.startswith("ns:"):
        ns["cgroup"] = cfg.cgroupns[3:]
    elif cfg.cgroupns.startswith("container:") and svc is not None:
        ns["cgroup"] = joined_namespace(svc, cfg.cgroupns.split(":", 1)[1], "cgroup")
    if net is not None and net.mode == "host":
        ns.pop("network")
    elif net is not None:
        ns["network"] = net.netns
    if is_our_netns(ns.get("network")):  # a pod whose infra has the host's network: its members do too,
        ns.pop("network")  # without setns into a namespace a rootless user's runc may not enter
    return ns


def shared_shm(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig,
                namespaces: dict[str, str | None], mounts: Sequence[Mount]) -> list[Mount]:
    """A shared IPC namespace shares /dev/shm too, as in Podman: a pod's infra container gets a
    tmpfs mounted on the host (in its run dir) that members joining its IPC namespace bind, and
    ``--ipc host`` binds the host's.  Elsewhere runc's fresh tmpfs stays.  A rootless user's mounts live
    in its own mount namespace, which outlives the command, so its pods share theirs alike."""
    from sealpod.runtime.spec import Mount
    from sealpod.storage.mount import is_mountpoint, mount

    if any(m.destination == "/dev/shm" for m in mounts):
        return []
    opts = ("rbind", "rprivate", "nosuid", "noexec", "nodev")
    if "ipc" not in namespaces:  # a build's RUN keeps its own /dev/shm of --shm-size, as Buildah's
        return [] if cfg.external else [Mount("/dev/shm", "bind", "/dev/shm", opts)]
    shm = svc.paths(rec.id).rundir / "shm"
    if cfg.ipc.startswith("container:"):
        source = svc.paths(svc.lookup(cfg.ipc.split(":", 1)[1]).id).rundir / "shm"
        return [Mount("/dev/shm", "bind", os.fspath(source), opts)] if is_mountpoint(os.fspath(source)) else []
    if not rec.pod_id or rec.id not in svc.engine.pods.infra_ids():
        return []
    if not is_mountpoint(os.fspath(shm)):
        shm.mkdir(parents=True, exist_ok=True)
        size = cfg.shm_size or conf_shm_size(svc.engine.config.containers.containers.shm_size or "65536k")
        mount("shm", os.fspath(shm), "tmpfs", 0x2 | 0x4 | 0x8, f"mode=1777,size={size}")  # nosuid,nodev,noexec
    return [Mount("/dev/shm", "bind", os.fspath(shm), opts)]


def joined_namespace(svc: ContainerService, target: str, kind: str) -> str:
    from sealpod.engine.container_state import State

    other = svc.lookup(target)
    if other.state not in (State.RUNNING, State.PAUSED, State.CREATED) or other.pid <= 0:
        raise ContainerStateInvalid(f"cannot join {kind} namespace of container {other.id}: "
                                    "container state improper")
    if kind == "ipc" and other.config.get("ipc") in ("private", "none"):
        raise InvalidArgument(f"joining IPC of container {other.id} is not allowed: non-shareable IPC "
                              "(hint: use IpcMode:shareable for the donor container)")
    return f"/proc/{other.pid}/ns/{kind}"


def sysctls(cfg: ContainerConfig, namespaces: dict[str, str | None], rootless: bool,
             defaults: Sequence[str] = ()) -> dict[str, str]:
    """containers.conf's defaults (``ping_group_range``: busybox ping without NET_RAW) where the
    container has that namespace, as Podman; and, as Docker, a rootless container may listen on
    port 80 of its own network namespace."""
    sysctls: dict[str, str] = {}
    for item in defaults:
        key, _, value = item.partition("=")
        kind = "network" if key.startswith("net.") else "ipc" if key.startswith(("fs.mqueue.", "kernel.msg",
                                                                                  "kernel.sem", "kernel.shm")) else ""
        joined = (cfg.network if kind == "network" else cfg.ipc).startswith("container:")  # set there already
        # nor into one made outside the container's user namespace, which does not own it (netavark's netns)
        foreign = "user" in namespaces and bool(namespaces.get(kind))
        if not kind or (kind in namespaces and not joined and not foreign):
            sysctls[key.strip()] = value.strip()
    sysctls.update(cfg.sysctls)
    if rootless and "network" in namespaces:
        sysctls.setdefault("net.ipv4.ip_unprivileged_port_start", "0")
    return sysctls


def is_our_netns(path: str | None) -> bool:
    """Whether a joined network namespace is the one we run in (a pod whose infra has the host's
    network): runc refuses net.* sysctls there."""
    if not path:
        return False
    try:
        joined, ours = os.stat(path), os.stat("/proc/self/ns/net")
    except OSError:
        return False
    return (joined.st_dev, joined.st_ino) == (ours.st_dev, ours.st_ino)
