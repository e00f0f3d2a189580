"""A container's own user namespace: which ids it maps (``--userns``, ``--uidmap``), how its root
filesystem gets the right owners (idmapped layers, or a one-time chown copy), and the rootless
limits checked at create."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord
from sealpod.errors import ContainerStateInvalid, InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.containers import ContainerService
    from sealpod.storage.records import ImageRecord


def id_maps(static: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    from sealpod.rootless.idmap import IdMapping

    userns = static.get("userns") or {}
    return ([IdMapping(*m) for m in userns.get("uid_maps", ())], [IdMapping(*m) for m in userns.get("gid_maps", ())])


def to_host_id(maps: Sequence[Any], container_id: int) -> int:
    from sealpod.rootless.idmap import to_host

    host = to_host(maps, container_id) if maps else container_id
    return container_id if host is None else host


def check_user_mapped(uid_maps: Sequence[Any], gid_maps: Sequence[Any], uid: int, gid: int) -> None:
    """A user (or group) outside the container's id maps (``--userns=auto:size=N`` with a bigger
    ``--user``) fails the start in Podman's words, before runc refuses it with an obscure error."""
    from sealpod.errors import OCIRuntimeError
    from sealpod.rootless.idmap import to_host

    for kind, maps, wanted in (("UID", uid_maps, uid), ("GID", gid_maps, gid)):
        if maps and to_host(maps, wanted) is None:
            shown = ", ".join(f"specs.LinuxIDMapping{{ContainerID:{m.container_id:#x}, HostID:{m.host_id:#x}, "
                              f"Size:{m.size:#x}}}" for m in maps)
            raise OCIRuntimeError(f"container uses ID mappings ([]specs.LinuxIDMapping{{{shown}}}), "
                                  f"but doesn't map {kind} {wanted}")


def check_searchable(rootfs: Path, root_host_uid: int) -> None:
    """runc mounts the rootfs from inside the container's user namespace, as the container's root
    (``root_host_uid`` outside): a directory above it that this user cannot search fails the start
    with a bare EACCES, so say which one."""
    if root_host_uid == 0:
        return
    for parent in rootfs.parents:
        try:
            st = parent.stat()
        except OSError:
            continue
        mode = st.st_mode
        if not mode & 0o001 and not (st.st_uid == root_host_uid and mode & 0o100):
            raise ContainerStateInvalid(
                f"{parent} is not searchable by others (mode {mode & 0o777:o}): a container with its own user "
                f"namespace cannot reach its root filesystem below it; allow it with: chmod o+x {parent}")


def shift_rootfs_once(svc: ContainerService, rec: ContainerRecord, rootfs: Path) -> None:
    """A container with its own id maps needs its files owned by the ids its root maps to: chowned
    (copied up) once, on the first start; a marker in its userdata says it was done."""
    uid_maps, gid_maps = id_maps(rec.spec)
    if uid_maps:
        check_searchable(rootfs, to_host_id(uid_maps, 0))
    marker = svc.paths(rec.id).userdata / "ids-shifted"
    if not uid_maps or marker.exists() or svc.store.containers.is_idmapped(rec.id) or rec.config.get("rootfs"):
        return
    # the slow path (no idmapped mounts here): at --log-level info, say why the first start takes a while.
    # Not on stderr by default: Podman's chown copy is silent, and scripts read run's output.
    import logging

    from sealpod.rootless.usermode import count_files, shift_owners

    log = logging.getLogger("sealpod")
    if log.isEnabledFor(logging.INFO):
        log.info("Copying and changing ownership of the image layers for user namespace (%d files)",
                 count_files(os.fspath(rootfs)))
    shift_owners(os.fspath(rootfs), uid_maps, gid_maps)
    marker.write_text("")


def mount_rootfs(svc: ContainerService, rec: ContainerRecord) -> Path:
    """The root filesystem, idmapped for a container with id maps of its own unless its files were
    chowned before or ``SEALPOD_IDMAP=0`` (a test and debug switch) forces the chown copy."""
    if rec.config.get("rootfs"):  # run --rootfs: the user's directory, never chowned
        from sealpod.engine.container_rootfs import mount_user_rootfs

        return mount_user_rootfs(svc, rec)
    uid_maps, gid_maps = id_maps(rec.spec)
    if not uid_maps:  # the common case needs no idmapped-mount code (ctypes, imports: start-up time)
        return svc.store.containers.mount(rec.id)
    from sealpod.rootless.idmapped import disabled_by

    if disabled_by(svc.engine.env) or (svc.paths(rec.id).userdata / "ids-shifted").exists():
        return svc.store.containers.mount(rec.id)
    return svc.store.containers.mount(rec.id, uid_maps, gid_maps)


def resolve_userns(engine: Engine, cfg: ContainerConfig, others: Callable[[], Sequence[ContainerRecord]],
                   image: ImageRecord | None = None) -> dict[str, Any]:
    """The container's user namespace, decided once at create and kept in its record (``spec.userns``):
    ``--userns=auto`` ranges are allocated here, clear of the ranges ``others()`` hold (called only
    then: listing every container costs ~25 ms with 500 of them, on every create); without ``size=``
    the range covers ``image``'s users too."""
    from sealpod.rootless import usermode
    from sealpod.rootless.idmap import mapped_size, read_id_map

    if cfg.userns.startswith("container:"):  # a pod member (or --userns container:X) joins that one's namespace
        other = engine.containers.lookup(cfg.userns.split(":", 1)[1])
        joined = dict(other.spec.get("userns") or {})  # its mappings too: the rootfs is owned alike
        return {"userns": {**joined, "join": other.id}} if joined else {}
    req = _userns_request(engine, cfg)
    if req.mode == "host":
        return {}
    if req.mode == "ns":
        return {"userns": {"mode": "ns", "path": req.path}}
    rootless = engine.config.rootless
    if req.mode in ("keep-id", "nomap") and not rootless:
        raise InvalidArgument(f"{req.mode} is only supported in rootless mode")
    uid_size, gid_size = mapped_size(read_id_map("self", "uid")), mapped_size(read_id_map("self", "gid"))
    out: dict[str, Any] = {}
    if req.mode == "keep-id":
        from sealpod.config.paths import rootless_uid

        uid = req.uid if req.uid is not None else rootless_uid(engine.env)
        gid = req.gid if req.gid is not None else int(engine.env.get("_CONTAINERS_ROOTLESS_GID", uid))
        uids, gids = usermode.keep_id_maps(uid_size, uid), usermode.keep_id_maps(gid_size, gid)
        if not cfg.user:
            out["user"] = f"{uid}:{gid}"
    elif req.mode == "nomap":
        uids, gids = usermode.nomap_maps(uid_size), usermode.nomap_maps(gid_size)
    elif req.mode == "auto":
        from sealpod.engine.userns_auto import auto_size

        size = req.size or auto_size(engine, cfg.user, image)
        uids, gids = _auto_maps(engine, size, others(), (req.uid_maps, req.gid_maps))
    else:
        uids, gids = list(req.uid_maps), list(req.gid_maps)
    out["userns"] = {"mode": req.mode, "uid_maps": [[m.container_id, m.host_id, m.size] for m in uids],
                     "gid_maps": [[m.container_id, m.host_id, m.size] for m in gids]}
    return out


@contextlib.contextmanager
def userns_lock(engine: Engine, cfg: ContainerConfig) -> Iterator[None]:
    """Serialises ``--userns=auto`` allocations of one store (other creates need no lock)."""
    if not cfg.userns.startswith("auto") and not (engine.config.containers.containers.userns or "").startswith(
            "auto"):
        yield
        return
    import fcntl

    path = engine.config.storage.graph_root / "userns.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _userns_request(engine: Engine, cfg: ContainerConfig) -> Any:
    from sealpod.rootless import usermode

    if not (cfg.subuidname or cfg.subgidname):
        maps = cfg.uid_maps or cfg.gid_maps  # they make a private namespace: containers.conf's default yields
        value = cfg.userns or ("" if maps else engine.config.containers.containers.userns or "host")
        # one of --uidmap/--gidmap alone serves for both, as in Podman
        return usermode.parse_userns(value, cfg.uid_maps or cfg.gid_maps, cfg.gid_maps or cfg.uid_maps)
    from sealpod.rootless.idmap import userns_mappings
    from sealpod.rootless.subid import SUBGID_FILE, SUBUID_FILE, read_subids

    uids = read_subids(SUBUID_FILE, cfg.subuidname or cfg.subgidname)
    gids = read_subids(SUBGID_FILE, cfg.subgidname or cfg.subuidname)
    if not uids or not gids:
        raise InvalidArgument(f'cannot find mappings for user "{cfg.subuidname or cfg.subgidname}": '
                              "no subuid ranges found in /etc/subuid")
    from sealpod.utils.record import replace

    # the ranges in turn from container id 0 (the rootless triples without the user's own first entry,
    # shifted down: the container's root is the first subordinate id, as in Podman)
    return usermode.UsernsRequest(
        "private", uid_maps=tuple(replace(m, container_id=m.container_id - 1) for m in userns_mappings(0, uids)[1:]),
        gid_maps=tuple(replace(m, container_id=m.container_id - 1) for m in userns_mappings(0, gids)[1:]))


def _auto_maps(engine: Engine, size: int, others: Sequence[ContainerRecord],
               extra: tuple[Sequence[Any], Sequence[Any]] = ((), ())) -> tuple[list[Any], list[Any]]:
    """``size`` ids each for uids and gids, from the rootless namespace (1.., 0 is the user) or, for
    root, from the ranges /etc/subuid and /etc/subgid give the user ``containers``."""
    from sealpod.rootless import usermode
    from sealpod.rootless.idmap import IdMapping, mapped_size, read_id_map
    from sealpod.rootless.subid import SUBGID_FILE, SUBUID_FILE, read_subids

    maps: list[list[Any]] = []
    for kind, path in (("uid", SUBUID_FILE), ("gid", SUBGID_FILE)):
        if engine.config.rootless:
            pool = [(1, mapped_size(read_id_map("self", kind)) - 1)]
        else:
            pool = [(r.start, r.count) for r in read_subids(path, "containers")]
            if not pool:
                raise InvalidArgument(f'cannot find mappings for user "containers": no sub{kind} ranges '
                                      f"found for user \"containers\" in {path}")
        taken = [(m[1], m[2]) for rec in others if (rec.spec.get("userns") or {}).get("mode") == "auto"
                 for m in rec.spec["userns"][f"{kind}_maps"]]
        forced = list(extra[0] if kind == "uid" else extra[1])  # auto:uidmapping=: kept as given
        if not forced:
            maps.append([IdMapping(0, usermode.allocate(pool, taken, size), size)])
            continue
        from sealpod.rootless.idmap_auto import free_segments, lay_out

        segments = free_segments(size, forced)
        need = sum(count for _, count in segments)
        maps.append(lay_out(segments, usermode.allocate(pool, taken, need) if need else 0, forced))
    return maps[0], maps[1]


ROOTLESS_V1_LIMITS_IGNORED = "Resource limits are not supported and ignored on cgroups V1 rootless systems"
_LIMITS = ("memory", "memory_swap", "memory_reservation", "memory_swappiness", "cpus", "cpu_shares", "cpuset_cpus",
           "cpuset_mems", "pids_limit", "blkio_weight", "cpu_rt_period", "cpu_rt_runtime")
_DEVICE_LIMITS = ("blkio_weight_device", "device_read_bps", "device_write_bps", "device_read_iops",
                  "device_write_iops")


def without_rootless_v1_limits(engine: Engine, cfg: ContainerConfig) -> tuple[ContainerConfig, str]:
    """A rootless user on cgroup v1 has no cgroup to put limits in: Podman drops every limit asked for
    (``--memory=0`` included) with a warning rather than failing.  The config without them, and the
    warning ("" when nothing was dropped)."""
    if not engine.config.rootless or os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return cfg, ""
    from sealpod.utils.record import replace

    asked: dict[str, object] = {f: None for f in _LIMITS if getattr(cfg, f) is not None}
    asked.update({f: () for f in _DEVICE_LIMITS if getattr(cfg, f)})
    return (replace(cfg, **asked), ROOTLESS_V1_LIMITS_IGNORED) if asked else (cfg, "")


def check_rootless_limits(engine: Engine, cfg: ContainerConfig) -> None:
    """A rootless user on cgroup v2 without systemd's delegation has no cgroup of its own: limits could
    not be enforced, so they are refused rather than ignored (on v1 :func:`without_rootless_v1_limits`
    has dropped them already)."""
    if not engine.config.rootless:
        return
    asked = (cfg.memory, cfg.memory_swap, cfg.cpus, cfg.cpu_shares, cfg.cpuset_cpus, cfg.pids_limit)
    if any(v not in (None, 0, -1, "") for v in asked):  # 0 and -1 ask for no limit (Podman's run --memory=0)
        raise InvalidArgument("invalid configuration, cannot specify resource limits without cgroups v2 and "
                              "--cgroup-manager=systemd")
