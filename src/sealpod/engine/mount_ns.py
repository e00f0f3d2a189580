"""Work done inside a running container's mount namespace (``cp`` to or from a live container).

A running container sees more than its root: tmpfs mounts, volumes, binds and whatever its
processes mounted.  Rather than guess that tree from the host, a forked child joins the
container's mount namespace with setns(2) (which also makes the container's root its ``/``,
so no path or symlink can lead back to the host) and runs a function there, as Podman joins
the namespace for ``cp``.  The child is forked because a process with threads may not change
its mount namespace; its result or exception comes back pickled through a pipe.

Everything the function needs must be imported before the fork: after setns the host's
Python library is out of sight.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence

from sealpod.errors import ContainerStateInvalid, SealpodError
from sealpod.utils.libc import CLONE_NEWNS, libc, setns

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

def preload_for_copy() -> None:
    """Import what the tar reader/writer may import lazily, while the host's library is in sight."""
    import json  # noqa: F401
    import zlib  # noqa: F401

    import sealpod.storage.tarlayer  # noqa: F401
    import sealpod.storage.tarwriter  # noqa: F401
    import sealpod.utils.tarsafe  # noqa: F401

    try:
        from isal import isal_zlib  # noqa: F401
    except ImportError:
        pass


class NsChild:
    """A forked child running ``fn`` in the mount namespace of ``pid``; :meth:`result` waits for it."""

    def __init__(self, pid: int, fn: Callable[[], Any], close_in_child: Sequence[int] = ()) -> None:
        try:
            ns_fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise ContainerStateInvalid(f"joining the mount namespace of process {pid}: "
                                        f"{e.strerror.lower() if e.strerror else e}") from None
        libc()  # loaded (and every import done) before the fork: another thread may hold the import lock
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.child = os.fork()
        if self.child == 0:  # pragma: no cover - the child never returns
            os.close(rfd)
            for fd in close_in_child:
                os.close(fd)
            _child_main(ns_fd, wfd, fn)
        os.close(ns_fd)
        os.close(wfd)
        self._rfd = rfd

    def result(self) -> Any:
        """The function's return value; its exception is raised here."""
        chunks = []
        with open(self._rfd, "rb") as r:
            while chunk := r.read(65536):
                chunks.append(chunk)
        os.waitpid(self.child, 0)
        try:
            kind, value, text = pickle.loads(b"".join(chunks))
        except Exception:
            raise SealpodError("copying in the container's mount namespace: the helper process failed") from None
        if kind == "ok":
            return value
        try:
            exc = pickle.loads(value)
        except Exception:
            exc = None
        if isinstance(exc, BaseException):
            raise exc
        raise SealpodError(text)


def _child_main(ns_fd: int, wfd: int, fn: Callable[[], Any]) -> None:  # pragma: no cover
    code = 0
    try:
        try:
            _setns(ns_fd)
            os.chdir("/")
            payload = ("ok", fn(), "")
        except BaseException as e:
            payload = ("err", _pickled(e), str(e))
        try:
            data = pickle.dumps(payload)
        except Exception as e:
            data = pickle.dumps(("err", b"", f"copying in the container's mount namespace: {e}"))
        with open(wfd, "wb") as w:
            w.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _pickled(e: BaseException) -> bytes:
    try:
        data = pickle.dumps(e)
        pickle.loads(data)
        return data
    except Exception:
        return b""


def _setns(fd: int) -> None:
    try:
        setns(fd, CLONE_NEWNS)
    except OSError as e:
        raise ContainerStateInvalid(f"joining the container's mount namespace: {e.strerror}") from None


def call_in_mount_ns(pid: int, fn: Callable[[], Any]) -> Any:
    """``fn()`` run in the mount namespace of ``pid``, its result returned (or exception raised)."""
    return NsChild(pid, fn).result()
