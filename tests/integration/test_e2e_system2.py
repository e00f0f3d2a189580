"""Conformance with Podman 4.3.1's e2e tests (test/e2e) for login/logout, generate systemd,
healthcheck, trust, container runlabel and system reset: outputs, exit codes and messages
against real registries, conmon and runc.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-system2"), seeded_registry.host) as runner:
        yield runner


@pytest.fixture(scope="module")
def auth_seeded(auth_registry: RegistryServer, seed_images: im.SeedSet) -> RegistryServer:
    im.push_image(auth_registry, "sealtest/tiny", "latest", seed_images.images["sealtest/tiny:latest"])
    return auth_registry


def _login(sp: SealpodRunner, reg: RegistryServer, *args: str) -> None:
    assert reg.username is not None and reg.password is not None
    sp.run("login", "-u", reg.username, "-p", reg.password, *args)


# --- login_logout_test.go ------------------------------------------------------------------

def test_login_trusts_home_certs_d_as_root(sealpod: SealpodRunner, tls_auth_registry: RegistryServer) -> None:
    """e2e login_logout_test.go: podman login and logout (CA in ~/.config/containers/certs.d/HOST)."""
    assert tls_auth_registry.ca_cert is not None
    certs = sealpod.home / ".config/containers/certs.d" / tls_auth_registry.host
    certs.mkdir(parents=True)
    shutil.copy(tls_auth_registry.ca_cert, certs / "ca.crt")
    _login(sealpod, tls_auth_registry, tls_auth_registry.host)
    assert sealpod.run("logout", tls_auth_registry.host).stdout.strip() == \
        f"Removed login credentials for {tls_auth_registry.host}"


def test_login_logout_without_registry_use_first_search_registry(sealpod: SealpodRunner,
                                                                 auth_registry: RegistryServer) -> None:
    """e2e login_logout_test.go: podman login and logout without registry parameter."""
    sealpod.write_registries_conf(search=[auth_registry.host], insecure=[auth_registry.host])
    _login(sealpod, auth_registry)
    assert auth_registry.host in json.loads(sealpod.auth_file.read_text())["auths"]
    sealpod.run("logout")
    assert json.loads(sealpod.auth_file.read_text())["auths"] == {}
    sealpod.write_registries_conf()
    res = sealpod.run("login", "-u", "a", "-p", "b", check=False)
    assert res.returncode == 125
    assert "no registries found in registries.conf, a registry must be provided" in res.stderr


def test_authfile_flag_on_run_push_and_logout(sealpod: SealpodRunner, auth_seeded: RegistryServer,
                                              tmp_path: Path) -> None:
    """e2e login_logout_test.go: podman login and logout with flag --authfile."""
    host = auth_seeded.host
    sealpod.write_registries_conf(insecure=[host])
    auth = tmp_path / "my-auth.json"
    _login(sealpod, auth_seeded, "--authfile", str(auth), host)
    res = sealpod.run("push", "--authfile", "/tmp/nonexistent", f"{host}/{IMAGE}", check=False)
    assert res.returncode == 125 and "stat /tmp/nonexistent: no such file or directory" in res.stderr
    out = sealpod.run("run", "--rm", "--authfile", str(auth), f"{host}/{IMAGE}", "echo", "pulled")
    assert out.stdout.strip() == "pulled" and "Traceback" not in out.stderr
    sealpod.run("push", "-q", "--authfile", str(auth), f"{host}/{IMAGE}")
    res = sealpod.run("logout", "--authfile", "/tmp/nonexistent", host, check=False)
    assert res.returncode == 125
    assert "Error: checking authfile: stat /tmp/nonexistent: no such file or directory" in res.stderr
    sealpod.run("logout", "--authfile", str(auth), host)


def test_login_with_http_prefix_stores_the_host(sealpod: SealpodRunner, auth_registry: RegistryServer,
                                                tmp_path: Path) -> None:
    """e2e login_logout_test.go: podman login with http{s} prefix."""
    host = auth_registry.host
    sealpod.write_registries_conf(insecure=[host])
    auth = tmp_path / "auth.json"
    for arg in (f"https://{host}/podmantest", f"http://{host}/podmantest/image:latest"):
        _login(sealpod, auth_registry, "--authfile", str(auth), arg)
    assert list(json.loads(auth.read_text())["auths"]) == [host]
    out = sealpod.run("logout", "--authfile", str(auth), f"http://{host}/podmantest/image:latest").stdout
    assert out.strip() == f"Removed login credentials for {host}"
    res = sealpod.run("login", "-u", "x", "-p", "y", "--authfile", str(auth), f"{host}/a/image:latest", check=False)
    assert res.returncode == 125 and f'reference "{host}/a/image:latest" contains tag or digest' in res.stderr


# --- generate_systemd_test.go --------------------------------------------------------------

def test_generate_pod_units_point_at_userdata_conmon_pid(ctr: SealpodRunner) -> None:
    """e2e generate_systemd_test.go: podman generate systemd pod --name."""
    ctr.run("pod", "create", "--name", "gsfoo")
    for member in ("gsfoo-1", "gsfoo-2"):
        ctr.run("create", "--pod", "gsfoo", "--name", member, IMAGE, "top")
    try:
        out = ctr.run("generate", "systemd", "--time", "42", "--name", "gsfoo").stdout
        assert "Wants=container-gsfoo-1.service container-gsfoo-2.service" in out
        assert "/userdata/conmon.pid" in out and "-t 42 gsfoo-2" in out
        assert out.count(f"RequiresMountsFor={ctr.runroot}") == 3
        ctr.run("start", "gsfoo-1")
        pidfile = ctr.run("inspect", "--format", "{{.ConmonPidFile}}", "gsfoo-1").stdout.strip()
        assert pidfile.endswith("/userdata/conmon.pid") and pidfile.startswith(str(ctr.runroot))
        assert Path(pidfile).read_text().strip().isdigit()
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "gsfoo")
    assert not list((ctr.runroot / "overlay-containers").glob("*/userdata"))


def test_generate_empty_pod_lists_empty_wants(ctr: SealpodRunner) -> None:
    """e2e generate_systemd_test.go: podman generate systemd --new pod (a pod without containers)."""
    ctr.run("pod", "create", "--name", "gsempty")
    try:
        out = ctr.run("generate", "systemd", "--new", "gsempty").stdout
        assert "\nWants=\nBefore=\n" in out and " pod create " in out
    finally:
        ctr.run("pod", "rm", "-f", "gsempty")


def test_generate_env_is_validated_and_expanded(ctr: SealpodRunner) -> None:
    """e2e generate_systemd_test.go: podman generate systemd --env."""
    ctr.run("create", "--name", "gsenv", IMAGE, "top")
    try:
        for args in (("--env", "=bar", "-e", "hoge=fuga"), ("--env", "foo=bar", "-e", "=fuga", "--new")):
            res = ctr.run("generate", "systemd", *args, "gsenv", check=False)
            assert res.returncode == 125 and "invalid environment variable" in res.stderr
        ctr.env.update({"FOO1": "BAR1", "FOO2": "BAR2", "FOO3": "BAR3"})
        try:
            one = ctr.run("generate", "systemd", "--env", "FOO1", "-e", "UNSET_G1", "gsenv").stdout
            assert "Environment=FOO1=BAR1" in one and "BAR2" not in one and "UNSET_G1" not in one
            for extra in ((), ("--new",)):
                out = ctr.run("generate", "systemd", "--env", "FOO*", *extra, "gsenv").stdout
                assert all(f"Environment=FOO{i}=BAR{i}" in out for i in (1, 2, 3)) and "FOO*" not in out
        finally:
            for key in ("FOO1", "FOO2", "FOO3"):
                ctr.env.pop(key)
    finally:
        ctr.run("rm", "-f", "gsenv")


# --- healthcheck_run_test.go ---------------------------------------------------------------

def _with_config(image: im.BuiltImage, **extra: object) -> im.BuiltImage:
    """``image`` with keys added at the top of its config (a new config blob, a new manifest)."""
    from tests.rig import tarbuild as tb

    config = {**image.config_json, **extra}
    data = json.dumps(config, separators=(",", ":")).encode()
    blob = im.Blob(tb.sha256_digest(data), data, image.config.media_type)
    manifest = json.loads(image.manifest)
    manifest["config"] = {"mediaType": blob.media_type, "digest": blob.digest, "size": len(data)}
    mdata = json.dumps(manifest, indent=3).encode()
    return im.BuiltImage(mdata, tb.sha256_digest(mdata), image.manifest_media_type, blob, image.layers,
                         image.diff_ids)


def test_healthcheck_from_image_container_config(ctr: SealpodRunner, seeded_registry: RegistryServer,
                                                 seed_images: im.SeedSet) -> None:
    """e2e healthcheck_run_test.go: podman healthcheck from image's config (not container config)."""
    hc = {"Test": ["CMD-SHELL", "ls /foo || exit 1"], "Interval": 300 * 10**9, "Timeout": 3 * 10**9}
    image = _with_config(seed_images.images["sealtest/tiny-docker:latest"], container_config={"Healthcheck": hc})
    im.push_image(seeded_registry, "sealtest/hc-config-only", "latest", image)
    ctr.run("create", "--name", "hccfg", f"{seeded_registry.host}/sealtest/hc-config-only", "top")
    try:
        out = ctr.run("container", "inspect", "--format", "{{.Config.Healthcheck}}", "hccfg").stdout.strip()
        assert out == "{[CMD-SHELL ls /foo || exit 1] 0s 5m0s 3s 0}"
        ctr.run("start", "hccfg")
        res = ctr.run("healthcheck", "run", "hccfg", check=False)  # Retries 0: the first failure counts
        assert res.returncode == 1 and res.stdout.strip() == "unhealthy"
        assert ctr.run("inspect", "--format", "{{.State.Health.Status}}", "hccfg").stdout.strip() == "unhealthy"
    finally:
        ctr.run("rm", "-f", "-t", "0", "hccfg")


# --- trust_test.go -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def named_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bytes]:
    """An armored public key whose user ID is "Name <email>", as distribution keys' are."""
    from sealpod.utils.proc import run

    home = tmp_path_factory.mktemp("gpg") / "home"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Sealtest Release <release@example.com>",
         "ed25519", "sign", "never"], env=env)
    yield run(["gpg", "--batch", "--armor", "--export", "release@example.com"], env=env).stdout
    run(["gpgconf", "--kill", "all"], env=env, check=False)


def test_trust_show_registrypath_and_inline_key_data(ctr: SealpodRunner, named_key: bytes, tmp_path: Path) -> None:
    """e2e trust_test.go: podman image trust show; --json; --raw."""
    import base64

    policy = tmp_path / "policy.json"
    doc = {"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker": {
        "docker.io/library/hello-world": [{"type": "reject"}],
        "registry.example.com": [{"type": "signedBy", "keyType": "GPGKeys",
                                  "keyData": base64.b64encode(b"A comment first.\n\n" + named_key).decode()}]}}}
    policy.write_text(json.dumps(doc, indent=4))
    regd = tmp_path / "regd"
    regd.mkdir()
    (regd / "example.yaml").write_text("docker:\n  registry.example.com:\n    sigstore: https://sig.example.com/store\n")
    common = ("--registrypath", str(regd), "--policypath", str(policy))
    table = ctr.run("image", "trust", "show", "-n", *common).stdout.splitlines()
    assert len(table) == 3
    assert table[2].split() == ["repository", "registry.example.com", "signed", "release@example.com",
                                "https://sig.example.com/store"]
    rows = json.loads(ctr.run("image", "trust", "show", "--json", *common).stdout)
    assert rows[2] == {"transport": "repository", "name": "registry.example.com", "repo_name": "registry.example.com",
                       "type": "signed", "gpg_id": "release@example.com", "sigstore": "https://sig.example.com/store"}
    raw = ctr.run("image", "trust", "show", "--policypath", str(policy), "--raw").stdout
    assert raw == policy.read_text() + "\n"


# --- runlabel_test.go ----------------------------------------------------------------------

def test_runlabel_display_bare_words_and_authfile(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e runlabel_test.go: --display (ls -la); name removes tag from image; nonexistent authfile."""
    from tests.rig.sealpod import build_context

    labels = {"rl-ls:tag": "LABEL RUN ls -la", "rl-name:sometag": "LABEL RUN podman run --name NAME IMAGE",
              "rl-version:tag": "LABEL RUN podman --version"}
    for i, (tag, label) in enumerate(labels.items()):
        ctr.run("build", "-q", "-t", tag, str(build_context(tmp_path, f"c{i}", f"FROM {IMAGE}\n{label}\n")))
    try:
        out = ctr.run("container", "runlabel", "--display", "RUN", "rl-ls:tag").stdout.strip()
        assert out.startswith("command: ") and out.endswith("sealpod -la")
        out = ctr.run("container", "runlabel", "--display", "RUN", "rl-name:sometag").stdout.strip()
        assert out.endswith("sealpod run --name rl-name localhost/rl-name:sometag"), out
        res = ctr.run("container", "runlabel", "--authfile", "/tmp/nonexistent", "RUN", "rl-version:tag", check=False)
        assert res.returncode == 125 and "stat /tmp/nonexistent: no such file or directory" in res.stderr
        res = ctr.run("container", "runlabel", "RUN", "rl-version:tag")
        assert res.stdout.startswith("sealpod version") and "command:" not in res.stdout
    finally:
        ctr.run("rmi", "-f", *labels)


def test_global_conmon_network_cmd_path_ssh_and_syslog_flags(ctr: SealpodRunner) -> None:
    """Podman 4.3.1's global --conmon, --network-cmd-path, --ssh and --syslog are taken: a conmon path
    that is no executable falls back to the usual one, as Podman's does; a slirp4netns path that is none
    fails the run with Podman's words and 127, leaving no --rm container behind."""
    out = ctr.run("--conmon", "/usr/bin/conmon", "--ssh", "native", "--syslog", "run", "--rm", "--network", "none",
                  IMAGE, "echo", "ok")
    assert out.stdout == "ok\n"
    assert ctr.run("--conmon", "/nonexistent/conmon", "run", "--rm", "--network", "none", IMAGE, "true").returncode == 0
    before = ctr.run("ps", "-aq").stdout
    bad = ctr.run("--network-cmd-path", "/nonexistent/slirp", "run", "--rm", "--network", "slirp4netns", IMAGE, "true",
                  check=False)
    assert (bad.returncode, bad.stderr) == (127, "Error: checking slirp4netns binary /nonexistent/slirp: fork/exec "
                                                 "/nonexistent/slirp: no such file or directory\n")
    assert ctr.run("ps", "-aq").stdout == before
    help_text = ctr.run("--help").stdout
    assert all(flag in help_text for flag in ("--conmon", "--network-cmd-path", "--ssh", "--syslog"))
