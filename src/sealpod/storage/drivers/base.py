"""The driver Protocol that the layer store sits on.

A driver knows where a layer's files live.  Layer creation is two-phase so that a
failed extraction never leaves a half-written layer: ``prepare`` gives a private
staging directory, ``commit`` moves it into place atomically, ``abort`` throws it away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sealpod.storage.whiteouts import WhiteoutFormat


class Driver(Protocol):
    name: str
    home: Path
    whiteouts: WhiteoutFormat
    rootless: bool  # inside a user namespace: ids beyond the map and device nodes cannot exist

    def prepare(self, layer_id: str, parent_id: str | None) -> Path:
        """Return an empty (overlay) or parent-populated (vfs) staging dir to extract into."""
        ...

    def commit(self, layer_id: str, staging: Path, parent_id: str | None) -> None:
        """Make the staged layer visible under ``layer_id``; it may already exist (a race)."""
        ...

    def abort(self, staging: Path) -> None:
        """Remove a staging dir after a failure."""
        ...

    def exists(self, layer_id: str) -> bool: ...

    def diff_path(self, layer_id: str) -> Path:
        """The directory holding the layer's files (its own diff, or the full tree for vfs)."""
        ...

    def remove(self, layer_id: str) -> None: ...

    def status(self) -> list[tuple[str, str]]:
        """Key/value pairs shown by ``info`` under ``store.graphStatus``."""
        ...
