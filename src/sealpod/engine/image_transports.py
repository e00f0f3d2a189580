"""Pull from and push to the non-registry transports: oci:, oci-archive:, docker-archive:, dir:,
docker-daemon: and containers-storage:.

Names follow Podman 4.3: an oci: image is named after its directory, an archive's image after
the name it carries (a bare name means ``localhost/``, as Podman's toLocalImageName), a dir:
image stays unnamed, a docker-daemon: image takes the reference asked for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sealpod.errors import ImageTransportError, InvalidArgument, InvalidReference

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.image.copy import BlobProgress
    from sealpod.image.manifest import Platform
    from sealpod.image.transports.base import ImageDestination, ImageSource
    from sealpod.storage.records import ImageRecord

Report = Callable[[str], None]


@contextmanager
def _scratch(engine: Engine) -> Iterator[Path]:
    """Archives can be large: unpack on the graph root's filesystem, not in /tmp."""
    base = engine.store.graph_root / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=base, prefix="transport-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _path_and_ref(rest: str, transport: str) -> tuple[Path, str | None]:
    """``PATH[:REF]`` split at the first colon, as containers/image does on Linux."""
    path, sep, ref = rest.partition(":")
    if not path:
        raise InvalidArgument(f"invalid reference {transport}:{rest}: a path is needed")
    return Path(path), (ref if sep and ref else None)


def _local_name(name: str | None, *, short_registry: str = "localhost") -> str | None:
    """A stored name for ``name``; None when it is no valid reference (the image stays unnamed)."""
    from sealpod.image.reference import parse_reference

    if not name:
        return None
    try:
        ref = parse_reference(name.lstrip("/"))
    except InvalidReference:
        return None
    if ref.is_short_name:
        ref = ref.with_registry(short_registry)
    return str(ref.tagged_or_latest())


def _open_archive(file: Path, work: Path) -> None:
    from sealpod.image.transports.docker_archive import unpack

    try:
        f = open(file, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise ImageTransportError(f'opening file "{file}": {e.strerror.lower() if e.strerror else e}') from e
    with f:
        unpack(f, work)


def _docker_archive_source(work: Path, spec: str | None) -> tuple[ImageSource, list[str]]:
    """The image of an unpacked docker archive that ``spec`` (``NAME[:TAG]``, ``@N``, None) selects."""
    from sealpod.image.transports.docker_archive import DockerArchiveSource, read_manifest

    entries = read_manifest(work)
    wanted = _local_name(spec, short_registry="docker.io") if spec and not spec.startswith("@") else None
    if spec and spec.startswith("@"):
        if not spec[1:].isdigit() or int(spec[1:]) >= len(entries):
            raise ImageTransportError(f"Invalid source index {spec}, only {len(entries)} manifest items available")
        entry = entries[int(spec[1:])]
    elif spec:
        found = [e for e in entries if wanted in [_local_name(t, short_registry="docker.io")
                                                  for t in e.get("RepoTags") or []]]
        if not found:
            raise ImageTransportError(f'Tag "{spec}" not found')  # containers/image's words
        entry = found[0]
    elif len(entries) != 1:
        raise ImageTransportError(f"Unexpected tar manifest.json: expected 1 item, got {len(entries)}")
    else:
        entry = entries[0]
    source = DockerArchiveSource(work, entry)
    names = [wanted] if wanted else [
        n for n in (_local_name(t, short_registry="docker.io") for t in source.repo_tags) if n]
    return source, names


def _oci_source(layout: Path, ref: str | None, name_from_ref: bool) -> tuple[ImageSource, list[str]]:
    from sealpod.image.transports.oci_layout import REF_ANNOTATION, OciLayoutSource

    src = OciLayoutSource(layout, ref)
    if not name_from_ref:  # named after the path as given, as Podman does (``oci:dir/x`` → localhost/dir/x)
        given = os.path.normpath(layout)
        name = _local_name(str(layout.resolve()) if given.startswith("..") else given)
    else:
        annotations: dict[str, Any] = src.top.get("annotations") or {}
        name = _local_name(annotations.get(REF_ANNOTATION))
    return src, [name] if name else []


def _source(engine: Engine, transport: str, rest: str, work: Path) -> tuple[ImageSource, list[str]]:
    """The source for ``transport:rest`` and the names the stored image gets."""
    if transport == "oci":
        layout, ref = _path_and_ref(rest, transport)
        if not layout.is_dir():
            raise ImageTransportError(f"initializing source oci:{rest}: open {layout}/index.json: "
                                      "no such file or directory")
        return _oci_source(layout, ref, name_from_ref=False)
    if transport == "oci-archive":
        file, ref = _path_and_ref(rest, transport)
        _open_archive(file, work)
        return _oci_source(work, ref, name_from_ref=True)
    if transport == "docker-archive":
        file, spec = _path_and_ref(rest, transport)
        _open_archive(file, work)
        return _docker_archive_source(work, spec)
    if transport == "dir":
        from sealpod.image.transports.dir import DirSource

        return DirSource(Path(rest)), []
    if transport == "docker-daemon":
        from sealpod.image.transports.docker_daemon import export_image

        name = _local_name(rest, short_registry="docker.io")
        if name is None:
            raise InvalidReference(f"invalid reference docker-daemon:{rest}")
        with open(work / "image.tar", "wb") as f:
            export_image(engine.env, rest, f)
        _open_archive(work / "image.tar", work / "unpacked")
        source, _ = _docker_archive_source(work / "unpacked", None)
        return source, [name]
    raise InvalidArgument(f'transport "{transport}" cannot be read from')


def _storage_name(rest: str) -> str:
    """``[driver@graphroot+runroot]ref`` → ``ref``: the store is always our own."""
    if rest.startswith("["):
        _, sep, rest = rest.partition("]")
        if not sep:
            raise InvalidReference(f"invalid reference containers-storage:{rest}")
    if not rest:
        raise InvalidReference("containers-storage: needs an image name")
    return rest


def pull_local(engine: Engine, transport: str, rest: str, platform: Platform | None,
               progress: BlobProgress | None, report: Report,
               policy: Callable[[bytes], None] | None = None, *, pull_event: bool = True) -> str:
    """Store the image ``transport:rest`` names (if ``policy`` lets it in); return its ID
    (``load`` of a directory records its own event, not a pull)."""
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.transports.containers_storage import StorageDestination

    if transport == "containers-storage":  # already here: nothing to copy
        return engine.images.get(_storage_name(rest)).id
    with _scratch(engine) as work:
        try:
            src, names = _source(engine, transport, rest, work)
        except OSError as e:
            raise ImageTransportError(f"initializing source {transport}:{rest}: {e}") from e
        try:
            image_id = copy_image(src, StorageDestination(engine.store, names),
                                  CopyOptions(platform=platform, progress=progress, policy=policy), report)
        except OSError as e:
            raise ImageTransportError(f"reading {transport}:{rest}: {e}") from e
        finally:
            src.close()
    if pull_event:
        engine.events.emit("image", "pull", name=f"{transport}:{rest}")  # no ID, as Podman 4.3 writes it
    return image_id


def _destination(engine: Engine, image: ImageRecord, typed: str, transport: str, rest: str,
                 work: Path) -> tuple[ImageDestination, Callable[[], None]]:
    """The destination for ``transport:rest`` and what finishes it once the copy is done."""
    if transport == "oci":
        from sealpod.image.transports.oci_layout import OciLayoutDestination

        layout, ref = _path_and_ref(rest, transport)
        return OciLayoutDestination(layout, ref), lambda: None
    if transport == "dir":
        from sealpod.image.transports.dir import DirDestination

        return DirDestination(Path(rest)), lambda: None
    if transport == "containers-storage":
        from sealpod.image.transports.containers_storage import StorageDestination

        name = _local_name(_storage_name(rest))
        if name is None:
            raise InvalidReference(f"invalid reference containers-storage:{rest}")
        return StorageDestination(engine.store, [name]), lambda: None
    return _archive_destination(engine, image, typed, transport, rest, work)


def _archive_destination(engine: Engine, image: ImageRecord, typed: str, transport: str, rest: str,
                         work: Path) -> tuple[ImageDestination, Callable[[], None]]:
    from sealpod.image.transports.docker_archive import DockerArchiveDestination
    from sealpod.image.transports.oci_layout import OciLayoutDestination

    if transport in ("oci-archive", "docker-archive") and _path_and_ref(rest, transport)[0].is_dir():
        raise ImageTransportError(f"{_path_and_ref(rest, transport)[0]} is a directory: an archive is a file")

    if transport == "oci-archive":
        file, ref = _path_and_ref(rest, transport)
        oci = OciLayoutDestination(work, ref)
        return oci, lambda: _pack_to(work, file)
    if transport == "docker-archive":
        file, ref = _path_and_ref(rest, transport)
        tags = [_local_name(ref, short_registry="docker.io") or ref] if ref else _typed_names(typed, image)
        dest = DockerArchiveDestination(work / "archive")
        dest.next_image(tags)

        def finish_archive() -> None:
            dest.finish()
            _pack_to(work / "archive", file)
        return dest, finish_archive
    if transport == "docker-daemon":
        from sealpod.image.transports.docker_daemon import import_archive

        name = _local_name(rest, short_registry="docker.io")
        if name is None:
            raise InvalidReference(f"invalid reference docker-daemon:{rest}")
        dest = DockerArchiveDestination(work / "archive")
        dest.next_image([name])

        def finish() -> None:
            dest.finish()
            _pack_to(work / "archive", work / "image.tar")
            import_archive(engine.env, work / "image.tar")
        return dest, finish
    raise InvalidArgument(f'transport "{transport}" cannot be written to')


def _typed_names(typed: str, image: ImageRecord) -> list[str]:
    """The stored name ``typed`` stands for (none when the image was given by ID)."""
    for name in image.names:
        if "@" not in name and any(name == t or name.endswith("/" + t) for t in (typed, typed + ":latest")):
            return [name]
    return []


def _pack_to(directory: Path, file: Path) -> None:
    """Write the archive beside ``file`` and rename it: a failed push leaves no half archive."""
    from sealpod.image.transports.docker_archive import pack

    if file.is_dir():
        raise ImageTransportError(f"{file} is a directory")
    tmp = file.with_name(f".{file.name}.partial")
    try:
        with open(tmp, "wb") as out:
            pack(directory, out)
        tmp.replace(file)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ImageTransportError(f'writing "{file}": {e.strerror or e}') from e


def push_local(engine: Engine, image: ImageRecord, typed: str, destination: str,
               progress: BlobProgress | None, report: Report, compression: str | None = None,
               plain_only: bool = False) -> str:
    """Copy a stored image to ``destination`` (``transport:rest``); return the manifest digest
    (``compression``: layers rewritten in that compression, as ``push --compression-format``;
    ``plain_only``: only uncompressed layers are, as ``push --compress`` to dir:)."""
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.manifest import digest_of
    from sealpod.image.reference import split_transport
    from sealpod.image.transports.containers_storage import StorageSource

    transport, rest = split_transport(destination)
    assert transport is not None
    src = StorageSource(engine.store, image.id)
    with _scratch(engine) as work:
        dest, finish = _destination(engine, image, typed, transport, rest, work)
        try:
            result = copy_image(src, dest, CopyOptions(progress=progress, compression=compression,
                                                       plain_only=plain_only), report)
            finish()
        except OSError as e:
            raise ImageTransportError(f"writing to {destination}: {e.strerror or e}") from e
        finally:
            dest.close()
    # oci: may have rewritten the manifest (its digest is what commit gave); the rest keep the source's
    if compression or transport in ("oci", "oci-archive", "dir"):
        return result
    return digest_of(src.get_manifest()[0])
