"""Persistent network namespaces: a new netns bind-mounted onto a file under the run root, so
that netavark can configure it before the container exists and runc can join it by path.

Done in-process: a short-lived thread unshares its own network namespace and bind-mounts it,
then ends; the mount keeps the namespace alive.  No ``ip netns``, no helper process.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from sealpod.errors import NetworkError
from sealpod.utils.libc import CLONE_NEWNET, libc

MS_BIND = 4096
MNT_DETACH = 2


def _libc() -> ctypes.CDLL:
    return libc()


def _bind_new_netns(target: bytes, failure: list[str]) -> None:
    libc = _libc()
    if libc.unshare(CLONE_NEWNET) != 0:
        failure.append(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
        return
    if libc.mount(b"/proc/thread-self/ns/net", target, b"none", ctypes.c_ulong(MS_BIND), None) != 0:
        failure.append(f"bind-mounting the network namespace on {target.decode()}: "
                       f"{os.strerror(ctypes.get_errno())}")


def create(path: Path, source: str | None = None) -> Path:
    """A new network namespace (with only a down ``lo``) kept alive by a mount on ``path``; or,
    with ``source`` (``/proc/PID/ns/net``), that process's namespace kept there instead."""
    import threading

    path.parent.mkdir(parents=True, exist_ok=True)
    if is_netns(path):
        remove(path)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
    except OSError as e:
        raise NetworkError(f"creating network namespace file {path}: {e.strerror}") from e
    if source is not None:
        if _libc().mount(os.fsencode(source), os.fsencode(path), b"none", ctypes.c_ulong(MS_BIND), None) != 0:
            err = ctypes.get_errno()
            path.unlink(missing_ok=True)
            raise NetworkError(f"bind-mounting the network namespace {source} on {path}: {os.strerror(err)}")
        return path
    failure: list[str] = []
    # The namespace belongs to the thread that unshared it; that thread then ends, so the
    # process's other threads never run inside it.
    worker = threading.Thread(target=_bind_new_netns, args=(os.fsencode(path), failure), daemon=True)
    worker.start()
    worker.join()
    if failure:
        path.unlink(missing_ok=True)
        raise NetworkError(failure[0])
    return path


def is_netns(path: Path) -> bool:
    """Whether ``path`` holds a mounted namespace (a plain file left by a crash does not)."""
    target = os.fspath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == target for line in f)
    except OSError:
        return False


def remove(path: Path) -> None:
    """Unmount and delete; a namespace that is gone already is not an error (teardown may run twice)."""
    while True:  # a path mounted twice (a crash between two setups) needs two unmounts
        if _libc().umount2(os.fsencode(path), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):
                raise NetworkError(f"unmounting network namespace {path}: {os.strerror(err)}")
            break
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as e:
        raise NetworkError(f"removing network namespace file {path}: {e.strerror}") from e


def set_sysctl(path: Path, key: str, value: str) -> None:
    """Write ``/proc/sys/KEY`` as seen from the network namespace at ``path`` (by a thread that
    joins it and ends): slirp4netns's IPv6 needs ``net.ipv6.conf.default.accept_dad=0`` there
    before its tap device comes up, as Podman sets it, or the address waits for duplicate detection."""
    import threading

    from sealpod.utils.libc import setns

    def work() -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(fd, CLONE_NEWNET)
        finally:
            os.close(fd)
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)

    def guarded() -> None:
        try:
            work()
        except OSError:
            pass  # best effort: the address still comes, later

    worker = threading.Thread(target=guarded, daemon=True)
    worker.start()
    worker.join()
