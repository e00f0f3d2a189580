"""Extracting a tar archive that must stay inside its destination, on every Python 3.11.

``TarFile.extractall(filter=...)`` (PEP 706) arrived in 3.11.4; Debian 12 ships 3.11.2.  Where
the filters exist they are used; elsewhere each member is checked the same way before it is
extracted: no path, and no link target, may leave the destination.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Literal


def extract_all(tar: tarfile.TarFile, dest: Path, *, policy: Literal["tar", "data"]) -> None:
    """``policy``: ``"tar"`` (a volume's contents: owners kept, devices allowed) or ``"data"``
    (an image archive: plain files, directories and links inside ``dest`` only)."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, numeric_owner=policy == "tar", filter=policy)
        return
    root = os.path.realpath(dest)
    for member in tar:  # in order: a streamed archive cannot go back
        member.name = _inside(root, member.name)
        if member.islnk() or (member.issym() and policy == "data"):  # a volume may hold any symlink
            _check_link(root, member, policy)
        if policy == "data" and (member.ischr() or member.isblk() or member.isfifo()):
            raise tarfile.TarError(f"{member.name!r} is a special file")
        tar.extract(member, dest, numeric_owner=policy == "tar")


def _inside(root: str, name: str) -> str:
    stripped = name.lstrip("/")
    target = os.path.realpath(os.path.join(root, stripped))
    if target != root and not target.startswith(root + os.sep):
        raise tarfile.TarError(f"{name!r} would be extracted outside the destination")
    return stripped


def _check_link(root: str, member: tarfile.TarInfo, policy: str) -> None:
    link = member.linkname
    if os.path.isabs(link) and (member.issym() or policy == "data"):
        raise tarfile.TarError(f"{member.name!r} is a link to an absolute path")
    if member.issym():
        link = os.path.join(os.path.dirname(member.name), link)
    target = os.path.realpath(os.path.join(root, link.lstrip("/")))
    if target != root and not target.startswith(root + os.sep):
        raise tarfile.TarError(f"{member.name!r} links outside the destination")
