"""``run --rootfs DIR[:O]``: a container whose root is a directory the user exploded, not an image.

Plain, the container runs on the directory itself; with ``:O`` it sees the directory through an
overlay whose upper layer is the container's own, so the directory is never written.  Either way
the directory is the user's: removing the container leaves it where it was.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService

OVERLAY_SUFFIX = ":O"


def split_rootfs(spec: str) -> tuple[str, bool]:
    """``DIR:O`` → (DIR, True); ``DIR`` → (DIR, False)."""
    if spec.endswith(OVERLAY_SUFFIX):
        return spec[:-len(OVERLAY_SUFFIX)], True
    return spec, False


def check_rootfs(spec: str) -> None:
    """The directory must exist at create, in Podman's words."""
    path, _ = split_rootfs(spec)
    try:
        os.stat(path)
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise InvalidArgument(f"running container create option: stat {path}: {reason}") from None


def rootfs_of(rec: ContainerRecord) -> str:
    """inspect's ``Rootfs``: the directory, without ``:O``; "" for a container from an image."""
    return split_rootfs(str(rec.config.get("rootfs") or ""))[0]


def mount_user_rootfs(svc: ContainerService, rec: ContainerRecord) -> Path:
    """The root the runtime is given: the directory itself, or the overlay on top of it."""
    path, overlay = split_rootfs(str(rec.config["rootfs"]))
    if not overlay:
        return Path(os.path.abspath(path))
    return svc.store.containers.mount_over(rec.id, Path(os.path.abspath(path)))


def ensure_mtab(rootfs: Path, owner: tuple[int, int]) -> None:
    """An image without /etc/mtab gets the usual link to /proc/mounts, as Podman makes it at
    mount: ``mount`` and ``df`` inside the container read it.  ``owner``: the container's root."""
    mtab = rootfs / "etc" / "mtab"
    if os.path.lexists(mtab):
        return
    try:
        mtab.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.symlink("/proc/mounts", mtab)
        if owner != (0, 0):
            os.lchown(mtab, *owner)
    except OSError:
        pass  # a read-only or odd root: the container runs without it, as it would have
