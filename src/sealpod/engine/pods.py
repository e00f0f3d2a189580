"""Pods: containers that share namespaces through an infra container, managed as one unit.

The infra container is an ordinary container (its pod names it as infra) running catatonit in
pause mode; it holds the network, IPC and UTS namespaces that members join with the existing
``container:ID`` machinery, and publishes the pod's ports.  Pods live in their own table of
the state database; a member's container record carries the pod's ID.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence

from sealpod.errors import (
    Conflict,
    ContainerHasDependents,
    ContainerStateInvalid,
    InvalidArgument,
    NoSuchContainer,
    NoSuchPod,
    PodExists,
    SealpodError,
)
from sealpod.utils import record as dataclasses
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig, MountSpec
    from sealpod.engine.container_report import ContainerSummary
    from sealpod.engine.container_state import ContainerRecord

__all__ = ["PodSpec", "PodRecord", "PodSummary", "PodContainer", "PodService", "PAUSE_IMAGE"]

PAUSE_IMAGE = "localhost/podman-pause"  # Podman's name (scripts and its tests build it from `version`)
POD_SCHEMA = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pods (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    created   REAL NOT NULL,
    infra_id  TEXT NOT NULL DEFAULT '',
    spec      TEXT NOT NULL                -- PodSpec as JSON
);
INSERT OR REPLACE INTO meta VALUES ('pod_schema', '1');
"""
SHAREABLE = ("cgroup", "ipc", "net", "pid", "uts", "none")


@dataclass(frozen=True)
class PodSpec:
    """What a user asked a pod to be (``pod create`` flags, a libpod PodSpecGenerator, kube YAML)."""

    name: str = ""  # "" -> a generated name
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    infra: bool = True
    infra_image: str = ""  # "" -> the local pause image (built by us from the host's catatonit)
    infra_command: tuple[str, ...] = ()
    infra_name: str = ""
    share: tuple[str, ...] = ("ipc", "net", "uts")
    network: str = ""  # as run --network: "", none, host, bridge, a network name
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> per-network options
    ports: tuple[str, ...] = ()  # -p specs, published on the infra container
    add_hosts: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()  # -v specs every container of the pod gets
    userns: str = ""
    exit_policy: str = "continue"
    pod_id_file: str = ""
    mac_address: str = ""  # the infra container's (the pod's network namespace)
    ip: str = ""
    network_aliases: tuple[str, ...] = ()
    no_hosts: bool = False
    shm_size: int | None = None
    infra_conmon_pidfile: str = ""  # where the infra's conmon PID is written at start
    create_command: tuple[str, ...] = ()  # the CLI's argv (inspect's CreateCommand, generate systemd --new)
    service_container: str = ""  # kube play --service-container: the ID of the container standing for the pod
    # ContainerConfig fields of the infra container (pod create's resource, device, security, --pid/--uts,
    # --volumes-from flags): members inherit devices, security options and limits they do not set themselves
    infra_config: dict[str, Any] = field(default_factory=dict)
    share_parent: bool = True  # --share-parent: members' cgroups go under the pod's

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = dataclasses.asdict(self)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PodSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in doc.items() if k in known}
        return cls(**values)


@dataclass(frozen=True)
class PodRecord:
    id: str
    name: str
    created: float
    labels: dict[str, str] = field(default_factory=dict)
    infra_id: str = ""  # "" if the pod has no infra container
    hostname: str = ""
    share: tuple[str, ...] = ("ipc", "net", "uts")
    spec: dict[str, Any] = field(default_factory=dict)  # the PodSpec as JSON

    @property
    def pod_spec(self) -> PodSpec:
        return PodSpec.from_json(self.spec)


@dataclass(frozen=True)
class PodContainer:
    """One member as ``pod ps --ctr-*`` and ``pod inspect`` show it."""

    id: str
    name: str
    state: str  # Podman's public container state: created, running, paused, exited...


@dataclass(frozen=True)
class PodSummary:
    """One row of ``pod ps`` and ``GET /libpod/pods/json``."""

    id: str
    name: str
    status: str  # Created | Running | Degraded | Exited | Paused | Stopped | Error
    created: float
    infra_id: str
    labels: dict[str, str]
    networks: tuple[str, ...]
    containers: tuple[PodContainer, ...]


def _from_row(row: sqlite3.Row) -> PodRecord:
    spec = json.loads(row["spec"])
    return PodRecord(id=row["id"], name=row["name"], created=row["created"], labels=dict(spec.get("labels") or {}),
                     infra_id=row["infra_id"], hostname=spec.get("hostname") or "",
                     share=tuple(spec.get("share") or ()), spec=spec)


def check_share(share: Sequence[str], infra: bool) -> tuple[str, ...]:
    """``--share``: Podman's namespace names; ``none`` (or an empty list) shares nothing."""
    out = []
    for kind in share:
        if kind not in SHAREABLE:
            raise InvalidArgument(f"invalid kernel namespace to share: {kind}. Options are: cgroup, ipc, net, pid, "
                                  "uts or none")
        if kind != "none":
            out.append(kind)
    if not infra:  # nothing holds namespaces to share, as Podman shares none without infra
        return ()
    return tuple(dict.fromkeys(out))


def pod_volume(spec: str) -> MountSpec:
    """A pod's ``-v SRC:DEST[:OPTS]`` (the form ``run -v`` takes), for every member."""
    import os

    from sealpod.engine.container_config import MountSpec

    parts = spec.split(":")
    if len(parts) == 1:
        return MountSpec("volume", parts[0])
    if len(parts) > 3 or not parts[1] or not parts[1].startswith("/"):
        raise InvalidArgument(f'invalid volume specification: "{spec}"')
    options = tuple(o for o in (parts[2].split(",") if len(parts) == 3 else []) if o)
    kind = "bind" if parts[0].startswith(("/", ".")) else "volume"
    return MountSpec(kind, parts[1], os.path.abspath(parts[0]) if kind == "bind" else parts[0], options,
                     "ro" in options)


class PodService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.store.db
        row = None
        with contextlib.suppress(sqlite3.OperationalError):
            row = self.db.conn.execute("SELECT value FROM meta WHERE key='pod_schema'").fetchone()
        if row is None or int(row[0]) != POD_SCHEMA:
            with self.db.write() as conn:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)

    # --- records ------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, pod_id: str) -> Iterator[None]:
        """The pod's lock (an flock in the run root, as containers have): one operation on a pod
        at a time across processes."""
        from sealpod.engine.container_state import container_lock

        with container_lock(self.engine.store.run_root, f"pod-{pod_id}"):
            yield

    def lookup(self, name_or_id: str) -> PodRecord:
        """By exact name, full ID or unambiguous ID prefix; NoSuchPod otherwise."""
        from sealpod.engine.names import find_row

        row = find_row(self.db.conn, "pods", name_or_id, "pod")
        if row is not None:
            return _from_row(row)
        raise NoSuchPod(f"no pod with name or ID {name_or_id} found: no such pod")

    def exists(self, name_or_id: str) -> bool:
        try:
            self.lookup(name_or_id)
        except NoSuchPod:
            return False
        return True

    def list_pods(self) -> list[PodRecord]:
        return [_from_row(r) for r in self.db.conn.execute("SELECT * FROM pods ORDER BY created")]

    def members(self, pod: PodRecord) -> list[ContainerRecord]:
        """The pod's containers, brought up to date with their processes; infra first."""
        from sealpod.engine.container_state import _from_row as ctr_from_row

        svc = self.engine.containers
        rows = self.db.conn.execute("SELECT * FROM containers WHERE pod_id=? ORDER BY created", (pod.id,))
        found = [svc.sync(ctr_from_row(r)) for r in rows]
        return sorted(found, key=lambda r: r.id != pod.infra_id)

    def infra_ids(self) -> dict[str, str]:
        """Infra container ID -> its pod's ID, for every pod that has one."""
        rows = self.db.conn.execute("SELECT infra_id, id FROM pods WHERE infra_id != ''")
        return {str(r[0]): str(r[1]) for r in rows}

    def container_ids(self, pod: PodRecord) -> list[str]:
        """Members, infra first."""
        return [r.id for r in self.members(pod)]

    def matching_ids(self, value: str) -> set[str]:
        """IDs of pods a ``--filter pod=`` value names: name, ID or ID prefix (regex-free)."""
        return {p.id for p in self.list_pods() if value in (p.name, p.id) or p.id.startswith(value)}

    def with_pod_names(self, found: list[ContainerSummary]) -> list[ContainerSummary]:
        """Fill ``ps``'s POD NAME and infra flag: one read of the pods table for all rows."""
        from sealpod.utils.record import replace

        pods = {p.id: p for p in self.list_pods()}
        out = []
        for s in found:
            pod = pods.get(s.pod_id)
            out.append(replace(s, pod_name=pod.name, is_infra=pod.infra_id == s.id) if pod else s)
        return out

    # --- create -------------------------------------------------------------------------

    def create(self, spec: PodSpec) -> PodRecord:
        from sealpod.engine import pod_checks
        from sealpod.engine.names import check_name, new_id, random_name

        pod_checks.check_no_infra(spec)
        pod_checks.check_pod_network(spec)
        pod_checks.check_namespace_flags(spec)
        share = check_share(spec.share, spec.infra)
        if spec.exit_policy not in ("continue", "stop"):
            raise InvalidArgument(f'running pod create option: invalid pod exit policy: "{spec.exit_policy}"')
        if spec.userns.startswith("container:") or (spec.userns not in ("", "host") and not spec.infra):
            raise InvalidArgument(f"--userns={spec.userns} needs an infra container of the pod's own: invalid "
                                  "argument")
        name = check_name(spec.name) if spec.name else ""
        if name:
            pod_checks.check_name_free(self.db.conn, name, for_pod=True)
        while not name:
            name = random_name()
            if self.exists(name):
                name = ""
        for vol in spec.volumes:
            pod_volume(vol)
        spec = dataclasses.replace(spec, name=name, share=share)
        pod = PodRecord(id=new_id(), name=name, created=time.time(), labels=dict(spec.labels),
                        hostname=spec.hostname, share=share, spec=spec.to_json())
        try:
            with self.db.write() as conn:
                conn.execute("INSERT INTO pods (id, name, created, infra_id, spec) VALUES (?,?,?,?,?)",
                             (pod.id, pod.name, pod.created, "", json.dumps(pod.spec)))
        except sqlite3.IntegrityError as e:
            raise PodExists(f'adding pod to state: name "{name}" is in use: pod already exists') from e
        if spec.infra:
            try:
                pod = self._create_infra(pod, spec)
            except BaseException:
                with self.db.write() as conn:
                    conn.execute("DELETE FROM pods WHERE id=?", (pod.id,))
                raise
        if spec.pod_id_file:
            from pathlib import Path

            Path(spec.pod_id_file).write_text(pod.id)
        self.engine.events.emit("pod", "create", id=pod.id, name=pod.name)
        return pod

    def _create_infra(self, pod: PodRecord, spec: PodSpec) -> PodRecord:
        from sealpod.engine.container_config import ContainerConfig

        image = spec.infra_image or self.engine.config.containers.engine.infra_image
        image_id = self._infra_image(image) if image else self.pause_image()
        config = ContainerConfig(
            image=image or self.pause_image_name(), name=spec.infra_name or f"{pod.id[:12]}-infra",
            entrypoint=tuple(spec.infra_command) or None, command=() if spec.infra_command else None,
            hostname=spec.hostname or pod.name,
            network=spec.network, networks=dict(spec.networks), ports=tuple(spec.ports),
            add_hosts=tuple(spec.add_hosts), dns_servers=tuple(spec.dns_servers),
            dns_search=tuple(spec.dns_search), dns_options=tuple(spec.dns_options), pull="never",
            mac_address=spec.mac_address, ip=spec.ip, network_aliases=spec.network_aliases,
            no_hosts=spec.no_hosts, shm_size=spec.shm_size, userns=spec.userns,
            mounts=tuple(pod_volume(v) for v in spec.volumes),  # the pod's volumes, as Podman's infra has them
            stop_signal="SIGTERM", stop_timeout=10, conmon_pidfile=spec.infra_conmon_pidfile)
        if spec.infra_config:
            from sealpod.engine.pod_inherit import infra_with

            config = infra_with(config, spec.infra_config)
        if spec.share_parent:  # the pod's cgroup, as in Podman: its members' go beside the infra's
            from sealpod.engine.cgroups import pod_cgroup

            config = dataclasses.replace(config, cgroup_parent=pod_cgroup(config.cgroup_parent, pod.id))
        from sealpod.engine.network_flags import check_config

        check_config(config)
        svc = self.engine.containers
        rec = svc.create(config, image_id=image_id)
        svc.db.update(rec, pod_id=pod.id)
        with self.db.write() as conn:
            conn.execute("UPDATE pods SET infra_id=? WHERE id=?", (rec.id, pod.id))
        return dataclasses.replace(pod, infra_id=rec.id)

    def _infra_image(self, name: str) -> str:
        """A chosen infra image is pulled when missing, as Podman does (its pull errors are the pod's)."""
        from sealpod.engine.entities import PullOptions

        return self.engine.images.pull_with_policy(name, "missing", PullOptions(), lambda _: None)[-1]

    def pause_image_name(self) -> str:
        """``localhost/podman-pause:VERSION-BUILT``, as ``version --format '{{.Version}}-{{.Built}}'`` says."""
        import sealpod

        return f"{PAUSE_IMAGE}:{sealpod.__version__}-{sealpod.BUILT}"

    def pause_image(self) -> str:
        """The infra image: built here on first use from the host's static catatonit, never pulled."""
        from sealpod.errors import NoSuchImage

        name = self.pause_image_name()
        try:
            return self.engine.images.get(name).id
        except NoSuchImage:
            pass
        from sealpod.engine.container_state import container_lock

        with container_lock(self.engine.store.run_root, "pause-image"):
            try:  # another process may have built it while we waited
                return self.engine.images.get(name).id
            except NoSuchImage:
                return self.engine.container_files.import_image(
                    _pause_tar(), name, changes=['ENTRYPOINT ["/catatonit", "-P"]'],
                    message="sealpod pause image")

    # --- membership ---------------------------------------------------------------------

    def member_config(self, config: ContainerConfig) -> tuple[str, ContainerConfig]:
        """A new member's configuration: the pod's shared namespaces, hostname, volumes, hosts, DNS."""
        maps_error = InvalidArgument("cannot specify a new uid/gid map when entering a pod with an infra container: "
                                     "invalid argument")
        if config.pod.startswith("new:") and (config.uid_maps or config.gid_maps):
            raise maps_error  # a new pod has an infra container: refused before the pod is made
        if config.pod.startswith("new:"):  # the container's ports and network become the new pod's
            pod = self.create(PodSpec(name=config.pod[4:], ports=config.ports, network=config.network,
                                      networks=dict(config.networks), hostname=config.hostname,
                                      ip=config.ip, mac_address=config.mac_address))
            config = dataclasses.replace(config, ports=(), network="", networks={}, hostname="", ip="",
                                         mac_address="")
        else:
            pod = self.lookup(config.pod)
        changes: dict[str, Any] = {"pod": pod.id}
        if config.init_ctr and any(r.state == "running" for r in self.members(pod)):
            raise InvalidArgument("cannot add init-ctr to a running pod")
        spec = pod.pod_spec
        infra = f"container:{pod.infra_id}" if pod.infra_id else ""
        if infra and spec.share_parent and not config.cgroup_parent:  # the member's cgroup goes under the pod's
            from sealpod.engine.cgroups import pod_cgroup

            changes["cgroup_parent"] = pod_cgroup(str(spec.infra_config.get("cgroup_parent") or ""), pod.id)
        if infra and (config.uid_maps or config.gid_maps):
            raise maps_error
        if infra and "net" in pod.share:
            if config.ports or config.publish_all or config.expose:
                raise InvalidArgument("invalid config provided: published or exposed ports must be defined when "
                                      "the pod is created: network cannot be configured when it is shared with a pod")
            if config.add_hosts and not config.network and not config.networks:
                raise InvalidArgument("extra host entries must be specified on the pod: network cannot be configured "
                                      "when it is shared with a pod")
            if config.ip or config.mac_address:  # an address is the infra's to have
                raise InvalidArgument("invalid config provided: networks must be defined when the pod is created: "
                                      "network cannot be configured when it is shared with a pod")
            if not config.network and not config.networks:
                changes["network"] = infra
        for kind in ("ipc", "uts", "pid"):
            if infra and kind in pod.share and not getattr(config, kind):
                changes[kind] = infra
        own_maps = any(spec.infra_config.get(k) for k in ("uid_maps", "gid_maps", "subuidname", "subgidname"))
        if infra and (spec.userns not in ("", "host") or own_maps):  # members join the infra's user namespace
            if config.userns or config.uid_maps or config.gid_maps:
                raise InvalidArgument("invalid config provided: cannot set a user namespace when joining a pod "
                                      "with one: invalid configuration")
            changes["userns"] = infra
        if infra and "uts" in pod.share and config.hostname:
            raise InvalidArgument("invalid config provided: cannot set hostname when joining the pod UTS namespace: "
                                  "invalid configuration")
        if "uts" in pod.share and not config.hostname:
            changes["hostname"] = pod.hostname or pod.name
        taken = {m.destination for m in config.mounts}
        changes["mounts"] = (*(m for m in map(pod_volume, spec.volumes) if m.destination not in taken),
                             *config.mounts)
        changes["add_hosts"] = (*spec.add_hosts, *config.add_hosts)
        changes["dns_servers"] = config.dns_servers or spec.dns_servers
        changes["dns_search"] = config.dns_search or spec.dns_search
        changes["dns_options"] = config.dns_options or spec.dns_options
        if infra:
            from sealpod.engine.pod_inherit import inherited

            changes.update(inherited(spec, pod.share, config, infra))
        return pod.id, dataclasses.replace(config, **changes)

    def prepare_member(self, rec: ContainerRecord) -> None:
        """Before a member starts: its pod's infra container runs (started now if need be)."""
        from sealpod.engine.container_state import State

        try:
            pod = self.lookup(rec.pod_id)
        except NoSuchPod:
            return
        if not pod.infra_id or pod.infra_id == rec.id:
            return
        svc = self.engine.containers
        infra = svc.lookup(pod.infra_id)
        if infra.state == State.PAUSED:
            svc.unpause(infra.id)
        elif infra.state != State.RUNNING:
            svc.start(infra.id)

    def member_exited(self, rec: ContainerRecord) -> None:
        """``--exit-policy=stop``: when the last member has exited, the infra container stops too."""
        from sealpod.engine.container_state import State

        try:
            pod = self.lookup(rec.pod_id)
        except NoSuchPod:
            return
        from sealpod.engine.pod_inherit import is_init_container

        if pod.pod_spec.exit_policy != "stop" or not pod.infra_id or rec.id == pod.infra_id:
            return
        if is_init_container(rec):  # its end is a step of the pod's start: the others have yet to start
            return
        others = [r for r in self.members(pod) if r.id not in (rec.id, pod.infra_id)]
        # only members that are done count as done, as in Podman: one not started yet (a played pod's
        # next container while its init container's cleanup runs) keeps the pod up
        if any(r.state not in (State.EXITED, State.STOPPING, State.REMOVING) for r in others):
            return
        with contextlib.suppress(SealpodError):
            self.engine.containers.stop(pod.infra_id)
        self._service_idle(pod)

    def _service_idle(self, pod: PodRecord) -> None:
        if pod.spec.get("service_container"):
            from sealpod.engine import pod_service

            pod_service.stop_if_idle(self.engine, pod.spec["service_container"])

    def check_removable(self, rec: ContainerRecord) -> None:
        """The infra container goes only with its pod, a service container with its pods."""
        from sealpod.engine import pod_service

        pod_service.check_removable(self.engine, rec.id)
        row = self.db.conn.execute("SELECT id FROM pods WHERE infra_id=?", (rec.id,)).fetchone()
        if row is not None:
            raise ContainerHasDependents(f"container {rec.id} is the infra container of pod {row[0]} and cannot be "
                                         "removed without removing the pod")

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, name_or_id: str) -> PodRecord:
        """Infra first, then every member; a member that fails does not stop the others."""
        from sealpod.engine.container_state import State

        pod = self.lookup(name_or_id)
        svc = self.engine.containers
        errors: list[SealpodError] = []
        if pod.spec.get("service_container"):
            from sealpod.engine import pod_service

            pod_service.ensure_running(self.engine, pod.spec["service_container"])
        with self.lock(pod.id):
            members = self.members(pod)
            if not members:
                raise NoSuchContainer(f"no containers in pod {pod.id} have no dependencies, cannot start pod: no "
                                      "such container")
            from sealpod.engine.pod_inherit import run_init_containers

            members = run_init_containers(self.engine, members, pod.infra_id)
            for rec in members:
                if rec.state in (State.RUNNING, State.PAUSED):
                    continue
                try:
                    svc.start(rec.id)
                except SealpodError as e:
                    errors.append(e)
        self.engine.events.emit("pod", "start", id=pod.id, name=pod.name)
        if errors:
            raise type(errors[0])(f"starting some containers: {errors[0]}")
        return pod

    def stop(self, name_or_id: str, timeout: int | None = None) -> PodRecord:
        """Members first, the infra container last (it holds their namespaces)."""
        pod = self.lookup(name_or_id)
        svc = self.engine.containers
        with self.lock(pod.id):
            for rec in reversed(self.members(pod)):
                with contextlib.suppress(NoSuchContainer):
                    svc.stop(rec.id, timeout)
        self._service_idle(pod)
        self.engine.events.emit("pod", "stop", id=pod.id, name=pod.name)
        return pod

    def restart(self, name_or_id: str) -> PodRecord:
        pod = self.stop(name_or_id)
        self.start(pod.id)
        self.engine.events.emit("pod", "restart", id=pod.id, name=pod.name)
        return pod

    def kill(self, name_or_id: str, signal: str = "SIGKILL", *, require_running: bool = False) -> PodRecord:
        """Signal the running members (none running is no error, as Podman's CLI); its REST API
        refuses a pod with no member running: ``require_running``."""
        from sealpod.engine.container_state import State
        from sealpod.engine.containers import parse_signal

        parse_signal(signal)
        pod = self.lookup(name_or_id)
        svc = self.engine.containers
        members = self.members(pod)
        running = [r for r in members if r.state in (State.RUNNING, State.PAUSED)]
        if require_running and not any(r.state == State.RUNNING for r in members):
            raise ContainerStateInvalid(f"cannot kill a pod with no running containers: {pod.id}")
        for rec in reversed(running):
            with contextlib.suppress(ContainerStateInvalid, NoSuchContainer):
                svc.kill(rec.id, signal)
        if parse_signal(signal) == 9:  # SIGKILL cannot be ignored: report the pod as it is now, exited
            self._wait_exited([r.id for r in running], 5)
            self._service_idle(pod)
        self.engine.events.emit("pod", "kill", id=pod.id, name=pod.name)
        return pod

    def _wait_exited(self, ids: list[str], timeout: float) -> None:
        from sealpod.engine.container_state import State

        svc = self.engine.containers
        deadline = time.monotonic() + timeout
        delay = 0.005
        while ids and time.monotonic() < deadline:
            ids = [r.id for r in svc.list_containers() if r.id in ids and r.state in (State.RUNNING, State.PAUSED)]
            time.sleep(delay if ids else 0)
            delay = min(delay * 2, 0.1)

    def pause(self, name_or_id: str) -> PodRecord:
        return self._each_in_state(name_or_id, "running", "pause")

    def unpause(self, name_or_id: str) -> PodRecord:
        return self._each_in_state(name_or_id, "paused", "unpause")

    def _each_in_state(self, name_or_id: str, state: str, action: str) -> PodRecord:
        pod = self.lookup(name_or_id)
        svc = self.engine.containers
        for rec in self.members(pod):
            if rec.state == state:
                getattr(svc, action)(rec.id)
        self.engine.events.emit("pod", action, id=pod.id, name=pod.name)
        return pod

    def remove(self, name_or_id: str, *, force: bool = False, volumes: bool = False,
               timeout: int | None = None) -> str:
        """Members, then the infra container, then the pod; running members need ``force``."""
        from sealpod.engine.container_state import State

        pod = self.lookup(name_or_id)
        svc = self.engine.containers
        with self.lock(pod.id):
            members = self.members(pod)
            busy = [r for r in members if r.state in (State.RUNNING, State.PAUSED)]
            others = [r for r in busy if r.id != pod.infra_id]  # a running infra alone goes, as in Podman
            if others and not force:
                raise Conflict(f"removing container {others[0].id} from pod {pod.id}: cannot remove container "
                               f"{others[0].id} as it is {others[0].state} - running or paused containers cannot "
                               "be removed without force: container state improper")
            if force and timeout is not None:
                for rec in reversed(busy):
                    with contextlib.suppress(SealpodError):
                        svc.stop(rec.id, timeout)
            for rec in reversed(members):  # the newest first: a member may have joined an older one's namespace
                if rec.id != pod.infra_id:
                    with contextlib.suppress(NoSuchContainer):
                        svc.remove(rec.id, force=True, volumes=volumes)
            with self.db.write() as conn:
                conn.execute("UPDATE pods SET infra_id='' WHERE id=?", (pod.id,))
            if pod.infra_id:
                with contextlib.suppress(NoSuchContainer):
                    svc.remove(pod.infra_id, force=True, volumes=volumes)
                for rec in (r for r in members if r.id == pod.infra_id):  # the infra's anonymous volumes are the
                    self.engine.volumes.remove_anonymous_of(rec)  # pod's (kube emptyDir): they go with it, as Podman's
            with self.db.write() as conn:
                conn.execute("DELETE FROM pods WHERE id=?", (pod.id,))
        if not self.engine.config.rootless:  # the pod's cgroup, emptied now
            from sealpod.engine.cgroups import pod_cgroup, remove_cgroup

            remove_cgroup(pod_cgroup(str(pod.pod_spec.infra_config.get("cgroup_parent") or ""), pod.id))
        if pod.spec.get("service_container"):
            from sealpod.engine import pod_service

            pod_service.remove_if_unused(self.engine, pod.spec["service_container"])
        with contextlib.suppress(OSError):
            (self.engine.store.run_root / "locks" / f"pod-{pod.id}").unlink(missing_ok=True)
        self.engine.events.emit("pod", "remove", id=pod.id, name=pod.name)
        return pod.id

    def prune(self) -> list[str]:
        """Remove stopped or exited pods; created ones (never started) stay, as in Podman."""
        gone = []
        for s in self.summaries():
            if s.status in ("Exited", "Stopped"):
                with contextlib.suppress(NoSuchPod):
                    gone.append(self.remove(s.id, force=True))
        return gone

    # --- reports ------------------------------------------------------------------------

    def summaries(self, filters: Sequence[str] = ()) -> list[PodSummary]:
        from sealpod.engine.pod_report import filtered, summarize

        found = [summarize(self, p) for p in self.list_pods()]
        return filtered(found, filters)

    def inspect(self, name_or_id: str) -> dict[str, Any]:
        from sealpod.engine.pod_report import inspect

        return inspect(self, self.lookup(name_or_id))

    def top(self, name_or_id: str, descriptors: Sequence[str] = ()) -> list[list[str]]:
        """``pod top``: the processes of every running member, one table."""
        from sealpod.engine.pod_report import top

        return top(self, self.lookup(name_or_id), descriptors)


def _pause_tar() -> Any:
    """A one-file root filesystem: the host's (static) catatonit and the usual mount points."""
    import io
    import shutil
    import tarfile

    binary = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("dev", "proc", "sys", "etc", "run", "tmp"):
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        try:
            with open(binary, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgument(f"building the pause image: {binary}: {e.strerror}: install catatonit") from e
        info = tarfile.TarInfo("catatonit")
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf
