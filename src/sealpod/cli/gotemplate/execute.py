"""Evaluation of a parsed template against Python data, with Go's semantics and error messages."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping

from sealpod.cli.gotemplate import nodes as n
from sealpod.cli.gotemplate.funcs import Func, FuncError, convert
from sealpod.cli.gotemplate.values import MISSING, go_str, sorted_keys, truth, type_name

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_NOFINAL: Any = object()
_MAX_DEPTH = 1000
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class ExecError(Exception):
    def __init__(self, node: n.Node, msg: str) -> None:
        super().__init__(msg)
        self.node = node
        self.msg = msg
        self.tmpl = ""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def first_field(node: object) -> tuple[str, ...] | None:
    """The first field a pipeline reads (``.Names`` in ``{{join .Names ","}}``), if any."""
    if isinstance(node, n.FieldNode):
        return node.names
    children: list[object] = []
    if isinstance(node, n.ActionNode):
        children = [node.pipe]
    elif isinstance(node, n.PipeNode):
        children = list(node.cmds)
    elif isinstance(node, n.CommandNode):
        children = list(node.args)
    elif isinstance(node, n.ChainNode):
        children = [node.node]
    for child in children:
        found = first_field(child)
        if found is not None:
            return found
    return None


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


class Executor:
    def __init__(
        self,
        defs: Mapping[str, list[n.Node]],
        funcs: Mapping[str, Func],
        data: object,
        on_action_error: Callable[[tuple[str, ...]], str] | None = None,
    ) -> None:
        self.defs = defs
        self.funcs = funcs
        self.vars: list[tuple[str, object]] = [("$", data)]
        self.out: list[str] = []
        self.depth = 0
        self.on_action_error = on_action_error

    # -- statements ----------------------------------------------------------------------------
    def walk(self, dot: object, body: list[n.Node]) -> None:
        for node in body:
            if isinstance(node, n.TextNode):
                self.out.append(node.text)
            elif isinstance(node, n.ActionNode):
                self.action(dot, node)
            elif isinstance(node, n.BranchNode):
                self.branch(dot, node)
            elif isinstance(node, n.TemplateNode):
                self.template(dot, node)
            elif isinstance(node, n.BreakNode):
                raise _Break
            elif isinstance(node, n.ContinueNode):
                raise _Continue

    def action(self, dot: object, node: n.ActionNode) -> None:
        try:
            val = self.pipe(dot, node.pipe)
        except ExecError:
            if self.on_action_error is None:
                raise
            names = first_field(node)
            self.out.append(self.on_action_error(names) if names else "")
            return
        if not node.pipe.decl:
            self.out.append(go_str(val))

    def branch(self, dot: object, node: n.BranchNode) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self.range(dot, node)
                return
            val = self.pipe(dot, node.pipe)
            if truth(val):
                self.walk(val if node.kind == "with" else dot, node.body)
            else:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def range(self, dot: object, node: n.BranchNode) -> None:
        val = self.pipe(dot, node.pipe, declare=False)
        items: list[tuple[object, object]]
        if val is None or val is MISSING:
            items = []
        elif isinstance(val, Mapping):
            items = [(k, val[k]) for k in sorted_keys(val)]
        elif isinstance(val, list | tuple):
            items = list(enumerate(val))
        elif isinstance(val, set | frozenset):
            items = list(enumerate(sorted(val, key=str)))
        else:
            raise ExecError(node.pipe, f"range can't iterate over {go_str(val)}")
        if not items:
            self.walk(dot, node.else_body)
            return
        decl = node.pipe.decl
        mark = len(self.vars)
        for key, elem in items:
            if len(decl) == 1:
                self.set_var(decl[0], elem, node.pipe.is_assign)
            elif len(decl) == 2:
                self.set_var(decl[0], key, node.pipe.is_assign)
                self.set_var(decl[1], elem, node.pipe.is_assign)
            try:
                self.walk(elem, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[mark:]

    def template(self, dot: object, node: n.TemplateNode) -> None:
        body = self.defs.get(node.name)
        if body is None:
            raise ExecError(node, f'template "{node.name}" not defined')
        new_dot = self.pipe(dot, node.pipe) if node.pipe is not None else None
        if self.depth >= _MAX_DEPTH:
            raise ExecError(node, f"exceeded maximum template depth ({_MAX_DEPTH})")
        saved, self.vars = self.vars, [("$", new_dot)]
        self.depth += 1
        try:
            self.walk(new_dot, body)
        except ExecError as e:
            e.tmpl = e.tmpl or node.name
            raise
        finally:
            self.vars = saved
            self.depth -= 1

    # -- expressions ---------------------------------------------------------------------------
    def set_var(self, name: str, value: object, assign: bool) -> None:
        if assign:
            for i in range(len(self.vars) - 1, -1, -1):
                if self.vars[i][0] == name:
                    self.vars[i] = (name, value)
                    return
        self.vars.append((name, value))

    def var(self, name: str) -> object:
        for vname, value in reversed(self.vars):
            if vname == name:
                return value
        return MISSING

    def pipe(self, dot: object, pipe: n.PipeNode, declare: bool = True) -> object:
        value = _NOFINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        if declare:
            for name in pipe.decl:
                self.set_var(name, value, pipe.is_assign)
        return value

    def command(self, dot: object, cmd: n.CommandNode, final: object) -> object:
        head, extra = cmd.args[0], cmd.args[1:]
        if isinstance(head, n.FieldNode):
            return self.chain(dot, dot, head, head.names, extra, final)
        if isinstance(head, n.ChainNode):
            return self.chain(dot, self.arg(dot, head.node), head, head.names, extra, final)
        if isinstance(head, n.IdentNode):
            return self.call(dot, head, cmd, extra, final)
        if isinstance(head, n.VariableNode) and head.names:
            return self.chain(dot, self.var(head.name), head, head.names, extra, final)
        if isinstance(head, n.NilNode):
            raise ExecError(head, "nil is not a command")
        if extra or final is not _NOFINAL:
            raise ExecError(head, f"can't give argument to non-function {head.src}")
        return self.arg(dot, head)

    def arg(self, dot: object, node: n.Node) -> object:
        if isinstance(node, n.DotNode):
            return dot
        if isinstance(node, n.NilNode):
            return None
        if isinstance(node, n.LiteralNode):
            return node.value
        if isinstance(node, n.FieldNode):
            return self.chain(dot, dot, node, node.names, [], _NOFINAL)
        if isinstance(node, n.VariableNode):
            value = self.var(node.name)
            return self.chain(dot, value, node, node.names, [], _NOFINAL) if node.names else value
        if isinstance(node, n.ChainNode):
            return self.chain(dot, self.arg(dot, node.node), node, node.names, [], _NOFINAL)
        if isinstance(node, n.PipeNode):
            return self.pipe(dot, node)
        if isinstance(node, n.IdentNode):
            return self.call(dot, node, n.CommandNode(node.pos, node.src, [node]), [], _NOFINAL)
        raise ExecError(node, f"can't handle {node.src} for arg")

    def chain(
        self,
        dot: object,
        recv: object,
        node: n.Node,
        names: tuple[str, ...],
        args: list[n.Node],
        final: object,
    ) -> object:
        for name in names[:-1]:
            recv = self.field(dot, recv, name, node, [], _NOFINAL)
        return self.field(dot, recv, names[-1], node, args, final)

    def field(
        self, dot: object, recv: object, name: str, node: n.Node, args: list[n.Node], final: object
    ) -> object:
        has_args = bool(args) or final is not _NOFINAL
        if recv is None or recv is MISSING:
            return MISSING
        if isinstance(recv, Mapping):
            if has_args:
                raise ExecError(node, f"{name} is not a method but has arguments")
            value = recv.get(name, MISSING)
            strict = getattr(recv, "strict_type", "")
            if value is MISSING and strict and name not in getattr(recv, "known", ()):
                raise ExecError(node, f"can't evaluate field {name} in type {strict}")
            return value
        if not name.startswith("_") and not isinstance(recv, str | int | float | list | tuple | bytes):
            value = getattr(recv, name, MISSING)
            if value is MISSING:  # Go's field name of a snake_case Python attribute
                value = getattr(recv, _snake(name), MISSING)
            if value is not MISSING:
                if isinstance(value, types.MethodType | types.BuiltinMethodType):
                    vals = [self.arg(dot, a) for a in args] + ([] if final is _NOFINAL else [final])
                    try:
                        return value(*vals)
                    except Exception as e:  # a report method failing is a template error
                        raise ExecError(node, f"error calling {name}: {e}") from e
                if has_args:
                    raise ExecError(node, f"{name} is not a method but has arguments")
                return value
        raise ExecError(node, f"can't evaluate field {name} in type {type_name(recv)}")

    def call(
        self, dot: object, ident: n.IdentNode, cmd: n.CommandNode, args: list[n.Node], final: object
    ) -> object:
        func = self.funcs[ident.name]
        count = len(args) + (final is not _NOFINAL)
        want = len(func.params)
        if func.variadic is None and count != want:
            raise ExecError(ident, f"wrong number of args for {ident.name}: want {want} got {count}")
        if func.variadic is not None and count < want:
            raise ExecError(ident, f"wrong number of args for {ident.name}: want at least {want} got {count}")
        values: list[object] = []
        for i, node in enumerate([*args, None] if final is not _NOFINAL else args):
            kind = func.params[i] if i < want else (func.variadic or "any")
            value = final if node is None else self.arg(dot, node)
            try:
                values.append(convert(kind, value))
            except TypeError as e:
                raise ExecError(node or cmd, str(e)) from None
        try:
            return func.fn(*values)
        except (FuncError, TypeError, ValueError, KeyError, IndexError) as e:
            raise ExecError(cmd, f"error calling {ident.name}: {e}") from None
