"""A small YAML writer for ``info``: nested dicts, lists and scalars, as Podman prints them."""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_PLAIN = re.compile(r"^[A-Za-z0-9_./@+(-][A-Za-z0-9_ ./@+:,=()-]*$")
_NUMBER = re.compile(r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|0[xX][0-9a-fA-F]+|0o[0-7]+"
                     r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "~", ""}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if "\n" in text:
        return "|-\n" + "\n".join("  " + line for line in text.splitlines())
    if text.lower() in _RESERVED or _NUMBER.fullmatch(text):  # would read back as another type
        return json.dumps(text)
    if not _PLAIN.match(text) or text.endswith(" ") or ": " in text:
        # Go's YAML writer single-quotes what is only syntax-ambiguous (`'conmon version 2.1.6, commit: x'`)
        return "'" + text.replace("'", "''") + "'" if text.isprintable() else json.dumps(text)
    return text


def dump(value: Any, indent: int = 0) -> str:
    """YAML block style; keys in the order given."""
    pad = "  " * indent
    out: list[str] = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for key, item in value.items():
            if isinstance(item, dict) and item:
                out.append(f"{pad}{key}:\n{dump(item, indent + 1)}")
            elif isinstance(item, list) and item:
                out.append(f"{pad}{key}:\n{dump(item, indent)}")
            elif isinstance(item, dict):
                out.append(f"{pad}{key}: {{}}\n")
            elif isinstance(item, list):
                out.append(f"{pad}{key}: []\n")
            else:
                out.append(f"{pad}{key}: {_indent_block(_scalar(item), pad)}\n")
        return "".join(out)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = dump(item, indent + 1)
                out.append(f"{pad}- {body.lstrip()}")
            else:
                out.append(f"{pad}- {_scalar(item)}\n")
        return "".join(out)
    return pad + _scalar(value) + "\n"


def _indent_block(text: str, pad: str) -> str:
    if not text.startswith("|-\n"):
        return text
    head, _, body = text.partition("\n")
    return head + "\n" + "\n".join(pad + line for line in body.splitlines())
