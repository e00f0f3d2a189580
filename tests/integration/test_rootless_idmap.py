"""Containers with their own user namespace see the image's files through idmapped mounts: the
layers on disk keep their owners and nothing is copied up; ``SEALPOD_IDMAP=0`` forces the old
chown copy, which says so once on stderr."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.rootless import RootlessRunner, rootless_store
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
PROGRESS = "Copying and changing ownership of the image layers for user namespace ("
PROBE = "stat -c %u /bin/busybox; touch /made-here; cat /proc/self/uid_map"


@pytest.fixture(scope="module")
def root_store(seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    # runc reaches the rootfs as the container's root: the base must be searchable by others
    base = Path(tempfile.mkdtemp(prefix="sealpod-idmap-"))
    base.chmod(0o711)
    try:
        with store_with_image(base, seeded_registry.host) as runner:
            yield runner
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _layer_busybox(root: Path) -> Path:
    return next(p for p in (root / "overlay").glob("*/diff/bin/busybox"))


def _run_probe(runner: SealpodRunner, name: str) -> tuple[list[str], str, Path]:
    """Run the probe in a new --userns=auto container: (its output lines, stderr, its upper dir)."""
    out = runner.run("--log-level", "info", "run", "--name", name, "--network", "none", "--userns", "auto", IMAGE,
                     "sh", "-c", PROBE)
    cid = runner.run("container", "inspect", "--format", "{{.Id}}", name).stdout.strip()
    return out.stdout.splitlines(), out.stderr, runner.root / "overlay-containers" / cid / "diff"


def _host_root(uid_map_line: str) -> int:
    inner, host, _ = (int(x) for x in uid_map_line.split())
    assert inner == 0
    return host


def test_rootful_auto_uses_idmapped_layers(root_store: SealpodRunner) -> None:
    lines, err, diff = _run_probe(root_store, "idmapped")
    try:
        host = _host_root(lines[1])
        assert lines[0] == "0", "the image's root-owned files must look root-owned inside"
        assert PROGRESS not in err
        assert _layer_busybox(root_store.root).stat().st_uid == 0, "a layer file was chowned on disk"
        assert not (diff / "bin" / "busybox").exists(), "the image was copied up"
        made = diff / "made-here"
        assert made.stat().st_uid == host != 0, "a file the container made must belong to its mapped root"
        # a second start mounts again, idmapped again
        again = root_store.run("start", "-a", "idmapped")
        assert again.stdout.splitlines()[0] == "0" and PROGRESS not in again.stderr
    finally:
        root_store.run("rm", "-f", "idmapped")


def test_rootful_auto_fallback_copies_with_one_progress_line(root_store: SealpodRunner) -> None:
    root_store.env["SEALPOD_IDMAP"] = "0"
    quiet = root_store.run("run", "--rm", "--network", "none", "--userns", "auto", IMAGE, "true")
    assert quiet.stderr == "", "by default the copy is silent, as Podman's: scripts read run's output"
    try:
        lines, err, diff = _run_probe(root_store, "chowned")
    finally:
        del root_store.env["SEALPOD_IDMAP"]
    try:
        host = _host_root(lines[1])
        assert lines[0] == "0"
        assert err.count(PROGRESS) == 1, err  # at --log-level info only: Podman's chown copy says nothing
        assert _layer_busybox(root_store.root).stat().st_uid == 0
        assert (diff / "bin" / "busybox").stat().st_uid == host, "the fallback copies up chowned files"
        # the copy is done once: a restart (idmapped mounts allowed again) neither repeats nor idmaps
        again = root_store.run("start", "-a", "chowned")
        assert again.stdout.splitlines()[0] == "0" and PROGRESS not in again.stderr
    finally:
        root_store.run("rm", "-f", "chowned")


@pytest.fixture(scope="module")
def rl(seeded_registry: RegistryServer) -> Iterator[RootlessRunner]:
    with rootless_store(seeded_registry.host, IMAGE) as runner:
        yield runner


def test_rootless_auto_keeps_layers_and_maps_owners(rl: RootlessRunner) -> None:
    """A rootless user may idmap only filesystems its namespace mounted: on kernels where overlay
    cannot be idmapped and the layers sit on the host's filesystem, the chown copy is the way, and
    the user is told once."""
    lines, err, diff = _run_probe(rl, "rl-idmap")
    try:
        assert lines[0] == "0"
        layer_owner = _layer_busybox(rl.root).stat().st_uid
        assert layer_owner == rl.uid, "the layers on disk keep the user's ownership"
        made = (diff / "made-here").stat().st_uid
        assert made != rl.uid and made != 0, "the container's files belong to its subordinate range"
        copied = (diff / "bin" / "busybox").exists()
        assert copied == (PROGRESS in err), "a copy-up happens exactly when the progress line says so"
        assert err.count(PROGRESS) <= 1
    finally:
        rl.run("rm", "-f", "rl-idmap")



def test_bind_mount_with_the_idmap_option_keeps_working(root_store: SealpodRunner) -> None:
    src = root_store.base / "bind-src"
    src.mkdir(exist_ok=True)
    src.chmod(0o755)
    (src / "f").write_text("bound\n")
    (src / "f").chmod(0o644)
    out = root_store.run("run", "--rm", "--network", "none", "--userns", "auto", "-v", f"{src}:/x:idmap", IMAGE,
                         "cat", "/x/f")
    assert out.stdout == "bound\n"
