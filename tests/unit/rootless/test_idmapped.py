"""Idmapped mounts: the switch, the map text, and a real idmapped view of a directory (as root)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sealpod.rootless.idmap import IdMapping
from sealpod.rootless.idmapped import _map_text, disabled_by, idmap_dirs, unsupported
from sealpod.rootless.usermode import count_files


def test_disabled_switch() -> None:
    assert disabled_by({"SEALPOD_IDMAP": "0"}) and disabled_by({"SEALPOD_IDMAP": "off"})
    assert not disabled_by({}) and not disabled_by({"SEALPOD_IDMAP": "1"})


def test_map_text_is_what_uid_map_takes() -> None:
    assert _map_text([IdMapping(0, 100000, 1000), IdMapping(1000, 0, 1)]) == "0 100000 1000\n1000 0 1\n"


def test_refusals_mean_fallback_other_errors_do_not() -> None:
    assert unsupported(OSError(errno.EINVAL, "")) and unsupported(OSError(errno.EPERM, ""))
    assert not unsupported(OSError(errno.ENOENT, ""))


def test_count_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "f").write_text("")
    os.symlink("f", tmp_path / "a" / "l")
    assert count_files(os.fspath(tmp_path)) == 4


@pytest.mark.skipif(os.geteuid() != 0, reason="idmapping a host filesystem needs root")
def test_idmapped_view_shifts_owners_without_touching_files(tmp_path: Path) -> None:
    from sealpod.storage.mount import unmount

    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    os.chown(src / "f", 5, 6)
    view = tmp_path / "view"
    try:
        idmap_dirs([src], [view], [IdMapping(0, 300000, 100)], [IdMapping(0, 400000, 100)])
    except OSError as e:
        if unsupported(e):
            pytest.skip(f"this kernel cannot idmap {tmp_path}: {e.strerror}")
        raise
    try:
        st = (view / "f").stat()
        assert (st.st_uid, st.st_gid) == (300005, 400006)
        assert (src / "f").stat().st_uid == 5
    finally:
        unmount(os.fspath(view), detach=True)
