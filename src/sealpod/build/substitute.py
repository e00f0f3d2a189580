"""Docker's variable substitution and word splitting for the instructions it substitutes
(ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG).

``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR-word}``, ``${VAR:+word}``, ``${VAR+word}`` and
``${VAR:?message}``; single quotes keep text literal, double quotes keep spaces, the escape
character (``\\`` or `````) makes the next character literal.  RUN, CMD and ENTRYPOINT are never
substituted here: their shell does it when they run.
"""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.errors import BuildError

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def expand(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word: quotes removed, variables expanded, spaces kept."""
    words = _lex(text, env, escape, split=False)
    return words[0] if words else ""


def split_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Whitespace-separated words (quotes group), each expanded."""
    return _lex(text, env, escape, split=True)


def _lex(text: str, env: Mapping[str, str], escape: str, split: bool) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    started = False
    i = 0
    while i < len(text):
        c = text[i]
        if split and c in " \t\n":
            if started:
                words.append("".join(cur))
                cur, started = [], False
            i += 1
            continue
        started = True
        if c == escape and i + 1 < len(text):
            cur.append(text[i + 1])
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise BuildError(f"unexpected end of statement while looking for matching single-quote: {text}")
            cur.append(text[i + 1:end])
            i = end + 1
        elif c == '"':
            i = _double_quoted(text, i + 1, env, escape, cur)
        elif c == "$":
            value, i = _variable(text, i + 1, env, escape)
            if split:  # an unquoted value splits into words, as Docker's shell lexer does
                pieces = value.split(None) if value.strip() else []
                if value[:1].isspace() and cur:
                    words.append("".join(cur))
                    cur = []
                for piece in pieces[:-1]:
                    words.append("".join(cur) + piece)
                    cur = []
                cur.append(pieces[-1] if pieces else "")
                if value[-1:].isspace():
                    words.append("".join(cur))
                    cur, started = [], False
            else:
                cur.append(value)
        else:
            cur.append(c)
            i += 1
    if started:
        words.append("".join(cur))
    return words


def _double_quoted(text: str, i: int, env: Mapping[str, str], escape: str, cur: list[str]) -> int:
    while i < len(text):
        c = text[i]
        if c == '"':
            return i + 1
        if c == escape and i + 1 < len(text) and text[i + 1] in ('"', "$", escape):
            cur.append(text[i + 1])
            i += 2
        elif c == "$":
            value, i = _variable(text, i + 1, env, escape)
            cur.append(value)
        else:
            cur.append(c)
            i += 1
    raise BuildError(f"unexpected end of statement while looking for matching double-quote: {text}")


def _variable(text: str, i: int, env: Mapping[str, str], escape: str) -> tuple[str, int]:
    """The value of the reference after a ``$`` at ``i``, and where the text goes on."""
    if i >= len(text):
        return "$", i
    if text[i] != "{":
        j = i
        while j < len(text) and text[j] in _NAME_CHARS:
            j += 1
        if j == i:
            return "$", i
        return env.get(text[i:j], ""), j
    j = i + 1
    while j < len(text) and text[j] in _NAME_CHARS:
        j += 1
    name = text[i + 1:j]
    if not name:
        raise BuildError(f"missing variable name in substitution: {text}")
    if j >= len(text):
        raise BuildError(f"syntax error: missing '}}' in {text}")
    if text[j] == "}":
        return env.get(name, ""), j + 1
    op = text[j:j + 2] if text[j:j + 1] == ":" else text[j:j + 1]
    if op not in (":-", ":+", ":?", "-", "+", "?"):
        raise BuildError(f"unsupported modifier ({text[j:j + 1]}) in substitution: {text}")
    word, end = _word_until_brace(text, j + len(op), env, escape)
    value = env.get(name)
    unset = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return (word if unset else str(value)), end
    if op.endswith("+"):
        return ("" if unset else word), end
    if unset:
        raise BuildError(f"{name}: {word or 'is not allowed to be unset'}")
    return str(value), end


def _word_until_brace(text: str, i: int, env: Mapping[str, str], escape: str) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        c = text[i]
        if c == "}":
            return "".join(out), i + 1
        if c == escape and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif c == "$":
            value, i = _variable(text, i + 1, env, escape)
            out.append(value)
        else:
            out.append(c)
            i += 1
    raise BuildError(f"syntax error: missing '}}' in {text}")


def key_values(text: str, env: Mapping[str, str], escape: str = "\\") -> list[tuple[str, str]]:
    """ENV, LABEL and ARG arguments: ``K=V K2="V 2"``, or the old ``K V`` form (one pair)."""
    words = split_words(text, env, escape)
    if not words:
        return []
    raw_first = text.split(None, 1)[0]
    if "=" not in raw_first and "=" not in words[0]:  # LABEL "a b"=c: the quoted key holds the space
        rest = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
        return [(words[0], expand(rest.strip(), env, escape))]
    pairs = []
    for w in words:
        key, sep, value = w.partition("=")
        if not sep or not key:
            raise BuildError(f"syntax error: can't find = in {w!r}, must be of the form: name=value")
        pairs.append((key, value))
    return pairs
