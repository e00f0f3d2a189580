"""Storage drivers: where a layer's files live and how layers stack into a root filesystem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sealpod.errors import InvalidArgument

if TYPE_CHECKING:
    from sealpod.storage.drivers.base import Driver

DRIVER_NAMES = ("overlay", "vfs")


def open_driver(name: str, graph_root: Path) -> Driver:
    """Instantiate the driver called ``name`` (``overlay2`` is accepted as Docker's name)."""
    if name in ("overlay", "overlay2", ""):
        from sealpod.storage.drivers.overlay import OverlayDriver

        return OverlayDriver(graph_root)
    if name == "vfs":
        from sealpod.storage.drivers.vfs import VfsDriver

        return VfsDriver(graph_root)
    raise InvalidArgument(f"unknown storage driver {name!r}: supported drivers are {', '.join(DRIVER_NAMES)}")
