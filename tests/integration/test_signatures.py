"""policy.json and simple signing end to end: a real registry, real gpg keys made here, real pulls.

Every test passes its own ``--signature-policy`` and points registries.d (``SEALPOD_REGISTRIES_D``)
at its own lookaside directory, so nothing depends on the machine's /etc/containers files.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.utils.proc import run as proc_run
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, skip_or_fail

pytestmark = pytest.mark.integration

ACCEPT = {"type": "insecureAcceptAnything"}
REJECT = {"type": "reject"}


class Keys:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.alice = home.parent / "alice.gpg"
        self.bob = home.parent / "bob.gpg"

    def gpg(self, *args: str, input: bytes | None = None) -> bytes:
        return proc_run(["gpg", "--batch", *args], input=input, env={"GNUPGHOME": str(self.home),
                                                                     "PATH": "/usr/bin:/bin"}).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    """Two throw-away signing keys (alice, bob) in their own GNUPGHOME, public halves exported."""
    if proc_run(["sh", "-c", "command -v gpg && command -v gpgv"], check=False).returncode != 0:
        skip_or_fail("gpg and gpgv are needed (apt package gnupg)")
    home = tmp_path_factory.mktemp("gpg") / "home"
    home.mkdir(mode=0o700)
    k = Keys(home)
    for who, path in (("alice", k.alice), ("bob", k.bob)):
        k.gpg("--passphrase", "", "--quick-gen-key", f"{who}@example.com", "ed25519", "sign", "never")
        path.write_bytes(k.gpg("--export", f"{who}@example.com"))
    yield k
    proc_run(["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}, check=False)


@pytest.fixture
def sp(sealpod: SealpodRunner, seeded_registry: RegistryServer, keys: Keys, tmp_path: Path) -> SealpodRunner:
    """A runner that signs with ``keys`` and keeps signatures in ``tmp_path/sigstore``."""
    regd = tmp_path / "registries.d"
    regd.mkdir()
    store = (tmp_path / "sigstore").as_uri()
    (regd / "default.yaml").write_text(f"default-docker:\n  lookaside: {store}\n  lookaside-staging: {store}\n")
    sealpod.env["SEALPOD_REGISTRIES_D"] = str(regd)
    sealpod.env["GNUPGHOME"] = str(keys.home)
    return sealpod


def _write_policy(path: Path, doc: object) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _signed_by(key: Path, **extra: object) -> dict[str, object]:
    return {"type": "signedBy", "keyType": "GPGKeys", "keyPath": str(key), **extra}


def _pull(sp: SealpodRunner, policy: str, ref: str, check: bool = False) -> tuple[int, str]:
    res = sp.run("pull", "-q", "--signature-policy", policy, ref, check=check)
    return res.returncode, res.stderr.strip()


def _images(sp: SealpodRunner) -> list[str]:
    return sp.run("images", "-a", "-q").stdout.split()


def _push_signed(sp: SealpodRunner, registry: RegistryServer, src: str, dest: str, key: str = "alice@example.com"
                 ) -> None:
    sp.run("pull", "-q", "--signature-policy", _write_policy(sp.base / "open.json", {"default": [ACCEPT]}),
           f"{registry.host}/{src}")
    sp.run("push", "-q", "--sign-by", key, f"{registry.host}/{src}", f"{registry.host}/{dest}")


def _forget(sp: SealpodRunner) -> None:
    sp.run("rmi", "-af")


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_reject_refuses_and_stores_nothing(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    policy = _write_policy(sp.base / "p.json", {"default": [REJECT]})
    rc, err = _pull(sp, policy, f"{seeded_registry.host}/sealtest/multilayer")
    assert rc == 125
    assert _one_line_error(err) == (f"Error: Source image rejected: Running image docker://{seeded_registry.host}"
                                    "/sealtest/multilayer:latest is rejected by policy.")
    assert _images(sp) == []
    layers = [p for p in sp.root.rglob("*") if p.is_dir() and p.parent.name in ("overlay", "vfs") and
              p.name != "l"]
    assert layers == [], f"layers were stored for a refused image: {layers}"


def test_insecure_accept_anything_pulls(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    policy = _write_policy(sp.base / "p.json", {"default": [ACCEPT]})
    rc, err = _pull(sp, policy, f"{seeded_registry.host}/sealtest/tiny")
    assert rc == 0, err
    assert len(_images(sp)) == 1


def test_signed_by_without_signature_is_refused(sp: SealpodRunner, seeded_registry: RegistryServer,
                                                keys: Keys) -> None:
    policy = _write_policy(sp.base / "p.json", {"default": [_signed_by(keys.alice)]})
    rc, err = _pull(sp, policy, f"{seeded_registry.host}/sealtest/tiny")
    assert rc == 125
    assert _one_line_error(err) == "Error: Source image rejected: A signature was required, but no signature exists"
    assert _images(sp) == []


def test_push_sign_by_then_signed_pull(sp: SealpodRunner, seeded_registry: RegistryServer, keys: Keys,
                                       tmp_path: Path) -> None:
    host = seeded_registry.host
    res = sp.run("pull", "-q", "--signature-policy", _write_policy(tmp_path / "o.json", {"default": [ACCEPT]}),
                 f"{host}/sealtest/tiny")
    res = sp.run("push", "--sign-by", "alice@example.com", f"{host}/sealtest/tiny", f"{host}/signed/tiny:v1")
    assert "Signing manifest using simple signing" in res.stderr
    sigs = list((tmp_path / "sigstore" / "signed").glob("tiny@sha256=*/signature-1"))
    assert len(sigs) == 1, list((tmp_path / "sigstore").rglob("*"))
    payload = json.loads(keys.gpg("--decrypt", str(sigs[0])))
    digest = "sha256:" + sigs[0].parent.name.split("=", 1)[1]
    assert payload["critical"] == {"type": "atomic container signature",
                                   "image": {"docker-manifest-digest": digest},
                                   "identity": {"docker-reference": f"{host}/signed/tiny:v1"}}
    _forget(sp)
    forms = [_signed_by(keys.alice),
             {"type": "signedBy", "keyType": "GPGKeys", "keyPaths": [str(keys.bob), str(keys.alice)]},
             {"type": "signedBy", "keyType": "GPGKeys", "keyData": base64.b64encode(keys.alice.read_bytes()).decode()}]
    for form in forms:
        policy = _write_policy(tmp_path / "p.json", {"default": [REJECT],
                                                     "transports": {"docker": {f"{host}/signed": [form]}}})
        rc, err = _pull(sp, policy, f"{host}/signed/tiny:v1")
        assert rc == 0, (form, err)
        _forget(sp)


def test_signature_by_another_key_is_refused(sp: SealpodRunner, seeded_registry: RegistryServer,
                                             keys: Keys) -> None:
    _push_signed(sp, seeded_registry, "sealtest/tiny", "signed/bykey:v1")
    _forget(sp)
    policy = _write_policy(sp.base / "p.json", {"default": [_signed_by(keys.bob)]})
    rc, err = _pull(sp, policy, f"{seeded_registry.host}/signed/bykey:v1")
    assert rc == 125
    assert _one_line_error(err).startswith("Error: Source image rejected: Invalid GPG signature: ")
    assert _images(sp) == []


def test_signature_for_another_digest_is_refused(sp: SealpodRunner, seeded_registry: RegistryServer,
                                                 keys: Keys, tmp_path: Path) -> None:
    """alice's valid signature of one manifest, copied beside another manifest, must not vouch for it."""
    host = seeded_registry.host
    _push_signed(sp, seeded_registry, "sealtest/tiny", "signed/swap:v1")
    tiny_dir = next((tmp_path / "sigstore" / "signed").glob("swap@sha256=*"))
    sp.run("pull", "-q", "--signature-policy", str(sp.base / "open.json"), f"{host}/sealtest/multilayer")
    digest_file = tmp_path / "digest"
    sp.run("push", "-q", "--digestfile", str(digest_file), f"{host}/sealtest/multilayer", f"{host}/signed/swap:v2")
    _forget(sp)
    other = tiny_dir.parent / f"swap@{digest_file.read_text().strip().replace(':', '=')}"
    other.mkdir()
    (other / "signature-1").write_bytes((tiny_dir / "signature-1").read_bytes())
    policy = _write_policy(tmp_path / "p.json", {"default": [_signed_by(keys.alice, signedIdentity={
        "type": "matchRepository"})]})
    rc, err = _pull(sp, policy, f"{host}/signed/swap:v2")
    assert rc == 125
    assert _one_line_error(err).startswith('Error: Source image rejected: Signature for docker digest "sha256:')
    assert err.endswith('" does not match')
    assert _images(sp) == []


def test_signature_for_another_identity(sp: SealpodRunner, seeded_registry: RegistryServer, keys: Keys) -> None:
    host = seeded_registry.host
    _push_signed(sp, seeded_registry, "sealtest/tiny", "signed/ident:v1")
    sp.run("push", "-q", f"{host}/sealtest/tiny", f"{host}/signed/ident:v2")  # same digest, no new signature
    _forget(sp)

    def pull_v2(identity: dict[str, str] | None) -> tuple[int, str]:
        extra = {"signedIdentity": identity} if identity else {}
        policy = _write_policy(sp.base / "p.json", {"default": [_signed_by(keys.alice, **extra)]})
        result = _pull(sp, policy, f"{host}/signed/ident:v2")
        sp.run("rmi", "-af")
        return result

    rc, err = pull_v2(None)
    assert rc == 125
    assert _one_line_error(err) == (f"Error: Source image rejected: Signature for identity {host}/signed/ident:v1 "
                                    "is not accepted")
    assert pull_v2({"type": "matchExact"})[0] == 125
    assert pull_v2({"type": "matchRepository"})[0] == 0
    assert pull_v2({"type": "exactReference", "dockerReference": f"{host}/signed/ident:v1"})[0] == 0
    assert pull_v2({"type": "exactRepository", "dockerRepository": f"{host}/signed/ident"})[0] == 0
    assert pull_v2({"type": "exactRepository", "dockerRepository": f"{host}/other"})[0] == 125
    assert pull_v2({"type": "remapIdentity", "prefix": f"{host}/signed/ident",
                    "signedPrefix": f"{host}/signed/ident"})[0] == 125  # remapped, still v2 against v1


def test_scope_precedence(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    host = seeded_registry.host
    policy = _write_policy(sp.base / "p.json", {"default": [REJECT], "transports": {"docker": {
        host: [ACCEPT], f"{host}/sealtest/tiny": [REJECT]}}})
    rc, err = _pull(sp, policy, f"{host}/sealtest/tiny")
    assert rc == 125 and "rejected by policy" in err
    rc, err = _pull(sp, policy, f"{host}/sealtest/multilayer")
    assert rc == 0, err
    rc, err = _pull(sp, _write_policy(sp.base / "q.json", {"default": [ACCEPT], "transports": {"docker": {
        "": [REJECT]}}}), f"{host}/sealtest/multilayer")
    assert rc == 125 and "rejected by policy" in err


def test_trust_set_show_round_trip(sp: SealpodRunner, seeded_registry: RegistryServer, keys: Keys) -> None:
    host = seeded_registry.host
    path = sp.base / "trust.json"
    missing = sp.run("image", "trust", "set", "--policypath", str(path), "-t", "reject", host, check=False)
    assert missing.returncode == 125 and missing.stderr.strip() == "Error: default trust policy must be set"
    sp.run("image", "trust", "set", "--policypath", str(path), "-t", "accept", "default")
    sp.run("image", "trust", "set", "--policypath", str(path), "-t", "reject", host)
    sp.run("image", "trust", "set", "--policypath", str(path), "-f", str(keys.alice), f"{host}/signed")
    doc = json.loads(path.read_text())
    assert doc == {"default": [ACCEPT], "transports": {"docker": {
        host: [REJECT], f"{host}/signed": [_signed_by(keys.alice)]}}}
    table = sp.run("image", "trust", "show", "--policypath", str(path)).stdout.splitlines()
    assert table[0].split() == ["TRANSPORT", "NAME", "TYPE", "ID", "STORE"]
    assert table[1].split() == ["all", "default", "accept"]
    store = (sp.base / "sigstore").as_uri()  # registries.d's default-docker lookaside, as Podman shows it
    assert table[2].split() == ["repository", host, "reject", store]
    assert table[3].split() == ["repository", f"{host}/signed", "signed", "alice@example.com", store]
    rows = json.loads(sp.run("image", "trust", "show", "--json", "--policypath", str(path)).stdout)
    assert rows[0] == {"transport": "all", "name": "* (default)", "repo_name": "default", "type": "accept"}
    assert rows[2]["gpg_id"] == "alice@example.com"
    assert json.loads(sp.run("image", "trust", "show", "--raw", "--policypath", str(path)).stdout) == doc
    bad = sp.run("image", "trust", "set", "--policypath", str(path), "-t", "signedBy", "x.io", check=False)
    assert _one_line_error(bad.stderr) == "Error: at least one public key must be defined for type 'signedBy'"
    rc, err = _pull(sp, str(path), f"{host}/sealtest/tiny")
    assert rc == 125 and "rejected by policy" in err


def test_image_sign_into_directory(sp: SealpodRunner, seeded_registry: RegistryServer, keys: Keys,
                                   tmp_path: Path) -> None:
    host = seeded_registry.host
    sigdir = tmp_path / "signatures"
    sigdir.mkdir()
    sp.run("image", "sign", "--sign-by", "alice@example.com", "--directory", str(sigdir),
           f"docker://{host}/sealtest/tiny")
    sp.run("image", "sign", "--sign-by", "alice@example.com", "--directory", str(sigdir),
           f"docker://{host}/sealtest/tiny")
    found = sorted(p.name for p in sigdir.rglob("signature-*"))
    assert found == ["signature-1", "signature-2"]  # a second signature is added, not replacing the first
    (sp.base / "registries.d" / "default.yaml").write_text(f"default-docker:\n  lookaside: {sigdir.as_uri()}\n")
    policy = _write_policy(tmp_path / "p.json", {"default": [_signed_by(keys.alice)]})
    rc, err = _pull(sp, policy, f"{host}/sealtest/tiny")
    assert rc == 0, err
    nokey = sp.run("image", "sign", "--sign-by", "nobody@example.com", "--directory", str(sigdir),
                   f"docker://{host}/sealtest/tiny", check=False)
    assert nokey.returncode == 125 and 'key "nobody@example.com" not found' in nokey.stderr


@pytest.mark.parametrize(("content", "message"), [
    (None, "Error: open {path}: no such file or directory"),
    ('{"default": [', 'Error: invalid policy in "{path}": unexpected end of JSON input'),
    ('{"default": [{"type": "maybe"}]}', 'Error: invalid policy in "{path}": Unknown policy requirement type "maybe"'),
    ("{}", 'Error: invalid policy in "{path}": Default policy is missing'),
])
def test_malformed_policy_is_one_line_error(sp: SealpodRunner, seeded_registry: RegistryServer,
                                            content: str | None, message: str) -> None:
    path = sp.base / "policy.json"
    if content is not None:
        path.write_text(content)
    rc, err = _pull(sp, str(path), f"{seeded_registry.host}/sealtest/tiny")
    assert rc == 125
    assert _one_line_error(err) == message.format(path=path)
    assert "Trying to pull" not in err  # the policy is read before any registry is asked


def test_load_and_archive_pulls_honour_policy(sp: SealpodRunner, seeded_registry: RegistryServer,
                                              tmp_path: Path) -> None:
    host = seeded_registry.host
    open_policy = _write_policy(tmp_path / "o.json", {"default": [ACCEPT]})
    sp.run("pull", "-q", "--signature-policy", open_policy, f"{host}/sealtest/tiny")
    archive = tmp_path / "tiny.tar"
    sp.run("save", "-o", str(archive), f"{host}/sealtest/tiny")
    _forget(sp)
    closed = _write_policy(tmp_path / "c.json", {"default": [ACCEPT], "transports": {"docker-archive": {
        "": [REJECT]}}})
    res = sp.run("load", "-q", "--signature-policy", closed, "-i", str(archive), check=False)
    assert res.returncode == 125
    assert _one_line_error(res.stderr) == (f"Error: Source image rejected: Running image docker-archive:{archive}:"
                                           f"{host}/sealtest/tiny:latest is rejected by policy.")
    rc, err = _pull(sp, closed, f"docker-archive:{archive}")
    assert rc == 125 and _one_line_error(err) == (f"Error: Source image rejected: Running image "
                                                  f"docker-archive:{archive} is rejected by policy.")
    assert _images(sp) == []
    by_path = _write_policy(tmp_path / "d.json", {"default": [REJECT], "transports": {"docker-archive": {
        str(tmp_path): [ACCEPT]}}})  # a parent directory of the archive is a scope
    sp.run("load", "-q", "--signature-policy", by_path, "-i", str(archive))
    assert len(_images(sp)) == 1


def test_run_pulls_under_the_policy(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    policy = _write_policy(sp.base / "p.json", {"default": [REJECT]})
    res = sp.run("run", "--rm", "--signature-policy", policy, f"{seeded_registry.host}/sealtest/tiny", "true",
                 check=False)
    assert res.returncode == 125
    assert res.stderr.strip().splitlines()[-1] == (f"Error: Source image rejected: Running image docker://"
                                                   f"{seeded_registry.host}/sealtest/tiny:latest is rejected by "
                                                   "policy.")
    assert _images(sp) == []
