"""policy.json parsing, scope precedence and signedIdentity rules (pure logic, no gpg)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from sealpod.config.registries_d import load_registries_d
from sealpod.errors import ConfigError
from sealpod.image.policy import (
    InvalidPolicy,
    SignedIdentity,
    docker_scopes,
    load_policy,
    parse_policy,
    path_scopes,
)
from sealpod.image.policy_eval import identity_matches
from sealpod.image.signatures import make_payload, parse_payload, signature_dir

ACCEPT = {"type": "insecureAcceptAnything"}
REJECT = {"type": "reject"}


def _policy(doc: object) -> bytes:
    return json.dumps(doc).encode()


def test_docker_scopes_most_specific_first() -> None:
    assert docker_scopes("reg.example.com:5000/ns/sub/repo:v1") == (
        "reg.example.com:5000/ns/sub/repo:v1", "reg.example.com:5000/ns/sub/repo", "reg.example.com:5000/ns/sub",
        "reg.example.com:5000/ns", "reg.example.com:5000", "*.example.com", "*.com")


def test_docker_scopes_normalise_short_names_and_digests() -> None:
    assert docker_scopes("busybox")[:3] == ("docker.io/library/busybox:latest", "docker.io/library/busybox",
                                            "docker.io/library")
    digest = "sha256:" + "a" * 64
    assert docker_scopes(f"quay.io/a/b:tag@{digest}")[0] == f"quay.io/a/b@{digest}"


def test_path_scopes() -> None:
    assert path_scopes("/no/such/dir/img", "ref") == ("/no/such/dir/img:ref", "/no/such/dir/img", "/no/such/dir",
                                                      "/no/such", "/no")


def test_scope_precedence_repo_beats_namespace_beats_host_beats_default() -> None:
    doc = {"default": [REJECT], "transports": {"docker": {
        "": [ACCEPT],
        "example.com": [{"type": "reject"}],
        "example.com/ns": [ACCEPT],
        "example.com/ns/repo": [{"type": "reject"}],
        "*.example.com": [ACCEPT],
    }}}
    policy = parse_policy(_policy(doc))

    def verdict(ref: str) -> str:
        return policy.requirements_for("docker", docker_scopes(ref))[0].type

    assert verdict("example.com/ns/repo:1") == "reject"
    assert verdict("example.com/ns/other:1") == "insecureAcceptAnything"
    assert verdict("example.com/top:1") == "reject"
    assert verdict("mirror.example.com/x:1") == "insecureAcceptAnything"  # wildcard
    assert verdict("quay.io/x:1") == "insecureAcceptAnything"  # the transport's "" scope
    assert policy.requirements_for("oci", ("/a",))[0].type == "reject"  # no table: the default


def test_exact_tag_scope_wins() -> None:
    doc = {"default": [ACCEPT], "transports": {"docker": {"r.io/a/b:bad": [REJECT], "r.io/a/b": [ACCEPT]}}}
    policy = parse_policy(_policy(doc))
    assert policy.requirements_for("docker", docker_scopes("r.io/a/b:bad"))[0].type == "reject"
    assert policy.requirements_for("docker", docker_scopes("r.io/a/b:good"))[0].type == "insecureAcceptAnything"


@pytest.mark.parametrize(("doc", "message"), [
    ({}, "Default policy is missing"),
    ({"default": []}, "Policy requirement list is empty"),
    ({"default": [{"type": "foo"}]}, 'Unknown policy requirement type "foo"'),
    ({"default": [ACCEPT], "extra": 1}, 'Unknown key "extra"'),
    ({"default": [{"type": "signedBy", "keyType": "GPGKeys"}]},
     "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present"),
    ({"default": [{"type": "signedBy", "keyPath": "/k"}]}, 'invalid keyType ""'),
    ({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k", "keyData": "aa"}]},
     "keyPath and keyData cannot be used simultaneously"),
    ({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyData": "!!"}]},
     "illegal base64 data at input byte 0"),
    ({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k", "signedIdentity": {"type": "x"}}]},
     'Unknown policy reference match type "x"'),
    ({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k",
                   "signedIdentity": {"type": "exactReference", "dockerReference": "r.io/a"}}]},
     "dockerReference r.io/a contains neither a tag nor digest"),
    ({"default": [ACCEPT], "transports": {"docker": {"*.x.com/a": [ACCEPT]}}}, 'Invalid scope "*.x.com/a"'),
])
def test_invalid_policies(doc: object, message: str) -> None:
    with pytest.raises(InvalidPolicy) as e:
        parse_policy(_policy(doc))
    assert message in str(e.value)


def test_key_material_forms() -> None:
    data = base64.b64encode(b"key bytes").decode()
    doc = {"default": [
        {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k1"},
        {"type": "signedBy", "keyType": "GPGKeys", "keyPaths": ["/k1", "/k2"]},
        {"type": "signedBy", "keyType": "GPGKeys", "keyData": data},
    ]}
    first, second, third = parse_policy(_policy(doc)).default
    assert first.key_path == "/k1"
    assert second.key_paths == ("/k1", "/k2")
    assert third.key_data == b"key bytes"
    assert first.signed_identity == SignedIdentity("matchRepoDigestOrExact")


def test_load_policy_errors_are_podmans(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^open {tmp_path}/none.json: no such file or directory$"):
        load_policy(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"default": [')
    with pytest.raises(ConfigError, match=f'^invalid policy in "{bad}": unexpected end of JSON input$'):
        load_policy(bad)


DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(("identity", "image", "signed", "ok"), [
    (SignedIdentity("matchRepoDigestOrExact"), "r.io/a/b:v1", "r.io/a/b:v1", True),
    (SignedIdentity("matchRepoDigestOrExact"), "r.io/a/b:v1", "r.io/a/b:v2", False),
    (SignedIdentity("matchRepoDigestOrExact"), f"r.io/a/b@{DIGEST}", "r.io/a/b:anything", True),
    (SignedIdentity("matchRepoDigestOrExact"), f"r.io/a/b@{DIGEST}", "r.io/a/c:anything", False),
    (SignedIdentity("matchRepoDigestOrExact"), "r.io/a/b:v1", "r.io/a/b", False),
    (SignedIdentity("matchExact"), "r.io/a/b:v1", "r.io/a/b:v1", True),
    (SignedIdentity("matchExact"), f"r.io/a/b@{DIGEST}", "r.io/a/b:v1", False),
    (SignedIdentity("matchRepository"), "r.io/a/b:v1", "r.io/a/b:v9", True),
    (SignedIdentity("matchRepository"), "r.io/a/b:v1", "r.io/a/x:v1", False),
    (SignedIdentity("exactReference", docker_reference="q.io/x:1"), "r.io/a/b:v1", "q.io/x:1", True),
    (SignedIdentity("exactReference", docker_reference="q.io/x:1"), "r.io/a/b:v1", "r.io/a/b:v1", False),
    (SignedIdentity("exactRepository", docker_repository="q.io/x"), "r.io/a/b:v1", "q.io/x:7", True),
    (SignedIdentity("exactReference", docker_reference="busybox:1"), None, "docker.io/library/busybox:1", True),
    (SignedIdentity("remapIdentity", prefix="mirror.io/m", signed_prefix="r.io/a"), "mirror.io/m/b:v1",
     "r.io/a/b:v1", True),
    (SignedIdentity("remapIdentity", prefix="mirror.io/m", signed_prefix="r.io/a"), "mirror.io/mm/b:v1",
     "r.io/a/b:v1", False),
    (SignedIdentity("matchRepoDigestOrExact"), None, "r.io/a/b:v1", False),  # dir: has no docker identity
])
def test_signed_identity(identity: SignedIdentity, image: str | None, signed: str, ok: bool) -> None:
    assert identity_matches(identity, image, signed) is ok


def test_payload_round_trip_and_lookaside_layout() -> None:
    payload = make_payload(DIGEST, "r.io/a/b:v1", timestamp=1)
    assert json.loads(payload)["critical"]["type"] == "atomic container signature"
    assert parse_payload(payload) == (DIGEST, "r.io/a/b:v1")
    assert signature_dir("file:///s/", "a/b", DIGEST) == f"file:///s/a/b@sha256={'b' * 64}"


def test_registries_d_scopes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("default-docker:\n  lookaside: https://sigs.example.com/\n"
                                     "docker:\n  r.io/a:\n    sigstore: file:///old\n    sigstore-staging: file:///st\n")
    (tmp_path / "b.yaml").write_text("docker:\n  r.io:\n    lookaside: file:///host\n")
    (tmp_path / "ignored.txt").write_text("not yaml: [")
    conf = load_registries_d(tmp_path)
    assert conf.for_scopes(docker_scopes("r.io/a/b:v1")).lookaside == "file:///old"
    assert conf.for_scopes(docker_scopes("r.io/a/b:v1")).lookaside_staging == "file:///st"
    assert conf.for_scopes(docker_scopes("r.io/z:v1")).lookaside == "file:///host"
    assert conf.for_scopes(docker_scopes("q.io/z:v1")).lookaside == "https://sigs.example.com/"
    (tmp_path / "c.yaml").write_text("docker:\n  r.io:\n    lookaside: file:///again\n")
    with pytest.raises(ConfigError, match='contains a definition for "r.io"'):
        load_registries_d(tmp_path)
