"""The pause process: a standalone helper that creates and then holds the rootless namespaces.

Run as ``python -I -S pause.py sealpod-pause`` (it imports nothing from sealpod, so it
starts in a few milliseconds and is identifiable in ``ps``).  The protocol with its parent
(rootless/userns.py) is line-based on stdin/stdout:

1. it unshares a user and a mount namespace and says ``ready``;
2. the parent writes the id maps with newuidmap/newgidmap and answers ``go``;
3. it makes its mounts slaves of the host's, says ``done``, detaches from its pipes and
   sleeps until killed.  Every sealpod command of the user joins its namespaces with setns.
"""

import ctypes
import os
import signal
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_SLAVE = 1 << 19
MARKER = "sealpod-pause"


def _say(text: str) -> None:
    os.write(1, (text + "\n").encode())


def main() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    os.chdir("/")
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        _say("error unshare: " + os.strerror(ctypes.get_errno()))
        return 1
    _say("ready")
    if sys.stdin.readline().strip() != "go":
        return 1
    # Mounts made by the host after this point (a new USB disk, a bind) still show up here.
    libc.mount(b"none", b"/", None, MS_REC | MS_SLAVE, None)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    _say("done")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
