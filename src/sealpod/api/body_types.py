"""Request bodies checked against the Go types Podman decodes them into.

Go's encoding/json refuses a value of the wrong JSON type with a 400 that names the field, and
matches field names without regard to case; routes that read a body field by field would otherwise
meet a number where they expect a list and fail with a 500.  Each route names its fields' types
once, here in Go's spelling, and gets the body back with Podman's field names.
"""

from __future__ import annotations

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def _kind(value: Any) -> str:
    """The JSON type as Go's decoder names it in its errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def _fits(value: Any, go_type: str) -> bool:
    if value is None:
        return True  # null leaves a Go field at its zero value
    if go_type == "string":
        return isinstance(value, str)
    if go_type == "bool":
        return isinstance(value, bool)
    if go_type in ("int", "int64", "uint64"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and (go_type != "uint64" or value >= 0)
    if go_type == "object":
        return isinstance(value, dict)
    if go_type.startswith("[]"):
        return isinstance(value, list) and all(_fits(v, go_type[2:]) for v in value)
    if go_type.startswith("map[string]"):
        return isinstance(value, dict) and all(_fits(v, go_type[11:]) for v in value.values())
    return True


def checked(body: dict[str, Any], fields: Mapping[str, str], struct: str) -> dict[str, Any]:
    """``body`` with its keys spelled as in ``fields`` (Go matches them in any case), every known field of
    the Go type given there; a mismatch is Go's 400."""
    lowered = {name.lower(): name for name in fields}
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = key if key in fields else lowered.get(key.lower(), key)
        go_type = fields.get(name)
        if go_type is not None and not _fits(value, go_type):
            raise InvalidArgument(f"decoding request body: json: cannot unmarshal {_kind(value)} into Go struct "
                                  f"field {struct}.{name} of type {go_type}")
        out[name] = value
    return out


__all__ = ["checked"]
