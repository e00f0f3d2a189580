"""Go text/template, as Podman and Docker users write it in ``--format``.

Compile once, execute per row::

    tmpl = compile_template("{{.ID}}\\t{{join .Names \\",\\"}}", name="ps")
    line = tmpl.execute(row)

Rows may be dicts (keys are field names), dataclasses or plain objects (attributes; a Go-style
``CamelCase`` name also finds a ``snake_case`` attribute, and bound methods are called like Go
methods).  Parse and execution failures raise :class:`sealpod.errors.TemplateError` with Go's
wording, e.g. ``template: ps:1:2: executing "ps" at <.Foo>: can't evaluate field Foo in type ...``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from sealpod.errors import TemplateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sealpod.cli.gotemplate.funcs import Func
    from sealpod.cli.gotemplate.nodes import Node

__all__ = ["Template", "TemplateError", "compile_template"]

# ``{{.A.B}}`` with optional spaces: the only action of the default tables of ps, images, ...
_PLAIN_ACTION = re.compile(r"\{\{ *((?:\.[A-Za-z_][A-Za-z0-9_]*)+) *\}\}")


class Template:
    """A parsed template; immutable, so one instance serves every row.

    A template of text and ``{{.A.B}}`` actions only is not parsed until something needs the
    parse (data its fast path declines): the lexer, parser and the function table then stay
    unloaded, which is most of a ``ps`` or ``images`` start."""

    __slots__ = ("name", "text", "_root", "_defs", "_funcs", "_extra", "_plain", "_mapping_types")

    def __init__(
        self, name: str, text: str, root: list[Node] | None, defs: dict[str, list[Node]] | None,
        funcs: Mapping[str, Func] | None, *, plain: list[str | tuple[str, ...]] | None = None,
        extra: Mapping[str, Func] | None = None,
    ) -> None:
        self.name = name
        self.text = text
        self._root, self._defs, self._funcs, self._extra = root, defs, funcs, extra
        self._plain = plain if root is None else _plain_parts(root)
        self._mapping_types: dict[type, bool] = {}  # isinstance(x, Mapping) is slow: asked once a type

    def _parsed(self) -> None:
        if self._root is None:
            from sealpod.cli.gotemplate.funcs import BUILTINS
            from sealpod.cli.gotemplate.parser import parse

            self._funcs = BUILTINS if self._extra is None else {**BUILTINS, **self._extra}
            self._root, self._defs = parse(self.name, self.text, self._funcs)

    @property
    def root(self) -> list[Node]:
        self._parsed()
        assert self._root is not None
        return self._root

    @property
    def defs(self) -> dict[str, list[Node]]:
        self._parsed()
        assert self._defs is not None
        return self._defs

    @property
    def funcs(self) -> Mapping[str, Func]:
        self._parsed()
        assert self._funcs is not None
        return self._funcs

    def plain_fields(self) -> list[str | tuple[str, ...]] | None:
        """Text and field paths when the template is only those (None otherwise)."""
        return self._plain

    def _execute_plain(self, data: object, parts: list[str | tuple[str, ...]]) -> str | None:
        """Text and ``{{.A.B}}`` only (the default tables): plain attribute reads, no executor.

        Anything unusual (a dict, a missing field, a method) returns None: the executor decides.
        """
        from sealpod.cli.gotemplate.values import go_str

        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value: object = data
            for name in part:
                kind = type(value)
                mapping = self._mapping_types.get(kind)
                if mapping is None:
                    mapping = self._mapping_types[kind] = isinstance(value, Mapping)
                if mapping or value is None:
                    return None
                value = getattr(value, name, _ABSENT)
                if value is _ABSENT or callable(value):
                    return None
            out.append(go_str(value))
        return "".join(out)

    def execute(
        self, data: object, *, on_action_error: Callable[[tuple[str, ...]], str] | None = None
    ) -> str:
        """Render the template with ``data`` as dot.

        ``on_action_error`` turns a failing ``{{...}}`` into text instead of an error; it receives
        the first field the action reads.  Table headers use it: ``{{join .Names ","}}`` cannot
        run on a header string, yet its column still deserves the header ``NAMES``.
        """
        if self._plain is not None and on_action_error is None:
            fast = self._execute_plain(data, self._plain)
            if fast is not None:
                return fast
        from sealpod.cli.gotemplate.execute import ExecError, Executor

        ex = Executor(self.defs, self.funcs, data, on_action_error)
        try:
            ex.walk(data, self.root)
        except ExecError as e:
            err = self._exec_error(e)
            err.partial = "".join(ex.out)  # what Go's Execute had written before it failed
            raise err from None
        except RecursionError:
            raise TemplateError(f"template: {self.name}: exceeded maximum template depth") from None
        return "".join(ex.out)

    def _exec_error(self, e: Exception) -> TemplateError:
        from sealpod.cli.gotemplate.execute import ExecError

        assert isinstance(e, ExecError)
        pos = e.node.pos
        line = self.text.count("\n", 0, pos) + 1
        col = len(self.text[self.text.rfind("\n", 0, pos) + 1 : pos].encode())
        where = f"{self.name}:{line}:{col}"
        tmpl = e.tmpl or self.name
        return TemplateError(f'template: {where}: executing "{tmpl}" at <{e.node.src}>: {e.msg}')


_ABSENT = object()


def _plain_parts(root: list[Node]) -> list[str | tuple[str, ...]] | None:
    from sealpod.cli.gotemplate.nodes import ActionNode, FieldNode, TextNode

    parts: list[str | tuple[str, ...]] = []
    for node in root:
        if isinstance(node, TextNode):
            parts.append(node.text)
        elif (isinstance(node, ActionNode) and not node.pipe.decl and len(node.pipe.cmds) == 1
              and len(node.pipe.cmds[0].args) == 1 and isinstance(node.pipe.cmds[0].args[0], FieldNode)):
            parts.append(node.pipe.cmds[0].args[0].names)
        else:
            return None
    return parts


def compile_template(
    text: str, *, name: str = "template", funcs: Mapping[str, Func] | None = None
) -> Template:
    """Parse ``text``; ``name`` appears in error messages as Podman's command name does."""
    plain = _scan_plain(text)
    if plain is not None:
        return Template(name, text, None, None, None, plain=plain, extra=funcs)
    from sealpod.cli.gotemplate.funcs import BUILTINS
    from sealpod.cli.gotemplate.parser import parse

    table = BUILTINS if funcs is None else {**BUILTINS, **funcs}
    root, defs = parse(name, text, table)
    return Template(name, text, root, defs, table)


def _scan_plain(text: str) -> list[str | tuple[str, ...]] | None:
    """Text and ``{{.A.B}}`` pieces, or None when anything else is there (the parser decides)."""
    parts: list[str | tuple[str, ...]] = []
    pos = 0
    for m in _PLAIN_ACTION.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(tuple(m.group(1).split(".")[1:]))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    if any(isinstance(p, str) and ("{{" in p or "}}" in p) for p in parts):
        return None  # another kind of action, or a stray delimiter: the parser words its error
    return parts
