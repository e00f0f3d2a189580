"""The oci: and oci-archive: transports: an OCI image layout directory (or a tar of one).

Blobs are copied as they are stored, so an image saved and loaded keeps its digests.
Everything read from a layout is checked against the digest and size the manifest
gives: a layout is as untrusted as a registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import DigestMismatch, InvalidArgument, NoSuchImage
from sealpod.image.manifest import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, Descriptor, Manifest, digest_of
from sealpod.image.transports.base import Progress

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

REF_ANNOTATION = "org.opencontainers.image.ref.name"
_CHUNK = 1 << 20


def blob_path(layout: Path, digest: str) -> Path:
    algo, _, hexpart = digest.partition(":")
    if algo not in ("sha256", "sha512") or not hexpart.isalnum():
        raise InvalidArgument(f"invalid digest {digest!r} in OCI layout")
    return layout / "blobs" / algo / hexpart


def copy_verified(src: BinaryIO, out: BinaryIO, digest: str, size: int, progress: Progress | None = None) -> None:
    """Copy a blob, refusing more bytes than ``size`` and content that does not match ``digest``."""
    h = hashlib.new(digest.partition(":")[0])
    done = 0
    while True:
        chunk = src.read(_CHUNK)
        if not chunk:
            break
        done += len(chunk)
        if size >= 0 and done > size:
            raise DigestMismatch(f"blob {digest} is longer than the {size} bytes announced")
        h.update(chunk)
        out.write(chunk)
        if progress:
            progress(done)
    if (size >= 0 and done != size) or f"{h.name}:{h.hexdigest()}" != digest:
        raise DigestMismatch(f"blob {digest} does not match its digest or size")


def read_index(layout: Path) -> dict[str, Any]:
    try:
        doc = json.loads((layout / "index.json").read_text())
    except FileNotFoundError as e:
        raise InvalidArgument(f"{layout}: not an OCI image layout (no index.json)") from e
    except ValueError as e:
        raise InvalidArgument(f"{layout}/index.json: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
        raise InvalidArgument(f"{layout}/index.json: no manifests list")
    return doc


_OCI_LAYER_TYPES = {"application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar",
                    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
                        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}


def to_oci(manifest: bytes, media_type: str) -> tuple[bytes, str]:
    """A Docker schema 2 manifest as an OCI one (same blobs): OCI readers skip Docker media types
    in index.json, so the manifest's digest changes here, as it does with Podman."""
    if media_type == OCI_MANIFEST:
        return manifest, media_type
    doc = json.loads(manifest)
    doc["mediaType"] = OCI_MANIFEST
    doc["config"]["mediaType"] = OCI_CONFIG
    for layer in doc.get("layers") or []:
        layer["mediaType"] = _OCI_LAYER_TYPES.get(layer.get("mediaType"), layer.get("mediaType"))
    return json.dumps(doc, separators=(",", ":")).encode(), OCI_MANIFEST


class OciLayoutSource:
    """One image of a layout: the manifest named ``ref`` (or the only one)."""

    def __init__(self, layout: Path, ref: str | None = None, descriptor: dict[str, Any] | None = None) -> None:
        self.layout = layout
        self.ref = ref
        self.top = descriptor or self._find(ref)

    def _find(self, ref: str | None) -> dict[str, Any]:
        manifests = read_index(self.layout)["manifests"]
        if ref:
            found = [m for m in manifests if (m.get("annotations") or {}).get(REF_ANNOTATION) == ref]
            if not found:
                raise NoSuchImage(f"no image named {ref!r} in {self.layout}")
            return dict(found[0])
        if len(manifests) != 1:
            raise InvalidArgument(f"{self.layout} holds {len(manifests)} images: name one")
        return dict(manifests[0])

    def describe(self) -> str:
        return f"oci:{self.layout}" + (f":{self.ref}" if self.ref else "")

    def _read(self, digest: str, size: int) -> bytes:
        import io

        buf = io.BytesIO()
        with open(blob_path(self.layout, digest), "rb") as f:
            copy_verified(f, buf, digest, size)
        return buf.getvalue()

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        if digest is None:
            body = self._read(str(self.top["digest"]), int(self.top.get("size", -1)))
            return body, str(self.top.get("mediaType", ""))
        body = self._read(digest, -1)
        return body, json.loads(body).get("mediaType", "")

    def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
        try:
            with open(blob_path(self.layout, desc.digest), "rb") as f:
                copy_verified(f, out, desc.digest, desc.size, progress)
        except FileNotFoundError as e:
            raise DigestMismatch(f"blob {desc.digest} is missing from {self.layout}") from e

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return None  # verified while copied: never trusted as it lies on disk

    def close(self) -> None:
        return None


class OciLayoutDestination:
    """Writes images into a layout directory; several images may share one layout."""

    def __init__(self, layout: Path, ref: str | None) -> None:
        self.layout = layout
        self.ref = ref
        self._manifest: Manifest | None = None
        self._config = b""
        layout.mkdir(parents=True, exist_ok=True)
        (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        if not (layout / "index.json").exists():
            (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                           "manifests": []}))

    def describe(self) -> str:
        return f"oci:{self.layout}" + (f":{self.ref}" if self.ref else "")

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._manifest, self._config = manifest, config

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        return None

    def has_layer(self, index: int) -> bool:
        assert self._manifest is not None
        return blob_path(self.layout, self._manifest.layers[index].digest).is_file()

    def temp_file(self) -> tuple[Path, BinaryIO]:
        fd, name = tempfile.mkstemp(dir=self.layout, prefix=".tmp-")
        return Path(name), os.fdopen(fd, "w+b")

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        assert self._manifest is not None
        self._write_file(self._manifest.layers[index].digest, blob)

    def _write_file(self, digest: str, src: Path) -> None:
        dest = blob_path(self.layout, digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)

    def _write_bytes(self, digest: str, data: bytes) -> None:
        dest = blob_path(self.layout, digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        assert self._manifest is not None
        self._write_bytes(self._manifest.config.digest, self._config)
        manifest, media_type = to_oci(manifest, media_type)
        digest = digest_of(manifest)
        self._write_bytes(digest, manifest)
        doc = read_index(self.layout)
        entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(manifest)}
        if self.ref:
            entry["annotations"] = {REF_ANNOTATION: self.ref}
            doc["manifests"] = [m for m in doc["manifests"]
                                if (m.get("annotations") or {}).get(REF_ANNOTATION) != self.ref]
        doc["manifests"].append(entry)
        (self.layout / "index.json").write_text(json.dumps(doc))
        return digest

    def abort(self) -> None:
        for tmp in self.layout.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        return None
