"""The C library, for the few system calls Python's os module lacks (mount, umount2, setns, unshare).

Why not ``ctypes.util.find_library("c")``: on Linux it runs ``ldconfig -p`` (a fork and exec on
every command that mounts); the process already has libc loaded, so its own symbols suffice.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache


@cache
def libc() -> ctypes.CDLL:
    """libc with errno kept, so failures can be reported with their reason."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # a statically linked interpreter: fall back to the library by name
        return ctypes.CDLL("libc.so.6", use_errno=True)


# Namespace types of clone(2)/setns(2)/unshare(2) (os has them only from Python 3.12).
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def setns(fd: int, nstype: int) -> None:
    """Join the namespace ``fd`` refers to; OSError with the reason when the kernel refuses."""
    if libc().setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
