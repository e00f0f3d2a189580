"""Subordinate id files and the id maps built from them: pure logic on real files."""

from __future__ import annotations

from pathlib import Path

from sealpod.rootless.idmap import (
    IdMapping,
    is_initial_namespace,
    mapped_size,
    newidmap_args,
    parse_id_map,
    to_host,
    userns_mappings,
)
from sealpod.rootless.subid import SubIdRange, parse_subid_lines, read_subids


def test_ranges_by_name_and_by_numeric_uid_in_file_order(tmp_path: Path) -> None:
    f = tmp_path / "subuid"
    f.write_text("# comment\n\nalice:100000:65536\nbob:165536:65536\n1000:300000:1000\nalice:400000:10\n")
    assert read_subids(f, "alice", 1000) == [SubIdRange(100000, 65536), SubIdRange(300000, 1000),
                                             SubIdRange(400000, 10)]
    assert read_subids(f, "bob") == [SubIdRange(165536, 65536)]
    assert read_subids(f, "carol", 1002) == []


def test_malformed_lines_are_skipped_not_fatal() -> None:
    lines = ["alice:100000", "alice:x:10", "alice:5:0", "alice:1:2:3", " alice : 7 : 8 ", "alice:200000:5"]
    assert parse_subid_lines(lines, "alice") == [SubIdRange(200000, 5)]


def test_missing_file_means_no_ranges(tmp_path: Path) -> None:
    assert read_subids(tmp_path / "nope", "alice") == []


def test_namespace_maps_root_to_the_user_then_the_ranges() -> None:
    maps = userns_mappings(1000, [SubIdRange(100000, 65536), SubIdRange(300000, 10)])
    assert maps == [IdMapping(0, 1000, 1), IdMapping(1, 100000, 65536), IdMapping(65537, 300000, 10)]
    assert newidmap_args(maps) == ["0", "1000", "1", "1", "100000", "65536", "65537", "300000", "10"]
    assert mapped_size(maps) == 65547
    assert to_host(maps, 0) == 1000 and to_host(maps, 1) == 100000 and to_host(maps, 65537) == 300000
    assert to_host(maps, 65547) is None


def test_user_without_subordinate_ids_maps_only_itself() -> None:
    assert userns_mappings(1000, []) == [IdMapping(0, 1000, 1)]


def test_proc_id_map_parsing_and_the_initial_namespace() -> None:
    text = "         0       1001          1\n         1     100000      65536\n"
    assert parse_id_map(text) == [IdMapping(0, 1001, 1), IdMapping(1, 100000, 65536)]
    assert is_initial_namespace(parse_id_map("0 0 4294967295\n"))
    assert not is_initial_namespace(parse_id_map(text))
    assert IdMapping(1, 2, 3).to_oci() == {"containerID": 1, "hostID": 2, "size": 3}
