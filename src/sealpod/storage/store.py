"""The Store facade: the only public entry point to layers, blobs and images on disk.

Writes are ordered so that a crash or a bad layer never leaves a half-written image:
a layer's files are staged and moved into place before its row is inserted, and an
image row is inserted only after all its layers exist.  Orphan layers (from a pull
that failed halfway) are reused by the next pull and collected by image removal.
"""

from __future__ import annotations

import _thread
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from sealpod.errors import AmbiguousName, ImageInUse, NoSuchImage, NoSuchLayer, StorageError
from sealpod.storage.db import Database
from sealpod.storage.records import ImageRecord, LayerRecord, ManifestRecord

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import sqlite3
    from typing import BinaryIO

    from sealpod.storage.containers import ContainerLayers
    from sealpod.storage.drivers.base import Driver
    from sealpod.storage.image_mounts import ImageMounts


ROOT_DIR_MODE = 0o555  # of a layer whose tar has no "./" entry, as containers/storage makes it


class Store:
    """Layers, blobs and images under one graph root."""

    def __init__(self, graph_root: Path, run_root: Path, driver: str = "overlay") -> None:
        self.graph_root = graph_root
        self.run_root = run_root
        self.driver_name = "overlay" if driver in ("", "overlay2") else driver
        if self.driver_name not in ("overlay", "vfs"):
            from sealpod.errors import InvalidArgument

            raise InvalidArgument(f'unknown storage driver "{driver}": supported drivers are overlay, vfs')
        self._driver: Driver | None = None
        self._db: Database | None = None
        self._init_lock = _thread.allocate_lock()  # layers are stored from several threads at once

    # --- plumbing -------------------------------------------------------------------

    @property
    def db(self) -> Database:
        if self._db is None:
            with self._init_lock:
                if self._db is None:
                    self._db = Database(self.graph_root)
        return self._db

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            with self._init_lock:
                if self._driver is None:
                    from sealpod.storage.drivers import open_driver

                    self._driver = open_driver(self.driver_name, self.graph_root)
        return self._driver

    @property
    def containers(self) -> ContainerLayers:
        from sealpod.storage.containers import ContainerLayers

        return ContainerLayers(self)

    @property
    def image_mounts(self) -> ImageMounts:
        """Read-only mounts of images (``image mount``), counted."""
        from sealpod.storage.image_mounts import ImageMounts

        return ImageMounts(self)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def temp_file(self) -> tuple[Path, BinaryIO]:
        """A new file on the graph root's filesystem, so a finished blob can be renamed in."""
        tmp = self.graph_root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        path = tmp / os.urandom(16).hex()
        return path, open(path, "w+b")  # noqa: SIM115 - the caller owns it

    # --- blobs ----------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        algo, _, hexpart = digest.partition(":")
        return self.graph_root / "blobs" / algo / hexpart

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def adopt_blob(self, digest: str, verified_file: Path) -> Path:
        """Move a downloaded, digest-checked file into the blob directory."""
        dest = self.blob_path(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(verified_file, dest)
        return dest

    # --- layers ---------------------------------------------------------------------

    def layer_exists(self, layer_id: str) -> bool:
        row = self.db.conn.execute("SELECT 1 FROM layers WHERE id=?", (layer_id,)).fetchone()
        # its files too: a layer whose diff went missing is pulled (extracted) again, which repairs it
        return row is not None and self.driver.exists(layer_id) and self.driver.diff_path(layer_id).is_dir()

    def get_layer(self, layer_id: str) -> LayerRecord:
        row = self.db.conn.execute("SELECT * FROM layers WHERE id=?", (layer_id,)).fetchone()
        if row is None:
            raise NoSuchLayer(f"layer not known: {layer_id}")
        return LayerRecord(**dict(row))

    def create_layer(self, layer_id: str, parent: str | None, blob: Path, *, diff_id: str,
                     compressed_digest: str | None, media_type: str | None) -> LayerRecord:
        """Extract ``blob`` as layer ``layer_id``; on any failure nothing of it remains."""
        from sealpod.storage.tarlayer import extract_layer

        if parent is not None and self.driver_name == "vfs" and not self.driver.exists(parent):
            raise NoSuchLayer(f"parent layer {parent} of {layer_id} is missing")
        staging = self.driver.prepare(layer_id, parent)
        try:
            with open(blob, "rb") as f:
                result = extract_layer(f, staging, whiteouts=self.driver.whiteouts, expected_diff_id=diff_id,
                                       rootless=self.driver.rootless)
            if not result.sets_root and (parent is None or self.driver_name != "vfs"):
                # containers/storage makes a layer's root r-x for everyone unless the tar says otherwise
                # (and Podman's containers inherit it: `stat -c %a /` is 555 in most images)
                os.chmod(staging, ROOT_DIR_MODE)
            self.driver.commit(layer_id, staging, parent)
        except BaseException:
            self.driver.abort(staging)
            raise
        record = LayerRecord(
            id=layer_id, parent=parent, diff_id=result.diff_id, compressed_digest=compressed_digest,
            compressed_size=blob.stat().st_size if compressed_digest else None,
            uncompressed_size=result.uncompressed_size, media_type=media_type, created=time.time(),
        )
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO layers VALUES (?,?,?,?,?,?,?,?)",
                (record.id, record.parent, record.diff_id, record.compressed_digest,
                 record.compressed_size, record.uncompressed_size, record.media_type, record.created),
            )
        return record

    def layer_blob(self, layer_id: str) -> tuple[Path, LayerRecord] | None:
        """The blob a layer was created from, if it is still kept (for push)."""
        layer = self.get_layer(layer_id)
        if layer.compressed_digest is None:
            return None
        path = self.blob_path(layer.compressed_digest)
        return (path, layer) if path.is_file() else None

    def layer_diff_path(self, layer_id: str) -> Path:
        return self.driver.diff_path(layer_id)

    # --- images ---------------------------------------------------------------------

    def create_image(self, image_id: str, layers: Sequence[str], config: bytes, *,
                     manifests: Sequence[ManifestRecord], names: Iterable[str] = ()) -> ImageRecord:
        """Record an image whose layers all exist; names move here from other images."""
        missing = [lay for lay in layers if not self.layer_exists(lay)]
        if missing:
            raise NoSuchLayer(f"cannot create image {image_id[:12]}: layer {missing[0]} is missing")
        created, size = _config_created(config), self._layers_size(layers)
        manifest_digest = manifests[0].digest if manifests else None
        with self.db.write() as conn:
            row = conn.execute("SELECT config FROM images WHERE id=?", (image_id,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO images VALUES (?,?,?,?,?,?,?,?)",
                    (image_id, layers[-1] if layers else None, json.dumps(list(layers)), config,
                     manifest_digest, created, size, time.time()),
                )
            elif _digest(bytes(row[0])) != image_id == _digest(config):  # a damaged config, pulled again
                conn.execute("UPDATE images SET config=?, created=?, top_layer=?, layers=? WHERE id=?",
                             (config, created, layers[-1] if layers else None, json.dumps(list(layers)), image_id))
            for m in manifests:
                conn.execute("INSERT OR REPLACE INTO manifests VALUES (?,?,?,?)",
                             (m.digest, image_id, m.media_type, m.body))
            if row is None:
                for name in names:
                    conn.execute("INSERT OR REPLACE INTO image_names VALUES (?,?)", (name, image_id))
            else:  # names given to an image already here go first (a load or pull shows them first), as
                # containers/storage adds names; rowids below all others keep that order
                for name in reversed(list(names)):
                    conn.execute("DELETE FROM image_names WHERE name=?", (name,))
                    conn.execute("INSERT INTO image_names (rowid, name, image_id) VALUES "
                                 "((SELECT MIN(0, IFNULL(MIN(rowid), 0)) - 1 FROM image_names), ?, ?)",
                                 (name, image_id))
            _note_names(conn, image_id)
        return self.get_image(image_id)

    def _layers_size(self, layers: Sequence[str]) -> int:
        if not layers:
            return 0
        marks = ",".join("?" * len(layers))
        rows = self.db.conn.execute(f"SELECT id, uncompressed_size FROM layers WHERE id IN ({marks})",
                                    tuple(layers)).fetchall()
        sizes = {r["id"]: r["uncompressed_size"] for r in rows}
        return sum(sizes.get(lay, 0) for lay in layers)

    def list_images(self) -> list[ImageRecord]:
        conn = self.db.conn
        names: dict[str, list[str]] = {}
        for r in conn.execute("SELECT name, image_id FROM image_names ORDER BY rowid"):
            names.setdefault(r["image_id"], []).append(r["name"])
        digests: dict[str, list[str]] = {}
        for r in conn.execute("SELECT digest, image_id FROM manifests ORDER BY rowid"):
            digests.setdefault(r["image_id"], []).append(r["digest"])
        history = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT image_id, names FROM image_names_history")}
        rows = conn.execute("SELECT * FROM images ORDER BY stored").fetchall()
        return [_image_record(r, names.get(r["id"], []), digests.get(r["id"], []), history.get(r["id"], []))
                for r in rows]

    def get_image(self, image_id: str) -> ImageRecord:
        conn = self.db.conn
        row = conn.execute("SELECT * FROM images WHERE id=?", (image_id,)).fetchone()
        if row is None:
            raise NoSuchImage(f"{image_id}: image not known")
        names = [r[0] for r in conn.execute("SELECT name FROM image_names WHERE image_id=? ORDER BY rowid",
                                            (image_id,))]
        digests = [r[0] for r in conn.execute("SELECT digest FROM manifests WHERE image_id=? ORDER BY rowid",
                                              (image_id,))]
        hist = conn.execute("SELECT names FROM image_names_history WHERE image_id=?", (image_id,)).fetchone()
        return _image_record(row, names, digests, json.loads(hist[0]) if hist else [])

    def image_by_name(self, name: str) -> str | None:
        row = self.db.conn.execute("SELECT image_id FROM image_names WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def images_by_digest(self, digest: str) -> list[str]:
        rows = self.db.conn.execute("SELECT DISTINCT image_id FROM manifests WHERE digest=?", (digest,))
        return [str(r[0]) for r in rows]

    def image_by_id_prefix(self, prefix: str) -> str | None:
        """Resolve a (possibly abbreviated) image ID; None if nothing matches."""
        rows = self.db.conn.execute("SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2",
                                    (prefix, prefix + "g")).fetchall()
        if len(rows) > 1:
            raise AmbiguousName(f"{prefix}: image ID prefix is ambiguous")
        return str(rows[0][0]) if rows else None

    def image_manifest(self, image_id: str, digest: str | None = None) -> ManifestRecord | None:
        sql = "SELECT digest, media_type, body FROM manifests WHERE image_id=?"
        args: tuple[str, ...] = (image_id,)
        if digest is not None:
            sql, args = sql + " AND digest=?", (image_id, digest)
        row = self.db.conn.execute(sql + " ORDER BY rowid LIMIT 1", args).fetchone()
        return None if row is None else ManifestRecord(row[0], row[1], bytes(row[2]))

    def image_manifests(self, image_id: str) -> list[ManifestRecord]:
        rows = self.db.conn.execute("SELECT digest, media_type, body FROM manifests WHERE image_id=? "
                                    "ORDER BY rowid", (image_id,))
        return [ManifestRecord(r[0], r[1], bytes(r[2])) for r in rows]

    def add_name(self, image_id: str, name: str) -> None:
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone() is None:
                raise NoSuchImage(f"{image_id}: image not known")
            conn.execute("INSERT OR REPLACE INTO image_names VALUES (?,?)", (name, image_id))
            _note_names(conn, image_id)

    def remove_name(self, name: str) -> bool:
        with self.db.write() as conn:
            row = conn.execute("SELECT image_id FROM image_names WHERE name=?", (name,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM image_names WHERE name=?", (name,))
            _note_names(conn, str(row[0]))
            return True

    def delete_image(self, image_id: str) -> list[str]:
        """Forget an image and remove the layers and blobs no other image needs."""
        with self.db.write() as conn:
            user = conn.execute("SELECT id FROM rw_layers WHERE image_id=? LIMIT 1", (image_id,)).fetchone()
            if user is not None:
                raise ImageInUse(f"image {image_id[:12]} is in use by container {str(user[0])[:12]}")
            top = conn.execute("SELECT top_layer FROM images WHERE id=?", (image_id,)).fetchone()
            if conn.execute("DELETE FROM images WHERE id=?", (image_id,)).rowcount == 0:
                raise NoSuchImage(f"{image_id}: image not known")
            if top[0] and not conn.execute("SELECT 1 FROM images WHERE top_layer=?", (top[0],)).fetchone():
                from sealpod.storage.image_mounts import drop_layer_mount

                drop_layer_mount(conn, top[0])  # the image's mount goes with it (its layer may stay)
        return self.collect_garbage()

    def collect_garbage(self) -> list[str]:
        """Remove layers (and their blobs) that no image references; return their IDs."""
        removed: list[str] = []
        with self.db.write() as conn:
            used: set[str] = set()
            for r in conn.execute("SELECT layers FROM images"):
                used.update(json.loads(r[0]))
            for r in conn.execute("SELECT id, compressed_digest FROM layers").fetchall():
                if r[0] in used:
                    continue
                from sealpod.storage.image_mounts import drop_layer_mount

                drop_layer_mount(conn, r[0])
                self.driver.remove(r[0])
                if r[1] and not conn.execute("SELECT 1 FROM layers WHERE compressed_digest=? AND id!=?",
                                             (r[1], r[0])).fetchone():
                    self.blob_path(r[1]).unlink(missing_ok=True)
                conn.execute("DELETE FROM layers WHERE id=?", (r[0],))
                removed.append(r[0])
        return removed


    # --- manifest lists -------------------------------------------------------------

    def save_manifest_list(self, list_id: str, body: bytes, media_type: str, sources: dict[str, str],
                           names: Iterable[str] = ()) -> ImageRecord:
        """Record (or rewrite) a local manifest list: an image row without layers whose only manifest is
        the list, so names, ``images`` and ``rmi`` treat it as the image Podman shows."""
        import hashlib

        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        now = time.time()
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM images WHERE id=?", (list_id,)).fetchone() is None:
                config = json.dumps({"created": created}).encode()
                conn.execute("INSERT INTO images VALUES (?,?,?,?,?,?,?,?)",
                             (list_id, None, "[]", config, digest, created, len(body), now))
            conn.execute("UPDATE images SET manifest_digest=?, size=? WHERE id=?", (digest, len(body), list_id))
            conn.execute("DELETE FROM manifests WHERE image_id=?", (list_id,))
            conn.execute("INSERT INTO manifests VALUES (?,?,?,?)", (digest, list_id, media_type, body))
            conn.execute("INSERT OR REPLACE INTO manifest_lists VALUES (?,?)", (list_id, json.dumps(sources)))
            for name in names:
                conn.execute("INSERT OR REPLACE INTO image_names VALUES (?,?)", (name, list_id))
            _note_names(conn, list_id)
        return self.get_image(list_id)

    def manifest_list_sources(self, image_id: str) -> dict[str, str] | None:
        """Where each instance of a local manifest list came from; None if the image is not a list."""
        row = self.db.conn.execute("SELECT sources FROM manifest_lists WHERE image_id=?", (image_id,)).fetchone()
        if row is None:
            return None
        sources = json.loads(row[0])
        return {str(k): str(v) for k, v in sources.items()} if isinstance(sources, dict) else {}


def _image_record(row: object, names: list[str], digests: list[str], history: list[str]) -> ImageRecord:
    r = dict(row)  # type: ignore[call-overload]
    return ImageRecord(
        id=r["id"], names=tuple(names), layers=tuple(json.loads(r["layers"])), config=bytes(r["config"]),
        manifest_digest=r["manifest_digest"], digests=tuple(dict.fromkeys(digests)), created=r["created"],
        size=r["size"], stored=r["stored"], names_history=tuple(history),
    )


def _note_names(conn: sqlite3.Connection, image_id: str) -> None:
    """After a change of an image's names, each of its names (in order) moves to the front of its
    history: the order Podman's ``images --format {{.History}}`` shows."""
    names = [r[0] for r in conn.execute("SELECT name FROM image_names WHERE image_id=? ORDER BY rowid",
                                        (image_id,))]
    row = conn.execute("SELECT names FROM image_names_history WHERE image_id=?", (image_id,)).fetchone()
    history: list[str] = json.loads(row[0]) if row else []
    for name in names:
        history = [name] + [h for h in history if h != name]
    conn.execute("INSERT OR REPLACE INTO image_names_history VALUES (?,?)", (image_id, json.dumps(history)))


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _config_created(config: bytes) -> str | None:
    try:
        value = json.loads(config).get("created")
    except (ValueError, AttributeError) as e:
        raise StorageError(f"image config is not valid JSON: {e}") from e
    return value if isinstance(value, str) else None
