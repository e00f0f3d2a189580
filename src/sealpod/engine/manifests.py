"""Manifest lists (``manifest create/add/annotate/remove/rm/exists/inspect/push``), as Podman keeps them.

A local list is an image with no layers whose one manifest is the list itself, so names,
``images``, ``rmi`` and lookups by ID work on it unchanged.  Beside it the store keeps where
each instance came from (a local image, or ``docker://repo@digest``): ``push --all`` copies
every instance from there before it writes the list, as a registry refuses a list whose
instances it does not have.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable, Sequence

from sealpod.engine.entities import RegistryFlags, RemoveReport
from sealpod.errors import Conflict, InvalidArgument, NoSuchImage, RegistryError, SealpodError, UnsupportedManifest
from sealpod.image.manifest_list import Instance, ManifestList
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.image.copy import BlobProgress
    from sealpod.image.reference import Reference
    from sealpod.image.registry.client import RegistryClient
    from sealpod.image.transports.base import ImageSource
    from sealpod.storage.records import ImageRecord

Report = Callable[[str], None]
_LOCAL = "containers-storage:"
_DOCKER = "docker://"


@dataclass(frozen=True)
class AddOptions:
    """``manifest add`` (and ``create`` with images): what to add and the platform overrides."""

    all: bool = False
    os: str = ""
    arch: str = ""
    variant: str = ""
    os_version: str = ""
    features: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    registry: RegistryFlags = field(default_factory=RegistryFlags)


@dataclass(frozen=True)
class AnnotateOptions:
    os: str = ""
    arch: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    index: bool = False  # the annotations go on the list itself


@dataclass(frozen=True)
class ListPushOptions:
    all: bool = True
    format: str | None = None  # "oci", "v2s2"; None: the list's own type
    remove: bool = False
    digest_file: Path | None = None
    registry: RegistryFlags = field(default_factory=RegistryFlags)
    progress: BlobProgress | None = None
    compression: str | None = None  # ``--compression-format``
    sigstore_key: Path | None = None  # ``--sign-by-sigstore-private-key``: refused when used (sigstore_sign)


@dataclass(frozen=True)
class LocalList:
    image: ImageRecord
    list: ManifestList
    sources: dict[str, str]


def parse_annotations(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``--annotation KEY=VALUE`` flags (or an API list of them), for front-ends."""
    from sealpod.image.manifest_list import parse_annotations as parse

    return parse(items)


class ManifestService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # --- lookup ---------------------------------------------------------------------------

    def get(self, name: str) -> LocalList:
        """The local list ``name``; a plain image is refused in Podman's words."""
        from sealpod.image.manifest_list import from_json

        image = self.engine.images.get(name)
        sources = self.store.manifest_list_sources(image.id)
        record = self.store.image_manifest(image.id)
        if sources is None or record is None:
            shown = image.names[0] if image.names else image.id
            raise InvalidArgument(f"{shown}: image is not a manifest list")
        return LocalList(image, from_json(record.body), sources)

    def instance_to_run(self, image_id: str) -> str | None:
        """``run LIST``: as Podman, the list's instance for this host's platform. Its image ID when it
        is in local storage, else a ``repo@digest`` reference to pull; None if ``image_id`` is no list."""
        from sealpod.errors import NoMatchingPlatform
        from sealpod.image.manifest import host_platform

        sources = self.store.manifest_list_sources(image_id)
        if sources is None:
            return None
        plat = host_platform()
        found = [i for i in self.get(image_id).list.instances
                 if i.os == plat.os and i.architecture == plat.architecture
                 and (not plat.variant or not i.variant or i.variant == plat.variant)]
        if not found:
            raise NoMatchingPlatform(f"no image found in manifest list for architecture {plat.architecture}, "
                                     f"variant {plat.variant!r}, OS {plat.os}")
        source = sources.get(found[0].digest, "")
        if source.startswith(_LOCAL):
            return self.engine.images.get(source.removeprefix(_LOCAL)).id
        return source.removeprefix(_DOCKER) or found[0].digest

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except SealpodError:
            return False
        return True

    def _save(self, current: LocalList, lst: ManifestList, sources: dict[str, str]) -> str:
        from sealpod.image.manifest_list import to_json

        body, media_type = to_json(lst)
        keep = {i.digest: sources[i.digest] for i in lst.instances if i.digest in sources}
        self.store.save_manifest_list(current.image.id, body, media_type, keep)
        return current.image.id

    # --- create, add, annotate, remove, rm --------------------------------------------------

    def create(self, name: str, images: Sequence[str] = (), *, amend: bool = False,
               options: AddOptions | None = None) -> str:
        """A new empty list named ``name`` (with ``amend``: the existing one), then ``images`` added."""
        from sealpod.image.manifest_list import to_json

        full = str(self.engine.images._qualify(name))
        owner = self.store.image_by_name(full)
        if owner is not None and not amend:
            raise Conflict(f'creating image to hold manifest list: image name "{full}" is already associated '
                           f'with image "{owner}": that name is already in use')
        if owner is None:
            body, media_type = to_json(ManifestList())
            list_id = os.urandom(32).hex()
            self.store.save_manifest_list(list_id, body, media_type, {}, names=[full])
            self.engine.events.emit("image", "create", id=list_id, name=full)
        else:
            list_id = self.get(owner).image.id
        for image in images:
            self.add(list_id, image, options or AddOptions())
        return list_id

    def add(self, name: str, image: str, options: AddOptions) -> str:
        """Add ``image`` (local, or ``docker://``: only its manifest is read) to the list."""
        current = self.get(name)
        found = self._instances(image, options)
        lst, sources = current.list, dict(current.sources)
        for inst, source in found:
            lst = _with_overrides(lst, inst, options)
            sources[inst.digest] = source
        return self._save(current, lst, sources)

    def annotate(self, name: str, digest: str, options: AnnotateOptions) -> str:
        from sealpod.image import manifest_list as ml

        current = self.get(name)
        if options.index:
            return self._save(current, ml.annotate_list(current.list, options.annotations), current.sources)
        ml.check_digest(digest)
        changes: dict[str, Any] = {
            "os": options.os, "architecture": options.arch, "variant": options.variant,
            "os_version": options.os_version, "os_features": options.os_features, "features": options.features,
            "annotations": options.annotations}
        try:
            lst = ml.annotate(current.list, digest, changes)
        except SealpodError as e:
            raise type(e)(f"{e}: no image instance matching the specified digest was found in the list or index"
                          ) from None
        return self._save(current, lst, current.sources)

    def remove(self, name: str, digest: str) -> str:
        from sealpod.image import manifest_list as ml

        current = self.get(name)
        try:
            ml.check_digest(digest)
            lst = ml.without(current.list, digest)
        except SealpodError as e:
            raise type(e)(f"removing from manifest list {name}: {e}") from None
        return self._save(current, lst, current.sources)

    def delete(self, names: Sequence[str]) -> RemoveReport:
        """``manifest rm``: remove lists (never the images they point at)."""
        report = RemoveReport()
        for name in names:
            try:
                current = self.get(name)
                by_id = current.image.id.startswith(name.removeprefix("sha256:"))
                if not by_id and len(current.image.names) > 1:  # one of several names: only that goes
                    full = self.engine.images._matching_name(current.image, name)
                    self.store.remove_name(full)
                    self.engine.events.emit("image", "untag", id=current.image.id, name=full)
                    report.untagged.append(full)
                    continue
                self.store.delete_image(current.image.id)
            except SealpodError as e:
                report.errors.append(e)
                continue
            for full in current.image.names:
                self.engine.events.emit("image", "untag", id=current.image.id, name=full)
            self.engine.events.emit("image", "remove", id=current.image.id, name=name)
            report.untagged.extend(current.image.names)
            report.deleted.append(current.image.id)
        return report

    # --- finding instances ---------------------------------------------------------------------

    def _instances(self, image: str, options: AddOptions) -> list[tuple[Instance, str]]:
        if image.startswith(_LOCAL):
            return self._local_instances(image.removeprefix(_LOCAL), options)
        if not image.startswith(_DOCKER) and self.engine.images.exists(image):
            return self._local_instances(image, options)
        return self._remote_instances(image, options)

    def _local_instances(self, name: str, options: AddOptions) -> list[tuple[Instance, str]]:
        """A local image's stored manifest and its config's platform (a local list: its instances)."""
        from sealpod.image.manifest import INDEX_TYPES

        image = self.engine.images.get(name)
        sources = self.store.manifest_list_sources(image.id)
        if sources is not None:
            inner = self.get(image.id)
            chosen = _choose(inner.list, options.all)
            return [(i, sources.get(i.digest, _LOCAL + i.digest)) for i in chosen]
        record = self.store.image_manifest(image.id, image.manifest_digest)
        if record is None or record.media_type in INDEX_TYPES:
            raise UnsupportedManifest(f"{name}: image has no stored manifest to add to a list")
        cfg = json.loads(image.config)
        return [(_instance_for(record.media_type, record.digest, len(record.body), cfg), _LOCAL + image.id)]

    def _remote_instances(self, name: str, options: AddOptions) -> list[tuple[Instance, str]]:
        """Read only the manifest (and, for a single image, its config) from the registry."""
        from sealpod.image.manifest import ACCEPT, MAX_CONFIG_SIZE, Index, parse
        from sealpod.image.manifest_list import from_json

        ref = self._remote_ref(name)
        with self._remote_client(ref, options.registry) as (client, src):
            body, media_type, digest = client.get_manifest(src.repository, src.digest or src.tag or "latest", ACCEPT)
            parsed = parse(body, media_type)
            if isinstance(parsed, Index):
                chosen = _choose(from_json(body), options.all)
                return [(i, f"{_DOCKER}{ref.name}@{i.digest}") for i in chosen]
            if parsed.config.size > MAX_CONFIG_SIZE:
                raise UnsupportedManifest(f"config blob {parsed.config.digest} is too large")
            buf = io.BytesIO()
            client.fetch_blob(src.repository, parsed.config.digest, parsed.config.size, buf)
        cfg = json.loads(buf.getvalue())
        inst = _instance_for(parsed.media_type, digest, len(body), cfg if isinstance(cfg, dict) else {})
        return [(inst, f"{_DOCKER}{ref.name}@{digest}")]

    @contextlib.contextmanager
    def _remote_client(self, ref: Reference, flags: RegistryFlags) -> Iterator[tuple[RegistryClient, Reference]]:
        client, src = self._locate(ref, flags)
        with client:
            yield client, src

    def _locate(self, ref: Reference, flags: RegistryFlags) -> tuple[RegistryClient, Reference]:
        """A client for where registries.conf says ``ref`` lives (a mirror that has the manifest, else
        its location, rewritten by a ``prefix``), with the reference as that place names it, as a pull."""
        from sealpod.engine.image_transfer import _client
        from sealpod.image.manifest import ACCEPT
        from sealpod.image.reference import parse_reference

        conf = self.engine.registries
        if conf.is_blocked(ref.name):
            raise RegistryError(f"registry {ref.registry} is blocked in "
                                f"{conf.files[0] if conf.files else 'registries.conf'}")
        sources = conf.pull_sources(str(ref))
        for source in sources[:-1]:  # mirrors: used only when they have the manifest
            src = parse_reference(source.name)
            assert src.registry is not None
            client = _client(self.engine, src.registry, flags, src.repository, source.insecure)
            try:
                if client.head_manifest(src.repository, src.digest or src.tag or "latest", ACCEPT):
                    return client, src
            except SealpodError:
                pass
            client.close()
        src = parse_reference(sources[-1].name)
        assert src.registry is not None
        return _client(self.engine, src.registry, flags, src.repository, sources[-1].insecure), src

    def _remote_ref(self, name: str) -> Reference:
        from sealpod.engine.image_transfer import _docker_ref
        from sealpod.image.shortnames import resolve_short_name

        ref = _docker_ref(name)
        if ref.is_short_name:
            ref = resolve_short_name(ref, self.engine.registries).candidates[0]
        return ref

    # --- inspect and push ------------------------------------------------------------------------

    def inspect(self, name: str, flags: RegistryFlags) -> dict[str, Any]:
        """The local list's document, else what the registry has under ``name`` (list or manifest)."""
        from sealpod.image.manifest import ACCEPT
        from sealpod.image.manifest_list import to_document

        if not name.startswith(_DOCKER):
            try:
                image = self.engine.images.get(name)
            except NoSuchImage:
                pass
            else:  # a local image that is no list: what the registry has under the name, as Podman
                if self.store.manifest_list_sources(image.id) is not None:
                    return to_document(self.get(image.id).list)
        ref = self._remote_ref(name)
        with self._remote_client(ref, flags) as (client, src):
            body, _, _ = client.get_manifest(src.repository, src.digest or src.tag or "latest", ACCEPT)
        doc = json.loads(body)
        if not isinstance(doc, dict):
            raise UnsupportedManifest(f"{name}: manifest is not a JSON object")
        return doc

    def push(self, name: str, destination: str | None, options: ListPushOptions, report: Report) -> str:
        """Push the instances (``all``) and then the list; return the list's digest."""
        from sealpod.engine.manifest_push import push_list

        return push_list(self, self.get(name), name, destination, options, report)

    def _instance_source(self, current: LocalList, inst: Instance, registry: str,
                         flags: RegistryFlags) -> tuple[ImageSource, list[str]]:
        """Where to read one instance from: the local image holding it, else the registry it was added from."""
        from sealpod.image.reference import parse_reference
        from sealpod.image.transports.docker import DockerSource

        for image_id in self.store.images_by_digest(inst.digest):
            if image_id != current.image.id and self.store.manifest_list_sources(image_id) is None:
                names = self.store.get_image(image_id).names
                repos = [parse_reference(n).repository for n in names if parse_reference(n).registry == registry]
                return _PinnedSource(self.store, image_id, inst.digest), repos
        source = current.sources.get(inst.digest, "")
        if not source.startswith(_DOCKER):
            raise NoSuchImage(f"{inst.digest}: image of the manifest list not known locally: add it again or "
                              "push without --all")
        ref = parse_reference(source.removeprefix(_DOCKER))
        client, src = self._locate(ref, flags)
        mount = [src.repository] if src.registry == registry else []
        return DockerSource(client, src, ref), mount


class _PinnedSource:
    """A local image read as one particular manifest of it (a pulled image also keeps its index)."""

    def __init__(self, store: Any, image_id: str, digest: str) -> None:
        from sealpod.image.transports.containers_storage import StorageSource

        self.inner = StorageSource(store, image_id)
        self.digest = digest

    def describe(self) -> str:
        return self.inner.describe()

    def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
        return self.inner.get_manifest(digest or self.digest)

    def get_blob(self, desc: Any, out: Any, progress: Any = None) -> None:
        self.inner.get_blob(desc, out, progress)

    def local_blob_path(self, desc: Any) -> Path | None:
        return self.inner.local_blob_path(desc)

    def close(self) -> None:
        self.inner.close()


def _instance_for(media_type: str, digest: str, size: int, cfg: dict[str, Any]) -> Instance:
    return Instance(media_type=media_type, digest=digest, size=size, os=str(cfg.get("os", "")),
                    architecture=str(cfg.get("architecture", "")), variant=str(cfg.get("variant", "") or ""),
                    os_version=str(cfg.get("os.version", "") or ""))


def _choose(lst: ManifestList, everything: bool) -> list[Instance]:
    """All instances of a list, or the host platform's, as ``manifest add`` without ``--all``."""
    from sealpod.image.manifest import Index, choose_platform, host_platform, parse
    from sealpod.image.manifest_list import find, to_json

    if everything:
        return list(lst.instances)
    parsed = parse(*to_json(lst))
    assert isinstance(parsed, Index)
    return [find(lst, choose_platform(parsed, host_platform()).digest)]


def _with_overrides(lst: ManifestList, inst: Instance, options: AddOptions) -> ManifestList:
    from sealpod.image.manifest_list import with_instance
    from sealpod.utils.record import replace

    changes: dict[str, Any] = {"os": options.os, "architecture": options.arch, "variant": options.variant,
                               "os_version": options.os_version, "features": options.features}
    fields = {k: v for k, v in changes.items() if v}
    if options.annotations:
        fields["annotations"] = tuple({**dict(inst.annotations), **dict(options.annotations)}.items())
    return with_instance(lst, replace(inst, **fields))
