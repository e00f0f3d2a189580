"""Starting a created runc container without running ``runc start``.

``runc create`` leaves the container's init process blocked on opening ``exec.fifo`` in the
container's state directory for writing; all ``runc start`` does (runc 1.1 runs the poststart
hooks at create) is to open that FIFO for reading, take the init's one byte and remove the
FIFO, which runc then reads as "running".  Doing the same here spares starting a Go program
(~10 ms) on the path of every ``run``.  Whenever anything is not as expected this declines,
and the caller falls back to the real verb, which also words the errors.
"""

from __future__ import annotations

import json
import os
import select
import time

_FIFO = "exec.fifo"


def start_through_fifo(state_dir: str, timeout: float = 30.0) -> bool:
    """True when the container was started here; False leaves it to ``runc start``."""
    fifo = os.path.join(state_dir, _FIFO)
    init_pid = _init_pid_without_poststart_hooks(state_dir)
    if init_pid is None:
        return False
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False  # started already, or never created: runc start says which
    try:
        data = _read_start_byte(fd, init_pid, time.monotonic() + timeout)
    finally:
        os.close(fd)
    if not data:
        return False
    try:
        os.unlink(fifo)
    except FileNotFoundError:
        pass
    return True


def _init_pid_without_poststart_hooks(state_dir: str) -> int | None:
    """The init's pid from runc's state, None when it cannot be read or poststart hooks are set
    (newer runc runs those from ``start``)."""
    try:
        with open(os.path.join(state_dir, "state.json"), "rb") as f:
            state = json.load(f)
        hooks = (state.get("config") or {}).get("hooks") or {}
        pid = state.get("init_process_pid")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(hooks, dict) or hooks.get("poststart") or not isinstance(pid, int) or pid <= 0:
        return None
    return pid


def _read_start_byte(fd: int, init_pid: int, deadline: float) -> bytes:
    """Wait until the init process opens its end and writes; b"" if it died or never did.

    A FIFO reader that has not yet seen a writer gets no POLLHUP on Linux, so the poll waits for
    the writer's open; the init is checked between polls because a dead one never opens it."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while time.monotonic() < deadline:
        if poller.poll(50):
            try:
                return os.read(fd, 16)
            except BlockingIOError:
                continue
        try:
            os.kill(init_pid, 0)
        except ProcessLookupError:
            return b""
        except PermissionError:
            pass
    return b""
