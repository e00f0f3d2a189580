"""Entering the rootless user namespace: find (or start) the pause process and join it.

One pause process per user and run root keeps a user namespace (0 → the user, 1.. → the
subordinate ids) and a mount namespace alive.  Each sealpod command joins both with
setns(2) before it touches storage, so layers are extracted with their real owners and
overlay mounts made by one command are seen by the next.  Joining is a no-op when the
process is already inside (conmon's exit command, a ``sealpod unshare`` shell).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sealpod.config.paths import ROOTLESS_UID_ENV, USERNS_CONFIGURED_ENV
from sealpod.errors import CommandFailed, RootlessError
from sealpod.rootless.idmap import IdMapping, newidmap_args, userns_mappings
from sealpod.rootless.subid import SUBGID_FILE, SUBUID_FILE, group_name, read_subids, user_name
from sealpod.utils.record import dataclass

ROOTLESS_GID_ENV = "_CONTAINERS_ROOTLESS_GID"
PAUSE_MARKER = "sealpod-pause"


@dataclass(frozen=True)
class Identity:
    """Who the rootless user is on the host, and where its pause process is recorded."""

    uid: int
    gid: int
    run_root: Path

    @property
    def pid_file(self) -> Path:
        return self.run_root / "pause.pid"

    @property
    def lock_file(self) -> Path:
        return self.run_root / "pause.lock"


def namespace_env(ident: Identity) -> dict[str, str]:
    """What tells a process (and its children: conmon, `container cleanup`) that it runs inside."""
    return {USERNS_CONFIGURED_ENV: "done", ROOTLESS_UID_ENV: str(ident.uid), ROOTLESS_GID_ENV: str(ident.gid)}


def _ns_id(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def pause_pid(ident: Identity) -> int | None:
    """The recorded pause process when it still runs and is ours (pids get reused)."""
    try:
        pid = int(ident.pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        owner = Path(f"/proc/{pid}").stat().st_uid
    except (OSError, ValueError):
        return None
    if PAUSE_MARKER.encode() not in cmdline:
        return None
    # Inside the namespace the user's files show as root's: accept either view of the owner.
    return pid if owner in (ident.uid, os.geteuid()) else None


def in_namespace_of(pid: int) -> bool:
    """Whether this process already shares the user namespace of ``pid``."""
    try:
        return _ns_id("self", "user") == _ns_id(pid, "user")
    except OSError:
        return False


def ensure_pause(ident: Identity) -> int:
    """The pause process's pid, starting one (under a lock: commands race) when none runs."""
    pid = pause_pid(ident)
    if pid is not None:
        return pid
    import fcntl

    ident.run_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(ident.lock_file, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pid = pause_pid(ident)
        if pid is None:
            pid = _start_pause(ident)
            tmp = ident.pid_file.with_suffix(".tmp")
            tmp.write_text(f"{pid}\n")
            tmp.rename(ident.pid_file)
    return pid


def id_mappings(ident: Identity) -> tuple[list[IdMapping], list[IdMapping]]:
    """The uid and gid maps of the namespace; just the user alone when it has no subordinate ids."""
    name = user_name(ident.uid)
    uids = read_subids(SUBUID_FILE, name, ident.uid)
    gids = read_subids(SUBGID_FILE, group_name(ident.gid), ident.gid) or read_subids(SUBGID_FILE, name, ident.uid)
    return userns_mappings(ident.uid, uids), userns_mappings(ident.gid, gids)


def _start_pause(ident: Identity) -> int:
    from sealpod.utils.proc import spawn

    helper = Path(__file__).with_name("pause.py")
    proc = spawn([sys.executable, "-I", "-S", helper, PAUSE_MARKER], stdin=subprocess.PIPE,
                 stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline().decode().strip()
        if line != "ready":
            raise RootlessError(f"cannot create the user namespace: {line or 'the pause process exited'}")
        uids, gids = id_mappings(ident)
        try:
            _write_maps(proc.pid, uids, gids)
        except CommandFailed as e:
            raise RootlessError(f"cannot set up the user namespace: {e}") from None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        if proc.stdout.readline().decode().strip() != "done":
            raise RootlessError("the pause process of the user namespace did not start")
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.stdin.close()
    proc.stdout.close()
    proc.returncode = 0  # it outlives us on purpose: no "still running" warning at exit
    return proc.pid


def _write_maps(pid: int, uids: list[IdMapping], gids: list[IdMapping]) -> None:
    """newuidmap/newgidmap for ranges; a single id needs no helper (setgroups denied first)."""
    from sealpod.utils.proc import run

    if len(uids) > 1 or len(gids) > 1:
        run(["newuidmap", str(pid), *newidmap_args(uids)])
        run(["newgidmap", str(pid), *newidmap_args(gids)])
        return
    from sealpod.utils.logrus import warning

    warning(f"no subordinate ids for uid {uids[0].host_id} in /etc/subuid: only one id is mapped")
    Path(f"/proc/{pid}/setgroups").write_text("deny")
    Path(f"/proc/{pid}/uid_map").write_text(f"0 {uids[0].host_id} 1\n")
    Path(f"/proc/{pid}/gid_map").write_text(f"0 {gids[0].host_id} 1\n")


def _setns(path: str, nstype: int) -> None:
    from sealpod.utils.libc import setns

    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns(fd, nstype)
    except OSError as e:
        raise RootlessError(f"cannot join the user namespace ({path}): {e.strerror}") from None
    finally:
        os.close(fd)


def join(pid: int) -> None:
    """Move this (single-threaded) process into the pause process's user and mount namespaces."""
    if in_namespace_of(pid):
        return
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    from sealpod.utils.libc import CLONE_NEWNS, CLONE_NEWUSER

    _setns(f"/proc/{pid}/ns/user", CLONE_NEWUSER)
    _setns(f"/proc/{pid}/ns/mnt", CLONE_NEWNS)
    try:
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    except OSError:
        pass  # already 0 in the namespace: the user and its group are what 0 maps to
    if cwd is not None:
        try:
            os.chdir(cwd)
        except OSError:
            os.chdir("/")


def enter(ident: Identity) -> dict[str, str]:
    """Join (creating it when needed) the user's namespace; return the variables that say so.

    A pause process can die between being found and being joined (``system migrate`` in
    another shell): then it is started again once.
    """
    for attempt in (1, 2):
        pid = ensure_pause(ident)
        try:
            join(pid)
            break
        except RootlessError:
            if attempt == 2 or pause_pid(ident) == pid:
                raise
    env = namespace_env(ident)
    os.environ.update(env)
    return env


def stop_pause(ident: Identity) -> bool:
    """Kill the pause process (``system migrate``): the next command builds a fresh namespace."""
    pid = pause_pid(ident)
    ident.pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.01)
    return True
