"""pull and push through every transport: oci:, oci-archive:, docker-archive:, dir:, docker-daemon:,
containers-storage:. Round trips end in a container run on a fresh store; skopeo reads what we write."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.rig.api import start_service
from tests.rig.images import SeedSet
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root


def _store(base: Path, registry: RegistryServer) -> SealpodRunner:
    return SealpodRunner(base, search_registries=[registry.host], insecure_registries=[registry.host])


def _skopeo(*args: str) -> dict[str, object]:
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    out = subprocess.run(["skopeo", "inspect", *args], capture_output=True, text=True, check=True).stdout
    doc: dict[str, object] = json.loads(out)
    return doc


def _names(runner: SealpodRunner) -> list[str]:
    return runner.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()


def _fails(runner: SealpodRunner, *args: str) -> str:
    out = runner.run(*args, check=False)
    assert out.returncode == 125, out
    lines = out.stderr.strip().splitlines()  # progress lines may come first
    assert lines and lines[-1].startswith("Error: ") and "Traceback" not in out.stderr, out.stderr
    assert sum(line.startswith("Error: ") for line in lines) == 1, out.stderr
    return lines[-1]


@pytest.fixture
def source(tmp_path: Path, seeded_registry: RegistryServer) -> tuple[SealpodRunner, str]:
    require_root()
    runner = _store(tmp_path / "src", seeded_registry)
    runner.run("pull", "-q", "sealtest/multilayer")
    return runner, f"{seeded_registry.host}/sealtest/multilayer:latest"


CASES = [
    # (destination written by push, what pull reads back, the name the pulled image gets)
    ("oci:{d}/layout:v1", "oci:{d}/layout:v1", "localhost{d}/layout:latest"),
    ("oci-archive:{d}/img.tar:keep/me:2", "oci-archive:{d}/img.tar", "localhost/keep/me:2"),
    ("docker-archive:{d}/img.tar", "docker-archive:{d}/img.tar", "{name}"),
    ("docker-archive:{d}/img.tar:other/name:3", "docker-archive:{d}/img.tar:@0", "docker.io/other/name:3"),
    ("dir:{d}/plain", "dir:{d}/plain", None),
]


@pytest.mark.parametrize(("push_to", "pull_from", "named"), CASES, ids=[c[0].split(":")[0] + str(i)
                                                                       for i, c in enumerate(CASES)])
def test_round_trip(tmp_path: Path, source: tuple[SealpodRunner, str], seeded_registry: RegistryServer,
                    seed_images: SeedSet, push_to: str, pull_from: str, named: str | None) -> None:
    src, name = source
    d = str(tmp_path / "out")
    Path(d).mkdir()
    push = src.run("push", name, push_to.format(d=d))
    assert "Getting image source signatures" in push.stderr and "Writing manifest to image destination" in push.stderr
    dest = _store(tmp_path / "dest", seeded_registry)
    pulled = dest.run("pull", pull_from.format(d=d))
    image_id = json.loads(src.run("image", "inspect", name).stdout)[0]["Id"]
    assert pulled.stdout.strip() == image_id  # the config travels byte for byte
    assert "Copying blob sha256:" in pulled.stderr and "Storing signatures" in pulled.stderr
    expected = [named.format(d=d, name=name)] if named else ["<none>:<none>"]
    assert _names(dest) == expected
    if push_to.startswith(("oci:", "dir:")):  # the seeded image is OCI: its manifest survives
        digest = json.loads(dest.run("image", "inspect", image_id).stdout)[0]["Digest"]
        assert digest == seed_images.digest("sealtest/multilayer:latest")
    assert dest.run("run", "--rm", image_id, "cat", "/etc/motd").returncode == 0


def test_skopeo_reads_what_push_writes(tmp_path: Path, source: tuple[SealpodRunner, str],
                                       seed_images: SeedSet) -> None:
    src, name = source
    want = seed_images.digest("sealtest/multilayer:latest")
    src.run("push", "-q", name, f"oci:{tmp_path}/layout:v1")
    src.run("push", "-q", name, f"dir:{tmp_path}/plain")
    src.run("push", "-q", name, f"docker-archive:{tmp_path}/d.tar")
    assert _skopeo(f"oci:{tmp_path}/layout:v1")["Digest"] == want
    assert _skopeo(f"dir:{tmp_path}/plain")["Digest"] == want
    assert len(_skopeo(f"docker-archive:{tmp_path}/d.tar")["Layers"]) == 5  # type: ignore[arg-type]


def test_docker_image_to_oci_becomes_an_oci_manifest(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    """OCI readers skip Docker media types in index.json: the manifest is converted, blobs kept."""
    require_root()
    src = _store(tmp_path / "src", seeded_registry)
    src.run("pull", "-q", "sealtest/tiny-docker")
    src.run("push", "-q", "sealtest/tiny-docker", f"oci:{tmp_path}/layout")
    doc = _skopeo("--raw", f"oci:{tmp_path}/layout")
    assert doc["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    dest = _store(tmp_path / "dest", seeded_registry)
    dest.run("pull", "-q", f"oci:{tmp_path}/layout")
    assert dest.run("run", "--rm", f"localhost{tmp_path}/layout", "true").returncode == 0


def test_containers_storage_push_and_pull_name_within_the_store(source: tuple[SealpodRunner, str]) -> None:
    src, name = source
    image_id = json.loads(src.run("image", "inspect", name).stdout)[0]["Id"]
    src.run("push", "-q", name, "containers-storage:copy/of:it")
    assert "localhost/copy/of:it" in _names(src)
    assert src.run("pull", "-q", "containers-storage:localhost/copy/of:it").stdout.strip() == image_id
    assert "image not known" in _fails(src, "pull", "containers-storage:localhost/absent")


def test_docker_daemon_both_ways(tmp_path: Path, source: tuple[SealpodRunner, str],
                                 seeded_registry: RegistryServer) -> None:
    """A second sealpod store behind `system service` plays the Docker Engine."""
    src, name = source
    daemon = _store(tmp_path / "daemon", seeded_registry)
    daemon.run("pull", "-q", "sealtest/tiny")
    service = start_service(daemon)
    try:
        client = _store(tmp_path / "client", seeded_registry)
        client.env["DOCKER_HOST"] = service.url
        tiny = f"{seeded_registry.host}/sealtest/tiny:latest"
        out = client.run("pull", f"docker-daemon:{tiny}")
        assert "Copying blob" in out.stderr
        assert _names(client) == [tiny]
        assert client.run("run", "--rm", tiny, "true").returncode == 0
        src.env["DOCKER_HOST"] = service.url
        src.run("push", "-q", name, "docker-daemon:pushed/here:1")
        assert "docker.io/pushed/here:1" in _names(daemon)
        assert daemon.run("run", "--rm", "docker.io/pushed/here:1", "cat", "/etc/motd").returncode == 0
        assert "Docker daemon" not in _fails(client, "pull", "docker-daemon:no/such:image")
    finally:
        service.stop()
    client.env["DOCKER_HOST"] = f"unix://{tmp_path}/nobody.sock"
    assert "Cannot connect to the Docker daemon" in _fails(client, "pull", "docker-daemon:busybox")


def test_hostile_and_missing_sources_leave_the_store_alone(tmp_path: Path, source: tuple[SealpodRunner, str],
                                                           seeded_registry: RegistryServer) -> None:
    src, name = source
    src.run("push", "-q", name, f"dir:{tmp_path}/plain")
    src.run("push", "-q", name, f"docker-archive:{tmp_path}/d.tar")
    manifest = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    layer = tmp_path / "plain" / manifest["layers"][0]["digest"].split(":")[1]
    data = layer.read_bytes()
    layer.write_bytes(data[:-100] + bytes(b ^ 0xFF for b in data[-100:]))  # same size, wrong digest
    (tmp_path / "trunc.tar").write_bytes((tmp_path / "d.tar").read_bytes()[:100_000])
    dest = _store(tmp_path / "dest", seeded_registry)
    for bad in (f"dir:{tmp_path}/plain", f"dir:{tmp_path}/missing", f"oci:{tmp_path}/missing",
                f"oci-archive:{tmp_path}/missing.tar", f"docker-archive:{tmp_path}/trunc.tar",
                f"docker-archive:{tmp_path}/d.tar:@7", f"docker-archive:{tmp_path}/d.tar:not/there"):
        _fails(dest, "pull", bad)
    assert _names(dest) == []
    assert "is not a dir: image" in _fails(src, "push", name, f"dir:{tmp_path}")
    assert "is a directory" in _fails(src, "push", name, f"docker-archive:{tmp_path}")
    assert "invalid reference format" in _fails(dest, "pull", "nosuch:transport/x")
    dest.run("pull", "-q", f"docker-archive:{tmp_path}/d.tar")  # the store still works
    assert dest.run("run", "--rm", name, "true").returncode == 0


def test_run_and_create_read_a_transport_directly(tmp_path: Path, source: tuple[SealpodRunner, str],
                                                  seeded_registry: RegistryServer) -> None:
    """As with Podman, run/create pull ``oci-archive:FILE`` or ``dir:PATH`` through the same path."""
    src, name = source
    src.run("push", "-q", name, f"oci-archive:{tmp_path}/img.tar:ml")
    src.run("push", "-q", name, f"dir:{tmp_path}/plain")
    dest = _store(tmp_path / "dest", seeded_registry)
    out = dest.run("run", "--rm", f"oci-archive:{tmp_path}/img.tar", "cat", "/etc/motd")
    assert out.returncode == 0 and "Copying blob" in out.stderr
    assert _names(dest) == ["localhost/ml:latest"]
    cid = dest.run("create", "-q", f"dir:{tmp_path}/plain", "true").stdout.strip()
    assert dest.run("start", "-a", cid).returncode == 0
    assert "image not known" in _fails(dest, "run", "--pull", "never", f"dir:{tmp_path}/plain", "true")
