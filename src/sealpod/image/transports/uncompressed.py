"""A destination wrapper that writes every layer uncompressed (``save --uncompressed``, docker-dir).

Layers are stored as pulled (gzip, zstd); this decompresses each on its way to the wrapped
destination, checks it against the config's diff ID (which is then its digest), and rewrites
the manifest's layer descriptors to match.  The index an image came from no longer describes
the rewritten manifest, so it is not passed on.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import DigestMismatch
from sealpod.image.manifest import Descriptor, Manifest
from sealpod.image.transports.base import Progress

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

    from sealpod.image.transports.base import ImageDestination

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_UNCOMPRESSED = {"application/vnd.oci.image.layer.v1.tar+gzip": "application/vnd.oci.image.layer.v1.tar",
                 "application/vnd.oci.image.layer.v1.tar+zstd": "application/vnd.oci.image.layer.v1.tar",
                 "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.docker.image.rootfs.diff.tar"}


def uncompressed_type(media_type: str) -> str:
    """The media type of a layer once decompressed (unknown types are kept)."""
    return _UNCOMPRESSED.get(media_type, media_type)


class Uncompressing:
    """Wraps an :class:`ImageDestination`; the wrapped one sees an all-uncompressed image."""

    def __init__(self, inner: ImageDestination, docker: bool = False) -> None:
        self.inner = inner
        self.docker = docker  # write a Docker schema 2 manifest (docker-dir), whatever the source's
        self._diff_ids: tuple[str, ...] = ()
        self._sizes: dict[int, int] = {}

    def describe(self) -> str:
        return self.inner.describe()

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._diff_ids = tuple(diff_ids)
        layers = tuple(Descriptor(uncompressed_type(d.media_type), diff_id, -1)  # size known once written
                       for d, diff_id in zip(manifest.layers, diff_ids, strict=True))
        self.inner.begin(Manifest(manifest.media_type, manifest.config, layers), config, diff_ids)

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        return None

    def has_layer(self, index: int) -> bool:
        return False  # its size is learnt by writing it

    def temp_file(self) -> tuple[Path, BinaryIO]:
        return self.inner.temp_file()

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        from sealpod.utils.compression import decompressed_chunks

        path, out = self.inner.temp_file()
        try:
            h, size = hashlib.sha256(), 0
            with out, open(blob, "rb") as src:
                for chunk in decompressed_chunks(src):
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if f"sha256:{h.hexdigest()}" != self._diff_ids[index]:
                raise DigestMismatch(f"layer {index} does not match its diff ID {self._diff_ids[index]}")
            self._sizes[index] = size
            self.inner.put_layer(index, path, progress)
        finally:
            os.unlink(path)

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        doc = json.loads(manifest)
        if self.docker:
            media_type = doc["mediaType"] = DOCKER_MANIFEST
            doc["config"]["mediaType"] = DOCKER_CONFIG
        for i, layer in enumerate(doc.get("layers") or []):
            kind = DOCKER_LAYER if self.docker else uncompressed_type(str(layer.get("mediaType", "")))
            layer.update(mediaType=kind, digest=self._diff_ids[i], size=self._sizes[i])
        return self.inner.commit(json.dumps(doc, separators=(",", ":")).encode(), media_type, None)

    def abort(self) -> None:
        self.inner.abort()

    def close(self) -> None:
        self.inner.close()
