"""``image mount`` / ``image unmount`` as Podman 4.3.1 behaves (observed side by side on the rig's images):
read-only overlay of the image's layers, counted mounts kept across commands, Podman's listing and JSON,
``rmi`` of a mounted image, and the rootless refusal outside ``unshare``."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, mounts_under, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path / "sp", seeded_registry.host) as runner:
        runner.run("pull", "-q", "sealtest/multilayer")
        try:
            yield runner
        finally:
            runner.run("image", "unmount", "-a", "-f", check=False)


def _name(registry: RegistryServer, repo: str) -> str:
    return f"{registry.host}/sealtest/{repo}:latest"


def test_mount_is_read_only_tree_and_counted(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    path = sp.run("image", "mount", "sealtest/tiny").stdout.strip()
    top = sp.run("image", "inspect", "--format", "{{index .RootFS.Layers 0}}", "sealtest/tiny").stdout
    assert re.fullmatch(rf"{re.escape(str(sp.root))}/overlay/[0-9a-f]{{64}}/merged", path), top
    assert (Path(path) / "bin" / "busybox").is_file()
    with pytest.raises(OSError):
        (Path(path) / "new-file").write_text("x")
    assert sp.run("image", "mount", "sealtest/tiny").stdout.strip() == path  # second mount, same place
    listed = sp.run("image", "mount").stdout
    assert listed == f"{_name(seeded_registry, 'tiny')}  {path}\n"
    iid = sp.run("images", "-q", "--no-trunc", "sealtest/tiny").stdout.strip().removeprefix("sha256:")
    assert sp.run("image", "unmount", "sealtest/tiny").stdout == f"{iid}\n"  # count 2 -> 1: still mounted
    assert sp.run("image", "mount").stdout == listed and mounts_under(Path(path))
    assert sp.run("image", "umount", "sealtest/tiny").stdout == f"{iid}\n"
    assert sp.run("image", "mount").stdout == "" and not mounts_under(Path(path))
    assert sp.run("image", "unmount", "sealtest/tiny").stdout == ""  # not mounted: nothing, exit 0


def test_mount_several_json_and_all(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    out = sp.run("image", "mount", "sealtest/multilayer", "sealtest/tiny").stdout.splitlines()
    multi, tiny = _name(seeded_registry, "multilayer"), _name(seeded_registry, "tiny")
    assert [line.split()[0] for line in out] == [multi, tiny]
    assert out[0].index(" /") == out[1].index(" /") == len(multi) + 1  # one column, two spaces after the longest
    docs = json.loads(sp.run("image", "mount", "--format", "json").stdout)
    by_name = {d["Repositories"][0]: d for d in docs}
    assert set(by_name) == {multi, tiny}
    digest = sp.run("image", "inspect", "--format", "{{.Digest}}", "sealtest/tiny").stdout.strip()
    assert by_name[tiny]["Names"] == [digest] and set(by_name[tiny]) == {"id", "Names", "Repositories", "mountpoint"}
    assert sp.run("inspect", "--format", "{{.GraphDriver.Data.MergedDir}}", "sealtest/tiny").stdout.strip() == \
        by_name[tiny]["mountpoint"]
    assert len(sp.run("image", "mount", "-a").stdout.splitlines()) == 2  # every image: counts 2 each now
    assert len(sp.run("image", "unmount", "-a").stdout.splitlines()) == 2  # one less each: still mounted
    assert len(sp.run("image", "mount").stdout.splitlines()) == 2
    sp.run("image", "unmount", "-a")
    assert sp.run("image", "mount").stdout == ""


def test_force_unmount_and_errors(sp: SealpodRunner) -> None:
    for _ in range(3):
        sp.run("image", "mount", "sealtest/tiny")
    assert sp.run("image", "unmount", "-f", "sealtest/tiny").stdout.strip()
    assert sp.run("image", "mount").stdout == ""
    cases = [(("image", "mount", "nosuch", "sealtest/tiny"), "Error: nosuch: image not known"),
             (("image", "mount", "-a", "sealtest/tiny"),
              "Error: when using the --all switch, you may not pass any image names or IDs"),
             (("image", "mount", "--format", "xx"), 'Error: unknown --format argument: "xx"'),
             (("image", "unmount",), "Error: image name or ID must be specified"),
             (("image", "unmount", "sealtest/tiny", "nosuch"), "Error: nosuch: image not known")]
    for args, message in cases:
        res = sp.run(*args, check=False)
        assert (res.returncode, res.stderr.strip()) == (125, message), args
    assert sp.run("image", "mount").stdout == ""  # a failed lookup mounted nothing


def test_rmi_of_mounted_image_unmounts_it(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    """Podman 4.3.1 removes a mounted image (and leaks its mount); sealpod removes it and its mount."""
    path = sp.run("image", "mount", "sealtest/tiny").stdout.strip()
    sp.run("image", "mount", "sealtest/tiny")
    out = sp.run("rmi", "sealtest/tiny").stdout
    assert out.startswith(f"Untagged: {_name(seeded_registry, 'tiny')}\nDeleted: ")
    assert not mounts_under(Path(path)) and sp.run("image", "mount").stdout == ""
    sp.run("pull", "-q", "sealtest/tiny")  # its layer is multilayer's base, so it stayed: not mounted again
    assert sp.run("image", "mount").stdout == ""


def test_mounts_survive_and_are_listed_by_a_later_command(sp: SealpodRunner) -> None:
    """The command exits; the mount table and the database keep the mount (daemonless)."""
    path = sp.run("image", "mount", "sealtest/multilayer").stdout.strip()
    assert any(f" {path} " in line for line in mounts_under(Path(path)))
    assert (Path(path) / "srv" / "plain.txt").read_text() == "from an uncompressed layer\n"
    assert sp.run("image", "mount", "--format", "json").stdout.count(path) == 1


def test_rootless_refused_outside_unshare(seeded_registry: RegistryServer, tmp_path: Path) -> None:
    from tests.rig.rootless import rootless_store

    with rootless_store(seeded_registry.host) as rl:
        for args in (("image", "mount", "sealtest/tiny"), ("image", "mount")):
            res = rl.run(*args, check=False)
            assert res.returncode == 125 and res.stderr == (
                'Error: cannot run command "sealpod image mount" in rootless mode, '
                "must execute `sealpod unshare` first\n"), res.stderr
        res = rl.run("image", "mount", "nosuch", check=False)
        assert res.stderr == "Error: nosuch: image not known\n"  # the names are looked up first, as Podman
        assert rl.run("image", "unmount", "sealtest/tiny").stdout == ""
        inner = [*rl.argv()[rl.argv().index("-m") - 1:], "image", "mount", "sealtest/tiny"]
        path = rl.run("unshare", *inner).stdout.strip()
        assert rl.run("unshare", *inner).stdout.strip() == path
        assert path.endswith("/merged") and os.path.isabs(path)
        assert path in rl.run("unshare", *inner[:-3], "image", "mount").stdout  # kept in the user's namespace
        assert rl.run("image", "unmount", "sealtest/tiny").stdout.strip()
        assert rl.run("image", "unmount", "-a").stdout.strip()  # the second mount
        assert rl.run("unshare", *inner[:-3], "image", "mount").stdout == ""
