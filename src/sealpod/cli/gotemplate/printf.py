"""Go's fmt.Sprintf for templates: the verbs users put in ``{{printf "%-20s" .Names}}``.

Python's own %-formatting differs in the details users notice (``%v``, ``%q``, ``%t``, ``%!d(...)``
for wrong types, ``%g`` shortest output), so verbs are mapped one by one onto format specs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sealpod.cli.gotemplate.values import go_float, go_str, is_struct, type_name

_DIRECTIVE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.?)", re.S)
_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """strconv.Quote: a double-quoted Go string literal, printable Unicode kept as is."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _ESC:
            out.append(_ESC[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _bad(verb: str, arg: object) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={go_str(arg)})"


def _pad(s: str, flags: str, width: int | None, numeric: bool = False) -> str:
    if width is None or len(s) >= width:
        return s
    if "-" in flags:
        return s.ljust(width)
    if "0" in flags:
        sign = s[0] if numeric and s[:1] in "+- " and s[:1] != "" else ""
        return sign + s[len(sign) :].rjust(width - len(sign), "0")
    return s.rjust(width)


def _sign(flags: str) -> str:
    return "+" if "+" in flags else " " if " " in flags else "-"


def _format_int(verb: str, flags: str, prec: int | None, arg: int) -> str:
    if verb == "c":
        return chr(arg)
    if verb == "U":
        return f"U+{arg:04X}"
    if verb == "q":
        return "'" + go_quote(chr(arg))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'"
    base = {"d": "d", "b": "b", "o": "o", "O": "o", "x": "x", "X": "X"}[verb]
    digits = format(abs(arg), base)
    if prec is not None:
        digits = digits.rjust(prec, "0")
    prefix = ""
    if verb == "O" or ("#" in flags and verb == "o" and not digits.startswith("0")):
        prefix = "0o" if verb == "O" else "0"
    elif "#" in flags and verb in "xXb":
        prefix = {"x": "0x", "X": "0X", "b": "0b"}[verb]
    sign = "-" if arg < 0 else ("+" if "+" in flags else " " if " " in flags else "")
    return sign + prefix + digits


def _format_float(verb: str, flags: str, prec: int | None, arg: float) -> str:
    sign = _sign(flags)
    if verb in "gG" and prec is None:
        s = go_float(arg)
        if sign != "-" and not s.startswith("-"):
            s = sign + s
        return s.upper() if verb == "G" else s
    if verb in "eEfFgG":
        p = 6 if prec is None else prec
        return format(arg, f"{sign}.{p}{verb}")
    return _bad(verb, arg)


def _format_str(verb: str, flags: str, prec: int | None, arg: str) -> str:
    if verb in ("s", "v"):
        return arg if prec is None else arg[:prec]
    if verb == "q":
        return go_quote(arg if prec is None else arg[:prec])
    if verb in ("x", "X"):
        data = arg.encode()
        h = data.hex() if verb == "x" else data.hex().upper()
        return " ".join(h[i : i + 2] for i in range(0, len(h), 2)) if " " in flags else h
    return _bad(verb, arg)


def format_one(verb: str, flags: str, prec: int | None, arg: object) -> tuple[str, bool]:
    """Format one argument; the flag says whether the result is numeric (for zero padding)."""
    if verb == "T":
        return type_name(arg), False
    if verb == "v" and not isinstance(arg, float):
        return go_str(arg), isinstance(arg, int) and not isinstance(arg, bool)
    if isinstance(arg, bool):
        return (("true" if arg else "false") if verb in "tv" else _bad(verb, arg)), False
    if isinstance(arg, int):
        if verb in "dboOxXcUq":
            return _format_int(verb, flags, prec, arg), verb in "dboOxX"
        return _bad(verb, arg), False
    if isinstance(arg, float):
        return _format_float("g" if verb == "v" else verb, flags, prec, arg), True
    if isinstance(arg, str):
        return _format_str(verb, flags, prec, arg), False
    if isinstance(arg, Sequence | Mapping) and not isinstance(arg, str | bytes) and verb != "t":
        if isinstance(arg, Mapping):
            inner = (f"{go_str(k)}:{format_one(verb, flags, prec, arg[k])[0]}" for k in arg)
            return "map[" + " ".join(inner) + "]", False
        return "[" + " ".join(format_one(verb, flags, prec, x)[0] for x in arg) + "]", False
    if verb == "s" and arg is not None and (is_struct(arg) or not isinstance(arg, int | float)):
        return go_str(arg), False
    return _bad(verb, arg), False


def sprintf(fmt: str, args: Sequence[object]) -> str:
    """Go's fmt.Sprintf, including its in-band error notation for missing and extra arguments."""
    out: list[str] = []
    argi = 0
    pos = 0
    while True:
        pct = fmt.find("%", pos)
        if pct < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:pct])
        m = _DIRECTIVE.match(fmt, pct)
        assert m is not None
        flags, width_s, prec_s, verb = m.groups()
        pos = m.end()
        if verb == "%" and not flags and width_s is None and prec_s is None:
            out.append("%")
            continue
        if not verb:
            out.append("%!(NOVERB)")
            break
        width, argi = _star(width_s, args, argi)
        prec, argi = _star(prec_s, args, argi) if prec_s is not None else (None, argi)
        if prec_s == "":
            prec = 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        s, numeric = format_one(verb, flags, prec, args[argi])
        argi += 1
        out.append(_pad(s, flags, width, numeric))
    if argi < len(args):
        extra = ", ".join(f"{type_name(a)}={go_str(a)}" if a is not None else "<nil>" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _star(spec: str | None, args: Sequence[object], argi: int) -> tuple[int | None, int]:
    if spec is None or spec == "":
        return None, argi
    if spec != "*":
        return int(spec), argi
    if argi < len(args) and isinstance(args[argi], int):
        return int(args[argi]), argi + 1  # type: ignore[call-overload]
    return None, argi + 1
