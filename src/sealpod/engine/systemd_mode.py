"""systemd inside containers, and the systemd that runs sealpod itself.

Three independent conventions meet here, each as Podman 4 applies them:

* ``--systemd=true|false|always``: an init system as PID 1 wants a writable /run, /tmp and
  journal directory, a cgroup tree it may manage, ``container_uuid`` (its machine ID) and
  SIGRTMIN+3 to shut down cleanly.
* ``--sdnotify=conmon|container|ignore`` with ``NOTIFY_SOCKET``: a ``Type=notify`` unit that
  runs sealpod learns that the service is up either from us (conmon mode: once the container
  runs) or from the container itself (container mode: conmon relays its messages).
* ``LISTEN_FDS``/``LISTEN_PID``: a socket-activated sealpod hands its sockets on, so the
  container is what systemd activated.

Everything but the notification itself is pure: the engine asks, then passes the answers to
``runtime`` (mounts, environment, conmon options).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.runtime.spec import Mount

SYSTEMD_VALUES = ("true", "false", "always")
SDNOTIFY_VALUES = ("conmon", "container", "ignore")
DEFAULT_SDNOTIFY = "container"  # Podman 4.3.1's default (run --help, inspect)

# Commands that are an init system, as Podman recognises them (plus any path ending in "systemd").
INIT_COMMANDS = frozenset({"/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init"})
STOP_SIGNAL = "SIGRTMIN+3"  # systemd's "halt": SIGTERM would only re-execute it
TMPFS_DIRS = ("/run", "/run/lock", "/tmp", "/var/log/journal")
_TMPFS_OPTIONS = ("rw", "rprivate", "nosuid", "nodev", "tmpcopyup")
HOST_SYSTEMD_CGROUP = "/sys/fs/cgroup/systemd"

# Container mode: conmon listens on <bundle>/notify/notify.sock; the container sees that directory here.
NOTIFY_DIR_IN_CONTAINER = "/run/notify"
NOTIFY_SOCKET_IN_CONTAINER = "/run/notify/notify.sock"
SD_LISTEN_FDS_START = 3


def check_systemd_value(value: str) -> str:
    """``--systemd`` as given ("" is the default, true); refused with Podman's words."""
    value = value.strip().lower() or "true"
    if value not in SYSTEMD_VALUES:
        raise InvalidArgument('invalid config provided: --systemd values must be one of "true, false, always": '
                              "invalid configuration")
    return value


def check_sdnotify_value(value: str) -> str:
    """``--sdnotify`` as given ("" is the default, container)."""
    if value and value not in SDNOTIFY_VALUES:
        raise InvalidArgument(f'invalid config provided: invalid argument: invalid sdnotify value "{value}": '
                              "must be container, conmon or ignore")
    return value or DEFAULT_SDNOTIFY


def is_init_command(command: Sequence[str]) -> bool:
    """Is the container's first program an init system (systemd, or an ``init`` in the usual places)?"""
    return bool(command) and (command[0] in INIT_COMMANDS or os.path.basename(command[0]) == "systemd")


def systemd_enabled(value: str, command: Sequence[str]) -> bool:
    """Systemd mode: ``always``, or ``true`` (the default) when the command is an init system."""
    value = check_systemd_value(value)
    return value == "always" or (value == "true" and is_init_command(command))


def host_cgroup_v2(root: str = "/sys/fs/cgroup") -> bool:
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def systemd_mounts(user_destinations: Sequence[str] = (), *, cgroup_v2: bool | None = None) -> list[Mount]:
    """The mounts systemd needs to boot, minus those the user mounted there.

    cgroup v1: runc's read-only cgroup tree stays, and the host's ``name=systemd`` hierarchy is
    bound writable over its copy, as Podman does: systemd finds its own cgroup (the container's,
    under the same path) and creates its units below it.  cgroup v2: the container's own tree,
    writable.
    """
    from sealpod.runtime.spec import Mount

    taken = {d.rstrip("/") or "/" for d in user_destinations}
    mounts = [Mount(d, "tmpfs", "tmpfs", _TMPFS_OPTIONS) for d in TMPFS_DIRS if d not in taken]
    v2 = host_cgroup_v2() if cgroup_v2 is None else cgroup_v2
    if "/sys/fs/cgroup" in taken:
        return mounts
    if v2:
        mounts.append(Mount("/sys/fs/cgroup", "cgroup", "cgroup",
                            ("rprivate", "nosuid", "noexec", "nodev", "relatime", "rw")))
    elif os.path.isdir(HOST_SYSTEMD_CGROUP) and HOST_SYSTEMD_CGROUP not in taken:
        mounts.append(Mount(HOST_SYSTEMD_CGROUP, "bind", HOST_SYSTEMD_CGROUP, ("bind", "rprivate")))
    return mounts


def systemd_masked_paths(cgroup_v2: bool | None = None) -> tuple[str, ...]:
    """The host hierarchy is writable: its release agent (run by the host kernel as root) is not."""
    v2 = host_cgroup_v2() if cgroup_v2 is None else cgroup_v2
    return () if v2 else (f"{HOST_SYSTEMD_CGROUP}/release_agent",)


def systemd_env(ctr_id: str) -> list[str]:
    """systemd takes ``container_uuid`` as the machine ID when /etc/machine-id is empty."""
    return [f"container_uuid={ctr_id[:32]}"]


# --- NOTIFY_SOCKET -----------------------------------------------------------------------------

def take_notify_socket(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """NOTIFY_SOCKET, removed from this process's environment as Podman does: no child may see it
    (``runc start`` with it set waits for the container's READY=1, and runc create would proxy it)."""
    env = os.environ if environ is None else environ
    return env.pop("NOTIFY_SOCKET", "")


def notify(socket_path: str, message: str) -> None:
    """Send one sd_notify datagram; ``@name`` is an abstract socket.  A dead socket is not our
    failure: the container runs all the same, so errors are ignored, as sd_notify(3) callers do."""
    import socket

    if not socket_path or not message:
        return
    address = "\0" + socket_path[1:] if socket_path.startswith("@") else socket_path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        pass


def remember_notify(rundir: Path, socket_path: str, mode: str) -> None:
    """Keep conmon mode's socket until the container has started (the start may be a later step
    of the same command); a start without NOTIFY_SOCKET (a restart by conmon's exit command) finds none."""
    marker = rundir / "sdnotify"
    if socket_path and mode == "conmon":
        marker.write_text(socket_path)
    else:
        marker.unlink(missing_ok=True)


def notify_started(rundir: Path, conmon_pid: int) -> None:
    """Conmon mode, once the container runs: READY=1, with conmon as the service's main process."""
    marker = rundir / "sdnotify"
    try:
        socket_path = marker.read_text()
    except OSError:
        return
    marker.unlink(missing_ok=True)
    notify(socket_path, started_message("conmon", conmon_pid))


def started_message(mode: str, conmon_pid: int) -> str:
    """What systemd hears when the container has started: conmon is the main process (it outlives
    sealpod); in conmon mode we also say READY, in container mode the container says it."""
    if mode == "ignore" or conmon_pid <= 0:
        return ""
    return f"MAINPID={conmon_pid}\nREADY=1" if mode == "conmon" else f"MAINPID={conmon_pid}"


# --- LISTEN_FDS --------------------------------------------------------------------------------

def listen_fds(environ: Mapping[str, str] | None = None, pid: int | None = None) -> tuple[int, list[str]]:
    """Sockets systemd passed to this very process: their count and the container's variables.

    The variables go to the container whenever LISTEN_FDS is set, as Podman passes them (its
    250-systemd.bats sets LISTEN_PID=100); in the container the sockets are fds 3.. of PID 1, so
    LISTEN_PID is 1.  The descriptors themselves only when LISTEN_PID names us: otherwise fds 3..
    are this process's own files (the state database), which no container may inherit.
    """
    env = os.environ if environ is None else environ
    me = os.getpid() if pid is None else pid
    count_text, owner = env.get("LISTEN_FDS", ""), env.get("LISTEN_PID", "")
    if not count_text.isdigit() or int(count_text) <= 0:
        return 0, []
    count = int(count_text)
    variables = [f"LISTEN_FDS={count}", "LISTEN_PID=1"]
    if "LISTEN_FDNAMES" in env:
        variables.append(f"LISTEN_FDNAMES={env['LISTEN_FDNAMES']}")
    return (count if owner == str(me) else 0), variables


def creation_notify_socket(mode: str, environ: Mapping[str, str] | None = None) -> str:
    """The NOTIFY_SOCKET of the creating command, recorded for inspect's ``SdNotifySocket`` (none
    with ``--sdnotify=ignore``), as Podman records it at create."""
    env = os.environ if environ is None else environ
    return "" if check_sdnotify_value(mode) == "ignore" else env.get("NOTIFY_SOCKET", "")


def merge_env(base: Sequence[str], extra: Sequence[str]) -> list[str]:
    """``extra`` replaces variables of the same name in ``base``."""
    names = {e.partition("=")[0] for e in extra}
    return [e for e in base if e.partition("=")[0] not in names] + list(extra)
