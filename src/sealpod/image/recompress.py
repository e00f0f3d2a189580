"""``push --compression-format``: layers rewritten in another compression on the way out.

A layer already in the asked-for compression goes as it is (its digest kept), as containers/image
does; any other is decompressed and compressed again, which gives it a new digest and size, so the
manifest is rewritten to name the new blobs.  The config is untouched: its diff IDs are digests of
the uncompressed tars, which recompression does not change.  zstd layers need an OCI manifest
(Docker's schema 2 has no media type for them), so the manifest becomes one when zstd is asked for.
"""

from __future__ import annotations

import hashlib
import json

from sealpod.errors import InvalidArgument, UnsupportedManifest
from sealpod.image.manifest import DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST, Descriptor, Manifest, parse

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

FORMATS = ("gzip", "zstd")
_OCI_LAYER = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
              "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}
_DOCKER_LAYER = {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip"}
_CHUNK = 1 << 20


def check_format(name: str | None) -> str | None:
    """The ``--compression-format`` value, refused in Podman's words when unknown."""
    if not name:
        return None
    if name not in FORMATS:
        raise InvalidArgument(f'unsupported compression format "{name}": supported formats are '
                              f"{', '.join(FORMATS)}")
    return name


def recompress_file(src: Path, out: Path, fmt: str, plain_only: bool = False) -> tuple[str, int] | None:
    """Write ``src`` compressed as ``fmt`` to ``out``; return its (digest, size), or None when ``src``
    already is ``fmt`` (nothing is written then).  ``plain_only`` (``push --compress``): a layer
    compressed some other way is kept as it is too, as containers/image keeps it."""
    from sealpod.utils.compression import Compression, compress_into, decompressed_chunks, detect

    with open(src, "rb") as f:
        found = detect(f.read(4))
        if found == fmt or (plain_only and found != Compression.NONE):
            return None
        f.seek(0)
        h = hashlib.sha256()
        with open(out, "wb") as dst:
            size = compress_into(decompressed_chunks(f), _compressor(fmt), dst, h)
    return f"sha256:{h.hexdigest()}", size


def _compressor(fmt: str) -> Any:
    """An object with ``compress``/``flush`` (zlib's shape) writing ``fmt``."""
    if fmt == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compressobj()
    try:
        from isal import isal_zlib

        return isal_zlib.compressobj(level=1, wbits=31)
    except ImportError:  # pragma: no cover - isal is a declared dependency
        import zlib

        return zlib.compressobj(wbits=31)


def rewrite_manifest(body: bytes, media_type: str, layers: dict[int, Descriptor], fmt: str
                     ) -> tuple[bytes, str, Manifest]:
    """The manifest with the recompressed ``layers`` (by index) in place of the old ones."""
    doc: dict[str, Any] = json.loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise UnsupportedManifest("manifest has no layers to recompress")
    oci = media_type != DOCKER_MANIFEST or fmt == "zstd"
    if oci and media_type == DOCKER_MANIFEST:
        doc["mediaType"] = OCI_MANIFEST
        doc["config"]["mediaType"] = OCI_CONFIG
        media_type = OCI_MANIFEST
    for n, layer in enumerate(doc["layers"]):
        if n in layers:
            layer["digest"], layer["size"] = layers[n].digest, layers[n].size
        docker_typed = str(layer.get("mediaType", "")).startswith("application/vnd.docker")
        if n in layers or (media_type == OCI_MANIFEST and docker_typed):
            layer["mediaType"] = (_OCI_LAYER if oci else _DOCKER_LAYER)[fmt]
    new = json.dumps(doc, indent=4).encode()
    parsed = parse(new, media_type)
    assert isinstance(parsed, Manifest)
    return new, media_type, parsed


class StagedSource:
    """An image source whose layers are read recompressed: :meth:`stage` writes them to a scratch
    directory and gives the rewritten manifest; blobs not rewritten still come from ``inner``."""

    def __init__(self, inner: Any, fmt: str, plain_only: bool = False) -> None:
        import tempfile
        from pathlib import Path

        self.inner = inner
        self.fmt = fmt
        self.plain_only = plain_only
        self.work = Path(tempfile.mkdtemp(prefix="sealpod-recompress-"))
        self.staged: dict[str, Path] = {}

    def stage(self, manifest: Manifest, body: bytes, media_type: str, report: Any) -> tuple[Manifest, bytes, str]:
        changed: dict[int, Descriptor] = {}
        for n, desc in enumerate(manifest.layers):
            raw = self.inner.local_blob_path(desc)
            if raw is None:
                raw = self.work / f"in-{n}"
                with open(raw, "wb") as f:
                    self.inner.get_blob(desc, f)
            out = self.work / f"out-{n}"
            found = recompress_file(raw, out, self.fmt, self.plain_only)
            if found is None:
                continue
            digest, size = found
            self.staged[digest] = out
            changed[n] = Descriptor(media_type=desc.media_type, digest=digest, size=size)
        if not changed and not (self.fmt == "zstd" and media_type == DOCKER_MANIFEST):
            return manifest, body, media_type
        new_body, new_type, new = rewrite_manifest(body, media_type, changed, self.fmt)
        return new, new_body, new_type

    def describe(self) -> str:
        return str(self.inner.describe())

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        body, media_type = self.inner.get_manifest(digest)
        return body, media_type

    def get_blob(self, desc: Descriptor, out: Any, progress: Any = None) -> None:
        path = self.staged.get(desc.digest)
        if path is None:
            self.inner.get_blob(desc, out, progress)
            return
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                out.write(chunk)

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return self.staged.get(desc.digest) or self.inner.local_blob_path(desc)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.work, ignore_errors=True)
