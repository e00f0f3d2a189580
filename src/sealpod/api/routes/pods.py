"""Pod routes: libpod's ``/libpod/pods`` (podman-py, podman-compose's remote mode, ``podman --remote``).

Bodies and answers follow Podman 4.3's API: ``PodSpecGenerator`` in, ``{"Id": ...}`` and
``{"Errs": ..., "Id": ...}`` reports out, ``pod inspect``'s document as the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.api.http import Request, Response, Router, json_response, no_content
from sealpod.errors import InvalidArgument, NoSuchPod

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.pods import PodSpec, PodSummary


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise InvalidArgument("decoding request body: expected a list of strings")
    return tuple(str(v) for v in value)


def _port(p: Mapping[str, Any]) -> str:
    """A libpod ``PortMapping`` as a ``-p`` spec."""
    if not p.get("container_port"):
        raise InvalidArgument("decoding request body: port mapping without container_port")
    span = int(p.get("range") or 1)
    inner = f"{p['container_port']}" + (f"-{int(p['container_port']) + span - 1}" if span > 1 else "")
    host = ""
    if p.get("host_port"):
        host = f"{p['host_port']}" + (f"-{int(p['host_port']) + span - 1}" if span > 1 else "")
    prefix = f"{p['host_ip']}:{host}:" if p.get("host_ip") else (f"{host}:" if host else "")
    return f"{prefix}{inner}/{p.get('protocol') or 'tcp'}"


# PodSpecGenerator's fields as Podman 4.3 decodes them (their JSON names and Go types)
_POD_FIELDS = {
    "name": "string", "hostname": "string", "labels": "map[string]string", "no_infra": "bool",
    "infra_image": "string", "infra_command": "[]string", "infra_name": "string", "shared_namespaces": "[]string",
    "netns": "object", "network_options": "object", "portmappings": "[]object",
    "hostadd": "[]string", "dns_server": "[]string", "dns_search": "[]string", "dns_option": "[]string",
    "userns": "object", "exit_policy": "string", "no_manage_hosts": "bool", "no_manage_resolv_conf": "bool",
    "shm_size": "int64", "infra_conmon_pid_file": "string", "volumes": "[]object", "mounts": "[]object",
    "volumes_from": "[]string", "pod_create_command": "[]string", "cpu_quota": "int64", "cpu_period": "uint64",
    "pod_devices": "[]string", "share_parent": "bool", "sysctl": "map[string]string", "security_opt": "[]string",
    "cgroup_parent": "string", "resource_limits": "object", "pidns": "object", "utsns": "object",
}
_PORT_FIELDS = {"host_ip": "string", "container_port": "uint64", "host_port": "uint64", "range": "uint64",
                "protocol": "string"}


def spec_from_body(body: Any) -> PodSpec:
    """``PodSpecGenerator``: the fields podman-py and ``podman --remote pod create`` send."""
    from sealpod.api.body_types import checked
    from sealpod.api.routes.libpod_create import userns_fields
    from sealpod.engine.pods import PodSpec

    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    body = checked(body, _POD_FIELDS, "PodSpecGenerator")
    for p in body.get("portmappings") or ():
        checked(p, _PORT_FIELDS, "PortMapping")
    netns = body.get("netns")
    mode = str(netns.get("nsmode") or "") if isinstance(netns, dict) else ""
    networks = body.get("Networks") or body.get("networks") or {}
    if isinstance(networks, list):
        networks = {str(n): {} for n in networks}
    if isinstance(networks, dict):
        checked(networks, dict.fromkeys(networks, "object"), "PodSpecGenerator.Networks")
    # "default" holds podman-remote's --mac-address, --ip and --network-alias: no network of that name
    default = networks.pop("default", None) if isinstance(networks, dict) else None
    default = default if isinstance(default, dict) else {}
    share = _strs(body.get("shared_namespaces")) if "shared_namespaces" in body else ("ipc", "net", "uts")
    return PodSpec(
        name=str(body.get("name") or ""), hostname=str(body.get("hostname") or ""),
        labels={str(k): str(v) for k, v in (body.get("labels") or {}).items()},
        infra=not body.get("no_infra"), infra_image=str(body.get("infra_image") or ""),
        infra_command=_strs(body.get("infra_command")), infra_name=str(body.get("infra_name") or ""),
        share=share or ("none",), network=_network_mode(body, mode), infra_config=_infra_config(body),
        share_parent=body.get("share_parent") is not False,
        networks={str(k): dict(v or {}) for k, v in networks.items()} if isinstance(networks, dict) else {},
        ports=tuple(_port(p) for p in body.get("portmappings") or []),
        add_hosts=_strs(body.get("hostadd")), dns_servers=_strs(body.get("dns_server")),
        dns_search=_strs(body.get("dns_search")), dns_options=_strs(body.get("dns_option")),
        userns=userns_fields(body)["userns"],  # "default" (what podman-remote sends) is no mode
        exit_policy=str(body.get("exit_policy") or "continue"), mac_address=str(default.get("static_mac") or ""),
        ip=next(iter(_strs(default.get("static_ips"))), ""), network_aliases=_strs(default.get("aliases")),
        no_hosts=bool(body.get("no_manage_hosts")), shm_size=int(body.get("shm_size") or 0) or None,
        infra_conmon_pidfile=str(body.get("infra_conmon_pid_file") or ""), volumes=_volume_specs(body),
        create_command=_strs(body.get("pod_create_command")))


def _network_mode(body: Mapping[str, Any], mode: str) -> str:
    """``netns`` as ``pod create --network`` spells it; the engine refuses the modes a pod cannot have."""
    from sealpod.api.routes.libpod_create import _namespace

    if mode in ("host", "none", "container", "path"):
        return _namespace(body, "netns")
    if mode in ("slirp4netns", "pasta"):
        opts = body.get("network_options") if isinstance(body.get("network_options"), dict) else {}
        given = ",".join(_strs((opts or {}).get(mode)))
        return f"{mode}:{given}" if given else mode
    return ""


def _infra_config(body: Mapping[str, Any]) -> dict[str, Any]:
    """The infra container's limits, devices, namespaces and security options (the resource, ``--pid``,
    ``--device``... flags of ``pod create``), as the CLI records them for the pod's members to inherit."""
    from sealpod.api.routes.libpod_create import _namespace, _resources

    res = _resources(body)
    quota, period = body.get("cpu_quota"), body.get("cpu_period")
    pid, uts = _namespace(body, "pidns"), _namespace(body, "utsns")
    out: dict[str, Any] = {
        "cpus": int(quota) / int(period) if quota and period else None, "cpuset_cpus": res["cpuset_cpus"],
        "cpuset_mems": res["cpuset_mems"], "cpu_shares": res["cpu_shares"], "memory": res["memory"],
        "memory_swap": res["memory_swap"], "blkio_weight": res["blkio_weight"],
        "devices": list(_strs(body.get("pod_devices"))), "pid": "" if pid == "private" else pid,
        "uts": "" if uts == "private" else uts, "security_opts": list(_strs(body.get("security_opt"))),
        "sysctls": {str(k): str(v) for k, v in (body.get("sysctl") or {}).items()},
        "volumes_from": list(_strs(body.get("volumes_from"))), "cgroup_parent": str(body.get("cgroup_parent") or ""),
    }
    return {k: v for k, v in out.items() if v not in (None, "", [], {})}


def _volume_specs(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The pod's ``-v`` specs, which podman-remote sends as ``mounts`` (binds) and ``volumes`` (named)."""
    specs = []
    for m in body.get("mounts") or []:
        if isinstance(m, dict) and m.get("destination"):
            opts = ",".join(_strs(m.get("options")))
            specs.append(f"{m.get('source') or ''}:{m['destination']}" + (f":{opts}" if opts else ""))
    for v in body.get("volumes") or []:
        v = {str(k).lower(): x for k, x in v.items()} if isinstance(v, dict) else {}
        if v.get("dest"):
            opts = ",".join(_strs(v.get("options")))
            specs.append(f"{v.get('name') or ''}:{v['dest']}".lstrip(":") + (f":{opts}" if opts else ""))
    return tuple(specs)


def create(req: Request) -> Response:
    from sealpod.errors import SealpodError

    spec = spec_from_body(req.json())
    try:
        pod = req.engine.pods.create(spec)
    except SealpodError as e:  # podman-remote prints the service's words, which say where it failed
        e.args = (f"failed to make pod: {e.message}",)
        raise
    return json_response({"Id": pod.id}, status=201)


def _summary_json(s: PodSummary) -> dict[str, Any]:
    from sealpod.utils.timefmt import rfc3339

    return {"Cgroup": "/libpod_parent", "Containers": [{"Id": c.id, "Names": c.name, "Status": c.state}
                                                         for c in s.containers],
            "Created": rfc3339(s.created), "Id": s.id, "InfraId": s.infra_id, "Name": s.name, "Namespace": "",
            "Networks": list(s.networks), "Status": s.status, "Labels": dict(s.labels)}


def list_pods(req: Request) -> Response:
    return json_response([_summary_json(s) for s in req.engine.pods.summaries(req.filter_specs())])


def inspect(req: Request) -> Response:
    return json_response(req.engine.pods.inspect(req.params["name"]))


def exists(req: Request) -> Response:
    name = req.params["name"]
    if not req.engine.pods.exists(name):
        raise NoSuchPod(f"no pod with name or ID {name} found: no such pod")
    return no_content()


def _report(pod_id: str) -> Response:
    return json_response({"Errs": None, "Id": pod_id})


def start(req: Request) -> Response:
    pods = req.engine.pods
    pod = pods.lookup(req.params["name"])
    if [s.status for s in pods.summaries([f"id={pod.id}"])] == ["Running"]:
        return Response(304)  # already running, as Podman answers
    return _report(pods.start(pod.id).id)


def stop(req: Request) -> Response:
    return _report(req.engine.pods.stop(req.params["name"], req.int_arg("t")).id)


def restart(req: Request) -> Response:
    return _report(req.engine.pods.restart(req.params["name"]).id)


def kill(req: Request) -> Response:
    return _report(req.engine.pods.kill(req.params["name"], req.arg("signal") or "SIGKILL", require_running=True).id)


def pause(req: Request) -> Response:
    return _report(req.engine.pods.pause(req.params["name"]).id)


def unpause(req: Request) -> Response:
    return _report(req.engine.pods.unpause(req.params["name"]).id)


def remove(req: Request) -> Response:
    pods = req.engine.pods
    pod = pods.lookup(req.params["name"])
    members = pods.container_ids(pod)
    pod_id = pods.remove(pod.id, force=req.flag("force"), timeout=req.int_arg("timeout"))
    return json_response({"Err": None, "Id": pod_id, "RemovedCtrs": {c: None for c in members}})


def prune(req: Request) -> Response:
    return json_response([{"Err": None, "Id": pod_id} for pod_id in req.engine.pods.prune()])


def top(req: Request) -> Response:
    args = (req.arg("ps_args") or "").split()
    rows = req.engine.pods.top(req.params["name"], args)
    if rows and all(len(r) == 1 for r in rows):
        rows = [r[0].split(None, len(rows[0][0].split()) - 1) for r in rows]
    return json_response({"Titles": rows[0] if rows else [], "Processes": rows[1:]})


def stats(req: Request) -> Response:
    """``GET /libpod/pods/stats``: one sample of each running member, Podman 4.3's PodStatsReport strings
    (its handler takes ``stream`` but answers once)."""
    from sealpod.engine.pod_stats import reports, target_pods
    from sealpod.errors import SealpodError

    names = [n for v in req.args("namesOrIDs") for n in v.split(",") if n]
    try:
        pods = target_pods(req.engine, names, all_pods=req.flag("all"))
    except InvalidArgument as e:
        raise SealpodError(str(e)) from None  # Podman answers this one with a 500
    return json_response(reports(req.engine, pods, {}) or [])


def register(r: Router) -> None:
    r.add("POST", "/pods/create", create)
    r.add("GET", "/pods/stats", stats)
    r.add("GET", "/pods/json", list_pods)
    r.add("POST", "/pods/prune", prune)
    r.add("GET", "/pods/{name}/json", inspect)
    r.add("GET", "/pods/{name}/exists", exists)
    r.add("GET", "/pods/{name}/top", top)
    r.add("POST", "/pods/{name}/start", start)
    r.add("POST", "/pods/{name}/stop", stop)
    r.add("POST", "/pods/{name}/restart", restart)
    r.add("POST", "/pods/{name}/kill", kill)
    r.add("POST", "/pods/{name}/pause", pause)
    r.add("POST", "/pods/{name}/unpause", unpause)
    r.add("DELETE", "/pods/{name}", remove)
