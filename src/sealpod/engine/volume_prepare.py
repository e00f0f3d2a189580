"""containers.conf ``prepare_volume_on_create``: a new container's volumes are filled from its image
at ``create``, as Podman does with that setting, instead of at its first start.

Podman mounts the container's root filesystem for the while, copies what the image has at each
volume's mount point into the volume (the copy-up a start would make) and unmounts it again; the
ownership fix (``NeedsChown``) is still left to the start.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService


def prepare_on_create(svc: ContainerService, rec: ContainerRecord) -> None:
    """Copy the image's content into the volumes ``rec`` mounts that still await it; a volume with
    a filesystem of its own to mount, or a container with its own user namespace (whose root
    filesystem must be seen through its id maps), keeps the copy-up for its start."""
    if not svc.engine.config.containers.containers.prepare_volume_on_create or not rec.image_id:
        return
    if (rec.spec or {}).get("userns"):
        return
    from sealpod.engine.volumes import _mount_specs

    volumes = svc.engine.volumes
    pending = []
    for m in _mount_specs(rec):
        if "nocopy" in (m.get("options") or ()):
            continue
        name = m.get("source") or volumes.anonymous_at(rec.id, m["destination"])
        if name and volumes.exists(name):
            vol = volumes.get(name)
            if vol.needs_copy_up and not vol.local.needs_mount:
                pending.append((name, str(m["destination"])))
    if not pending:
        return
    was_mounted = svc.store.containers.is_mounted(rec.id)
    rootfs = svc.store.containers.mount(rec.id)
    try:
        for name, destination in pending:
            _copy_up(svc, name, rootfs, destination)
    finally:
        if not was_mounted:
            svc.store.containers.unmount(rec.id)


def _copy_up(svc: ContainerService, name: str, rootfs: os.PathLike[str], destination: str) -> None:
    from pathlib import Path

    from sealpod.engine.volumes import resolve_in_root
    from sealpod.utils.proc import run

    volumes = svc.engine.volumes
    data = volumes.data_dir(name)
    src = resolve_in_root(Path(rootfs), destination)
    with volumes._lock(name):  # the start's copy-up takes the same lock: never both
        vol = volumes.get(name)
        if not vol.needs_copy_up:
            return
        try:
            st = os.stat(src)
        except OSError:
            return  # nothing there: the copy-up stays pending for a later user, as at start
        if not stat.S_ISDIR(st.st_mode) or not any(os.scandir(src)):
            return
        if not any(data.iterdir()):
            run(["cp", "-a", "--", f"{src}/.", f"{data}/"])
        volumes._set(name, needs_copy_up=0)
