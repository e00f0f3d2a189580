"""The test rig checks itself: registries answer, seeded images are valid for independent tools."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import shutil
import ssl
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from sealpod.utils.proc import run
from tests.rig import images as im
from tests.rig import tarbuild as tb
from tests.rig.registry import (
    PASSWORD,
    USERNAME,
    MissingComponent,
    RegistryPool,
    RegistryServer,
    make_htpasswd,
)
from tests.rig.sealpod import DISTRIBUTION_CONTAINERS_CONF, SealpodRunner, skip_or_fail

pytestmark = pytest.mark.integration

ALL_ACCEPT = ", ".join([im.OCI_MANIFEST, im.OCI_INDEX, im.DOCKER_MANIFEST, im.DOCKER_LIST])


def _get(server: RegistryServer, path: str, headers: dict[str, str] | None = None,
         auth: bool = True, method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
    hdrs = dict(headers or {})
    if auth and server.username:
        token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
        hdrs["Authorization"] = f"Basic {token}"
    host = server.host
    conn: http.client.HTTPConnection
    if server.url.startswith("https"):
        ctx = ssl.create_default_context(cafile=str(server.ca_cert))
        conn = http.client.HTTPSConnection(host, timeout=30, context=ctx)
    else:
        conn = http.client.HTTPConnection(host, timeout=30)
    try:
        conn.request(method, path, headers=hdrs)
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def _skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("skopeo") is None:
        skip_or_fail("skopeo not found (apt-get install skopeo)")
    return run(["skopeo", *args], timeout=120)


def _decompress(blob: bytes, media_type: str) -> bytes:
    if media_type.endswith("gzip"):
        return gzip.decompress(blob)
    if media_type.endswith("zstd"):
        out: bytes = zstandard.ZstdDecompressor().decompress(blob)
        return out
    return blob


# --- registries ---------------------------------------------------------------------------------

def test_plain_registry_answers(registry: RegistryServer) -> None:
    status, headers, _ = _get(registry, "/v2/")
    assert status == 200
    assert headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert registry.url == f"http://{registry.host}"


@pytest.mark.parametrize("fixture", ["auth_registry", "tls_auth_registry"])
def test_auth_registries_want_basic_credentials(fixture: str, request: pytest.FixtureRequest) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)
    assert (server.username, server.password) == (USERNAME, PASSWORD) == ("sealtest", "s3cret-pass")
    status, headers, _ = _get(server, "/v2/", auth=False)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Basic realm=")
    assert _get(server, "/v2/")[0] == 200
    bad = RegistryServer(server.host, server.url, server.storage_dir, USERNAME, "wrong", server.ca_cert)
    assert _get(bad, "/v2/")[0] == 401


@pytest.mark.parametrize("fixture", ["tls_registry", "tls_auth_registry"])
def test_tls_registries_need_their_ca(fixture: str, request: pytest.FixtureRequest) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)
    assert server.url == f"https://{server.host}"
    assert server.ca_cert is not None and server.cert_dir is not None
    assert (server.cert_dir / "ca.crt").read_bytes() == server.ca_cert.read_bytes()
    assert _get(server, "/v2/")[0] in (200, 401)
    localhost = RegistryServer(server.host.replace("127.0.0.1", "localhost"),
                               server.url.replace("127.0.0.1", "localhost"), server.storage_dir,
                               server.username, server.password, server.ca_cert)
    assert _get(localhost, "/v2/")[0] in (200, 401)  # the SAN covers DNS:localhost too
    conn = http.client.HTTPSConnection(server.host, timeout=10, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/v2/")
    conn.close()


def test_pusher_works_with_auth_and_tls(tls_auth_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    image = seed_images.images["sealtest/tiny:latest"]
    im.push_image(tls_auth_registry, "rig/pushed", "v1", image)
    im.push_image(tls_auth_registry, "rig/pushed", "v1", image)  # second push: blobs are skipped
    status, headers, body = _get(tls_auth_registry, "/v2/rig/pushed/manifests/v1",
                                 {"Accept": im.OCI_MANIFEST})
    assert status == 200 and body == image.manifest
    assert headers["Docker-Content-Digest"] == image.manifest_digest


# --- seeded images over HTTP --------------------------------------------------------------------

SEEDED = ["sealtest/tiny:latest", "sealtest/tiny-docker:latest", "sealtest/multilayer:latest"]


@pytest.mark.parametrize("name", SEEDED)
def test_seeded_image_blobs_match_digests(name: str, seeded_registry: RegistryServer) -> None:
    repo, _, tag = name.rpartition(":")
    status, headers, body = _get(seeded_registry, f"/v2/{repo}/manifests/{tag}", {"Accept": ALL_ACCEPT})
    assert status == 200
    manifest = json.loads(body)
    assert headers["Content-Type"] == manifest["mediaType"]
    assert headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    _, _, cbody = _get(seeded_registry, f"/v2/{repo}/blobs/{manifest['config']['digest']}")
    assert "sha256:" + hashlib.sha256(cbody).hexdigest() == manifest["config"]["digest"]
    config = json.loads(cbody)
    diff_ids = []
    for desc in manifest["layers"]:
        status, _, blob = _get(seeded_registry, f"/v2/{repo}/blobs/{desc['digest']}")
        assert status == 200 and len(blob) == desc["size"]
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == desc["digest"]
        diff_ids.append("sha256:" + hashlib.sha256(_decompress(blob, desc["mediaType"])).hexdigest())
    assert config["rootfs"] == {"type": "layers", "diff_ids": diff_ids}
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert config["config"]["Cmd"] == ["sh"] and any(e.startswith("PATH=") for e in config["config"]["Env"])
    assert config["config"]["Labels"]
    assert len([h for h in config["history"] if not h.get("empty_layer")]) == len(diff_ids)


def test_media_types(seed_images: im.SeedSet) -> None:
    tiny, docker, multi = (seed_images.images[n] for n in SEEDED)
    assert [b.media_type for b in tiny.layers] == [im.OCI_LAYER_GZIP]
    assert tiny.config.media_type == im.OCI_CONFIG and tiny.manifest_media_type == im.OCI_MANIFEST
    assert [b.media_type for b in docker.layers] == [im.DOCKER_LAYER_GZIP]
    assert docker.config.media_type == im.DOCKER_CONFIG and docker.manifest_media_type == im.DOCKER_MANIFEST
    assert [b.media_type for b in multi.layers] == [
        im.OCI_LAYER_GZIP, im.OCI_LAYER_GZIP, im.OCI_LAYER_ZSTD, im.OCI_LAYER_GZIP, im.OCI_LAYER]
    assert multi.layers[0].digest == tiny.layers[0].digest  # shared base layer
    assert gzip.decompress(multi.layers[3].data) == tb.EMPTY_TAR
    history = multi.config_json["history"]
    assert sum(1 for h in history if h.get("empty_layer")) == 2


def _members(blob: im.Blob) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(_decompress(blob.data, blob.media_type))) as tf:
        return {m.name: m for m in tf.getmembers()}


def test_tiny_layer_content(seed_images: im.SeedSet) -> None:
    members = _members(seed_images.images["sealtest/tiny:latest"].layers[0])
    assert members["bin/busybox"].isreg() and members["bin/busybox"].mode == 0o755
    assert members["bin/busybox"].size == Path("/bin/busybox").stat().st_size
    for applet in ("sh", "ls", "cat", "echo", "true", "nc", "sleep"):
        assert members[f"bin/{applet}"].issym() and members[f"bin/{applet}"].linkname == "/bin/busybox"
    assert members["etc/passwd"].isreg() and members["etc/group"].isreg()
    assert members["tmp"].mode == 0o1777
    assert {m.mtime for m in members.values()} == {tb.FIXED_MTIME}
    assert list(members) == sorted(members)


def test_applets_exist_in_busybox() -> None:
    have = set(run(["/bin/busybox", "--list"]).stdout.decode().split())
    assert set(im.APPLETS) - have == set()


def test_multilayer_special_entries(seed_images: im.SeedSet) -> None:
    layers = seed_images.images["sealtest/multilayer:latest"].layers
    l2, l3, l5 = _members(layers[1]), _members(layers[2]), _members(layers[4])
    assert l2["data/hard"].islnk() and l2["data/hard"].linkname == "data/a"
    assert l2["usr/bin/link"].issym() and l2["usr/bin/suid"].mode == 0o4755
    assert (l2["data/owned"].uid, l2["data/owned"].gid) == (1000, 1000)
    cap = l2["usr/bin/netcap"].pax_headers["SCHILY.xattr.security.capability"]
    assert cap.encode("utf-8", "surrogateescape") == im.cap_net_raw_xattr()
    assert "data/.wh.b" in l3 and "opt/dir/.wh..wh..opq" in l3 and "opt/dir/z" in l3
    assert "srv/plain.txt" in l5


def test_expected_multilayer_model() -> None:
    exp = im.EXPECTED_MULTILAYER
    assert exp["/etc/motd"].data == im.MOTD_2
    assert exp["/opt/dir/z"].kind == "file" and "/opt/dir/x" not in exp and "/data/b" not in exp
    assert exp["/data/hard"].same_inode_as == "/data/a" and exp["/data/hard"].data == b"file a\n"
    assert exp["/usr/bin/suid"].mode == 0o4755 and exp["/usr/bin/link"].target == "/bin/busybox"
    assert exp["/usr/bin/netcap"].xattrs["security.capability"] == im.cap_net_raw_xattr()
    assert not im.EXPECTED_MULTILAYER_ABSENT & exp.keys()


@pytest.mark.parametrize(("name", "media_type", "platforms"), [
    ("sealtest/multiarch:latest", im.OCI_INDEX, ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]),
    ("sealtest/docker-list:latest", im.DOCKER_LIST, ["linux/amd64", "linux/arm64/v8"]),
])
def test_indexes(name: str, media_type: str, platforms: list[str], seeded_registry: RegistryServer) -> None:
    repo, _, tag = name.rpartition(":")
    status, headers, body = _get(seeded_registry, f"/v2/{repo}/manifests/{tag}", {"Accept": ALL_ACCEPT})
    assert status == 200 and headers["Content-Type"] == media_type
    index = json.loads(body)
    got = ["/".join(filter(None, [p["platform"]["os"], p["platform"]["architecture"],
                                  p["platform"].get("variant")])) for p in index["manifests"]]
    assert got == platforms
    for desc in index["manifests"]:
        status, headers, child = _get(seeded_registry, f"/v2/{repo}/manifests/{desc['digest']}",
                                      {"Accept": ALL_ACCEPT})
        assert status == 200 and headers["Content-Type"] == desc["mediaType"]
        config_digest = json.loads(child)["config"]["digest"]
        config = json.loads(_get(seeded_registry, f"/v2/{repo}/blobs/{config_digest}")[2])
        assert config["architecture"] == desc["platform"]["architecture"]


def test_seed_is_deterministic(seed_images: im.SeedSet) -> None:
    again = im.build_seed_set()
    for name in [*seed_images.images, *seed_images.indexes]:
        assert again.digest(name) == seed_images.digest(name)


# --- independent implementations as oracles -----------------------------------------------------

@pytest.mark.parametrize("name", SEEDED)
def test_skopeo_inspects_seeded_images(name: str, seeded_registry: RegistryServer,
                                       seed_images: im.SeedSet) -> None:
    out = _skopeo("inspect", "--tls-verify=false", f"docker://{seeded_registry.host}/{name}").stdout
    info: dict[str, Any] = json.loads(out)
    image = seed_images.images[name]
    assert info["Digest"] == image.manifest_digest
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert info["Layers"] == [b.digest for b in image.layers]


def test_skopeo_picks_platform_from_index(seeded_registry: RegistryServer, seed_images: im.SeedSet) -> None:
    for name in seed_images.indexes:
        ref = f"docker://{seeded_registry.host}/{name}"
        raw = _skopeo("inspect", "--tls-verify=false", "--raw", ref).stdout
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == seed_images.digest(name)
        info = json.loads(_skopeo("inspect", "--tls-verify=false", "--override-arch", "arm64", ref).stdout)
        assert info["Architecture"] == "arm64"


def test_skopeo_copies_multilayer(seeded_registry: RegistryServer, seed_images: im.SeedSet,
                                  tmp_path: Path) -> None:
    dest = tmp_path / "copy"
    _skopeo("copy", "--src-tls-verify=false", f"docker://{seeded_registry.host}/sealtest/multilayer:latest",
            f"dir:{dest}")
    image = seed_images.images["sealtest/multilayer:latest"]
    assert (dest / "manifest.json").read_bytes() == image.manifest
    for blob in image.layers:
        assert (dest / blob.digest.removeprefix("sha256:")).read_bytes() == blob.data


def test_skopeo_with_auth_and_tls(tls_auth_registry: RegistryServer, auth_registry: RegistryServer,
                                  seed_images: im.SeedSet) -> None:
    im.seed_registry(tls_auth_registry, seed_images)
    im.seed_registry(auth_registry, seed_images)
    creds = f"{USERNAME}:{PASSWORD}"
    ref = "sealtest/tiny:latest"
    out = _skopeo("inspect", "--cert-dir", str(tls_auth_registry.cert_dir), "--creds", creds,
                  f"docker://{tls_auth_registry.host}/{ref}").stdout
    assert json.loads(out)["Digest"] == seed_images.digest(ref)
    out = _skopeo("inspect", "--tls-verify=false", "--creds", creds, f"docker://{auth_registry.host}/{ref}").stdout
    assert json.loads(out)["Digest"] == seed_images.digest(ref)


def test_podman_extracts_expected_multilayer(seeded_registry: RegistryServer, tmp_path: Path) -> None:
    """Podman's extraction (vfs) must agree with EXPECTED_MULTILAYER: validates images and model."""
    if shutil.which("podman") is None:
        skip_or_fail("podman not found (apt-get install podman)")
    short = Path(tempfile.mkdtemp(prefix="rig-", dir="/tmp"))  # podman wants a runroot under 50 chars
    base = [
        "podman", "--root", str(tmp_path / "root"), "--runroot", str(short / "run"),
        "--tmpdir", str(short / "tmp"), "--storage-driver", "vfs", "--events-backend", "none",
    ]  # fmt: skip
    ref = f"{seeded_registry.host}/sealtest/multilayer:latest"
    try:
        run([*base, "pull", "--quiet", "--tls-verify=false", ref], timeout=120)
        mountpoint = Path(run([*base, "image", "mount", ref]).stdout.decode().strip())
        assert im.check_tree(mountpoint) == []
    finally:
        run([*base, "image", "unmount", "--all"], check=False)
        run([*base, "system", "reset", "--force"], check=False, timeout=120)
        shutil.rmtree(short, ignore_errors=True)


def test_big_image_small(registry: RegistryServer) -> None:
    image = im.big_image(total_mb=1, files=60, layers=3)
    assert len(image.layers) == 3 and len(image.diff_ids) == 3
    sizes = [sum(m.size for m in _members(b).values() if m.isreg()) for b in image.layers[1:]]
    assert sum(sizes) >= 1024 * 1024 - 60 and min(sizes) > 0
    im.push_image(registry, "rig/big", "small", image)
    assert im.big_image(total_mb=1, files=60, layers=3).manifest_digest == image.manifest_digest


# --- the sealpod runner -------------------------------------------------------------------------

def test_runner_isolates_configuration(sealpod: SealpodRunner, seeded_registry: RegistryServer,
                                       auth_registry: RegistryServer, tmp_path: Path) -> None:
    assert sealpod.root == tmp_path / "root" and sealpod.root.is_dir() and sealpod.runroot.is_dir()
    env = sealpod.env
    assert Path(env["CONTAINERS_CONF"]).read_text() == DISTRIBUTION_CONTAINERS_CONF
    assert env["REGISTRY_AUTH_FILE"] == str(tmp_path / "auth.json")
    assert Path(env["SEALPOD_STORAGE_CONF"]).read_text() == ""
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        assert env[var].startswith(str(tmp_path))
    conf = Path(env["CONTAINERS_REGISTRIES_CONF"]).read_text()
    assert f'unqualified-search-registries = ["{seeded_registry.host}"]' in conf
    for host in (seeded_registry.host, auth_registry.host):
        assert f'[[registry]]\nlocation = "{host}"\ninsecure = true' in conf
    sealpod.write_registries_conf(search=["example.test"], extra='short-name-mode = "permissive"')
    assert 'unqualified-search-registries = ["example.test"]' in sealpod.registries_conf.read_text()


def test_runner_reports_failures(sealpod: SealpodRunner) -> None:
    res = sealpod.run("--no-such-flag-anywhere", check=False)
    assert res.returncode != 0
    with pytest.raises(AssertionError) as exc:
        sealpod.run("--no-such-flag-anywhere")
    msg = str(exc.value)
    assert "argv:" in msg and "-m sealpod --root" in msg and f"exit code {res.returncode}" in msg
    assert "--- stderr ---" in msg


# --- missing components ------------------------------------------------------------------------

def test_missing_registry_binary_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: nothing can be found
    with pytest.raises(MissingComponent, match="docker-registry not found"):
        RegistryPool(tmp_path).get("plain")
    with pytest.raises(MissingComponent, match=r"htpasswd not found \(apt-get install apache2-utils\)"):
        make_htpasswd(tmp_path / "htpasswd")


def test_skip_or_fail_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no such thing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no such thing"):
        skip_or_fail("no such thing")
