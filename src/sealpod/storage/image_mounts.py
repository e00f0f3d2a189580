"""Read-only mounts of images (``image mount``), counted as containers/storage counts them.

A mount belongs to the image's top layer (images sharing it share the mount) and lives at
``overlay/<layer>/merged``: an overlay of the image's layers with no upper directory.  The
command that mounts exits, so the count and path are rows of the database, and a later
``image mount`` / ``image unmount`` reads them.  A row whose overlay is gone (a reboot emptied
the mount table) counts as not mounted.  vfs has nothing to mount: its top layer's directory is
the image's tree, and only the count is kept.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sealpod.errors import StorageError
from sealpod.storage.mount import MS_RDONLY, is_mountpoint, mount, unmount

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import sqlite3

    from sealpod.storage.records import ImageRecord
    from sealpod.storage.store import Store

_PAGE = 4096


class ImageMounts:
    """The image side of mounts; reached as ``Store.image_mounts``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _live(self, path: str) -> bool:
        return self.store.driver_name == "vfs" or is_mountpoint(path)

    def mounted(self) -> dict[str, str]:
        """Mounted top layers and their mount points."""
        rows = self.store.db.conn.execute("SELECT layer_id, path FROM layer_mounts ORDER BY rowid").fetchall()
        return {str(r[0]): str(r[1]) for r in rows if self._live(str(r[1]))}

    def mount(self, image: ImageRecord) -> Path:
        """Mount (or count one more mount of) the image's tree; return where it is."""
        layer = image.top_layer
        if layer is None:
            raise StorageError(f"image {image.id[:12]} has no layers to mount")
        with self.store.db.write() as conn:
            row = conn.execute("SELECT path, count FROM layer_mounts WHERE layer_id=?", (layer,)).fetchone()
            if row is not None and self._live(str(row[0])):
                conn.execute("UPDATE layer_mounts SET count=count+1 WHERE layer_id=?", (layer,))
                return Path(str(row[0]))
            path = self._mount_layers(list(image.layers))
            conn.execute("INSERT OR REPLACE INTO layer_mounts VALUES (?,?,?)", (layer, os.fspath(path), 1))
        return path

    def unmount(self, image: ImageRecord, force: bool = False) -> bool:
        """One mount less (all of them with ``force``); False when the image was not mounted."""
        layer = image.top_layer
        if layer is None:
            return False
        with self.store.db.write() as conn:
            row = conn.execute("SELECT path, count FROM layer_mounts WHERE layer_id=?", (layer,)).fetchone()
            if row is None:
                return False
            if not self._live(str(row[0])):
                conn.execute("DELETE FROM layer_mounts WHERE layer_id=?", (layer,))
                return False
            if int(row[1]) > 1 and not force:
                conn.execute("UPDATE layer_mounts SET count=count-1 WHERE layer_id=?", (layer,))
                return True
            if self.store.driver_name != "vfs":
                unmount(str(row[0]))
            conn.execute("DELETE FROM layer_mounts WHERE layer_id=?", (layer,))
        return True

    def _mount_layers(self, layers: list[str]) -> Path:
        driver = self.store.driver
        if self.store.driver_name == "vfs":
            return driver.diff_path(layers[-1])
        from sealpod.storage.drivers.overlay import OverlayDriver

        assert isinstance(driver, OverlayDriver)
        top = driver.home / layers[-1]
        merged = top / "merged"
        merged.mkdir(exist_ok=True)
        lowers = [os.fspath(top / "diff"), *(os.fspath(driver.home / s) for s in
                                               driver.lower_dirs(list(reversed(layers[:-1]))))]
        if len(lowers) == 1:  # overlay wants two layers at least: an empty one below, as Podman does
            (top / "empty").mkdir(exist_ok=True)
            lowers.append(os.fspath(top / "empty"))
        extra = ",userxattr" if driver.rootless else ""
        options = f"lowerdir={':'.join(lowers)}{extra}"
        if len(options) >= _PAGE - 1:
            short = ["diff" if i == 0 else os.path.relpath(p, top) for i, p in enumerate(lowers)]
            options = f"lowerdir={':'.join(short)}{extra}"
        _mount_ro(merged, options, top, driver.rootless)
        return merged


def _mount_ro(merged: Path, options: str, cwd: Path, rootless: bool) -> None:
    """Relative lower dirs resolve against ``cwd``; a rootless kernel refusing overlay gets fuse-overlayfs."""
    from sealpod.storage.containers import _CHDIR_LOCK

    with _CHDIR_LOCK:
        here = os.getcwd()
        os.chdir(cwd)
        try:
            try:
                mount("overlay", os.fspath(merged), "overlay", MS_RDONLY, options)
                return
            except StorageError:
                if not rootless or not shutil.which("fuse-overlayfs"):
                    raise
            from sealpod.utils.proc import run

            run(["fuse-overlayfs", "-o", "ro," + options.replace(",userxattr", ""), os.fspath(merged)])
        finally:
            os.chdir(here)


def drop_layer_mount(conn: sqlite3.Connection, layer_id: str) -> None:
    """A layer about to be removed loses its image mount first (``rmi`` of a mounted image)."""
    row = conn.execute("SELECT path FROM layer_mounts WHERE layer_id=?", (layer_id,)).fetchone()
    if row is None:
        return
    if is_mountpoint(str(row[0])):
        unmount(str(row[0]), detach=True)
    conn.execute("DELETE FROM layer_mounts WHERE layer_id=?", (layer_id,))
