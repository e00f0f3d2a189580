"""Tokeniser for Go text/template source.

Tokens are produced eagerly into a list: templates are short and compiled once per command, and a
list lets the parser look ahead freely.  Each token remembers whether it touches the previous one,
because Go tells ``.A.B`` (one chain) from ``.A .B`` (two arguments) only by that.
"""

from __future__ import annotations

import re
from enum import Enum

from sealpod.errors import TemplateError
from sealpod.utils.record import dataclass


class Tok(Enum):
    TEXT = "text"
    LEFT = "{{"
    RIGHT = "}}"
    IDENT = "identifier"
    FIELD = "field"
    VAR = "variable"
    DOT = "."
    NUMBER = "number"
    STRING = "string"
    RAWSTRING = "raw string"
    CHAR = "character constant"
    BOOL = "bool"
    NIL = "nil"
    KEYWORD = "keyword"
    LPAREN = "("
    RPAREN = ")"
    PIPE = "|"
    DECLARE = ":="
    ASSIGN = "="
    COMMA = ","
    EOF = "EOF"


KEYWORDS = frozenset(
    {"block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"}
)


@dataclass(slots=True)
class Token:
    kind: Tok
    value: str
    pos: int
    adjacent: bool = False  # no space between this token and the previous one


_SPACE = " \t\r\n"
_WS = re.compile(r"[ \t\r\n]+")
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)i?"
)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_CHAR = re.compile(r"'(?:[^'\\\n]|\\.)*'")
_WORD = re.compile(r"\w+")
_SINGLE = {"(": Tok.LPAREN, ")": Tok.RPAREN, "|": Tok.PIPE, ",": Tok.COMMA, "=": Tok.ASSIGN}


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_error(name: str, text: str, pos: int, msg: str) -> TemplateError:
    return TemplateError(f"template: {name}:{line_of(text, pos)}: {msg}")


class Lexer:
    """Splits template source into text and action tokens, applying ``{{-``/``-}}`` trimming."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.tokens: list[Token] = []
        self.paren_depth = 0
        self.action_start = 0

    def error(self, pos: int, msg: str) -> TemplateError:
        return parse_error(self.name, self.text, pos, msg)

    def run(self) -> list[Token]:
        text, pos, trim_next = self.text, 0, False
        while True:
            start = text.find("{{", pos)
            chunk = text[pos:] if start < 0 else text[pos:start]
            if trim_next:
                chunk = chunk.lstrip(_SPACE)
            left_trim = start >= 0 and text[start + 2 : start + 3] == "-" and text[start + 3 : start + 4] in (
                " ", "\t", "\r", "\n",
            )  # fmt: skip
            if left_trim:
                chunk = chunk.rstrip(_SPACE)
            if chunk:
                self.tokens.append(Token(Tok.TEXT, chunk, pos))
            if start < 0:
                break
            inner = start + 4 if left_trim else start + 2
            pos, trim_next = self.action(start, inner)
        self.tokens.append(Token(Tok.EOF, "", len(text)))
        return self.tokens

    def _right_delim(self, pos: int) -> tuple[int, bool] | None:
        """Return (end, trims) when a right delimiter starts at pos."""
        text = self.text
        if text.startswith("}}", pos):
            return pos + 2, False
        if text[pos : pos + 1] in (" ", "\t", "\r", "\n") and text.startswith("-}}", pos + 1):
            return pos + 4, True
        return None

    def _comment(self, start: int, pos: int) -> tuple[int, bool]:
        end = self.text.find("*/", pos + 2)
        if end < 0:
            raise self.error(start, "unclosed comment")
        delim = self._right_delim(end + 2)
        if delim is None:
            raise self.error(start, "comment ends before closing delimiter")
        return delim

    def action(self, start: int, pos: int) -> tuple[int, bool]:
        """Lex one action from its left delimiter; returns where text resumes and whether to trim it."""
        text = self.text
        if text.startswith("/*", pos):
            return self._comment(start, pos)
        self.tokens.append(Token(Tok.LEFT, "{{", start))
        self.action_start = start
        self.paren_depth = 0
        adjacent = False
        while True:
            if pos >= len(text):
                raise self.error(start, "unclosed action")
            delim = self._right_delim(pos)
            if delim is not None:
                if self.paren_depth > 0:
                    raise self.error(pos, "unclosed left paren")
                self.tokens.append(Token(Tok.RIGHT, "}}", pos))
                return delim
            m = _WS.match(text, pos)
            if m:
                pos, adjacent = m.end(), False
                continue
            pos = self.token(pos, adjacent)
            adjacent = True

    def token(self, pos: int, adjacent: bool) -> int:
        text = self.text
        c = text[pos]
        nxt = text[pos + 1 : pos + 2]
        kind: Tok | None = None
        m: re.Match[str] | None = None
        if c == ":" and nxt == "=":
            kind, end = Tok.DECLARE, pos + 2
        elif c in _SINGLE:
            kind, end = _SINGLE[c], pos + 1
            self.paren_depth += 1 if c == "(" else -1 if c == ")" else 0
        elif c == '"':
            m = _STRING.match(text, pos)
            if not m:
                raise self.error(pos, "unterminated quoted string")
            kind, end = Tok.STRING, m.end()
        elif c == "`":
            end = text.find("`", pos + 1) + 1
            if end == 0:
                raise self.error(pos, "unterminated raw quoted string")
            kind = Tok.RAWSTRING
        elif c == "'":
            m = _CHAR.match(text, pos)
            if not m:
                raise self.error(pos, "unterminated character constant")
            kind, end = Tok.CHAR, m.end()
        elif c == "$":
            m = _WORD.match(text, pos + 1)
            kind, end = Tok.VAR, m.end() if m else pos + 1
        elif c == "." and not nxt:  # Go lexes a final "." as a number, which its parser then refuses
            raise self.error(pos, 'illegal number syntax: "."')
        elif c == "." and not nxt[:1].isdigit():
            m = _WORD.match(text, pos + 1)
            kind, end = (Tok.FIELD, m.end()) if m else (Tok.DOT, pos + 1)
        elif c.isdigit() or (c in "+-." and nxt[:1].isdigit()):
            end = self._number(pos)
            kind = Tok.NUMBER
        elif c.isalpha() or c == "_":
            m = _WORD.match(text, pos)
            assert m is not None
            end = m.end()
            word = m.group()
            kind = Tok.KEYWORD if word in KEYWORDS else Tok.BOOL if word in ("true", "false") else (
                Tok.NIL if word == "nil" else Tok.IDENT
            )
        else:
            # Go names the line the action began on (a newline inside an action does not move it)
            raise self.error(self.action_start, f"bad character U+{ord(c):04X} '{c}'")
        self.tokens.append(Token(kind, text[pos:end], pos, adjacent))
        return end

    def _number(self, pos: int) -> int:
        m = _NUMBER.match(self.text, pos)
        end = m.end() if m else pos + 1
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            m2 = _WORD.match(self.text, end)
            bad = self.text[pos : m2.end() if m2 else end + 1]
            raise self.error(pos, f'bad number syntax: "{bad}"')
        return end


def tokenize(name: str, text: str) -> list[Token]:
    return Lexer(name, text).run()
