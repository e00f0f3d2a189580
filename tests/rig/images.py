"""The test images, built from /bin/busybox, and a minimal pusher to put them in a registry.

Everything here is deterministic (see :mod:`tests.rig.tarbuild`), so digests are stable and a test
can rebuild an image to learn its digests instead of asking the registry.  The pusher is
deliberately small and independent of sealpod's registry client: it is the oracle side.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import ssl
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from tests.rig import tarbuild as tb
from tests.rig.registry import RegistryServer

BUSYBOX = Path("/bin/busybox")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CREATED = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tb.FIXED_MTIME))

# Applets linked into /bin of the tiny image.  All are in Debian's busybox-static; the rig test
# checks each one against `busybox --list`.
APPLETS = (
    "[", "ash", "awk", "base64", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dd", "df",
    "diff", "dirname", "du", "echo", "env", "expr", "false", "find", "free", "grep", "gunzip", "gzip",
    "head", "hostname", "id", "ip", "kill", "ln", "ls", "md5sum", "mkdir", "mkfifo", "mktemp", "mount",
    "mv", "nc", "nproc", "nslookup", "od", "ping", "printf", "ps", "pwd", "readlink", "realpath", "rm",
    "rmdir", "sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tar", "tee", "test",
    "timeout", "top", "touch", "tr", "true", "umount", "uname", "uniq", "wc", "which", "whoami",
    "xargs", "yes",
)  # fmt: skip

ETC_PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
ETC_GROUP = b"root:x:0:\nnobody:x:65534:\n"


@dataclass
class Blob:
    digest: str
    data: bytes
    media_type: str


@dataclass
class BuiltImage:
    manifest: bytes
    manifest_digest: str
    manifest_media_type: str
    config: Blob
    layers: list[Blob]
    diff_ids: list[str]

    @property
    def config_json(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.config.data)
        return out


@dataclass(frozen=True)
class Layer:
    """A layer to build: its entries and how to compress it ("gzip", "zstd" or "none")."""

    entries: Sequence[tb.Entry]
    compression: str = "gzip"
    created_by: str = ""
    level: int = 6  # gzip/zstd level


@dataclass(frozen=True)
class Expected:
    """What a path of an extracted image must look like (``data=None``: content not compared)."""

    kind: str  # "file", "dir", "symlink"
    mode: int  # stat.S_IMODE bits, setuid included
    uid: int = 0
    gid: int = 0
    data: bytes | None = None
    target: str | None = None  # symlink target
    same_inode_as: str | None = None  # hardlinks
    xattrs: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))


# --- content ----------------------------------------------------------------------------------

def tiny_entries(busybox: bytes) -> list[tb.Entry]:
    """The tiny image's only layer: busybox, its applet links, passwd/group and the usual dirs."""
    dirs = [tb.directory(d) for d in ("/bin", "/dev", "/etc", "/home", "/proc", "/sys", "/usr",
                                      "/usr/bin", "/usr/sbin", "/sbin", "/var", "/var/spool")]
    dirs += [tb.directory("/root", 0o700), tb.directory("/tmp", 0o1777)]
    links = [tb.symlink(f"/bin/{a}", "/bin/busybox") for a in APPLETS]
    files = [
        tb.file("/bin/busybox", busybox, 0o755),
        tb.file("/etc/passwd", ETC_PASSWD),
        tb.file("/etc/group", ETC_GROUP),
        tb.symlink("/usr/bin/env", "/bin/busybox"),
    ]
    return dirs + links + files


def cap_net_raw_xattr() -> bytes:
    """A VFS_CAP_REVISION_2 security.capability value granting cap_net_raw (bit 13), effective."""
    import struct

    return struct.pack("<IIIII", 0x02000000 | 0x1, 1 << 13, 0, 0, 0)


MOTD_1 = b"welcome to sealtest\n"
MOTD_2 = b"motd replaced by layer 5\n"

MULTI_LAYER2 = (
    tb.file("/etc/motd", MOTD_1),
    tb.directory("/data"),
    tb.file("/data/a", b"file a\n"),
    tb.file("/data/b", b"file b, deleted by layer 3\n"),
    tb.hardlink("/data/hard", "/data/a"),
    tb.file("/data/owned", b"owned by 1000\n", 0o640, uid=1000, gid=1000),
    tb.directory("/opt"),
    tb.directory("/opt/dir"),
    tb.file("/opt/dir/x", b"x\n"),
    tb.file("/opt/dir/y", b"y\n"),
    tb.symlink("/usr/bin/link", "/bin/busybox"),
    tb.file("/usr/bin/suid", b"#!/bin/sh\necho suid\n", 0o4755),
    tb.file("/usr/bin/netcap", b"#!/bin/sh\necho cap\n", 0o755,
            xattrs={"security.capability": cap_net_raw_xattr()}),
)
MULTI_LAYER3 = (  # zstd: a whiteout and an opaque directory
    tb.directory("/data"),
    tb.whiteout("/data/b"),
    tb.directory("/opt"),
    tb.directory("/opt/dir"),
    tb.opaque("/opt/dir"),
    tb.file("/opt/dir/z", b"z, alone in the opaque dir\n"),
)
MULTI_LAYER4: tuple[tb.Entry, ...] = ()  # empty tar
MULTI_LAYER5 = (  # uncompressed
    tb.file("/etc/motd", MOTD_2),
    tb.directory("/srv"),
    tb.file("/srv/plain.txt", b"from an uncompressed layer\n"),
)


def multilayer_layers(busybox: bytes) -> list[Layer]:
    return [
        Layer(tiny_entries(busybox), "gzip", "COPY busybox /"),
        Layer(MULTI_LAYER2, "gzip", "COPY assorted files /"),
        Layer(MULTI_LAYER3, "zstd", "RUN rm /data/b && rm -rf /opt/dir && mkdir /opt/dir ..."),
        Layer(MULTI_LAYER4, "gzip", "RUN true"),
        Layer(MULTI_LAYER5, "none", "COPY plain.txt motd /"),
    ]


def _expected_multilayer() -> Mapping[str, Expected]:
    fs = tb.apply_layers([tiny_entries(b""), MULTI_LAYER2, MULTI_LAYER3, MULTI_LAYER4, MULTI_LAYER5])
    out: dict[str, Expected] = {}  # "/" itself is not described by the image: no entry
    for path, e in fs.items():
        src = fs[e.target] if e.kind == "hardlink" else e
        out[path] = Expected(
            kind="file" if e.kind == "hardlink" else e.kind,
            mode=0o777 if e.kind == "symlink" else src.mode,
            uid=src.uid,
            gid=src.gid,
            data=None if path == "/bin/busybox" or src.kind != "file" else src.data,
            target=e.target if e.kind == "symlink" else None,
            same_inode_as=e.target if e.kind == "hardlink" else None,
            xattrs=src.xattrs,
        )
    return MappingProxyType(out)


EXPECTED_MULTILAYER: Mapping[str, Expected] = _expected_multilayer()
EXPECTED_MULTILAYER_ABSENT = frozenset({"/data/b", "/opt/dir/x", "/opt/dir/y", "/data/.wh.b",
                                        "/opt/dir/.wh..wh..opq"})


def check_tree(root: Path, expected: Mapping[str, Expected] = EXPECTED_MULTILAYER,
               absent: frozenset[str] = EXPECTED_MULTILAYER_ABSENT, *, xattrs: bool = True) -> list[str]:
    """Compare an extracted rootfs with ``expected``; return the differences (empty when equal).

    Extra paths in ``root`` are allowed (a runtime may add /dev entries and the like).
    """
    import os

    problems: list[str] = []
    for path, exp in sorted(expected.items()):
        p = root / path.lstrip("/") if path != "/" else root
        try:
            st = p.lstat()
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        got = {"kind": tb.kind_of_mode(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
               "uid": st.st_uid, "gid": st.st_gid}
        want = {"kind": exp.kind, "mode": exp.mode, "uid": exp.uid, "gid": exp.gid}
        if exp.kind == "symlink":
            got.pop("mode"), want.pop("mode")
            got["target"], want["target"] = os.readlink(p), exp.target
        if exp.data is not None:
            got["data"], want["data"] = p.read_bytes(), exp.data
        if exp.same_inode_as is not None:
            other = (root / exp.same_inode_as.lstrip("/")).lstat()
            got["inode"], want["inode"] = st.st_ino, other.st_ino
        if xattrs and exp.kind == "file":
            for name, value in exp.xattrs.items():
                got[name], want[name] = _getxattr(p, name), value
        problems += [f"{path}: {k} is {got[k]!r}, want {want[k]!r}" for k in want if got.get(k) != want[k]]
    problems += [f"{path}: should not exist" for path in sorted(absent)
                 if os.path.lexists(root / path.lstrip("/"))]
    return problems


def _getxattr(p: Path, name: str) -> bytes | None:
    import os

    try:
        return os.getxattr(p, name, follow_symlinks=False)
    except OSError:
        return None


# --- building ---------------------------------------------------------------------------------

def make_layer(layer: Layer, docker: bool = False) -> tuple[Blob, str]:
    """Compress one layer; return its blob and its diff_id (digest of the uncompressed tar)."""
    raw = tb.build_tar(layer.entries)
    if layer.compression == "gzip":
        data, mt = tb.gzip_bytes(raw, layer.level), DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP
    elif layer.compression == "zstd" and not docker:
        data, mt = tb.zstd_bytes(raw), OCI_LAYER_ZSTD
    elif layer.compression == "none" and not docker:
        data, mt = raw, OCI_LAYER
    else:
        raise ValueError(f"no {layer.compression!r} layers in {'Docker' if docker else 'OCI'} images")
    return Blob(tb.sha256_digest(data), data, mt), tb.sha256_digest(raw)


def _descriptor(blob: Blob) -> dict[str, Any]:
    return {"mediaType": blob.media_type, "digest": blob.digest, "size": len(blob.data)}


def build_image(
    layers: Sequence[Layer],
    *,
    docker: bool = False,
    architecture: str = "amd64",
    variant: str | None = None,
    labels: Mapping[str, str] | None = None,
    cmd: Sequence[str] = ("sh",),
    env: Sequence[str] = (PATH_ENV,),
    metadata_steps: Sequence[str] = (),
) -> BuiltImage:
    """Assemble config and manifest around ``layers``.

    ``metadata_steps`` become history entries with ``empty_layer: true`` (ENV, LABEL, CMD in a
    Dockerfile), placed after the layers, as a build would record them.
    """
    built = [make_layer(layer, docker) for layer in layers]
    history: list[dict[str, Any]] = [{"created": CREATED, "created_by": layer.created_by or "layer"}
                                     for layer in layers]
    history += [{"created": CREATED, "created_by": s, "empty_layer": True} for s in metadata_steps]
    config: dict[str, Any] = {"created": CREATED, "architecture": architecture, "os": "linux"}
    if variant:
        config["variant"] = variant
    config["config"] = {"Env": list(env), "Cmd": list(cmd), "WorkingDir": "/",
                        "Labels": dict(labels or {"org.sealtest.image": "true"})}
    config["rootfs"] = {"type": "layers", "diff_ids": [d for _, d in built]}
    config["history"] = history
    cdata = json.dumps(config, separators=(",", ":")).encode()
    cblob = Blob(tb.sha256_digest(cdata), cdata, DOCKER_CONFIG if docker else OCI_CONFIG)
    mt = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {"schemaVersion": 2, "mediaType": mt, "config": _descriptor(cblob),
                "layers": [_descriptor(b) for b, _ in built]}
    mdata = json.dumps(manifest, indent=3).encode()
    return BuiltImage(mdata, tb.sha256_digest(mdata), mt, cblob, [b for b, _ in built],
                      [d for _, d in built])


def build_index(children: Sequence[tuple[BuiltImage, Mapping[str, str]]], docker: bool = False) -> bytes:
    """An OCI image index or Docker manifest list over (image, platform) pairs."""
    mt = DOCKER_LIST if docker else OCI_INDEX
    manifests = [{"mediaType": img.manifest_media_type, "digest": img.manifest_digest,
                  "size": len(img.manifest), "platform": dict(platform)} for img, platform in children]
    return json.dumps({"schemaVersion": 2, "mediaType": mt, "manifests": manifests}, indent=3).encode()


def _fake_arch_image(architecture: str, variant: str, docker: bool) -> BuiltImage:
    """A config-only stand-in for a foreign platform: one small layer naming the platform."""
    name = f"{architecture}/{variant}"
    layer = Layer([tb.directory("/etc"), tb.file("/etc/platform", f"linux/{name}\n".encode())], "gzip")
    return build_image([layer], docker=docker, architecture=architecture, variant=variant,
                       labels={"org.sealtest.platform": f"linux/{name}"})


@dataclass
class SeedSet:
    """All images the ``seeded_registry`` fixture pushes, by "repo:tag"."""

    images: dict[str, BuiltImage]
    indexes: dict[str, tuple[bytes, str, list[BuiltImage]]]  # "repo:tag" -> (bytes, media type, children)

    def digest(self, name: str) -> str:
        if name in self.images:
            return self.images[name].manifest_digest
        return tb.sha256_digest(self.indexes[name][0])


def build_seed_set(busybox: Path = BUSYBOX) -> SeedSet:
    bb = busybox.read_bytes()
    tiny = [Layer(tiny_entries(bb), "gzip", "COPY busybox /")]
    tiny_oci = build_image(tiny, metadata_steps=['CMD ["sh"]'])
    tiny_docker = build_image(tiny, docker=True, metadata_steps=['CMD ["sh"]'])
    multilayer = build_image(multilayer_layers(bb), labels={"org.sealtest.image": "multilayer"},
                             metadata_steps=["ENV FOO=bar", "LABEL org.sealtest.image=multilayer"],
                             env=(PATH_ENV, "FOO=bar"))
    oci_children = [(tiny_oci, {"architecture": "amd64", "os": "linux"})]
    oci_children += [(_fake_arch_image(a, v, False), {"architecture": a, "os": "linux", "variant": v})
                     for a, v in (("arm64", "v8"), ("arm", "v7"))]
    docker_children = [(tiny_docker, {"architecture": "amd64", "os": "linux"}),
                       (_fake_arch_image("arm64", "v8", True),
                        {"architecture": "arm64", "os": "linux", "variant": "v8"})]
    return SeedSet(
        images={"sealtest/tiny:latest": tiny_oci, "sealtest/tiny-docker:latest": tiny_docker,
                "sealtest/multilayer:latest": multilayer},
        indexes={
            "sealtest/multiarch:latest": (build_index(oci_children), OCI_INDEX,
                                          [c for c, _ in oci_children]),
            "sealtest/docker-list:latest": (build_index(docker_children, docker=True), DOCKER_LIST,
                                            [c for c, _ in docker_children]),
        },
    )


def big_image(total_mb: int = 100, files: int = 20000, layers: int = 5, seed: int = 1) -> BuiltImage:
    """A large image for benchmarks: the busybox layer, then ``layers - 1`` layers of random files.

    Content is incompressible random bytes from a seeded generator, so the image is identical
    on every run; gzip level 1 keeps building it quick.
    """
    rng = random.Random(seed)
    data_layers = max(1, layers - 1)
    size = max(1, total_mb * 1024 * 1024 // max(1, files))
    per_layer: list[list[tb.Entry]] = [[tb.directory("/data"), tb.directory(f"/data/l{i}")]
                                       for i in range(data_layers)]
    for n in range(files):
        entries = per_layer[n % data_layers]
        subdir = f"/data/l{n % data_layers}/{n // 1000:03d}"
        if n % 1000 < data_layers:
            entries.append(tb.directory(subdir))
        entries.append(tb.file(f"{subdir}/f{n:06d}", rng.randbytes(size)))
    base = Layer(tiny_entries(BUSYBOX.read_bytes()), "gzip", "COPY busybox /")
    data = [Layer(e, "gzip", f"COPY data{i} /", level=1) for i, e in enumerate(per_layer)]
    return build_image([base, *data], labels={"org.sealtest.image": "big"})


# --- pushing ----------------------------------------------------------------------------------

class PushError(AssertionError):
    """The registry refused something the rig pushed: a rig or registry bug, never a test failure."""


def _request(server: RegistryServer, method: str, target: str, body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    u = urlsplit(server.url)
    conn: http.client.HTTPConnection
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=str(server.ca_cert) if server.ca_cert else None)
        conn = http.client.HTTPSConnection(u.netloc, timeout=120, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.netloc, timeout=120)
    hdrs = dict(headers or {})
    if server.username is not None:
        token = base64.b64encode(f"{server.username}:{server.password or ''}".encode()).decode()
        hdrs["Authorization"] = f"Basic {token}"
    try:
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def _expect(status: int, want: int, what: str, body: bytes) -> None:
    if status != want:
        raise PushError(f"{what}: HTTP {status}, want {want}: {body[:500]!r}")


def push_blob(server: RegistryServer, repo: str, blob: Blob) -> None:
    """Monolithic upload (POST, then PUT ?digest=), skipped when HEAD finds the blob already there."""
    status, _, _ = _request(server, "HEAD", f"/v2/{repo}/blobs/{blob.digest}")
    if status == 200:
        return
    status, headers, body = _request(server, "POST", f"/v2/{repo}/blobs/uploads/", b"",
                                     {"Content-Length": "0"})
    _expect(status, 202, f"start upload to {repo}", body)
    loc = urlsplit(headers["Location"])
    target = f"{loc.path}?{loc.query + '&' if loc.query else ''}digest={blob.digest}"
    status, _, body = _request(server, "PUT", target, blob.data,
                               {"Content-Type": "application/octet-stream",
                                "Content-Length": str(len(blob.data))})
    _expect(status, 201, f"upload {blob.digest} to {repo}", body)


def push_manifest(server: RegistryServer, repo: str, ref: str, data: bytes, media_type: str) -> str:
    status, headers, body = _request(server, "PUT", f"/v2/{repo}/manifests/{ref}", data,
                                     {"Content-Type": media_type})
    _expect(status, 201, f"put manifest {repo}:{ref}", body)
    digest = tb.sha256_digest(data)
    got = headers.get("Docker-Content-Digest")
    if got and got != digest:
        raise PushError(f"registry computed {got} for manifest {repo}:{ref}, expected {digest}")
    return digest


def push_image(server: RegistryServer, repo: str, ref: str, image: BuiltImage) -> None:
    for blob in [*image.layers, image.config]:
        push_blob(server, repo, blob)
    push_manifest(server, repo, ref, image.manifest, image.manifest_media_type)


def push_index(server: RegistryServer, repo: str, ref: str, index_bytes: bytes, media_type: str,
               children: list[BuiltImage]) -> str:
    """Push each child by digest (the registry checks they exist), then the index under ``ref``."""
    for child in children:
        push_image(server, repo, child.manifest_digest, child)
    return push_manifest(server, repo, ref, index_bytes, media_type)


def seed_registry(server: RegistryServer, seed: SeedSet | None = None) -> SeedSet:
    """Push the whole seed set (what ``seeded_registry`` holds) to any registry; idempotent."""
    seed = seed or build_seed_set()
    for name, image in seed.images.items():
        repo, _, tag = name.rpartition(":")
        push_image(server, repo, tag, image)
    for name, (data, mt, children) in seed.indexes.items():
        repo, _, tag = name.rpartition(":")
        push_index(server, repo, tag, data, mt, children)
    return seed
