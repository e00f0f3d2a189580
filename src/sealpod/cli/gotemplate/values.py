"""How Python values look through Go's eyes: printing (%v), truth, type names and JSON.

Templates are fed Python data (dicts, lists, dataclasses), but users expect Go output: ``[a b]``
for lists, ``map[k:v]`` for maps, ``<nil>``, lowercase booleans, ``1e+06`` for large floats.
"""

from __future__ import annotations

import datetime
import enum
import math
import sys
from collections.abc import Mapping

from sealpod.utils import record as dataclasses

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class _Missing:
    """A map key that is not there: Go's invalid reflect.Value, printed ``<no value>``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class NilMap(dict[str, object]):
    """A Go map that is nil: JSON says ``null``, yet templates print it ``map[]`` as Go does.
    Hand templates this where a document has ``null`` for a field whose Go type is a map."""


class NilSlice(list[object]):
    """A Go slice that is nil: ``null`` in JSON, ``[]`` when printed."""


class GoStruct(dict[str, object]):
    """A JSON object that stands for a Go struct: printed ``{v1 v2}`` (values in field order, no
    names) where a map would print ``map[k:v]``."""


class OmitEmptyStruct(GoStruct):
    """A Go struct whose fields are all ``omitempty``: printed with every field, zero ones left out of JSON."""


class GoDuration(int):
    """A ``time.Duration``: printed as Go prints one (``1m30s``), a number of nanoseconds in JSON."""


class StrictFields(dict[str, object]):
    """A JSON object that stands for a Go struct a template addresses by field: a name that is neither
    a key nor one of ``known`` (fields the JSON omits when empty) is Go's "can't evaluate field" error,
    not the ``<no value>`` of a map.  ``go_type`` is the type Podman's error names."""

    def __init__(self, data: Mapping[str, object], go_type: str, known: Iterable[str] = ()) -> None:
        super().__init__(data)
        self.strict_type = go_type
        self.known = frozenset(known)


def go_float(f: float, prec: int = -1) -> str:
    """Format like Go's %v / %g: shortest round-trip digits, exponent form when exp < -4 or exp >= 6."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if prec >= 0:
        return f"{f:.{prec}g}"
    mant, _, exp_s = repr(abs(f)).partition("e")
    int_part, _, frac = mant.partition(".")
    digits = int_part + frac
    exp = len(int_part) - 1 + int(exp_s or 0)
    significant = digits.lstrip("0")
    exp -= len(digits) - len(significant)
    significant = significant.rstrip("0")
    sign = "-" if math.copysign(1, f) < 0 else ""
    if not significant:
        return sign + "0"
    if exp < -4 or exp >= 6:
        body = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{significant}"
    whole = significant[: exp + 1].ljust(exp + 1, "0")
    rest = significant[exp + 1 :]
    return sign + whole + ("." + rest if rest else "")


def go_time(t: datetime.datetime) -> str:
    """Go's time.Time.String(): ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    frac = f".{t.microsecond:06d}".rstrip("0") if t.microsecond else ""
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M:%S") + frac + " +0000 UTC"
    zone = t.tzname() or ""
    if zone in ("UTC", "UTC+00:00"):
        zone = "UTC"
    return t.strftime("%Y-%m-%d %H:%M:%S") + frac + t.strftime(" %z ") + zone


def _stdlib_dataclass(v: object) -> bool:
    # Only a program that already imported dataclasses can hand us one: never import it here.
    std = sys.modules.get("dataclasses")
    return std is not None and std.is_dataclass(v)


def is_struct(v: object) -> bool:
    return not isinstance(v, type) and (dataclasses.is_dataclass(v) or _stdlib_dataclass(v))


def struct_items(v: object) -> list[tuple[str, Any]]:
    if is_struct(v):
        if dataclasses.is_dataclass(v):
            return [(f.name, getattr(v, f.name)) for f in dataclasses.fields(v)]
        std = sys.modules["dataclasses"]
        return [(f.name, getattr(v, f.name)) for f in std.fields(v)]
    return list(vars(v).items()) if hasattr(v, "__dict__") else []


def sorted_keys(m: Mapping[Any, Any]) -> list[Any]:
    """Go's fmt and range visit map keys in sorted order."""
    try:
        return sorted(m)
    except TypeError:
        return sorted(m, key=str)


def go_str(v: object, top: bool = True) -> str:
    """The text Go's ``{{.}}`` / %v prints for a value."""
    if isinstance(v, str):
        return v
    if v is None:
        return "<nil>"
    if v is MISSING:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, GoDuration):
        from sealpod.cli.stats import go_duration

        return go_duration(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, enum.Enum):
        return go_str(v.value, top)
    if isinstance(v, list | tuple | set | frozenset):
        items = sorted(v, key=str) if isinstance(v, set | frozenset) else v
        return "[" + " ".join(go_str(x, False) for x in items) + "]"
    if isinstance(v, GoStruct):
        return "{" + " ".join(go_str(x, False) for x in v.values()) + "}"
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{go_str(k, False)}:{go_str(v[k], False)}" for k in sorted_keys(v)) + "]"
    if isinstance(v, datetime.datetime):
        return go_time(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if is_struct(v):
        return "{" + " ".join(go_str(x, False) for _, x in struct_items(v)) + "}"
    return str(v)


def truth(v: object) -> bool:
    """Go's template truth: zero values and empty collections are false, structs always true."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool | int | float | complex | str | bytes | list | tuple | set | frozenset | Mapping):
        return bool(v)
    return True


def type_name(v: object) -> str:
    """Approximate Go type names, for error messages and %T."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
        return "[]string" if v and all(isinstance(x, str) for x in v) else "[]interface {}"
    if isinstance(v, Mapping):
        return "map[string]string" if all(isinstance(x, str) for x in v.values()) else (
            "map[string]interface {}"
        )
    return type(v).__name__


def to_jsonable(v: object) -> Any:
    """Turn dataclasses, enums, times and tuples into plain JSON data shaped like Go's encoding/json."""
    if v is None or isinstance(v, str | bool | int):
        return v
    if v is MISSING or (isinstance(v, NilMap | NilSlice) and not v):
        return None
    form = getattr(v, "json_form", None)
    if form is not None:  # a value whose JSON is not what templates see of it (info's structs)
        return to_jsonable(form)
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 1e21 else v
    if isinstance(v, enum.Enum):
        return to_jsonable(v.value)
    if isinstance(v, OmitEmptyStruct):
        return {str(k): to_jsonable(x) for k, x in v.items() if x not in (None, 0, "", False, [], {}, MISSING)}
    if isinstance(v, Mapping):
        return {str(k): to_jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        return [to_jsonable(x) for x in v]
    if isinstance(v, datetime.datetime):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, bytes):
        import base64

        return base64.b64encode(v).decode()
    if is_struct(v) or hasattr(v, "__dict__"):
        return {k: to_jsonable(x) for k, x in struct_items(v) if not k.startswith("_")}
    return str(v)


def go_json(v: object, *, indent: int | None = None, escape_html: bool = False) -> str:
    """encoding/json output: compact by default; HTML escaping only where Go's caller keeps it on."""
    import json

    if indent is None:
        s = json.dumps(to_jsonable(v), ensure_ascii=False, separators=(",", ":"))
    else:
        s = json.dumps(to_jsonable(v), ensure_ascii=False, indent=indent)
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if escape_html:
        s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return s
