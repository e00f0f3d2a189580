"""The vfs driver: every layer is a full copy of its parent plus its own changes.

Slow and space-hungry, but works everywhere (no overlay, no fuse): the fallback.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sealpod.storage.whiteouts import WhiteoutFormat
from sealpod.utils.proc import run


class VfsDriver:
    name = "vfs"
    whiteouts = WhiteoutFormat.VFS

    def __init__(self, graph_root: Path, rootless: bool = False) -> None:
        self.rootless = rootless
        self.home = graph_root / "vfs"
        self._dirs = self.home / "dir"
        self._staging = self.home / "staging"

    def prepare(self, layer_id: str, parent_id: str | None) -> Path:
        self._staging.mkdir(parents=True, exist_ok=True)
        staging = self._staging / f"{layer_id}-{os.urandom(4).hex()}"
        if parent_id is None:
            staging.mkdir(mode=0o755)
        else:
            # cp -a keeps hardlinks, xattrs, devices and sparse files, and is far faster
            # than a Python tree walk.
            run(["cp", "-a", "--reflink=auto", os.fspath(self.diff_path(parent_id)), os.fspath(staging)])
        return staging

    def commit(self, layer_id: str, staging: Path, parent_id: str | None) -> None:
        self._dirs.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(self.diff_path(layer_id))
        except OSError:
            if not self.exists(layer_id):
                raise
            self.abort(staging)

    def abort(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def exists(self, layer_id: str) -> bool:
        return self.diff_path(layer_id).is_dir()

    def diff_path(self, layer_id: str) -> Path:
        return self._dirs / layer_id

    def remove(self, layer_id: str) -> None:
        shutil.rmtree(self.diff_path(layer_id), ignore_errors=True)

    def status(self) -> list[tuple[str, str]]:
        return []
