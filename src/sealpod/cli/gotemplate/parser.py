"""Recursive-descent parser for Go text/template, producing :mod:`.nodes` trees.

Errors are raised at parse time wherever Go raises them (undefined variables and functions,
misplaced ``{{end}}``), so a bad ``--format`` fails before any row is printed, as in Podman.
"""

from __future__ import annotations

from collections.abc import Container

from sealpod.cli.gotemplate import nodes as n
from sealpod.cli.gotemplate.lexer import Tok, Token, parse_error, tokenize
from sealpod.cli.gotemplate.literals import char_value, number_value, string_value
from sealpod.errors import TemplateError

_OPERAND_END = (Tok.RIGHT, Tok.PIPE, Tok.RPAREN, Tok.EOF)


def describe(tok: Token) -> str:
    """Render a token the way Go's parser quotes it in messages."""
    if tok.kind == Tok.EOF:
        return "EOF"
    if tok.kind == Tok.KEYWORD:
        return f"<{tok.value}>"
    if tok.kind in (Tok.STRING, Tok.RAWSTRING, Tok.CHAR):
        return '"' + tok.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f'"{tok.value}"'


class Parser:
    def __init__(self, name: str, text: str, funcs: Container[str]) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.toks = tokenize(name, text)
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.defs: dict[str, list[n.Node]] = {}

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != Tok.EOF:
            self.i += 1
        return tok

    def error(self, tok: Token | int, msg: str) -> TemplateError:
        return parse_error(self.name, self.text, tok if isinstance(tok, int) else tok.pos, msg)

    def expect(self, kind: Tok, context: str) -> Token:
        tok = self.next()
        if tok.kind != kind:
            raise self.error(tok, f"unexpected {describe(tok)} in {context}")
        return tok

    def src(self, start: int) -> str:
        end = self.toks[self.i - 1].pos + len(self.toks[self.i - 1].value) if self.i else start
        return self.text[start:end]

    # -- top level -----------------------------------------------------------------------------
    def parse(self) -> list[n.Node]:
        root: list[n.Node] = []
        while self.peek().kind != Tok.EOF:
            if self.peek().kind == Tok.LEFT and self.peek(1).kind == Tok.KEYWORD:
                kw = self.peek(1)
                if kw.value == "define":
                    self.i += 2
                    self.definition()
                    continue
                if kw.value in ("end", "else"):
                    raise self.error(kw, f"unexpected {{{{{kw.value}}}}}")
            root.append(self.text_or_action())
        return root

    def definition(self) -> None:
        name_tok = self.next()
        if name_tok.kind not in (Tok.STRING, Tok.RAWSTRING):
            raise self.error(name_tok, f"unexpected {describe(name_tok)} in define clause")
        self.expect(Tok.RIGHT, "define clause")
        saved, self.vars = self.vars, ["$"]
        body, end = self.item_list()
        self.vars = saved
        if end != "end":
            raise self.error(self.peek(), "unexpected {{else}} in define clause")
        self.defs[string_value(name_tok.value)] = body

    def item_list(self) -> tuple[list[n.Node], str]:
        """Parse nodes up to ``{{end}}`` or ``{{else}}``; return them and which one ended the list."""
        items: list[n.Node] = []
        while True:
            tok = self.peek()
            if tok.kind == Tok.EOF:
                raise self.error(tok, "unexpected EOF")
            if tok.kind == Tok.LEFT and self.peek(1).kind == Tok.KEYWORD:
                kw = self.peek(1).value
                if kw == "end":
                    self.i += 2
                    self.expect(Tok.RIGHT, "end")
                    return items, "end"
                if kw == "else":
                    self.i += 2
                    if self.peek().kind == Tok.KEYWORD and self.peek().value in ("if", "with"):
                        return items, "else " + self.peek().value
                    self.expect(Tok.RIGHT, "else")
                    return items, "else"
                if kw == "define":
                    raise self.error(tok, "unexpected <define> in command")
            items.append(self.text_or_action())

    def text_or_action(self) -> n.Node:
        tok = self.next()
        if tok.kind == Tok.TEXT:
            return n.TextNode(tok.pos, tok.value, tok.value)
        if tok.kind != Tok.LEFT:
            raise self.error(tok, f"unexpected {describe(tok)} in input")
        kw = self.peek()
        if kw.kind == Tok.KEYWORD:
            self.next()
            return self.keyword(kw, tok)
        pipe = self.pipeline("command", Tok.RIGHT)
        return n.ActionNode(pipe.pos, pipe.src, pipe)

    def keyword(self, kw: Token, left: Token) -> n.Node:
        if kw.value in ("if", "with", "range"):
            return self.control(kw.value, kw)
        if kw.value in ("template", "block"):
            return self.template_clause(kw)
        if kw.value in ("break", "continue"):
            self.expect(Tok.RIGHT, kw.value)
            if not self.range_depth:
                raise self.error(kw, f"{{{{{kw.value}}}}} outside {{{{range}}}}")
            cls = n.BreakNode if kw.value == "break" else n.ContinueNode
            return cls(left.pos, f"{{{{{kw.value}}}}}")
        raise self.error(kw, f"unexpected {describe(kw)} in input")

    # -- control structures --------------------------------------------------------------------
    def control(self, kind: str, kw: Token) -> n.BranchNode:
        mark = len(self.vars)
        pipe = self.pipeline(kind, Tok.RIGHT)
        if kind == "range":
            self.range_depth += 1
        body, end = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body: list[n.Node] = []
        if end.startswith("else "):
            sub_kw = self.next()
            if kind == "range" or (sub_kw.value == "with" and kind != "with"):
                raise self.error(sub_kw, f"unexpected {describe(sub_kw)} in else")
            else_body = [self.control(sub_kw.value, sub_kw)]
        elif end == "else":
            else_body, end2 = self.item_list()
            if end2 != "end":
                raise self.error(self.toks[self.i - 1], "expected end; found {{else}}")
        del self.vars[mark:]
        return n.BranchNode(kw.pos, kind, kind, pipe, body, else_body)

    def template_clause(self, kw: Token) -> n.Node:
        name_tok = self.next()
        if name_tok.kind not in (Tok.STRING, Tok.RAWSTRING):
            raise self.error(name_tok, f"unexpected {describe(name_tok)} in {kw.value} clause")
        name = string_value(name_tok.value)
        pipe: n.PipeNode | None = None
        if self.peek().kind != Tok.RIGHT:
            pipe = self.pipeline(f"{kw.value} clause", Tok.RIGHT)
        else:
            self.next()
        node = n.TemplateNode(name_tok.pos, self.text[kw.pos - 2 : self.toks[self.i - 1].pos + 2], name, pipe)
        if kw.value == "block":
            saved, self.vars = self.vars, ["$"]
            body, end = self.item_list()
            self.vars = saved
            if end != "end":
                raise self.error(self.peek(), "unexpected {{else}} in block clause")
            self.defs[name] = body
        return node

    # -- pipelines and commands ----------------------------------------------------------------
    def declarations(self, context: str) -> tuple[list[str], bool]:
        toks = self.toks[self.i :]
        if toks[0].kind != Tok.VAR:
            return [], False
        if toks[1].kind in (Tok.DECLARE, Tok.ASSIGN):
            self.i += 2
            if toks[1].kind == Tok.ASSIGN and toks[0].value not in self.vars:
                raise self.error(toks[0], f'undefined variable "{toks[0].value}"')
            return [toks[0].value], toks[1].kind == Tok.ASSIGN
        if toks[1].kind == Tok.COMMA:
            if context != "range":
                raise self.error(toks[1], f"too many declarations in {context}")
            if toks[2].kind == Tok.VAR and toks[3].kind in (Tok.DECLARE, Tok.ASSIGN):
                self.i += 4
                return [toks[0].value, toks[2].value], toks[3].kind == Tok.ASSIGN
            raise self.error(toks[1], "too many declarations in range")
        return [], False

    def pipeline(self, context: str, end: Tok) -> n.PipeNode:
        start = self.peek().pos
        decl, is_assign = self.declarations(context)
        cmds: list[n.CommandNode] = []
        while True:
            tok = self.peek()
            if tok.kind == end:
                self.next()
                break
            if tok.kind == Tok.EOF or (tok.kind in (Tok.RIGHT, Tok.RPAREN) and tok.kind != end):
                if tok.kind == Tok.EOF:
                    raise self.error(tok, "unclosed action")
                raise self.error(tok, f"unexpected {describe(tok)} in {context}")
            cmds.append(self.command(context))
            if self.peek().kind == Tok.PIPE:
                self.next()
        if not cmds:
            raise self.error(start, f"missing value for {context}")
        for k, cmd in enumerate(cmds[1:]):
            if isinstance(cmd.args[0], n.LiteralNode | n.DotNode | n.NilNode):
                raise self.error(cmd.pos, f"non executable command in pipeline stage {k + 2}")
        if not is_assign:
            self.vars.extend(decl)
        close = self.toks[self.i - 1]
        return n.PipeNode(start, self.text[start : close.pos].strip(), decl, is_assign, cmds)

    def command(self, context: str) -> n.CommandNode:
        start = self.peek().pos
        args: list[n.Node] = []
        while True:
            tok = self.peek()
            if tok.kind in _OPERAND_END:
                break
            op = self.operand()
            if op is None:
                raise self.error(tok, f"unexpected {describe(tok)} in {context}")
            args.append(op)
            after = self.peek()
            if after.adjacent and after.kind not in _OPERAND_END:
                c = after.value[:1]
                raise self.error(after, f"bad character U+{ord(c):04X} '{c}'")
        if not args:
            raise self.error(start, "empty command")
        return n.CommandNode(start, self.src(start), args)

    def operand(self) -> n.Node | None:
        start = self.peek().pos
        term = self.term()
        if term is None:
            return None
        names: list[str] = []
        chained = self.peek().pos  # Go places a field or variable chain where its second name starts
        while self.peek().kind == Tok.FIELD and self.peek().adjacent:
            names.append(self.next().value[1:])
        if not names:
            return term
        src = self.src(start)
        if isinstance(term, n.FieldNode):
            return n.FieldNode(chained, src, term.names + tuple(names))
        if isinstance(term, n.VariableNode):
            return n.VariableNode(chained, src, term.name, term.names + tuple(names))
        if isinstance(term, n.LiteralNode | n.NilNode | n.DotNode):
            raise self.error(start, f"unexpected . after term {describe(self.toks[self.i - len(names) - 1])}")
        return n.ChainNode(start, src, term, tuple(names))

    def term(self) -> n.Node | None:
        tok = self.peek()
        kind, pos, val = tok.kind, tok.pos, tok.value
        if kind not in _TERM_KINDS:
            return None
        self.next()
        if kind == Tok.IDENT:
            if val not in self.funcs:
                raise self.error(tok, f'function "{val}" not defined')
            return n.IdentNode(pos, val, val)
        if kind == Tok.FIELD:
            return n.FieldNode(pos, val, (val[1:],))
        if kind == Tok.VAR:
            if val not in self.vars:
                raise self.error(tok, f'undefined variable "{val}"')
            return n.VariableNode(pos, val, val)
        if kind == Tok.DOT:
            return n.DotNode(pos, val)
        if kind == Tok.NIL:
            return n.NilNode(pos, val)
        if kind == Tok.LPAREN:
            pipe = self.pipeline("parenthesized pipeline", Tok.RPAREN)
            return n.PipeNode(pos, self.src(pos), pipe.decl, pipe.is_assign, pipe.cmds)
        return n.LiteralNode(pos, val, self.literal(tok))

    def literal(self, tok: Token) -> object:
        try:
            if tok.kind == Tok.BOOL:
                return tok.value == "true"
            if tok.kind == Tok.NUMBER:
                return number_value(tok.value)
            if tok.kind == Tok.CHAR:
                return char_value(tok.value)
            return string_value(tok.value)
        except ValueError as e:
            raise self.error(tok, str(e)) from None


_TERM_KINDS = frozenset({
    Tok.IDENT, Tok.FIELD, Tok.VAR, Tok.DOT, Tok.NIL, Tok.LPAREN,
    Tok.BOOL, Tok.NUMBER, Tok.STRING, Tok.RAWSTRING, Tok.CHAR,
})  # fmt: skip


def parse(name: str, text: str, funcs: Container[str]) -> tuple[list[n.Node], dict[str, list[n.Node]]]:
    """Parse template source; return the main body and the ``define``/``block`` bodies by name."""
    p = Parser(name, text, funcs)
    return p.parse(), p.defs
