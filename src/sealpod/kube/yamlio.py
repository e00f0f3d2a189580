"""Reading and writing YAML safely: files come from users and the API, so a hostile document
(alias bombs, recursive anchors, gigantic input) must end in one clear error, never a hang."""

from __future__ import annotations

from sealpod.errors import KubeError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

MAX_BYTES = 16 * 1024 * 1024
MAX_ALIASES = 1000  # a legitimate manifest uses a handful; a "billion laughs" needs many
MAX_NODES = 1_000_000  # scalars and collections once aliases are expanded


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """How many nodes the document becomes once every alias is copied out (the graph is acyclic here)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node.value, list):
        for item in node.value:
            for child in item if isinstance(item, tuple) else (item,):
                size += _expanded_size(child, memo)
                if size > MAX_NODES:
                    raise KubeError(f"YAML expands to more than {MAX_NODES} nodes through its aliases, refusing it")
    memo[id(node)] = size
    return size


def _guarded_loader() -> type:
    """A SafeLoader that counts aliases and refuses one pointing into a node still being built."""
    import yaml

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._aliases = 0
            self._open_anchors: set[str] = set()

        def compose_document(self) -> Any:
            node = super().compose_document()
            _expanded_size(node, {})
            return node

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()  # type: ignore[no-untyped-call]
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise KubeError(f"YAML uses more than {MAX_ALIASES} aliases, refusing to expand them")
                if event.anchor in self._open_anchors:
                    raise KubeError(f'recursive YAML anchor "{event.anchor}" is not supported')
                return super().compose_node(parent, index)
            anchor = getattr(self.peek_event(), "anchor", None)  # type: ignore[no-untyped-call]
            if anchor is not None:
                self._open_anchors.add(anchor)
            try:
                return super().compose_node(parent, index)
            finally:
                if anchor is not None:
                    self._open_anchors.discard(anchor)

    return Loader


def load_documents(data: bytes | str) -> list[dict[str, Any]]:
    """Every non-empty document of a multi-document stream, each a mapping."""
    import yaml

    if len(data) > MAX_BYTES:
        raise KubeError(f"YAML input is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise KubeError(f"YAML input is not valid UTF-8: {e.reason} at byte {e.start}") from None
    try:
        docs = list(yaml.load_all(data, Loader=_guarded_loader()))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise KubeError(f"unable to read YAML: {_one_line(e)}") from None
    except RecursionError:
        raise KubeError("unable to read YAML: nested too deeply") from None
    out: list[dict[str, Any]] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise KubeError(f"YAML document {i + 1} is a {_kind_of(doc)}, expected a mapping with apiVersion and kind")
        out.append(doc)
    return out


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _one_line(err: Exception) -> str:
    problem = getattr(err, "problem", None)
    mark = getattr(err, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(err).split())


def dump_documents(docs: list[dict[str, Any]]) -> str:
    """Block style, keys sorted as Podman's (Go's) marshaller writes them, documents separated by ``---``."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # shared values are written out, never as &id001
            return True

        def choose_scalar_style(self) -> Any:
            style = super().choose_scalar_style()
            return '"' if style == "'" else style  # "1000", as Go's marshaller quotes

    parts = [yaml.dump(d, Dumper=Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=1 << 16)
             for d in docs]
    return "---\n" + "---\n".join(parts)


def dump_document(doc: dict[str, Any]) -> str:
    """One document without a separator, for callers that lay out their parts as Podman does."""
    return dump_documents([doc]).removeprefix("---\n")


def fetch(url: str) -> bytes:
    """``kube play http(s)://...``: the file a web server has, at most MAX_BYTES of it, as Podman
    plays a URL; failures read as Podman's (``Get "URL": ...``, or the status it got)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the user's own URL
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise KubeError(f"downloading {url}: {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        why = reason.strerror.lower() if isinstance(reason, OSError) and reason.strerror else str(reason)
        raise KubeError(f'Get "{url}": {why}') from None
    if len(data) > MAX_BYTES:
        raise KubeError(f"{url}: larger than {MAX_BYTES} bytes, refusing it")
    return data
