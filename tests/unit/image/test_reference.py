"""Reference grammar and normalization; expected errors are Podman 4.3.1's words."""

from __future__ import annotations

import time

import pytest

from sealpod.errors import InvalidReference
from sealpod.image.reference import (
    Reference,
    is_full_id,
    looks_like_id_prefix,
    parse_reference,
    split_transport,
    strip_sha256,
)

H32 = "0123456789abcdef" * 2
H64 = H32 * 2
D64 = f"sha256:{H64}"

VALID = [
    # text, registry, repository, tag, digest
    ("busybox", None, "busybox", None, None),
    ("busybox:1.36", None, "busybox", "1.36", None),
    ("foo/bar", None, "foo/bar", None, None),
    ("foo_bar", None, "foo_bar", None, None),
    ("foo__bar", None, "foo__bar", None, None),
    ("foo---bar.baz", None, "foo---bar.baz", None, None),
    ("busybox:_x", None, "busybox", "_x", None),
    ("busybox:Latest", None, "busybox", "Latest", None),
    ("foo:5000", None, "foo", "5000", None),
    ("docker.io/busybox", "docker.io", "library/busybox", None, None),
    ("index.docker.io/busybox:1", "docker.io", "library/busybox", "1", None),
    ("docker.io/foo/bar", "docker.io", "foo/bar", None, None),
    ("Docker.io/foo", "Docker.io", "foo", None, None),
    ("FOO.com/bar", "FOO.com", "bar", None, None),
    ("localhost/foo", "localhost", "foo", None, None),
    ("localhost:5000/foo:bar", "localhost:5000", "foo", "bar", None),
    ("foo:1/bar", "foo:1", "bar", None, None),
    ("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000", "a/b/c", "t", None),
    ("[::1]:5000/foo", "[::1]:5000", "foo", None, None),
    ("[fe80::1]/foo:1", "[fe80::1]", "foo", "1", None),
    (f"busybox@{D64}", None, "busybox", None, D64),
    (f"quay.io/a/b:1@{D64}", "quay.io", "a/b", "1", D64),
    (f"busybox@sha512:{H64}{H64}", None, "busybox", None, f"sha512:{H64}{H64}"),
    ("a" * 255, None, "a" * 255, None, None),
    ("busybox:" + "t" * 128, None, "busybox", "t" * 128, None),
    (H64, None, H64, None, None),
]


@pytest.mark.parametrize("text,registry,repository,tag,digest", VALID)
def test_parse_valid(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert ref == Reference(registry, repository, tag, digest)


INVALID = [
    ("", "repository name must have at least one component"),
    ("Foo", "repository name must be lowercase"),
    ("Foo:Bar", "repository name must be lowercase"),
    ("foo/Bar/baz", "repository name must be lowercase"),
    ("docker.io/Foo", "repository name must be lowercase"),
    ("Foo/bar", "repository name must be lowercase"),
    ("a::b", "invalid reference format"),
    ("busybox:", "invalid reference format"),
    ("busybox@", "invalid reference format"),
    ("busybox@sha256:abc", "invalid reference format"),
    ("busybox:latest@sha256:abc", "invalid reference format"),
    ("-leading", "invalid reference format"),
    ("foo-", "invalid reference format"),
    ("foo___bar", "invalid reference format"),
    ("foo.-bar", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("a/b:c:d", "invalid reference format"),
    (":tag", "invalid reference format"),
    (f"@{D64}", "invalid reference format"),
    ("a b", "invalid reference format"),
    ("busybox:-x", "invalid reference format"),
    ("busybox:.x", "invalid reference format"),
    ("busybox:" + "t" * 129, "invalid reference format"),
    ("docker://busybox", "invalid reference format"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("a/" * 127 + "ab", "repository name must not be more than 255 characters"),
    ("foo.com/" + "a" * 250, "repository name must not be more than 255 characters"),
    ("docker.io/" + "a" * 240, "repository name must not be more than 255 characters"),
    (f"busybox@sha256:{H32}", "invalid checksum digest length"),
    (f"busybox@sha256:{H64}00", "invalid checksum digest length"),
    (f"busybox@sha512:{H64}", "invalid checksum digest length"),
    (f"busybox@md5:{H32}", "unsupported digest algorithm"),
    (f"busybox@sha256:{H64.upper()}", "invalid checksum digest format"),
]


@pytest.mark.parametrize("text,message", INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "text",
    [
        "a" * 5000 + "!",
        "a-" * 3000 + "!",
        "a." * 2000 + "/b!",
        "a__" * 2000 + "-!",
        "x" * 200 + "@sha256:" + "f" * 5000,
    ],
)
def test_hostile_input_is_rejected_quickly(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(InvalidReference):
        parse_reference(text)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "text,expected",
    [
        ("busybox", "busybox"),
        ("docker.io/busybox", "docker.io/library/busybox"),
        ("docker.io/busybox:1", "docker.io/library/busybox:1"),
        (f"quay.io/a/b:1@{D64}", f"quay.io/a/b:1@{D64}"),
        ("localhost:5000/foo@" + D64, "localhost:5000/foo@" + D64),
    ],
)
def test_str_round_trip(text: str, expected: str) -> None:
    assert str(parse_reference(text)) == expected
    assert parse_reference(expected) == parse_reference(text)


def test_name_and_short_name() -> None:
    assert parse_reference("busybox").name == "busybox"
    assert parse_reference("busybox").is_short_name
    ref = parse_reference("docker.io/busybox:1")
    assert ref.name == "docker.io/library/busybox"
    assert not ref.is_short_name


@pytest.mark.parametrize(
    "text,registry,expected",
    [
        ("busybox", "docker.io", "docker.io/library/busybox"),
        ("busybox:1", "index.docker.io", "docker.io/library/busybox:1"),
        ("foo/bar", "docker.io", "docker.io/foo/bar"),
        ("busybox", "quay.io", "quay.io/busybox"),
        ("busybox", "localhost", "localhost/busybox"),
        (f"busybox@{D64}", "[::1]:5000", f"[::1]:5000/busybox@{D64}"),
    ],
)
def test_with_registry(text: str, registry: str, expected: str) -> None:
    assert str(parse_reference(text).with_registry(registry)) == expected


def test_with_registry_checks_the_whole_length() -> None:
    short = parse_reference("a" * 250)
    with pytest.raises(InvalidReference, match="must not be more than 255 characters"):
        short.with_registry("docker.io")
    with pytest.raises(InvalidReference, match="invalid reference format"):
        short.with_registry("bad/registry")


def test_with_tag_and_digest() -> None:
    ref = parse_reference("quay.io/a/b")
    assert str(ref.with_tag("v1")) == "quay.io/a/b:v1"
    assert str(ref.with_digest(D64)) == f"quay.io/a/b@{D64}"
    with pytest.raises(InvalidReference, match="invalid reference format"):
        ref.with_tag("-bad")
    with pytest.raises(InvalidReference, match="invalid checksum digest length"):
        ref.with_digest(f"sha256:{H32}")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("busybox", "busybox:latest"),
        ("busybox:1", "busybox:1"),
        (f"busybox@{D64}", f"busybox@{D64}"),
        (f"busybox:1@{D64}", f"busybox:1@{D64}"),
    ],
)
def test_tagged_or_latest(text: str, expected: str) -> None:
    assert str(parse_reference(text).tagged_or_latest()) == expected


def test_strip_tag_if_digested() -> None:
    assert str(parse_reference(f"a.io/b:1@{D64}").strip_tag_if_digested()) == f"a.io/b@{D64}"
    assert str(parse_reference("a.io/b:1").strip_tag_if_digested()) == "a.io/b:1"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "busybox"),
        ("docker.io/foo/bar:1", "foo/bar:1"),
        ("docker.io/library/a/b", "library/a/b"),
        (f"docker.io/library/busybox@{D64}", f"busybox@{D64}"),
        ("quay.io/foo/bar:1", "quay.io/foo/bar:1"),
        ("busybox:1", "busybox:1"),
    ],
)
def test_familiar(text: str, expected: str) -> None:
    assert parse_reference(text).familiar() == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("docker://busybox", ("docker", "busybox")),
        ("docker://quay.io/a/b:1", ("docker", "quay.io/a/b:1")),
        ("containers-storage:localhost/foo", ("containers-storage", "localhost/foo")),
        ("oci:/tmp/layout:tag", ("oci", "/tmp/layout:tag")),
        ("oci-archive:/tmp/a.tar", ("oci-archive", "/tmp/a.tar")),
        ("docker-archive:/tmp/a.tar:foo:1", ("docker-archive", "/tmp/a.tar:foo:1")),
        ("dir:/tmp/d", ("dir", "/tmp/d")),
        ("docker-daemon:busybox:latest", ("docker-daemon", "busybox:latest")),
        ("docker:5000/img", (None, "docker:5000/img")),
        ("localhost:5000/foo", (None, "localhost:5000/foo")),
        ("busybox", (None, "busybox")),
        ("busybox:dir", (None, "busybox:dir")),
    ],
)
def test_split_transport(text: str, expected: tuple[str | None, str]) -> None:
    assert split_transport(text) == expected


def test_id_helpers() -> None:
    assert is_full_id(H64)
    assert not is_full_id(H64.upper())
    assert not is_full_id(H64[:-1])
    assert not is_full_id(D64)
    for prefix in ("9", "93", "9311e080", H64):
        assert looks_like_id_prefix(prefix)
    for text in ("", "e0g", "ABC", H64 + "0", "busybox"):
        assert not looks_like_id_prefix(text)
    assert strip_sha256(D64) == H64
    assert strip_sha256("busybox") == "busybox"
    assert strip_sha256(H64) == H64
    with pytest.raises(InvalidReference) as info:
        strip_sha256("sha256:9311e080")
    assert str(info.value) == "invalid format: no 64-byte hexadecimal value"
