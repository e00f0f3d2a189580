"""The docker-archive: transport: ``docker save`` tarballs (``manifest.json``, a config per
image, one uncompressed tar per layer), read and written through an unpacked directory.

Docker's format carries no manifest; reading one synthesizes a Docker schema 2 manifest
whose layer digests are those of the layer files, so the image can be stored and pushed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import DigestMismatch, InvalidArgument
from sealpod.image.manifest import DOCKER_CONFIG, DOCKER_MANIFEST, Descriptor, Manifest
from sealpod.image.transports.base import Progress
from sealpod.image.transports.oci_layout import copy_verified

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

_GZIP_MAGIC = b"\x1f\x8b"
_LAYER_TYPES = {True: "application/vnd.docker.image.rootfs.diff.tar.gzip",
                False: "application/vnd.docker.image.rootfs.diff.tar"}


def read_manifest(root: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError as e:
        raise InvalidArgument("not a docker archive: no manifest.json") from e
    except ValueError as e:
        raise InvalidArgument(f"docker archive manifest.json: {e}") from e
    if not isinstance(doc, list) or not all(isinstance(d, dict) for d in doc):
        raise InvalidArgument("docker archive manifest.json is not a list of images")
    return doc


def _inside(root: Path, name: str) -> Path:
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InvalidArgument(f"docker archive entry {name!r} points outside the archive")
    return path


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}", path.stat().st_size


class DockerArchiveSource:
    """One image of an unpacked docker archive (an entry of its manifest.json)."""

    def __init__(self, root: Path, entry: dict[str, Any]) -> None:
        self.root = root
        self.entry = entry
        self.config_path = _inside(root, str(entry.get("Config", "")))
        self.layer_paths = [_inside(root, str(p)) for p in entry.get("Layers") or []]
        self._files: dict[str, Path] = {}
        self._manifest = self._synthesize()

    @property
    def repo_tags(self) -> list[str]:
        return [str(t) for t in self.entry.get("RepoTags") or []]

    def _synthesize(self) -> bytes:
        config_digest, config_size = _file_digest(self.config_path)
        self._files[config_digest] = self.config_path
        layers = []
        for path in self.layer_paths:
            digest, size = _file_digest(path)
            with open(path, "rb") as f:
                gz = f.read(2) == _GZIP_MAGIC
            self._files[digest] = path
            layers.append({"mediaType": _LAYER_TYPES[gz], "size": size, "digest": digest})
        doc = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
               "config": {"mediaType": DOCKER_CONFIG, "size": config_size, "digest": config_digest},
               "layers": layers}
        return json.dumps(doc, separators=(",", ":")).encode()

    def describe(self) -> str:
        return f"docker-archive:{self.root}"

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        return self._manifest, DOCKER_MANIFEST

    def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
        path = self._files.get(desc.digest)
        if path is None:
            raise DigestMismatch(f"blob {desc.digest} is not in the archive")
        with open(path, "rb") as f:
            copy_verified(f, out, desc.digest, desc.size, progress)

    def local_blob_path(self, desc: Descriptor) -> Path | None:
        return None

    def close(self) -> None:
        return None


class DockerArchiveDestination:
    """Collects images into a directory laid out as ``docker save`` does; ``finish`` writes
    manifest.json.  Layers are stored uncompressed, named by their diff ID."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: list[dict[str, Any]] = []
        self._tags: list[str] = []
        self._manifest: Manifest | None = None
        self._config = b""
        self._diff_ids: tuple[str, ...] = ()
        root.mkdir(parents=True, exist_ok=True)

    def describe(self) -> str:
        return f"docker-archive:{self.root}"

    def next_image(self, repo_tags: Sequence[str]) -> None:
        self._tags = list(repo_tags)

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self._manifest, self._config, self._diff_ids = manifest, config, tuple(diff_ids)

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                    index: tuple[bytes, str] | None) -> str | None:
        return None

    def _layer_name(self, index: int) -> str:
        return f"{self._diff_ids[index].partition(':')[2]}.tar"

    def has_layer(self, index: int) -> bool:
        return (self.root / self._layer_name(index)).is_file()

    def temp_file(self) -> tuple[Path, BinaryIO]:
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        return Path(name), os.fdopen(fd, "w+b")

    def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
        from sealpod.utils.compression import decompressed_chunks

        dest = self.root / self._layer_name(index)
        tmp = dest.with_suffix(".partial")
        h = hashlib.sha256()
        with open(blob, "rb") as src, open(tmp, "wb") as out:
            for chunk in decompressed_chunks(src):
                h.update(chunk)
                out.write(chunk)
        if f"sha256:{h.hexdigest()}" != self._diff_ids[index]:
            tmp.unlink(missing_ok=True)
            raise DigestMismatch(f"layer {index} does not match its diff ID {self._diff_ids[index]}")
        tmp.replace(dest)

    def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
        assert self._manifest is not None
        config_name = f"{self._manifest.config.digest.partition(':')[2]}.json"
        (self.root / config_name).write_bytes(self._config)
        self.entries.append({"Config": config_name, "RepoTags": self._tags,
                             "Layers": [self._layer_name(i) for i in range(len(self._diff_ids))]})
        return self._manifest.config.digest

    def finish(self) -> None:
        (self.root / "manifest.json").write_text(json.dumps(self.entries))

    def abort(self) -> None:
        for tmp in [*self.root.glob(".tmp-*"), *self.root.glob("*.partial")]:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        return None


def pack(directory: Path, out: BinaryIO) -> None:
    """Tar a directory's contents (archives carry no leading ``./`` directory entry)."""
    import tarfile

    with tarfile.open(fileobj=out, mode="w|") as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(directory / name, arcname=name)


def unpack(archive: BinaryIO, directory: Path) -> None:
    """Untar an image archive; the ``data`` filter refuses links and paths leaving ``directory``."""
    import tarfile

    from sealpod.utils.tarsafe import extract_all

    try:
        with tarfile.open(fileobj=archive, mode="r|*") as tar:
            extract_all(tar, directory, policy="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise InvalidArgument(f"reading the image archive: {e}") from e


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
