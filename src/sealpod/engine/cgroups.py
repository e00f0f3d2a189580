"""cgroup placement and block IO limits of a container (cgroup v1 and v2 as the host has them).

Podman discards a blkio weight the kernel cannot apply (no ``blkio.weight`` nor ``blkio.bfq.weight``,
as with BFQ off) with a warning rather than failing the start; per-device limits go to the runtime.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig

CGROUP_ROOT = "/sys/fs/cgroup"
DEFAULT_PARENT = "/libpod_parent"
WEIGHT_DISCARDED = ("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                    "Weight discarded.")


def blkio_weight_supported(root: str = CGROUP_ROOT) -> bool:
    """Whether a container's cgroup could take ``blkio.weight`` (v1) or ``io.weight``/``io.bfq.weight`` (v2)."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):  # v2: the io controller carries weights
        return "io" in open(os.path.join(root, "cgroup.controllers")).read().split()
    blkio = os.path.join(root, "blkio")
    return any(os.path.exists(os.path.join(blkio, f)) for f in ("blkio.weight", "blkio.bfq.weight"))


def default_memory_swap(memory: int | None, swap: int | None, root: str = CGROUP_ROOT) -> int | None:
    """The swap limit of the spec: ``--memory-swap`` as given (-1, unlimited: none set), or, for a
    ``--memory`` alone, twice the memory, as Podman sets it where the kernel accounts swap; without
    it a container could swap without bound."""
    if swap is not None:
        return None if swap == -1 else swap
    if not memory or memory <= 0:
        return None
    if os.path.exists(os.path.join(root, "cgroup.controllers")):  # v2: memory.swap.max where memory is
        return 2 * memory
    return 2 * memory if os.path.exists(os.path.join(root, "memory", "memory.memsw.limit_in_bytes")) else None


def cgroups_path(cfg: ContainerConfig, ctr_id: str) -> str:
    """``PARENT/libpod-ID`` under --cgroup-parent (a path; made absolute) or ``/libpod_parent``: the
    names Podman gives, which tools and tests look for.
    A build's RUN container (``external``) is put in ``build --cgroup-parent`` itself, as Buildah does."""
    if cfg.external and cfg.cgroup_parent.strip("/"):
        return "/" + cfg.cgroup_parent.strip("/")
    return stored_cgroups_path(cfg.cgroup_parent, ctr_id)


def stored_cgroups_path(parent: str, ctr_id: str) -> str:
    """:func:`cgroups_path` from the stored ``cgroup_parent`` alone (stats read the container's counters there)."""
    parent = parent or DEFAULT_PARENT
    return f"/{parent.strip('/')}/libpod-{ctr_id}" if parent.strip("/") else f"/libpod-{ctr_id}"


def pod_cgroup(parent: str, pod_id: str) -> str:
    """A pod's cgroup, ``PARENT/POD_ID``: with ``--share-parent`` (the default) its infra container's and
    members' cgroups go under it, and inspect names it as their CgroupParent, as in Podman."""
    parent = (parent or DEFAULT_PARENT).strip("/")
    return f"/{parent}/{pod_id}" if parent else f"/{pod_id}"


def remove_cgroup(path: str, root: str = CGROUP_ROOT) -> None:
    """Remove an emptied cgroup (a pod's, once its containers are gone) from every hierarchy; runc
    removes a container's own, not the parent it made for it."""
    rel = path.strip("/")
    if not rel:
        return
    tops = [root]
    if not os.path.exists(os.path.join(root, "cgroup.controllers")):  # v1: one hierarchy per controller
        try:
            tops = [os.path.join(root, d) for d in sorted(os.listdir(root))
                    if not os.path.islink(os.path.join(root, d))]
        except OSError:
            return
    for top in tops:
        try:
            os.rmdir(os.path.join(top, rel))
        except OSError:
            pass  # not there, or still in use: left as Podman leaves it


def _device(path: str) -> tuple[int, int]:
    from sealpod.errors import InvalidArgument

    try:
        rdev = os.stat(path).st_rdev
    except OSError as e:
        raise InvalidArgument(f"{path}: {e.strerror}") from None
    if not rdev:
        raise InvalidArgument(f"{path}: not a device")
    return os.major(rdev), os.minor(rdev)


def _rates(pairs: Sequence[Sequence[Any]]) -> list[dict[str, int]]:
    return [{"major": maj, "minor": mnr, "rate": int(rate)} for path, rate in pairs for maj, mnr in [_device(path)]]


def block_io(cfg: ContainerConfig) -> dict[str, Any]:
    """The OCI ``linux.resources.blockIO`` of the container ({} when it sets none)."""
    out: dict[str, Any] = {}
    if cfg.blkio_weight is not None and blkio_weight_supported():
        out["weight"] = cfg.blkio_weight
    out.update(block_io_devices(cfg.blkio_weight_device, {f[0]: getattr(cfg, f[0]) for f in BLOCK_LIMITS}))
    return out


def check_block_devices(cfg: ContainerConfig) -> None:
    """Podman looks at each device of the blkio flags at create: a missing one fails there, in its words,
    not at the first start."""
    check_device_paths(cfg.blkio_weight_device, [getattr(cfg, f[0]) for f in BLOCK_LIMITS])


def inspect_fields(cfg: dict[str, Any], manager: str) -> dict[str, Any]:
    """HostConfig's cgroup and blkio fields, in Podman's names."""
    def rates(key: str) -> list[dict[str, Any]]:
        return [{"Path": p, "Rate": r} for p, r in cfg.get(key) or ()]

    weight = cfg.get("blkio_weight")
    return {"CgroupManager": manager, "CgroupParent": cfg.get("cgroup_parent") or "",
            "Cgroups": cfg.get("cgroups") or "default",
            "BlkioWeight": weight if weight is not None and blkio_weight_supported() else 0,
            "BlkioWeightDevice": [{"Path": p, "Weight": w} for p, w in cfg.get("blkio_weight_device") or ()],
            "BlkioDeviceReadBps": rates("device_read_bps"), "BlkioDeviceWriteBps": rates("device_write_bps"),
            "BlkioDeviceReadIOps": rates("device_read_iops"), "BlkioDeviceWriteIOps": rates("device_write_iops")}


def check_cgroups_mode(engine: Engine, cfg: ContainerConfig) -> None:
    """``--cgroups=disabled`` needs a runtime that can run without cgroups (containers.conf's
    ``runtime_supports_nocgroups``: crun, krun); runc always makes one."""
    if cfg.cgroups != "disabled":
        return
    runtime = engine.system.runtime_path()[0]
    if runtime not in engine.config.containers.engine.runtime_supports_nocgroups:
        from sealpod.errors import InvalidArgument

        raise InvalidArgument(f"requested OCI runtime {runtime} is not compatible with NoCgroups: invalid argument")


#: The blkio fields of a container's config and update options, with their OCI ``blockIO`` keys
#: and the cgroup v1 files and v2 ``io.max`` keys that hold them.
BLOCK_LIMITS = (("device_read_bps", "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"),
                ("device_write_bps", "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"),
                ("device_read_iops", "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"),
                ("device_write_iops", "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"))


def check_device_paths(weights: Sequence[Sequence[Any]], rates: Sequence[Sequence[Sequence[Any]]]) -> None:
    """Each device of the blkio flags must exist: checked before anything else, in Podman's words
    (weight devices first, then the throttles in flag order)."""
    from sealpod.errors import InvalidArgument

    for pairs, message in ((weights, "failed to inspect '{}' in --blkio-weight-device: {}"),
                           *((r, "could not parse throttle device at {}: {}") for r in rates)):
        for path, _ in pairs:
            try:
                os.stat(path)
            except OSError as e:
                raise InvalidArgument(message.format(path, (e.strerror or str(e)).lower())) from None


def block_io_devices(weights: Sequence[Sequence[Any]], limits: dict[str, Sequence[Sequence[Any]]]) -> dict[str, Any]:
    """The per-device part of an OCI ``blockIO`` (``limits`` by config field name): major and minor
    numbers looked up now, as the runtime wants them."""
    out: dict[str, Any] = {}
    if weights:
        out["weightDevice"] = [{"major": maj, "minor": mnr, "weight": int(w)}
                               for path, w in weights for maj, mnr in [_device(path)]]
    for field, key, _, _ in BLOCK_LIMITS:
        if limits.get(field):
            out[key] = _rates(limits[field])
    return out


def apply_block_io(pid: int, block_io: dict[str, Any], root: str = CGROUP_ROOT) -> None:
    """Write per-device blkio limits into a running container's cgroup.

    ``runc update`` takes only the blkio weight of its ``--resources``; the device weights and
    throttles it drops without a word, so they are written here, as runc writes them at create."""
    from sealpod.errors import SealpodError

    v2 = os.path.exists(os.path.join(root, "cgroup.controllers"))
    rel = _proc_cgroup(pid, "" if v2 else "blkio")
    if rel is None:
        return  # the process is gone: nothing left to limit
    base = os.path.join(root, "" if v2 else "blkio", rel.lstrip("/"))
    writes: list[tuple[str, str]] = []
    weight_file = "blkio.weight_device" if os.path.exists(os.path.join(base, "blkio.weight_device")) \
        else "blkio.bfq.weight_device"
    if v2:
        weight_file = "io.bfq.weight" if os.path.exists(os.path.join(base, "io.bfq.weight")) else "io.weight"
    writes += [(weight_file, f"{d['major']}:{d['minor']} {d['weight']}") for d in block_io.get("weightDevice", ())]
    for _, key, v1_file, v2_key in BLOCK_LIMITS:
        for d in block_io.get(key, ()):
            if v2:
                writes.append(("io.max", f"{d['major']}:{d['minor']} {v2_key}={d['rate'] or 'max'}"))
            else:
                writes.append((v1_file, f"{d['major']}:{d['minor']} {d['rate']}"))
    for name, line in writes:
        path = os.path.join(base, name)
        try:
            with open(path, "w") as f:
                f.write(line)
        except OSError as e:  # runc's words for the same refusal at create
            raise SealpodError(f'failed to write "{line}": write {path}: {(e.strerror or str(e)).lower()}') from None


def _proc_cgroup(pid: int, controller: str) -> str | None:
    """The cgroup of ``pid`` in the v1 hierarchy of ``controller`` ("": the v2 unified one)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller and controller in controllers.split(",")) or (not controller and controllers == ""):
            return path
    return None


def device_path(major: int, minor: int, dev: str = "/dev") -> str:
    """The node under /dev of a device number (a block device before a character one), for limits
    given by number (the libpod update API) to be stored by path, as the flags store them."""
    found = ""
    try:
        entries = sorted(os.scandir(dev), key=lambda e: e.name)
    except OSError:
        entries = []
    import stat

    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (os.major(st.st_rdev), os.minor(st.st_rdev)) != (major, minor) or not st.st_rdev:
            continue
        if stat.S_ISBLK(st.st_mode):
            return entry.path
        if stat.S_ISCHR(st.st_mode) and not found:
            found = entry.path
    if not found:
        from sealpod.errors import InvalidArgument

        raise InvalidArgument(f"no device {major}:{minor} in {dev}")
    return found
