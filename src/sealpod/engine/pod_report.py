"""What ``pod ps``, ``pod inspect`` and ``pod top`` show about pods, in Podman's words."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence

from sealpod.engine.pods import PodContainer, PodRecord, PodSummary
from sealpod.errors import ContainerStateInvalid, InvalidArgument
from sealpod.utils.timefmt import rfc3339

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.pods import PodService

POD_STATUSES = ("stopped", "running", "paused", "exited", "dead", "created", "degraded")
_FILTER_KEYS = ("id", "name", "label", "status", "ctr-names", "ctr-ids", "ctr-status", "ctr-number", "network",
                "until")


def public_state(state: str) -> str:
    """Podman shows a container that never ran as created, and a stopped one as exited."""
    return {"stopped": "exited", "configured": "created"}.get(state, state)


def pod_status(states: Sequence[str]) -> str:
    """The pod's state from its containers': all alike gives that state, running mixed with
    anything else is Degraded, as ``podman pod ps`` reports."""
    if not states:
        return "Created"
    count = {"running": 0, "paused": 0, "stopped": 0, "created": 0, "error": 0}
    for state in states:
        key = {"exited": "stopped", "configured": "created"}.get(state, state)
        count[key if key in count else "error"] += 1
    total = len(states)
    if count["running"] and count["running"] < total:
        return "Degraded"
    if count["running"] == total:
        return "Running"
    if count["stopped"] == total:
        return "Exited"
    if count["stopped"]:
        return "Stopped"
    if count["error"]:
        return "Error"
    if count["paused"] == total:
        return "Paused"
    return "Created"


def _networks(svc: PodService, pod: PodRecord, members: Sequence[ContainerRecord]) -> tuple[str, ...]:
    """The networks of the infra container, as configured (Podman lists them for a created pod too)."""
    infra = next((r for r in members if r.id == pod.infra_id), None)
    if infra is None:
        return ()
    cfg = infra.config
    if cfg.get("networks"):
        return tuple(cfg["networks"])
    mode = cfg.get("network") or ""
    if mode in ("", "bridge", "default"):
        return (svc.engine.networks.files.default.name,)
    if mode in ("none", "host", "private", "slirp4netns", "pasta") or ":" in mode:
        return ()
    return (mode,)


def summarize(svc: PodService, pod: PodRecord) -> PodSummary:
    members = svc.members(pod)
    from sealpod.engine.pod_inherit import is_init_container

    ctrs = tuple(PodContainer(r.id, r.name, public_state(r.state)) for r in sorted(members, key=lambda r: r.id))
    status = pod_status([public_state(r.state) for r in members if not is_init_container(r)])
    return PodSummary(id=pod.id, name=pod.name, status=status, created=pod.created,
                      infra_id=pod.infra_id, labels=dict(pod.labels), networks=_networks(svc, pod, members),
                      containers=ctrs)


def _filter(key: str, value: str) -> Callable[[PodSummary], bool]:
    if key == "id":
        return lambda s: s.id.startswith(value)
    if key == "name":  # a regular expression, as Podman matches it (a glob too, as before)
        return lambda s: _regex_search(value, s.name) or fnmatch.fnmatchcase(s.name, value)
    if key == "label":
        k, has, v = value.partition("=")
        return lambda s: k in s.labels and (not has or s.labels[k] == v)
    if key == "status":
        if value not in POD_STATUSES:
            raise InvalidArgument(f"{value} is not a valid pod status")
        return lambda s: s.status.lower() == value
    if key == "ctr-names":
        return lambda s: any(_regex_search(value, c.name) for c in s.containers)
    if key == "ctr-ids":
        return lambda s: any(c.id.startswith(value) for c in s.containers)
    if key == "ctr-status":
        return lambda s: any(c.state == value for c in s.containers)
    if key == "ctr-number":
        return lambda s: str(len(s.containers)) == value
    if key == "network":
        return lambda s: value in s.networks
    if key == "until":
        from sealpod.engine.events import parse_time

        limit = parse_time(value)
        return lambda s: limit is not None and s.created * 1e9 < limit
    raise InvalidArgument(f'"{key}" is an invalid filter')


def _regex_search(pattern: str, text: str) -> bool:
    import re

    try:
        return re.search(pattern, text) is not None
    except re.error:
        return pattern in text


def filtered(found: list[PodSummary], filters: Sequence[str]) -> list[PodSummary]:
    """Values of one key are alternatives; different keys must all match (labels: all of them)."""
    by_key: dict[str, list[Callable[[PodSummary], bool]]] = {}
    for spec in filters:
        key, sep, value = spec.partition("=")
        if not sep:
            raise InvalidArgument(f'invalid filter "{spec}"')
        by_key.setdefault(key, []).append(_filter(key, value))
    return [s for s in found if all(any(p(s) for p in preds) if k != "label" else all(p(s) for p in preds)
                                    for k, preds in by_key.items())]


def _infra_config(svc: PodService, pod: PodRecord, infra: ContainerRecord | None) -> dict[str, Any]:
    from sealpod.network.portmap import parse_publish

    spec = pod.pod_spec
    bindings: dict[str, list[dict[str, str]]] = {}
    for text in infra.config.get("ports") or () if infra is not None else spec.ports:  # host ports chosen at create
        for m in parse_publish(text):
            for i in range(m.range):
                bindings.setdefault(f"{m.container_port + i}/{m.protocol}", []).append(
                    {"HostIp": m.host_ip, "HostPort": str(m.host_port + i) if m.host_port else ""})
    members = [infra] if infra is not None else []
    return {
        "PortBindings": bindings, "HostNetwork": spec.network == "host", "StaticIP": "", "StaticMAC": "",
        "NoManageResolvConf": "none" in spec.dns_servers,  # --dns none: the image's resolv.conf
        "DNSServer": [d for d in spec.dns_servers if d != "none"] or None,
        "DNSSearch": list(spec.dns_search) or None, "DNSOption": list(spec.dns_options) or None,
        "NoManageHosts": spec.no_hosts, "HostAdd": list(spec.add_hosts) or None,
        "Networks": list(_networks(svc, pod, members)), "NetworkOptions": _network_options(spec.network),
        **_cpu_limits(spec.infra_config),
        "pid_ns": spec.infra_config.get("pid") or "private", "userns": spec.userns or "host",
        "uts_ns": spec.infra_config.get("uts") or "private",
    }


def _network_options(mode: str) -> dict[str, list[str]] | None:
    """``--network slirp4netns:OPTS``: the options as given, under the mode's name."""
    name, sep, opts = mode.partition(":")
    if not sep or name not in ("slirp4netns", "pasta"):
        return None
    return {name: [o for o in opts.split(",") if o]}


def _cpu_limits(conf: dict[str, Any]) -> dict[str, Any]:
    """``--cpus`` as Podman reports it: a CFS period of 100 ms and the matching quota."""
    out: dict[str, Any] = {}
    if conf.get("cpus"):
        out.update(cpu_period=100000, cpu_quota=int(float(conf["cpus"]) * 100000))
    if conf.get("cpuset_cpus"):
        out["cpuset_cpus"] = conf["cpuset_cpus"]
    return out


def _pod_limits(svc: PodService, pod: PodRecord, infra: ContainerRecord | None) -> dict[str, Any]:
    """The pod-wide settings of ``pod create`` (Podman's lower-case keys), as its infra container has them."""
    conf = pod.pod_spec.infra_config
    out: dict[str, Any] = {k: v for k, v in _cpu_limits(conf).items() if k != "cpuset_cpus"}
    if conf.get("cpu_shares"):
        out["cpu_shares"] = conf["cpu_shares"]
    if conf.get("cpuset_cpus"):
        out["cpuset_cpus"] = conf["cpuset_cpus"]
    if conf.get("cpuset_mems"):
        out["cpuset_mems"] = conf["cpuset_mems"]
    host: dict[str, Any] = {}
    if infra is not None:
        from sealpod.engine.container_inspect import inspect_document

        doc = inspect_document(svc.engine.containers, infra)
        host = doc.get("HostConfig") or {}
        if doc.get("Mounts"):
            out["mounts"] = doc["Mounts"]
        if host.get("Devices"):
            out["devices"] = host["Devices"]
    for key, flag in (("device_read_bps", "BlkioDeviceReadBps"), ("device_write_bps", "BlkioDeviceWriteBps")):
        if host.get(flag):
            out[key] = host[flag]
    if conf.get("volumes_from"):
        out["volumes_from"] = list(conf["volumes_from"])
    if conf.get("security_opts"):
        out["security_opt"] = list(conf["security_opts"])
    if conf.get("memory"):
        swap = conf.get("memory_swap")
        out.update(memory_limit=conf["memory"], memory_swap=swap if swap else 2 * int(conf["memory"]))
    if conf.get("blkio_weight"):
        out["blkio_weight"] = conf["blkio_weight"]
    if host.get("BlkioWeightDevice"):
        out["blkio_weight_device"] = host["BlkioWeightDevice"]
    return out


def inspect(svc: PodService, pod: PodRecord) -> dict[str, Any]:
    """Podman's ``pod inspect`` document."""
    from sealpod.engine.pod_inherit import is_init_container

    members = svc.members(pod)
    states = [public_state(r.state) for r in members]
    spec = pod.pod_spec
    doc: dict[str, Any] = {
        "Id": pod.id, "Name": pod.name, "Created": rfc3339(pod.created),
        "CreateCommand": list(spec.create_command) or None,
        "ExitPolicy": spec.exit_policy,
        "State": pod_status([s for r, s in zip(members, states, strict=True) if not is_init_container(r)]),
        "Hostname": pod.hostname,
    }
    if pod.labels:
        doc["Labels"] = dict(pod.labels)
    parent = "/" + str(spec.infra_config.get("cgroup_parent") or "/libpod_parent").strip("/")
    doc.update({"CreateCgroup": bool(pod.infra_id), "CgroupParent": parent})
    infra = next((r for r in members if r.id == pod.infra_id), None)
    if pod.infra_id:
        doc.update({"CgroupPath": f"{parent}/{pod.id}" if spec.share_parent else "", "CreateInfra": True,
                    "InfraContainerID": pod.infra_id, "InfraConfig": _infra_config(svc, pod, infra),
                    "SharedNamespaces": sorted(pod.share)})
    else:
        doc["CreateInfra"] = False
    doc["NumContainers"] = len(members)
    if members:
        pairs = sorted(zip(members, states, strict=True), key=lambda m: m[0].id)  # Podman's DB keeps them by ID
        doc["Containers"] = [{"Id": r.id, "Name": r.name, "State": s} for r, s in pairs]
    doc.update(_pod_limits(svc, pod, infra))
    return doc


def top(svc: PodService, pod: PodRecord, descriptors: Sequence[str]) -> list[list[str]]:
    """One table for all running members: the header once, then each container's processes."""
    running = [r for r in svc.members(pod) if r.state in ("running", "paused")]
    if not running:
        raise ContainerStateInvalid(f"pod {pod.id} is not running: container state improper")
    from sealpod.engine.pid_ns import shared_namespace

    ops = svc.engine.container_ops
    table: list[list[str]] = []
    seen: set[str] = set()
    for rec in running:
        ns = shared_namespace(rec.pid)
        if ns and ns in seen:  # its processes are listed already, with those of the namespace it shares
            continue
        seen.add(ns)
        rows = ops.top(rec.id, descriptors)
        table += rows if not table else rows[1:]
    return table
