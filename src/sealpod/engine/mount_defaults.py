"""The options Podman adds to a container's mounts where the user said nothing.

A tmpfs is ``rw,nosuid,nodev,rprivate,tmpcopyup`` unless told otherwise; a volume is mounted
``nosuid,nodev``; a bind mount keeps the ``noexec``, ``nosuid`` and ``nodev`` of the filesystem
its source lives on (a remount of the bind for ``ro`` would otherwise drop them); and the files
the engine itself binds in (/etc/hosts, /etc/hostname, /etc/resolv.conf, /run/.containerenv,
/etc/localtime) become ``ro,nosuid,noexec,nodev`` in a ``--read-only`` container, so that
nothing in it stays writable but its tmpfs scratch space.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.container_config import ContainerConfig

#: Each flag Podman may add, in its order, with the option that says the user decided already (either way).
_FLAGS = (("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev"))
_ST_NOEXEC, _ST_NOSUID, _ST_NODEV = 0x8, 0x2, 0x4  # statvfs f_flag bits (ST_NOEXEC, ST_NOSUID, ST_NODEV)
PROPAGATIONS = frozenset({"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"})


def _given(options: Sequence[str]) -> set[str]:
    return {o.partition("=")[0] for o in options}


def volume_options(options: Sequence[str]) -> list[str]:
    """A named or anonymous volume's bind options with ``nosuid,nodev`` unless ``suid``/``dev`` was asked."""
    given = _given(options)
    out = list(options)
    out += [flag for flag, opposite in _FLAGS[1:] if flag not in given and opposite not in given]
    return out


def bind_options(source: str, options: Sequence[str]) -> list[str]:
    """A host bind's options plus the nosuid/nodev/noexec its source's filesystem is mounted with."""
    try:
        flags = os.statvfs(source).f_flag
    except OSError:
        return list(options)
    given = _given(options)
    out = list(options)
    for (flag, opposite), bit in zip(_FLAGS, (_ST_NOEXEC, _ST_NOSUID, _ST_NODEV), strict=True):
        if flags & bit and flag not in given and opposite not in given:
            out.append(flag)
    return out


def stored_options(kind: str, source: str, options: Sequence[str], read_only: bool) -> list[str]:
    """A bind's or volume's options as Podman keeps them from create on (``inspect`` shows them):
    the user's, in their order, then ``rw``, ``rprivate``, the nosuid/nodev/noexec defaults and
    ``rbind`` wherever the user chose none of their kind."""
    opts = [o for o in options if o != "consistency"]
    if read_only and "ro" not in opts:
        opts.append("ro")
    given = _given(opts)
    if not given & {"ro", "rw"}:
        opts.append("rw")
    if not given & PROPAGATIONS:
        opts.append("rprivate")
    opts = bind_options(source, opts) if kind == "bind" else volume_options(opts)
    if not given & {"bind", "rbind"}:
        opts.append("rbind")
    return opts


def tmpfs_options(options: Sequence[str]) -> tuple[str, ...]:
    """A tmpfs mount's options with Podman's defaults where the user said nothing: rw, nosuid,
    nodev, private propagation, and the image's content copied up (unless ``notmpcopyup``)."""
    opts = [o for o in options if o not in ("notmpcopyup", "ro", "rw")]
    opts.insert(0, "ro" if "ro" in options else "rw")
    for default, opposite in (("nosuid", "suid"), ("nodev", "dev"), ("tmpcopyup", "notmpcopyup")):
        if default not in opts and opposite not in options:
            opts.append(default)
    if not any(o in opts for o in ("rprivate", "private", "rshared", "shared", "rslave", "slave")):
        opts.append("rprivate")
    return tuple(opts)


def engine_file_options(read_only: bool) -> tuple[str, ...]:
    """The options of a file the engine binds in (hosts, hostname, resolv.conf, .containerenv, localtime)."""
    if read_only:  # a plain bind, as Podman's: a file has no submounts to recurse into
        return "bind", "rprivate", "ro", "nosuid", "noexec", "nodev"
    return "bind", "rprivate"


def wants_containerenv(cfg: ContainerConfig) -> bool:
    """Whether /run/.containerenv is bound in: not when the user mounts anything at /run or at the
    file itself, nor when ``--read-only`` gives /run a tmpfs (the image's own file shows there), as
    Podman leaves it out then."""
    for m in cfg.mounts:
        if m.destination.rstrip("/") in ("/run", "/run/.containerenv"):
            return False
    return not (cfg.read_only and cfg.read_only_tmpfs)
