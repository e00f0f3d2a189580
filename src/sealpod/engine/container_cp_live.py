"""``cp`` to and from a running container: the container side is done in its mount namespace.

A running container's tmpfs mounts, volumes and binds (and anything its processes mounted)
are only seen from inside; so the container's paths are resolved, checked and read or
written by a child in that namespace (:mod:`sealpod.engine.mount_ns`), with ``/`` as the
root, while the host side stays in this process.  A tar stream on a pipe joins the two, as in
the copy of a stopped container, and the checks and messages are the same.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.engine import container_files as cf
from sealpod.engine.mount_ns import NsChild, call_in_mount_ns, preload_for_copy
from sealpod.errors import InvalidArgument, NotFound

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

    from sealpod.engine.container_state import ContainerRecord


def live_pid(rec: ContainerRecord) -> int:
    """The process whose mount namespace holds a running (or paused) container's tree; 0 if none."""
    from sealpod.engine.container_state import State

    if rec.state not in (State.RUNNING, State.PAUSED) or rec.pid <= 0:
        return 0
    return rec.pid if os.path.exists(f"/proc/{rec.pid}/ns/mnt") else 0


def copy_out(rec: ContainerRecord, pid: int, name: str, path: str, *, out: BinaryIO | None,
             dest: str | None, overwrite: bool) -> None:
    """``cp CTR:PATH -`` or ``cp CTR:PATH HOSTPATH`` from a running container."""
    from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer
    from sealpod.storage.tarwriter import resolve_in_root

    preload_for_copy()
    inside = cf._in_workdir(rec, path)
    contents = path.endswith("/.") or path in ("/", ".")

    def probe() -> bool:
        src = resolve_in_root("/", inside)
        if not os.path.lexists(src):
            raise NotFound(f'"{path}" could not be found on container {name}: no such file or directory')
        return cf._is_dir(src)

    is_dir = bool(call_in_mount_ns(pid, probe))
    skip = _kernel_mounts(pid) if is_dir else frozenset()
    if out is not None:  # the child writes a pipe, this process copies it on: ``out`` may be any file object
        rfd, wfd = os.pipe()

        def to_pipe() -> None:
            with open(wfd, "wb") as w:
                cf._write_source(resolve_in_root("/", inside), w, "" if contents else cf._base(path, "."), contents,
                                 skip=skip)

        child = NsChild(pid, to_pipe, close_in_child=[rfd])
        os.close(wfd)
        with open(rfd, "rb") as r:
            while chunk := r.read(1 << 16):
                out.write(chunk)
        child.result()
        return
    assert dest is not None
    target_dir, arcname = cf._host_target(is_dir, path, dest, contents)
    cf._check_host_overwrite(is_dir, target_dir, arcname, overwrite)
    rfd, wfd = os.pipe()

    def produce() -> None:
        with open(wfd, "wb") as w:
            cf._write_source(resolve_in_root("/", inside), w, arcname, contents and not arcname,
                             skip=skip)

    child = NsChild(pid, produce, close_in_child=[rfd])
    os.close(wfd)
    mine: BaseException | None = None
    try:
        with open(rfd, "rb") as r:
            extract_layer(r, Path(target_dir), whiteouts=WhiteoutFormat.VFS)
    except Exception as e:
        mine = e
    _settle(child, mine, producer_is_child=True)


#: Filesystems whose files are the kernel's view, not the container's content.
_KERNEL_FS = frozenset({"proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "devtmpfs", "securityfs",
                        "debugfs", "tracefs", "bpf", "fusectl", "configfs", "pstore"})


def _kernel_mounts(pid: int) -> frozenset[str]:
    """Where the container's /proc, /sys and /dev (and their sub-mounts) are, read from the host
    (its process's mountinfo names them as the container sees them); a copy of a directory above
    them leaves them out, as Podman's does."""
    out: set[str] = set()
    try:
        with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.split()
                if " - " not in line or len(fields) < 5:
                    continue
                fstype = line.split(" - ", 1)[1].split()[0]
                point = fields[4].replace("\\040", " ")
                if fstype in _KERNEL_FS or point == "/dev":
                    out.add(point)
    except OSError:
        pass
    return frozenset(out)


def copy_in(files: cf.ContainerFiles, rec: ContainerRecord, pid: int, name: str, path: str, *,
            src: str | None, stream: BinaryIO | None, archive: bool, overwrite: bool) -> None:
    """``cp HOSTPATH CTR:PATH`` or ``cp - CTR:DIR`` into a running container."""
    from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer
    from sealpod.storage.tarwriter import resolve_in_root

    preload_for_copy()
    path = cf._in_workdir(rec, path)
    if stream is not None:  # this process feeds the child a pipe: ``stream`` may be any file object
        rfd, wfd = os.pipe()

        def from_pipe() -> None:
            resolved = resolve_in_root("/", path)
            if not os.path.isdir(resolved):
                raise InvalidArgument("destination must be a directory when copying from stdin")
            with open(rfd, "rb") as r:
                extract_layer(cf._tar_or_refuse(r), Path(resolved), whiteouts=WhiteoutFormat.VFS)

        child = NsChild(pid, from_pipe, close_in_child=[wfd])
        os.close(rfd)
        try:
            with open(wfd, "wb") as w:
                while chunk := stream.read(1 << 16):
                    w.write(chunk)
        except BrokenPipeError:
            pass  # the child stopped reading: its result says why
        child.result()
        return
    assert src is not None
    if not os.path.lexists(src):
        raise NotFound(f'"{src}" could not be found on the host: no such file or directory')
    src_is_dir, contents = cf._is_dir(src), src.endswith("/.")

    def plan() -> tuple[str, str, tuple[int, int] | None]:
        resolved = resolve_in_root("/", path)
        owner = files._owner(rec, "/") if archive else None
        parent = resolve_in_root("/", os.path.dirname(path.rstrip("/")) or "/")
        target, arcname = cf._container_target("/", resolved, parent, path, src, name, overwrite, src_is_dir)
        return target, arcname, owner

    target_dir, arcname, owner = call_in_mount_ns(pid, plan)
    owner = files.stored_owner(rec, owner)  # out here: the container's mount namespace has no sealpod modules
    rel = os.path.relpath(target_dir, "/")
    prefix = "" if rel == "." else rel
    full = "/".join(p for p in (prefix, arcname) if p)
    rfd, wfd = os.pipe()

    def extract() -> None:
        with open(rfd, "rb") as r:
            extract_layer(r, Path("/"), whiteouts=WhiteoutFormat.VFS)

    child = NsChild(pid, extract, close_in_child=[wfd])
    os.close(rfd)
    mine: BaseException | None = None
    try:
        with open(wfd, "wb") as w:
            cf._write_source(src, w, full, contents and not arcname, owner=owner, refuse_whiteouts=True,
                             root_arcname=prefix)
    except BrokenPipeError:
        pass
    except Exception as e:
        mine = e
    _settle(child, mine, producer_is_child=False)


def _settle(child: NsChild, mine: BaseException | None, *, producer_is_child: bool) -> None:
    """Wait for the child and raise the failure that explains the other: the producer's, since a
    broken stream is what the consumer then sees (a broken pipe only ever follows another failure)."""
    try:
        child.result()
    except BrokenPipeError:
        if mine is not None:
            raise mine from None
        raise
    except Exception:
        if mine is not None and not producer_is_child:
            raise mine from None
        raise
    if mine is not None:
        raise mine
