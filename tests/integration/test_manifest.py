"""`sealpod manifest`: local lists of images of two platforms, annotations, removal, push to a real
registry (checked with skopeo and by pulling it into another store), and the errors users meet."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.rig import images as im
from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration

HOST_AMD64 = {"architecture": "amd64", "os": "linux"}


@pytest.fixture
def sp(sealpod: SealpodRunner, seeded_registry: RegistryServer) -> SealpodRunner:
    """A runner holding the amd64 and arm64/v8 images of sealtest/multiarch, under two local names."""
    src = f"{seeded_registry.host}/sealtest/multiarch"
    sealpod.run("pull", "-q", "--platform", "linux/amd64", src)
    sealpod.run("tag", src, "localhost/mf-amd64")
    sealpod.run("rmi", src)
    sealpod.run("pull", "-q", "--platform", "linux/arm64/v8", src)
    sealpod.run("tag", src, "localhost/mf-arm64")
    sealpod.run("rmi", src)
    return sealpod


def _inspect(sp: SealpodRunner, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(sp.run("manifest", "inspect", name).stdout)
    return doc


def _children(seed: im.SeedSet) -> dict[str, im.BuiltImage]:
    _, _, children = seed.indexes["sealtest/multiarch:latest"]
    return {c.config_json["architecture"]: c for c in children}


def _one_line_error(res: subprocess.CompletedProcess[str], code: int = 125) -> str:
    assert res.returncode == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_create_add_inspect_shape(sp: SealpodRunner, seed_images: im.SeedSet) -> None:
    list_id = sp.run("manifest", "create", "mylist").stdout.strip()
    assert len(list_id) == 64
    empty = _inspect(sp, "mylist")
    assert empty == {"schemaVersion": 2, "mediaType": im.DOCKER_LIST, "manifests": []}
    assert sp.run("manifest", "add", "mylist", "localhost/mf-amd64").stdout.strip() == list_id
    assert sp.run("manifest", "add", "mylist", "containers-storage:localhost/mf-arm64").stdout.strip() == list_id
    doc = _inspect(sp, list_id)  # by ID too, as Podman's system test does
    kids = _children(seed_images)
    assert [m["digest"] for m in doc["manifests"]] == [kids["amd64"].manifest_digest,
                                                       kids["arm64"].manifest_digest]
    assert doc["manifests"][0]["platform"] == HOST_AMD64
    assert doc["manifests"][1]["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert doc["manifests"][1]["size"] == len(kids["arm64"].manifest)
    assert doc["manifests"][1]["mediaType"] == im.OCI_MANIFEST
    assert sp.run("manifest", "exists", "mylist").returncode == 0
    assert sp.run("manifest", "exists", "localhost/mf-amd64", check=False).returncode == 1
    images = sp.run("images", "--format", "{{.Repository}}").stdout.split()
    assert "localhost/mylist" in images


def test_create_with_images_amend_and_overrides(sp: SealpodRunner) -> None:
    list_id = sp.run("manifest", "create", "l2", "localhost/mf-amd64").stdout.strip()
    assert len(_inspect(sp, "l2")["manifests"]) == 1
    err = _one_line_error(sp.run("manifest", "create", "l2", check=False))
    assert "that name is already in use" in err
    assert sp.run("manifest", "create", "--amend", "l2", "localhost/mf-arm64").stdout.strip() == list_id
    sp.run("manifest", "add", "--arch", "riscv64", "--os-version", "1.0", "--features", "sse4",
           "--annotation", "k=v", "l2", "localhost/mf-amd64")
    first = _inspect(sp, "l2")["manifests"][0]
    assert first["platform"] == {"architecture": "riscv64", "os": "linux", "os.version": "1.0",
                                 "features": ["sse4"]}
    assert first["annotations"] == {"k": "v"}
    assert len(_inspect(sp, "l2")["manifests"]) == 2  # same digest again replaces, never duplicates


def test_annotate_remove_rm(sp: SealpodRunner, seed_images: im.SeedSet) -> None:
    sp.run("manifest", "create", "l3", "localhost/mf-amd64", "localhost/mf-arm64")
    arm = _children(seed_images)["arm64"].manifest_digest
    sp.run("manifest", "annotate", "--arch", "ppc64le", "--variant", "", "--annotation", "x=y", "l3", arm)
    entry = [m for m in _inspect(sp, "l3")["manifests"] if m["digest"] == arm][0]
    assert entry["platform"]["architecture"] == "ppc64le" and entry["annotations"] == {"x": "y"}
    sp.run("manifest", "remove", "l3", arm)
    assert [m["digest"] for m in _inspect(sp, "l3")["manifests"]] == [
        _children(seed_images)["amd64"].manifest_digest]
    res = sp.run("manifest", "rm", "l3")
    assert res.stdout.splitlines()[0] == "Untagged: localhost/l3:latest"
    assert sp.run("manifest", "exists", "l3", check=False).returncode == 1
    sp.run("image", "exists", "localhost/mf-arm64")  # the images it named stay
    sp.run("manifest", "create", "l4")
    assert "Deleted:" in sp.run("rmi", "l4").stdout


def test_errors_are_one_line(sp: SealpodRunner) -> None:
    sp.run("manifest", "create", "el")
    assert _one_line_error(sp.run("manifest", "add", "nosuchlist", "localhost/mf-amd64", check=False)) == (
        "Error: nosuchlist: image not known")
    assert _one_line_error(sp.run("manifest", "add", "localhost/mf-amd64", "localhost/mf-arm64", check=False)) == (
        "Error: localhost/mf-amd64:latest: image is not a manifest list")
    err = _one_line_error(sp.run("manifest", "remove", "el", "sha256:aaaa", check=False))
    assert "invalid image digest" in err
    err = _one_line_error(sp.run("manifest", "annotate", "--arch", "s390x", "el", "sha256:" + "1" * 64,
                                 check=False))
    assert "no image instance matching the specified digest" in err
    _one_line_error(sp.run("manifest", "annotate", "--annotation", "bad", "el", "sha256:" + "1" * 64, check=False))
    _one_line_error(sp.run("manifest", "rm", "nosuchlist", check=False), code=1)
    _one_line_error(sp.run("manifest", "inspect", "localhost/mf-amd64", check=False))


def test_add_remote_reads_only_manifests(sp: SealpodRunner, seeded_registry: RegistryServer,
                                         seed_images: im.SeedSet) -> None:
    host = seeded_registry.host
    sp.run("manifest", "create", "rl")
    sp.run("manifest", "add", "--all", "rl", f"docker://{host}/sealtest/multiarch")
    kids = seed_images.indexes["sealtest/multiarch:latest"][2]
    assert [m["digest"] for m in _inspect(sp, "rl")["manifests"]] == [c.manifest_digest for c in kids]
    sp.run("manifest", "create", "rl2")
    sp.run("manifest", "add", "rl2", f"docker://{host}/sealtest/multiarch")  # no --all: the host's platform
    only = _inspect(sp, "rl2")["manifests"]
    assert len(only) == 1 and only[0]["platform"]["architecture"] == "amd64"
    sp.run("manifest", "add", "rl2", f"docker://{host}/sealtest/tiny-docker")
    added = _inspect(sp, "rl2")["manifests"][-1]
    assert added["mediaType"] == im.DOCKER_MANIFEST and added["platform"] == HOST_AMD64
    remote = _inspect(sp, f"docker://{host}/sealtest/multiarch")
    assert remote["mediaType"] == im.OCI_INDEX and len(remote["manifests"]) == 3


def test_push_all_then_pull_selects_host(sp: SealpodRunner, seeded_registry: RegistryServer,
                                         seed_images: im.SeedSet, tmp_path: Path) -> None:
    host = seeded_registry.host
    sp.run("manifest", "create", "pl", "localhost/mf-amd64", "localhost/mf-arm64")
    sp.run("manifest", "add", "pl", f"docker://{host}/sealtest/tiny-docker")  # only in the registry
    digestfile = tmp_path / "digest"
    dest = f"{host}/mftest/pushed:v1"
    res = sp.run("manifest", "push", "--all", "--format", "oci", "--digestfile", str(digestfile), "pl",
                 f"docker://{dest}")
    digest = digestfile.read_text().strip()
    assert res.stdout.strip() == digest
    pushed = _inspect(sp, f"docker://{dest}")
    assert pushed["mediaType"] == im.OCI_INDEX
    assert [m["platform"]["architecture"] for m in pushed["manifests"]] == ["amd64", "arm64", "amd64"]
    if shutil.which("skopeo"):
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{dest}"],
                             capture_output=True, check=True).stdout
        assert "sha256:" + __import__("hashlib").sha256(raw).hexdigest() == digest
    other = SealpodRunner(tmp_path / "other", insecure_registries=[host])
    other.run("pull", "-q", dest)
    arch = other.run("image", "inspect", "--format", "{{.Architecture}}", dest).stdout.strip()
    assert arch == "amd64"


def test_push_command_and_rm_flag(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    host = seeded_registry.host
    sp.run("manifest", "create", "pc", "localhost/mf-arm64")
    sp.run("push", "pc", f"{host}/mftest/bypush:latest")
    assert _inspect(sp, f"docker://{host}/mftest/bypush:latest")["mediaType"] == im.DOCKER_LIST
    sp.run("manifest", "push", "--rm", "-q", "pc", f"{host}/mftest/bypush:two")
    assert sp.run("manifest", "exists", "pc", check=False).returncode == 1


def test_podman_py_manifests(api: ApiService, seeded_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    import podman

    host = seeded_registry.host
    client = podman.PodmanClient(base_url=api.url)
    lst = client.manifests.create("localhost/pylist:latest", images=[f"{host}/sealtest/tiny:latest"])
    tiny = seed_images.images["sealtest/tiny:latest"].manifest_digest
    assert [m["digest"] for m in lst.attrs["manifests"]] == [tiny]
    assert client.manifests.exists("localhost/pylist:latest")
    assert not client.manifests.exists("localhost/nosuchlist:latest")
    lst.add([f"docker://{host}/sealtest/multiarch"], all=True)
    assert len(lst.attrs["manifests"]) == 3  # its amd64 instance is sealtest/tiny: replaced, not repeated
    arm = _children(seed_images)["arm64"].manifest_digest
    lst.remove(arm)
    assert arm not in [m["digest"] for m in client.manifests.get("localhost/pylist:latest").attrs["manifests"]]
    lst.push(f"{host}/mftest/frompy:latest", all=True)
    pushed = api.runner.run("manifest", "inspect", f"docker://{host}/mftest/frompy:latest")
    assert len(json.loads(pushed.stdout)["manifests"]) == 2
    body = client.manifests.remove("localhost/pylist:latest")
    assert body["Untagged"] == ["localhost/pylist:latest"]
    assert not client.manifests.exists("localhost/pylist:latest")


def test_create_from_a_list_uses_the_host_platforms_image(sp: SealpodRunner) -> None:
    sp.run("manifest", "create", "runlist", "localhost/mf-arm64", "localhost/mf-amd64")
    amd64 = sp.run("image", "inspect", "--format", "{{.Id}}", "localhost/mf-amd64").stdout.strip()
    sp.run("create", "--name", "fromlist", "--network", "none", "runlist", "true")
    assert sp.run("inspect", "--format", "{{.Image}}", "fromlist").stdout.strip().removeprefix("sha256:") == \
        amd64.removeprefix("sha256:")
    sp.run("rm", "fromlist")
    sp.run("manifest", "create", "armonly", "localhost/mf-arm64")
    none = sp.run("create", "--network", "none", "armonly", "true", check=False)
    assert _one_line_error(none).startswith("Error: no image found in manifest list for architecture amd64")
