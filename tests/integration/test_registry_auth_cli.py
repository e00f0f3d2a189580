"""login / logout / --creds against the htpasswd registry; TLS trust; search over the catalog."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(sealpod: SealpodRunner, tmp_path: Path) -> SealpodRunner:
    conf = tmp_path / "storage.conf"
    conf.write_text("")
    sealpod.env["SEALPOD_STORAGE_CONF"] = str(conf)
    return sealpod


@pytest.fixture(scope="module")
def auth_seeded(auth_registry: RegistryServer, seed_images: im.SeedSet) -> RegistryServer:
    im.push_image(auth_registry, "sealtest/tiny", "latest", seed_images.images["sealtest/tiny:latest"])
    return auth_registry


@pytest.fixture(scope="module")
def tls_seeded(tls_registry: RegistryServer, seed_images: im.SeedSet) -> RegistryServer:
    im.push_image(tls_registry, "sealtest/tiny", "latest", seed_images.images["sealtest/tiny:latest"])
    return tls_registry


def _error_line(res: object) -> str:
    import subprocess

    assert isinstance(res, subprocess.CompletedProcess)
    assert res.returncode == 125 and "Traceback" not in res.stderr, res
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_login_bad_then_good(sp: SealpodRunner, auth_seeded: RegistryServer) -> None:
    host = auth_seeded.host
    res = sp.run("login", "-u", "sealtest", "-p", "wrong", host, check=False)
    assert _error_line(res) == f'Error: logging into "{host}": invalid username/password'
    assert not sp.auth_file.exists()
    res = sp.run("login", "-u", "sealtest", "--password-stdin", host, input="s3cret-pass\n")
    assert res.stdout.strip() == "Login Succeeded!"
    assert stat.S_IMODE(sp.auth_file.stat().st_mode) == 0o600
    auths = json.loads(sp.auth_file.read_text())["auths"]
    assert list(auths) == [host] and "auth" in auths[host]
    sp.run("pull", "-q", f"{host}/sealtest/tiny")
    assert sp.run("logout", host).stdout.strip() == f"Removed login credentials for {host}"
    assert host not in json.loads(sp.auth_file.read_text()).get("auths", {})
    res = sp.run("logout", host, check=False)
    assert _error_line(res) == f"Error: not logged into {host}"
    res = sp.run("pull", f"{host}/sealtest/tiny:latest", check=False)
    assert "authentication required" in _error_line(res) or "unauthorized" in _error_line(res)


def test_logout_all(sp: SealpodRunner, auth_registry: RegistryServer, registry: RegistryServer) -> None:
    sp.run("login", "-u", "sealtest", "-p", "s3cret-pass", auth_registry.host)
    assert sp.run("logout", "--all").stdout.strip() == "Removed login credentials for all registries"
    assert json.loads(sp.auth_file.read_text()).get("auths", {}) == {}


def test_creds_flag(sp: SealpodRunner, auth_seeded: RegistryServer) -> None:
    ref = f"{auth_seeded.host}/sealtest/tiny"
    res = sp.run("pull", "--creds", "sealtest:wrong", ref, check=False)
    _error_line(res)
    sp.run("pull", "-q", "--creds", "sealtest:s3cret-pass", ref)
    assert not sp.auth_file.exists()
    assert sp.run("image", "exists", ref).returncode == 0


def test_tls_trust(sp: SealpodRunner, tls_seeded: RegistryServer) -> None:
    ref = f"{tls_seeded.host}/sealtest/tiny"
    res = sp.run("pull", ref, check=False)
    assert "x509: certificate signed by unknown authority" in _error_line(res)
    assert sp.run("images", "-q").stdout == ""
    assert tls_seeded.cert_dir is not None
    sp.run("pull", "-q", "--cert-dir", str(tls_seeded.cert_dir), ref)
    sp.run("rmi", ref)
    sp.run("pull", "-q", "--tls-verify=false", ref)
    assert sp.run("image", "exists", ref).returncode == 0


def test_login_tls(sp: SealpodRunner, tls_auth_registry: RegistryServer) -> None:
    host = tls_auth_registry.host
    res = sp.run("login", "-u", "sealtest", "-p", "s3cret-pass", host, check=False)
    assert "x509" in _error_line(res)
    assert tls_auth_registry.cert_dir is not None
    sp.run("login", "--cert-dir", str(tls_auth_registry.cert_dir), "-u", "sealtest", "-p", "s3cret-pass", host)
    assert host in json.loads(sp.auth_file.read_text())["auths"]


def test_search_catalog(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    lines = sp.run("search", f"{seeded_registry.host}/sealtest").stdout.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION"]
    names = [ln.split()[0] for ln in lines[1:]]
    for repo in ("tiny", "tiny-docker", "multilayer", "multiarch", "docker-list"):
        assert f"{seeded_registry.host}/sealtest/{repo}" in names
    only = sp.run("search", "--format", "{{.Name}}", f"{seeded_registry.host}/multilayer").stdout.split()
    assert only == [f"{seeded_registry.host}/sealtest/multilayer"]
