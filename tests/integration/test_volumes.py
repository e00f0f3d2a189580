"""Volumes end to end: the volume commands, and named, anonymous and tmpfs volumes in real containers."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def vol(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    """One store per module holding the tiny image; containers and volumes removed at the end."""
    with store_with_image(tmp_path_factory.mktemp("vol"), seeded_registry.host) as runner:
        yield runner


def _inspect(vol: SealpodRunner, name: str) -> dict[str, object]:
    return json.loads(vol.run("volume", "inspect", name).stdout)[0]  # type: ignore[no-any-return]


def test_create_inspect_ls_and_duplicate(vol: SealpodRunner) -> None:
    assert vol.run("volume", "create", "-l", "tier=db", "-l", "bare", "v-basic").stdout == "v-basic\n"
    doc = _inspect(vol, "v-basic")
    assert doc["Name"] == "v-basic" and doc["Driver"] == "local" and doc["Scope"] == "local"
    assert doc["Labels"] == {"tier": "db", "bare": ""}
    assert doc["Mountpoint"] == str(vol.root / "volumes" / "v-basic" / "_data")
    assert Path(str(doc["Mountpoint"])).is_dir()
    assert doc["NeedsCopyUp"] is True and doc["MountCount"] == 0
    dup = vol.run("volume", "create", "v-basic", check=False)
    assert dup.returncode == 125
    assert dup.stderr == "Error: volume with name v-basic already exists: volume already exists\n"
    assert vol.run("volume", "create", "--ignore", "v-basic").stdout == "v-basic\n"
    table = vol.run("volume", "ls").stdout.splitlines()
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert any(line.split() == ["local", "v-basic"] for line in table)
    assert "v-basic" in vol.run("volume", "ls", "-q", "--filter", "label=tier=db").stdout.split()
    assert "v-basic" not in vol.run("volume", "ls", "-q", "--filter", "label=tier=web").stdout.split()
    assert vol.run("volume", "ls", "--format", "{{.Name}}:{{.Driver}}", "--filter", "name=^v-basic$").stdout == \
        "v-basic:local\n"
    random_name = vol.run("volume", "create").stdout.strip()
    assert len(random_name) == 64 and all(c in "0123456789abcdef" for c in random_name)
    vol.run("volume", "rm", random_name)


def test_missing_volume_errors_and_exists(vol: SealpodRunner) -> None:
    assert vol.run("volume", "exists", "v-nope", check=False).returncode == 1
    vol.run("volume", "create", "v-here")
    assert vol.run("volume", "exists", "v-here").returncode == 0
    out = vol.run("volume", "inspect", "v-nope", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: inspecting object: no such volume v-nope\n")
    out = vol.run("volume", "rm", "v-nope", check=False)
    assert (out.returncode, out.stderr) == (1, 'Error: no volume with name "v-nope" found: no such volume\n')
    bad = vol.run("volume", "create", "bad name", check=False)
    assert bad.returncode == 125 and "names must match" in bad.stderr
    assert vol.run("volume", "rm", "v-here").stdout == "v-here\n"


def test_named_volume_persists_across_containers(vol: SealpodRunner) -> None:
    vol.run("run", "--rm", "-v", "v-data:/data", IMAGE, "sh", "-c", "echo kept > /data/file")
    assert vol.run("volume", "exists", "v-data").returncode == 0  # created on first use
    out = vol.run("run", "--rm", "--mount", "type=volume,source=v-data,target=/srv", IMAGE, "cat", "/srv/file")
    assert out.stdout == "kept\n"


def test_copy_up_of_image_content_into_empty_volume(vol: SealpodRunner) -> None:
    out = vol.run("run", "--rm", "-v", "v-etc:/etc", IMAGE, "cat", "/etc/passwd")
    assert out.stdout.startswith("root:x:0:0:")
    data = vol.root / "volumes" / "v-etc" / "_data"
    assert (data / "passwd").read_text().startswith("root:x:0:0:")
    doc = _inspect(vol, "v-etc")
    assert "NeedsCopyUp" not in doc and "NeedsChown" not in doc
    (data / "passwd").write_text("changed\n")  # a used volume is never filled again
    assert vol.run("run", "--rm", "-v", "v-etc:/etc", IMAGE, "cat", "/etc/passwd").stdout == "changed\n"
    nocopy = vol.run("run", "--rm", "-v", "v-nocopy:/etc:nocopy", IMAGE, "ls", "/etc").stdout.split()
    assert "passwd" not in nocopy and "group" not in nocopy


def test_in_use_volume_is_refused_then_forced(vol: SealpodRunner) -> None:
    ctr_id = vol.run("create", "--name", "v-user", "-v", "v-busy:/data", IMAGE, "true").stdout.strip()
    vol.run("start", "v-user")
    vol.run("wait", "v-user")
    out = vol.run("volume", "rm", "v-busy", check=False)
    assert out.returncode == 2
    assert out.stderr == (f"Error: volume v-busy is being used by the following container(s): {ctr_id}: "
                          "volume is being used\n")
    assert "v-busy" not in vol.run("volume", "prune", "-f").stdout.split()
    assert "v-busy" not in vol.run("volume", "ls", "-q", "--filter", "dangling=true").stdout.split()
    assert vol.run("volume", "rm", "-f", "v-busy").stdout == "v-busy\n"
    assert vol.run("container", "exists", "v-user", check=False).returncode == 1


def test_anonymous_volume_belongs_to_its_container(vol: SealpodRunner) -> None:
    vol.run("create", "--name", "v-anon", "-v", "/scratch", IMAGE, "sh", "-c", "echo x > /scratch/f")
    vol.run("start", "v-anon")
    vol.run("wait", "v-anon")
    anon = [d for d in json.loads(vol.run("volume", "inspect", "--all").stdout) if d.get("Anonymous")]
    assert len(anon) == 1 and len(str(anon[0]["Name"])) == 64
    assert (Path(str(anon[0]["Mountpoint"])) / "f").read_text() == "x\n"
    vol.run("start", "v-anon")  # a second start reuses the same volume
    vol.run("wait", "v-anon")
    assert len([d for d in json.loads(vol.run("volume", "inspect", "--all").stdout) if d.get("Anonymous")]) == 1
    vol.run("rm", "v-anon")
    assert str(anon[0]["Name"]) in vol.run("volume", "prune", "-f").stdout.split()


def test_export_and_import(vol: SealpodRunner, tmp_path: Path) -> None:
    vol.run("run", "--rm", "-v", "v-src:/data", IMAGE, "sh", "-c", "mkdir /data/d && echo hi > /data/d/x")
    archive = tmp_path / "v.tar"
    vol.run("volume", "export", "v-src", "-o", str(archive))
    with tarfile.open(archive) as tar:
        names = sorted(m.name for m in tar.getmembers())
    assert names == ["d", "d/x"]
    vol.run("volume", "create", "v-dst")
    vol.run("volume", "import", "v-dst", str(archive))
    assert (vol.root / "volumes" / "v-dst" / "_data" / "d" / "x").read_text() == "hi\n"
    missing = vol.run("volume", "import", "v-nope", str(archive), check=False)
    assert (missing.returncode, missing.stderr) == (125, "Error: no such volume v-nope\n")
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "hostile.tar").write_bytes(hostile.getvalue())
    assert vol.run("volume", "import", "v-dst", str(tmp_path / "hostile.tar"), check=False).returncode == 125
    assert not (vol.root / "volumes" / "v-dst" / "escape").exists()


def test_tmpfs_volume_mounted_only_while_used(vol: SealpodRunner) -> None:
    vol.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=4m,nodev", "v-tmp")
    data = str(vol.root / "volumes" / "v-tmp" / "_data")
    out = vol.run("run", "--rm", "-v", "v-tmp:/t", IMAGE, "sh", "-c",
                  "echo t > /t/f; grep ' /t ' /proc/mounts | cut -d' ' -f3")
    assert out.stdout == "tmpfs\n"
    assert data not in Path("/proc/self/mountinfo").read_text()
    assert _inspect(vol, "v-tmp")["MountCount"] == 0


def test_prune_filters_and_rm_all(vol: SealpodRunner) -> None:
    vol.run("volume", "create", "-l", "keep=yes", "v-keep")
    vol.run("volume", "create", "v-drop")
    pruned = vol.run("volume", "prune", "-f", "--filter", "label!=keep").stdout.split()
    assert "v-drop" in pruned and "v-keep" not in pruned
    assert vol.run("volume", "exists", "v-keep").returncode == 0
    bad = vol.run("volume", "ls", "--filter", "bogus=1", check=False)
    assert (bad.returncode, bad.stderr) == (125, 'Error: "bogus" is an invalid volume filter\n')
    vol.run("volume", "rm", "-a")
    assert vol.run("volume", "ls", "-q").stdout == ""


def test_rm_v_removes_anonymous_volumes_only(vol: SealpodRunner) -> None:
    vol.run("create", "--name", "v-rmv", "-v", "/anon", "-v", "v-named:/named", IMAGE, "true")
    vol.run("start", "v-rmv")
    vol.run("wait", "v-rmv")
    anon = [d["Name"] for d in json.loads(vol.run("volume", "inspect", "--all").stdout) if d.get("Anonymous")]
    assert len(anon) == 1
    vol.run("rm", "-v", "v-rmv")
    assert vol.run("volume", "exists", str(anon[0]), check=False).returncode == 1
    assert vol.run("volume", "exists", "v-named").returncode == 0
