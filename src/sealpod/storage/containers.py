"""Container root filesystems: a writable layer on top of an image, and its mount.

overlay: ``overlay-containers/<id>/{diff,work,merged}``; the image's layers are the lower
dirs, named by their short ``l/`` links.  vfs: a full copy of the image's top layer.
"""

from __future__ import annotations

import _thread
import os
import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import NoSuchLayer, StorageError
from sealpod.storage.mount import is_mountpoint, mount, unmount
from sealpod.utils.proc import which

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.rootless.idmap import IdMapping
    from sealpod.storage.store import Store

_PAGE = 4096
_CHDIR_LOCK = _thread.allocate_lock()  # relative lowerdirs need the cwd; serialise within a process


def _mount_overlay(merged: Path, options: str, rootless: bool) -> None:
    """The kernel's overlay; for a rootless user whose kernel refuses it, fuse-overlayfs."""
    try:
        mount("overlay", os.fspath(merged), "overlay", 0, options)
        return
    except StorageError:
        if not rootless or not which("fuse-overlayfs"):
            raise
    from sealpod.utils.proc import run

    fuse_options = options.replace(",userxattr", "")
    run(["fuse-overlayfs", "-o", fuse_options, os.fspath(merged)])


class ContainerLayers:
    """The container side of the store; reached as ``Store.containers``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.home = store.graph_root / f"{store.driver_name}-containers"
        self.idmap_supported: bool | None = None  # learnt on the first try, for this store's lifetime

    def _dir(self, container_id: str) -> Path:
        return self.home / container_id

    def create(self, container_id: str, image_id: str | None) -> Path:
        """Make the writable layer; ``image_id`` None means an empty root (``--rootfs``-less scratch)."""
        layers: list[str] = list(self.store.get_image(image_id).layers) if image_id else []
        self._check_layers(image_id or "", layers)
        d = self._dir(container_id)
        try:
            d.mkdir(parents=True)
            if self.store.driver_name == "vfs":
                top = layers[-1] if layers else None
                if top is None:
                    (d / "diff").mkdir(mode=0o755)
                else:
                    from sealpod.utils.proc import run

                    run(["cp", "-a", "--reflink=auto", os.fspath(self.store.layer_diff_path(top)),
                         os.fspath(d / "diff")])
            else:
                for sub in ("diff", "work", "merged"):
                    (d / sub).mkdir(mode=0o755)
                os.chmod(d / "diff", self._root_mode(layers))  # overlay's / takes the upper dir's mode
        except BaseException:
            import shutil

            shutil.rmtree(d, ignore_errors=True)
            raise
        with self.store.db.write() as conn:
            conn.execute("INSERT INTO rw_layers VALUES (?,?,?,?)",
                         (container_id, image_id, ",".join(layers), time.time()))
        return d

    def _root_mode(self, layers: list[str]) -> int:
        """The mode of the image's root directory: a layer whose tar had no "./" entry keeps the
        default, so the topmost layer that differs from it is the one that said otherwise."""
        from sealpod.storage.store import ROOT_DIR_MODE

        for layer in reversed(layers):
            mode = self.store.driver.diff_path(layer).stat().st_mode & 0o7777
            if mode != ROOT_DIR_MODE:
                return mode
        return ROOT_DIR_MODE

    def exists(self, container_id: str) -> bool:
        row = self.store.db.conn.execute("SELECT 1 FROM rw_layers WHERE id=?", (container_id,)).fetchone()
        return row is not None and self._dir(container_id).is_dir()

    def _check_layers(self, image_id: str, layers: list[str]) -> None:
        """A layer whose files are gone (a damaged or hand-edited store) fails here, naming the image
        to remove, rather than as a missing path deep in the mount."""
        driver = self.store.driver
        needed = layers[-1:] if self.store.driver_name == "vfs" else layers
        for layer in needed:
            if not (driver.exists(layer) and driver.diff_path(layer).is_dir()):
                raise StorageError(f'layer "{layer}" of image with ID "{image_id}" is missing from storage '
                                   "(consider removing the image to resolve the issue): file does not exist")

    def _image_layers(self, container_id: str) -> list[str]:
        row = self.store.db.conn.execute("SELECT layers FROM rw_layers WHERE id=?", (container_id,)).fetchone()
        if row is None:
            raise NoSuchLayer(f"container {container_id[:12]} has no storage")
        return [x for x in str(row[0]).split(",") if x]

    def image_layers(self, container_id: str) -> list[str]:
        """The image layers below the container's writable layer, bottom first."""
        return self._image_layers(container_id)

    def mount(self, container_id: str, uid_maps: Sequence[IdMapping] = (), gid_maps: Sequence[IdMapping] = ()) -> Path:
        """Mount (once) and return the root filesystem path.  With id maps (a container with a user
        namespace of its own) the image's layers are seen through idmapped mounts where the kernel
        allows it: ``is_idmapped`` then says so, and nothing needs chowning."""
        d = self._dir(container_id)
        if self.store.driver_name == "vfs":
            return d / "diff"
        merged = d / "merged"
        if is_mountpoint(os.fspath(merged)):
            return merged
        layers = self._image_layers(container_id)
        if uid_maps and layers and self.idmap_supported is not False and self._mount_idmapped(
                d, layers, uid_maps, gid_maps):
            return merged
        from sealpod.storage.drivers.overlay import OverlayDriver

        driver = self.store.driver
        assert isinstance(driver, OverlayDriver)
        short = driver.lower_dirs(list(reversed(layers)))
        if not short:
            empty = self.home / "empty"
            empty.mkdir(exist_ok=True)
            short = [os.fspath(empty)]
            driver.home.mkdir(parents=True, exist_ok=True)  # a store that holds no layer yet
        # In a user namespace overlay keeps its metadata in user.* xattrs (as the layers were made).
        upper = f"upperdir={d / 'diff'},workdir={d / 'work'}" + (",userxattr" if driver.rootless else "")
        absolute = ",".join([f"lowerdir={':'.join(os.fspath(driver.home / s) for s in short)}", upper])
        with _CHDIR_LOCK:
            cwd = os.getcwd()
            os.chdir(driver.home)
            try:
                if len(absolute) < _PAGE - 1:
                    _mount_overlay(merged, absolute, driver.rootless)
                else:
                    _mount_overlay(merged, f"lowerdir={':'.join(short)},{upper}", driver.rootless)
            finally:
                os.chdir(cwd)
        return merged

    def mount_over(self, container_id: str, lower: Path) -> Path:
        """A directory of the user's (``run --rootfs DIR:O``) under the container's writable layer:
        what the container writes lands in its own upper dir, never in ``lower``."""
        d = self._dir(container_id)
        merged = d / "merged"
        if is_mountpoint(os.fspath(merged)):
            return merged
        for sub in ("work", "merged"):
            (d / sub).mkdir(mode=0o755, exist_ok=True)
        st = lower.stat()
        os.chmod(d / "diff", st.st_mode & 0o7777)  # overlay's / takes the upper dir's mode and owner
        os.chown(d / "diff", st.st_uid, st.st_gid)
        rootless = bool(getattr(self.store.driver, "rootless", False))
        options = f"lowerdir={lower},upperdir={d / 'diff'},workdir={d / 'work'}" + (",userxattr" if rootless else "")
        _mount_overlay(merged, options, rootless)
        return merged

    def _mount_idmapped(self, d: Path, layers: list[str], uid_maps: Sequence[IdMapping],
                        gid_maps: Sequence[IdMapping]) -> bool:
        """Overlay on idmapped views of the layers (kernel >= 5.19); the upper dir stays plain, so
        what the container writes lands with its mapped owners.  The views are detached once the
        overlay holds them.  False (and support remembered as absent) when the kernel refuses."""
        from sealpod.rootless.idmap import to_host
        from sealpod.rootless.idmapped import idmap_dirs, unsupported

        driver = self.store.driver
        lowers = [driver.diff_path(layer) for layer in reversed(layers)]
        views = [d / "idmapped" / str(i) for i in range(len(lowers))]
        try:
            idmap_dirs(lowers, views, uid_maps, gid_maps)
        except OSError as e:
            if not unsupported(e):
                raise StorageError(f"creating idmapped mounts of the image layers: {e.strerror}") from None
            self.idmap_supported = False
            return False
        self.idmap_supported = True
        upper = d / "diff"
        root_uid, root_gid = to_host(uid_maps, 0), to_host(gid_maps or uid_maps, 0)
        if root_uid is not None and root_gid is not None:
            os.chown(upper, root_uid, root_gid)  # the container's / is its root's, as in the image
        options = (f"lowerdir={':'.join(f'idmapped/{i}' for i in range(len(views)))},upperdir=diff,workdir=work"
                   + (",userxattr" if getattr(driver, "rootless", False) else ""))
        try:
            with _CHDIR_LOCK:
                cwd = os.getcwd()
                os.chdir(d)
                try:
                    mount("overlay", os.fspath(d / "merged"), "overlay", 0, options)
                finally:
                    os.chdir(cwd)
            (d / "idmapped" / "active").write_text("")
        finally:
            for view in views:
                unmount(os.fspath(view), detach=True)
                view.rmdir()
        return True

    def is_idmapped(self, container_id: str) -> bool:
        """Whether the mounted root filesystem shows the layers through idmapped mounts."""
        return (self._dir(container_id) / "idmapped" / "active").exists() and self.is_mounted(container_id)

    def unmount(self, container_id: str) -> None:
        merged = self._dir(container_id) / "merged"  # vfs has one only under a ``mount_over``
        if self.store.driver_name != "vfs" or is_mountpoint(os.fspath(merged)):
            unmount(os.fspath(merged))
            (self._dir(container_id) / "idmapped" / "active").unlink(missing_ok=True)

    def is_mounted(self, container_id: str) -> bool:
        if self.store.driver_name == "vfs":
            return True
        return is_mountpoint(os.fspath(self._dir(container_id) / "merged"))

    def diff_path(self, container_id: str) -> Path:
        return self._dir(container_id) / "diff"

    def delete(self, container_id: str) -> None:
        self.unmount(container_id)
        d = self._dir(container_id)
        if self.store.driver_name != "vfs" and is_mountpoint(os.fspath(d / "merged")):
            raise StorageError(f"container {container_id[:12]} is still mounted")
        import shutil

        shutil.rmtree(d, ignore_errors=True)
        with self.store.db.write() as conn:
            conn.execute("DELETE FROM rw_layers WHERE id=?", (container_id,))

    def users_of(self, image_id: str) -> list[str]:
        rows = self.store.db.conn.execute("SELECT id FROM rw_layers WHERE image_id=?", (image_id,))
        return [str(r[0]) for r in rows]
