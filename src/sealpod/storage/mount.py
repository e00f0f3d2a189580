"""mount(2) and umount2(2) through libc: a container start should not spawn /bin/mount."""

from __future__ import annotations

import ctypes
import errno
import os

from sealpod.errors import StorageError
from sealpod.utils.libc import libc

MS_RDONLY = 1
MNT_DETACH = 2


def _libc() -> ctypes.CDLL:
    return libc()


def mount(source: str, target: str, fstype: str, flags: int = 0, data: str = "") -> None:
    """Mount; relative paths in ``data`` (overlay's lowerdir) resolve against the current directory."""
    rc = _libc().mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags),
                       data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise StorageError(f"mounting {fstype} on {target}: {os.strerror(err)}")


def unmount(target: str, detach: bool = False) -> None:
    """Unmount; a target that is not mounted is not an error (cleanup may run twice)."""
    rc = _libc().umount2(target.encode(), MNT_DETACH if detach else 0)
    if rc != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOENT):
            return
        raise StorageError(f"unmounting {target}: {os.strerror(err)}")


def is_mountpoint(path: str) -> bool:
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == path for line in f)
    except OSError:
        return os.path.ismount(path)
