"""Manifest lists built locally (``manifest create/add/annotate/remove``): a pure model and its JSON.

A list is kept in one neutral form and written out as a Docker manifest list or an OCI image
index only when it is shown or pushed, so ``push --format`` can choose either.  Like Podman, a
new list is a Docker manifest list until told otherwise; annotations are kept in both forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from sealpod.errors import InvalidArgument, NotFound, UnsupportedManifest
from sealpod.image.manifest import DOCKER_LIST, INDEX_TYPES, OCI_INDEX
from sealpod.utils.record import dataclass, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

FORMATS = {"oci": OCI_INDEX, "v2s2": DOCKER_LIST}
_DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Instance:
    """One entry of a list: an image manifest and the platform it is for."""

    media_type: str
    digest: str
    size: int
    os: str = ""
    architecture: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    annotations: Pairs = ()


@dataclass(frozen=True)
class ManifestList:
    media_type: str = DOCKER_LIST
    instances: tuple[Instance, ...] = ()
    annotations: Pairs = ()


def check_digest(text: str) -> str:
    """A digest typed by the user, worded as Podman words a bad one."""
    if not _DIGEST_RE.match(text):
        reason = "invalid checksum digest length" if text.startswith("sha256:") else "invalid checksum digest format"
        raise InvalidArgument(f'invalid image digest "{text}": {reason}')
    return text


def parse_annotations(items: Iterable[str]) -> Pairs:
    """``--annotation key=value`` flags; a later key wins."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"no value given for annotation {item!r}: use KEY=VALUE")
        out[key] = value
    return tuple(out.items())


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _pairs(value: Any) -> Pairs:
    return tuple((str(k), str(v)) for k, v in value.items()) if isinstance(value, dict) else ()


def _instance(d: Any) -> Instance:
    if not isinstance(d, dict) or not isinstance(d.get("size"), int) or not isinstance(d.get("digest"), str):
        raise UnsupportedManifest("invalid manifest descriptor in manifest list")
    found = d.get("platform")
    plat: dict[str, Any] = found if isinstance(found, dict) else {}
    return Instance(
        media_type=str(d.get("mediaType", "")), digest=d["digest"], size=d["size"],
        os=str(plat.get("os", "")), architecture=str(plat.get("architecture", "")),
        variant=str(plat.get("variant", "")), os_version=str(plat.get("os.version", "")),
        os_features=_strings(plat.get("os.features")), features=_strings(plat.get("features")),
        annotations=_pairs(d.get("annotations")),
    )


def from_json(body: bytes) -> ManifestList:
    """Read a list or index back (from storage or a registry)."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise UnsupportedManifest(f"manifest list is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise UnsupportedManifest("manifest list is not a JSON object")
    media_type = str(doc.get("mediaType") or OCI_INDEX)
    if media_type not in INDEX_TYPES:
        raise UnsupportedManifest(f"{media_type!r} is not a manifest list type")
    items = doc.get("manifests") or []
    if not isinstance(items, list):
        raise UnsupportedManifest("manifest list has no manifests list")
    return ManifestList(media_type, tuple(_instance(d) for d in items), _pairs(doc.get("annotations")))


def _platform_doc(inst: Instance) -> dict[str, Any]:
    plat: dict[str, Any] = {"architecture": inst.architecture, "os": inst.os}
    if inst.os_version:
        plat["os.version"] = inst.os_version
    if inst.os_features:
        plat["os.features"] = list(inst.os_features)
    if inst.variant:
        plat["variant"] = inst.variant
    if inst.features:
        plat["features"] = list(inst.features)
    return plat


def to_document(lst: ManifestList, fmt: str | None = None) -> dict[str, Any]:
    """The list as JSON-ready data in ``fmt`` ("oci", "v2s2"; None: the list's own type)."""
    if fmt is not None and fmt not in FORMATS:
        raise InvalidArgument(f'unsupported manifest format "{fmt}": use oci or v2s2')
    media_type = FORMATS[fmt] if fmt else lst.media_type
    manifests: list[dict[str, Any]] = []
    for inst in lst.instances:
        entry: dict[str, Any] = {"mediaType": inst.media_type, "size": inst.size, "digest": inst.digest,
                                 "platform": _platform_doc(inst)}
        if inst.annotations:
            entry["annotations"] = dict(inst.annotations)
        manifests.append(entry)
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": manifests}
    if lst.annotations:
        doc["annotations"] = dict(lst.annotations)
    return doc


def to_json(lst: ManifestList, fmt: str | None = None) -> tuple[bytes, str]:
    """The bytes stored and pushed, with their media type (compact: the digest is of these bytes)."""
    doc = to_document(lst, fmt)
    return json.dumps(doc, separators=(",", ":")).encode(), str(doc["mediaType"])


def with_instance(lst: ManifestList, inst: Instance) -> ManifestList:
    """Add ``inst``; an instance with the same digest is replaced in place, as Podman does."""
    kept = [i for i in lst.instances if i.digest != inst.digest]
    if len(kept) != len(lst.instances):
        return replace(lst, instances=tuple(inst if i.digest == inst.digest else i for i in lst.instances))
    return replace(lst, instances=(*kept, inst))


def find(lst: ManifestList, digest: str) -> Instance:
    for inst in lst.instances:
        if inst.digest == digest:
            return inst
    raise NotFound(f'no instance matching digest "{digest}" found in manifest list')


def without(lst: ManifestList, digest: str) -> ManifestList:
    find(lst, digest)
    return replace(lst, instances=tuple(i for i in lst.instances if i.digest != digest))


def annotate(lst: ManifestList, digest: str, changes: Mapping[str, Any]) -> ManifestList:
    """Change the platform fields (and merge the annotations) of one instance."""
    inst = find(lst, digest)
    fields = {k: v for k, v in changes.items() if v not in (None, "", ())}
    if "annotations" in fields:
        fields["annotations"] = tuple({**dict(inst.annotations), **dict(fields["annotations"])}.items())
    return with_instance(lst, replace(inst, **fields))


def annotate_list(lst: ManifestList, annotations: Pairs) -> ManifestList:
    """``annotate --index``: annotations on the list itself."""
    return replace(lst, annotations=tuple({**dict(lst.annotations), **dict(annotations)}.items()))
