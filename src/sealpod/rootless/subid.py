"""/etc/subuid and /etc/subgid: the subordinate id ranges an administrator granted a user.

newuidmap/newgidmap enforce these files; we read them only to know what to ask for.  An
entry names the user by login name or by numeric uid (shadow accepts both), and a user may
have several ranges, which are used in file order.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sealpod.utils.record import dataclass

SUBUID_FILE = Path("/etc/subuid")
SUBGID_FILE = Path("/etc/subgid")


@dataclass(frozen=True)
class SubIdRange:
    """``count`` host ids starting at ``start``."""

    start: int
    count: int

    @property
    def end(self) -> int:
        """One past the last id of the range."""
        return self.start + self.count


def parse_subid_lines(lines: Iterable[str], name: str, uid: int | None = None) -> list[SubIdRange]:
    """The ranges granted to ``name`` (or to its numeric ``uid``), in file order.

    Comments, blank lines and malformed entries are skipped rather than fatal: the
    file is the administrator's, and one bad line must not lock every user out.
    """
    owners = {name} | ({str(uid)} if uid is not None else set())
    found: list[SubIdRange] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or parts[0] not in owners:
            continue
        start, count = parts[1].strip(), parts[2].strip()
        if not (start.isdigit() and count.isdigit()) or int(count) == 0:
            continue
        found.append(SubIdRange(int(start), int(count)))
    return found


def read_subids(path: Path, name: str, uid: int | None = None) -> list[SubIdRange]:
    """The ranges of ``name``/``uid`` in ``path``; none when the file does not exist."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return parse_subid_lines(text.splitlines(), name, uid)


def user_name(uid: int) -> str:
    """The login name of ``uid`` (its number when passwd has no entry, as in some containers)."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    """The login name of the user whose primary group is ``gid`` is what subgid is keyed by."""
    return user_name(gid)
