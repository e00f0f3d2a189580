"""sealpod.utils.record behaves like the dataclasses it replaces, where sealpod relies on it."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from sealpod.utils.record import asdict, dataclass, field, fields, is_dataclass, replace


@dataclass(frozen=True)
class Inner:
    x: int
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    items: list[Inner] = field(default_factory=list)
    opts: dict[str, str] = field(default_factory=dict)
    count: int = 3


@dataclass
class Mutable:
    a: int
    b: list[int] = field(default_factory=list)


class Pair(NamedTuple):
    left: Inner
    right: int


def test_defaults_factories_and_frozen() -> None:
    o = Outer("n", Inner(1))
    assert o.count == 3 and o.items == [] and o.opts == {}
    assert Outer("n", Inner(1)).items is not o.items  # a fresh list per instance
    with pytest.raises(AttributeError):
        o.name = "x"  # type: ignore[misc]
    assert [f.name for f in fields(o)] == ["name", "inner", "items", "opts", "count"]


def test_eq_hash_repr_replace() -> None:
    a, b = Inner(1, ("t",)), Inner(1, ("t",))
    assert a == b and hash(a) == hash(b) and a != Inner(2)
    assert repr(a) == "Inner(x=1, tags=('t',))"
    assert replace(a, x=5) == Inner(5, ("t",))
    assert is_dataclass(a) and is_dataclass(Inner) and not is_dataclass(1)


def test_asdict_is_recursive_like_dataclasses() -> None:
    o = Outer("n", Inner(1), [Inner(2)], {"k": "v"})
    assert asdict(o) == {"name": "n", "inner": {"x": 1, "tags": ()}, "items": [{"x": 2, "tags": ()}],
                         "opts": {"k": "v"}, "count": 3}
    assert asdict(Pair(Inner(1), 2)) == Pair({"x": 1, "tags": ()}, 2)  # type: ignore[arg-type]


def test_mutable_records_are_mutable_and_unhashable() -> None:
    m = Mutable(1)
    m.a = 2
    m.b.append(3)
    assert m == Mutable(2, [3])
    with pytest.raises(TypeError):
        hash(m)


def test_missing_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Inner()  # type: ignore[call-arg]
