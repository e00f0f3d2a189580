"""Deterministic layer tarballs for the test images.

Layers are described as lists of :class:`Entry` so that the same description drives both the
tar writer and the model of the expected filesystem (:func:`apply_layers`).  Output is byte-for-byte
reproducible: fixed mtimes, uid/gid as declared, entries sorted by path, gzip with mtime 0, so the
digests of the seeded images are stable across runs and machines with the same busybox.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

FIXED_MTIME = 1_700_000_000
EMPTY_TAR = b"\0" * 1024  # what Docker writes for a layer with no change: two zero blocks

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


@dataclass(frozen=True)
class Entry:
    """One tar member.  ``path`` is absolute ("/etc/passwd"); the tar name drops the slash."""

    path: str
    kind: str  # "file", "dir", "symlink", "hardlink"
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    data: bytes = b""
    target: str = ""  # symlink target, or the absolute path a hardlink points to
    xattrs: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def name(self) -> str:
        return self.path.lstrip("/")


def file(path: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0,
         xattrs: Mapping[str, bytes] | None = None) -> Entry:
    return Entry(path, "file", mode, uid, gid, data, xattrs=MappingProxyType(dict(xattrs or {})))


def directory(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(path, "dir", mode, uid, gid)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, "symlink", 0o777, target=target)


def hardlink(path: str, target: str) -> Entry:
    return Entry(path, "hardlink", 0o644, target=target)


def whiteout(path: str) -> Entry:
    """The AUFS-style whiteout the OCI image spec uses: an empty file named .wh.<name>."""
    parent, _, base = path.rpartition("/")
    return Entry(f"{parent}/{WHITEOUT_PREFIX}{base}", "file", 0o644)


def opaque(dirpath: str) -> Entry:
    return Entry(f"{dirpath.rstrip('/')}/{OPAQUE_MARKER}", "file", 0o644)


def _tarinfo(e: Entry) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(e.name + ("/" if e.kind == "dir" else ""))
    ti.mtime = FIXED_MTIME
    ti.mode = e.mode
    ti.uid, ti.gid = e.uid, e.gid
    ti.uname = ti.gname = ""
    if e.kind == "file":
        ti.type, ti.size = tarfile.REGTYPE, len(e.data)
    elif e.kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif e.kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, e.target
    elif e.kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, e.target.lstrip("/")
    else:
        raise ValueError(f"unknown entry kind {e.kind!r} for {e.path}")
    if e.xattrs:
        # Binary values survive PAX through surrogateescape, as Go's archive/tar reads them back raw.
        ti.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape")
                          for k, v in e.xattrs.items()}
    return ti


def build_tar(entries: Iterable[Entry]) -> bytes:
    """An uncompressed PAX tar of ``entries`` sorted by path (parents before children)."""
    ordered = sorted(entries, key=lambda e: e.name)
    if not ordered:
        return EMPTY_TAR
    seen: set[str] = set()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in ordered:
            if e.kind == "hardlink" and e.target.lstrip("/") not in seen:
                raise ValueError(f"hardlink {e.path} precedes its target {e.target}")
            seen.add(e.name)
            tf.addfile(_tarinfo(e), io.BytesIO(e.data) if e.kind == "file" else None)
    return buf.getvalue()


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def zstd_bytes(data: bytes, level: int = 3) -> bytes:
    import zstandard

    out: bytes = zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)
    return out


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def apply_layers(layers: Iterable[Iterable[Entry]]) -> dict[str, Entry]:
    """The filesystem the layers produce, by the OCI whiteout rules, as path -> last entry.

    This is the rig's own model, kept deliberately naive (the integration tests check it against
    an independent implementation); hardlinks stay ``kind="hardlink"`` pointing at their target.
    """
    fs: dict[str, Entry] = {}
    for layer in layers:
        entries = list(layer)
        for e in entries:  # opaque markers and whiteouts hide lower layers only
            parent, _, base = e.path.rpartition("/")
            if base == OPAQUE_MARKER:
                _remove_tree(fs, parent, keep_self=True)
            elif base.startswith(WHITEOUT_PREFIX):
                _remove_tree(fs, f"{parent}/{base[len(WHITEOUT_PREFIX):]}", keep_self=False)
        for e in entries:
            base = e.path.rpartition("/")[2]
            if base.startswith(WHITEOUT_PREFIX):
                continue
            if e.kind != "dir" and any(p.startswith(e.path + "/") for p in fs):
                _remove_tree(fs, e.path, keep_self=False)
            fs[e.path] = e
    return fs


def _remove_tree(fs: dict[str, Entry], path: str, keep_self: bool) -> None:
    for p in [p for p in fs if p == path or p.startswith(path + "/")]:
        if keep_self and p == path:
            continue
        del fs[p]


def kind_of_mode(mode: int) -> str:
    """Map an st_mode to the ``Entry.kind`` vocabulary, for comparisons with a real tree."""
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISREG(mode):
        return "file"
    return "other"
