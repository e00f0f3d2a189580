"""The overlay driver: each layer is one directory; a root filesystem stacks them.

Layer directories are named by chain ID (64 hex characters).  An image of 100+ layers
would overflow the one-page limit of overlay mount options, so every layer also gets a
short symlink ``l/<26 chars>`` -> ``../<id>/diff`` and mounts name lower dirs by those
short links relative to the driver's home (the ``l/`` trick of containers/storage).
"""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.storage.whiteouts import WhiteoutFormat


class OverlayDriver:
    name = "overlay"
    whiteouts = WhiteoutFormat.OVERLAY

    def __init__(self, graph_root: Path, rootless: bool = False) -> None:
        self.rootless = rootless
        self.home = graph_root / "overlay"
        self._links = self.home / "l"
        self._staging = self.home / "staging"

    def prepare(self, layer_id: str, parent_id: str | None) -> Path:
        staging = self._staging / f"{layer_id}-{os.urandom(4).hex()}"
        (staging / "diff").mkdir(parents=True, mode=0o755)
        return staging / "diff"

    def commit(self, layer_id: str, staging: Path, parent_id: str | None) -> None:
        layer_dir = staging.parent
        import base64

        short = base64.b32encode(os.urandom(16)).decode().rstrip("=")[:26]
        (layer_dir / "link").write_text(short)
        self._links.mkdir(parents=True, exist_ok=True)
        try:
            if self.exists(layer_id) and not self.diff_path(layer_id).is_dir():
                self.remove(layer_id)  # a damaged copy (its files gone): this one replaces it
            layer_dir.rename(self.home / layer_id)
        except OSError:
            if not self.exists(layer_id):
                raise
            self.abort(staging)
            return
        os.symlink(f"../{layer_id}/diff", self._links / short)

    def abort(self, staging: Path) -> None:
        import shutil

        shutil.rmtree(staging.parent, ignore_errors=True)

    def exists(self, layer_id: str) -> bool:
        return (self.home / layer_id / "link").is_file()

    def diff_path(self, layer_id: str) -> Path:
        return self.home / layer_id / "diff"

    def lower_dirs(self, chain: list[str]) -> list[str]:
        """Short-link paths (relative to ``home``) of the given layers, in the order given.

        Layers of one image are extracted in parallel and committed in any order, so
        the chain comes from the layer store rather than from files written at commit.
        """
        return [f"l/{(self.home / layer_id / 'link').read_text()}" for layer_id in chain]

    def remove(self, layer_id: str) -> None:
        layer_dir = self.home / layer_id
        try:
            short = (layer_dir / "link").read_text()
            (self._links / short).unlink(missing_ok=True)
        except (FileNotFoundError, NotADirectoryError):
            pass
        import shutil

        shutil.rmtree(layer_dir, ignore_errors=True)

    def status(self) -> list[tuple[str, str]]:
        return [("Backing Filesystem", _fs_type(self.home)), ("Native Overlay Diff", "true"),
                ("Supports d_type", "true"), ("Using metacopy", "false")]


def _fs_type(path: Path) -> str:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    best, fstype = "", "unknown"
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and os.fspath(probe).startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
    except OSError:
        pass
    # containers/storage names the filesystem by its magic number, not as /proc/mounts does
    names = {"ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs", "nfs4": "nfs"}
    return names.get(fstype, fstype)
