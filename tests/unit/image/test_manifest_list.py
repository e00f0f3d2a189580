"""The pure model of local manifest lists: JSON both ways, add/replace, annotate, remove, flag parsing."""

from __future__ import annotations

import json

import pytest

from sealpod.errors import InvalidArgument, NotFound, UnsupportedManifest
from sealpod.image import manifest_list as ml
from sealpod.image.manifest import DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, Index, parse

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _inst(digest: str = D1, arch: str = "amd64", **kw: object) -> ml.Instance:
    return ml.Instance(media_type=OCI_MANIFEST, digest=digest, size=10, os="linux", architecture=arch,
                       **kw)  # type: ignore[arg-type]


def test_new_list_is_an_empty_docker_list() -> None:
    body, media_type = ml.to_json(ml.ManifestList())
    assert media_type == DOCKER_LIST
    assert json.loads(body) == {"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": []}


def test_round_trip_keeps_platform_fields_and_annotations() -> None:
    inst = _inst(variant="v8", os_version="10.0", os_features=("win32k",), features=("sse4",),
                 annotations=(("a", "b"),))
    lst = ml.ManifestList(OCI_INDEX, (inst,), (("top", "1"),))
    body, media_type = ml.to_json(lst)
    assert media_type == OCI_INDEX
    assert ml.from_json(body) == lst
    plat = json.loads(body)["manifests"][0]["platform"]
    assert plat == {"architecture": "amd64", "os": "linux", "os.version": "10.0", "os.features": ["win32k"],
                    "variant": "v8", "features": ["sse4"]}


def test_output_is_a_valid_index_for_the_pull_side() -> None:
    lst = ml.with_instance(ml.with_instance(ml.ManifestList(), _inst()), _inst(D2, "arm64"))
    parsed = parse(*ml.to_json(lst, "oci"))
    assert isinstance(parsed, Index) and parsed.media_type == OCI_INDEX
    assert [d.platform.architecture for d in parsed.manifests if d.platform] == ["amd64", "arm64"]


def test_format_choice_and_refusal() -> None:
    lst = ml.ManifestList(OCI_INDEX)
    assert ml.to_json(lst, "v2s2")[1] == DOCKER_LIST
    assert ml.to_json(lst)[1] == OCI_INDEX
    with pytest.raises(InvalidArgument, match="unsupported manifest format"):
        ml.to_json(lst, "v2s1")


def test_same_digest_replaces_in_place() -> None:
    lst = ml.with_instance(ml.with_instance(ml.ManifestList(), _inst()), _inst(D2, "arm64"))
    lst = ml.with_instance(lst, _inst(D1, "riscv64"))
    assert [(i.digest, i.architecture) for i in lst.instances] == [(D1, "riscv64"), (D2, "arm64")]


def test_annotate_merges_and_keeps_unset_fields() -> None:
    lst = ml.ManifestList(instances=(_inst(variant="v1", annotations=(("a", "1"),)),))
    out = ml.annotate(lst, D1, {"architecture": "arm", "variant": "", "annotations": (("b", "2"),)})
    inst = out.instances[0]
    assert inst.architecture == "arm" and inst.variant == "v1"
    assert dict(inst.annotations) == {"a": "1", "b": "2"}
    assert ml.annotate_list(out, (("x", "y"),)).annotations == (("x", "y"),)


def test_remove_and_missing_digest() -> None:
    lst = ml.ManifestList(instances=(_inst(), _inst(D2)))
    assert [i.digest for i in ml.without(lst, D1).instances] == [D2]
    with pytest.raises(NotFound, match="no instance matching digest"):
        ml.without(lst, "sha256:" + "3" * 64)


@pytest.mark.parametrize("text", ["sha256:aaaa", "md5:" + "a" * 32, "nonsense", "sha256:" + "A" * 64])
def test_bad_digests(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid image digest"):
        ml.check_digest(text)


def test_annotation_flags() -> None:
    assert ml.parse_annotations(["a=b", "c=d=e", "a=z"]) == (("a", "z"), ("c", "d=e"))
    with pytest.raises(InvalidArgument):
        ml.parse_annotations(["novalue"])


@pytest.mark.parametrize("body", [b"[]", b"{", b'{"mediaType": "%s"}' % OCI_MANIFEST.encode(),
                                  b'{"manifests": [{"digest": 1}]}'])
def test_bad_lists_are_refused(body: bytes) -> None:
    with pytest.raises(UnsupportedManifest):
        ml.from_json(body)


def test_null_manifests_as_podman_writes_them() -> None:
    assert ml.from_json(b'{"schemaVersion":2,"mediaType":"%s","manifests":null}' % DOCKER_LIST.encode()) == (
        ml.ManifestList())
