"""Go's type checks of request bodies (sealpod.api.body_types), as pure logic."""

from __future__ import annotations

import pytest

from sealpod.api.body_types import checked
from sealpod.errors import InvalidArgument

FIELDS = {"name": "string", "labels": "map[string]string", "ports": "[]object", "size": "int64",
          "period": "uint64", "quiet": "bool", "cmd": "[]string"}


def test_field_names_match_in_any_case_and_come_back_as_declared() -> None:
    assert checked({"NAME": "x", "Labels": {"a": "b"}, "extra": 1}, FIELDS, "S") == {
        "name": "x", "labels": {"a": "b"}, "extra": 1}


def test_null_fits_every_type() -> None:
    assert checked(dict.fromkeys(FIELDS), FIELDS, "S") == dict.fromkeys(FIELDS)


@pytest.mark.parametrize(("field", "value", "kind"), [
    ("name", 5, "number"), ("name", ["a"], "array"), ("labels", {"a": 1}, "object"), ("labels", "x", "string"),
    ("ports", [5], "array"), ("size", 1.5, "number"), ("size", True, "bool"), ("period", -1, "number"),
    ("quiet", "yes", "string"), ("cmd", [None, 5], "array"),
])
def test_a_wrong_type_is_gos_error(field: str, value: object, kind: str) -> None:
    with pytest.raises(InvalidArgument, match=rf"cannot unmarshal {kind} into Go struct field S\.{field} of type "):
        checked({field: value}, FIELDS, "S")
