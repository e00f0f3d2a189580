from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from sealpod.errors import DigestMismatch, LayerError
from sealpod.storage.tarlayer import ExtractResult, WhiteoutFormat, clean_path, extract_layer

OVERLAY, VFS = WhiteoutFormat.OVERLAY, WhiteoutFormat.VFS
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root")
MTIME = 1_600_000_000
# security.capability v2 granting cap_net_raw (bit 13) permitted+effective
CAP_NET_RAW = bytes.fromhex("0100000200200000000000000000000000000000")


# --------------------------------------------------------------------------- helpers


def entry(
    name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **kw: Any
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = MTIME
    info.size = len(data) if kind in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    for key, value in kw.items():
        setattr(info, key, value)
    return info, data


def d(name: str, **kw: Any) -> tuple[tarfile.TarInfo, bytes]:
    return entry(name, tarfile.DIRTYPE, **kw)


def f(name: str, data: bytes = b"x", **kw: Any) -> tuple[tarfile.TarInfo, bytes]:
    return entry(name, tarfile.REGTYPE, data, **kw)


def sym(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    return entry(name, tarfile.SYMTYPE, linkname=target)


def hard(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    return entry(name, tarfile.LNKTYPE, linkname=target)


def make_tar(*entries: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return raw.getvalue()


def extract(tar: bytes, dest: Path, fmt: WhiteoutFormat = OVERLAY, **kw: Any) -> ExtractResult:
    dest.mkdir(exist_ok=True)
    return extract_layer(io.BytesIO(tar), dest, whiteouts=fmt, **kw)


def snapshot(top: Path) -> dict[str, tuple[int, int, int, int, bytes]]:
    """Everything observable about a tree, to prove an extraction left it alone."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            body = p.read_bytes() if stat.S_ISREG(st.st_mode) else b""
            out[str(p)] = (st.st_mode, st.st_nlink, st.st_mtime_ns, st.st_uid, body)
    st = top.lstat()
    out[str(top)] = (st.st_mode, st.st_nlink, st.st_mtime_ns, st.st_uid, b"")
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "sentinel").write_text("keep me")
    (out / "sub").mkdir()
    (out / "sub" / "inner").write_text("inner")
    return out


# --------------------------------------------------------------------------- content


def test_regular_dirs_symlinks_hardlinks(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    tar = make_tar(
        d("etc", mode=0o750),
        f("etc/hosts", b"127.0.0.1 localhost\n", mode=0o600),
        sym("etc/link", "hosts"),
        hard("etc/hard", "etc/hosts"),
        f("deep/implied/parent/file", b"p"),
        f("usr/bin/tool", b"#!/bin/sh\n", mode=0o4755),
        f("usr/bin/sgid", b"", mode=0o2711),
        d("tmp", mode=0o1777),
    )
    res = extract(tar, dest)
    assert res.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert res.uncompressed_size == len(tar)
    assert (dest / "etc/hosts").read_bytes() == b"127.0.0.1 localhost\n"
    assert stat.S_IMODE((dest / "etc/hosts").stat().st_mode) == 0o600
    assert stat.S_IMODE((dest / "etc").stat().st_mode) == 0o750
    assert os.readlink(dest / "etc/link") == "hosts"
    assert (dest / "etc/hard").stat().st_ino == (dest / "etc/hosts").stat().st_ino
    assert (dest / "deep/implied/parent/file").read_bytes() == b"p"
    assert stat.S_IMODE((dest / "usr/bin/tool").stat().st_mode) == 0o4755
    assert stat.S_IMODE((dest / "usr/bin/sgid").stat().st_mode) == 0o2711
    assert stat.S_IMODE((dest / "tmp").stat().st_mode) == 0o1777
    # mtimes, including directories whose content was written after them
    for p in ("etc", "etc/hosts", "tmp", "usr/bin/tool"):
        assert (dest / p).stat().st_mtime == MTIME, p
    assert os.lstat(dest / "etc/link").st_mtime == MTIME


@needs_root
def test_ownership_applied_when_root(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(make_tar(d("home", uid=1000, gid=1000), f("home/a", uid=1234, gid=5678), sym("s", "x")), dest)
    st = (dest / "home/a").stat()
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert (dest / "home").stat().st_uid == 1000


@needs_root
def test_setuid_survives_chown(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(
        make_tar(f("su", b"bin", mode=0o4755, uid=0, gid=0), f("sg", b"b", mode=0o2755, uid=7, gid=7)), dest
    )
    assert stat.S_IMODE((dest / "su").stat().st_mode) == 0o4755
    assert stat.S_IMODE((dest / "sg").stat().st_mode) == 0o2755


@needs_root
def test_capability_xattr_from_pax(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    info, data = f("usr/bin/ping", b"\x7fELF", mode=0o755)
    info.pax_headers = {
        "SCHILY.xattr.security.capability": CAP_NET_RAW.decode("utf-8", "surrogateescape"),
        "SCHILY.xattr.user.comment": "hello",
        "SCHILY.xattr.trusted.overlay.opaque": "y",  # forged overlay metadata: dropped
    }
    extract(make_tar(info_data := (info, data)), dest)
    assert info_data
    p = dest / "usr/bin/ping"
    assert os.getxattr(p, "security.capability") == CAP_NET_RAW
    assert os.getxattr(p, "user.comment") == b"hello"
    assert "trusted.overlay.opaque" not in os.listxattr(p)


@needs_root
def test_device_nodes_and_fifo(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    tar = make_tar(
        entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        entry("dev/loop0", tarfile.BLKTYPE, devmajor=7, devminor=0, mode=0o660),
        entry("run/fifo", tarfile.FIFOTYPE, mode=0o622),
    )
    extract(tar, dest)
    st = os.lstat(dest / "dev/null")
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert stat.S_IMODE(st.st_mode) == 0o666
    assert stat.S_ISBLK(os.lstat(dest / "dev/loop0").st_mode)
    assert stat.S_ISFIFO(os.lstat(dest / "run/fifo").st_mode)
    assert stat.S_IMODE(os.lstat(dest / "run/fifo").st_mode) == 0o622
    rootless = tmp_path / "rl"
    extract(tar, rootless, rootless=True)
    assert not (rootless / "dev/null").exists()
    assert stat.S_ISFIFO(os.lstat(rootless / "run/fifo").st_mode)


def test_long_names_gnu_and_pax(tmp_path: Path) -> None:
    long = "/".join(["component-" + str(i) for i in range(30)]) + "/file"
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        dest = tmp_path / f"l{fmt}"
        extract(make_tar(f(long, b"deep"), sym("ln", long + "-target-" * 10), fmt=fmt), dest)
        assert (dest / long).read_bytes() == b"deep"
        assert os.readlink(dest / "ln") == long + "-target-" * 10


def test_replacing_entries_of_other_types(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    tar = make_tar(
        d("a"),
        f("a/inside"),
        f("a", b"now a file"),  # file over dir
        f("b"),
        d("b"),
        f("b/x"),  # dir over file
        sym("c", "a"),
        f("c", b"file over symlink"),
        f("e", b"old"),
        f("e", b"new"),  # duplicate: last wins
    )
    extract(tar, dest)
    assert (dest / "a").read_bytes() == b"now a file"
    assert (dest / "b/x").is_file()
    assert not (dest / "c").is_symlink() and (dest / "c").read_bytes() == b"file over symlink"
    assert (dest / "e").read_bytes() == b"new"


def test_absolute_names_are_made_relative(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(make_tar(f("/etc/abs", b"a"), f("./rel/./x", b"b"), hard("/etc/h", "/etc/abs")), dest)
    assert (dest / "etc/abs").read_bytes() == b"a"
    assert (dest / "rel/x").read_bytes() == b"b"
    assert (dest / "etc/h").stat().st_ino == (dest / "etc/abs").stat().st_ino


def test_symlinked_parent_is_resolved_inside_root(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(make_tar(d("usr/lib"), sym("lib", "usr/lib"), f("lib/libc.so", b"c")), dest)
    assert (dest / "usr/lib/libc.so").read_bytes() == b"c"
    assert (dest / "lib").is_symlink()


def test_clean_path() -> None:
    assert clean_path("./a//b/./c/") == "a/b/c"
    assert clean_path("/a/../../b") == "b"
    assert clean_path("a/../b") == "b"
    assert clean_path("./") == ""
    with pytest.raises(LayerError):
        clean_path("../x")
    with pytest.raises(LayerError):
        clean_path("a/../../x")


# --------------------------------------------------------------------------- whiteouts


def test_overlay_whiteouts(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(
        make_tar(d("etc"), f("etc/.wh.passwd"), f("opq/.wh..wh..opq"), f("opq/new"), f(".wh..wh.plnk")), dest
    )
    st = os.lstat(dest / "etc/passwd")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert not (dest / "etc/.wh.passwd").exists()
    if ROOT:
        assert os.getxattr(dest / "opq", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(dest / "opq")) == ["new"]
    assert not (dest / ".wh..wh.plnk").exists()


def lower(dest: Path) -> None:
    """What a vfs layer is applied onto: a copy of the parent layers."""
    for p in ("keep/a", "gone/x", "op1/old", "op1/sub/old", "op2/old", "op2/mixed/old", "file"):
        (dest / p).parent.mkdir(parents=True, exist_ok=True)
        (dest / p).write_text("lower")


def test_vfs_whiteouts_delete(tmp_path: Path) -> None:
    dest = tmp_path / "v"
    dest.mkdir()
    lower(dest)
    extract(
        make_tar(f(".wh.gone"), f("keep/.wh.a"), f(".wh.file"), f(".wh.missing"), f("nodir/.wh.x")), dest, VFS
    )
    assert not (dest / "gone").exists()
    assert not (dest / "keep/a").exists() and (dest / "keep").is_dir()
    assert not (dest / "file").exists()
    assert not any(p.name.startswith(".wh.") for p in dest.rglob("*"))


def test_vfs_opaque_marker_before_and_after_own_entries(tmp_path: Path) -> None:
    dest = tmp_path / "v"
    dest.mkdir()
    lower(dest)
    tar = make_tar(
        f("op1/.wh..wh..opq"),
        f("op1/new", b"layer"),  # marker first
        f("op2/mixed/added", b"layer"),
        d("op2/fresh"),
        f("op2/.wh..wh..opq"),  # marker last
    )
    extract(tar, dest, VFS)
    assert sorted(os.listdir(dest / "op1")) == ["new"]
    assert sorted(os.listdir(dest / "op2")) == ["fresh", "mixed"]
    assert sorted(os.listdir(dest / "op2/mixed")) == ["added"]
    assert (dest / "keep/a").read_text() == "lower"


# --------------------------------------------------------------------------- hostile input


def assert_refused_or_contained(tar: bytes, tmp_path: Path, outside: Path, fmt: WhiteoutFormat) -> Path:
    dest = tmp_path / "dest"
    before = snapshot(outside)
    try:
        extract(tar, dest, fmt)
    except LayerError:
        pass
    assert snapshot(outside) == before
    return dest


@pytest.mark.parametrize("fmt", [OVERLAY, VFS])
@pytest.mark.parametrize(
    "case",
    [
        "dotdot",
        "dotdot_nested",
        "abs_symlink_parent",
        "rel_symlink_parent",
        "symlink_replaces_dir",
        "hardlink_dotdot",
        "hardlink_abs",
        "hardlink_via_symlink",
        "hardlink_to_symlink_then_write",
        "whiteout_dotdot",
        "whiteout_dots",
        "whiteout_via_symlink",
        "opaque_via_symlink",
        "file_over_outside_symlink",
        "dir_mode_after_replace",
        "symlink_loop",
        "deep_dotdot_symlink",
    ],
)
def test_hostile_layers_stay_inside(case: str, fmt: WhiteoutFormat, tmp_path: Path, outside: Path) -> None:
    o = str(outside)
    up = os.path.relpath(outside, tmp_path / "dest")  # "../outside"
    cases = {
        "dotdot": [f(f"{up}/sentinel", b"pwned"), f(f"{up}/new", b"pwned")],
        "dotdot_nested": [d("a"), f(f"a/../{up}/sentinel", b"pwned")],
        "abs_symlink_parent": [sym("a", o), f("a/sentinel", b"pwned"), f("a/sub/inner", b"pwned")],
        "rel_symlink_parent": [sym("a", "../../../../../../../.." + o), f("a/sentinel", b"pwned")],
        "symlink_replaces_dir": [
            d("d"),
            f("d/x"),
            sym("d", o),
            f("d/sentinel", b"pwned"),
            d("d/sub", mode=0o700),
        ],
        "hardlink_dotdot": [hard("h", f"{up}/sentinel"), f("h", b"pwned")],
        "hardlink_abs": [hard("h", f"{o}/sentinel")],
        "hardlink_via_symlink": [sym("l", o), hard("h", "l/sentinel")],
        "hardlink_to_symlink_then_write": [sym("l", f"{o}/sentinel"), hard("h", "l"), f("h", b"pwned")],
        "whiteout_dotdot": [f(f"{up}/.wh.sentinel")],
        "whiteout_dots": [f(".wh.."), f("x/.wh..")],
        "whiteout_via_symlink": [sym("s", o), f("s/.wh.sentinel"), f("s/.wh.sub")],
        "opaque_via_symlink": [sym("s", o), f("s/.wh..wh..opq")],
        "file_over_outside_symlink": [sym("f", f"{o}/sentinel"), f("f", b"pwned"), sym("g", o), d("g")],
        "dir_mode_after_replace": [d("d", mode=0o777), sym("d", o), d("x", mode=0o700)],
        "symlink_loop": [sym("a", "b"), sym("b", "a"), f("a/x")],
        "deep_dotdot_symlink": [d("a/b/c"), sym("a/b/c/up", "../../../../.."), f("a/b/c/up/sentinel", b"p")],
    }
    dest = assert_refused_or_contained(make_tar(*cases[case]), tmp_path, outside, fmt)
    if dest.exists():
        for p in dest.rglob("*"):  # whatever landed, landed inside
            assert os.path.realpath(p.parent).startswith(str(dest))


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "x/../../../evil"])
def test_dotdot_escape_is_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="escapes"):
        extract(make_tar(f(name)), tmp_path / "dest")


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="symbolic links"):
        extract(make_tar(sym("a", "b"), sym("b", "a"), f("a/x")), tmp_path / "dest")


def test_hardlink_target_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="hardlink"):
        extract(make_tar(hard("h", "nothere")), tmp_path / "dest")


# --------------------------------------------------------------------------- streams and digests


SAMPLE = make_tar(d("a"), f("a/b", os.urandom(5000)), f("c", b"c" * 70000), sym("d", "a/b"))


@pytest.mark.parametrize("codec", ["plain", "gzip", "zstd"])
def test_codecs_share_the_diff_id(codec: str, tmp_path: Path) -> None:
    blob = {
        "plain": SAMPLE,
        "gzip": gzip.compress(SAMPLE),
        "zstd": zstandard.ZstdCompressor().compress(SAMPLE),
    }
    res = extract(blob[codec], tmp_path / codec)
    assert res == ExtractResult("sha256:" + hashlib.sha256(SAMPLE).hexdigest(), len(SAMPLE))
    assert (tmp_path / codec / "c").read_bytes() == b"c" * 70000


def test_diff_id_covers_trailing_padding(tmp_path: Path) -> None:
    padded = SAMPLE + b"\0" * 10240
    res = extract(gzip.compress(padded), tmp_path / "l")
    assert res.diff_id == "sha256:" + hashlib.sha256(padded).hexdigest()


def test_expected_diff_id(tmp_path: Path) -> None:
    good = "sha256:" + hashlib.sha256(SAMPLE).hexdigest()
    assert extract(SAMPLE, tmp_path / "ok", expected_diff_id=good).diff_id == good
    with pytest.raises(DigestMismatch, match="Digest did not match"):
        extract(SAMPLE, tmp_path / "bad", expected_diff_id="sha256:" + "0" * 64)


def test_empty_blob_is_an_empty_layer(tmp_path: Path) -> None:
    res = extract(b"", tmp_path / "l")
    assert res.uncompressed_size == 0 and os.listdir(tmp_path / "l") == []


@pytest.mark.parametrize("cut", [100, 600, 3000, -1500])
def test_truncated_layers(cut: int, tmp_path: Path) -> None:
    with pytest.raises(LayerError):
        extract(gzip.compress(SAMPLE)[:cut], tmp_path / "gz")
    if cut > 0 and cut % 512:
        with pytest.raises(LayerError):
            extract(SAMPLE[:cut], tmp_path / "plain")


@pytest.mark.parametrize("blob", [b"\x1f\x8b" + os.urandom(5000), os.urandom(5000), b"not a tar" * 100])
def test_garbage_is_an_error(blob: bytes, tmp_path: Path) -> None:
    with pytest.raises(LayerError):
        extract(blob, tmp_path / "l")


def test_large_file_spanning_many_chunks(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    tar = make_tar(f("big", data), f("after", b"ok"))
    extract(gzip.compress(tar, 1), tmp_path / "l")
    assert (tmp_path / "l/big").read_bytes() == data
    assert (tmp_path / "l/after").read_bytes() == b"ok"


def test_vfs_whiteout_spares_entries_of_the_same_layer(tmp_path: Path) -> None:
    dest = tmp_path / "v"
    dest.mkdir()
    lower(dest)
    extract(make_tar(f("mine", b"layer"), f(".wh.mine"), f("keep/.wh.a")), dest, VFS)
    assert (dest / "mine").read_bytes() == b"layer"
    assert not (dest / "keep/a").exists()


def test_rootless_overlay_opaque_uses_user_xattr_and_marker(tmp_path: Path) -> None:
    dest = tmp_path / "l"
    extract(make_tar(f("opq/.wh..wh..opq"), f("opq/new"), f(".wh.gone")), dest, rootless=True)
    assert os.getxattr(dest / "opq", "user.overlay.opaque") == b"y"
    assert (dest / "opq/.wh..wh..opq").is_file()
    st = os.lstat(dest / "gone") if (dest / "gone").exists() or os.path.lexists(dest / "gone") else None
    # as root a 0:0 device can be made even in rootless mode; otherwise the .wh. file stays
    assert (st is not None and stat.S_ISCHR(st.st_mode)) or (dest / ".wh.gone").is_file()


def test_implicit_parents_ignore_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        extract(make_tar(f("a/b/c", mode=0o644)), tmp_path / "l")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "l/a/b").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "l/a/b/c").stat().st_mode) == 0o644
