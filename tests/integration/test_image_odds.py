"""Image corner cases checked side by side with Podman 4.3.1 on the rig's images: save's layer
compression per format, load's input errors, inspect's GraphDriver while an image is mounted."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path / "sp", seeded_registry.host, "sealtest/multilayer") as runner:
        yield runner


def _is_tar(data: bytes) -> bool:
    return data[257:262] == b"ustar" or (len(data) % 512 == 0 and not data.strip(b"\0"))  # or an empty tar


def _diff_ids(sp: SealpodRunner, image: str) -> list[str]:
    return json.loads(sp.run("image", "inspect", "--format", "{{json .RootFS.Layers}}", image).stdout)


def test_save_oci_dir_uncompressed_layers_are_their_diff_ids(sp: SealpodRunner, tmp_path: Path) -> None:
    out = tmp_path / "oci"
    sp.run("save", "-q", "--format", "oci-dir", "--uncompressed", "-o", str(out), "sealtest/multilayer")
    index = json.loads((out / "index.json").read_text())
    manifest = json.loads((out / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    assert [layer["digest"] for layer in manifest["layers"]] == _diff_ids(sp, "sealtest/multilayer")
    for layer in manifest["layers"]:
        blob = (out / "blobs/sha256" / layer["digest"].split(":")[1]).read_bytes()
        assert _is_tar(blob) and len(blob) == layer["size"]
        assert f"sha256:{hashlib.sha256(blob).hexdigest()}" == layer["digest"]
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    # the image reads back the same: same ID
    iid = sp.run("images", "-q", "--no-trunc", "sealtest/multilayer").stdout.strip()
    sp.run("rmi", "sealtest/multilayer")
    assert sp.run("pull", "-q", f"oci:{out}").stdout.strip() == iid.removeprefix("sha256:")


def test_save_oci_archive_without_uncompressed_keeps_layers_as_stored(sp: SealpodRunner, tmp_path: Path) -> None:
    archive = tmp_path / "oci.tar"
    sp.run("save", "-q", "--format", "oci-archive", "-o", str(archive), "sealtest/multilayer")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        body = tar.extractfile(f"blobs/sha256/{index['manifests'][0]['digest'].split(':')[1]}")
        manifest = json.loads(body.read())  # type: ignore[union-attr]
    assert {f"blobs/sha256/{layer['digest'].split(':')[1]}" for layer in manifest["layers"]} <= set(names)
    assert [layer["digest"] for layer in manifest["layers"]] != _diff_ids(sp, "sealtest/multilayer")


def test_save_docker_dir_is_a_dir_image_with_plain_layers(sp: SealpodRunner, tmp_path: Path) -> None:
    """As Podman: the ``dir:`` layout (manifest.json, version, blobs by hex digest), a Docker schema 2
    manifest, layers uncompressed unless --compress."""
    out = tmp_path / "dd"
    sp.run("save", "-q", "--format", "docker-dir", "-o", str(out), "sealtest/multilayer")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert (out / "version").read_text().startswith("Directory Transport Version")
    assert [layer["digest"] for layer in manifest["layers"]] == _diff_ids(sp, "sealtest/multilayer")
    for layer in manifest["layers"]:
        assert _is_tar((out / layer["digest"].split(":")[1]).read_bytes())
    compressed = tmp_path / "ddc"  # --compress: the layers as pulled (gzip here)
    sp.run("save", "-q", "--format", "docker-dir", "--compress", "-o", str(compressed), "sealtest/multilayer")
    kept = json.loads((compressed / "manifest.json").read_text())
    assert not _is_tar((compressed / kept["layers"][0]["digest"].split(":")[1]).read_bytes())
    iid = sp.run("images", "-q", "--no-trunc", "sealtest/multilayer").stdout.strip().removeprefix("sha256:")
    sp.run("rmi", "sealtest/multilayer")
    assert sp.run("pull", "-q", f"dir:{out}").stdout.strip() == iid


def test_load_input_errors_as_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    res = sp.run("load", "-i", str(tmp_path / "nonexist.tar"), check=False)
    assert (res.returncode, res.stderr) == (125, f"Error: stat {tmp_path}/nonexist.tar: no such file or directory\n")
    url = "http://127.0.0.1:1/x.tar"
    res = sp.run("load", "-i", url, check=False)
    refused = f'Error: downloading {url}: Get "{url}": connect: connection refused\n'
    assert (res.returncode, res.stderr) == (125, refused)


def test_inspect_graph_driver_keys_in_go_order_and_merged_dir_while_mounted(sp: SealpodRunner) -> None:
    fmt = "{{json .GraphDriver.Data}}"
    data = json.loads(sp.run("image", "inspect", "--format", fmt, "sealtest/multilayer").stdout)
    assert list(data) == ["LowerDir", "UpperDir", "WorkDir"]
    path = sp.run("image", "mount", "sealtest/multilayer").stdout.strip()
    try:
        data = json.loads(sp.run("image", "inspect", "--format", "{{json .GraphDriver.Data}}",
                                 "sealtest/multilayer").stdout)
        assert list(data) == ["LowerDir", "MergedDir", "UpperDir", "WorkDir"] and data["MergedDir"] == path
    finally:
        sp.run("image", "unmount", "sealtest/multilayer")


def test_images_filter_until(sp: SealpodRunner) -> None:
    """Images created before a time: Go duration ago, Unix seconds, RFC 3339 (the rig's images are from 2023)."""
    for value, listed in (("1h", True), ("2000000h", False), ("2020-01-01T00:00:00Z", False),
                          ("1600000000", False), ("2030-01-01T00:00:00Z", True)):
        out = sp.run("images", "-q", "--filter", f"until={value}").stdout
        assert bool(out.strip()) is listed, value
    res = sp.run("images", "--filter", "until=bogus", check=False)
    assert (res.returncode, res.stderr) == (125, 'Error: failed to parse value as time or duration: "bogus"\n')
