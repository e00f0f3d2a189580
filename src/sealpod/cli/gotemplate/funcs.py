"""Template functions: Go's builtins plus the ones Podman and Docker add for ``--format``.

Each function declares its parameter kinds, so the executor can report arity and type mistakes
with Go's words (``wrong number of args for join: want 2 got 1``) before calling it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sealpod.cli.gotemplate.printf import sprintf
from sealpod.cli.gotemplate.values import MISSING, go_json, go_str, truth, type_name
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


class FuncError(Exception):
    """A function refused its arguments; the executor wraps it as ``error calling NAME: ...``."""


@dataclass(frozen=True, slots=True)
class Func:
    fn: Callable[..., Any]
    params: tuple[str, ...]  # kinds: any, str, int, strlist
    variadic: str | None = None


def _basic(v: object) -> str:
    if v is None or v is MISSING:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return "other"


def _eq(a: object, *others: object) -> bool:
    ka = _basic(a)
    if ka == "other" and not others:
        raise FuncError("missing argument for comparison")
    for b in others:
        kb = _basic(b)
        if ka == "nil" or kb == "nil":
            if (ka == "nil") == (kb == "nil"):
                return True
            continue
        if ka == "other" or kb == "other":
            if isinstance(a, list | dict) or isinstance(b, list | dict):
                raise FuncError("non-comparable type")
            if a == b:
                return True
            continue
        if ka != kb:
            raise FuncError("incompatible types for comparison")
        if a == b:
            return True
    return False


def _ordered(a: object, b: object) -> tuple[Any, Any]:
    ka, kb = _basic(a), _basic(b)
    if ka not in ("int", "float", "string") or kb not in ("int", "float", "string"):
        raise FuncError("invalid type for comparison")
    if ka != kb:
        raise FuncError("incompatible types for comparison")
    return a, b


def _lt(a: object, b: object) -> bool:
    x, y = _ordered(a, b)
    return bool(x < y)


def _le(a: object, b: object) -> bool:
    x, y = _ordered(a, b)
    return bool(x <= y)


def _and(first: object, *rest: object) -> object:
    for v in (first, *rest):
        if not truth(v):
            return v
    return rest[-1] if rest else first


def _or(first: object, *rest: object) -> object:
    for v in (first, *rest):
        if truth(v):
            return v
    return rest[-1] if rest else first


def _len(v: object) -> int:
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, Sequence | Mapping | set | frozenset | bytes):
        return len(v)
    raise FuncError(f"len of type {type_name(v)}")


def _zero_like(m: Mapping[Any, Any]) -> object:
    """Go's index of a missing map key yields the element type's zero value; guess it from siblings."""
    for v in m.values():
        if isinstance(v, str):
            return ""
        if isinstance(v, bool):
            return False
        if isinstance(v, int | float):
            return type(v)()
        break
    return "" if not m else None


def _index(item: object, *keys: object) -> object:
    for key in keys:
        if item is None or item is MISSING:
            raise FuncError("index of untyped nil")
        if isinstance(item, Mapping):
            item = item[key] if key in item else _zero_like(item)
        elif isinstance(item, str | Sequence):
            if not isinstance(key, int) or isinstance(key, bool):
                raise FuncError(f"cannot index slice/array with type {type_name(key)}")
            seq = item.encode() if isinstance(item, str) else item
            if not 0 <= key < len(seq):
                raise FuncError(f"index out of range: {key}")
            item = seq[key]
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def _slice(item: object, *idx: object) -> object:
    if not isinstance(item, str | list | tuple):
        raise FuncError(f"can't slice item of type {type_name(item)}")
    if len(idx) > 3 or (len(idx) == 3 and isinstance(item, str)):
        raise FuncError(f"too many slice indexes: {len(idx)}")
    bounds = [int(i) for i in idx if isinstance(i, int)]
    if len(bounds) != len(idx):
        raise FuncError("cannot index slice/array with nil")
    cap = len(item)
    for b in bounds:
        if b < 0 or b > cap:
            raise FuncError(f"index out of range: {b}")
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        if lo > hi:
            raise FuncError(f"invalid slice index: {lo} > {hi}")
    lo = bounds[0] if bounds else 0
    hi = bounds[1] if len(bounds) > 1 else cap
    return item[lo:hi]


def go_sprint(args: Sequence[object]) -> str:
    """fmt.Sprint: a space between operands only when neither side is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a))
    return "".join(out)


def _text_arg(args: Sequence[object]) -> str:
    return args[0] if len(args) == 1 and isinstance(args[0], str) else go_sprint(args)


def _html(*args: object) -> str:
    s = _text_arg(args)
    table = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\ufffd"}
    return "".join(table.get(c, c) for c in s)


def _js(*args: object) -> str:
    out = []
    for c in _text_arg(args):
        if c in "\\'\"":
            out.append("\\" + c)
        elif c in "<>&=" or ord(c) < 0x20 or not (c.isprintable() or c == " "):
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def _urlquery(*args: object) -> str:
    out = []
    for b in _text_arg(args).encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.~"):
            out.append(c)
        else:
            out.append("+" if c == " " else f"%{b:02X}")
    return "".join(out)


def _call(fn: object, *args: object) -> object:
    if not callable(fn):
        raise FuncError(f"non-function of type {type_name(fn)}")
    return fn(*args)


def _title(s: str) -> str:
    """strings.Title: upper-case the first letter of each word, leave the rest alone."""
    out, prev_sep = [], True
    for c in s:
        out.append(c.upper() if prev_sep else c)
        prev_sep = not (c.isalnum() or c == "_")
    return "".join(out)


def _truncate(s: str, n: int) -> str:
    return s if len(s) < n else s[: max(n, 0)]


def _replace(s: str, old: str, new: str, count: int = -1) -> str:
    return s.replace(old, new, count)


BUILTINS: dict[str, Func] = {
    "and": Func(_and, ("any",), "any"),
    "or": Func(_or, ("any",), "any"),
    "not": Func(lambda v: not truth(v), ("any",)),
    "eq": Func(_eq, ("any",), "any"),
    "ne": Func(lambda a, b: not _eq(a, b), ("any", "any")),
    "lt": Func(_lt, ("any", "any")),
    "le": Func(_le, ("any", "any")),
    "gt": Func(lambda a, b: not _le(a, b), ("any", "any")),
    "ge": Func(lambda a, b: not _lt(a, b), ("any", "any")),
    "len": Func(_len, ("any",)),
    "index": Func(_index, ("any",), "any"),
    "slice": Func(_slice, ("any",), "any"),
    "print": Func(lambda *a: go_sprint(a), (), "any"),
    "printf": Func(lambda f, *a: sprintf(f, a), ("str",), "any"),
    "println": Func(lambda *a: " ".join(go_str(x) for x in a) + "\n", (), "any"),
    "html": Func(_html, (), "any"),
    "js": Func(_js, (), "any"),
    "urlquery": Func(_urlquery, (), "any"),
    "call": Func(_call, ("any",), "any"),
    # Podman's and Docker's additions.
    "json": Func(lambda v: go_json(v), ("any",)),
    "join": Func(lambda items, sep: sep.join(go_str(x) for x in items), ("strlist", "str")),
    "split": Func(lambda s, sep: s.split(sep) if sep else list(s), ("str", "str")),
    "lower": Func(str.lower, ("str",)),
    "upper": Func(str.upper, ("str",)),
    "title": Func(_title, ("str",)),
    "truncate": Func(_truncate, ("str", "int")),
    "pad": Func(lambda s, left, right: " " * left + s + " " * right, ("str", "int", "int")),
    # Cheap string helpers in the spirit of sprig's, which users reach for.
    "contains": Func(lambda s, sub: sub in s, ("str", "str")),
    "replace": Func(_replace, ("str", "str", "str"), "int"),
    "trim": Func(lambda s: s.strip(" \t\n\r\v\f"), ("str",)),
    "trimPrefix": Func(lambda s, p: s.removeprefix(p), ("str", "str")),
    "trimSuffix": Func(lambda s, p: s.removesuffix(p), ("str", "str")),
}


def convert(kind: str, v: object) -> object:
    """Check and convert one argument to a parameter kind, as Go's reflect-based call does."""
    if kind == "any":
        return v
    if kind == "str" and isinstance(v, str):
        return v
    if kind == "int" and isinstance(v, int) and not isinstance(v, bool):
        return v
    if kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    if kind == "strlist" and isinstance(v, list | tuple):
        return v
    if kind == "strlist" and (v is None or v is MISSING):
        return []
    want = {"str": "string", "int": "int", "strlist": "[]string"}[kind]
    got = "<nil>" if v is None or v is MISSING else type_name(v)
    raise TypeError(f"wrong type for value; expected {want}; got {got}")
