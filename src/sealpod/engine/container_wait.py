"""``wait`` for a container's state, and the exit codes of containers already removed.

Podman keeps a removed container's exit code for a few minutes: ``wait --condition removed`` and
``docker run --rm`` (which waits through the API) still report it after ``--rm`` took the container.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from sealpod.engine.container_state import State
from sealpod.errors import InvalidArgument, NoSuchContainer

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.containers import ContainerService

REMOVED_EXIT_CODES_KEPT_FOR = 300  # seconds


def keep_exit_code(svc: ContainerService, ctr_id: str, code: int | None) -> None:
    """Remember a removed container's exit code; old entries are dropped here."""
    keep = svc.store.run_root / "exits-removed"
    try:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / ctr_id).write_text(str(code if code is not None else 0))
        horizon = time.time() - REMOVED_EXIT_CODES_KEPT_FOR
        for entry in os.scandir(keep):
            if entry.stat().st_mtime < horizon:
                os.unlink(entry.path)
    except OSError:
        pass


def removed_exit_code(svc: ContainerService, ctr_id: str) -> int | None:
    """The exit code of a container removed in the last minutes (full ID), else None."""
    try:
        return int((svc.store.run_root / "exits-removed" / ctr_id).read_text())
    except (OSError, ValueError):
        return None


def wait(svc: ContainerService, name_or_id: str, conditions: Sequence[str] = ("stopped",),
         interval: float = 0.25) -> int:
    """Block until the container reaches a condition; return its exit code (-1 if none)."""
    wanted = {c.lower() for c in conditions} or {"stopped"}
    valid = {s.value for s in State} | {"healthy", "unhealthy"}
    bad = wanted - valid
    if bad:
        raise InvalidArgument(f"unknown container state: {sorted(bad)[0]}: invalid argument")
    rec = svc.lookup(name_or_id)
    delay = 0.005
    while True:
        state = rec.state
        health = svc.engine.health.status(rec.id) if wanted & {"healthy", "unhealthy"} else ""
        # "stopped"/"exited" are met by any container not running, one never started too, as Podman's
        if state in wanted or health in wanted or (("stopped" in wanted or "exited" in wanted) and state in (
                State.STOPPED, State.EXITED, State.CONFIGURED, State.CREATED)):
            if rec.exit_code is None and state in (State.CONFIGURED, State.CREATED):
                return 0  # never ran: Podman's exit code of a new container
            if state in (State.STOPPED, State.EXITED) and rec.config.get("remove"):
                _until_removed(svc, rec.id)
            return rec.exit_code if rec.exit_code is not None else -1
        time.sleep(delay)
        delay = min(delay * 2, interval)
        try:
            rec = svc.lookup(rec.id)
        except NoSuchContainer:
            return rec.exit_code if rec.exit_code is not None else -1


def _until_removed(svc: ContainerService, ctr_id: str, patience: float = 5.0) -> None:
    """A ``--rm`` container that exited is removed by conmon's exit command a moment later.  Podman's
    ``wait`` returns after that in practice (it polls slower), and scripts rely on it: ``wait`` then
    ``rm`` must find it gone.  Bounded, for a cleanup that never comes (its conmon killed)."""
    deadline = time.monotonic() + patience
    delay = 0.005
    while time.monotonic() < deadline:
        try:
            svc.db.get(ctr_id)
        except NoSuchContainer:
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


__all__ = ["keep_exit_code", "removed_exit_code", "wait"]
