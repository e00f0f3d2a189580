"""Listing containers (``ps``, the API's ``containers/json``) from the state database.

``ps -a`` with hundreds of containers must not decode every configuration or ask the runtime:
SQLite picks the columns apart, and only a row that claims to run is checked against its
exit file and process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sealpod.engine.container_state import State
from sealpod.engine.containers import RUNNING_STATES, pid_alive
from sealpod.errors import NoSuchContainer

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_report import ContainerSummary, PublishedPort
    from sealpod.engine.containers import ContainerService


def summaries(svc: ContainerService, *, all_containers: bool, filters: Sequence[str] = (),
              size: bool = False) -> list[ContainerSummary]:
    """``ps``: rows picked apart by SQLite; state files read only where ports or health can show."""
    from sealpod.utils.record import replace

    health = svc.engine.health
    found = _summaries(svc, all_containers, filters)
    if any(s.state in (State.RUNNING, State.PAUSED) for s in found):
        # state files are read only for containers that can have ports or a health status
        extras = svc.db.ps_extras()
        found = [_with_extras(svc, s, extras.get(s.id, (True, True)), health)
                 if s.state in (State.RUNNING, State.PAUSED) else s for s in found]
    if any(s.pod_id for s in found):
        found = svc.engine.pods.with_pod_names(found)
    if not size:
        return found

    out = []
    for s in found:
        rw = rw_size(svc, s.id)
        image = svc.store.get_image(s.image_id).size if s.image_id else 0
        out.append(replace(s, rw_size=rw, root_size=rw + image))
    return out


def _with_extras(svc: ContainerService, s: ContainerSummary, extras: tuple[bool, bool],
                 health: Any) -> ContainerSummary:
    from sealpod.utils.record import replace

    if not extras[0] and not extras[1]:
        return s
    return replace(s, ports=_published(svc, s.id) if extras[0] else (),
                   health=health.status(s.id) if extras[1] else "")


def _published(svc: ContainerService, ctr_id: str) -> tuple[PublishedPort, ...]:
    """Published ports, from the run's saved network state (no runtime call, no DB read)."""
    from sealpod.engine.container_report import PublishedPort

    status = svc.engine.networks.status_of(ctr_id)
    return tuple(PublishedPort(p.host_ip, p.host_port, p.container_port, p.protocol, p.range)
                 for p in (status.ports if status else ()))


def _still_running(svc: ContainerService, row: Any) -> bool:
    """The cheap half of :meth:`sync`: no exit file, and conmon or the process alive."""
    if os.path.exists(os.path.join(svc.store.run_root, "exits", row["id"])):  # paths().exit_file, cheaper
        return False
    return pid_alive(row["conmon_pid"]) or pid_alive(row["pid"])


def rw_size(svc: ContainerService, ctr_id: str) -> int:
    """Bytes in the container's writable layer (what it changed), as ``ps --size`` reports."""
    total = 0
    for root, dirs, files in os.walk(svc.store.containers.diff_path(ctr_id)):
        for name in files + dirs:
            try:
                total += os.lstat(os.path.join(root, name)).st_size if name in files else 0
            except OSError:
                pass
    return total


def _summaries(svc: ContainerService, all_containers: bool, filters: Sequence[str]) -> list[ContainerSummary]:
    from sealpod.engine.container_report import filtered, summarize, summarize_row

    if not filters:
        out = []
        for row in svc.db.ps_rows():
            if row["state"] in RUNNING_STATES and row["conmon_pid"] and not _still_running(svc, row):
                try:  # it exited meanwhile: record that
                    summary = summarize(svc.sync(svc.db.get(row["id"])))
                except NoSuchContainer:
                    continue  # removed since the rows were read
            else:
                summary = summarize_row(row)
            if all_containers or summary.state in (State.RUNNING, State.PAUSED):
                out.append(summary)
        return out
    records = svc.list_containers()
    if not all_containers:
        records = [r for r in records if r.state in (State.RUNNING, State.PAUSED)]
    return [summarize(r) for r in filtered(svc, records, filters)]
