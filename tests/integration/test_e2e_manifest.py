"""Podman 4.3.1 e2e manifest_test.go and push_test.go (``--compression-format``), against sealpod:
lists read through registries.conf prefixes, pushed with their instances to dir: and oci:, layers
recompressed on push; each test names the It block it mirrors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.rig import images as im
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"


@pytest.fixture
def sp(sealpod: SealpodRunner, seeded_registry: RegistryServer) -> SealpodRunner:
    """A runner where quay.io/e2e/* is served by the test registry's sealtest/*, as the e2e
    machines map quay.io/libpod to a local registry."""
    host = seeded_registry.host
    sealpod.write_registries_conf([host], [host], extra=f'[[registry]]\nprefix = "quay.io/e2e"\n'
                                                         f'location = "{host}/sealtest"\ninsecure = true\n')
    return sealpod


def _children(seed: im.SeedSet) -> list[str]:
    _, _, children = seed.indexes["sealtest/multiarch:latest"]
    return [c.manifest_digest for c in children]


def _inspect(sp: SealpodRunner, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(sp.run("manifest", "inspect", name).stdout)
    return doc


def _one_line_error(res: Any, code: int = 125) -> str:
    assert res.returncode == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    return str(lines[0])


def test_add_all_through_registries_conf_prefix(sp: SealpodRunner, seed_images: im.SeedSet) -> None:
    """e2e manifest_test.go: add --all (the list is named where registries.conf rewrites it)"""
    sp.run("manifest", "create", "foo")
    sp.run("manifest", "add", "--all", "foo", "docker://quay.io/e2e/multiarch:latest")
    out = sp.run("manifest", "inspect", "foo").stdout
    for digest in _children(seed_images):
        assert digest in out
    remote = _inspect(sp, "quay.io/e2e/multiarch:latest")  # inspect of a remote list, by its mapped name
    assert [m["digest"] for m in remote["manifests"]] == _children(seed_images)


def test_add_by_digest_with_arch_and_os_version(sp: SealpodRunner, seed_images: im.SeedSet) -> None:
    """e2e manifest_test.go: add w/ inspect, add with new version, annotate"""
    arm64 = _children(seed_images)[1]
    list_id = sp.run("manifest", "create", "foo").stdout.strip()
    sp.run("manifest", "inspect", list_id)
    sp.run("manifest", "add", "--arch=arm64", "--os-version", "7.7.7", "foo", f"docker://quay.io/e2e/multiarch@{arm64}")
    sp.run("manifest", "annotate", "--annotation", "hello=world", "--arch", "bar", "foo", arm64)
    out = sp.run("manifest", "inspect", "foo").stdout
    assert arm64 in out and "7.7.7" in out
    assert '"architecture": "bar"' in out and '"hello": "world"' in out


def test_inspect_of_a_local_plain_image_asks_the_registry(sp: SealpodRunner, seed_images: im.SeedSet) -> None:
    """e2e manifest_test.go: inspect (a pulled single image is no list: the registry's manifest is shown)"""
    sp.run("pull", "-q", "quay.io/e2e/tiny")
    doc = _inspect(sp, "quay.io/e2e/tiny")
    assert doc["mediaType"] == im.OCI_MANIFEST
    assert doc["config"]["digest"] == seed_images.images["sealtest/tiny:latest"].config.digest


def test_rm_of_a_tagged_list_only_untags(sp: SealpodRunner) -> None:
    """e2e manifest_test.go: tag (a list with two names: manifest rm of one leaves the other)"""
    sp.run("manifest", "create", "foobar")
    sp.run("tag", "foobar", "foobar2")
    res = sp.run("manifest", "rm", "foobar")
    assert "Untagged: localhost/foobar:latest" in res.stdout and "Deleted" not in res.stdout
    assert sp.run("manifest", "exists", "foobar2", check=False).returncode == 0
    assert "Deleted" in sp.run("manifest", "rm", "foobar2").stdout


def test_push_all_to_dir_writes_every_instance(sp: SealpodRunner, seed_images: im.SeedSet, tmp_path: Path) -> None:
    """e2e manifest_test.go: push --all, push (to dir:, instances read through registries.conf)"""
    sp.run("manifest", "create", "foo")
    sp.run("manifest", "add", "--all", "foo", "docker://quay.io/e2e/multiarch")
    for n, argv in enumerate((("manifest", "push", "--all", "foo"), ("push", "foo"))):
        dest = tmp_path / f"pushed{n}"
        dest.mkdir()
        sp.run(*argv, f"dir:{dest}")
        names = {p.name for p in dest.iterdir()}
        for digest in _children(seed_images):
            assert f"{digest.removeprefix('sha256:')}.manifest.json" in names
        lst = json.loads((dest / "manifest.json").read_text())
        assert [m["digest"] for m in lst["manifests"]] == _children(seed_images)


def test_push_progress_quiet_and_purge(sp: SealpodRunner, tmp_path: Path) -> None:
    """e2e manifest_test.go: push progress, push --rm to local directory (flags after the list name)"""
    sp.run("manifest", "create", "foo", "docker://quay.io/e2e/multiarch")
    dest = tmp_path / "pushed"
    dest.mkdir()
    assert sp.run("push", "foo", "-q", f"dir:{dest}").stderr == ""
    err = sp.run("push", "foo", f"dir:{dest}").stderr
    assert "Writing manifest list to image destination" in err and "Storing list signatures" in err
    sp.run("manifest", "push", "--purge", "foo", f"dir:{dest}")
    assert sp.run("images", "-q", "foo").stdout == ""
    res = sp.run("manifest", "rm", "foo", "bar", check=False)
    assert res.returncode != 0
    assert "foo: image not known" in res.stderr and "bar: image not known" in res.stderr


def test_push_list_zstd_to_oci(sp: SealpodRunner, seed_images: im.SeedSet, tmp_path: Path) -> None:
    """e2e manifest_test.go: push with compression-format (zstd layers; the list names the new manifests)"""
    sp.run("manifest", "create", "foo")
    sp.run("manifest", "add", "--all", "foo", "docker://quay.io/e2e/multiarch")
    dest = tmp_path / "oci"
    sp.run("push", "--compression-format=zstd", "foo", f"oci:{dest}")
    blobs = [p.read_bytes() for p in (dest / "blobs" / "sha256").iterdir()]
    assert any(b.startswith(ZSTD_MAGIC) for b in blobs)
    assert not any(b.startswith(GZIP_MAGIC) for b in blobs)
    top = json.loads((dest / "index.json").read_text())["manifests"]
    assert len(top) == 1 and top[0]["mediaType"] == im.OCI_INDEX
    lst = json.loads((dest / "blobs" / "sha256" / top[0]["digest"].removeprefix("sha256:")).read_bytes())
    amd64 = next(m for m in lst["manifests"] if m["platform"]["architecture"] == "amd64")
    assert amd64["digest"] != _children(seed_images)[0]
    inner = json.loads((dest / "blobs" / "sha256" / amd64["digest"].removeprefix("sha256:")).read_bytes())
    assert {layer["mediaType"] for layer in inner["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    other = SealpodRunner(tmp_path / "other")
    other.run("pull", "-q", f"oci:{dest}")  # what was written reads back: digests and zstd layers are right
    assert other.run("image", "ls", "-q").stdout.strip()


def test_push_image_compression_format(sp: SealpodRunner, seeded_registry: RegistryServer, tmp_path: Path) -> None:
    """e2e push_test.go: podman push to oci with compression-format (and to a registry, pulled back)"""
    sp.run("pull", "-q", "quay.io/e2e/tiny")
    dest = tmp_path / "oci"
    sp.run("push", "--compression-format=zstd", "--remove-signatures", "quay.io/e2e/tiny", f"oci:{dest}")
    blobs = [p.read_bytes() for p in (dest / "blobs" / "sha256").iterdir()]
    assert any(b.startswith(ZSTD_MAGIC) for b in blobs)
    gz = tmp_path / "gz"
    sp.run("push", "--compression-format", "gzip", "quay.io/e2e/tiny", f"oci:{gz}")  # already gzip: as stored
    assert not any(p.read_bytes().startswith(ZSTD_MAGIC) for p in (gz / "blobs" / "sha256").iterdir())
    target = f"{seeded_registry.host}/e2ezstd/tiny:1"
    sp.run("push", "-q", "--compression-format=zstd", "quay.io/e2e/tiny", target)
    other = SealpodRunner(tmp_path / "other", insecure_registries=[seeded_registry.host])
    other.run("pull", "-q", target)
    assert other.run("image", "inspect", "--format", "{{.Os}}", target).stdout.strip() == "linux"
    err = _one_line_error(sp.run("push", "--compression-format=lz4", "quay.io/e2e/tiny", f"oci:{dest}",
                                 check=False))
    assert "lz4" in err
