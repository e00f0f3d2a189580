"""save and load: docker-archive and OCI archives, checked with skopeo as an independent reader."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

from tests.rig.images import SeedSet
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner


def _store(base: Path, registry: RegistryServer) -> SealpodRunner:
    return SealpodRunner(base, search_registries=[registry.host], insecure_registries=[registry.host])


def test_save_load_round_trips(tmp_path: Path, seeded_registry: RegistryServer, seed_images: SeedSet) -> None:
    src = _store(tmp_path / "a", seeded_registry)
    src.run("pull", "-q", "sealtest/multilayer")
    name = f"{seeded_registry.host}/sealtest/multilayer:latest"
    for fmt, transport in (("docker-archive", "docker-archive"), ("oci-archive", "oci-archive")):
        archive = tmp_path / f"{fmt}.tar"
        src.run("save", "--format", fmt, "-o", str(archive), "sealtest/multilayer")
        doc = json.loads(subprocess.run(["skopeo", "inspect", f"{transport}:{archive}"], capture_output=True,
                                        text=True, check=True).stdout)
        assert len(doc["Layers"]) == 5
        dest = _store(tmp_path / f"load-{fmt}", seeded_registry)
        out = dest.run("load", "-i", str(archive))
        assert out.stdout.strip() == f"Loaded image: {name}"
        inspect = json.loads(dest.run("image", "inspect", name).stdout)[0]
        assert inspect["Id"] == json.loads(src.run("image", "inspect", name).stdout)[0]["Id"]
        if fmt == "oci-archive":  # blobs travel as stored: the manifest digest survives
            assert inspect["Digest"] == seed_images.digest("sealtest/multilayer:latest")
        assert dest.run("run", "--rm", name, "cat", "/etc/motd").returncode == 0


def test_save_to_stdout_and_load_from_stdin(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    src = _store(tmp_path / "a", seeded_registry)
    src.run("pull", "-q", "sealtest/tiny")
    data = subprocess.run(src.argv("save", "sealtest/tiny"), env=src.env, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert "manifest.json" in tar.getnames()
    dest = _store(tmp_path / "b", seeded_registry)
    out = subprocess.run(dest.argv("load"), env=dest.env, input=data, capture_output=True, check=True)
    assert b"Loaded image:" in out.stdout
    assert dest.run("images", "-q").stdout.strip()


def test_hostile_or_broken_archives_load_nothing(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    dest = _store(tmp_path / "b", seeded_registry)
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    for archive in (evil, tmp_path / "missing.tar"):
        out = dest.run("load", "-i", str(archive), check=False)
        assert out.returncode == 125 and out.stderr.startswith("Error: ") and "Traceback" not in out.stderr
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar at all" * 100)
    out = dest.run("load", "-i", str(garbage), check=False)
    assert out.returncode == 125 and "Traceback" not in out.stderr
    assert dest.run("images", "-q").stdout == ""
