"""Writing tar archives from directories: ``export``, ``cp`` and the layers of ``commit``/``import``.

The output is deterministic for a given tree (entries sorted by name, whole-second mtimes,
no user or group names), so committing the same changes twice yields the same diff ID.
Trees are walked through directory file descriptors with ``O_NOFOLLOW`` and never through
path strings: a container that swaps a directory for a symlink while we read cannot make
us read host files.  Ownership, modes, hard links, devices, symlinks and xattrs (notably
``security.capability``) are kept; overlay bookkeeping xattrs never leave the host.

Diff tars follow the OCI layer format: deletions become ``.wh.NAME`` files and overlay
opaque directories get a ``.wh..wh..opq`` entry, whatever form they have on disk.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from sealpod.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from sealpod.storage.changes import Change

BLOCK = 512
WHITEOUT_PREFIX = ".wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
_DROPPED_XATTRS = ("trusted.overlay.", "user.overlay.", "security.selinux")
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_MAX_SYMLINKS = 40
_COPY_CHUNK = 1 << 20


def _octal(value: int, width: int) -> bytes:
    return f"{value:0{width - 1}o}".encode() + b"\0"


def _pax_record(key: str, value: bytes) -> bytes:
    body = b" " + key.encode() + b"=" + value + b"\n"
    size = len(body) + 1
    while len(str(size)) + len(body) != size:
        size = len(str(size)) + len(body)
    return str(size).encode() + body


def _split_name(name: bytes) -> tuple[bytes, bytes] | None:
    """ustar's prefix/name split, or None if the name needs a PAX record."""
    if len(name) <= 100:
        return b"", name
    cut = name.rfind(b"/", 0, 156)
    while cut > 0:
        if len(name) - cut - 1 <= 100 and cut <= 155:
            return name[:cut], name[cut + 1 :]
        cut = name.rfind(b"/", 0, cut)
    return None


class Meta(NamedTuple):
    """The metadata every entry has."""

    mode: int
    uid: int
    gid: int
    mtime: int


_WHITEOUT_META = Meta(0o644, 0, 0, 0)


def header(name: str, meta: Meta, *, size: int, kind: bytes, linkname: str = "", devmajor: int = 0,
           devminor: int = 0, xattrs: dict[str, bytes] | None = None) -> bytes:
    """One tar entry's header blocks (a PAX header first when ustar cannot say it all)."""
    mode, uid, gid, mtime = meta
    pax: list[bytes] = []
    raw = name.encode("utf-8", "surrogateescape")
    split = _split_name(raw) if raw.isascii() else None
    if split is None:
        pax.append(_pax_record("path", raw))
        split = (b"", raw[-100:])
    link = linkname.encode("utf-8", "surrogateescape")
    if len(link) > 100 or not link.isascii():
        pax.append(_pax_record("linkpath", link))
        link = link[:100]
    for key, value, limit in (("size", size, 0o77777777777), ("uid", uid, 0o7777777), ("gid", gid, 0o7777777)):
        if value > limit:
            pax.append(_pax_record(key, str(value).encode()))
    size_f, uid_f, gid_f = min(size, 0o77777777777), min(uid, 0o7777777), min(gid, 0o7777777)
    for key in sorted(xattrs or {}):
        pax.append(_pax_record("SCHILY.xattr." + key, (xattrs or {})[key]))
    out = b""
    if pax:
        data = b"".join(pax)
        base = name.rstrip("/").rpartition("/")[2].encode("utf-8", "surrogateescape")[:80]
        out = _block(b"PaxHeaders.0/" + base, b"", 0o644, 0, 0, len(data), mtime, b"x", b"", 0, 0)
        out += data + b"\0" * (-len(data) % BLOCK)
    return out + _block(split[1], split[0], mode, uid_f, gid_f, size_f, mtime, kind, link, devmajor, devminor)


def _block(name: bytes, prefix: bytes, mode: int, uid: int, gid: int, size: int, mtime: int, kind: bytes,
           link: bytes, major: int, minor: int) -> bytes:
    fields = [
        name.ljust(100, b"\0"), _octal(mode & 0o7777, 8), _octal(uid, 8), _octal(gid, 8), _octal(size, 12),
        _octal(max(mtime, 0), 12), b" " * 8, kind, link.ljust(100, b"\0"), b"ustar\x0000",
        b"\0" * 32, b"\0" * 32, _octal(major, 8), _octal(minor, 8), prefix.ljust(155, b"\0"), b"\0" * 12,
    ]
    blk = bytearray(b"".join(fields))
    blk[148:156] = f"{sum(blk):06o}".encode() + b"\0 "
    return bytes(blk)


class TarWriter:
    """Streams entries to ``out``; hard links are recognised within one archive.

    ``owner`` rewrites every entry's uid/gid (``cp`` into a container chowns to its user).
    ``refuse_whiteouts`` rejects ``.wh.`` names, which would delete files on extraction.
    """

    def __init__(self, out: BinaryIO, *, owner: tuple[int, int] | None = None,
                 refuse_whiteouts: bool = False) -> None:
        self.out = out
        self.owner = owner
        self.refuse_whiteouts = refuse_whiteouts
        self._links: dict[tuple[int, int], str] = {}

    def close(self) -> None:
        self.out.write(b"\0" * (2 * BLOCK))
        self.out.flush()

    def add_whiteout(self, arcname: str) -> None:
        parent, _, base = arcname.rstrip("/").rpartition("/")
        name = f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base
        self.out.write(header(name, _WHITEOUT_META, size=0, kind=b"0"))

    def add_entry(self, dfd: int, name: str, arcname: str, *, opaque_marker: bool = False) -> os.stat_result | None:
        """One entry (no recursion) for ``name`` in the open directory ``dfd``; None if skipped."""
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False) if name else os.fstat(dfd)
        if self.refuse_whiteouts and name.startswith(WHITEOUT_PREFIX):
            raise InvalidArgument(f'copying "{arcname}": names starting with ".wh." are reserved for whiteouts')
        mode = st.st_mode
        uid, gid = self.owner if self.owner is not None else (st.st_uid, st.st_gid)
        common = Meta(stat.S_IMODE(mode), uid, gid, int(st.st_mtime))
        if stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self._links:
                self.out.write(header(arcname, common, size=0, kind=b"1", linkname=self._links[key]))
                return st
            fd = os.open(name, _OPEN_FILE, dir_fd=dfd)
            try:
                self.out.write(header(arcname, common, size=st.st_size, kind=b"0", xattrs=_xattrs(fd)))
                self._copy(fd, st.st_size)
            finally:
                os.close(fd)
            if st.st_nlink > 1:
                self._links[key] = arcname
        elif stat.S_ISDIR(mode):
            fd = os.open(name, _OPEN_DIR, dir_fd=dfd) if name else os.dup(dfd)
            try:
                xattrs = _xattrs(fd)
                opaque = opaque_marker and _is_opaque(fd)
            finally:
                os.close(fd)
            self.out.write(header(arcname.rstrip("/") + "/", common, size=0, kind=b"5", xattrs=xattrs))
            if opaque:
                self.out.write(header(f"{arcname.rstrip('/')}/{WHITEOUT_OPAQUE}", _WHITEOUT_META, size=0,
                                      kind=b"0"))
        elif stat.S_ISLNK(mode):
            target = os.readlink(name, dir_fd=dfd)
            self.out.write(header(arcname, common, size=0, kind=b"2", linkname=target))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            kind = b"3" if stat.S_ISCHR(mode) else b"4"
            self.out.write(header(arcname, common, size=0, kind=kind, devmajor=os.major(st.st_rdev),
                                  devminor=os.minor(st.st_rdev)))
        elif stat.S_ISFIFO(mode):
            self.out.write(header(arcname, common, size=0, kind=b"6"))
        else:
            return None  # sockets and the like are not archived
        return st

    def _copy(self, fd: int, size: int) -> None:
        """Exactly ``size`` bytes: a file that changes while read is cut or zero-padded."""
        left = size
        while left > 0:
            chunk = os.read(fd, min(left, _COPY_CHUNK))
            if not chunk:
                break
            self.out.write(chunk)
            left -= len(chunk)
        self.out.write(b"\0" * (left + (-size % BLOCK)))

    def add_tree(self, dfd: int, arcname: str, *, include_root: bool = True,
                 exclude: Callable[[str], bool] | None = None) -> None:
        """The directory open as ``dfd`` and everything below it, sorted, parents first."""
        if include_root:
            self.add_entry(dfd, "", arcname)
        self._children(dfd, arcname, exclude)

    def _children(self, dfd: int, arcdir: str, exclude: Callable[[str], bool] | None) -> None:
        for name in sorted(os.listdir(dfd)):
            arcname = f"{arcdir}/{name}" if arcdir else name
            if exclude is not None and exclude(arcname):
                continue
            try:
                st = self.add_entry(dfd, name, arcname)
            except FileNotFoundError:
                continue  # removed while we walked (a running container)
            if st is not None and stat.S_ISDIR(st.st_mode):
                try:
                    child = os.open(name, _OPEN_DIR, dir_fd=dfd)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                try:
                    self._children(child, arcname, exclude)
                finally:
                    os.close(child)


def _xattrs(fd: int) -> dict[str, bytes] | None:
    try:
        names = os.listxattr(fd)
    except OSError:
        return None
    out: dict[str, bytes] = {}
    for key in names:
        if key.startswith(_DROPPED_XATTRS):
            continue
        try:
            out[key] = os.getxattr(fd, key)
        except OSError:
            continue
    return out or None


def _is_opaque(fd: int) -> bool:
    for key in OPAQUE_XATTRS:
        try:
            if os.getxattr(fd, key) == b"y":
                return True
        except OSError:
            continue
    return False


# --------------------------------------------------------------------------- front doors


def write_tree(root: str | os.PathLike[str], out: BinaryIO, *, arcname: str = "",
               include_root: bool = False, owner: tuple[int, int] | None = None,
               refuse_whiteouts: bool = False, exclude: Callable[[str], bool] | None = None) -> None:
    """A whole directory tree (``export``, ``import``-like copies, ``cp`` of a directory);
    ``exclude`` (given each member's name) leaves a member and all below it out."""
    writer = TarWriter(out, owner=owner, refuse_whiteouts=refuse_whiteouts)
    fd = os.open(root, _OPEN_DIR)
    try:
        writer.add_tree(fd, arcname, include_root=include_root, exclude=exclude)
    finally:
        os.close(fd)
    writer.close()


def write_changes(root: str | os.PathLike[str], changes: Iterable[Change], out: BinaryIO) -> None:
    """A layer diff: each added or changed path as found under ``root``, each deletion a whiteout.

    ``root`` is an overlay upper dir or a vfs container copy; the changes list names every
    path to archive (directories are not recursed into).
    """
    writer = TarWriter(out)
    rootfd = os.open(root, _OPEN_DIR)
    try:
        for change in sorted(changes, key=lambda c: c.path):
            rel = change.path.strip("/")
            if change.kind == "D":
                writer.add_whiteout(rel)
                continue
            parent, _, base = rel.rpartition("/")
            pfd = _open_below(rootfd, parent)
            try:
                writer.add_entry(pfd, base, rel, opaque_marker=True)
            except FileNotFoundError:
                pass
            finally:
                if pfd != rootfd:
                    os.close(pfd)
    finally:
        os.close(rootfd)
    writer.close()


def _open_below(rootfd: int, rel: str) -> int:
    """Open a directory under ``rootfd`` one component at a time, never following symlinks."""
    fd = rootfd
    for part in rel.split("/") if rel else []:
        nxt = os.open(part, _OPEN_DIR, dir_fd=fd)
        if fd != rootfd:
            os.close(fd)
        fd = nxt
    return fd


# --------------------------------------------------------------------------- paths in a root


def resolve_in_root(root: str, path: str, *, follow_last: bool = True) -> str:
    """The on-disk path of ``path`` as a process chrooted at ``root`` would see it.

    Symlinks are followed inside the root: absolute targets restart at ``root`` and ``..``
    stops at it, so ``x -> /`` or ``../../..`` can never lead out.  Missing components are
    kept as they are (the caller decides whether a missing path is an error).
    """
    root = os.path.realpath(root)
    todo = [p for p in reversed(path.split("/")) if p]
    stack: list[str] = []
    links = 0
    while todo:
        part = todo.pop()
        if part == ".":
            continue
        if part == "..":
            if stack:
                stack.pop()
            continue
        here = os.path.join(root, *stack, part)
        try:
            st = os.lstat(here)
        except (FileNotFoundError, NotADirectoryError):
            stack.append(part)
            continue
        if stat.S_ISLNK(st.st_mode) and (todo or follow_last):
            links += 1
            if links > _MAX_SYMLINKS:
                raise NotFound(f'"{path}": too many levels of symbolic links')
            target = os.readlink(here)
            if target.startswith("/"):
                stack = []
            todo.extend(p for p in reversed(target.split("/")) if p)
            continue
        stack.append(part)
    return os.path.join(root, *stack) if stack else root
