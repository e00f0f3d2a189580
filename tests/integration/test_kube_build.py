"""``kube play --build`` / ``--context-dir`` (Podman's 700-play.bats "podman play --build
--context-dir"): images of the YAML built from directories named after them, with real builds."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

YAML = """apiVersion: v1
kind: Pod
metadata:
  name: buildpod
spec:
  containers:
  - name: test
    image: quay.io/libpod/userimage
    command: ["id"]
"""


@pytest.fixture
def kb(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path / "store", seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


def _image_dir(parent: Path, user: str) -> Path:
    d = parent / "userimage"
    d.mkdir(parents=True, exist_ok=True)
    (d / "Containerfile").write_text(f"FROM sealtest/tiny\nUSER {user}\n")
    return d


def _user(kb: SealpodRunner) -> str:
    return kb.run("inspect", "--format", "{{.Config.User}}", "buildpod-test").stdout.strip()


def test_build_from_context_dir_then_current_dir(kb: SealpodRunner, tmp_path: Path) -> None:
    yaml_file = tmp_path / "pod.yaml"
    yaml_file.write_text(YAML)
    ctx = tmp_path / "ctx"
    _image_dir(ctx, "123")
    out = kb.run("kube", "play", "--build", "--start=false", str(yaml_file), check=False)
    assert out.returncode == 125  # no userimage/ in the current directory, and no such image to pull
    kb.run("kube", "play", "--replace", "--context-dir", str(ctx), "--build", "--start=false", str(yaml_file))
    assert _user(kb) == "123"
    assert kb.run("image", "exists", "quay.io/libpod/userimage:latest").returncode == 0
    kb.run("pod", "rm", "-f", "-t", "0", "buildpod")
    kb.run("rmi", "-f", "userimage:latest")
    shutil.copytree(ctx / "userimage", kb.base / "userimage")  # the runner's current directory
    kb.run("kube", "play", "--replace", "--build", "--start=false", str(yaml_file))
    assert _user(kb) == "123"


def test_build_only_when_missing_unless_asked(kb: SealpodRunner, tmp_path: Path) -> None:
    yaml_file = tmp_path / "pod.yaml"
    yaml_file.write_text(YAML)
    ctx = kb.base  # the runner's current directory: --context-dir goes with --build only, as in Podman
    _image_dir(ctx, "123")
    kb.run("kube", "play", "--start=false", str(yaml_file))  # missing: built
    assert _user(kb) == "123"
    _image_dir(ctx, "456")
    kb.run("kube", "play", "--replace", "--start=false", str(yaml_file))
    assert _user(kb) == "123"  # present: used as it is
    kb.run("kube", "play", "--replace", "--build", "--context-dir", str(ctx), "--start=false", str(yaml_file))
    assert _user(kb) == "456"  # --build: built again
    refused = kb.run("kube", "play", "--replace", "--context-dir", str(ctx), str(yaml_file), check=False)
    assert (refused.returncode, refused.stderr) == (125, "Error: --build must be specified when using --context-dir "
                                                         "option\n")
    kb.run("pod", "rm", "-f", "-t", "0", "buildpod")
    kb.run("rmi", "-f", "quay.io/libpod/userimage")
    out = kb.run("kube", "play", "--build=false", "--context-dir", str(ctx), "--start=false", str(yaml_file),
                 check=False)
    assert out.returncode == 125  # never built: the pull fails
