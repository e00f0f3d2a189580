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
              size: bool = False, namespaces: bool = False, external: bool = False) -> list[ContainerSummary]:
    """``ps``: rows picked apart by SQLite; state files read only where ports or health can show;
    a build's working containers only with ``external`` (:mod:`sealpod.engine.container_external`)."""
    from sealpod.engine.container_external import with_external
    from sealpod.utils.record import replace

    health = svc.engine.health
    found = _summaries(svc, all_containers or external, filters)
    found = with_external(svc, found, all_containers=all_containers, external=external)
    if svc.engine.config.containers.engine.namespace:  # the global --namespace: only the containers made in it
        found = _in_namespace(svc, found, svc.engine.config.containers.engine.namespace)
    if any(s.state in (State.RUNNING, State.PAUSED) for s in found):
        # state files are read only for containers that can have ports or a health status
        extras = svc.db.ps_extras()
        found = [_with_extras(svc, s, extras.get(s.id, (True, True)), health)
                 if s.state in (State.RUNNING, State.PAUSED) else s for s in found]
    if any(s.state not in (State.RUNNING, State.PAUSED) for s in found):
        found = _with_stopped_ports(svc, found)
    if any(s.pod_id for s in found):
        found = svc.engine.pods.with_pod_names(found)
    found = _with_default_network(svc, found)
    if namespaces:
        found = [replace(s, namespaces=_namespaces(s.pid)) if s.state in (State.RUNNING, State.PAUSED) else s
                 for s in found]
    if not size:
        return found

    out = []
    for s in found:
        rw = rw_size(svc, s.id)
        image = svc.store.get_image(s.image_id).size if s.image_id else 0
        out.append(replace(s, rw_size=rw, root_size=rw + image))
    return out


def _in_namespace(svc: ContainerService, found: list[ContainerSummary], namespace: str) -> list[ContainerSummary]:
    rows = svc.db.db.conn.execute("SELECT id FROM containers WHERE json_extract(config, '$.namespace') = ?",
                                  (namespace,))
    ids = {row[0] for row in rows}
    return [s for s in found if s.id in ids]


def _with_extras(svc: ContainerService, s: ContainerSummary, extras: tuple[bool, bool],
                 health: Any) -> ContainerSummary:
    from sealpod.utils.record import replace

    if not extras[0] and not extras[1]:
        return s
    return replace(s, ports=_published(svc, s) if extras[0] else (),
                   health=health.status(s.id) if extras[1] else "")


def _published(svc: ContainerService, s: ContainerSummary) -> tuple[PublishedPort, ...]:
    """Published ports, from the run's saved network state (no runtime call, no DB read); a pod's
    member or a ``--network container:X`` container shows those of the namespace's owner, as in
    Podman, in the order of their host ports."""
    from sealpod.engine.container_report import PublishedPort

    ctr_id, mode = s.id, s.network
    for _ in range(8):  # a short chain of joins at most; a loop of them is not followed forever
        if not mode.startswith("container:"):
            break
        try:
            owner = svc.lookup(mode.split(":", 1)[1])
        except NoSuchContainer:
            return ()
        ctr_id, mode = owner.id, owner.config.get("network") or ""
    status = svc.engine.networks.status_of(ctr_id)
    ports = sorted(status.ports if status else (), key=lambda p: (p.host_port, p.protocol, p.container_port))
    return tuple(PublishedPort(p.host_ip, p.host_port, p.container_port, p.protocol, p.range) for p in ports)


def _with_stopped_ports(svc: ContainerService, found: list[ContainerSummary]) -> list[ContainerSummary]:
    """A container that does not run shows the ports it will publish: Podman picks them at create."""
    from sealpod.engine.container_report import PublishedPort
    from sealpod.engine.port_alloc import stopped_ports
    from sealpod.utils.record import replace

    by_id = stopped_ports(svc.db.db.conn)
    if not by_id:
        return found
    out = []
    for s in found:
        ports = sorted(by_id.get(s.id, ()) if s.state not in (State.RUNNING, State.PAUSED) else (),
                       key=lambda p: (p.host_port, p.protocol, p.container_port))
        out.append(replace(s, ports=tuple(PublishedPort(p.host_ip, p.host_port, p.container_port, p.protocol,
                                                        p.range) for p in ports)) if ports else s)
    return out


def _with_default_network(svc: ContainerService, found: list[ContainerSummary]) -> list[ContainerSummary]:
    """A container in bridge mode without named networks is on the default network (rootful:
    rootless ones use slirp4netns and are on none, as Podman shows them)."""
    from sealpod.engine.container_ps import DEFAULT_MODES
    from sealpod.utils.record import replace

    if svc.engine.config.rootless or not any(not s.networks and s.network in DEFAULT_MODES for s in found):
        return found
    from sealpod.engine.container_ps import default_network_name

    default = default_network_name(svc)
    return [replace(s, networks=(default,)) if not s.networks and s.network in DEFAULT_MODES else s for s in found]


_NAMESPACE_KINDS = (("Mnt", "mnt"), ("Cgroup", "cgroup"), ("Ipc", "ipc"), ("Net", "net"), ("Pidns", "pid"),
                    ("Uts", "uts"), ("User", "user"))  # in the order of Podman's JSON


def _namespaces(pid: int) -> tuple[tuple[str, str], ...]:
    """The inode numbers of a process's namespaces, which ``ps --ns`` shows to tell who shares what."""
    out = []
    for key, kind in _NAMESPACE_KINDS:
        try:
            out.append((key, str(os.stat(f"/proc/{pid}/ns/{kind}").st_ino)))
        except OSError:
            continue
    return tuple(out) if pid > 0 else ()


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
            if all_containers or summary.state == State.RUNNING:  # Podman lists paused ones only with --all
                out.append(summary)
        return out
    records = svc.list_containers()
    if not all_containers:
        records = [r for r in records if r.state == State.RUNNING]
    return [summarize(r) for r in filtered(svc, records, filters)]
