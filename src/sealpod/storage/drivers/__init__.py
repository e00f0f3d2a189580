"""Storage drivers: where a layer's files live and how layers stack into a root filesystem."""

from __future__ import annotations

from pathlib import Path

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.storage.drivers.base import Driver

DRIVER_NAMES = ("overlay", "vfs")


def open_driver(name: str, graph_root: Path) -> Driver:
    """Instantiate the driver called ``name`` (``overlay2`` is accepted as Docker's name).

    A rootless process (inside its user namespace) stores layers the unprivileged way: overlay
    metadata in ``user.*`` xattrs, no device nodes; the driver learns it here, once.
    """
    from sealpod.config.paths import is_rootless

    rootless = is_rootless()
    if name in ("overlay", "overlay2", ""):
        from sealpod.storage.drivers.overlay import OverlayDriver

        return OverlayDriver(graph_root, rootless)
    if name == "vfs":
        from sealpod.storage.drivers.vfs import VfsDriver

        return VfsDriver(graph_root, rootless)
    raise InvalidArgument(f"unknown storage driver {name!r}: supported drivers are {', '.join(DRIVER_NAMES)}")
