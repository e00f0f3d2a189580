"""Syntax tree of a parsed template.

Every node keeps its source offset and text: Go's execution errors quote the node
(``at <.Foo>``) and its position, and users compare our messages with Podman's.
"""

from __future__ import annotations

from sealpod.utils.record import dataclass, field


@dataclass(slots=True)
class Node:
    pos: int
    src: str


@dataclass(slots=True)
class TextNode(Node):
    text: str


@dataclass(slots=True)
class FieldNode(Node):
    names: tuple[str, ...]


@dataclass(slots=True)
class VariableNode(Node):
    name: str
    names: tuple[str, ...] = ()


@dataclass(slots=True)
class DotNode(Node):
    pass


@dataclass(slots=True)
class NilNode(Node):
    pass


@dataclass(slots=True)
class LiteralNode(Node):
    """A bool, number, string or character constant, already converted to its Python value."""

    value: object


@dataclass(slots=True)
class IdentNode(Node):
    name: str


@dataclass(slots=True)
class CommandNode(Node):
    args: list[Node]


@dataclass(slots=True)
class PipeNode(Node):
    decl: list[str]
    is_assign: bool
    cmds: list[CommandNode]


@dataclass(slots=True)
class ChainNode(Node):
    node: Node
    names: tuple[str, ...]


@dataclass(slots=True)
class ActionNode(Node):
    pipe: PipeNode


@dataclass(slots=True)
class BranchNode(Node):
    """``if``, ``with`` and ``range``: a pipeline, a body and an optional else body."""

    kind: str
    pipe: PipeNode
    body: list[Node]
    else_body: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class TemplateNode(Node):
    name: str
    pipe: PipeNode | None


@dataclass(slots=True)
class BreakNode(Node):
    pass


@dataclass(slots=True)
class ContinueNode(Node):
    pass
