"""Conformance with Podman 4.3.1's e2e tests for images (test/e2e: images, rmi, pull, push, save, load,
import, export, commit, history, tree, prune, search, and the image events they record), against real
overlay storage, conmon and runc, and a real registry.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-images"), seeded_registry.host) as runner:
        yield runner


def _full(ctr: SealpodRunner) -> str:
    return ctr.run("inspect", "--format", "{{index .RepoTags 0}}", IMAGE).stdout.strip()


def _events(ctr: SealpodRunner, *args: str) -> list[dict[str, Any]]:
    out = ctr.run("events", "--stream=false", "--format", "json", "--filter", "type=image", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def _fails(ctr: SealpodRunner, *args: str) -> str:
    res = ctr.run(*args, check=False)
    assert res.returncode == 125, res
    assert "Traceback" not in res.stderr
    return res.stderr


# --- events of pull and rmi ------------------------------------------------------------

def test_registry_pull_event_has_the_name_as_typed_and_no_id(ctr: SealpodRunner) -> None:
    """e2e pull_test.go / events: podman pull records `image pull` with the name as given, no image ID."""
    ctr.run("pull", "-q", IMAGE)
    pulls = _events(ctr, "--filter", "event=pull")
    assert pulls[-1]["Name"] == IMAGE and "ID" not in pulls[-1]


def test_rmi_remove_event_names_the_stored_name_or_the_id_typed(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e rmi_test.go: podman rmi records `image remove` under the name it matched (by ID: the ID typed)."""
    tarball = _tarball(tmp_path)
    named = ctr.run("import", "-q", str(tarball), "evrm").stdout.strip().removeprefix("sha256:")
    ctr.run("rmi", "evrm")
    unnamed = ctr.run("import", "-q", "--message", "other", str(tarball)).stdout.strip().removeprefix("sha256:")
    ctr.run("rmi", unnamed[:12])
    removes = _events(ctr, "--filter", "event=remove")
    assert [(e["ID"], e["Name"]) for e in removes[-2:]] == [(named, "localhost/evrm:latest"), (unnamed, unnamed[:12])]


# --- images -----------------------------------------------------------------------------

def test_images_format_fields_like_podman(ctr: SealpodRunner) -> None:
    """e2e images_test.go: podman images --format with VirtualSize, SharedSize, IsReadOnly, RepoTags."""
    out = ctr.run("images", "--format", "{{.VirtualSize}}|{{.SharedSize}}|{{.IsReadOnly}}|{{.RepoTags}}|{{.ParentId}}",
                  IMAGE).stdout.strip()
    size, shared, readonly, tags, parent = out.split("|")
    assert size.isdigit() and int(size) > 1000 and shared == "0" and readonly == "false" and parent == ""
    assert tags == f"[{_full(ctr)}]"


def test_builder_prune_with_label_filter(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e images_test.go: podman builder prune --filter label=abc --force."""
    context = build_context(tmp_path, "bp", f"FROM {IMAGE}\nRUN touch /file\n")
    ctr.run("build", "-q", "--layers=false", "--label", "bpabc", "-t", "bp:latest", str(context))
    context2 = build_context(tmp_path, "bp2", f"FROM {IMAGE}\nRUN touch /file2\n")
    ctr.run("build", "-q", "--layers=false", "--label", "bpxyz", "-t", "bp:latest", str(context2))
    out = ctr.run("builder", "prune", "--filter", "label=bpabc", "--force").stdout
    assert len(out.splitlines()) == 1
    assert ctr.run("image", "list", "-q", "--filter", "label=bpabc").stdout == ""
    assert "prune" in ctr.run("buildx", "--help").stdout
    ctr.run("rmi", "bp:latest")


def test_image_without_layers(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e images_test.go: podman with images with no layers (FROM scratch and LABELs only)."""
    context = build_context(tmp_path, "nolayers", "FROM scratch\nLABEL org.opencontainers.image.title=test\n"
                            "LABEL org.opencontainers.image.version=1\n")
    ctr.run("build", "-q", "--layers=true", "-t", "nolayers", str(context))
    assert ctr.run("inspect", "--format", "{{.RootFS.Layers}}", "nolayers").stdout.strip() == "[]"
    assert "No Image Layers" in ctr.run("image", "tree", "nolayers").stdout
    assert "<missing>" not in ctr.run("images", "nolayers").stdout
    ctr.run("rmi", "nolayers")


# --- rmi --------------------------------------------------------------------------------

def test_rmi_no_prune_keeps_dangling_parents(ctr: SealpodRunner) -> None:
    """e2e rmi_test.go: podman rmi --no-prune with dangling parents."""
    ctr.run("create", "--name", "np1", IMAGE, "true")
    parent = ctr.run("commit", "-q", "np1", "np1img").stdout.strip()
    ctr.run("create", "--name", "np2", "np1img", "true")
    ctr.run("commit", "-q", "np2", "np2img")
    ctr.run("rm", "np1", "np2")
    ctr.run("untag", "np1img")
    out = ctr.run("rmi", "--no-prune", "np2img").stdout
    assert parent not in out
    assert ctr.run("image", "exists", parent).returncode == 0
    ctr.run("tag", parent, "np2img")
    assert parent in ctr.run("rmi", "np2img").stdout  # without --no-prune the dangling parents go


# --- pull / load / save / export / import ----------------------------------------------------

def test_pull_error_names_the_source_asked_for(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    """e2e pull_test.go: podman pull of a missing tag says `initializing source docker://NAME` (not the mirror)."""
    runner = SealpodRunner(tmp_path)
    host = seeded_registry.host
    runner.write_registries_conf(extra=f'[[registry]]\nprefix = "mirrored.example/sealtest"\n'
                                       f'location = "{host}/sealtest"\ninsecure = true\n')
    res = runner.run("pull", "mirrored.example/sealtest/tiny:nope", check=False)
    assert res.returncode == 125
    assert (f"Error: initializing source docker://mirrored.example/sealtest/tiny:nope: reading manifest nope in "
            f"{host}/sealtest/tiny: manifest unknown: manifest unknown") in res.stderr


def test_source_is_described_in_dockers_familiar_form() -> None:
    """e2e pull_test.go: `initializing source docker://ibetthisdoesnotexistfr:random` for docker.io/library."""
    from sealpod.image.reference import parse_reference
    from sealpod.image.transports.docker import DockerSource

    src = DockerSource(None, parse_reference("mirror.example/library/x:random"),  # type: ignore[arg-type]
                       parse_reference("docker.io/library/x:random"))
    assert src.describe() == "docker://x:random"


def test_pull_from_multi_image_docker_archive_errors(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e pull_test.go: podman pull from docker-archive (a two-image archive needs NAME or @N)."""
    other = ctr.run("import", "-q", str(_tarball(tmp_path)), "twoimg:1").stdout.strip()
    archive = tmp_path / "two.tar"
    ctr.run("save", "-q", "-m", "-o", str(archive), IMAGE, "twoimg:1")
    assert "Unexpected tar manifest.json: expected 1 item, got 2" in _fails(ctr, "pull", f"docker-archive:{archive}")
    err = _fails(ctr, "pull", f"docker-archive:{archive}:foo.com/does/not/exist:latest")
    assert 'Tag "foo.com/does/not/exist:latest" not found' in err
    out = ctr.run("load", "-i", str(archive)).stdout
    assert out == f"Loaded image: {_full(ctr)}\nLoaded image: localhost/twoimg:1\n"
    ctr.run("rmi", other)


def _tarball(tmp_path: Path) -> Path:
    path = tmp_path / "rootfs.tar"
    member = tmp_path / "hello"
    member.write_text("hello\n")
    with tarfile.open(path, "w") as tar:
        tar.add(member, arcname="hello")
    return path


def test_load_from_directories(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e load_test.go: podman load directory (oci-dir named after its path; docker-dir by ID)."""
    image_id = ctr.run("inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    ctr.run("save", "-q", "--format", "oci-dir", "-o", str(tmp_path / "load"), IMAGE)
    out = ctr.run("load", "-i", str(tmp_path / "load")).stdout
    name = f"localhost{tmp_path}/load"
    assert out == f"Loaded image: {name}\n"
    assert f"{name}:latest" in ctr.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.splitlines()
    ctr.run("save", "-q", "--format", "docker-dir", "-o", str(tmp_path / "ddir"), IMAGE)
    assert ctr.run("load", "-q", "-i", str(tmp_path / "ddir")).stdout == f"Loaded image: sha256:{image_id}\n"
    (tmp_path / "empty").mkdir()
    assert "payload does not match any of the supported image formats" in _fails(
        ctr, "load", "-i", str(tmp_path / "empty"))
    ctr.run("untag", image_id, f"{name}:latest")


def test_save_and_export_flag_checks(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e save_test.go / export_test.go: --signature-policy, --compress only for docker-dir, no ':' in names."""
    ctr.run("save", "-q", "--signature-policy", "/etc/containers/policy.json", "-o", str(tmp_path / "s.tar"), IMAGE)
    for fmt in ("docker-archive", "oci-archive"):
        err = _fails(ctr, "save", "--compress", "--format", fmt, "-o", str(tmp_path / "c"), IMAGE)
        assert "--compress can only be set when --format is 'docker-dir'" in err
    colon = tmp_path / "save:colon"
    err = _fails(ctr, "save", "--compress", "--format", "docker-dir", "-o", str(colon), IMAGE)
    assert f"invalid filename (should not contain ':') \"{colon}\"" in err
    ctr.run("create", "--name", "exp1", IMAGE, "true")
    assert "should not contain ':'" in _fails(ctr, "export", "-o", str(tmp_path / "c:1.tar"), "exp1")
    assert not (tmp_path / "c:1.tar").exists()
    ctr.run("rm", "exp1")


def test_import_with_os_arch_variant_and_signature_policy(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e import_test.go: podman import --os --arch --variant, and --signature-policy."""
    tarball = _tarball(tmp_path)
    ctr.run("import", "-q", "--os", "testos", "--arch", "testarch", "--variant", "tv", str(tarball), "imp:1")
    doc = json.loads(ctr.run("image", "inspect", "imp:1").stdout)[0]
    assert doc["Os"] == "testos" and doc["Architecture"] == "testarch"
    assert "open /no/such/file: no such file or directory" in _fails(
        ctr, "import", "--signature-policy", "/no/such/file", str(tarball))
    ctr.run("import", "-q", "--signature-policy", "/etc/containers/policy.json", str(tarball), "imp:2")
    ctr.run("rmi", "imp:1", "imp:2")


# --- commit -----------------------------------------------------------------------------

def test_commit_squash_message_and_author(ctr: SealpodRunner) -> None:
    """e2e commit_test.go: podman commit --squash (one layer), -f docker --message (Comment)."""
    ctr.run("run", "--name", "cm1", IMAGE, "touch", "/made")
    ctr.run("commit", "-q", "--squash", "cm1", "cmsq")
    assert len(ctr.run("inspect", "--format", "{{.RootFS.Layers}}", "cmsq").stdout.split()) == 1
    assert ctr.run("run", "--rm", "cmsq", "ls", "/made").stdout == "/made\n"
    ctr.run("commit", "-q", "-f", "docker", "--message", "testing-commit", "cm1", "cmmsg")
    assert ctr.run("inspect", "--format", "{{.Comment}}", "cmmsg").stdout == "testing-commit\n"
    err = _fails(ctr, "commit", "--message", "x", "cm1", "cmoci")
    assert "messages are only compatible with the docker image format (-f docker)" in err
    ctr.run("rm", "cm1")
    ctr.run("rmi", "cmsq", "cmmsg")


def test_commit_volumes_ports_and_secrets(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e commit_test.go: --include-volumes, exposed ports of -p, secrets never committed."""
    ctr.run("create", "--name", "cmv", "-v", f"{tmp_path}:/foo", "-v", "/anon", "-p", "8585:80", IMAGE, "true")
    ctr.run("commit", "-q", "cmv", "cmvimg")
    config = json.loads(ctr.run("image", "inspect", "cmvimg").stdout)[0]["Config"]
    assert config["Volumes"] == {"/anon": {}} and config["ExposedPorts"] == {"80/tcp": {}}
    ctr.run("commit", "-q", "--include-volumes", "cmv", "cmvimg")
    config = json.loads(ctr.run("image", "inspect", "cmvimg").stdout)[0]["Config"]
    assert set(config["Volumes"]) == {"/foo", "/anon"}
    secret = tmp_path / "secret"
    secret.write_text("somesecretdata")
    ctr.run("secret", "create", "cmsecret", str(secret))
    assert ctr.run("run", "--secret", "cmsecret", "--name", "cms", IMAGE,
                   "cat", "/run/secrets/cmsecret").stdout == "somesecretdata"
    ctr.run("commit", "-q", "cms", "cmsimg")
    assert ctr.run("run", "--rm", "cmsimg", "cat", "/run/secrets/cmsecret", check=False).returncode != 0
    ctr.run("rm", "-v", "cmv", "cms")
    ctr.run("secret", "rm", "cmsecret")
    ctr.run("rmi", "cmvimg", "cmsimg")


# --- search -----------------------------------------------------------------------------

def test_search_filters_compatible_and_authfile(ctr: SealpodRunner, seeded_registry: RegistryServer) -> None:
    """e2e search_test.go: podman search --filter, --compatible, --list-tags with a filter, --authfile."""
    term = f"{seeded_registry.host}/sealtest/tiny"
    flags = ("--tls-verify=false",)
    assert 'invalid filter type "foo=1"' in _fails(ctr, "search", *flags, "--filter", "foo=1", term)
    assert 'parsing "x": invalid syntax' in _fails(ctr, "search", *flags, "--filter", "stars=x", term)
    assert "filters are not applicable to list tags result" in _fails(
        ctr, "search", *flags, "--filter=is-official", "--list-tags", term)
    assert "stat /tmp/nonexistent: no such file or directory" in _fails(
        ctr, "search", "--authfile", "/tmp/nonexistent", term)
    heading = ctr.run("search", *flags, "--compatible", term).stdout.splitlines()[0]
    assert heading.split() == ["NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"]
    assert ctr.run("search", *flags, "--filter", "is-official", term).stdout == ""
    assert term in ctr.run("search", *flags, "--filter", "stars=0", "--filter", "is-automated=false", term).stdout


def test_run_pull_newer_is_quiet_when_the_local_image_is_current(ctr: SealpodRunner) -> None:
    """e2e play_kube_test.go (its default policy is "newer"): an up-to-date image is not pulled again."""
    full = _full(ctr)
    res = ctr.run("run", "--rm", "--pull", "newer", full, "true")
    assert "Trying to pull" not in res.stderr and "Copying" not in res.stderr
