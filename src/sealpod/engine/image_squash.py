"""A build's new layers folded into one (``build --squash``, ``--layers=false``) or the whole image
into one layer (``--squash-all``), as Buildah commits its single working container.

The layer is the difference between two created (never started) containers' root filesystems:
one of the built image, one of the base image (none for ``--squash-all``).  The history keeps an
entry per instruction: all ``empty_layer`` but the last, which carries the layer.
"""

from __future__ import annotations

import contextlib
import json

from sealpod.errors import SealpodError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine


@dataclass(frozen=True)
class SquashOptions:
    instructions: tuple[str, ...]  # each instruction's created_by, in order
    comment: str  # the last entry's: "FROM <base>"
    reference: str | None = None  # the name the image gets
    format: str = "oci"
    created: str = ""  # --timestamp, else now


def squash_commit(engine: Engine, ctr: str, base_ctr: str | None, options: SquashOptions) -> str:
    """Store the image of ``ctr``'s root as ``base_ctr``'s image plus one layer; returns its ID."""
    from sealpod.engine.container_files import _now
    from sealpod.storage.changes import tree_changes
    from sealpod.storage.tarwriter import write_changes

    files = engine.container_files
    rec = engine.containers.lookup(ctr)
    base_rec = engine.containers.lookup(base_ctr) if base_ctr else None
    if not rec.image_id:
        raise SealpodError(f"container {ctr[:12]} has no image to squash")
    image = engine.store.get_image(rec.image_id)
    base = engine.store.get_image(base_rec.image_id) if base_rec and base_rec.image_id else None
    path, f = engine.store.temp_file()
    try:
        with f, files.rootfs(rec) as root, contextlib.ExitStack() as stack:
            base_root = stack.enter_context(files.rootfs(base_rec)) if base_rec else None
            write_changes(root, tree_changes(root, base_root), f)
            f.seek(0)
            layer = files._store_blob(f)
    finally:
        path.unlink(missing_ok=True)
    now = options.created or _now()
    config: dict[str, Any] = json.loads(image.config)
    kept: dict[str, Any] = json.loads(base.config) if base else {}
    entries: list[dict[str, Any]] = [{"created": now, "created_by": cb, "empty_layer": True}
                                     for cb in options.instructions]
    if entries:
        entries[-1] = {"created": now, "created_by": options.instructions[-1], "comment": options.comment}
    config.update(created=now, history=[*(kept.get("history") or []), *entries],
                  rootfs={"type": "layers", "diff_ids": [*((kept.get("rootfs") or {}).get("diff_ids") or []),
                                                         layer.diff_id]})
    descs = files._parent_descriptors(base, options.format)
    return files._store_image(list(base.layers) if base else [], [layer], descs, config, options.reference,
                              options.format, lambda _line: None)
