"""Extracting one image layer onto disk: the hot path of ``pull``, and a security boundary.

A layer is an untrusted tar stream (gzip, zstd or plain).  We parse it ourselves rather
than through :mod:`tarfile`: header parsing in ``tarfile`` costs more per member than
writing the file does, and a streaming parser lets the diff_id be hashed in the same
single pass (``bench/extract_layers.py`` has the numbers).

Safety model: every path is lexically cleaned first.  Absolute names are made relative
(as Docker does) and ``..`` that would climb above the root is rejected: the whole layer
fails with LayerError.  Parent directories are then resolved component by component
with ``lstat``; a symlink met on the way is followed *inside the root* (absolute targets
re-rooted, ``..`` clamped at the root) exactly as if the layer were unpacked in a chroot,
which is what Podman does, so ``lib -> usr/lib`` images keep working and ``a -> /etc``
followed by ``a/passwd`` lands in ``dest/etc/passwd``.  The last component is never
followed: it is created with ``O_EXCL|O_NOFOLLOW`` (or mkdir/symlink/link/mknod, which do
not follow either), and whatever was there is removed first.  Nothing else modifies
``dest`` while we run, so a directory verified once stays verified until we ourselves
remove a directory or symlink, which drops the cache.

Whiteouts follow the OCI image spec (``.wh.NAME`` and ``.wh..wh..opq``): for overlay
they become what overlayfs reads (a 0:0 character device, ``trusted.overlay.opaque``),
for vfs they are applied to the copy of the parent layers in ``dest``.  xattrs in the
``trusted.overlay.`` / ``user.overlay.`` namespaces coming *from the tar* are dropped, so
a layer cannot forge overlay redirects or whiteouts.
"""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import shutil
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

from sealpod.errors import DigestMismatch, LayerError, SealpodError
from sealpod.storage.whiteouts import WhiteoutFormat  # noqa: F401 - re-exported
from sealpod.utils.compression import decompressed_chunks
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

BLOCK = 512
WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
#: Bound on PAX / GNU long-name payloads, which are held in memory.
MAX_META_SIZE = 8 * 1024 * 1024
MAX_SYMLINKS = 40
#: Decompressed chunks (up to 1 MiB each) queued between the inflating thread and the writer.
PREFETCH_CHUNKS = 8

_REG, _AREG, _CONTIG = b"0", b"\0", b"7"
_LNK, _SYM, _CHR, _BLK, _DIR, _FIFO = b"1", b"2", b"3", b"4", b"5", b"6"
_PAX, _GPAX, _GNU_LONGNAME, _GNU_LONGLINK = b"x", b"g", b"L", b"K"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FORBIDDEN_XATTR_PREFIXES = ("trusted.overlay.", "user.overlay.")



def _q(value: object) -> str:
    """Quote like Go's %q, as Podman's messages do."""
    import json

    return json.dumps(str(value), ensure_ascii=False)


@dataclass(frozen=True)
class ExtractResult:
    """What the layer store records about an extracted layer."""

    diff_id: str  # "sha256:<hex>" of the UNCOMPRESSED tar stream
    uncompressed_size: int  # bytes of the uncompressed tar stream
    sets_root: bool = False  # the tar has a "./" entry: the layer says what its root directory is


@dataclass(slots=True)
class _Header:
    name: str
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    kind: bytes
    linkname: str
    devmajor: int
    devminor: int
    xattrs: dict[str, bytes] = field(default_factory=dict)


def extract_layer(
    blob: BinaryIO,
    dest: Path,
    *,
    whiteouts: WhiteoutFormat,
    expected_diff_id: str | None = None,
    rootless: bool = False,
) -> ExtractResult:
    """Unpack the layer ``blob`` into ``dest`` in one pass, hashing the tar as it goes.

    ``dest`` must exist: empty for overlay, a copy of the parent layers for vfs.  With
    ``rootless`` set, device nodes are skipped, failures to chown are ignored, and when
    0:0 whiteout devices cannot be made a ``.wh.NAME`` file (which fuse-overlayfs reads)
    is kept instead; opaque directories get ``user.overlay.opaque`` (overlayfs
    ``userxattr``) plus the ``.wh..wh..opq`` file.  On any error ``dest`` is left
    half-written: the caller removes it.
    """
    producer = _Producer(blob)
    stream = _TarStream(iter(producer))
    ext = _Extractor(os.path.realpath(dest), whiteouts, rootless)
    try:
        ext.run(stream)
        stream.drain()
    except SealpodError:
        raise
    except (OSError, ValueError) as e:
        raise LayerError(_describe(e, ext.root)) from e
    except RecursionError:
        raise LayerError("extracting layer: directory tree too deep") from None
    finally:
        producer.close()
    diff_id = "sha256:" + producer.hash.hexdigest()
    if expected_diff_id is not None and expected_diff_id != diff_id:
        raise DigestMismatch(f"Digest did not match, expected {expected_diff_id}, got {diff_id}")
    try:
        ext.finish()
    except OSError as e:
        raise LayerError(_describe(e, ext.root)) from e
    except RecursionError:
        raise LayerError("extracting layer: directory tree too deep") from None
    return ExtractResult(diff_id=diff_id, uncompressed_size=producer.size, sets_root=ext.sets_root)


def _describe(e: Exception, root: str) -> str:
    """One line for the user, naming the path inside the layer rather than on the host."""
    if isinstance(e, OSError) and e.strerror:
        where = os.fsdecode(e.filename) if e.filename is not None else ""
        where = where[len(root) :].lstrip("/") if where.startswith(root) else where
        return f"extracting layer: {where}: {e.strerror}" if where else f"extracting layer: {e.strerror}"
    return f"extracting layer: {e}"


# --------------------------------------------------------------------------- stream


class _Producer:
    """Decompresses and hashes in a second thread while the caller writes files.

    zlib/isal, zstd and hashlib drop the GIL on large buffers, so this overlaps the CPU
    cost of inflating and hashing with the syscalls of extraction (GNU tar gets the
    same overlap by piping through a separate gzip process).
    """

    def __init__(self, blob: BinaryIO) -> None:
        self.hash = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=PREFETCH_CHUNKS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, args=(blob,), name="layer-inflate", daemon=True)
        self._thread.start()

    def _work(self, blob: BinaryIO) -> None:
        item: bytes | BaseException | None = None
        try:
            for chunk in decompressed_chunks(blob):
                self.hash.update(chunk)
                self.size += len(chunk)
                if self._stop.is_set():
                    return
                self._queue.put(chunk)
        except BaseException as e:  # handed to the consumer, which re-raises it
            item = e
        self._queue.put(item)

    def __iter__(self) -> Iterator[bytes]:
        while (item := self._queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the thread early (the consumer failed) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()


class _TarStream:
    """Hands out tar blocks and file data from decompressed chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0

    def _fill(self) -> bool:
        nxt = next(self._chunks, None)
        if nxt is None:
            return False
        rest = len(self._buf) - self._pos
        self._buf = self._buf[self._pos :] + nxt if rest else nxt
        self._pos = 0
        return True

    def block(self) -> bytes | None:
        """Return the next 512-byte block, or None at a clean end of stream."""
        while len(self._buf) - self._pos < BLOCK:
            if not self._fill():
                if len(self._buf) == self._pos:
                    return None
                raise LayerError("extracting layer: unexpected EOF in tar header")
        pos = self._pos
        self._pos = pos + BLOCK
        return self._buf[pos : pos + BLOCK]

    def read(self, n: int) -> bytes:
        """Return exactly n bytes followed by the padding to the next block."""
        want = n + (-n % BLOCK)
        while len(self._buf) - self._pos < want:
            if not self._fill():
                raise LayerError("extracting layer: unexpected EOF in tar entry")
        pos = self._pos
        self._pos = pos + want
        return self._buf[pos : pos + n]

    def copy_to(self, fd: int, n: int) -> None:
        """Write the next n bytes of entry data to fd, then skip the block padding."""
        pad = -n % BLOCK
        while n:
            if self._pos == len(self._buf) and not self._fill():
                raise LayerError("extracting layer: unexpected EOF in tar entry")
            take = min(n, len(self._buf) - self._pos)
            view = memoryview(self._buf)[self._pos : self._pos + take]
            while view:
                view = view[os.write(fd, view) :]
            self._pos += take
            n -= take
        self.skip(pad)

    def skip(self, n: int) -> None:
        while n:
            if self._pos == len(self._buf) and not self._fill():
                raise LayerError("extracting layer: unexpected EOF in tar entry")
            take = min(n, len(self._buf) - self._pos)
            self._pos += take
            n -= take

    def drain(self) -> None:
        """Read to the end so the digest covers the whole stream, padding included."""
        while self._fill():
            self._pos = len(self._buf)


# --------------------------------------------------------------------------- headers


#: ustar header fields up to the prefix: name, mode, uid, gid, size, mtime, chksum,
#: typeflag, linkname, magic+version, uname, gname, devmajor, devminor, prefix.
_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s")


def _num(raw: bytes) -> int:
    if raw[:1] and raw[0] & 0x80:  # GNU base-256, for big sizes and ids
        if raw[0] == 0xFF:
            return int.from_bytes(raw, "big", signed=True)
        return int.from_bytes(bytes([raw[0] & 0x7F]) + raw[1:], "big")
    try:
        return int(raw.strip(b" \0") or b"0", 8)
    except ValueError:
        pass
    digits = raw.split(b"\0", 1)[0].strip()  # garbage after the NUL is allowed
    try:
        return int(digits, 8) if digits else 0
    except ValueError:
        raise LayerError("extracting layer: invalid tar header (bad number field)") from None


def _text(raw: bytes) -> str:
    return raw.partition(b"\0")[0].decode("utf-8", "surrogateescape")


def _parse_header(block: bytes) -> _Header:
    (name, mode, uid, gid, size, mtime, chksum, kind, link, magic, _, _, major, minor, prefix) = (
        _USTAR.unpack_from(block)
    )
    if _num(chksum) != sum(block) - sum(chksum) + 256:
        raise LayerError("extracting layer: invalid tar header (checksum mismatch)")
    text = _text(name)
    if magic[:6] == b"ustar\0" and prefix[0]:
        text = _text(prefix) + "/" + text
    if kind == _AREG and text.endswith("/"):
        kind = _DIR  # pre-POSIX directory
    dev = kind in (_CHR, _BLK)
    return _Header(
        name=text,
        mode=_num(mode) & 0o7777,
        uid=_num(uid),
        gid=_num(gid),
        size=_num(size),
        mtime_ns=_num(mtime) * 1_000_000_000,
        kind=kind,
        linkname=_text(link) if link[0] else "",
        devmajor=_num(major) if dev else 0,
        devminor=_num(minor) if dev else 0,
    )


def _parse_pax(data: bytes) -> dict[str, bytes]:
    records: dict[str, bytes] = {}
    pos = 0
    try:
        while pos < len(data) and data[pos] != 0:
            space = data.index(b" ", pos)
            length = int(data[pos:space])
            record = data[space + 1 : pos + length]
            if length <= 0 or not record.endswith(b"\n"):
                raise ValueError
            key, _, value = record[:-1].partition(b"=")
            records[key.decode("utf-8", "surrogateescape")] = value
            pos += length
    except ValueError:
        raise LayerError("extracting layer: invalid PAX header") from None
    return records


def _apply_pax(hdr: _Header, pax: dict[str, bytes]) -> None:
    for key, value in pax.items():
        if key == "path":
            hdr.name = os.fsdecode(value)
        elif key == "linkpath":
            hdr.linkname = os.fsdecode(value)
        elif key in ("size", "uid", "gid"):
            try:
                setattr(hdr, key, int(value))
            except ValueError:
                raise LayerError(f"extracting layer: invalid PAX {key} {_q(value)}") from None
        elif key == "mtime":
            hdr.mtime_ns = _pax_time(value)
        elif key.startswith("SCHILY.xattr."):
            hdr.xattrs[key[len("SCHILY.xattr.") :]] = value
        elif key.startswith("GNU.sparse."):
            raise LayerError("extracting layer: sparse files are not supported")


def _pax_time(value: bytes) -> int:
    try:
        text = value.decode()
        sign = -1 if text.startswith("-") else 1
        whole, _, frac = text.lstrip("-").partition(".")
        return sign * (int(whole or "0") * 1_000_000_000 + int((frac + "000000000")[:9]))
    except ValueError:
        raise LayerError(f"extracting layer: invalid PAX mtime {_q(value)}") from None


def _headers(stream: _TarStream) -> Iterator[_Header]:
    """Yield real entries, with PAX and GNU long-name records folded into them."""
    pax: dict[str, bytes] = {}
    longname = longlink = None
    while (block := stream.block()) is not None:
        if not any(block):
            return  # end-of-archive marker; drain() hashes what follows
        hdr = _parse_header(block)
        if hdr.kind in (_PAX, _GPAX, _GNU_LONGNAME, _GNU_LONGLINK):
            if not 0 <= hdr.size <= MAX_META_SIZE:
                raise LayerError("extracting layer: tar metadata record too large")
            data = stream.read(hdr.size)
            if hdr.kind == _PAX:
                pax.update(_parse_pax(data))
            elif hdr.kind == _GNU_LONGNAME:
                longname = _text(data)
            elif hdr.kind == _GNU_LONGLINK:
                longlink = _text(data)
            continue  # global PAX headers carry nothing we use
        if longname is not None:
            hdr.name = longname
        if longlink is not None:
            hdr.linkname = longlink
        if pax:
            _apply_pax(hdr, pax)
        if hdr.size < 0:
            raise LayerError("extracting layer: invalid tar header (negative size)")
        pax, longname, longlink = {}, None, None
        yield hdr


# --------------------------------------------------------------------------- paths


def clean_path(name: str) -> str:
    """Make a tar member name relative and free of ``.``/``..``; "" means the root.

    Absolute names are rooted at the layer (Docker does the same); a relative name whose
    ``..`` climbs above the root is hostile and rejected.
    """
    if "\0" in name:
        raise LayerError(f"extracting layer: invalid path {_q(name)}")
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if parts:
                parts.pop()
            elif not name.startswith("/"):
                raise LayerError(f"extracting layer: path {_q(name)} escapes the layer root")
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


class _Resolver:
    """Maps cleaned layer paths to directories on disk without leaving the root."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._dirs: dict[str, str] = {"": root}

    def forget(self) -> None:
        """Drop the cache: a directory or symlink was removed, so paths may resolve anew."""
        self._dirs = {"": self.root}

    def dir(self, rel: str, *, create: bool) -> str | None:
        """Return the on-disk directory for ``rel``, making missing ones if ``create``.

        Returns None when it is missing (and not ``create``) or is not a directory.
        """
        hit = self._dirs.get(rel)
        if hit is not None:
            return hit
        base, rest = rel, []
        while base not in self._dirs:
            base, _, last = base.rpartition("/")
            rest.append(last)
        rest.reverse()
        found = self._walk(self._dirs[base], rest, create)
        if found is not None:
            self._dirs[rel] = found
        return found

    def _walk(self, start: str, todo: list[str], create: bool) -> str | None:
        stack = start[len(self.root) + 1 :].split("/") if start != self.root else []
        todo.reverse()  # used as a stack: pop() takes the next component
        links = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if stack:
                    stack.pop()
                continue
            path = "/".join([self.root, *stack, part])
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                if not create:
                    return None
                os.mkdir(path)
                os.chmod(path, 0o755)  # whatever the umask; a later dir entry may change it
                stack.append(part)
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(part)
            elif stat.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_SYMLINKS:
                    raise LayerError(f"extracting layer: too many levels of symbolic links at {_q(path)}")
                target = os.readlink(path)
                if target.startswith("/"):
                    stack = []
                todo.extend(reversed(target.split("/")))
            elif create:
                raise LayerError(f"extracting layer: {_q('/'.join([*stack, part]))} is not a directory")
            else:
                return None
        return "/".join([self.root, *stack])


# --------------------------------------------------------------------------- extraction


def _remove(path: str) -> bool:
    """Remove whatever is at path without following it; True if a dir or symlink went."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)  # fd-based, never follows symlinks
        return True
    os.unlink(path)
    return stat.S_ISLNK(st.st_mode)


class _Extractor:
    """Applies entries one by one; ``finish`` fixes directories once their content is in."""

    def __init__(self, root: str, whiteouts: WhiteoutFormat, rootless: bool) -> None:
        self.res = _Resolver(root)
        self.root = root
        self.vfs = whiteouts is WhiteoutFormat.VFS
        self.rootless = rootless
        self.chown = os.geteuid() == 0
        self.dirs: list[tuple[str, int, int, int]] = []  # (physical rel, mode, mtime, inode)
        self.opaque: list[str] = []  # physical rel of opaque directories (vfs)
        self.touched: set[str] = set()  # physical rel of what this layer wrote (vfs)
        self.sets_root = False

    def run(self, stream: _TarStream) -> None:
        for hdr in _headers(stream):
            rel = clean_path(hdr.name)
            parent, _, base = rel.rpartition("/")
            if rel == "":
                if hdr.kind == _DIR:  # "./": the layer's root directory itself
                    self._dir(self.root, "", hdr)
                    self.sets_root = True
            elif base.startswith(WHITEOUT_PREFIX):
                self._whiteout(parent, base)
            elif hdr.kind in (_REG, _AREG, _CONTIG):
                self._file(self._place(parent, base), hdr, stream)
                continue
            else:
                self._entry(self._place(parent, base), hdr)
            stream.skip(hdr.size + (-hdr.size % BLOCK))

    def _place(self, parent: str, base: str) -> str:
        """Resolve (making it if needed) the directory an entry goes in; return its path."""
        pdir = self.res.dir(parent, create=True)
        assert pdir is not None
        if self.vfs:
            self._touch(self._rel(pdir, base))
        return pdir + "/" + base

    def _rel(self, pdir: str, name: str) -> str:
        """The root-relative path of ``name`` in the on-disk directory ``pdir``."""
        return pdir[len(self.root) + 1 :] + "/" + name if pdir != self.root else name

    def _touch(self, prel: str) -> None:
        while prel and prel not in self.touched:
            self.touched.add(prel)
            prel = prel.rpartition("/")[0]

    def _clear(self, path: str) -> None:
        if _remove(path):
            self.res.forget()

    def _file(self, path: str, hdr: _Header, stream: _TarStream) -> None:
        try:
            fd = os.open(path, _NEW_FILE, 0o600)
        except FileExistsError:
            self._clear(path)
            fd = os.open(path, _NEW_FILE, 0o600)
        try:
            stream.copy_to(fd, hdr.size)
            if self.chown:
                self._chown(fd, hdr)
            os.fchmod(fd, hdr.mode)
            if hdr.xattrs:
                self._xattrs(fd, hdr)
            os.utime(fd, ns=(hdr.mtime_ns, hdr.mtime_ns))
        finally:
            os.close(fd)

    def _entry(self, path: str, hdr: _Header) -> None:
        kind = hdr.kind
        if kind == _DIR:
            self._dir(path, path[len(self.root) + 1 :], hdr)
            return
        if kind in (_CHR, _BLK) and self.rootless:
            return  # device nodes cannot be made in a user namespace
        try:
            self._make(path, hdr)
        except FileExistsError:
            self._clear(path)
            self._make(path, hdr)
        if kind == _LNK:
            return  # a hard link shares its target's inode and metadata
        if self.chown:
            self._chown(path, hdr)
        if kind != _SYM:
            os.chmod(path, hdr.mode)
        if hdr.xattrs:
            self._xattrs(path, hdr)
        os.utime(path, ns=(hdr.mtime_ns, hdr.mtime_ns), follow_symlinks=False)

    def _make(self, path: str, hdr: _Header) -> None:
        kind = hdr.kind
        if kind == _SYM:
            os.symlink(hdr.linkname, path)
        elif kind == _LNK:
            self._hardlink(path, hdr.linkname)
        elif kind in (_CHR, _BLK, _FIFO):
            fmt = {_CHR: stat.S_IFCHR, _BLK: stat.S_IFBLK, _FIFO: stat.S_IFIFO}[kind]
            os.mknod(path, fmt | 0o600, os.makedev(hdr.devmajor, hdr.devminor))
        else:
            raise LayerError(f"extracting layer: unsupported tar entry type {_q(kind)} for {_q(hdr.name)}")

    def _hardlink(self, path: str, linkname: str) -> None:
        rel = clean_path(linkname)
        parent, _, base = rel.rpartition("/")
        pdir = self.res.dir(parent, create=False) if rel else None
        if pdir is None:
            raise LayerError(f"extracting layer: invalid hardlink target {_q(linkname)}")
        try:
            os.link(pdir + "/" + base, path, follow_symlinks=False)
        except FileNotFoundError:
            raise LayerError(f"extracting layer: hardlink target {_q(linkname)} does not exist") from None
        except PermissionError:
            raise LayerError(f"extracting layer: invalid hardlink target {_q(linkname)}") from None

    def _dir(self, path: str, prel: str, hdr: _Header) -> None:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                self._clear(path)
                os.mkdir(path, 0o700)
        if self.chown:
            self._chown(path, hdr)
        if hdr.xattrs:
            self._xattrs(path, hdr)
        self.dirs.append((prel, hdr.mode, hdr.mtime_ns, os.lstat(path).st_ino))

    def _chown(self, target: int | str, hdr: _Header) -> None:
        try:
            if isinstance(target, int):
                os.fchown(target, hdr.uid, hdr.gid)
            else:
                os.lchown(target, hdr.uid, hdr.gid)
        except OSError as e:
            if not self.rootless or e.errno not in (errno.EPERM, errno.EINVAL):
                raise

    def _xattrs(self, target: int | str, hdr: _Header) -> None:
        for name, value in hdr.xattrs.items():
            if name.startswith(_FORBIDDEN_XATTR_PREFIXES):
                continue
            try:
                os.setxattr(target, name, value, follow_symlinks=isinstance(target, int))
            except OSError as e:
                if e.errno == errno.ENOTSUP:
                    continue  # the filesystem cannot hold it (e.g. user.* on a symlink)
                if e.errno == errno.EPERM and (self.rootless or not self.chown):
                    continue  # trusted.* and security.* need privileges we lack
                where = f"{name} on {_q(hdr.name)}"
                raise LayerError(f"extracting layer: setting xattr {where}: {e.strerror}") from e

    # ------------------------------------------------------------------ whiteouts

    def _whiteout(self, parent: str, base: str) -> None:
        if base == WHITEOUT_OPAQUE:
            self._opaque(parent)
            return
        if base.startswith(WHITEOUT_META_PREFIX):
            return  # AUFS bookkeeping (.wh..wh.plnk and friends): not content
        name = base[len(WHITEOUT_PREFIX) :]
        if name in ("", ".", ".."):
            raise LayerError(f"extracting layer: invalid whiteout {_q(parent + '/' + base)}")
        if self.vfs:
            pdir = self.res.dir(parent, create=False)
            if pdir is not None and self._rel(pdir, name) not in self.touched:
                self._clear(pdir + "/" + name)  # a whiteout hides lower layers only
            return
        path = self._place(parent, name)
        self._clear(path)
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(0, 0))
        except PermissionError:
            if not self.rootless:
                raise
            os.close(os.open(os.path.dirname(path) + "/" + base, _NEW_FILE, 0o600))

    def _opaque(self, parent: str) -> None:
        pdir = self.res.dir(parent, create=True)
        assert pdir is not None
        prel = pdir[len(self.root) + 1 :]
        if self.vfs:
            self._touch(prel)
            self.opaque.append(prel)
            return
        xattr = "user.overlay.opaque" if self.rootless else "trusted.overlay.opaque"
        os.setxattr(pdir, xattr, b"y", follow_symlinks=False)
        if self.rootless:
            marker = pdir + "/" + WHITEOUT_OPAQUE
            self._clear(marker)
            os.close(os.open(marker, _NEW_FILE, 0o600))

    # ------------------------------------------------------------------ the end

    def finish(self) -> None:
        """Prune opaque directories (vfs), then set directory modes and times."""
        for prel in self.opaque:
            self.res.forget()
            path = self._verified(prel)
            if path is not None:
                self._prune(path, prel)
        self.res.forget()
        for prel, mode, mtime_ns, ino in reversed(self.dirs):
            path = self._verified(prel)
            if path is None:
                continue
            fd = os.open(path, _OPEN_DIR)
            try:
                if os.fstat(fd).st_ino == ino:
                    os.fchmod(fd, mode)
                    os.utime(fd, ns=(mtime_ns, mtime_ns))
            finally:
                os.close(fd)

    def _verified(self, prel: str) -> str | None:
        """The directory at physical ``prel`` if it still is one, reached without symlinks."""
        path = self.res.dir(prel, create=False)
        expected = self.root + "/" + prel if prel else self.root
        return path if path == expected else None

    def _prune(self, path: str, prel: str) -> None:
        """Remove what lower layers left under an opaque dir; keep what this layer wrote."""
        with os.scandir(path) as it:
            entries = list(it)
        for entry in entries:
            child = prel + "/" + entry.name if prel else entry.name
            if child not in self.touched:
                _remove(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                self._prune(entry.path, child)
