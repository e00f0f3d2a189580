"""What ``ps``, ``inspect`` and ``logs`` show about containers."""

from __future__ import annotations

import fnmatch
import functools
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import InvalidArgument, SealpodError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine.containers import ContainerService
    from sealpod.engine.network_state import Attachment


@dataclass(frozen=True)
class PublishedPort:
    """``range`` ports from ``host_port`` on the host forwarded to ``container_port``."""

    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"
    range: int = 1

    def __str__(self) -> str:
        """ps's form: ``0.0.0.0:8080->80/tcp`` (``-8081`` / ``-81`` suffixes for ranges)."""
        last = self.range - 1
        host = f"{self.host_ip or '0.0.0.0'}:{self.host_port}" + (f"-{self.host_port + last}" if last else "")
        inner = f"{self.container_port}" + (f"-{self.container_port + last}" if last else "")
        return f"{host}->{inner}/{self.protocol}"


@dataclass(frozen=True)
class ContainerSummary:
    """One container as ``ps`` lists it."""

    id: str
    name: str
    image: str
    image_id: str
    command: tuple[str, ...]
    created: float
    state: str
    exit_code: int | None
    started_at: float
    finished_at: float
    pid: int
    labels: dict[str, str]
    auto_remove: bool
    mounts: tuple[str, ...]
    ports: tuple[PublishedPort, ...] = ()  # published ports of a running container
    rw_size: int | None = None  # bytes written by the container (ps --size)
    root_size: int | None = None  # rw_size plus the image
    pod_id: str = ""  # the pod it belongs to
    pod_name: str = ""
    is_infra: bool = False  # the infra container of its pod
    health: str = ""  # healthy | unhealthy | starting; "" without a healthcheck (ps's "Up 3 seconds (healthy)")
    network: str = ""  # the --network mode as given ("" for the default)
    networks: tuple[str, ...] = ()  # the networks it is on (ps's NETWORKS), the default one filled in by summaries
    namespaces: tuple[tuple[str, str], ...] = ()  # (kind, inode) of a running process's namespaces (ps --ns)

    def to_json(self) -> dict[str, Any]:
        exited = self.state in (State.EXITED, State.STOPPED)
        return {
            "AutoRemove": self.auto_remove, "Command": list(self.command), "CreatedAt": "", "Exited": exited,
            "ExitedAt": int(self.finished_at) if self.finished_at else -62135596800,
            "ExitCode": self.exit_code or 0, "Id": self.id, "Image": self.image, "ImageID": self.image_id,
            "IsInfra": self.is_infra, "Labels": self.labels or None, "Mounts": list(self.mounts), "Names": [self.name],
            "Namespaces": dict(self.namespaces), "Networks": list(self.networks), "Pid": self.pid,
            "Pod": self.pod_id, "PodName": self.pod_name, "Ports": [
                {"host_ip": "" if p.host_ip == "0.0.0.0" else p.host_ip, "container_port": p.container_port,
                 "host_port": p.host_port, "range": p.range, "protocol": p.protocol} for p in self.ports] or None,
            "Size": None, "StartedAt": int(self.started_at) if self.started_at else -62135596800,
            "State": "initialized" if self.state == State.CREATED else _public_state(self.state), "Status": "",
            "Created": int(self.created),
        }


def _public_state(state: str) -> str:
    """Podman shows a container that never ran as created, and a stopped one as exited."""
    public: dict[str, str] = {State.STOPPED: "exited", State.CONFIGURED: "created"}
    return public.get(state, state)  # "storage" too: no State of ours


def summarize(rec: ContainerRecord) -> ContainerSummary:
    mounts = tuple(m.get("destination", "") for m in rec.config.get("mounts", []))
    return ContainerSummary(
        id=rec.id, name=rec.name, image=rec.image_name, image_id=rec.image_id or "",
        command=tuple(rec.spec.get("command", [])), created=rec.created, state=rec.state,
        exit_code=rec.exit_code, started_at=rec.started_at, finished_at=rec.finished_at, pid=rec.pid,
        labels=dict(rec.spec.get("labels") or rec.config.get("labels") or {}),
        auto_remove=bool(rec.config.get("remove")), mounts=mounts, pod_id=rec.pod_id,
        network=rec.config.get("network") or "", networks=tuple(rec.config.get("networks") or ()))


def summarize_row(row: Any) -> ContainerSummary:
    """The same as :func:`summarize`, from a ``ContainerDB.ps_rows`` row."""
    import json

    mounts = json.loads(row["mounts"]) if row["mounts"] and row["mounts"] != "[]" else []
    labels = row["labels"]
    return ContainerSummary(
        id=row["id"], name=row["name"], image=row["image_name"], image_id=row["image_id"] or "",
        command=tuple(json.loads(row["command"]) if row["command"] else ()), created=row["created"],
        state=row["state"], exit_code=row["exit_code"], started_at=row["started_at"],
        finished_at=row["finished_at"], pid=row["pid"], labels=json.loads(labels) if labels and labels != "{}" else {},
        auto_remove=bool(row["remove"]), mounts=tuple(m.get("destination", "") for m in mounts),
        pod_id=row["pod_id"] or "", network=row["network"] or "",
        networks=tuple(json.loads(row["networks"])) if row["networks"] and row["networks"] != "{}" else ())


_FILTER_KEYS = ("id", "name", "label", "status", "exited", "ancestor", "before", "since", "volume", "health",
                "pod", "network", "until", "restart-policy", "is-task")
_STATUSES = ("created", "running", "paused", "exited", "stopped", "configured", "removing", "unknown")


def _regex(value: str) -> re.Pattern[str] | None:
    """Podman matches id and name filters as regular expressions; a bad one simply matches nothing."""
    try:
        return re.compile(value)
    except re.error:
        return None


def _id_matcher(value: str) -> Callable[[ContainerRecord], bool]:
    """Hex digits alone are an ID prefix (any case); anything else is a regex over the full ID."""
    lowered = value.lower()
    if lowered and all(c in "0123456789abcdef" for c in lowered):
        return lambda r: r.id.startswith(lowered)
    id_re = _regex(lowered)
    return lambda r: bool(id_re and id_re.search(r.id))


def _filter(key: str, value: str, svc: ContainerService) -> Callable[[ContainerRecord], bool]:
    if key == "id":
        return _id_matcher(value)
    if key == "name":
        name_re = _regex(value)
        return lambda r: fnmatch.fnmatchcase(r.name, value) or value in r.name or bool(
            name_re and name_re.search(r.name))
    if key == "label":
        k, has, v = value.partition("=")
        return lambda r: k in (r.spec.get("labels") or {}) and (not has or (r.spec.get("labels") or {})[k] == v)
    if key == "status":
        if value not in _STATUSES:
            raise InvalidArgument(f"{value} is not a valid status")
        return lambda r: _public_state(r.state) == value or (
            value == "stopped" and r.state in (State.STOPPED, State.EXITED))
    if key == "exited":
        code = int(value)
        return lambda r: r.state in (State.EXITED, State.STOPPED) and r.exit_code == code
    if key == "ancestor":  # also the image's name without its tag when that tag is latest, as in Podman
        return lambda r: value in (r.image_name, r.image_id, r.image_name.removesuffix(":latest")) \
            or r.image_name.split("/")[-1].startswith(value) or (r.image_id or "").startswith(value)
    if key in ("before", "since"):
        pivot = svc.lookup(value)
        if key == "before":
            return lambda r: r.created < pivot.created
        return lambda r: r.created > pivot.created
    if key == "volume":  # a volume name, a source or destination path, or SOURCE:DESTINATION
        src, _, dst = value.partition(":")
        return lambda r: any(value in (m.get("source"), m.get("destination"))
                             or (dst and (m.get("source"), m.get("destination")) == (src, dst))
                             for m in r.config.get("mounts", []))
    if key == "health":
        if value not in ("healthy", "unhealthy", "starting", "none"):
            raise InvalidArgument(f"{value} is not a valid health status")
        return lambda r: (svc.engine.health.status(r.id) or "none" if r.spec.get("healthcheck") else "none") == value
    if key == "pod":
        pods = svc.engine.pods.matching_ids(value)
        return lambda r: r.pod_id in pods
    if key == "network":
        from sealpod.engine.container_ps import network_filter

        return network_filter(svc, value)
    if key == "restart-policy":
        if value not in ("none", "no", "always", "on-failure", "unless-stopped"):
            raise InvalidArgument(f"{value} invalid restart policy")
        # "none" is the policy of a container created without --restart (Podman's empty name).
        wanted = "" if value == "none" else value
        return lambda r: (r.config.get("restart") or {}).get("name", "") == wanted
    raise InvalidArgument(f'"{key}" is an invalid filter')


def filtered(svc: ContainerService, records: list[ContainerRecord], filters: Sequence[str]) -> list[ContainerRecord]:
    by_key: dict[str, list[Callable[[ContainerRecord], bool]]] = {}
    for spec in filters:
        key, sep, value = spec.partition("=")
        if not sep:
            raise InvalidArgument(f'invalid filter "{spec}"')
        by_key.setdefault(key, []).append(_filter(key, value, svc))
    return [r for r in records if all(any(p(r) for p in preds) if k != "label" else all(p(r) for p in preds)
                                      for k, preds in by_key.items())]


def inspect(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    """Podman's ``container inspect`` document (see :mod:`sealpod.engine.container_inspect`)."""
    from sealpod.engine.container_inspect import inspect_document

    return inspect_document(svc, rec)



def network_settings(svc: ContainerService, rec: ContainerRecord, *, live: bool = True) -> dict[str, Any]:
    """Docker's and Podman's ``NetworkSettings``: addresses and ports of the current run (``live``:
    if there is one; without, what a stopped container shows)."""
    from sealpod.engine.port_alloc import port_map

    status = svc.engine.networks.status_of(rec) if live and rec.state in ("running", "paused") else None
    # not running: the host ports chosen at create, as Podman shows them (any address: ""); exposed ports null
    ports: dict[str, Any] = port_map(rec.config, rec.spec)
    if status is not None:
        ports = {k: v for k, v in ports.items() if v is None}
        for p in status.ports:
            for i in range(p.range):
                key = f"{p.container_port + i}/{p.protocol}"
                ports[key] = [*(ports.get(key) or ()), {"HostIp": p.host_ip or "0.0.0.0",
                                                        "HostPort": str(p.host_port + i)}]
        ports = dict(sorted(ports.items()))
    networks: dict[str, Any] = {}
    for a in status.attachments if status else ():
        networks[a.network] = {"IPAMConfig": None, "Links": None, "Aliases": list(a.aliases),
                               "NetworkID": a.network, "EndpointID": "", **endpoint_addresses(a),
                               "MacAddress": a.mac_address}
    for name, opts in svc.engine.networks.configured_networks(rec).items():
        networks.setdefault(name, {  # not started yet: the network it will join, with no address
            "IPAMConfig": None, "Links": None, "Aliases": list(opts.get("aliases") or ()), "NetworkID": name,
            "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": ""})
    for doc in networks.values():  # Podman and Docker also answer to the short ID on every network
        if rec.id[:12] not in doc["Aliases"]:
            doc["Aliases"].append(rec.id[:12])
    # as Podman: the top-level fields are those of the default network, when it is the only one
    default = svc.engine.config.containers.network.default_network or "podman"
    first: dict[str, Any] = networks.get(default, {}) if list(networks) == [default] else {}
    return {"Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0, "Ports": ports, "SandboxKey": (status.netns or "") if status else "",
            "EndpointID": "", **{k: first.get(k, "") for k in ("Gateway", "IPAddress", "IPv6Gateway",
                                                               "GlobalIPv6Address", "MacAddress")},
            "IPPrefixLen": first.get("IPPrefixLen", 0), "GlobalIPv6PrefixLen": first.get("GlobalIPv6PrefixLen", 0),
            "Networks": networks}


def docker_network_settings(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    """The Docker API's ``NetworkSettings``: a container in another's network namespace (a pod
    member, ``--network container:X``) shows that one's networks and ports (addresses while both
    run), as Podman's compat API shows them (it converts its own inspect)."""
    mode = rec.config.get("network") or ""
    owner_id = mode.removeprefix("container:") if mode.startswith("container:") else ""
    owner = None
    if owner_id and owner_id != rec.id:
        try:
            owner = svc.lookup(owner_id)
        except SealpodError:
            pass
    if owner is None:
        return network_settings(svc, rec)
    live = ("running", "paused")
    # stopped: the networks it will share, with no address, as Podman shows them
    return network_settings(svc, owner, live=rec.state in live and owner.state in live)


def endpoint_addresses(a: Attachment) -> dict[str, Any]:
    """The first IPv4 and the first IPv6 address of an interface, each with its prefix length and the
    gateway of its subnet (Podman's inspect fields); more addresses of a family are secondary ones."""
    import ipaddress

    out: dict[str, Any] = {"Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                           "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0}
    for cidr in a.addresses:
        try:
            iface = ipaddress.ip_interface(cidr)
        except ValueError:
            continue
        gateway = next((g for g in a.gateways if _in_network(g, iface.network)), "")
        keys = ("IPAddress", "IPPrefixLen", "Gateway", "SecondaryIPAddresses") if iface.version == 4 else \
            ("GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPv6Gateway", "SecondaryIPv6Addresses")
        if out[keys[0]]:
            out.setdefault(keys[3], []).append({"Addr": str(iface.ip), "PrefixLength": iface.network.prefixlen})
            continue
        out.update({keys[0]: str(iface.ip), keys[1]: iface.network.prefixlen, keys[2]: gateway})
    return out


def _in_network(address: str, network: Any) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address) in network
    except (ValueError, TypeError):
        return False


def logs(svc: ContainerService, names: Sequence[str], *, stdout: BinaryIO, stderr: BinaryIO, follow: bool,
         tail: int, since: str | None, until: str | None, timestamps: bool, names_prefix: bool) -> None:
    from sealpod.runtime import logs as logfile

    since_ns = _time_arg(since)
    until_ns = _time_arg(until, since=False)
    records = [svc.lookup(n) for n in names]
    for rec in records:
        cfg = rec.config
        driver = cfg.get("log_driver") or svc.engine.config.containers.containers.log_driver or "k8s-file"
        if driver in ("none", "passthrough"):
            raise InvalidArgument(f"this container is using the '{driver}' log driver, cannot read logs: "
                                  "this container is not logging output")

    def running(r: ContainerRecord | str) -> bool:
        try:
            return svc.lookup(r if isinstance(r, str) else r.id).state in (State.RUNNING, State.PAUSED,
                                                                            State.CREATED)
        except Exception:  # noqa: BLE001 - removed while following
            return False

    def write(prefix: bytes, entry: Any) -> None:
        out = stderr if entry.stream == "stderr" else stdout
        out.write(prefix + logfile.format_entry(entry, timestamps=timestamps))
        out.flush()

    if follow and len(records) > 1:  # several followed at once: lines in the order they are written
        from sealpod.engine.log_follow import FollowSource, follow_many

        sources = [FollowSource(r.id, svc.paths(r.id).log, f"{r.id[:12]} ".encode() if names_prefix else b"")
                   for r in records]
        follow_many(sources, is_running=running, write=write, since_ns=since_ns, until_ns=until_ns,
                    tail=tail if tail >= 0 else None)
        return
    for rec in records:
        path = svc.paths(rec.id).log
        prefix = f"{rec.id[:12]} ".encode() if names_prefix else b""
        entries = (logfile.follow(path, is_running=functools.partial(running, rec), since_ns=since_ns,
                                  until_ns=until_ns, tail=tail if tail >= 0 else None) if follow else
                   logfile.read_entries(path, since_ns=since_ns, until_ns=until_ns, tail=tail if tail >= 0 else None))
        for entry in entries:
            write(prefix, entry)


def _time_arg(text: str | None, *, since: bool = True) -> int | None:
    """``--since``/``--until``: RFC 3339, a Unix time, or a duration from now: back for since (``10m``
    ago), forward for until (``--until 3s -f`` follows for three more seconds), as Podman's."""
    if not text:
        return None
    import re

    m = re.fullmatch(r"([-+]?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)", text)
    if m:  # a Go duration, signed and compound like Go's ("-1s", "1h30m"); negative reaches into the future
        scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
        seconds = sum(float(n) * scale[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", m.group(2)))
        seconds = -seconds if m.group(1) == "-" else seconds
        return int((time.time() + (-seconds if since else seconds)) * 1e9)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text) * 1e9)
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError as e:
        raise InvalidArgument(f'invalid time "{text}": use RFC 3339, a Unix timestamp or a duration') from e
