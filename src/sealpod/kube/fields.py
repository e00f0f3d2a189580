"""Typed reads of untrusted YAML mappings: every wrong type becomes a :class:`KubeError` naming the
field by its path (``spec.containers[0].ports[1].containerPort``), and every field we do not act on
becomes a warning naming it, so nothing a user wrote is dropped silently."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sealpod.errors import KubeError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


class Fields:
    """One mapping of the document, with where it is and where warnings go."""

    def __init__(self, doc: Any, path: str, warnings: list[str]) -> None:
        if not isinstance(doc, dict):
            raise KubeError(f'invalid field "{path}": expected a mapping, got a {type_name(doc)}')
        self.doc: dict[Any, Any] = doc
        self.path = path
        self.warnings = warnings

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _bad(self, key: str, want: str, value: Any) -> KubeError:
        return KubeError(f'invalid field "{self._where(key)}": expected {want}, got a {type_name(value)}')

    def get(self, key: str) -> Any:
        """The value of ``key``, matched as Kubernetes' decoder matches it: exactly, else ignoring case
        (``readonly: true`` is ``readOnly``, as Podman reads it)."""
        if key in self.doc:
            return self.doc[key]
        folded = key.lower()
        for k, value in self.doc.items():
            if isinstance(k, str) and k.lower() == folded:
                return value
        return None

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def child(self, key: str) -> Fields | None:
        value = self.get(key)
        return None if value is None else Fields(value, self._where(key), self.warnings)

    def child_or_empty(self, key: str) -> Fields:
        return self.child(key) or Fields({}, self._where(key), self.warnings)

    def items(self, key: str) -> list[Fields]:
        """A list of mappings (containers, ports, volumes...)."""
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._bad(key, "a list", value)
        return [Fields(v, f"{self._where(key)}[{i}]", self.warnings) for i, v in enumerate(value)]

    def text(self, key: str, default: str = "") -> str:
        """Numbers are taken as their text (``value: 1``): kubectl would refuse, users write it anyway."""
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._bad(key, "a string", value)
        return value if isinstance(value, str) else str(value)

    def integer(self, key: str, default: int | None = None) -> int | None:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().isdigit():
                return int(value)
            raise self._bad(key, "an integer", value)
        return value

    def flag(self, key: str, default: bool | None = None) -> bool | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def strs(self, key: str) -> tuple[str, ...] | None:
        """A list of strings; None when absent (``command: []`` and no command differ)."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._bad(key, "a list of strings", value)
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self._bad(f"{key}[{i}]", "a string", item)
            out.append(str(item))
        return tuple(out)

    def strmap(self, key: str) -> dict[str, str]:
        value = self.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._bad(key, "a mapping of strings", value)
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, dict | list):
                raise self._bad(f"{key}.{k}", "a string", v)
            out[str(k)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        return out

    def warn_unknown(self, known: Iterable[str], quiet: Iterable[str] = ()) -> None:
        """Warn about each field neither used (``known``) nor harmless to ignore (``quiet``)."""
        skip = {k.lower() for k in (*known, *quiet)}
        for key in self.doc:
            if str(key).lower() not in skip:
                self.warnings.append(f'field "{self._where(str(key))}" is not supported, ignoring it')


_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$")
_FACTORS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(text: str, where: str) -> float:
    """A Kubernetes resource quantity (``64Mi``, ``500m``, ``1.5``, ``129e6``) as a number."""
    found = _QUANTITY.match(text.strip())
    if not found:
        raise KubeError(f'invalid field "{where}": "{text}" is not a resource quantity')
    number, exponent, suffix = found.groups()
    return float(number) * (10 ** int(exponent) if exponent else 1) * _FACTORS[suffix or ""]


def memory_quantity(text: str) -> str:
    """Bytes → the shortest exact binary quantity, as Podman writes limits (``64Mi``)."""
    value = int(text)
    for suffix, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value and value % factor == 0:
            return f"{value // factor}{suffix}"
    return str(value)


def cpu_quantity(cpus: float) -> str:
    millis = round(cpus * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dns_label(name: str, limit: int = 63) -> str:
    """``name`` as a DNS-1123 label (container, volume and port names): lower case, ``-`` for the rest."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower())
    out = out[:limit].strip("-")
    return out or "x"


def dns_subdomain(name: str) -> str:
    """``name`` as a DNS-1123 subdomain (pod and object names): labels joined by dots, 253 at most."""
    parts = [dns_label(p, 253) for p in re.split(r"\.+", name.lower()) if p]  # labels may pass 63 here
    return ".".join(parts)[:253].strip("-.") or "x"


def is_dns_label(name: str) -> bool:
    return len(name) <= 63 and bool(_LABEL.match(name))
