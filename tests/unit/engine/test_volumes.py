"""Volumes' pure parts (option checks, mount(2) arguments, path resolution, filters, inspect) and the
service's records on a real database in a temporary graph root (no container, no mount, no root)."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.engine import Engine, GlobalFlags
from sealpod.engine.volumes import (
    LocalOptions,
    Volume,
    build_filters,
    check_name,
    inspect_doc,
    mount_arguments,
    parse_options,
    parse_until,
    resolve_in_root,
)
from sealpod.errors import InvalidArgument, NoSuchVolume, VolumeExists

NOW = 1_700_000_000.0


@pytest.mark.parametrize("name", ["a", "data", "my-vol_1.x", "0abc"])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", ".x", "a b", "a/b", "é"])
def test_invalid_names_use_podmans_message(name: str) -> None:
    with pytest.raises(InvalidArgument, match=r"names must match \[a-zA-Z0-9\]"):
        check_name(name)


def test_tmpfs_options() -> None:
    opts = parse_options({"type": "tmpfs", "device": "tmpfs", "o": "size=4m,uid=1000,nodev"})
    assert opts == LocalOptions("tmpfs", "tmpfs", ("size=4m", "uid=1000", "nodev"), 1000, None, False)
    assert opts.needs_mount
    assert mount_arguments(opts) == ("tmpfs", "tmpfs", 4, "size=4m,uid=1000")


def test_bind_device_becomes_a_bind_mount() -> None:
    opts = parse_options({"type": "bind", "device": "/srv/x", "o": "bind,ro"})
    assert mount_arguments(opts) == ("/srv/x", "none", 4096 | 1, "")
    assert mount_arguments(parse_options({"device": "/srv/x", "o": "rbind"}))[2] == 4096 | 16384


def test_plain_volume_needs_no_mount_and_nocopy_is_kept() -> None:
    assert not parse_options({}).needs_mount
    assert parse_options({"o": "nocopy"}).nocopy
    assert parse_options({"o": "uid=5,gid=6"}) == LocalOptions(mount_options=("uid=5", "gid=6"), uid=5, gid=6)
    assert not parse_options({"o": "uid=5"}).needs_mount


@pytest.mark.parametrize(("options", "message"), [
    ({"foo": "bar"}, "invalid mount option foo for driver 'local': invalid argument"),
    ({"o": "size=1m"}, "volume options size and inodes not supported"),
    ({"o": "uid=abc"}, 'cannot convert uid "abc" to integer'),
])  # fmt: skip
def test_bad_options(options: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_options(options)


def test_resolve_in_root_never_leaves_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real" / "etc").mkdir(parents=True)
    (root / "etc").symlink_to("/real/etc")
    (root / "up").symlink_to("../../../..")
    (root / "loop").symlink_to("loop")
    assert resolve_in_root(root, "/etc") == root / "real" / "etc"
    assert resolve_in_root(root, "/etc/passwd") == root / "real" / "etc" / "passwd"
    assert resolve_in_root(root, "/up/etc") == root / "real" / "etc"
    assert resolve_in_root(root, "/../../x") == root / "x"
    assert resolve_in_root(root, "/missing/dir") == root / "missing" / "dir"
    with pytest.raises(InvalidArgument, match="too many levels of symbolic links"):
        resolve_in_root(root, "/loop")


def test_parse_until() -> None:
    assert parse_until("1h30m", NOW) == NOW - 5400
    assert parse_until("10s", NOW) == NOW - 10
    assert parse_until("1600000000", NOW) == 1_600_000_000
    assert parse_until("2020-09-13T12:26:40Z", NOW) == 1_600_000_000
    with pytest.raises(InvalidArgument, match='failed to parse time "soon"'):
        parse_until("soon", NOW)


def test_inspect_doc_follows_podman() -> None:
    vol = Volume("v", created=NOW, labels={"a": "b"}, options={"type": "tmpfs", "device": "tmpfs", "o": "uid=7",
                                                                "UID": "7"})
    doc = inspect_doc(vol, Path("/vols/v/_data"))
    assert list(doc) == ["Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Scope", "Options", "UID",
                         "MountCount", "NeedsCopyUp"]
    assert doc["UID"] == 7 and doc["Mountpoint"] == "/vols/v/_data"
    anon = inspect_doc(Volume("x", anonymous=True, needs_copy_up=False), Path("/d"))
    assert anon["Anonymous"] is True and "NeedsCopyUp" not in anon and anon["NeedsChown"] is True


def test_filters() -> None:
    a = Volume("alpha", created=NOW - 7200, labels={"tier": "db"}, options={"o": "bind"})
    b = Volume("beta", created=NOW, labels={})

    def match(spec: str, allowed: tuple[str, ...] = ("name", "label", "label!", "opt", "dangling", "until",
                                                     "driver", "scope")) -> list[str]:
        (pred,) = build_filters([spec], allowed, lambda v: v.name == "alpha", NOW)
        return [v.name for v in (a, b) if pred(v)]

    assert match("name=^al") == ["alpha"]
    assert match("name=a") == ["alpha", "beta"]
    assert match("label=tier") == ["alpha"]
    assert match("label=tier=web") == []
    assert match("label!=tier") == ["beta"]
    assert match("opt=o=bind") == ["alpha"]
    assert match("dangling=true") == ["beta"]
    assert match("until=1h") == ["alpha"]
    assert match("driver=local") == ["alpha", "beta"]
    with pytest.raises(InvalidArgument, match='"bogus" is an invalid volume filter'):
        match("bogus=1")
    with pytest.raises(InvalidArgument, match='"name" is an invalid volume filter'):
        match("name=x", ("label",))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = Engine.from_flags(GlobalFlags(root=tmp_path / "root", runroot=tmp_path / "run"),
                            env={"HOME": str(tmp_path), "SEALPOD_STORAGE_CONF": os.devnull,
                                 "CONTAINERS_CONF": os.devnull})
    yield eng
    eng.close()


def test_service_create_list_remove(engine: Engine) -> None:
    svc = engine.volumes
    vol = svc.create("data", labels={"k": "v"})
    assert svc.data_dir("data").is_dir() and svc.exists("data")
    with pytest.raises(VolumeExists, match="volume with name data already exists: volume already exists"):
        svc.create("data")
    assert svc.create("data", ignore=True) == vol
    assert svc.ensure("other").name == "other"
    assert [v.name for v in svc.list_volumes()] == ["data", "other"]
    assert [v.name for v in svc.list_volumes(["label=k=v", "name=^oth"])] == ["data", "other"]
    assert svc.prune(["label=k"]) == ["data"]
    assert svc.remove("other") == "other"
    assert not (svc.base / "other").exists()
    with pytest.raises(NoSuchVolume, match='no volume with name "other" found: no such volume'):
        svc.remove("other")


def test_service_export_import_round_trip(engine: Engine) -> None:
    svc = engine.volumes
    svc.create("src")
    (svc.data_dir("src") / "d").mkdir()
    (svc.data_dir("src") / "d" / "f").write_text("hello")
    buf = io.BytesIO()
    svc.export("src", buf)
    buf.seek(0)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tar:
        assert sorted(tar.getnames()) == ["d", "d/f"]
    svc.create("dst")
    svc.import_("dst", buf)
    assert (svc.data_dir("dst") / "d" / "f").read_text() == "hello"
