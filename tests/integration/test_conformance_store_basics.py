"""Store and lifecycle details Podman's system tests rely on (030-run "image with filesystem
permission", 045-start "--filter", 050-stop "can trap signal", 010-images "rm --force bogus"),
as Podman 4.3.1 behaves, against real runc, conmon and overlay mounts."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.images import BUSYBOX
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("store-basics"), seeded_registry.host) as runner:
        yield runner


def _rootfs_tar(path: Path, root_mode: int | None) -> Path:
    """busybox as /bin/sh; with ``root_mode`` the tar also has a "./" entry saying what / is."""
    with tarfile.open(path, "w") as tar:
        if root_mode is not None:
            root = tarfile.TarInfo("./")
            root.type, root.mode = tarfile.DIRTYPE, root_mode
            tar.addfile(root)
        for d in ("bin", "tmp"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        data = BUSYBOX.read_bytes()
        sh = tarfile.TarInfo("bin/sh")
        sh.size, sh.mode = len(data), 0o755
        tar.addfile(sh, io.BytesIO(data))
    return path


@pytest.mark.parametrize(("root_mode", "expected"), [(None, "555"), (0o700, "700"), (0o755, "755")])
def test_container_root_mode_follows_the_image_as_podman(ctr: SealpodRunner, tmp_path: Path,
                                                        root_mode: int | None, expected: str) -> None:
    """030-run "podman run image with filesystem permission": a layer without "./" has a 555 root."""
    name = f"localhost/rootmode:{expected}"
    ctr.run("import", str(_rootfs_tar(tmp_path / "r.tar", root_mode)), name)
    out = ctr.run("run", "--rm", name, "/bin/sh", "-c", "stat -c %a /")
    assert out.stdout.strip() == expected
    mounted = ctr.run("image", "mount", name).stdout.strip()
    try:
        assert oct(Path(mounted).stat().st_mode & 0o777)[2:] == expected
    finally:
        ctr.run("image", "unmount", name)
        ctr.run("rmi", name)


def test_build_from_scratch_in_a_fresh_store(tmp_path: Path) -> None:
    """The test image of Podman's suite is built FROM scratch, before any layer exists."""
    runner = SealpodRunner(tmp_path / "fresh")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    _rootfs_tar(ctx / "rootfs.tar", None)
    (ctx / "Containerfile").write_text("FROM scratch\nADD rootfs.tar /\nCMD [\"/bin/sh\"]\n")
    runner.run("build", "-q", "-t", "localhost/scratchy", str(ctx))
    assert runner.run("run", "--rm", "localhost/scratchy", "/bin/sh", "-c", "echo ok").stdout == "ok\n"


def test_rmi_force_forgives_a_missing_image(ctr: SealpodRunner) -> None:
    """010-images "podman image rm --force bogus": no output, exit 0; without --force exit 1."""
    out = ctr.run("image", "rm", "bogus", check=False)
    assert (out.returncode, out.stderr.strip()) == (1, "Error: bogus: image not known")
    out = ctr.run("image", "rm", "--force", "bogus")
    assert (out.stdout, out.stderr) == ("", "")


def test_start_filter_restart_policy_none_matches_the_default(ctr: SealpodRunner) -> None:
    """045-start "start --filter": a container made without --restart has policy "none"."""
    cid = ctr.run("create", IMAGE, "true").stdout.strip()
    try:
        assert ctr.run("start", "--filter", "restart-policy=always", cid).stdout == ""
        assert ctr.run("start", "--filter", "restart-policy=no", cid).stdout == ""
        assert ctr.run("start", "--filter", "restart-policy=none", cid).stdout == cid + "\n"
        ctr.run("wait", cid)
    finally:
        ctr.run("rm", "-f", cid)


def test_stop_takes_the_hidden_timeout_alias(ctr: SealpodRunner) -> None:
    """050-stop "can trap signal": ``stop --timeout=5`` is ``stop --time=5``."""
    cid = ctr.run("run", "-d", IMAGE, "sleep", "100").stdout.strip()
    try:
        assert ctr.run("stop", "--timeout=0", cid).stdout == cid + "\n"
        assert ctr.run("inspect", "--format", "{{.State.Status}}", cid).stdout.strip() == "exited"
        assert "--timeout" not in ctr.run("stop", "--help").stdout
    finally:
        ctr.run("rm", "-f", cid)
