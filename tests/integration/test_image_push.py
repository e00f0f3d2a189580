"""`sealpod push`: digests survive a round trip, nothing is uploaded twice, mounts, auth, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(sealpod: SealpodRunner, seeded_registry: RegistryServer, tmp_path: Path) -> SealpodRunner:
    """A runner (empty storage.conf) holding sealtest/multilayer and sealtest/tiny."""
    conf = tmp_path / "storage.conf"
    conf.write_text("")
    sealpod.env["SEALPOD_STORAGE_CONF"] = str(conf)
    for repo in ("sealtest/multilayer", "sealtest/tiny"):
        sealpod.run("pull", "-q", f"{seeded_registry.host}/{repo}")
    return sealpod


def _mark(server: RegistryServer) -> int:
    assert server.log_path is not None
    return server.log_path.stat().st_size


def _requests(server: RegistryServer, start: int) -> list[tuple[str, str, int]]:
    """(method, target, status) of each request the registry logged after byte ``start``."""
    assert server.log_path is not None
    with open(server.log_path, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    return [(m, u, int(st)) for m, u, st in re.findall(r'"([A-Z]+) (\S+) HTTP/1\.1" (\d{3})', text)]


def _uploads(reqs: list[tuple[str, str, int]]) -> list[str]:
    """Blob uploads that carried data (the final PUT of an upload session)."""
    return [u for m, u, st in reqs if m == "PUT" and "/blobs/uploads/" in u and st == 201]


def test_push_round_trip_keeps_digest(sp: SealpodRunner, seeded_registry: RegistryServer,
                                      seed_images: im.SeedSet, tmp_path: Path) -> None:
    image = seed_images.images["sealtest/multilayer:latest"]
    digestfile = tmp_path / "digest"
    start = _mark(seeded_registry)
    res = sp.run("push", "--digestfile", str(digestfile), f"{seeded_registry.host}/sealtest/multilayer",
                 f"{seeded_registry.host}/pushtest/multi:v1")
    assert digestfile.read_text().strip() == image.manifest_digest
    assert res.stderr.splitlines()[0] == "Getting image source signatures"
    assert "Writing manifest to image destination" in res.stderr
    reqs = _requests(seeded_registry, start)
    assert _uploads(reqs) == [], "blobs already in the registry were uploaded again"
    mounts = [u for m, u, st in reqs if m == "POST" and "mount=" in u and st == 201]
    assert len(mounts) == len(image.layers) + 1  # every layer and the config, mounted from sealtest/multilayer
    # pull it back into a fresh name: same image
    sp.run("rmi", f"{seeded_registry.host}/pushtest/multi:v1", check=False)
    out = sp.run("pull", "-q", f"{seeded_registry.host}/pushtest/multi:v1").stdout.strip()
    assert out == image.config.digest.removeprefix("sha256:")


def test_push_to_other_registry_then_repush(sp: SealpodRunner, seeded_registry: RegistryServer,
                                           auth_registry: RegistryServer, seed_images: im.SeedSet,
                                           tmp_path: Path) -> None:
    image = seed_images.images["sealtest/multilayer:latest"]
    dest = f"{auth_registry.host}/pushtest/multi-{tmp_path.name}:latest"
    creds = f"{auth_registry.username}:{auth_registry.password}"
    digestfile = tmp_path / "digest"
    start = _mark(auth_registry)
    sp.run("push", "--creds", creds, "--digestfile", str(digestfile), f"{seeded_registry.host}/sealtest/multilayer",
           dest)
    assert digestfile.read_text().strip() == image.manifest_digest
    assert len(_uploads(_requests(auth_registry, start))) >= 1
    start = _mark(auth_registry)
    sp.run("push", "--creds", creds, f"{seeded_registry.host}/sealtest/multilayer", dest)
    reqs = _requests(auth_registry, start)
    assert _uploads(reqs) == []
    heads = [u for m, u, st in reqs if m == "HEAD" and "/blobs/" in u and st == 200]
    assert len(heads) == len(image.layers) + 1


def test_push_auth(sp: SealpodRunner, seeded_registry: RegistryServer, auth_registry: RegistryServer,
                   tmp_path: Path) -> None:
    src = f"{seeded_registry.host}/sealtest/tiny"
    dest = f"{auth_registry.host}/pushtest/tiny-{tmp_path.name}"
    res = sp.run("push", src, dest, check=False)
    assert res.returncode == 125 and "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1 and "authentication required" in errors[0]
    res = sp.run("push", "--creds", "sealtest:wrong", src, dest, check=False)
    assert res.returncode == 125 and "Traceback" not in res.stderr
    sp.run("login", "-u", "sealtest", "--password-stdin", auth_registry.host, input="s3cret-pass\n")
    sp.run("push", src, dest)
    status, _, _ = im._request(auth_registry, "HEAD", f"/v2/pushtest/tiny-{tmp_path.name}/manifests/latest",
                               headers={"Accept": f"{im.OCI_MANIFEST}, {im.DOCKER_MANIFEST}"})
    assert status == 200


def test_push_unknown_image(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    res = sp.run("push", "nope", f"{seeded_registry.host}/pushtest/nope", check=False)
    assert res.returncode == 125 and res.stderr.strip() == "Error: nope: image not known"
