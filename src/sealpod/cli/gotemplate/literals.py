"""Go literal syntax: numbers, interpreted and raw strings, character constants."""

from __future__ import annotations

import re

_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'",
}  # fmt: skip
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_OLD_OCTAL = re.compile(r"[+-]?0[0-7]+")


def _unescape(body: str, quote: str) -> str:
    """Resolve Go backslash escapes; bytes given as \\x or octal are decoded as UTF-8, as Go prints them."""

    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos : m.start()].encode()
        esc = m.group()[1:]
        if esc[0] in "xuU" and len(esc) > 1:
            code = int(esc[1:], 16)
            out += bytes([code]) if esc[0] == "x" else chr(code).encode("utf-8", "surrogatepass")
        elif esc[0].isdigit() and len(esc) == 3:
            out += bytes([int(esc, 8) & 0xFF])
        elif esc in _SIMPLE_ESCAPES and (esc != "'" or quote == "'") and (esc != '"' or quote == '"'):
            out += _SIMPLE_ESCAPES[esc].encode()
        else:
            raise ValueError("invalid syntax")
        pos = m.end()
    out += body[pos:].encode()
    return out.decode("utf-8", "replace")


def string_value(token: str) -> str:
    """Value of an interpreted ("...") or raw (`...`) string token."""
    if token.startswith("`"):
        return token[1:-1].replace("\r", "")
    return _unescape(token[1:-1], '"')


def char_value(token: str) -> int:
    """Go character constants are untyped runes: they print as their code point."""
    s = _unescape(token[1:-1], "'")
    if len(s) != 1:
        raise ValueError(f"malformed character constant: {token}")
    return ord(s)


def number_value(token: str) -> int | float | complex:
    """Integers stay int; anything with a fraction or exponent is float64, as in Go's constants."""
    text = token.replace("_", "")
    try:
        if text.endswith("i"):
            return complex(0, float(text[:-1]))
        low = text.lower()
        if "0x" in low:
            return float.fromhex(text) if ("p" in low or "." in low) else int(text, 16)
        if _OLD_OCTAL.fullmatch(text):
            return int(text, 8)
        if "0o" in low or "0b" in low:
            return int(text, 0)
        if any(c in low for c in ".e"):
            return float(text)
        return int(text, 10)
    except ValueError:
        raise ValueError(f'bad number syntax: "{token}"') from None
