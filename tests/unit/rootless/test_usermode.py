"""--userns modes and --uidmap/--gidmap as id maps, and the allocation of --userns=auto ranges."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealpod.errors import InvalidArgument
from sealpod.rootless.idmap import IdMapping
from sealpod.rootless.usermode import (
    UsernsRequest,
    allocate,
    keep_id_maps,
    nomap_maps,
    parse_idmap_flag,
    parse_userns,
    shift_owners,
)


def test_modes_parse_with_their_options() -> None:
    assert parse_userns("").mode == "host" and parse_userns("host").mode == "host"
    assert parse_userns("keep-id") == UsernsRequest("keep-id")
    assert parse_userns("keep-id:uid=7,gid=8") == UsernsRequest("keep-id", uid=7, gid=8)
    assert parse_userns("nomap") == UsernsRequest("nomap")
    assert parse_userns("auto") == UsernsRequest("auto") and parse_userns("auto:size=500").size == 500
    assert parse_userns("ns:/proc/1/ns/user") == UsernsRequest("ns", path="/proc/1/ns/user")


@pytest.mark.parametrize("bad", ["bogus", "keep-id:uid=x", "keep-id:size=3", "auto:size=0", "ns:relative",
                                 "nomap:x=1"])
def test_bad_modes_are_one_line_errors(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_userns(bad)


def test_uidmap_alone_serves_for_gids_too_and_excludes_userns() -> None:
    req = parse_userns("", ["0:100000:1000", "1000:300000:10"])
    assert req.mode == "private"
    assert req.uid_maps == req.gid_maps == (IdMapping(0, 100000, 1000), IdMapping(1000, 300000, 10))
    assert parse_userns("", ["0:1:5"], ["0:2:5"]).gid_maps == (IdMapping(0, 2, 5),)
    with pytest.raises(InvalidArgument):
        parse_userns("auto", ["0:1:5"])
    with pytest.raises(InvalidArgument):
        parse_idmap_flag("0:1")
    assert parse_idmap_flag("0:1:2/5:6:7") == [IdMapping(0, 1, 2), IdMapping(5, 6, 7)]


def test_keep_id_puts_the_user_at_its_own_uid() -> None:
    assert keep_id_maps(65537, 1000) == [IdMapping(0, 1, 1000), IdMapping(1000, 0, 1), IdMapping(1001, 1001, 64536)]
    assert keep_id_maps(2, 1) == [IdMapping(0, 1, 1), IdMapping(1, 0, 1)]
    with pytest.raises(InvalidArgument):
        keep_id_maps(100, 5000)
    assert nomap_maps(65537) == [IdMapping(0, 1, 65536)]
    with pytest.raises(InvalidArgument):
        nomap_maps(1)


def test_auto_ranges_never_overlap_the_taken_ones() -> None:
    pool = [(100000, 10000)]
    assert allocate(pool, [], 1024) == 100000
    assert allocate(pool, [(100000, 1024)], 1024) == 101024
    # a gap too small is skipped; an out-of-order list does not matter
    assert allocate(pool, [(102000, 500), (100000, 1500)], 1024) == 102500
    assert allocate([(1, 5), (100, 50)], [(1, 2)], 10) == 100
    with pytest.raises(InvalidArgument, match="not enough subordinate ids"):
        allocate(pool, [(100000, 9500)], 1024)


def test_shift_owners_moves_every_entry_including_links(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown to other ids needs root")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    os.symlink("d", tmp_path / "link")
    os.chmod(tmp_path / "d" / "f", 0o4755)
    maps = [IdMapping(0, 200000, 1000)]
    assert shift_owners(os.fspath(tmp_path), maps, maps) == 4
    for p in (tmp_path, tmp_path / "d", tmp_path / "d" / "f", tmp_path / "link"):
        st = p.lstat()
        assert (st.st_uid, st.st_gid) == (200000, 200000)
    assert (tmp_path / "d" / "f").stat().st_mode & 0o7777 == 0o4755
    assert shift_owners(os.fspath(tmp_path), maps, maps) == 0  # 200000 is not a container id of these maps
