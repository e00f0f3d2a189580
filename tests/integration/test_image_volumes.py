"""Image VOLUMEs at create/run (``--image-volume``), ``--volumes-from``, and VOLUME in builds:
real runc/conmon containers, compared with what Podman 4.3.1 does on this machine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "localhost/ivol"
HEX64 = re.compile(r"[0-9a-f]{64}")
CONTAINERFILE = """\
FROM {host}/sealtest/tiny
RUN mkdir -p /data && echo seeded > /data/seed && chown 7:8 /data && chmod 0750 /data
VOLUME /data
VOLUME ["/cache", "/data2/"]
RUN echo later > /data/later && echo x > /cache/f && touch /kept
CMD ["sh"]
"""


def _build(runner: SealpodRunner, base: Path, host: str) -> None:
    ctx = base / "ivol-ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Containerfile").write_text(CONTAINERFILE.format(host=host))
    runner.run("build", "-q", "-t", IMAGE, str(ctx))


@pytest.fixture(scope="module")
def iv(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    base = tmp_path_factory.mktemp("ivol")
    with store_with_image(base, seeded_registry.host) as runner:
        _build(runner, base, seeded_registry.host)
        yield runner


def _mounts(runner: SealpodRunner, ctr: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(runner.run("inspect", "--format", "{{json .Mounts}}", ctr).stdout)
    return out


def _by_dest(runner: SealpodRunner, ctr: str) -> dict[str, dict[str, Any]]:
    return {m["Destination"]: m for m in _mounts(runner, ctr)}


def _volumes(runner: SealpodRunner) -> set[str]:
    return set(runner.run("volume", "ls", "-q").stdout.split())


def test_build_discards_what_run_writes_under_a_volume(iv: SealpodRunner) -> None:
    """As Buildah: a RUN after VOLUME sees the image's content there, but its writes are not committed."""
    out = iv.run("run", "--rm", "--image-volume", "ignore", IMAGE, "sh", "-c",
                 "ls -A /data; ls -A /cache; stat -c '%u:%g %a' /data; test -d /data2 && ls /kept").stdout
    assert out.splitlines() == ["seed", "7:8 750", "/kept"]
    volumes = json.loads(iv.run("image", "inspect", "--format", "{{json .Config.Volumes}}", IMAGE).stdout)
    assert volumes == {"/data": {}, "/cache": {}, "/data2/": {}}
    assert iv.run("ps", "-aq").stdout == ""


def test_bind_mode_makes_anonymous_volumes_with_copy_up(iv: SealpodRunner) -> None:
    before = _volumes(iv)
    ctr = iv.run("create", "--name", "iv-bind", IMAGE, "sh", "-c",
                 "cat /data/seed; stat -c '%u:%g %a' /data; cat /data/count 2>/dev/null; "
                 "echo x >> /data/count").stdout.strip()
    mounts = _by_dest(iv, ctr)
    assert sorted(mounts) == ["/cache", "/data", "/data2"]
    names = {m["Name"] for m in mounts.values()}
    assert all(HEX64.fullmatch(n) for n in names) and len(names) == 3
    assert _volumes(iv) - before == names  # created at create, listed by volume ls
    data = mounts["/data"]
    assert data == {"Type": "volume", "Name": data["Name"], "Source": str(iv.root / "volumes" / data["Name"] / "_data"),
                    "Destination": "/data", "Driver": "local", "Mode": "",
                    "Options": ["nodev", "exec", "nosuid", "rbind"], "RW": True, "Propagation": "rprivate"}
    doc = json.loads(iv.run("volume", "inspect", data["Name"]).stdout)[0]
    assert doc["Anonymous"] is True and doc["NeedsCopyUp"] is True
    assert iv.run("start", "-a", ctr).stdout.splitlines() == ["seeded", "7:8 750"]
    assert iv.run("start", "-a", ctr).stdout.splitlines() == ["seeded", "7:8 750", "x"]  # the volume persisted
    assert (Path(data["Source"]) / "count").read_text() == "x\nx\n"
    assert "NeedsCopyUp" not in json.loads(iv.run("volume", "inspect", data["Name"]).stdout)[0]


def test_rm_keeps_them_rm_v_and_prune_remove_them(iv: SealpodRunner) -> None:
    iv.run("create", "--name", "iv-keep", IMAGE)
    kept = {m["Name"] for m in _mounts(iv, "iv-keep")}
    iv.run("rm", "iv-keep")
    assert kept <= _volumes(iv)
    removed = set(iv.run("volume", "prune", "-f").stdout.split())
    assert kept <= removed and not kept & _volumes(iv)
    iv.run("create", "--name", "iv-rmv", IMAGE)
    gone = {m["Name"] for m in _mounts(iv, "iv-rmv")}
    iv.run("volume", "prune", "-f")
    assert gone <= _volumes(iv)  # in use: prune leaves them
    iv.run("rm", "-v", "iv-rmv")
    assert not gone & _volumes(iv)
    before = _volumes(iv)
    assert iv.run("run", "--rm", IMAGE, "cat", "/data/seed").stdout == "seeded\n"
    assert _volumes(iv) == before


def test_tmpfs_and_ignore_modes_and_a_bad_mode(iv: SealpodRunner) -> None:
    before = _volumes(iv)
    out = iv.run("run", "--rm", "--image-volume", "tmpfs", IMAGE, "sh", "-c",
                 "cat /data/seed; grep -E ' /(data|data2|cache) ' /proc/mounts | cut -d' ' -f2,3 | sort").stdout
    assert out.splitlines() == ["seeded", "/cache tmpfs", "/data tmpfs", "/data2 tmpfs"]
    ctr = iv.run("create", "--image-volume=tmpfs", IMAGE).stdout.strip()
    assert _mounts(iv, ctr) == []  # Podman does not list tmpfs mounts
    iv.run("rm", ctr)
    out = iv.run("run", "--rm", "--image-volume", "ignore", IMAGE, "sh", "-c",
                 "echo new > /data/new; cat /data/seed; grep -cE ' /(data|data2|cache) ' /proc/mounts || true").stdout
    assert out.splitlines() == ["seeded", "0"]
    assert _volumes(iv) == before
    res = iv.run("run", "--rm", "--image-volume", "BIND", IMAGE, "true", check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: invalid image volume mode "BIND" required value: '
                                                 "bind, tmpfs, ignore\n")


def test_containers_conf_sets_the_default_mode(iv: SealpodRunner, tmp_path: Path) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nimage_volume_mode = "tmpfs"\n')
    env = dict(iv.env)
    iv.env["CONTAINERS_CONF_OVERRIDE"] = str(conf)
    try:
        out = iv.run("run", "--rm", IMAGE, "sh", "-c", "grep -E ' /data ' /proc/mounts | cut -d' ' -f3").stdout
        assert out == "tmpfs\n"
        out = iv.run("run", "--rm", "--image-volume", "ignore", IMAGE, "grep", "-c", " /data ", "/proc/mounts",
                     check=False).stdout
        assert out == "0\n"
    finally:
        iv.env.clear()
        iv.env.update(env)


def test_user_mounts_win_over_image_volumes(iv: SealpodRunner, tmp_path: Path) -> None:
    (tmp_path / "host.txt").write_text("host\n")
    ctr = iv.run("create", "-v", "iv-named:/data", "--tmpfs", "/cache", "-v", f"{tmp_path}:/data2/", IMAGE,
                 "sh", "-c", "cat /data/seed /data2/host.txt").stdout.strip()
    mounts = _by_dest(iv, ctr)
    assert mounts["/data"]["Name"] == "iv-named"
    assert mounts["/data2/"]["Type"] == "bind" and "/cache" not in mounts
    assert len(mounts) == 2
    assert iv.run("start", "-a", ctr).stdout == "seeded\nhost\n"  # a named volume is copied up too
    iv.run("rm", "-v", ctr)
    assert "iv-named" in _volumes(iv)
    iv.run("volume", "rm", "iv-named")


def test_volumes_from_shares_image_and_anonymous_volumes(iv: SealpodRunner, tmp_path: Path) -> None:
    iv.run("create", "--name", "iv-src", "-v", "/extra", "-v", f"{tmp_path}:/hostdir", "--tmpfs", "/scratch",
           IMAGE, "sh", "-c", "echo from-src > /data/shared; echo e > /extra/e")
    iv.run("start", "-a", "iv-src")
    src = _by_dest(iv, "iv-src")
    dst = _by_dest(iv, iv.run("create", "--name", "iv-dst", "--volumes-from", "iv-src:ro", IMAGE).stdout.strip())
    assert set(dst) == {"/data", "/cache", "/data2", "/extra", "/hostdir"}
    assert all(dst[d].get("Name") == src[d].get("Name") and dst[d]["RW"] is False for d in dst)
    out = iv.run("run", "--rm", "--volumes-from", "iv-src", IMAGE, "sh", "-c",
                 "cat /data/shared /extra/e; touch /data/rw && echo writable").stdout
    assert out.splitlines() == ["from-src", "e", "writable"]
    res = iv.run("start", "-a", "iv-dst", check=False)
    assert res.returncode == 0
    res = iv.run("run", "--rm", "--volumes-from", "iv-src:ro", IMAGE, "touch", "/data/x", check=False)
    assert res.returncode == 1 and "Read-only file system" in res.stderr + res.stdout
    iv.run("rm", "-v", "iv-src")  # the volumes iv-dst still uses stay
    assert {m["Name"] for m in dst.values() if m["Type"] == "volume"} <= _volumes(iv)
    iv.run("rm", "-v", "iv-dst")


def test_cp_reaches_the_anonymous_volume(iv: SealpodRunner, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("copied in\n")
    ctr = iv.run("create", IMAGE, "cat", "/data/in.txt").stdout.strip()
    iv.run("cp", str(tmp_path / "in.txt"), f"{ctr}:/data/in.txt")
    source = Path(_by_dest(iv, ctr)["/data"]["Source"])
    assert (source / "in.txt").read_text() == "copied in\n"
    assert iv.run("start", "-a", ctr).stdout == "copied in\n"
    iv.run("cp", f"{ctr}:/data/in.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "copied in\n"
    iv.run("rm", "-v", ctr)


def test_volumes_from_errors(iv: SealpodRunner) -> None:
    res = iv.run("create", "--volumes-from", "iv-nope", IMAGE, check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: looking up container "iv-nope" for volumes-from: '
                                                 'no container with name or ID "iv-nope" found: no such container\n')
    res = iv.run("create", "--volumes-from", "iv-nope:bad", IMAGE, check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: invalid option "bad" specified - volumes from another '
                                                 "container can only use z,ro,rw options\n")


def test_clone_and_commit_keep_working(iv: SealpodRunner) -> None:
    iv.run("run", "--name", "iv-orig", IMAGE, "sh", "-c", "echo v > /data/v; echo u > /u")
    iv.run("container", "clone", "iv-orig", "iv-clone")
    orig, clone = _by_dest(iv, "iv-orig"), _by_dest(iv, "iv-clone")
    assert sorted(clone) == sorted(orig) == ["/cache", "/data", "/data2"]
    assert not {m["Name"] for m in orig.values()} & {m["Name"] for m in clone.values()}  # its own volumes
    iv.run("commit", "-q", "iv-orig", "localhost/ivol-committed")
    out = iv.run("run", "--rm", "--image-volume", "ignore", "localhost/ivol-committed", "sh", "-c",
                 "cat /u; ls -A /data").stdout
    assert out == "u\nseed\n"  # the volume's content is not part of the commit
    iv.run("rm", "-v", "iv-orig", "iv-clone")
    iv.run("rmi", "localhost/ivol-committed")


@pytest.fixture(scope="module")
def api_image(api: ApiService, seeded_registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    _build(api.runner, tmp_path_factory.mktemp("ivol-api"), seeded_registry.host)
    return IMAGE


def test_docker_api_create_mounts_image_volumes(api: ApiService, api_image: str, tmp_path: Path) -> None:
    out = api.docker("run", "--rm", api_image, "sh", "-c",
                     "cat /data/seed; grep -cE ' /(data|data2|cache) ' /proc/mounts").stdout
    assert out == "seeded\n3\n"
    ctr = api.docker("create", "-v", f"{tmp_path}:/data", "-v", "/anon", api_image).stdout.strip()
    doc = json.loads(api.docker("inspect", ctr).stdout)[0]
    mounts = {m["Destination"]: m for m in doc["Mounts"]}
    assert mounts["/data"]["Type"] == "bind" and mounts["/data"]["Source"] == str(tmp_path)
    assert {d: mounts[d]["Type"] for d in ("/cache", "/data2", "/anon")} == dict.fromkeys(
        ("/cache", "/data2", "/anon"), "volume")
    assert HEX64.fullmatch(mounts["/cache"]["Name"])
    api.docker("rm", "-v", ctr)
    assert mounts["/cache"]["Name"] not in api.docker("volume", "ls", "-q").stdout.split()
    src = api.docker("create", "--name", "iv-api-src", api_image, "sh", "-c", "echo s > /data/s").stdout.strip()
    api.docker("start", "-a", src)
    assert api.docker("run", "--rm", "--volumes-from", "iv-api-src", api_image, "cat", "/data/s").stdout == "s\n"
    api.docker("rm", "-v", src)
