"""``image tree``: an image's layers, or (``--whatrequires``) the layers built on top of it.

Podman's libimage renders this tree itself and the Libpod API ships the rendered text
(``GET /libpod/images/{name}/tree`` answers ``{"Tree": "..."}``), so the text is made here, once,
for the CLI and the API alike.  The tree is one of layers, not images: a layer's children are the
layers whose parent it is, containers' writable layers included, as in containers/storage.
"""

from __future__ import annotations

from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.storage.records import ImageRecord

    Item = tuple[str, list["Item"]]  # a tree line and the lines under it


@dataclass
class LayerNode:
    """One layer: its size, the names of the images it is the top layer of, what sits on it."""

    id: str
    size: int
    created: float
    tags: list[str] = field(default_factory=list)
    children: list[LayerNode] = field(default_factory=list)
    parent: LayerNode | None = field(default=None, repr=False)  # a cycle: kept out of repr


def _size(size: float) -> str:
    """go-units' HumanSizeWithPrecision(size, 4): ``2.038MB``, ``2.56kB``, ``0B``."""
    value, unit = float(size), 0
    while value >= 1000.0 and unit < 5:
        value, unit = value / 1000.0, unit + 1
    return f"{value:.4g}{('B', 'kB', 'MB', 'GB', 'TB', 'PB')[unit]}"


def _go_list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + " ".join(items) + "]"


def _layer_graph(engine: Engine, images: list[ImageRecord]) -> dict[str, LayerNode]:
    """Every layer an image or a container uses, linked to its children (oldest first)."""
    store = engine.images.store
    nodes: dict[str, LayerNode] = {}
    parents: dict[str, str | None] = {}
    for image in images:
        for i, layer_id in enumerate(image.layers):
            if layer_id not in nodes:
                rec = store.get_layer(layer_id)
                nodes[layer_id] = LayerNode(layer_id, rec.uncompressed_size, rec.created)
                parents[layer_id] = image.layers[i - 1] if i else None
        top = image.top_layer
        if top:
            tags = nodes[top].tags
            tags.extend(n for n in image.names if n not in tags and "@" not in n)
            for ctr_id in store.containers.users_of(image.id):  # writable layers: size unknown, as Podman's
                if ctr_id not in nodes:
                    nodes[ctr_id] = LayerNode(ctr_id, 0, _created(engine, ctr_id))
                    parents[ctr_id] = top
    for layer_id, parent in parents.items():
        if parent:
            nodes[parent].children.append(nodes[layer_id])
            nodes[layer_id].parent = nodes[parent]
    for node in nodes.values():
        node.children.sort(key=lambda n: n.created)
    return nodes


def _created(engine: Engine, ctr_id: str) -> float:
    from sealpod.errors import SealpodError

    try:
        return engine.containers.lookup(ctr_id).created
    except SealpodError:  # a layer whose container record is gone: last
        return float("inf")


def _line(node: LayerNode) -> str:
    tags = f" Top Layer of: {_go_list(node.tags)}" if node.tags else ""
    return f"ID: {node.id[:12]} Size: {_size(node.size):>7}{tags}"


def _render(lines: list[str], items: list[Item], prefix: str) -> None:
    """gotree's drawing: ``├──``/``└──`` before each item, ``│``/blank before its children."""
    for i, (text, children) in enumerate(items):
        last = i == len(items) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{text}")
        _render(lines, children, prefix + ("    " if last else "│   "))


def _requirers(node: LayerNode, level: list[Item]) -> None:
    """Podman's walk: a layer that is its parent's only child (or has no parent) continues the line it
    is on, its children after it at the same level; a layer with siblings opens a branch of its own,
    which its children continue."""
    item: Item = (_line(node), [])
    level.append(item)
    branches = node.parent is not None and len(node.parent.children) > 1
    for child in node.children:
        _requirers(child, item[1] if branches else level)


def tree_text(engine: Engine, name: str, *, whatrequires: bool = False) -> str:
    """The text ``podman image tree`` prints (ending in a newline)."""
    image = engine.images.get(name)
    lines = [f"Image ID: {image.id[:12]}", f"Tags:     {_go_list(image.names)}",
             f"Size:     {_size(image.size)}", "Image Layers" if image.top_layer else "No Image Layers"]
    if not image.top_layer:
        return "\n".join(lines) + "\n"
    nodes = _layer_graph(engine, engine.images.store.list_images())
    top = nodes[image.top_layer]
    items: list[Item] = []
    if whatrequires:
        _requirers(top, items)
    else:
        items = [(_line(nodes[layer_id]), []) for layer_id in image.layers]
    _render(lines, items, "")
    return "\n".join(lines) + "\n"
