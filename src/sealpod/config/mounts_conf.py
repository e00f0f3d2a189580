"""mounts.conf (containers-mounts.conf(5)): host paths whose content every container gets a copy of.

One ``/SRC:/DST`` a line (``#`` starts a comment).  Subscription data and build secrets are passed
this way: Podman and Buildah copy the content into the container's run directory rather than
bind-mounting the host path, so a container can neither change nor keep a hold on the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def read_mounts_conf(files: Iterable[Path]) -> list[tuple[str, str]]:
    """The (host source, container destination) pairs of the files in order; a destination named
    twice keeps its first source, and a file that does not exist adds nothing."""
    pairs: dict[str, str] = {}
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            src, sep, dest = line.partition(":")
            if sep and src.strip() and dest.strip():
                pairs.setdefault(dest.strip(), src.strip())
    return [(src, dest) for dest, src in pairs.items()]
