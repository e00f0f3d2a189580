"""Per-container user namespaces: the ``--userns`` modes and ``--uidmap``/``--gidmap`` as id maps.

All host ids here are ids of the namespace sealpod runs in: the host's for root, the pause
process's namespace for a rootless user (where 0 is the user and 1.. its subordinate ids),
which is what runc writes into the container's own uid_map.  Pure logic: the caller supplies
what the namespace holds and which ranges other containers already use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sealpod.errors import InvalidArgument
from sealpod.rootless.idmap import IdMapping
from sealpod.utils.record import dataclass

AUTO_MIN_SIZE = 1024


@dataclass(frozen=True)
class UsernsRequest:
    """What ``--userns`` (and the map flags) asked for, before any allocation."""

    mode: str  # host | keep-id | nomap | auto | ns | private (explicit maps)
    path: str = ""  # ns:PATH
    uid: int | None = None  # keep-id:uid=
    gid: int | None = None  # keep-id:gid=
    size: int | None = None  # auto:size=
    uid_maps: tuple[IdMapping, ...] = ()
    gid_maps: tuple[IdMapping, ...] = ()


def _options(text: str, flag: str, allowed: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for opt in filter(None, text.split(",")):  # Podman's words for each fault
        key, sep, value = opt.partition("=")
        if not sep:
            raise InvalidArgument(f'invalid option specified: "{opt}"')
        if key not in allowed:
            raise InvalidArgument(f'unknown option specified: "{key}"')
        if not value.isdigit():
            raise InvalidArgument(f'strconv.ParseUint: parsing "{value}": invalid syntax')
        out[key] = int(value)
    return out


def parse_idmap_flag(text: str) -> list[IdMapping]:
    """``CONTAINER:HOST:SIZE`` (``/``-separated triples accepted too, as Podman does)."""
    maps = []
    for part in filter(None, text.replace("/", ",").split(",")):
        fields = part.split(":")
        if len(fields) != 3 or not all(f.isdigit() for f in fields) or int(fields[2]) == 0:
            raise InvalidArgument(f'invalid mapping "{part}": must be CONTAINER_ID:HOST_ID:SIZE')
        maps.append(IdMapping(int(fields[0]), int(fields[1]), int(fields[2])))
    return maps


def parse_userns(value: str, uidmap: Sequence[str] = (), gidmap: Sequence[str] = ()) -> UsernsRequest:
    """The request a container's flags make; --uidmap/--gidmap without --userns mean private maps."""
    mode, _, opts = value.partition(":")
    if uidmap or gidmap:
        if mode not in ("", "private"):
            raise InvalidArgument("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")
        uids = [m for t in uidmap for m in parse_idmap_flag(t)]
        gids = [m for t in gidmap for m in parse_idmap_flag(t)]
        return UsernsRequest("private", uid_maps=tuple(uids or gids), gid_maps=tuple(gids or uids))
    if mode in ("", "host"):
        return UsernsRequest("host")
    if mode == "keep-id":
        o = _options(opts, "keep-id", ("uid", "gid"))
        return UsernsRequest("keep-id", uid=o.get("uid"), gid=o.get("gid"))
    if mode == "nomap" and not opts:
        return UsernsRequest("nomap")
    if mode == "auto":
        # uidmapping=/gidmapping=: CONTAINER:HOST:SIZE triples that must be in the namespace, besides the picked range
        extra: dict[str, list[IdMapping]] = {"uidmapping": [], "gidmapping": []}
        plain = []
        for opt in filter(None, opts.split(",")):
            key, _, value = opt.partition("=")
            if key in extra:
                extra[key] += parse_idmap_flag(value)
            else:
                plain.append(opt)
        size = _options(",".join(plain), "auto", ("size",)).get("size")
        if size == 0:
            raise InvalidArgument("invalid option \"size=0\" for --userns=auto")
        return UsernsRequest("auto", size=size, uid_maps=tuple(extra["uidmapping"]),
                             gid_maps=tuple(extra["gidmapping"]))
    if mode == "ns" and opts.startswith("/"):
        return UsernsRequest("ns", path=opts)
    raise InvalidArgument(f'invalid user namespace mode "{value}": use host, keep-id, nomap, auto, ns:PATH')


def keep_id_maps(ns_size: int, outer: int) -> list[IdMapping]:
    """The user's own id (0 here) becomes ``outer`` in the container; the rest shift around it."""
    if not 0 < outer < ns_size:
        raise InvalidArgument(f"cannot keep id {outer}: the user namespace has only {ns_size} ids")
    maps = [IdMapping(0, 1, outer), IdMapping(outer, 0, 1)]
    if ns_size - outer - 1 > 0:
        maps.append(IdMapping(outer + 1, outer + 1, ns_size - outer - 1))
    return maps


def nomap_maps(ns_size: int) -> list[IdMapping]:
    """Everything but the user itself: nothing in the container can be the user's files' owner."""
    if ns_size < 2:
        raise InvalidArgument("--userns=nomap needs subordinate ids in /etc/subuid and /etc/subgid")
    return [IdMapping(0, 1, ns_size - 1)]


def allocate(pool: Sequence[tuple[int, int]], taken: Iterable[tuple[int, int]], size: int) -> int:
    """The lowest start of ``size`` free ids within ``pool`` (start, count ranges), avoiding ``taken``."""
    busy = sorted(taken)
    for start, count in sorted(pool):
        candidate, moved = start, True
        while moved:  # step past every busy range that overlaps the candidate, until none does
            moved = False
            for b_start, b_size in busy:
                if b_start < candidate + size and b_start + b_size > candidate:
                    candidate, moved = b_start + b_size, True
        if candidate + size <= start + count:
            return candidate
    raise InvalidArgument(f"cannot find {size} free ids for --userns=auto: not enough subordinate ids")


def shift_owners(root: str, uid_maps: Sequence[IdMapping], gid_maps: Sequence[IdMapping]) -> int:
    """Give every file under ``root`` the host owner its owner has in the container (the slow path
    where no idmapped mount is used); ids the maps do not hold are left alone.  Returns the count."""
    import os
    import stat

    from sealpod.rootless.idmap import to_host

    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        # walk() lists symlinks to directories among dirnames but never enters them: they are entries here
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in (dirpath, *(os.path.join(dirpath, n) for n in (*links, *filenames))):
            st = os.lstat(name)
            uid, gid = to_host(uid_maps, st.st_uid), to_host(gid_maps, st.st_gid)
            if (uid is None or uid == st.st_uid) and (gid is None or gid == st.st_gid):
                continue
            os.lchown(name, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                os.chmod(name, stat.S_IMODE(st.st_mode))  # chown cleared set-id bits
            count += 1
    return count


def count_files(root: str) -> int:
    """How many entries ``shift_owners`` will look at: the size of the job, for a progress line."""
    import os

    return sum(len(dirnames) + len(filenames) for _, dirnames, filenames in os.walk(root))
