"""The options of libpod's ``PUT /containers/{id}/archive`` that shape the tar itself.

podman-remote's ``cp`` packs the source on the client and leaves two decisions to the server:
``rename`` (``{"foo": "newfile"}``: the copy lands under another name, as ``cp a:/foo b:/newfile``)
and ``noOverwriteDirNonDir`` (a file must not replace a directory, nor a directory a file, unless
``--overwrite``).  Both are applied here, to the archive, before the engine extracts it.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
from collections.abc import Callable

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def parse_rename(text: str | None) -> dict[str, str]:
    """The ``rename`` query: a JSON object of strings."""
    if not text:
        return {}
    try:
        doc: Any = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise InvalidArgument(f"invalid rename parameter {text!r}: expected a JSON object of strings")
    return {str(k).strip("/"): v.strip("/") for k, v in doc.items()}


def _renamed(name: str, rename: dict[str, str]) -> str:
    clean = posixpath.normpath(name.lstrip("/")).removeprefix("./") if name not in (".", "./") else "."
    for old, new in rename.items():
        if clean == old:
            return new
        if clean.startswith(old + "/"):
            return new + clean[len(old):]
    return clean


def rewrite(body: bytes, rename: dict[str, str], check: Callable[[str, bool], None] | None) -> bytes:
    """``body`` with its members renamed; ``check(name, is_dir)`` is asked about each top-level
    member (it raises to refuse one)."""
    out = io.BytesIO()
    try:
        return _rewrite(body, rename, check, out)
    except tarfile.TarError as e:
        raise InvalidArgument(f"reading the archive: {e}") from e


def _rewrite(body: bytes, rename: dict[str, str], check: Callable[[str, bool], None] | None,
             out: io.BytesIO) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as src, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for member in src:
            member.name = _renamed(member.name, rename)
            if member.islnk():
                member.linkname = _renamed(member.linkname, rename)
            if check is not None and "/" not in member.name and member.name != ".":
                check(member.name, member.isdir())
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    return out.getvalue()


__all__ = ["parse_rename", "rewrite"]
