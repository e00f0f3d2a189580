"""Manifests, image indexes and configs: parsing, validation and platform selection.

Pure functions over bytes, so they are shared by every transport.  Digests and sizes
of referenced blobs are validated here before anything is fetched, so a hostile
manifest cannot make us download an unbounded or mislabelled blob.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from sealpod.errors import InvalidArgument, NoMatchingPlatform, UnsupportedManifest
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v1+prettyjws")

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, *DOCKER_SCHEMA1)

LAYER_TYPES = {
    "application/vnd.oci.image.layer.v1.tar": "none",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
    "application/vnd.docker.image.rootfs.diff.tar": "none",
}

_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$")
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
MAX_CONFIG_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class Index:
    media_type: str
    manifests: tuple[Descriptor, ...]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    if not _DIGEST_RE.match(digest):
        raise UnsupportedManifest(f"invalid digest {digest!r} in manifest")
    return digest


def _descriptor(d: Any, where: str) -> Descriptor:
    if not isinstance(d, dict):
        raise UnsupportedManifest(f"invalid {where} descriptor in manifest")
    size = d.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise UnsupportedManifest(f"invalid size {size!r} of {where} in manifest")
    plat = d.get("platform")
    platform = None
    if isinstance(plat, dict):
        platform = Platform(str(plat.get("os", "")), str(plat.get("architecture", "")),
                            str(plat.get("variant", "") or ""))
    annotations = d.get("annotations") if isinstance(d.get("annotations"), dict) else {}
    return Descriptor(
        media_type=str(d.get("mediaType", "")), digest=check_digest(str(d.get("digest", ""))), size=size,
        platform=platform, annotations=tuple(sorted((str(k), str(v)) for k, v in (annotations or {}).items())),
    )


def sniff_media_type(body: bytes, declared: str | None) -> str:
    """The manifest's media type: the body's own ``mediaType`` wins over the HTTP header."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise UnsupportedManifest(f"manifest is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise UnsupportedManifest("manifest is not a JSON object")
    mt = doc.get("mediaType")
    if isinstance(mt, str) and mt:
        return mt
    if doc.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1[0]
    if "manifests" in doc:
        return OCI_INDEX
    if "config" in doc and "layers" in doc:
        return OCI_MANIFEST
    return declared or ""


def parse(body: bytes, media_type: str | None = None) -> Manifest | Index:
    """Parse a manifest or an index; schema 1 and unknown kinds are refused clearly."""
    mt = sniff_media_type(body, media_type)
    if mt in DOCKER_SCHEMA1:
        raise UnsupportedManifest("Docker schema 1 manifests are not supported (deprecated by Docker in 2019): "
                                  "the image must be rebuilt and pushed with a current tool")
    doc = json.loads(body)
    if mt in INDEX_TYPES:
        items = doc.get("manifests")
        if not isinstance(items, list):
            raise UnsupportedManifest("image index has no manifests list")
        return Index(mt, tuple(_descriptor(d, "manifest") for d in items))
    if mt in MANIFEST_TYPES:
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise UnsupportedManifest("manifest has no layers list")
        return Manifest(mt, _descriptor(doc.get("config"), "config"),
                        tuple(_descriptor(d, "layer") for d in layers))
    raise UnsupportedManifest(f"unsupported manifest media type {mt!r}")


_ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386",
                 "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> Platform:
    machine = os.uname().machine  # what platform.machine() says, without loading that module
    arch = _ARCH_ALIASES.get(machine, machine)
    variant = {"armv7l": "v7", "armv6l": "v6", "aarch64": "v8"}.get(machine, "")
    return Platform("linux", arch, variant if arch == "arm" else "")


def parse_platform(text: str) -> Platform:
    """``os/arch[/variant]`` as given to ``--platform``."""
    parts = text.split("/")
    if not 2 <= len(parts) <= 3 or not all(parts):
        raise InvalidArgument(f'invalid platform syntax for --platform="{text}": use "os/arch[/variant]"')
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def choose_platform(index: Index, wanted: Platform) -> Descriptor:
    """The manifest of ``index`` for ``wanted``; an empty variant matches any variant.

    An exact variant match wins; for arm64 a missing variant counts as v8, as the
    containers ecosystem does.
    """
    candidates = [d for d in index.manifests if d.platform is not None and d.media_type not in INDEX_TYPES
                  and d.platform.os == wanted.os and d.platform.architecture == wanted.architecture]
    if wanted.variant:
        exact = [d for d in candidates if d.platform and (d.platform.variant or
                 ("v8" if wanted.architecture == "arm64" else "")) == wanted.variant]
        candidates = exact
    if not candidates:
        available = ", ".join(sorted({str(d.platform) for d in index.manifests if d.platform})) or "none"
        raise NoMatchingPlatform(f"no image found in image index for architecture {wanted.architecture}, "
                                 f"variant {wanted.variant!r}, OS {wanted.os} (available: {available})")
    return candidates[0]


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config that storage and listing need, plus the raw document."""

    raw: dict[str, Any]
    diff_ids: tuple[str, ...]

    @property
    def platform(self) -> Platform:
        return Platform(str(self.raw.get("os", "")), str(self.raw.get("architecture", "")),
                        str(self.raw.get("variant", "") or ""))


def parse_config(body: bytes) -> ImageConfig:
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise UnsupportedManifest(f"image config is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise UnsupportedManifest("image config is not a JSON object")
    rootfs = doc.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list):
        raise UnsupportedManifest("image config has no rootfs.diff_ids")
    return ImageConfig(doc, tuple(check_digest(str(d)) for d in diff_ids))
