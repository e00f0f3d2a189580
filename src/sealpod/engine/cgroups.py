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
DEFAULT_PARENT = "/sealpod_parent"
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
    """``PARENT/sealpod-ID`` under --cgroup-parent (a path; made absolute) or sealpod's own parent.
    A build's RUN container (``external``) is put in ``build --cgroup-parent`` itself, as Buildah does."""
    if cfg.external and cfg.cgroup_parent.strip("/"):
        return "/" + cfg.cgroup_parent.strip("/")
    return stored_cgroups_path(cfg.cgroup_parent, ctr_id)


def stored_cgroups_path(parent: str, ctr_id: str) -> str:
    """:func:`cgroups_path` from the stored ``cgroup_parent`` alone (stats read the container's counters there)."""
    parent = parent or DEFAULT_PARENT
    return f"/{parent.strip('/')}/sealpod-{ctr_id}" if parent.strip("/") else f"/sealpod-{ctr_id}"


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
    if cfg.blkio_weight_device:
        out["weightDevice"] = [{"major": maj, "minor": mnr, "weight": int(w)}
                               for path, w in cfg.blkio_weight_device for maj, mnr in [_device(path)]]
    for key, pairs in (("throttleReadBpsDevice", cfg.device_read_bps), ("throttleWriteBpsDevice", cfg.device_write_bps),
                       ("throttleReadIOPSDevice", cfg.device_read_iops),
                       ("throttleWriteIOPSDevice", cfg.device_write_iops)):
        if pairs:
            out[key] = _rates(pairs)
    return out


def check_block_devices(cfg: ContainerConfig) -> None:
    """Podman looks at each device of the blkio flags at create: a missing one fails there, in its words,
    not at the first start."""
    from sealpod.errors import InvalidArgument

    def missing(path: str) -> str:
        try:
            os.stat(path)
        except OSError as e:
            return (e.strerror or str(e)).lower()
        return ""

    for path, _ in cfg.blkio_weight_device:
        if why := missing(path):
            raise InvalidArgument(f"failed to inspect '{path}' in --blkio-weight-device: {why}")
    for pairs in (cfg.device_read_bps, cfg.device_write_bps, cfg.device_read_iops, cfg.device_write_iops):
        for path, _ in pairs:
            if why := missing(path):
                raise InvalidArgument(f"could not parse throttle device at {path}: {why}")


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
