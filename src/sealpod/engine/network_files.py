"""A running container's /etc/hosts and resolv.conf, kept in step with ``network connect`` and
``disconnect`` as Podman keeps them.

Both files are bind-mounted into the container, so they are rewritten in place (same inode),
never replaced; lines the user or the image added stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord


def update_hosts(path: Path, rec: ContainerRecord, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
    """Lines for the addresses in ``add`` (the container's own names), none for those in ``remove``."""
    cfg = ContainerConfig.from_json(rec.config)
    if cfg.no_hosts:
        return
    names = " ".join(n for n in (cfg.hostname or rec.id[:12], rec.name) if n)  # both, even if equal: Podman's
    try:
        with open(path, "r+", encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines(keepends=True)
                     if not (line.split()[:1] and line.split()[0] in remove)]
            lines += [f"{ip}\t{names}\n" for ip in add]
            f.seek(0)
            f.write("".join(lines))
            f.truncate()
    except OSError:
        pass  # a container without its own hosts file (--no-hosts, or one sharing another's)


def update_resolv(path: Path, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
    """The DNS server of a network joined while running goes first (its aardvark-dns alone knows
    that network's names); a left network's server goes away."""
    if not add and not remove:
        return
    try:
        with open(path, "r+", encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
            present = {line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1}
            lines = [line for line in lines
                     if not (line.startswith("nameserver") and line.split()[1:2] and line.split()[1] in remove)]
            new = [f"nameserver {server}\n" for server in dict.fromkeys(add) if server not in present]
            first = next((i for i, line in enumerate(lines) if line.startswith("nameserver")), len(lines))
            lines[first:first] = new
            f.seek(0)
            f.write("".join(lines))
            f.truncate()
    except OSError:
        pass  # no resolv.conf of its own (it shares another container's network)


__all__ = ["update_hosts", "update_resolv"]
