"""Tar writing, change lists and in-root path resolution, on real trees in tmp_path."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from sealpod.storage.changes import Change, overlay_changes, tree_changes
from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer
from sealpod.storage.tarwriter import resolve_in_root, write_changes, write_tree

ROOT = os.geteuid() == 0


def _tree(base: Path) -> Path:
    (base / "dir" / "sub").mkdir(parents=True)
    (base / "dir" / "sub" / "file").write_text("hello\n")
    (base / "dir" / "sub" / "file").chmod(0o4755)
    os.link(base / "dir" / "sub" / "file", base / "dir" / "hard")
    os.symlink("../etc/passwd", base / "dir" / "link")
    os.mkfifo(base / "fifo")
    long = base / ("d" * 60) / ("e" * 60)
    long.mkdir(parents=True)
    (long / "named-ünïcode").write_bytes(b"x" * 3000)
    os.setxattr(base / "dir" / "sub" / "file", "user.note", b"\x00\xffbin")
    if ROOT:
        os.chown(base / "dir", 1234, 5678)
        os.setxattr(base / "dir" / "sub" / "file", "security.capability",
                    bytes.fromhex("0100000200200000000000000000000000000000"))
    os.utime(base / "dir" / "sub" / "file", (1_600_000_000, 1_600_000_000))
    return base


def _archive(root: Path, **kw: object) -> bytes:
    buf = io.BytesIO()
    write_tree(root, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_tree_round_trips_through_tarfile_and_our_extractor(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    data = _archive(src)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert members["dir"].isdir() and members["dir/hard"].isfile()  # "hard" sorts first: it carries the data
    assert members["dir/sub/file"].islnk() and members["dir/sub/file"].linkname == "dir/hard"
    assert members["dir/link"].issym() and members["dir/link"].linkname == "../etc/passwd"
    assert members["fifo"].isfifo()
    assert members["dir/hard"].mode == 0o4755 and members["dir/hard"].mtime == 1_600_000_000
    longname = f"{'d' * 60}/{'e' * 60}/named-ünïcode"
    assert members[longname].size == 3000
    if ROOT:
        assert (members["dir"].uid, members["dir"].gid) == (1234, 5678)
    out = tmp_path / "out"
    out.mkdir()
    extract_layer(io.BytesIO(data), out, whiteouts=WhiteoutFormat.VFS)
    assert (out / "dir/sub/file").read_text() == "hello\n"
    assert os.stat(out / "dir/hard").st_ino == os.stat(out / "dir/sub/file").st_ino
    assert os.getxattr(out / "dir/sub/file", "user.note") == b"\x00\xffbin"
    if ROOT:
        assert os.getxattr(out / "dir/sub/file", "security.capability") == os.getxattr(
            src / "dir/sub/file", "security.capability")
        assert (os.stat(out / "dir").st_uid, os.stat(out / "dir").st_gid) == (1234, 5678)
    assert stat.S_IMODE(os.stat(out / "dir/sub/file").st_mode) == 0o4755
    assert (out / longname).read_bytes() == b"x" * 3000


def test_output_is_deterministic_and_owner_can_be_forced(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    assert _archive(src) == _archive(src)
    with tarfile.open(fileobj=io.BytesIO(_archive(src, owner=(7, 8)))) as tf:
        assert {(m.uid, m.gid) for m in tf.getmembers()} == {(7, 8)}


def test_names_are_sorted_parents_first(tmp_path: Path) -> None:
    for name in ("b", "a-b", "a/z", "a/c"):
        p = tmp_path / "t" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    names = tarfile.open(fileobj=io.BytesIO(_archive(tmp_path / "t"))).getnames()
    assert names == ["a", "a/c", "a/z", "a-b", "b"]


def _overlay_upper(tmp_path: Path) -> tuple[Path, Path]:
    lower = tmp_path / "lower"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root\n")
    (lower / "etc" / "shadow").write_text("x\n")
    (lower / "opq").mkdir()
    (lower / "opq" / "old").write_text("")
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "passwd").write_text("root\nnew\n")
    os.mknod(upper / "etc" / "shadow", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    (upper / "opq").mkdir()
    os.setxattr(upper / "opq", "trusted.overlay.opaque", b"y")
    (upper / "opq" / "fresh").write_text("")
    (upper / "added").write_text("a")
    return upper, lower


@pytest.mark.skipif(not ROOT, reason="whiteout devices and trusted.* xattrs need root")
def test_overlay_changes_and_diff_tar(tmp_path: Path) -> None:
    upper, lower = _overlay_upper(tmp_path)
    changes = overlay_changes(upper, [lower])
    assert changes == [Change("A", "/added"), Change("C", "/etc"), Change("C", "/etc/passwd"),
                       Change("D", "/etc/shadow"), Change("C", "/opq"), Change("A", "/opq/fresh")]
    buf = io.BytesIO()
    write_changes(upper, changes, buf)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert list(members) == ["added", "etc", "etc/passwd", "etc/.wh.shadow", "opq", "opq/.wh..wh..opq",
                             "opq/fresh"]
    assert not any(k.startswith("SCHILY.xattr.trusted.overlay") for m in members.values() for k in m.pax_headers)
    # applied on a copy of the lower layer, the diff gives the upper view
    view = tmp_path / "view"
    shutil.copytree(lower, view, symlinks=True)
    extract_layer(io.BytesIO(buf.getvalue()), view, whiteouts=WhiteoutFormat.VFS)
    assert sorted(os.listdir(view / "etc")) == ["passwd"] and os.listdir(view / "opq") == ["fresh"]


def test_tree_changes_compare_full_copies(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for base in (old, new):
        (base / "etc").mkdir(parents=True)
        (base / "etc" / "keep").write_text("k")
        os.utime(base / "etc" / "keep", (1, 1))
        (base / "gone").mkdir()
        (base / "gone" / "child").write_text("")
    (new / "etc" / "keep").write_text("changed!")
    (new / "gone" / "child").unlink()
    (new / "gone").rmdir()
    (new / "newdir" / "deep").mkdir(parents=True)
    changes = tree_changes(new, old)
    kinds = {c.path: c.kind for c in changes}
    assert kinds["/etc/keep"] == "C" and kinds["/gone"] == "D" and "/gone/child" not in kinds
    assert kinds["/newdir"] == "A" and kinds["/newdir/deep"] == "A"
    assert all(c.kind == "A" for c in tree_changes(new, None))


def test_resolve_in_root_never_leaves_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/", root / "x")
    os.symlink("../../../../..", root / "up")
    os.symlink("/etc", root / "abs")
    real = os.path.realpath(root)
    assert resolve_in_root(str(root), "/x/etc/shadow") == f"{real}/etc/shadow"
    assert resolve_in_root(str(root), "up/up/etc") == f"{real}/etc"
    assert resolve_in_root(str(root), "/abs/passwd") == f"{real}/etc/passwd"
    assert resolve_in_root(str(root), "/x", follow_last=False) == f"{real}/x"
    assert resolve_in_root(str(root), "/../../..") == real
