"""The C library, for the few system calls Python's os module lacks (mount, umount2, setns, unshare).

Why not ``ctypes.util.find_library("c")``: on Linux it runs ``ldconfig -p`` (a fork and exec on
every command that mounts); the process already has libc loaded, so its own symbols suffice.
"""

from __future__ import annotations

import ctypes
from functools import cache


@cache
def libc() -> ctypes.CDLL:
    """libc with errno kept, so failures can be reported with their reason."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:  # a statically linked interpreter: fall back to the library by name
        return ctypes.CDLL("libc.so.6", use_errno=True)
