"""``image diff A [B]`` and ``diff NAME`` where NAME is an image: the changes of an image's tree.

One image: what its top layer changed over its parent's tree.  Two images: what differs between
their whole trees (B to A), each mounted read-only for the comparison, as Podman compares the top
layers of both in its storage.
"""

from __future__ import annotations

import os

from sealpod.errors import NoSuchImage, NotFound

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.storage.changes import Change
    from sealpod.storage.records import ImageRecord


def image_diff(engine: Engine, name: str, other: str | None = None) -> list[Change]:
    """Changes of image ``name`` (against ``other``, or else its own parent layers)."""
    from sealpod.storage.changes import tree_changes

    image = _image(engine, name)
    if other is None:
        return engine.container_files._image_changes(image)
    base = _image(engine, other)
    if base.id == image.id or base.top_layer == image.top_layer:
        return []
    mounts = engine.store.image_mounts
    new = mounts.mount(image)
    try:
        old = mounts.mount(base)
        try:
            return tree_changes(os.fspath(new), os.fspath(old))
        finally:
            mounts.unmount(base)
    finally:
        mounts.unmount(image)


def _image(engine: Engine, name: str) -> ImageRecord:
    try:
        return engine.images.get(name)
    except NoSuchImage:
        raise NotFound(f"{name} not found: layer not known") from None
