"""What a container (or an image's top layer) changed: ``diff``'s A/C/D list, and what ``commit`` archives.

For overlay the upper directory holds exactly the changed paths, so only it is walked;
whether a path is Added or Changed depends on whether the lower layers (read top-down,
honouring their whiteouts and opaque directories) have it.  For vfs a container is a full
copy, so it is compared with the tree it was copied from.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from sealpod.storage.tarwriter import OPAQUE_XATTRS, WHITEOUT_OPAQUE, WHITEOUT_PREFIX


class Change(NamedTuple):
    kind: str  # "A" added, "C" changed, "D" deleted
    path: str  # absolute inside the container, "/etc/passwd"


def _walk(root: str, rel: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """(relative path, lstat) of everything under ``root``, parents first, never following links."""
    base = os.path.join(root, rel) if rel else root
    try:
        names = sorted(os.listdir(base))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        child = f"{rel}/{name}" if rel else name
        try:
            st = os.lstat(os.path.join(root, child))
        except FileNotFoundError:
            continue
        yield child, st
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(root, child)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    for key in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, key, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return os.path.exists(os.path.join(path, WHITEOUT_OPAQUE))


def lower_has(lowers: Sequence[str], rel: str) -> bool:
    """Whether ``rel`` exists in the stack of overlay layer dirs ``lowers`` (topmost first)."""
    parts = rel.split("/")
    for layer in lowers:
        here = layer
        for i, part in enumerate(parts):
            here = os.path.join(here, part)
            try:
                st = os.lstat(here)
            except (FileNotFoundError, NotADirectoryError):
                break
            last = i == len(parts) - 1
            if _is_whiteout(st) or os.path.lexists(os.path.join(os.path.dirname(here), WHITEOUT_PREFIX + part)):
                return False
            if last:
                return True
            if not stat.S_ISDIR(st.st_mode):
                return False
            if _is_opaque(here):
                return _descend(here, parts[i + 1 :])
    return False


def _descend(start: str, rest: list[str]) -> bool:
    """Below an opaque directory only this layer counts."""
    here = start
    for part in rest:
        here = os.path.join(here, part)
        try:
            st = os.lstat(here)
        except (FileNotFoundError, NotADirectoryError):
            return False
        if _is_whiteout(st):
            return False
    return True


def overlay_changes(upper: Path | str, lowers: Sequence[Path | str]) -> list[Change]:
    """Changes recorded in an overlay upper dir over ``lowers`` (topmost first)."""
    low = [os.fspath(p) for p in lowers]
    out: list[Change] = []
    for rel, st in _walk(os.fspath(upper)):
        parent, _, base = rel.rpartition("/")
        if base == WHITEOUT_OPAQUE:
            continue
        if _is_whiteout(st):
            out.append(Change("D", "/" + rel))
        elif base.startswith(WHITEOUT_PREFIX) and stat.S_ISREG(st.st_mode):  # fuse-overlayfs form
            out.append(Change("D", "/" + (f"{parent}/" if parent else "") + base[len(WHITEOUT_PREFIX):]))
        else:
            out.append(Change("C" if lower_has(low, rel) else "A", "/" + rel))
    return sorted(out, key=lambda c: c.path)


def _differs(a: os.stat_result, b: os.stat_result, new: str, old: str) -> bool:
    if stat.S_IFMT(a.st_mode) != stat.S_IFMT(b.st_mode) or a.st_mode != b.st_mode:
        return True
    if (a.st_uid, a.st_gid) != (b.st_uid, b.st_gid):
        return True
    if stat.S_ISLNK(a.st_mode):
        return os.readlink(new) != os.readlink(old)
    if stat.S_ISCHR(a.st_mode) or stat.S_ISBLK(a.st_mode):
        return a.st_rdev != b.st_rdev
    if stat.S_ISDIR(a.st_mode):
        return a.st_mtime_ns != b.st_mtime_ns
    return a.st_size != b.st_size or a.st_mtime_ns != b.st_mtime_ns


def tree_changes(new: Path | str, old: Path | str | None) -> list[Change]:
    """Changes from the full tree ``old`` (None: nothing) to the full tree ``new`` (vfs)."""
    new_s = os.fspath(new)
    old_s = os.fspath(old) if old is not None else None
    out: list[Change] = []
    added_dirs: set[str] = set()  # new directories: everything below them is new too
    for rel, st in _walk(new_s):
        if rel.rpartition("/")[0] in added_dirs:
            out.append(Change("A", "/" + rel))
            if stat.S_ISDIR(st.st_mode):
                added_dirs.add(rel)
            continue
        try:
            before = os.lstat(os.path.join(old_s, rel)) if old_s is not None else None
        except (FileNotFoundError, NotADirectoryError):
            before = None
        if before is None:
            out.append(Change("A", "/" + rel))
        elif _differs(st, before, os.path.join(new_s, rel), os.path.join(old_s or "", rel)):
            out.append(Change("C", "/" + rel))
        else:
            continue
        if stat.S_ISDIR(st.st_mode) and (before is None or not stat.S_ISDIR(before.st_mode)):
            added_dirs.add(rel)
    if old_s is not None:
        out.extend(_deleted(new_s, old_s))
    return sorted(out, key=lambda c: c.path)


def _deleted(new: str, old: str) -> Iterator[Change]:
    gone: list[str] = []
    for rel, _st in _walk(old):
        if gone and rel.startswith(gone[-1] + "/"):
            continue
        try:
            st = os.lstat(os.path.join(new, rel))
        except (FileNotFoundError, NotADirectoryError):
            gone.append(rel)
            yield Change("D", "/" + rel)
            continue
        if not stat.S_ISDIR(st.st_mode):
            gone.append(rel)  # replaced by a non-directory: its old children went with it
