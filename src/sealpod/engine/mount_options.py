"""The options of a container's bind, volume and tmpfs mounts: their checks, and overlay volumes.

Podman refuses contradictory or unknown options (``ro,rw``, ``z,Z``, ``foo``) when the container
is created, whichever front end made it, so the same checks run here in the engine.  ``O`` (an
overlay on a bind source or a named volume) is made by the runtime: the source is the lower layer,
the changes go to an upper directory that is the user's (``upperdir=``/``workdir=``) or one of
the container's own, thrown away when the container stops.
"""

from __future__ import annotations

import os

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sealpod.engine.container_config import MountSpec

_PROPAGATION = ("shared", "rshared", "private", "rprivate", "slave", "rslave", "unbindable", "runbindable")
#: Option → (its group, the words of Podman's error for a group given twice), for -v and binds.
_BIND_GROUPS: dict[str, tuple[str, str]] = {
    **{o: ("rw", "'rw' or 'ro'") for o in ("rw", "ro")},
    **{o: ("label", "'z', 'Z', or 'O'") for o in ("z", "Z", "O")},
    **{o: ("propagation", "'[r]shared', '[r]private', '[r]slave' or '[r]unbindable'") for o in _PROPAGATION},
    **{o: ("suid", "'nosuid' or 'suid'") for o in ("nosuid", "suid")},
    **{o: ("exec", "'noexec' or 'exec'") for o in ("noexec", "exec")},
    **{o: ("dev", "'nodev' or 'dev'") for o in ("nodev", "dev")},
    "U": ("U", "'U'"),
    **{o: ("copy", "'copy' or 'nocopy'") for o in ("copy", "nocopy")},
    **{o: ("bind", "'[r]bind'") for o in ("bind", "rbind")},
}
#: Options of -v with no group: accepted, of no effect here, or handled elsewhere.
_BIND_FREE = frozenset({"idmap", "cached", "delegated"})
#: Option → (its group, Podman's words) for tmpfs mounts.
_TMPFS_GROUPS: dict[str, tuple[str, str]] = {
    **{o: ("rw", "only one of 'rw' and 'ro' can be used") for o in ("rw", "ro")},
    **{o: ("exec", "only one of 'noexec' and 'exec' can be used") for o in ("noexec", "exec")},
    **{o: ("suid", "only one of 'nosuid' and 'suid' can be used") for o in ("nosuid", "suid")},
    **{o: ("dev", "only one of 'nodev' and 'dev' can be used") for o in ("nodev", "dev")},
    **{o: ("propagation", "only one root propagation mode can be used") for o in _PROPAGATION},
    **{o: ("copyup", "the 'tmpcopyup' or 'notmpcopyup' option can only be set once")
       for o in ("tmpcopyup", "notmpcopyup")},
    "U": ("U", "the 'U' option can only be set once"),
}


def check_mount_options(mount: MountSpec) -> None:
    """InvalidArgument for options Podman refuses on this kind of mount."""
    if mount.type == "tmpfs":
        _check_tmpfs(mount.options)
    elif mount.type in ("bind", "volume"):
        _check_bind(mount.options)


def _check_bind(options: Sequence[str]) -> None:
    own = [o for o in options if not o.startswith("volume-opt=")]  # --mount's volume options, for its create
    listed = ", ".join(own)
    seen: dict[str, str] = {}
    overlay = "O" in own
    for opt in own:
        key = opt.partition("=")[0]
        if key in ("upperdir", "workdir"):
            if not overlay:
                raise InvalidArgument(f'unknown mount option "{opt}": invalid mount option')
            if key in seen:
                raise InvalidArgument(f'invalid options "{listed}", can only specify 1 {key} per overlay')
            seen[key] = opt
            continue
        if opt in _BIND_FREE or key == "idmap":
            if overlay:
                raise InvalidArgument("can't use 'O' with other options")
            continue
        if opt not in _BIND_GROUPS:
            raise InvalidArgument(f'invalid option type "{opt}"')
        group, words = _BIND_GROUPS[opt]
        if group in seen:
            raise InvalidArgument(f'invalid options "{listed}", can only specify 1 {words} option')
        seen[group] = opt
        if overlay and opt not in ("O", "U"):
            raise InvalidArgument("can't use 'O' with other options")
    if overlay and ("upperdir" in seen) != ("workdir" in seen):
        raise InvalidArgument("must set both `upperdir` and `workdir`")


def _check_tmpfs(options: Sequence[str]) -> None:
    seen: set[str] = set()
    for opt in options:
        key = opt.partition("=")[0]
        if opt in ("bind", "rbind"):
            raise InvalidArgument("the 'bind' and 'rbind' options are not allowed with tmpfs mounts: "
                                  "invalid mount option")
        if opt in ("z", "Z"):
            raise InvalidArgument("the 'z' and 'Z' options are not allowed with tmpfs mounts: invalid mount option")
        if key in ("size", "mode"):
            group, words = key, ("only one tmpfs size can be specified" if key == "size"
                                 else "only one tmpfs mode can be specified")
        elif opt in _TMPFS_GROUPS:
            group, words = _TMPFS_GROUPS[opt]
        else:
            raise InvalidArgument(f'unknown mount option "{opt}": invalid mount option')
        if group in seen:
            raise InvalidArgument(f"{words}: duplicate mount option passed")
        seen.add(group)


def is_overlay(mount: MountSpec) -> bool:
    """``-v SRC:DEST:O``: the source seen through an overlay whose changes are not written to it."""
    return mount.type in ("bind", "volume") and "O" in mount.options


def overlay_volume_options(userdata: Path, index: int, lower: str, options: Sequence[str],
                           uid: int = 0, gid: int = 0) -> tuple[str, ...]:
    """The runtime's overlay options for one ``O`` mount; a fresh upper directory of the container's
    own (its ``overlay/INDEX``, removed when the container stops) unless the user named one."""
    import shutil

    given = dict(o.split("=", 1) for o in options if o.startswith(("upperdir=", "workdir=")))
    if given:
        upper, work = given["upperdir"], given["workdir"]
        for path in (upper, work):
            if not os.path.isdir(path):
                raise InvalidArgument(f"overlay: {path}: no such directory")
    else:
        base = userdata / "overlay" / str(index)
        shutil.rmtree(base, ignore_errors=True)
        (base / "upper").mkdir(parents=True)
        (base / "work").mkdir()
        upper, work = os.fspath(base / "upper"), os.fspath(base / "work")
        if "U" in options:
            os.chown(upper, uid, gid)
        else:  # the merged root looks as the source does: the upper directory's owner and mode win
            st = os.stat(lower)
            os.chown(upper, st.st_uid, st.st_gid)
            os.chmod(upper, st.st_mode & 0o7777)
    return (f"lowerdir={lower}", f"upperdir={upper}", f"workdir={work}", "rw", "private")


def chown_tree(path: str, uid: int, gid: int) -> None:
    """``U``: the mount's source and everything under it become the container user's (its host ids),
    as Podman chowns them at a start; symlinks themselves, never what they point to.  A source whose
    top already belongs to the user is left alone, as Podman leaves it: a file chowned inside since
    keeps its owner (160-volumes.bats)."""
    st = os.lstat(path)
    if (st.st_uid, st.st_gid) == (uid, gid):
        return
    os.lchown(path, uid, gid)
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def driver_options(options: Sequence[str]) -> dict[str, str]:
    """``--mount type=volume,volume-opt=K=V``: the options of the volume it creates."""
    out: dict[str, str] = {}
    for opt in options:
        if opt.startswith("volume-opt="):
            key, _, value = opt[len("volume-opt="):].partition("=")
            out[key] = value
    return out
