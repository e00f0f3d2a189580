"""Who an ``exec`` process runs as: Podman 4.3.1's rule, which is not the container process's.

Podman looks the user up afresh for every exec session, in the container's own /etc/passwd and
/etc/group as they are now (the lines it added for a numeric ``--user`` included), and gives the
process only the groups that lookup finds:

- ``exec --user U``: U's uid and gid and, when U has no ``:GROUP`` part, every group of
  /etc/group that lists U's name as a member (its primary group too, if listed); the
  container's ``--group-add`` groups are not added.
- no ``--user``: the container's user (``--user`` or the image's USER) looked up the same way,
  plus the container's ``--group-add`` groups; a container without a user runs exec as root with
  the ``--group-add`` groups alone, or with no supplementary group at all.

So ``exec`` in a ``--user 1000`` container is in group 1000 (the line Podman added to
/etc/group) though the container's process is not, and root's exec is in no group although the
container's process is in all of root's.
"""

from __future__ import annotations

from pathlib import Path

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from sealpod.runtime.etcfiles import GroupEntry, PasswdEntry

_MAX_FILE = 4 << 20  # as large a passwd or group file as anyone has


def exec_user(spec: dict[str, Any], rootfs: Path, userdata: Path, container_user: str, group_add: Sequence[str],
              exec_user_spec: str) -> tuple[dict[str, Any], str | None]:
    """The exec process's ``user`` object (from the container's process ``spec``) and its home
    directory (None: keep the container's $HOME).  ``userdata``: the container's own files, whose
    copies of /etc/passwd and /etc/group (a read-only root's) Podman's lookup does not read."""
    base = dict((spec.get("process") or {}).get("user") or {})
    base.pop("additionalGids", None)
    user = exec_user_spec or container_user
    added = [] if exec_user_spec else [g for g in group_add if g != "keep-groups"]
    if not user and not added:
        return base, None
    passwd, groups = _etc_file(spec, rootfs, userdata, "/etc/passwd"), _etc_file(spec, rootfs, userdata, "/etc/group")
    from sealpod.runtime.etcfiles import parse_group, parse_passwd

    users, table = parse_passwd(passwd), parse_group(groups)
    uid, gid, home, member_of = _lookup(users, table, user or "0")
    gids = [_gid(table, g) for g in added]
    if user:
        gids += member_of
    base.update(uid=uid, gid=gid)
    if gids:
        base["additionalGids"] = list(dict.fromkeys(gids))
    return base, home if exec_user_spec else None


def _lookup(users: list[PasswdEntry], table: list[GroupEntry], spec: str) -> tuple[int, int, str, list[int]]:
    """uid, gid, home and the groups listing the user as a member (none with ``USER:GROUP``)."""
    from sealpod.errors import NoSuchUser

    name, _, group = spec.partition(":")
    name = name or "0"
    entry = next((e for e in users if (e.uid == int(name) if name.isdigit() else e.name == name)), None)
    if entry is None and not name.isdigit():
        raise NoSuchUser(f"unable to find user {name}: no matching entries in passwd file")
    uid = entry.uid if entry is not None else int(name)
    gid = entry.gid if entry is not None else 0
    home = (entry.home if entry is not None else "") or "/"
    if group:
        return uid, _gid(table, group), home, []
    if entry is None:
        return uid, gid, home, []
    return uid, gid, home, [g.gid for g in table if entry.name in g.members]


def _gid(table: list[GroupEntry], spec: str) -> int:
    from sealpod.errors import NoSuchUser

    for g in table:
        if (g.gid == int(spec)) if spec.isdigit() else (g.name == spec):
            return g.gid
    if spec.isdigit():
        return int(spec)
    raise NoSuchUser(f"unable to find group {spec}: no matching entries in group file")


def _etc_file(spec: dict[str, Any], rootfs: Path, userdata: Path, path: str) -> str | None:
    """The file at ``path``: the user's bind mount's source (``-v``), else the one in the root
    filesystem (so not the lines added to a read-only root's copy, as Podman)."""
    from sealpod.runtime.etcfiles import read_in_root

    for mount in reversed(spec.get("mounts") or []):
        source = str(mount.get("source") or "")
        if source.startswith(f"{userdata}/"):
            continue
        if mount.get("destination", "").rstrip("/") == path and mount.get("type") in ("bind", "none"):
            try:
                with open(source, "rb") as f:
                    return f.read(_MAX_FILE).decode("utf-8", errors="replace")
            except OSError:
                return None
    return read_in_root(rootfs, path)
