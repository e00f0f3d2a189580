"""The OCI runtime ``config.json``: plain parameters in, one dict out, serialised once.

``engine`` has already decided everything (image config, containers.conf, flags); this module
only lays those decisions out the way Podman 4 lays them out for runc, so that a container
behaves the same under sealpod as under Podman.  Apart from the privileged case (which must
list the host's devices and capabilities) nothing here reads the host.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import stat
from collections.abc import Mapping, Sequence
from fnmatch import fnmatch
from pathlib import Path
from types import MappingProxyType

from sealpod.errors import InvalidArgument
from sealpod.runtime.rlimits import Rlimit
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

OCI_VERSION = "1.0.2-dev"

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
)

# Capability numbers, as the kernel numbers the bits of /proc/self/status's CapBnd.
ALL_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

DEFAULT_MASKED_PATHS = (
    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
    "/sys/dev/block",
)
DEFAULT_READONLY_PATHS = (
    "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
)

NAMESPACE_TYPES = ("pid", "network", "ipc", "uts", "mount", "cgroup", "user")
DEFAULT_NAMESPACES: Mapping[str, str | None] = MappingProxyType(
    {"pid": None, "network": None, "ipc": None, "uts": None, "mount": None})

# /dev entries a privileged container does not get from the host: runc or the mounts provide them.
_HOST_DEV_SKIP_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})
_HOST_DEV_SKIP = frozenset({"/dev/console"})


@dataclass(frozen=True)
class Mount:
    """One OCI mount; ``source`` is a host path for binds, a label (``tmpfs``) otherwise."""

    destination: str
    type: str
    source: str
    options: tuple[str, ...] = ()

    def to_oci(self) -> dict[str, Any]:
        out: dict[str, Any] = {"destination": self.destination, "type": self.type, "source": self.source}
        if self.options:
            out["options"] = list(self.options)
        return out


@dataclass(frozen=True)
class IdMapping:
    container_id: int
    host_id: int
    size: int

    def to_oci(self) -> dict[str, int]:
        return {"containerID": self.container_id, "hostID": self.host_id, "size": self.size}


@dataclass(frozen=True)
class Resources:
    """cgroup limits; None leaves the runtime's default (no limit)."""

    memory: int | None = None
    memory_swap: int | None = None
    cpu_shares: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    block_io: Mapping[str, Any] = MappingProxyType({})  # OCI linux.resources.blockIO, built by the engine
    memory_reservation: int | None = None
    memory_swappiness: int | None = None
    disable_oom_killer: bool = False
    cpuset_mems: str | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None
    unified: Mapping[str, str] = MappingProxyType({})  # cgroup v2 files and values (--cgroup-conf)


@dataclass(frozen=True)
class Device:
    """A device node to create in the container and allow in the device cgroup.

    ``path`` is where it appears inside the container; ``file_mode`` includes the type bits,
    as ``st_mode`` does.
    """

    path: str
    type: str
    major: int
    minor: int
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    permissions: str = "rwm"

    def to_oci(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "type": self.type, "major": self.major, "minor": self.minor}
        for key, value in (("fileMode", self.file_mode), ("uid", self.uid), ("gid", self.gid)):
            if value is not None:
                out[key] = value
        return out

    def cgroup_rule(self) -> dict[str, Any]:
        return {"allow": True, "type": self.type, "major": self.major, "minor": self.minor,
                "access": self.permissions}


@dataclass(frozen=True)
class SpecParams:
    """Everything the runtime needs to know about one container's process and sandbox.

    ``namespaces`` maps a namespace type to None (a new one) or a path to join; a type that is
    absent is shared with the host.  ``mounts`` are the user's, applied after the standard ones,
    and one at the same destination replaces the standard mount.  ``user_capabilities`` are the
    capabilities a non-root process keeps (Podman gives a non-root user only those it added with
    ``--cap-add``); for uid 0 the whole ``capabilities`` set is effective.
    """

    rootfs: str
    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    umask: int = 0o022
    terminal: bool = False
    hostname: str = ""
    readonly_rootfs: bool = False
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
    user_capabilities: tuple[str, ...] = ()
    privileged: bool = False
    no_host_ttys: bool = False  # privileged in systemd mode: the host's /dev/tty* stay out (systemd would use them)
    no_new_privileges: bool = False
    namespaces: Mapping[str, str | None] = field(default_factory=lambda: dict(DEFAULT_NAMESPACES))
    uid_mappings: tuple[IdMapping, ...] = ()
    gid_mappings: tuple[IdMapping, ...] = ()
    mounts: tuple[Mount, ...] = ()
    shm_size: int = 64 * 1024 * 1024
    mask: tuple[str, ...] = ()
    unmask: tuple[str, ...] = ()
    rlimits: tuple[Rlimit, ...] = ()
    seccomp: Mapping[str, Any] | None = None
    apparmor_profile: str = ""
    selinux_label: str = ""
    mount_label: str = ""
    sysctls: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    cgroups_path: str = ""
    resources: Resources = Resources()
    devices: tuple[Device, ...] = ()
    device_rules: tuple[Mapping[str, Any], ...] = ()  # --device-cgroup-rule, as OCI linux.resources.devices
    oom_score_adj: int | None = None
    init: str | None = None
    init_source: str | None = None
    console_size: tuple[int, int] | None = None  # (rows, columns) of the user's terminal
    rootless: bool = False  # runc runs in the user's namespace: no fresh sysfs without a netns, no cgroups
    personality: str = ""  # --personality: linux.personality's execution domain (LINUX, LINUX32)
    hooks: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)  # OCI hooks by stage


# --- host facts needed by the privileged case and --device -------------------------------------

def host_capabilities(status: Path = Path("/proc/self/status")) -> tuple[str, ...]:
    """Every capability in this process's bounding set, sorted by name as Podman lists them.

    A privileged container gets "all" capabilities, but only those we hold can be granted.
    """
    mask = 0
    try:
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
    except OSError:
        mask = (1 << len(ALL_CAPABILITIES)) - 1
    return tuple(sorted(c for i, c in enumerate(ALL_CAPABILITIES) if mask >> i & 1))


def device_from_host(host_path: str, container_path: str | None = None, permissions: str = "rwm") -> Device:
    """Describe a host device node for ``--device``; its numbers and mode come from the host."""
    try:
        st = os.stat(host_path)
    except OSError as e:
        raise InvalidArgument(f"stat {host_path}: {e.strerror.lower() if e.strerror else e}") from None
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise InvalidArgument(f"{host_path} is not a device")
    if not permissions or any(ch not in "rwm" for ch in permissions):
        raise InvalidArgument(f"invalid device mode: {permissions}")
    return Device(container_path or host_path, kind, os.major(st.st_rdev), os.minor(st.st_rdev),
                  file_mode=st.st_mode, uid=st.st_uid, gid=st.st_gid, permissions=permissions)


def parse_device(flag: str) -> Device:
    """Parse ``--device HOST[:CONTAINER][:PERMISSIONS]`` and read the node from the host."""
    parts = flag.split(":")
    if len(parts) > 3 or not parts[0]:
        raise InvalidArgument(f"invalid device specification: {flag}")
    host = parts[0]
    dest: str | None = None
    perms = "rwm"
    if len(parts) == 2:
        if parts[1].startswith("/"):
            dest = parts[1]
        else:
            perms = parts[1]
    elif len(parts) == 3:
        dest, perms = parts[1] or None, parts[2]
    return device_from_host(host, dest, perms)


def parse_devices(flag: str) -> tuple[Device, ...]:
    """``--device``: a node, or a directory of nodes (each one found below it, at the same place
    under the container path), as Podman takes both."""
    parts = flag.split(":")
    if not parts[0] or len(parts) > 3 or not os.path.isdir(parts[0]):
        return (parse_device(flag),)
    host = parts[0].rstrip("/") or "/"
    dest = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
    perms = parts[-1] if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
    found = []
    for top, _dirs, files in os.walk(host):
        for name in sorted(files):
            path = os.path.join(top, name)
            with contextlib.suppress(InvalidArgument):  # files that are not nodes are left out
                found.append(device_from_host(path, dest.rstrip("/") + path[len(host):], perms))
    if not found:
        raise InvalidArgument(f"{parts[0]} is not a device")
    return tuple(found)


def host_devices(root: str = "/dev") -> tuple[Device, ...]:
    """All device nodes under the host's /dev, for ``--privileged``, in path order."""
    found: list[Device] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not (dirpath == root and d in _HOST_DEV_SKIP_DIRS))
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path in _HOST_DEV_SKIP:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append(Device(path, "c" if stat.S_ISCHR(st.st_mode) else "b",
                                    os.major(st.st_rdev), os.minor(st.st_rdev),
                                    file_mode=st.st_mode, uid=st.st_uid, gid=st.st_gid))
    return tuple(sorted(found, key=lambda d: d.path))


# --- the pieces of the spec --------------------------------------------------------------------

def _size_opt(size: int) -> str:
    return f"size={size // 1024}k" if size % 1024 == 0 else f"size={size}"


def _standard_mounts(p: SpecParams) -> list[Mount]:
    """The mounts every container gets, as Podman 4 sets them up."""
    ns = p.namespaces
    ro = "rw" if p.privileged else "ro"
    mounts = [
        Mount("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
        Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "noexec", "strictatime", "mode=755", "size=65536k")),
        Mount("/dev/pts", "devpts", "devpts",
              ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
    ]
    if p.shm_size > 0:  # 0: --ipc none, no /dev/shm at all
        mounts.append(Mount("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777",
                                                         _size_opt(p.shm_size))))
    if "ipc" in ns or not (p.rootless or "user" in ns):  # root mounts the host IPC's mqueue, as Podman does
        mounts.append(Mount("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")))
    else:  # mqueue can only be mounted for an IPC namespace we own: share the host's
        mounts.append(Mount("/dev/mqueue", "bind", "/dev/mqueue", ("bind", "nosuid", "noexec", "nodev")))
    fresh_netns = "network" in ns and ns["network"] is None
    # A fresh sysfs needs a netns owned by the runtime's user namespace: one runc makes now, or, without a
    # namespace of the container's own, one made by us (rootless: made inside the user's namespace)
    if ("user" in ns and not fresh_netns) or (p.rootless and "network" not in ns):
        mounts.append(Mount("/sys", "bind", "/sys", ("rbind", "nosuid", "noexec", "nodev", ro)))
    else:
        sys_opts = ("rprivate", "nosuid", "noexec", "nodev", "rw") if p.privileged else (
            "nosuid", "noexec", "nodev", "ro")
        mounts.append(Mount("/sys", "sysfs", "sysfs", sys_opts))
    if (p.rootless and not p.cgroups_path) or "user" in ns:  # no cgroupfs mount allowed: the host's, read-only
        mounts.append(Mount("/sys/fs/cgroup", "bind", "/sys/fs/cgroup",
                            ("rbind", "rprivate", "nosuid", "noexec", "nodev", "ro")))
    else:
        mounts.append(Mount("/sys/fs/cgroup", "cgroup", "cgroup",
                            ("rprivate", "nosuid", "noexec", "nodev", "relatime", ro)))
    return mounts


def _clean(path: str) -> str:
    return posixpath.normpath("/" + path).replace("//", "/")


def _depth(path: str) -> int:
    return 0 if path == "/" else path.count("/")


def build_mounts(p: SpecParams) -> list[Mount]:
    """Standard mounts, the init binary and the user's, parents before children.

    The stable sort by depth is Podman's: a mount on /dev must not hide one on /dev/shm.
    """
    user = list(p.mounts)
    if p.init and p.init_source:
        user.append(Mount(p.init, "bind", p.init_source, ("bind", "ro", "rprivate")))
    taken = {_clean(m.destination) for m in user}
    mounts = [m for m in _standard_mounts(p) if m.destination not in taken]
    seen: dict[str, int] = {}
    for m in user:
        dest = _clean(m.destination)
        if dest in seen:  # the last user mount for a destination wins
            mounts[seen[dest]] = m
            continue
        seen[dest] = len(mounts)
        mounts.append(m)
    return sorted(mounts, key=lambda m: _depth(_clean(m.destination)))


def _capabilities(p: SpecParams) -> dict[str, list[str]]:
    bounding = list(host_capabilities() if p.privileged else dict.fromkeys(p.capabilities))
    if p.uid == 0:  # --privileged widens the bounding set only: a non-root user still gets just --cap-add's
        return {"bounding": bounding, "effective": bounding, "permitted": bounding}
    kept = [c for c in dict.fromkeys(p.user_capabilities) if c in bounding]
    out = {"bounding": bounding}
    if kept:
        out.update(effective=kept, inheritable=kept, permitted=kept, ambient=kept)
    return out


def _process(p: SpecParams) -> dict[str, Any]:
    if not p.args:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    proc: dict[str, Any] = {}
    if p.terminal:
        proc["terminal"] = True
        if p.console_size is not None:  # the pty starts at the user's size, before any resize arrives
            proc["consoleSize"] = {"height": p.console_size[0], "width": p.console_size[1]}
    user: dict[str, Any] = {"uid": p.uid, "gid": p.gid, "umask": p.umask}
    if p.additional_gids:
        user["additionalGids"] = list(p.additional_gids)
    proc["user"] = user
    proc["args"] = [p.init, "--", *p.args] if p.init else list(p.args)
    proc["env"] = list(p.env)
    proc["cwd"] = p.cwd or "/"
    proc["capabilities"] = _capabilities(p)
    if p.rlimits:
        proc["rlimits"] = [rl.to_oci() for rl in p.rlimits]
    if p.no_new_privileges:
        proc["noNewPrivileges"] = True
    if p.apparmor_profile:
        proc["apparmorProfile"] = p.apparmor_profile
    if p.oom_score_adj is not None:
        proc["oomScoreAdj"] = p.oom_score_adj
    if p.selinux_label:
        proc["selinuxLabel"] = p.selinux_label
    return proc


def _resources(p: SpecParams, devices: list[Device]) -> dict[str, Any]:
    r = p.resources
    if p.privileged:
        rules: list[dict[str, Any]] = [{"allow": True, "access": "rwm"}]
    else:
        rules = [{"allow": False, "access": "rwm"}, *(d.cgroup_rule() for d in devices),
                 *(dict(r) for r in p.device_rules)]
    out: dict[str, Any] = {"devices": rules}
    memory: dict[str, Any] = {k: v for k, v in (("limit", r.memory), ("swap", r.memory_swap),
                                                 ("reservation", r.memory_reservation),
                                                 ("swappiness", r.memory_swappiness)) if v is not None}
    if r.disable_oom_killer:
        memory["disableOOMKiller"] = True
    if memory:
        out["memory"] = memory
    cpu: dict[str, Any] = {k: v for k, v in (("shares", r.cpu_shares), ("quota", r.cpu_quota),
                                              ("period", r.cpu_period), ("cpus", r.cpuset_cpus),
                                              ("mems", r.cpuset_mems), ("realtimePeriod", r.cpu_rt_period),
                                              ("realtimeRuntime", r.cpu_rt_runtime)) if v is not None}
    if cpu:
        out["cpu"] = cpu
    if r.pids_limit is not None:
        out["pids"] = {"limit": r.pids_limit}
    if r.block_io:
        out["blockIO"] = dict(r.block_io)
    if r.unified:
        out["unified"] = dict(r.unified)
    return out


def _namespaces(p: SpecParams) -> list[dict[str, str]]:
    unknown = set(p.namespaces) - set(NAMESPACE_TYPES)
    if unknown:
        raise InvalidArgument(f"unknown namespace type: {sorted(unknown)[0]}")
    out = []
    for kind in NAMESPACE_TYPES:
        if kind in p.namespaces:
            path = p.namespaces[kind]
            out.append({"type": kind, "path": path} if path else {"type": kind})
    return out


def _unmasked(path: str, unmask: tuple[str, ...]) -> bool:
    return any(u == "ALL" or u == path or fnmatch(path, u) for u in unmask)


def _masks(p: SpecParams) -> tuple[list[str], list[str]]:
    if p.privileged:
        return [], []
    masked = [m for m in DEFAULT_MASKED_PATHS if not _unmasked(m, p.unmask)]
    masked += [m for m in p.mask if m not in masked and m.startswith("/")]  # a relative one is skipped
    readonly = [m for m in DEFAULT_READONLY_PATHS if not _unmasked(m, p.unmask)]
    return masked, readonly


def _linux(p: SpecParams) -> dict[str, Any]:
    devices = list(p.devices)
    if p.privileged:
        given = {d.path for d in devices}
        devices = [d for d in host_devices() if d.path not in given and not (
            p.no_host_ttys and d.path.startswith("/dev/tty"))] + devices
    linux: dict[str, Any] = {}
    if p.uid_mappings:
        linux["uidMappings"] = [m.to_oci() for m in p.uid_mappings]
    if p.gid_mappings:
        linux["gidMappings"] = [m.to_oci() for m in p.gid_mappings]
    if p.sysctls:
        linux["sysctl"] = dict(sorted(p.sysctls.items()))
    linux["resources"] = _resources(p, devices)
    if p.cgroups_path:
        linux["cgroupsPath"] = p.cgroups_path
    linux["namespaces"] = _namespaces(p)
    if devices:
        linux["devices"] = [d.to_oci() for d in devices]
    if p.seccomp is not None:  # the engine leaves it out for --privileged unless the user named a profile
        linux["seccomp"] = dict(p.seccomp)
    masked, readonly = _masks(p)
    if masked:
        linux["maskedPaths"] = masked
    if readonly:
        linux["readonlyPaths"] = readonly
    if p.mount_label:
        linux["mountLabel"] = p.mount_label
    return linux


def rootfs_propagation(mounts: Sequence[Mount]) -> str:
    """The root's propagation a mount needs to propagate at all, as Podman sets it: ``shared`` for
    a (r)shared mount, else ``rslave`` for a (r)slave one; nothing (the runtime's default) otherwise."""
    options = {o for m in mounts for o in m.options}
    if options & {"shared", "rshared"}:
        return "shared"
    return "rslave" if options & {"slave", "rslave"} else ""


def build_spec(p: SpecParams) -> dict[str, Any]:
    """The whole ``config.json`` for one container, ready for :func:`write_spec`."""
    if p.hostname and "uts" not in p.namespaces:
        raise InvalidArgument("cannot set hostname when running in the host UTS namespace")
    spec: dict[str, Any] = {"ociVersion": OCI_VERSION, "process": _process(p)}
    root: dict[str, Any] = {"path": p.rootfs}
    if p.readonly_rootfs:
        root["readonly"] = True
    spec["root"] = root
    if p.hostname:
        spec["hostname"] = p.hostname
    mounts = build_mounts(p)
    spec["mounts"] = [m.to_oci() for m in mounts]
    if p.annotations:
        spec["annotations"] = dict(p.annotations)
    spec["linux"] = _linux(p)
    propagation = rootfs_propagation(mounts)
    if propagation:
        spec["linux"]["rootfsPropagation"] = propagation
    if p.personality:
        spec["linux"]["personality"] = {"domain": p.personality}
    if p.hooks:
        spec["hooks"] = {stage: [dict(h) for h in hooks] for stage, hooks in p.hooks.items() if hooks}
    return spec


def write_spec(bundle: Path, spec: Mapping[str, Any]) -> Path:
    """Write ``bundle/config.json`` atomically: a runtime never reads a half-written spec.

    The file is private (0600): the environment in it may carry secrets.
    """
    bundle.mkdir(parents=True, exist_ok=True)
    tmp = os.fspath(bundle / f".config.json.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(spec, separators=(",", ":")))  # dumps: json.dump never takes the C encoder
        target = bundle / "config.json"
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target

