"""`sealpod pull` end to end against a real registry: formats, platforms, output, reuse, failures."""

from __future__ import annotations

import http.server
import json
import platform
import re
import threading
from pathlib import Path

import pytest

from sealpod.utils.proc import run
from tests.rig import images as im
from tests.rig import tarbuild as tb
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

pytestmark = pytest.mark.integration

HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
ID_LINE = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def sp(sealpod: SealpodRunner, tmp_path: Path) -> SealpodRunner:
    """The runner with an empty storage.conf: defaults, the runner's --root/--runroot."""
    conf = tmp_path / "storage.conf"
    conf.write_text("")
    sealpod.env["SEALPOD_STORAGE_CONF"] = str(conf)
    return sealpod


def _config_id(image: im.BuiltImage) -> str:
    return image.config.digest.removeprefix("sha256:")


def _ids(sp: SealpodRunner) -> list[str]:
    return sp.run("images", "-q", "--no-trunc").stdout.split()


def _one_line_error(res: object, want: str) -> None:
    import subprocess

    assert isinstance(res, subprocess.CompletedProcess)
    assert res.returncode == 125, res
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1 and want in lines[0], res.stderr
    assert "Traceback" not in res.stderr


# --- formats and platforms ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sealtest/tiny:latest", "sealtest/tiny-docker:latest"])
def test_pull_single_manifest(sp: SealpodRunner, seeded_registry: RegistryServer, seed_images: im.SeedSet,
                              name: str) -> None:
    image = seed_images.images[name]
    res = sp.run("pull", "-q", f"{seeded_registry.host}/{name}")
    assert res.stdout.strip() == _config_id(image)
    out = sp.run("image", "inspect", "--format", "{{.Id}} {{.Architecture}} {{.Digest}}",
                 f"{seeded_registry.host}/{name}").stdout.split()
    assert out == [_config_id(image), "amd64", image.manifest_digest]


@pytest.mark.parametrize("repo", ["sealtest/multiarch", "sealtest/docker-list"])
def test_pull_index_picks_host_platform(sp: SealpodRunner, seeded_registry: RegistryServer, repo: str) -> None:
    ref = f"{seeded_registry.host}/{repo}"
    sp.run("pull", "-q", ref)
    assert sp.run("image", "inspect", "--format", "{{.Architecture}}", ref).stdout.strip() == HOST_ARCH


@pytest.mark.parametrize("flags", [("--platform", "linux/arm64"), ("--arch", "arm64")])
@pytest.mark.parametrize("repo", ["sealtest/multiarch", "sealtest/docker-list"])
def test_pull_index_other_platform(sp: SealpodRunner, seeded_registry: RegistryServer, repo: str,
                                   flags: tuple[str, str]) -> None:
    ref = f"{seeded_registry.host}/{repo}"
    sp.run("pull", "-q", *flags, ref)
    fmt = "{{.Architecture}} {{.Os}}"
    assert sp.run("image", "inspect", "--format", fmt, ref).stdout.split() == ["arm64", "linux"]


def test_pull_missing_platform(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    res = sp.run("pull", "--arch", "s390x", f"{seeded_registry.host}/sealtest/multiarch", check=False)
    _one_line_error(res, "s390x")
    assert _ids(sp) == []


def test_pull_by_digest(sp: SealpodRunner, seeded_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    image = seed_images.images["sealtest/tiny:latest"]
    ref = f"{seeded_registry.host}/sealtest/tiny@{image.manifest_digest}"
    assert sp.run("pull", "-q", ref).stdout.strip() == _config_id(image)
    assert sp.run("image", "exists", ref, check=False).returncode == 0
    rows = sp.run("images", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}").stdout.splitlines()
    assert rows == [f"{seeded_registry.host}/sealtest/tiny <none> {image.manifest_digest}"]


def test_pull_short_name(sp: SealpodRunner, seeded_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    res = sp.run("pull", "sealtest/tiny")
    assert res.stdout.strip() == _config_id(seed_images.images["sealtest/tiny:latest"])
    assert f'Resolving "sealtest/tiny" using unqualified-search registries ({sp.registries_conf})' in res.stderr
    names = sp.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert names == [f"{seeded_registry.host}/sealtest/tiny:latest"]


def test_pull_all_tags(sp: SealpodRunner, seeded_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    tiny = seed_images.images["sealtest/tiny:latest"]
    im.push_image(seeded_registry, "pulltest/alltags", "one", tiny)
    im.push_image(seeded_registry, "pulltest/alltags", "two", tiny)
    im.push_image(seeded_registry, "pulltest/alltags", "three", seed_images.images["sealtest/multilayer:latest"])
    sp.run("pull", "-q", "--all-tags", f"{seeded_registry.host}/pulltest/alltags")
    tags = sp.run("images", "--format", "{{.Tag}}", "--filter", "reference=*/pulltest/alltags").stdout.split()
    assert sorted(tags) == ["one", "three", "two"]
    assert len(_ids(sp)) == 2


# --- output -----------------------------------------------------------------------------------

def test_pull_output_quiet_and_verbose(sp: SealpodRunner, seeded_registry: RegistryServer,
                                       seed_images: im.SeedSet) -> None:
    image = seed_images.images["sealtest/multilayer:latest"]
    ref = f"{seeded_registry.host}/sealtest/multilayer:latest"
    res = sp.run("pull", ref)
    assert res.stdout == _config_id(image) + "\n"
    err = res.stderr.splitlines()
    assert err[0] == f"Trying to pull {ref}..."
    assert err[1] == "Getting image source signatures"
    blobs = [ln for ln in err if ln.startswith("Copying blob ")]
    assert {ln.split()[2] for ln in blobs} == {b.digest for b in image.layers}
    assert f"Copying config {image.config.digest}" in err
    assert err[-2:] == ["Writing manifest to image destination", "Storing signatures"]
    quiet = sp.run("pull", "-q", ref)
    assert quiet.stdout == _config_id(image) + "\n" and quiet.stderr == ""


def test_repull_reuses_layers(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    ref = f"{seeded_registry.host}/sealtest/multilayer:latest"
    sp.run("pull", "-q", ref)
    layer_dirs = sorted(p.name for p in (sp.root / "overlay").iterdir())
    before = {p: p.stat().st_mtime_ns for p in (sp.root / "overlay").iterdir()}
    log_start = _log_size(seeded_registry)
    sp.run("pull", ref)
    assert sorted(p.name for p in (sp.root / "overlay").iterdir()) == layer_dirs
    assert {p: p.stat().st_mtime_ns for p in (sp.root / "overlay").iterdir()} == before
    fetched = [u for m, u, _ in _requests(seeded_registry, log_start) if m == "GET" and "/blobs/" in u]
    layer_gets = [u for u in fetched if not u.endswith(_config_digest(sp, ref))]
    assert layer_gets == [], "layers were downloaded again"
    sp.run("pull", "-q", f"{seeded_registry.host}/sealtest/tiny:latest")  # its one layer is shared
    assert sorted(p.name for p in (sp.root / "overlay").iterdir()) == layer_dirs


def _log_size(server: RegistryServer) -> int:
    assert server.log_path is not None
    return server.log_path.stat().st_size


def _requests(server: RegistryServer, start: int) -> list[tuple[str, str, int]]:
    """(method, path, status) of each request the registry logged after byte ``start`` of its log."""
    assert server.log_path is not None
    with open(server.log_path, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    return [(m, u, int(st)) for m, u, st in re.findall(r'"([A-Z]+) (\S+) HTTP/1\.1" (\d{3})', text)]


def _config_digest(sp: SealpodRunner, ref: str) -> str:
    return "sha256:" + sp.run("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()


# --- failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("ref", "want"), [
    ("{host}/sealtest/tiny:nope", "manifest unknown"),
    ("{host}/sealtest/nope:latest", "manifest unknown"),
    ("127.0.0.1:1/sealtest/tiny:latest", "connection refused"),
    ("Bad::Reference", "invalid reference format"),
])  # fmt: skip
def test_pull_failures(sp: SealpodRunner, seeded_registry: RegistryServer, ref: str, want: str) -> None:
    res = sp.run("pull", ref.format(host=seeded_registry.host), check=False, timeout=60)
    _one_line_error(res, want)
    assert _ids(sp) == []


class _Schema1Handler(http.server.BaseHTTPRequestHandler):
    """A registry that only knows one schema 1 manifest: registry 2.8 refuses to store those."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        if self.path == "/v2/":
            body, mt = b"{}", "application/json"
        elif self.path == "/v2/old/schema1/manifests/latest":
            layer = {"blobSum": "sha256:" + "a" * 64}
            v1 = json.dumps({"id": "b" * 64, "architecture": "amd64"})
            body = json.dumps({"schemaVersion": 1, "name": "old/schema1", "tag": "latest",
                               "architecture": "amd64", "fsLayers": [layer],
                               "history": [{"v1Compatibility": v1}]}).encode()
            mt = "application/vnd.docker.distribution.manifest.v1+prettyjws"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", mt)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_pull_schema1_refused(sp: SealpodRunner) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Schema1Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        sp.write_registries_conf(insecure=[host])
        res = sp.run("pull", f"{host}/old/schema1:latest", check=False)
    finally:
        server.shutdown()
        server.server_close()
    _one_line_error(res, "schema")
    assert _ids(sp) == []


# --- the extracted tree -----------------------------------------------------------------------

def _chain_id(diff_ids: list[str]) -> str:
    chain = diff_ids[0]
    for d in diff_ids[1:]:
        chain = tb.sha256_digest(f"{chain} {d}".encode())
    return chain.removeprefix("sha256:")


def test_multilayer_tree_vfs(sp: SealpodRunner, seeded_registry: RegistryServer,
                             seed_images: im.SeedSet) -> None:
    require_root()
    image = seed_images.images["sealtest/multilayer:latest"]
    sp.run("--storage-driver", "vfs", "pull", "-q", f"{seeded_registry.host}/sealtest/multilayer")
    top = sp.root / "vfs" / "dir" / _chain_id(image.diff_ids)
    assert top.is_dir()
    assert im.check_tree(top) == []


def test_multilayer_tree_overlay(sp: SealpodRunner, seeded_registry: RegistryServer, tmp_path: Path) -> None:
    require_root()
    ref = f"{seeded_registry.host}/sealtest/multilayer"
    sp.run("pull", "-q", ref)
    data = json.loads(sp.run("image", "inspect", "--format", "{{json .GraphDriver}}", ref).stdout)
    assert data["Name"] == "overlay"
    lower = ":".join([data["Data"]["UpperDir"], data["Data"]["LowerDir"]])
    assert len(lower.split(":")) == 5
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    run(["mount", "-t", "overlay", "overlay", "-o", f"ro,lowerdir={lower}", mnt])
    try:
        assert im.check_tree(mnt) == []
    finally:
        run(["umount", mnt])
