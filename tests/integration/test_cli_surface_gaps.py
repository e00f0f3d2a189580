"""Small command-line surface gaps against Podman 4.3.1: create -a, --disable-content-trust, push --compress
and the sigstore signing flags, network create --ipam-driver, container cleanup --rmi, volume reload.
Each behaviour was taken from the real Podman 4.3.1 (Debian's, netavark backend) on this machine.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.utils.proc import run as proc_run
from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("cli-gaps"), seeded_registry.host) as runner:
        yield runner


def _out(sp: SealpodRunner, *args: str, input: str | None = None) -> str:
    return sp.run(*args, input=input).stdout.strip()


def _fails(sp: SealpodRunner, *args: str, code: int = 125) -> str:
    out = sp.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr


def _help(sp: SealpodRunner, *words: str) -> str:
    return _out(sp, *words, "--help")


# --- create/run -a ----------------------------------------------------------------------------

def test_create_accepts_attach_and_start_attaches_output(sp: SealpodRunner) -> None:
    """Podman 4.3.1: create -a is a create-mode flag whose value create never reads (any word, commas too);
    start -a shows the output, and inspect's AttachStdin/out/err stay false."""
    cid = _out(sp, "create", "-a", "stdout", IMAGE, "echo", "hi")
    assert sp.run("start", "-a", cid).stdout == "hi\n"
    config = json.loads(_out(sp, "inspect", cid))[0]["Config"]
    assert (config["AttachStdin"], config["AttachStdout"], config["AttachStderr"]) == (False, False, False)
    for value in ("stderr,stdin", "bogus"):
        other = _out(sp, "create", "-a", value, IMAGE, "true")
        assert len(other) == 64
    assert "-a, --attach" in _help(sp, "create")


def test_run_attach_words(sp: SealpodRunner) -> None:
    """Podman 4.3.1 run -a: a string slice (repeatable, comma-separated), any case; the first bad word is
    named; -i keeps STDIN attached with -a stdout; passthrough logging refuses --attach."""
    res = sp.run("run", "--rm", "-a", "stdout,STDERR", IMAGE, "sh", "-c", "echo out; echo err >&2")
    assert (res.stdout, res.stderr) == ("out\n", "err\n")
    before = _out(sp, "ps", "-aq", "--no-trunc").split()
    err = _fails(sp, "run", "-a", "foo", "-a", "bar", IMAGE, "true")
    assert err == ('Error: invalid stream "foo" for --attach - must be one of stdin, stdout, or stderr: '
                   "invalid argument\n")
    assert sp.run("run", "--rm", "-i", "-a", "stdout", IMAGE, "cat", input="hello\n", timeout=60).stdout == "hello\n"
    err = _fails(sp, "run", "--log-driver", "passthrough", "-a", "stdout", IMAGE, "true")
    assert "cannot specify --attach with --log-driver=passthrough: invalid argument" in err
    assert _out(sp, "ps", "-aq", "--no-trunc").split() == before  # refused before anything was made


# --- --disable-content-trust --------------------------------------------------------------------

@pytest.mark.parametrize("verb", ["run", "create", "pull", "push", "build"])
def test_disable_content_trust_is_listed(sp: SealpodRunner, verb: str) -> None:
    """Podman 4.3.1 shows --disable-content-trust on run, create, pull, push and build: a Docker NOOP."""
    assert "--disable-content-trust" in _help(sp, verb)


def test_disable_content_trust_changes_nothing(sp: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1: the flag (and =false) is accepted by run, create, pull, push and build, and ignored."""
    assert _out(sp, "run", "--rm", "--disable-content-trust", IMAGE, "echo", "ok") == "ok"
    cid = _out(sp, "create", "--disable-content-trust=false", IMAGE, "true")
    sp.run("rm", cid)
    sp.run("pull", "-q", "--disable-content-trust", IMAGE)
    sp.run("push", "-q", "--disable-content-trust", IMAGE, f"dir:{tmp_path}/d")
    ctx = build_context(tmp_path, "ctx", f"FROM {IMAGE}\n")
    sp.run("build", "-q", "--disable-content-trust", "-t", "localhost/dct:1", str(ctx))
    sp.run("rmi", "localhost/dct:1")


# --- push --compress and the signing flags --------------------------------------------------------

def _layer_kinds(directory: Path) -> list[str]:
    manifest = json.loads((directory / "manifest.json").read_text())
    kinds = []
    for layer in manifest["layers"]:
        head = (directory / layer["digest"].split(":")[1]).read_bytes()[:4]
        kinds.append("gzip" if head.startswith(b"\x1f\x8b") else "tar")
        assert layer["mediaType"].endswith(("gzip", "tar")) and layer["mediaType"].endswith(kinds[-1])
    return kinds


def test_push_compress_to_dir(sp: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 push --compress: layers written to dir: are gzip-compressed; without it they keep the
    source's compression (plain tars for an image loaded from docker-archive, as Podman's own store)."""
    sp.run("save", "-o", str(tmp_path / "img.tar"), IMAGE)
    sp.run("tag", IMAGE, "localhost/plain:1")
    sp.run("rmi", "localhost/plain:1")
    loaded = SealpodRunner(tmp_path / "loaded")
    loaded.run("load", "-q", "-i", str(tmp_path / "img.tar"))
    loaded.run("push", "-q", IMAGE, f"dir:{tmp_path}/plain")
    assert set(_layer_kinds(tmp_path / "plain")) == {"tar"}
    loaded.run("push", "-q", "--compress", IMAGE, f"dir:{tmp_path}/packed")
    assert set(_layer_kinds(tmp_path / "packed")) == {"gzip"}
    image_id = json.loads(loaded.run("image", "inspect", IMAGE).stdout)[0]["Id"]
    fresh = SealpodRunner(tmp_path / "fresh")
    assert fresh.run("pull", "-q", f"dir:{tmp_path}/packed").stdout.strip() == image_id
    assert fresh.run("run", "--rm", image_id, "true").returncode == 0
    fresh.run("rm", "-af")
    # a pulled (gzip) image goes as stored, its manifest kept, with or without --compress
    sp.run("push", "-q", "--compress", IMAGE, f"dir:{tmp_path}/pulled")
    assert set(_layer_kinds(tmp_path / "pulled")) == {"gzip"}
    assert "--compress" in _help(sp, "push")


def test_push_sign_passphrase_file_checks(sp: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 reads --sign-passphrase-file before pushing, key or no key; naming it with both --sign-by
    and --sign-by-sigstore-private-key is refused."""
    dest = f"dir:{tmp_path}/out"
    assert _fails(sp, "push", "--sign-passphrase-file", "/nonexistent", IMAGE, dest) == (
        "Error: open /nonexistent: no such file or directory\n")
    assert _fails(sp, "push", "--sign-passphrase-file", str(tmp_path), IMAGE, dest) == (
        f"Error: reading passphrase file: read {tmp_path}: is a directory\n")
    assert not (tmp_path / "out").exists()
    (tmp_path / "pass").write_text("secret\n")
    err = _fails(sp, "push", "--sign-passphrase-file", str(tmp_path / "pass"), "--sign-by", "x",
                 "--sign-by-sigstore-private-key", "y", IMAGE, dest)
    assert err == ("Error: only one of --sign-by and sign-by-sigstore-private-key can be used with "
                   "--sign-passphrase-file\n")
    sp.run("push", "-q", "--sign-passphrase-file", str(tmp_path / "pass"), IMAGE, dest)
    assert (tmp_path / "out" / "manifest.json").exists()
    for words in (("push",), ("manifest", "push")):
        text = _help(sp, *words)
        assert "--sign-by-sigstore-private-key" in text and "--sign-passphrase-file" in text


def test_push_sigstore_key_fails_when_used(sp: SealpodRunner, tmp_path: Path, seeded_registry: RegistryServer
                                          ) -> None:
    """Podman 4.3.1 accepts --sign-by-sigstore-private-key and fails (exit 125, one line) when signing:
    a dir: destination has no registry name to sign, a key path that cannot be read is named."""
    err = _fails(sp, "push", "--sign-by-sigstore-private-key", str(tmp_path / "nokey"), IMAGE, f"dir:{tmp_path}/d")
    assert err == f"Error: Cannot determine canonical Docker reference for destination dir:{tmp_path}/d\n"
    dest = f"{seeded_registry.host}/gaps/signed:1"
    err = _fails(sp, "push", "--tls-verify=false", "--sign-by-sigstore-private-key", str(tmp_path / "nokey"),
                 IMAGE, dest)
    assert err.startswith("Error: creating signature: ") and err.count("\n") == 1
    assert f"open {tmp_path / 'nokey'}: no such file or directory" in err
    (tmp_path / "key").write_text("not a key\n")
    err = _fails(sp, "push", "--tls-verify=false", "--sign-by-sigstore-private-key", str(tmp_path / "key"),
                 IMAGE, dest)
    assert err.startswith("Error: creating signature: ") and err.count("\n") == 1
    sp.run("manifest", "create", "localhost/gaps-list")
    try:
        err = _fails(sp, "manifest", "push", "--tls-verify=false", "--sign-by-sigstore-private-key",
                     str(tmp_path / "key"), "localhost/gaps-list", dest)
        assert err.startswith("Error: creating signature: ")
        assert _fails(sp, "manifest", "push", "--sign-passphrase-file", "/nonexistent", "localhost/gaps-list",
                      dest) == "Error: open /nonexistent: no such file or directory\n"
    finally:
        sp.run("manifest", "rm", "localhost/gaps-list")


# --- network create --ipam-driver -------------------------------------------------------------------

def test_network_create_ipam_driver(sp: SealpodRunner) -> None:
    """Podman 4.3.1 with netavark: host-local is the default and is stored; none stores no subnet and turns
    DNS off; dhcp is not supported yet; anything else is unsupported; none with a subnet is refused."""
    try:
        sp.run("network", "create", "--ipam-driver", "host-local", "gaps-hl")
        doc = json.loads(_out(sp, "network", "inspect", "gaps-hl"))[0]
        assert doc["ipam_options"] == {"driver": "host-local"} and doc["subnets"] and doc["dns_enabled"]
        sp.run("network", "create", "--ipam-driver", "none", "gaps-none")
        doc = json.loads(_out(sp, "network", "inspect", "gaps-none"))[0]
        assert doc["ipam_options"] == {"driver": "none"} and "subnets" not in doc and not doc["dns_enabled"]
        assert doc["network_interface"].startswith("podman")
        listed = _out(sp, "network", "ls", "--format", "{{.Name}} {{.IPAMOptions}}").splitlines()
        assert "gaps-none map[driver:none]" in listed and "gaps-hl map[driver:host-local]" in listed
        # a container on it has only its link-local address
        out = _out(sp, "run", "--rm", "--network", "gaps-none", IMAGE, "ip", "-o", "addr", "show", "eth0")
        assert "inet6 fe80:" in out and "inet " not in out
    finally:
        sp.run("network", "rm", "-f", "gaps-hl", "gaps-none", check=False)
    assert _fails(sp, "network", "create", "--ipam-driver", "dhcp", "gaps-x") == (
        "Error: dhcp ipam driver is not yet supported with netavark\n")
    assert _fails(sp, "network", "create", "--ipam-driver", "bogus", "gaps-x") == (
        'Error: unsupported ipam driver "bogus"\n')
    assert _fails(sp, "network", "create", "--ipam-driver", "none", "--subnet", "10.97.0.0/24", "gaps-x") == (
        "Error: none ipam driver is set but subnets are given\n")
    assert _fails(sp, "network", "create", "--gateway", "10.97.0.1", "gaps-x") == (
        "Error: cannot set gateway or range without subnet\n")
    assert _fails(sp, "network", "create", "-d", "macvlan", "--ipam-driver", "host-local", "gaps-x") == (
        "Error: macvlan driver needs at least one subnet specified, when the host-local ipam driver is set\n")
    assert "gaps-x" not in _out(sp, "network", "ls", "-q").split()
    text = _help(sp, "network", "create")
    assert "--ipam-driver" in text and "--interface-name" in text


def test_network_ipam_driver_over_the_api(api: ApiService) -> None:
    """Podman 4.3.1's libpod API takes ipam_options.driver; the compat inspect shows IPAM.Driver ("default" for
    host-local) and the IPAM options."""
    doc = {"name": "gaps-api", "ipam_options": {"driver": "none"}}
    status, body = api.request("POST", "/v4.3.1/libpod/networks/create", json.dumps(doc).encode(),
                               {"Content-Type": "application/json"})
    assert status == 200, body
    try:
        status, body = api.request("GET", "/v1.41/networks/gaps-api")
        assert status == 200 and json.loads(body)["IPAM"] == {"Driver": "none", "Options": {"driver": "none"},
                                                              "Config": []}
        status, body = api.request("GET", "/v1.41/networks/podman")
        assert json.loads(body)["IPAM"]["Driver"] == "default"
        assert json.loads(body)["IPAM"]["Options"] == {"driver": "host-local"}
    finally:
        api.request("DELETE", "/v4.3.1/libpod/networks/gaps-api")


# --- container cleanup --rmi ------------------------------------------------------------------------

def test_container_cleanup_rmi(sp: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 container cleanup --rmi: after the cleanup (and --rm), the image the container was created
    from is removed as rmi would; an image still in use, or gone, is logged and is exit 125; the name is
    printed only when all went well."""
    ctx = build_context(tmp_path, "ctx", f"FROM {IMAGE}\nLABEL gaps=cleanup\n")
    sp.run("build", "-q", "-t", "localhost/gaps-own:1", str(ctx))
    sp.run("create", "--name", "gaps-c1", "localhost/gaps-own:1", "true")
    res = sp.run("container", "cleanup", "--rmi", "gaps-c1", check=False)
    assert res.returncode == 125 and res.stdout == ""
    assert 'level=error msg="Removing image: image used by ' in res.stderr
    assert res.stderr.splitlines()[-1].endswith("image is in use by a container: consider listing external "
                                                "containers and force-removing image")
    assert sp.run("container", "cleanup", "--rm", "--rmi", "gaps-c1").stdout == "gaps-c1\n"
    assert sp.run("container", "exists", "gaps-c1", check=False).returncode == 1
    assert sp.run("image", "exists", "localhost/gaps-own:1", check=False).returncode == 1
    # a second name is untagged only; a name already gone is an error
    sp.run("tag", IMAGE, "localhost/gaps-alias:1")
    sp.run("run", "--name", "gaps-c2", "localhost/gaps-alias:1", "true")
    assert sp.run("container", "cleanup", "--rmi", "gaps-c2").stdout == "gaps-c2\n"
    err = _fails(sp, "container", "cleanup", "--rm", "--rmi", "gaps-c2")
    assert err.endswith("Error: localhost/gaps-alias:1: image not known\n")
    assert sp.run("container", "exists", "gaps-c2", check=False).returncode == 1
    assert sp.run("image", "exists", IMAGE).returncode == 0
    assert "--rmi" in _help(sp, "container", "cleanup")


def test_container_cleanup_refusals(sp: SealpodRunner) -> None:
    """Podman 4.3.1 container cleanup: --exec conflicts with --all, --rmi and several containers; a name that
    is not a container is an error; --all prints each ID it cleaned."""
    assert _fails(sp, "container", "cleanup", "--exec", "e", "--rmi", "x") == (
        "Error: exec and rmi options conflict\n")
    assert _fails(sp, "container", "cleanup", "--exec", "e", "-a") == "Error: exec and all options conflict\n"
    assert _fails(sp, "container", "cleanup", "--exec", "e", "a", "b") == (
        "Error: cannot use exec option when more than one container is given\n")
    assert _fails(sp, "container", "cleanup") == "Error: you must provide at least one name or id\n"
    assert _fails(sp, "container", "cleanup", "gaps-nosuch") == (
        'Error: no container with name or ID "gaps-nosuch" found: no such container\n')
    cid = _out(sp, "create", IMAGE, "true")
    try:
        assert cid in _out(sp, "container", "cleanup", "--all").split()
    finally:
        sp.run("rm", "-f", cid)


# --- volume reload ----------------------------------------------------------------------------------

def test_volume_reload_without_plugins(sp: SealpodRunner) -> None:
    """Podman 4.3.1 volume reload with no volume plugin configured: prints nothing, exit 0; takes no argument."""
    res = sp.run("volume", "reload")
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    assert _fails(sp, "volume", "reload", "x") == "Error: `sealpod volume reload` takes no arguments\n"
    assert "reload" in _help(sp, "volume")


def test_volume_reload_reports_unreachable_plugins(tmp_path: Path) -> None:
    """Podman 4.3.1: each configured plugin whose socket is missing, or not a socket, is an error (exit 125)."""
    sp = SealpodRunner(tmp_path)
    with socket.socket(socket.AF_UNIX) as live:
        live.bind(str(tmp_path / "plugin.sock"))
        with open(sp.containers_conf, "a") as f:
            f.write(f'\n[engine.volume_plugins]\nmissing = "{tmp_path}/none.sock"\nfile = "{sp.containers_conf}"\n'
                    f'live = "{tmp_path}/plugin.sock"\n')
        res = sp.run("volume", "reload", check=False)
    assert res.returncode == 125 and res.stdout == ""
    assert f'cannot access plugin missing socket "{tmp_path}/none.sock": stat {tmp_path}/none.sock: ' \
           "no such file or directory" in res.stderr
    assert f'volume file path "{sp.containers_conf}" is not a unix socket: target does not appear to be a ' \
           "valid plugin" in res.stderr
    assert 'failed to read volumes from plugin "live"' in res.stderr
    assert "Traceback" not in res.stderr


def test_push_sign_by_takes_the_passphrase_file(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    """Podman 4.3.1 push --sign-by --sign-passphrase-file: the file's first line unlocks the GPG key (no agent
    prompt in batch use); without it a protected key cannot sign."""
    if proc_run(["sh", "-c", "command -v gpg"], check=False).returncode != 0:
        pytest.skip("gpg is needed (apt package gnupg)")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg_env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    proc_run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "s3cret", "--quick-gen-key",
              "locked@example.com", "ed25519", "sign", "never"], env=gpg_env)
    host = seeded_registry.host
    sp = SealpodRunner(tmp_path / "sp", search_registries=[host], insecure_registries=[host])
    regd = tmp_path / "registries.d"
    regd.mkdir()
    store = tmp_path / "sigstore"
    (regd / "default.yaml").write_text(f"default-docker:\n  lookaside-staging: {store.as_uri()}\n")
    sp.env.update(GNUPGHOME=str(home), SEALPOD_REGISTRIES_D=str(regd))
    try:
        sp.run("pull", "-q", IMAGE)
        dest = f"{host}/gaps/locked:1"
        (tmp_path / "wrong").write_text("not it\n")
        err = _fails(sp, "push", "-q", "--sign-by", "locked@example.com", "--sign-passphrase-file",
                     str(tmp_path / "wrong"), IMAGE, dest)
        assert err.startswith("Error: ") and err.count("\n") == 1 and not list(store.rglob("signature-*"))
        (tmp_path / "pass").write_text("s3cret\nsecond line is not read\n")
        sp.run("push", "-q", "--sign-by", "locked@example.com", "--sign-passphrase-file", str(tmp_path / "pass"),
               IMAGE, dest)
        assert len(list(store.rglob("signature-1"))) == 1
    finally:
        proc_run(["gpgconf", "--kill", "all"], env=gpg_env, check=False)
