"""The containers-storage: transport: images in sealpod's own store.

As a destination it turns layer blobs into extracted layers (by chain ID, so a layer
shared with an image already present is neither downloaded nor extracted again) and
keeps each blob as pulled, so a later push reproduces the same digests.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import NoSuchLayer, SealpodError, StorageError
from sealpod.image.manifest import Descriptor, Manifest, digest_of
from sealpod.image.transports.base import Progress
from sealpod.storage.layers import chain_ids
from sealpod.storage.records import ManifestRecord
from sealpod.storage.store import Store

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO


class StorageDestination:
    """Stores an image under ``names`` (fully qualified, tagged)."""

    def __init__(self, store: Store, names: Sequence[str]) -> None:
        self.store = store
        self.names = list(names)
        self._manifest: Manifest | None = None
        self._config = b""
        self._diff_ids: tuple[str, ...] = ()
        self._chain: list[str] = []
        self._present: list[threading.Event] = []
        self._failed = threading.Event()

    def describe(self) -> str:
        return "containers-storage:" + (self.names[0] if self.names else "")

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._manifest, self._config, self._diff_ids = manifest, config, tuple(diff_ids)
        self._chain = chain_ids(diff_ids)
        self._present = [threading.Event() for _ in self._chain]

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        """The image ID is its config digest: if that image and its layers exist, only add names."""
        from sealpod.errors import NoSuchImage

        image_id = manifest.config.digest.removeprefix("sha256:")
        try:
            image = self.store.get_image(image_id)
        except NoSuchImage:
            return None
        if not all(self.store.layer_exists(layer) for layer in image.layers) or \
                hashlib.sha256(image.config).hexdigest() != image_id:  # damaged: pull it again to repair
            return None
        self._config = image.config
        self._chain = list(image.layers)
        return self.commit(body, media_type, index)

    def has_layer(self, index: int) -> bool:
        if self.store.layer_exists(self._chain[index]):
            self._present[index].set()
            return True
        return False

    def temp_file(self) -> tuple[Path, BinaryIO]:
        return self.store.temp_file()

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        assert self._manifest is not None, "begin() must come first"
        desc = self._manifest.layers[index]
        try:
            kept = self.store.adopt_blob(desc.digest, blob)
            parent = self._chain[index - 1] if index else None
            if parent is not None and self.store.driver_name == "vfs":
                self._wait_for(index - 1)
            self.store.create_layer(self._chain[index], parent, kept, diff_id=self._diff_ids[index],
                                    compressed_digest=desc.digest, media_type=desc.media_type)
        except BaseException:
            self._failed.set()
            raise
        self._present[index].set()

    def _wait_for(self, index: int) -> None:
        """vfs layers build on a copy of their parent: wait until the parent is in place."""
        while not self._present[index].wait(0.2):
            if self._failed.is_set():
                raise NoSuchLayer(f"layer {self._chain[index][:12]} below was not stored")

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        image_id = hashlib.sha256(self._config).hexdigest()
        records = [ManifestRecord(digest_of(manifest), media_type, manifest)]
        if index is not None:
            records.append(ManifestRecord(digest_of(index[0]), index[1], index[0]))
        self.store.create_image(image_id, self._chain, self._config, manifests=records, names=self.names)
        return image_id

    def abort(self) -> None:
        self._failed.set()

    def close(self) -> None:
        return None


class StorageSource:
    """Reads an image from the store, byte for byte as it was pulled."""

    def __init__(self, store: Store, image_id: str) -> None:
        self.store = store
        self.image = store.get_image(image_id)

    def describe(self) -> str:
        return f"containers-storage:[{self.store.driver_name}@{self.store.graph_root}]{self.image.id}"

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        record = self.store.image_manifest(self.image.id, digest) if digest else self._servable_manifest()
        if record is None:
            raise StorageError(f"image {self.image.id[:12]} has no stored manifest to push")
        return record.body, record.media_type

    def _servable_manifest(self) -> ManifestRecord | None:
        """The first stored manifest whose layer blobs are all still here.  An image pulled from a
        registry and later loaded from an archive (or the other way round) has a manifest from each,
        but the store keeps one blob per layer: the other manifest names blobs it no longer has."""
        import json

        records = self.store.image_manifests(self.image.id)
        for record in records:
            try:
                layers = json.loads(record.body).get("layers")
            except (ValueError, AttributeError):
                continue
            if isinstance(layers, list) and all(
                    isinstance(d, dict) and self._blob_file(Descriptor(str(d.get("mediaType") or ""),
                                                                       str(d.get("digest") or ""), 0)) is not None
                    for d in layers):
                return record
        return records[0] if records else None

    def _blob_file(self, desc: Descriptor) -> Path | None:
        for layer_id in self.image.layers:
            found = self.store.layer_blob(layer_id)
            if found is not None and found[1].compressed_digest == desc.digest:
                return found[0]
        return None

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return self._blob_file(desc)

    def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
        if digest_of(self.image.config) == desc.digest:
            out.write(self.image.config)
            return
        path = self._blob_file(desc)
        if path is None:
            raise SealpodError(f"blob {desc.digest} of image {self.image.id[:12]} is no longer stored")
        with open(path, "rb") as f:
            import shutil

            shutil.copyfileobj(f, out, 1 << 20)

    def close(self) -> None:
        return None
