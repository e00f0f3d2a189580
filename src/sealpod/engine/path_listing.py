"""Directory listings inside an image or a container, for shell completion of the paths there
(``run IMAGE /et<TAB>``, ``cp CTR:/tm<TAB>``), as Podman completes them: the tree is mounted for
the listing only, and every path (``..`` and symlinks too) is resolved inside it, never on the host.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine

#: (entry name, whether it is a directory, symlinks followed inside the root)
Listing = list[tuple[str, bool]]


def list_in_image(engine: Engine, name: str, directory: str) -> Listing:
    """The entries of ``directory`` in the image ``name``; [] where there is no such directory."""
    image = engine.images.get(name)
    mounts = engine.store.image_mounts
    root = mounts.mount(image)
    try:
        return _listing(os.fspath(root), directory)
    finally:
        mounts.unmount(image)


def list_in_container(engine: Engine, name: str, directory: str) -> Listing:
    """The entries of ``directory`` in the container ``name``'s root filesystem."""
    rec = engine.containers.lookup(name)
    with engine.container_files.rootfs(rec) as root:
        return _listing(root, directory)


def _listing(root: str, directory: str) -> Listing:
    from sealpod.storage.tarwriter import resolve_in_root

    base = "/" + directory.strip("/")
    try:
        with os.scandir(resolve_in_root(root, base)) as entries:
            names = sorted(e.name for e in entries)
    except OSError:
        return []
    return [(n, os.path.isdir(resolve_in_root(root, os.path.join(base, n)))) for n in names]
