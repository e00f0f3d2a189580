"""``manifest push`` (and ``push`` of a list): the instances, then the list, to a registry, dir: or oci:.

Each instance is copied as an image of its own; the list is written last, so a registry never
holds a list whose instances it lacks.  When an instance changes on the way (``--compression-format``
rewrites its layers, oci: makes a Docker manifest an OCI one) the list written names the new
manifest, as containers/image does.  dir: keeps Podman's layout for lists: ``manifest.json`` is
the list and each instance manifest is ``<hex>.manifest.json`` beside the shared blobs.
"""

from __future__ import annotations

import json

from sealpod.errors import InvalidArgument
from sealpod.utils.record import replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.manifests import ListPushOptions, LocalList, ManifestService
    from sealpod.image.manifest import Manifest
    from sealpod.image.manifest_list import Instance
    from sealpod.image.reference import Reference
    from sealpod.image.transports.base import ImageDestination

    Report = Callable[[str], None]


class _Capture:
    """A destination that remembers the manifest it was given (``commit``), or found (``reuse_image``)."""

    def __init__(self, inner: ImageDestination, pin: Callable[[bytes], None] | None = None) -> None:
        self.inner = inner
        self.pin = pin  # told the manifest just before it is written (a registry puts it by digest)
        self.body = b""
        self.media_type = ""

    def describe(self) -> str:
        return self.inner.describe()

    def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
        self.inner.begin(manifest, config, diff_ids)

    def reuse_image(self, manifest: Manifest, body: bytes, media_type: str, index: Any) -> str | None:
        found = self.inner.reuse_image(manifest, body, media_type, index)
        if found is not None:
            self.body, self.media_type = body, media_type
        return found

    def has_layer(self, index: int) -> bool:
        return self.inner.has_layer(index)

    def temp_file(self) -> Any:
        return self.inner.temp_file()

    def put_layer(self, index: int, blob: Path, progress: Any = None) -> None:
        self.inner.put_layer(index, blob, progress)

    def commit(self, manifest: bytes, media_type: str, index: Any) -> str:
        self.body, self.media_type = manifest, media_type
        if self.pin is not None:
            self.pin(manifest)
        return self.inner.commit(manifest, media_type, None)

    def abort(self) -> None:
        self.inner.abort()

    def close(self) -> None:
        self.inner.close()


class _Registry:
    def __init__(self, service: ManifestService, dest: Reference, options: ListPushOptions) -> None:
        assert dest.registry is not None
        self.service, self.dest, self.options = service, dest, options
        self.registry = dest.registry

    def instance(self, inst: Instance, mount_from: list[str]) -> _Capture:
        from sealpod.engine.image_transfer import _client
        from sealpod.image.manifest import digest_of
        from sealpod.image.reference import parse_reference
        from sealpod.image.transports.docker import DockerDestination

        client = _client(self.service.engine, self.registry, self.options.registry, self.dest.repository)
        out = DockerDestination(client, parse_reference(f"{self.dest.name}@{inst.digest}"), mount_from)

        def pin(body: bytes) -> None:
            out.ref = parse_reference(f"{self.dest.name}@{digest_of(body)}")
        return _Capture(out, pin)

    def written(self, digest: str, capture: _Capture) -> tuple[bytes, str]:
        return capture.body, capture.media_type

    def write_list(self, body: bytes, media_type: str) -> None:
        from sealpod.engine.image_transfer import _client

        with _client(self.service.engine, self.registry, self.options.registry, self.dest.repository) as client:
            client.put_manifest(self.dest.repository, self.dest.tag or "latest", body, media_type)

    def close(self) -> None:
        return None


class _Dir:
    registry = ""

    def __init__(self, path: Path) -> None:
        from sealpod.image.transports.dir import DirDestination

        self.path = path
        self.out = DirDestination(path)  # one for all: it empties the directory when made

    def instance(self, inst: Instance, mount_from: list[str]) -> _Capture:
        return _Capture(self.out)

    def written(self, digest: str, capture: _Capture) -> tuple[bytes, str]:
        (self.path / f"{digest.partition(':')[2]}.manifest.json").write_bytes(capture.body)
        return capture.body, capture.media_type

    def write_list(self, body: bytes, media_type: str) -> None:
        (self.path / "manifest.json").write_bytes(body)

    def close(self) -> None:
        return None


class _Oci:
    registry = ""

    def __init__(self, layout: Path, ref: str | None) -> None:
        from sealpod.image.transports.oci_layout import OciLayoutDestination, read_index

        self.layout, self.ref = layout, ref
        self.out = OciLayoutDestination(layout, None)
        self.before = read_index(layout).get("manifests", [])  # the instances' own entries will go again

    def instance(self, inst: Instance, mount_from: list[str]) -> _Capture:
        return _Capture(self.out)

    def written(self, digest: str, capture: _Capture) -> tuple[bytes, str]:
        from sealpod.image.transports.oci_layout import blob_path

        body = blob_path(self.layout, digest).read_bytes()  # as stored: commit made it an OCI manifest
        return body, str(json.loads(body).get("mediaType", "")) or capture.media_type

    def write_list(self, body: bytes, media_type: str) -> None:
        from sealpod.image.manifest import digest_of
        from sealpod.image.transports.oci_layout import REF_ANNOTATION, blob_path, read_index

        digest = digest_of(body)
        path = blob_path(self.layout, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(body)}
        kept = self.before
        if self.ref:
            entry["annotations"] = {REF_ANNOTATION: self.ref}
            kept = [m for m in kept if (m.get("annotations") or {}).get(REF_ANNOTATION) != self.ref]
        doc = read_index(self.layout)
        doc["manifests"] = [*kept, entry]
        (self.layout / "index.json").write_text(json.dumps(doc))

    def close(self) -> None:
        return None


def _target(service: ManifestService, current: LocalList, name: str, destination: str | None,
            options: ListPushOptions) -> tuple[_Registry | _Dir | _Oci, str, str | None]:
    """Where the list goes, how the push event names it, and the list format that place needs."""
    from pathlib import Path

    from sealpod.engine.image_transfer import _push_target
    from sealpod.engine.image_transports import _path_and_ref
    from sealpod.image.reference import split_transport

    transport, rest = split_transport(destination) if destination else (None, "")
    if transport in (None, "docker"):
        dest = _push_target(current.image, name, destination)
        return _Registry(service, dest, options), str(dest), options.format
    assert destination is not None
    path, ref = _path_and_ref(rest, transport)
    if transport == "dir":
        return _Dir(Path(rest)), destination, options.format
    if transport == "oci":
        return _Oci(path, ref), destination, "oci"
    raise InvalidArgument(f'transport "{transport}" cannot hold a manifest list: use docker://, dir: or oci:')


def push_list(service: ManifestService, current: LocalList, name: str, destination: str | None,
              options: ListPushOptions, report: Report) -> str:
    """Push the instances (``all``) and then the list; return the list's digest."""
    from sealpod.image.copy import CopyOptions, copy_image
    from sealpod.image.manifest import digest_of
    from sealpod.image.manifest_list import to_json
    from sealpod.image.recompress import check_format

    check_format(options.compression)
    if options.sigstore_key is not None:  # before anything is written
        from sealpod.engine.sigstore_sign import refuse_sigstore
        from sealpod.image.reference import split_transport

        refuse_sigstore(options.sigstore_key, split_transport(destination)[0] if destination else None, destination)
    target, shown, fmt = _target(service, current, name, destination, options)
    lst = current.list
    if options.all:
        for inst in current.list.instances:
            src, mount_from = service._instance_source(current, inst, target.registry, options.registry)
            capture = target.instance(inst, mount_from)
            try:
                pushed = copy_image(src, capture, CopyOptions(progress=options.progress,
                                                              compression=options.compression), report)
            finally:
                capture.close()
                src.close()
            body, media_type = target.written(pushed, capture)
            if pushed != inst.digest:
                lst = _renamed(lst, inst, pushed, len(body), media_type)
    body, media_type = to_json(lst, fmt)
    report("Writing manifest list to image destination")
    target.write_list(body, media_type)
    report("Storing list signatures")
    digest = digest_of(body)
    if options.digest_file is not None:
        options.digest_file.write_text(digest)
    engine: Engine = service.engine
    engine.events.emit("image", "push", id=current.image.id, name=shown)
    if options.remove:
        service.delete([current.image.id])
    return digest


def _renamed(lst: Any, inst: Instance, digest: str, size: int, media_type: str) -> Any:
    """The list with ``inst`` now naming the manifest it was pushed as."""
    new = replace(inst, digest=digest, size=size, media_type=media_type or inst.media_type)
    return replace(lst, instances=tuple(new if i.digest == inst.digest else i for i in lst.instances))

