"""The dir: transport: one image as plain files (``manifest.json``, one file per blob, ``version``).

Blobs keep their digests, named by the hex part; skopeo and Podman read and write the same
layout.  What is read is checked against the manifest's digests and sizes, as for oci:.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import DigestMismatch, ImageTransportError, InvalidArgument
from sealpod.image.manifest import Descriptor, Manifest, digest_of
from sealpod.image.transports.base import Progress
from sealpod.image.transports.oci_layout import copy_verified

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

VERSION = "Directory Transport Version: 1.1\n"


def _blob_name(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or not hexpart.isalnum():
        raise InvalidArgument(f"invalid digest {digest!r} in dir: image")
    return hexpart


class DirSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / "manifest.json").is_file():
            raise ImageTransportError(f"open {path}/manifest.json: no such file or directory")

    def describe(self) -> str:
        return f"dir:{self.path}"

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        name = "manifest.json" if digest is None else f"{_blob_name(digest)}.manifest.json"
        try:
            body = (self.path / name).read_bytes()
        except OSError as e:
            raise ImageTransportError(f"reading {self.path / name}: {e.strerror}") from e
        try:
            media_type = json.loads(body).get("mediaType", "")
        except (ValueError, AttributeError):
            media_type = ""
        return body, str(media_type)

    def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
        try:
            with open(self.path / _blob_name(desc.digest), "rb") as f:
                copy_verified(f, out, desc.digest, desc.size, progress)
        except FileNotFoundError as e:
            raise DigestMismatch(f"blob {desc.digest} is missing from {self.path}") from e

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return None  # verified while copied

    def close(self) -> None:
        return None


class DirDestination:
    """Writes one image; an existing dir: image in ``path`` is replaced, any other content refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._manifest: Manifest | None = None
        self._config = b""
        if path.exists() and not path.is_dir():
            raise ImageTransportError(f"{path} exists and is not a directory")
        if path.is_dir() and any(path.iterdir()):
            if not (path / "version").is_file():
                raise ImageTransportError(f'non-empty directory "{path}" is not a dir: image')
            for entry in path.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        path.mkdir(parents=True, exist_ok=True)
        (path / "version").write_text(VERSION)

    def describe(self) -> str:
        return f"dir:{self.path}"

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._manifest, self._config = manifest, config

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        return None

    def has_layer(self, index: int) -> bool:
        return False

    def temp_file(self) -> tuple[Path, BinaryIO]:
        fd, name = tempfile.mkstemp(dir=self.path, prefix=".tmp-")
        return Path(name), os.fdopen(fd, "w+b")

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        assert self._manifest is not None
        digest = self._manifest.layers[index].digest
        dest = self.path / _blob_name(digest)
        tmp = dest.with_suffix(".partial")
        with open(blob, "rb") as src, open(tmp, "wb") as out:
            copy_verified(src, out, digest, self._manifest.layers[index].size, progress)
        tmp.replace(dest)

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        assert self._manifest is not None
        (self.path / _blob_name(self._manifest.config.digest)).write_bytes(self._config)
        (self.path / "manifest.json").write_bytes(manifest)
        return digest_of(manifest)

    def abort(self) -> None:
        for tmp in [*self.path.glob(".tmp-*"), *self.path.glob("*.partial")]:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        return None
