"""Idmapped mounts: a view of a directory tree in which file owners are shifted by id maps,
without rewriting a single inode (``mount_setattr(2)`` with ``MOUNT_ATTR_IDMAP``).

A container with its own user namespace (``--userns=auto``, ``keep-id``, ``--uidmap``) needs its
image's files owned by the ids its root maps to.  Chowning a copy of every file is slow and
doubles the disk use; an idmapped mount of each image layer gives the same view for free.

How: ``open_tree(OPEN_TREE_CLONE)`` makes a detached copy of the mount, ``mount_setattr`` sets
the id maps of a user namespace on it (the kernel takes them from a namespace file, so a short
lived child is put in a fresh user namespace, its maps written, its ``ns/user`` opened), and
``move_mount`` attaches it.  The kernel allows it only where the filesystem supports idmapped
mounts (ext4, xfs, btrfs, tmpfs since 6.3; not overlayfs itself) and the caller has
CAP_SYS_ADMIN over the filesystem's superblock, i.e. root on the host: for a rootless user the
layer directories belong to the host's superblock, and the kernel says EPERM.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sealpod.rootless.idmap import IdMapping

# New system calls have one number on every architecture that uses the generic table (x86_64 too).
_SYSCALLS = {"x86_64": (428, 429, 442), "aarch64": (428, 429, 442)}  # open_tree, move_mount, mount_setattr
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
DISABLE_ENV = "SEALPOD_IDMAP"  # test and debug switch: "0" forces the chown-copy fallback


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def disabled_by(env: Mapping[str, str]) -> bool:
    """Whether the user (or a test) turned idmapped mounts off with ``SEALPOD_IDMAP=0``."""
    return env.get(DISABLE_ENV, "").strip().lower() in ("0", "false", "no", "off")


def _numbers() -> tuple[int, int, int]:
    machine = os.uname().machine  # what platform.machine() says, without importing platform
    nums = _SYSCALLS.get(machine)
    if nums is None:
        raise OSError(errno.ENOSYS, f"idmapped mounts are not known on {machine}")
    return nums


def _syscall(number: int, *args: object) -> int:
    from sealpod.utils.libc import libc

    fn = libc().syscall
    fn.restype = ctypes.c_long
    rc = int(fn(ctypes.c_long(number), *args))
    if rc < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return rc


def _map_text(maps: Sequence[IdMapping]) -> str:
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)


def userns_fd(uid_maps: Sequence[IdMapping], gid_maps: Sequence[IdMapping]) -> int:
    """An fd of a new user namespace with these maps (the caller closes it).

    A forked child unshares and waits on a pipe; the maps are written as runc writes them (the
    writer is privileged over the parent namespace, so any ids of it are allowed); once the
    namespace file is open the child may go: the fd keeps the namespace.
    """
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only unshares and waits
        try:
            os.close(ready_r)
            os.close(go_w)
            from sealpod.utils.libc import CLONE_NEWUSER, libc

            ok = libc().unshare(CLONE_NEWUSER) == 0
            os.write(ready_w, b"1" if ok else b"0")
            os.read(go_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(go_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError(errno.EPERM, "cannot create a user namespace for the id maps")
        Path(f"/proc/{pid}/uid_map").write_text(_map_text(uid_maps))
        Path(f"/proc/{pid}/gid_map").write_text(_map_text(gid_maps or uid_maps))
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(go_w)
        os.waitpid(pid, 0)


def idmap_tree(source: str | Path, target: str | Path, ns_fd: int) -> None:
    """Attach on ``target`` a recursive copy of the mount tree at ``source``, owners shifted by
    the maps of the user namespace ``ns_fd``.  Raises OSError with the kernel's errno (EINVAL:
    the filesystem cannot be idmapped; EPERM: not ours to idmap; ENOSYS: too old a kernel)."""
    open_tree, move_mount, mount_setattr = _numbers()
    tree = _syscall(open_tree, ctypes.c_int(AT_FDCWD), os.fsencode(source),
                    ctypes.c_uint(OPEN_TREE_CLONE | os.O_CLOEXEC | AT_RECURSIVE))
    try:
        attr = _MountAttr(MOUNT_ATTR_IDMAP, 0, 0, ns_fd)
        _syscall(mount_setattr, ctypes.c_int(tree), b"", ctypes.c_uint(AT_EMPTY_PATH | AT_RECURSIVE),
                 ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
        _syscall(move_mount, ctypes.c_int(tree), b"", ctypes.c_int(AT_FDCWD), os.fsencode(target),
                 ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
    finally:
        os.close(tree)


def idmap_dirs(sources: Sequence[Path], targets: Sequence[Path], uid_maps: Sequence[IdMapping],
               gid_maps: Sequence[IdMapping]) -> None:
    """Idmapped views of each source on its target (made when missing); all or none: on a
    failure the ones made are detached again and the OSError is raised."""
    from sealpod.utils.libc import libc

    fd = userns_fd(uid_maps, gid_maps)
    done: list[Path] = []
    try:
        for source, target in zip(sources, targets, strict=True):
            target.mkdir(parents=True, exist_ok=True)
            idmap_tree(source, target, fd)
            done.append(target)
    except OSError:
        for target in done:
            libc().umount2(os.fsencode(target), 2)  # MNT_DETACH
        raise
    finally:
        os.close(fd)


def unsupported(err: OSError) -> bool:
    """Whether a failure means "this kernel, filesystem or user cannot idmap" (use the fallback)
    rather than a fault worth reporting."""
    return err.errno in (errno.EINVAL, errno.EPERM, errno.ENOSYS, errno.EOPNOTSUPP, errno.EACCES)
