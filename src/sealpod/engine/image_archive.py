"""``save`` and ``load``: images to and from docker-archive and OCI layout tarballs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

    from sealpod.engine import Engine
    from sealpod.image.transports.base import ImageDestination
    from sealpod.storage.records import ImageRecord

Report = Callable[[str], None]
FORMATS = ("docker-archive", "oci-archive", "oci-dir", "docker-dir")


def _scratch(engine: Engine) -> Path:
    """Archives can be large: unpack on the graph root's filesystem, not in /tmp."""
    base = engine.store.graph_root / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base, prefix="archive-"))


def _tags_for(typed: str, image: ImageRecord) -> list[str]:
    """The names an image is saved under: the one typed, or all of them when given by ID."""
    wanted = [n for n in image.names if "@" not in n]
    for name in wanted:
        if name == typed or name.endswith("/" + typed) or name.endswith("/" + typed + ":latest"):
            return [name]
    return [] if image.id.startswith(typed.removeprefix("sha256:")) else wanted


def save(engine: Engine, names: Sequence[str], out: BinaryIO | None, directory: Path | None, fmt: str,
         report: Report, *, uncompressed: bool = False, compress: bool = False) -> None:
    """docker-archive layers are always plain tar; ``uncompressed``: OCI formats' too (else as stored);
    docker-dir is a ``dir:`` image whose layers are plain tar unless ``compress`` (then as stored)."""
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.transports.containers_storage import StorageSource
    from sealpod.image.transports.docker_archive import DockerArchiveDestination, pack
    from sealpod.image.transports.oci_layout import OciLayoutDestination
    from sealpod.image.transports.uncompressed import Uncompressing

    if fmt not in FORMATS:
        raise InvalidArgument(f'unsupported format "{fmt}": use one of {", ".join(FORMATS)}')
    images = [(typed, engine.images.get(typed)) for typed in names]
    if (fmt.startswith("oci") or fmt == "docker-dir") and len(images) > 1:
        raise InvalidArgument(f"{fmt} can hold one image: use --format docker-archive for several")
    work = directory if directory is not None else _scratch(engine)
    try:
        if fmt == "docker-dir":
            from sealpod.image.transports.dir import DirDestination

            typed, image = images[0]
            dest_dir: ImageDestination = DirDestination(work)
            dest_dir = dest_dir if compress else Uncompressing(dest_dir, docker=True)
            copy_image(StorageSource(engine.store, image.id), dest_dir, CopyOptions(), report)
        elif fmt.startswith("docker"):
            dest = DockerArchiveDestination(work)
            for typed, image in images:
                dest.next_image(_tags_for(typed, image))
                copy_image(StorageSource(engine.store, image.id), dest, CopyOptions(), report)
            dest.finish()
        else:
            typed, image = images[0]
            tags = _tags_for(typed, image)
            oci: ImageDestination = OciLayoutDestination(work, tags[0] if tags else None)
            oci = Uncompressing(oci) if uncompressed else oci
            copy_image(StorageSource(engine.store, image.id), oci, CopyOptions(), report)
        if directory is None:
            assert out is not None
            pack(work, out)
    finally:
        if directory is None:
            shutil.rmtree(work, ignore_errors=True)


def _normalized(name: str) -> str:
    """Docker archives carry familiar names (``busybox:latest``): they mean docker.io."""
    from sealpod.image.reference import parse_reference

    ref = parse_reference(name)
    if ref.is_short_name:
        ref = ref.with_registry("docker.io")
    return str(ref.tagged_or_latest())


def load(engine: Engine, src: BinaryIO, report: Report, signature_policy: Path | None = None) -> list[str]:
    """Store every image of an archive that policy.json accepts; returns what ``load`` prints: names,
    or IDs of unnamed ones."""
    from sealpod.engine.trust import load as load_policy
    from sealpod.engine.trust import local_policy
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.transports.containers_storage import StorageDestination
    from sealpod.image.transports.docker_archive import DockerArchiveSource, read_manifest, unpack
    from sealpod.image.transports.oci_layout import REF_ANNOTATION, OciLayoutSource, read_index

    policy = load_policy(engine, signature_policy)
    where = str(getattr(src, "name", "") or "")
    where = where if where and not where.startswith("<") else "/dev/stdin"
    work = _scratch(engine)
    loaded: list[str] = []
    try:
        try:
            unpack(src, work)
        except InvalidArgument as e:  # Podman's words, which scripts look for (one line here)
            raise InvalidArgument(f"payload does not match any of the supported image formats: "
                                  f"(oci-archive, docker-archive): {e.message}") from e
        if (work / "manifest.json").exists():
            for entry in read_manifest(work):
                source = DockerArchiveSource(work, entry)
                names = [_normalized(t) for t in source.repo_tags]
                check = local_policy(policy, "docker-archive", f"{where}:{names[0]}" if names else where)
                image_id = copy_image(source, StorageDestination(engine.store, names), CopyOptions(policy=check),
                                      report)
                loaded.extend(names or [f"sha256:{image_id}"])
        elif (work / "index.json").exists():
            for desc in read_index(work)["manifests"]:
                ref = (desc.get("annotations") or {}).get(REF_ANNOTATION)
                names = [_normalized(ref)] if ref and ("/" in ref or ":" in ref) else []
                check = local_policy(policy, "oci-archive", f"{where}:{ref}" if ref else where)
                image_id = copy_image(OciLayoutSource(work, descriptor=desc), StorageDestination(engine.store, names),
                                      CopyOptions(policy=check), report)
                loaded.extend(names or [f"sha256:{image_id}"])
        else:
            raise InvalidArgument("payload does not match any of the supported image formats: "
                                  "(oci-archive, docker-archive): neither manifest.json nor index.json found")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return loaded
