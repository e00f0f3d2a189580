"""What remote front-ends (the REST API) need beyond the CLI's verbs: attaching to a container
before it starts, terminal resizes, Docker's wait conditions and one-shot cgroup statistics.

The CLI attaches its own terminal and waits in-process; an API client does each step in its own
request (attach, then wait, then start, then resize), so these verbs keep no state between calls:
everything is found again from the database, conmon's files and the cgroup tree.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import ContainerStateInvalid, InvalidArgument, NoSuchContainer

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    from typing import Any, BinaryIO

    from sealpod.engine import Engine

_IN_RUNTIME = (State.CREATED, State.RUNNING, State.PAUSED, State.STOPPING)
WAIT_CONDITIONS = ("not-running", "next-exit", "removed")
_CGROUP_V1 = Path("/sys/fs/cgroup")


class ContainerIO:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.svc = engine.containers

    def connect(self, name_or_id: str) -> tuple[ContainerRecord, socket.socket]:
        """Connect to a container's output, creating it in the runtime first if it never ran.

        Done before the client is told the attach succeeded: a client that then starts the
        container (``docker run``) cannot race ahead of us and lose the output.  A container that
        ran and exited already is not resurrected: attaching to it is an error, as in Docker.
        """
        from sealpod.runtime.attach import connect

        rec = self.svc.lookup(name_or_id)
        with self.svc.lock(rec.id):
            rec = self.svc.sync(self.svc.db.get(rec.id), locked=True)
            if rec.state in (State.STOPPED, State.EXITED):
                raise ContainerStateInvalid("you cannot attach to a stopped container, start it first")
            if rec.state not in _IN_RUNTIME:
                rec = self.svc.init(rec)
            waits = rec.state != State.RUNNING  # it starts next: conmon must have accepted us first
            return rec, connect(self.svc.runtime().attach_socket_path(rec.id),
                                accepted_by=rec.conmon_pid if waits else 0)

    def attach(self, name_or_id: str, *, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO,
               detach_keys: str | None = None,
               connected: tuple[ContainerRecord, socket.socket] | None = None) -> int | None:
        """Stream a container's stdio (see :meth:`connect`); its exit code once the output ends,
        None if the client detached."""
        from sealpod.runtime.attach import DEFAULT_DETACH_KEYS, parse_detach_keys, stream

        keys = DEFAULT_DETACH_KEYS if detach_keys is None else parse_detach_keys(detach_keys)
        rec, sock = connected or self.connect(name_or_id)
        cfg = ContainerConfig.from_json(rec.config)
        detached = stream(sock, stdin=stdin if cfg.interactive else None, stdout=stdout, stderr=stderr,
                          tty=cfg.tty, detach_keys=keys, ctl_path=None)
        if detached:
            return None
        code = self.wait(rec.id)
        try:
            self.svc.cleanup(rec.id)  # sooner than conmon's exit command: `run --rm` waits for it
        except NoSuchContainer:
            pass
        return code

    def resize(self, name_or_id: str, rows: int, cols: int, exec_id: str | None = None) -> None:
        """Resize the terminal of a container (or of one of its exec sessions)."""
        from sealpod.runtime.attach import resize

        if rows <= 0 or cols <= 0:
            raise InvalidArgument(f"invalid terminal size {rows}x{cols}")
        rec = self.svc.lookup(name_or_id)
        if rec.state not in _IN_RUNTIME:
            raise ContainerStateInvalid(f"container {rec.id} is not running: container state improper")
        runtime = self.svc.runtime()
        ctl = runtime.persist_dir(rec.id) / "exec" / exec_id / "ctl" if exec_id else runtime.ctl_path(rec.id)
        resize(ctl, rows, cols)

    def wait(self, name_or_id: str, condition: str = "not-running", *, after: float | None = None,
             interval: float = 0.05) -> int:
        """Docker's ``wait``: until the container is not running (at once if it is not), until its
        next exit, or until it is removed (its exit code is remembered after removal)."""
        condition = condition or "not-running"
        if condition not in WAIT_CONDITIONS:
            raise InvalidArgument(f"invalid condition: {condition}")
        rec = self.svc.lookup(name_or_id)
        ctr_id, first_finish = rec.id, rec.finished_at if after is None else after
        code = rec.exit_code
        delay = 0.005
        while True:
            ended = rec.state not in _IN_RUNTIME
            if ended:
                code = rec.exit_code
            if condition == "not-running" and ended:
                return code if code is not None else 0
            if condition == "next-exit" and ended and rec.finished_at > first_finish:
                return code if code is not None else 0
            time.sleep(delay)
            delay = min(delay * 2, interval)
            try:
                rec = self.svc.lookup(ctr_id)
            except NoSuchContainer:
                kept = self.svc.removed_exit_code(ctr_id)
                return kept if kept is not None else (code if code is not None else 0)

    def stat_path(self, name_or_id: str, path: str) -> os.stat_result:
        """lstat of a path inside the container, resolved as the container sees it (``cp``)."""
        import stat

        from sealpod.engine.container_files import _in_workdir
        from sealpod.errors import NotFound

        files = self.engine.container_files
        rec = self.svc.lookup(name_or_id)
        with files.rootfs(rec) as root:
            full = _in_workdir(rec, path)  # relative to the working directory, as cp's other steps
            try:  # in the volume or bind mount that covers it, as cp reads and writes there
                where = files._resolve(rec, root, os.path.dirname(full.rstrip("/")) or "/")
                found = os.path.join(where, os.path.basename(full.rstrip("/"))) if full.rstrip("/") else where
                if not os.path.lexists(found):  # a mount point that only exists once the container runs
                    found = files._resolve(rec, root, full)
                info = os.lstat(found)
                if stat.S_ISLNK(info.st_mode) or full.endswith("/"):
                    os.stat(files._resolve(rec, root, full))  # a dangling link leads nowhere: not found
                return info
            except OSError:
                raise NotFound(f'"{path}" could not be found on container {rec.name}: '
                               "no such file or directory") from None

    def dangling_link(self, name_or_id: str, path: str) -> os.stat_result | None:
        """lstat of ``path`` when it is a symlink whose target does not exist (else None): Podman's
        stat answers "not found" for it, but still says where it leads, so that ``cp`` into the
        container creates the target."""
        import stat

        from sealpod.engine.container_files import _in_workdir

        files = self.engine.container_files
        rec = self.svc.lookup(name_or_id)
        full = _in_workdir(rec, path)
        if full.endswith("/"):
            return None
        with files.rootfs(rec) as root:
            try:
                where = files._resolve(rec, root, os.path.dirname(full) or "/")
                info = os.lstat(os.path.join(where, os.path.basename(full)))
            except OSError:
                return None
        return info if stat.S_ISLNK(info.st_mode) else None

    def link_target(self, name_or_id: str, path: str) -> str:
        """Where a symlink leads, as an absolute path in the container (what cp then copies)."""
        from sealpod.engine.container_files import _in_workdir
        from sealpod.storage.tarwriter import resolve_in_root

        rec = self.svc.lookup(name_or_id)
        with self.engine.container_files.rootfs(rec) as root:
            return "/" + os.path.relpath(resolve_in_root(root, _in_workdir(rec, path)), root).removeprefix(".")

    def exec_exit_code(self, name_or_id: str, exec_id: str) -> int | None:
        """A detached exec session's exit code once it ended (None while it runs or is forgotten)."""
        from sealpod.runtime.conmon import read_exit_file

        rec = self.svc.lookup(name_or_id)
        return read_exit_file(self.svc.runtime().persist_dir(rec.id) / "exec" / exec_id / "exits" / exec_id)

    def run_passthrough(self, ctr_id: str) -> int:
        """``run`` with the passthrough log driver: conmon gives the container this process's
        stdio, so there is no attach socket to stream; start, wait, clean up, exit code."""
        svc = self.svc
        with svc.lock(ctr_id):
            rec = svc.init(svc.db.get(ctr_id))
            marker = svc.paths(rec.id).rundir / "attached"
            marker.write_text(str(os.getpid()))
            rec = svc._start_created(rec)
        with svc.signals_forwarded_to(rec.id, bool(rec.config.get("sig_proxy", True))):
            svc._wait_exit(rec, 365 * 86400)
        code = svc._exit_code(rec)
        final = svc.cleanup(rec.id)
        marker.unlink(missing_ok=True)
        return code if code is not None else (final.exit_code if final.exit_code is not None else 125)

    def stats(self, name_or_id: str) -> dict[str, Any]:
        """One sample of a running container's cgroup (v1) counters; zeros for a stopped one."""
        rec = self.svc.lookup(name_or_id)
        from sealpod.engine.cgroups import stored_cgroups_path

        base = stored_cgroups_path(rec.config.get("cgroup_parent") or "", rec.id).lstrip("/")
        running = rec.state in (State.RUNNING, State.PAUSED)

        def read(controller: str, name: str) -> int:
            if not running:
                return 0
            try:
                text = (_CGROUP_V1 / controller / base / name).read_text().split()
                return int(text[0]) if text and text[0] != "max" else 0
            except (OSError, ValueError):
                return 0

        mem_stat: dict[str, int] = {}
        if running:
            try:
                for line in (_CGROUP_V1 / "memory" / base / "memory.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    mem_stat[key] = int(value)
            except (OSError, ValueError):
                pass
        limit = read("memory", "memory.limit_in_bytes")
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return {
            "id": rec.id, "name": rec.name, "running": running, "read": time.time(),
            "cpu_usage_ns": read("cpuacct", "cpuacct.usage"), "system_cpu_ns": _system_cpu_ns(),
            "online_cpus": os.cpu_count() or 1, "memory_usage": read("memory", "memory.usage_in_bytes"),
            "memory_limit": limit if 0 < limit < total else total, "memory_stat": mem_stat,
            "pids": read("pids", "pids.current"), "pids_limit": read("pids", "pids.max"),
        }


def _system_cpu_ns() -> int:
    """All CPUs' time since boot in nanoseconds, from /proc/stat (what Docker's ratio divides by)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:8]
        return sum(int(v) for v in fields) * (1_000_000_000 // os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        return 0


__all__ = ["WAIT_CONDITIONS", "ContainerIO"]
