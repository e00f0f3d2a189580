"""``kube generate``: pods, containers and volumes as Kubernetes YAML that a cluster accepts as is.

The translation is pure (:func:`pod_spec`, :func:`pod_document` ... take plain views of what the
engine knows); :func:`generate` gathers those views from the engine.  Only what differs from the
image is written (env, command, args), as Podman does, so the YAML stays short and portable.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

from sealpod.engine.container_config import ContainerConfig, MountSpec
from sealpod.errors import InvalidArgument, KubeError, NotFound
from sealpod.kube.fields import cpu_quantity, dns_label, dns_subdomain, memory_quantity
from sealpod.utils.record import dataclass, field
from sealpod.utils.timefmt import rfc3339_seconds

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

HEADER = ("# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n"
          "# Created with sealpod-{version}\n")
# Podman's note, written once before the workloads when a pod has volumes
VOLUME_NOTE = ("\n# NOTE: If you generated this yaml from an unprivileged and rootless podman container on an SELinux\n"
               "# enabled system, check the podman generate kube man page for steps to follow to ensure that your "
               "pod/container\n# has the right permissions to access the volumes added.\n")
# Kubernetes runtimes grant these besides containers.conf's defaults: Podman writes them as dropped
_RUNTIME_CAPS = ("CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE")
_FLAG_ANNOTATIONS = ("autoremove", "init", "privileged", "publish-all")
_AUTO_UPDATE_LABELS = ("io.containers.autoupdate", "io.containers.autoupdate.authfile")  # as pod annotations
BIND_MOUNT_ANNOTATION = "bind-mount-options"  # a pod's: ``SOURCE:z`` of a bind mount relabelled with z or Z
_RESTART = {"always": "Always", "unless-stopped": "Always", "on-failure": "OnFailure", "no": "Never", "": "Never"}


@dataclass(frozen=True)
class ContainerView:
    """A container as generate needs it: what the user asked for, and the image's defaults."""

    name: str
    image: str
    config: ContainerConfig
    created: float = 0.0
    image_env: tuple[str, ...] = ()
    image_entrypoint: tuple[str, ...] = ()
    image_cmd: tuple[str, ...] = ()
    default_caps: tuple[str, ...] = ()  # containers.conf's default_capabilities
    anonymous: dict[str, str] = field(default_factory=dict)  # mount destination → anonymous volume name
    pod_id: str = ""  # the pod it belongs to
    sandbox_id: str = ""  # its pod's infra container, which cri-o's SandboxID annotation names (as Podman's)


@dataclass(frozen=True)
class PodView:
    name: str
    created: float
    containers: tuple[ContainerView, ...]
    labels: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    ports: tuple[str, ...] = ()  # -p specs published at pod level
    from_pod: bool = False  # a real pod (not a container wrapped in one)
    host_network: bool = False
    host_users: bool = True  # false: the pod (or a container) has a user namespace of its own
    host_aliases: tuple[str, ...] = ()  # --add-host entries of the pod (``name:ip``)
    share_pid: bool = False
    dns: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())  # the pod's servers, searches, options


@dataclass(frozen=True)
class PortSpec:
    container_port: int
    host_port: int
    protocol: str


def parse_ports(specs: Sequence[str]) -> list[PortSpec]:
    """``-p`` specs ([ip:][host:]ctr[/proto], ranges) as one entry per container port."""
    out: list[PortSpec] = []
    for spec in specs:
        body, _, protos = spec.partition("/")
        if body.startswith("["):  # [v6]:host:ctr
            body = body.split("]", 1)[-1].lstrip(":")
        parts = body.split(":")
        ctr, host = parts[-1], parts[-2] if len(parts) >= 2 else ""
        try:
            c_lo, _, c_hi = ctr.partition("-")
            h_lo = int(host.partition("-")[0]) if host else 0
            first, last = int(c_lo), int(c_hi or c_lo)
        except ValueError:
            raise InvalidArgument(f'invalid port mapping "{spec}"') from None
        for proto in (protos or "tcp").split(","):
            out += [PortSpec(p, h_lo + (p - first) if h_lo else 0, proto.lower()) for p in range(first, last + 1)]
    return out


def _command_and_args(v: ContainerView) -> dict[str, Any]:
    """Kubernetes ``command`` replaces the Entrypoint and ``args`` the Cmd; write only overrides."""
    cfg, out = v.config, {}
    if cfg.entrypoint is not None and tuple(cfg.entrypoint) != v.image_entrypoint:
        if cfg.entrypoint:
            out["command"] = list(cfg.entrypoint)
            if cfg.command:
                out["args"] = list(cfg.command)
        elif cfg.command:
            out["command"] = list(cfg.command)
    elif cfg.command and tuple(cfg.command) != v.image_cmd:
        out["args" if v.image_entrypoint else "command"] = list(cfg.command)
    return out


def _env(v: ContainerView) -> list[dict[str, str]]:
    image_env = set(v.image_env)
    merged: dict[str, str] = {}
    for item in v.config.env:
        key, _, value = item.partition("=")
        if key and item not in image_env:
            merged[key] = value
    if v.config.hostname and not v.pod_id:  # a pod's member has the pod's name, not one of its own
        merged.setdefault("HOSTNAME", v.config.hostname)
    return [{"name": k, "value": val} for k, val in merged.items()]


def _cap(name: str) -> str:
    upper = name.upper()
    return upper if upper.startswith("CAP_") or upper == "ALL" else f"CAP_{upper}"


def capabilities(cfg: ContainerConfig, default_caps: Sequence[str]) -> dict[str, list[str]]:
    """Podman's add/drop: the container's capabilities against the defaults plus what a Kubernetes
    runtime grants besides (so those come out dropped), in that order; none for a privileged one."""
    if cfg.privileged:
        return {}
    # Podman 4.3.1's reference list: its defaults with MKNOD and NET_RAW in name order, AUDIT_WRITE last
    reference = [*sorted({*map(_cap, default_caps), *_RUNTIME_CAPS} - {"CAP_AUDIT_WRITE"}), "CAP_AUDIT_WRITE"]
    drops = {_cap(c) for c in cfg.cap_drop}
    adds = [_cap(c) for c in cfg.cap_add]
    base = [] if "ALL" in drops else [c for c in dict.fromkeys(map(_cap, default_caps)) if c not in drops]
    has = list(dict.fromkeys([*base, *adds]))
    add = [c for c in has if c not in reference]
    drop = [c for c in reference if c not in has]
    return {k: v for k, v in (("add", add), ("drop", drop)) if v}


def _security(cfg: ContainerConfig, default_caps: Sequence[str] = ()) -> dict[str, Any]:
    sc: dict[str, Any] = {}
    caps = capabilities(cfg, default_caps)
    if caps:
        sc["capabilities"] = caps
    if cfg.privileged:
        sc["privileged"] = True
    if cfg.read_only:
        sc["readOnlyRootFilesystem"] = True
    user, _, group = cfg.user.partition(":")
    if user.isdigit():
        sc["runAsUser"] = int(user)
    if group.isdigit():
        sc["runAsGroup"] = int(group)
    if "no-new-privileges" in cfg.security_opts or "no-new-privileges:true" in cfg.security_opts:
        sc["allowPrivilegeEscalation"] = False
    selinux = _selinux_options(cfg.security_opts)
    if selinux:
        sc["seLinuxOptions"] = selinux
    return sc


def _selinux_options(security_opts: Sequence[str]) -> dict[str, str]:
    """``--security-opt label=...`` as Podman writes it: ``type:T`` and ``level:L`` as they are, ``disable``
    as the type ``spc_t``; Podman reads the options joined (``type:T,label=level:L``) and so do we."""
    labels = [o[6:] for o in security_opts if o.startswith(("label=", "label:"))]
    if not labels:
        return {}
    kind, sep, value = ",label=".join(labels).partition(":")
    if sep and kind in ("type", "level"):
        return {kind: value}
    return {"type": "spc_t"} if not sep and kind == "disable" else {}


def _resources(cfg: ContainerConfig) -> dict[str, Any]:
    limits: dict[str, str] = {}
    if cfg.memory:
        limits["memory"] = memory_quantity(str(cfg.memory))
    cpus = cfg.cpus or (cfg.cpu_quota / cfg.cpu_period if cfg.cpu_quota and cfg.cpu_period else None)
    if cpus and cpus >= 0.001:
        limits["cpu"] = cpu_quantity(cpus)
    return {"limits": limits} if limits else {}


def _volume_for(m: MountSpec, index: int, claim_names: dict[str, str], anonymous: dict[str, str]
                ) -> dict[str, Any]:
    if m.type == "bind":
        stem = dns_label(m.source.strip("/").replace("/", "-") or "root", 50)
        kind = "Directory" if os.path.isdir(m.source) else "File" if os.path.isfile(m.source) else "DirectoryOrCreate"
        return {"name": f"{stem}-host-{index}", "hostPath": {"path": m.source, "type": kind}}
    source = m.source or (anonymous.get(m.destination, "") if m.type == "volume" else "")
    if m.type == "volume" and source:  # an anonymous one too, by its name, as Podman writes it
        claim = claim_names.setdefault(source, dns_subdomain(source))
        return {"name": f"{dns_label(source, 59)}-pvc", "persistentVolumeClaim": {"claimName": claim}}
    medium = {"medium": "Memory"} if m.type == "tmpfs" else {}
    return {"name": f"{m.type}-{index}", "emptyDir": medium}


def container_spec(v: ContainerView, pod_name: str, index: int, claims: dict[str, str]
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One entry of ``spec.containers`` and the pod volumes it needs."""
    cfg = v.config
    name = v.name.removeprefix(f"{pod_name}-") or v.name  # play names it <pod>-<name> again
    ctr: dict[str, Any] = {"name": k8s_name(name), "image": v.image, **_command_and_args(v)}
    env = _env(v)
    if env:
        ctr["env"] = env
    ports = [{"containerPort": p.container_port, **({"hostPort": p.host_port} if p.host_port else {}),
              **({"protocol": p.protocol.upper()} if p.protocol != "tcp" else {})} for p in parse_ports(cfg.ports)]
    if ports:
        ctr["ports"] = ports
    for key, value in (("resources", _resources(cfg)), ("securityContext", _security(cfg, v.default_caps))):
        if value or (key == "resources" and v.pod_id):  # Podman writes a pod's members' resources, even {}
            ctr[key] = value
    if cfg.workdir:
        ctr["workingDir"] = cfg.workdir
    if cfg.tty:
        ctr["tty"] = True
    if cfg.interactive:
        ctr["stdin"] = True
    volumes, mounts = [], []
    for i, m in enumerate(cfg.mounts):
        vol = _volume_for(m, index * 100 + i, claims, v.anonymous)
        volumes.append(vol)
        mounts.append({"name": vol["name"], "mountPath": m.destination, **({"readOnly": True} if m.read_only else {})})
    if mounts:
        ctr["volumeMounts"] = mounts
    return ctr, volumes


def _annotations(v: ContainerView, key: str) -> dict[str, str]:
    """Podman's per-container annotations (``<annotation>/<container>``): its flags, TRUE or FALSE, cri-o's
    TTY, and the user's; play gives each back to its container."""
    cfg = v.config
    values = (cfg.remove, cfg.init, cfg.privileged, cfg.publish_all)
    out = {f"io.kubernetes.cri-o.ContainerType/{key}": "container",
           f"io.kubernetes.cri-o.SandboxID/{key}": v.sandbox_id or v.pod_id} if v.pod_id else {}
    out[f"io.kubernetes.cri-o.TTY/{key}"] = "true" if cfg.tty else "false"
    out.update({f"io.podman.annotations.{k}/{key}": "TRUE" if on else "FALSE" for k, on in zip(_FLAG_ANNOTATIONS,
                                                                                               values, strict=True)})
    out.update({f"{k}/{key}": str(val) for k, val in cfg.annotations.items()
                if not k.startswith(("io.podman.annotations.", "io.kubernetes.cri-o.", "io.container.manager"))})
    out.update({f"{k}/{key}": cfg.labels[k] for k in _AUTO_UPDATE_LABELS if cfg.labels.get(k)})  # play reads them
    return {k: _truncated(val) for k, val in out.items()}


def _truncated(value: str, limit: int = 63) -> str:
    """Kubernetes refuses annotation values past 63 characters: cut, and say so, as Podman does."""
    if len(value) <= limit:
        return value
    from sealpod.utils.logrus import warning

    warning(f'Truncation Annotation: "{value}" to "{value[:limit]}": Kubernetes only allows {limit} characters')
    return value[:limit]


def pod_spec(pod: PodView, claims: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``spec`` of the Pod (or of a Deployment's template) and the pod's annotations."""
    containers, volumes, annotations = [], [], {}
    for i, v in enumerate(pod.containers):
        ctr, vols = container_spec(v, pod.name, i, claims)
        containers.append(ctr)
        volumes += [vol for vol in vols if vol not in volumes]
        annotations.update(_annotations(v, ctr["name"]))
        for m in v.config.mounts:  # Podman's note of a relabelled bind mount (the last one wins, as in Podman)
            relabel = next((o for o in m.options if o in ("z", "Z")), "") if m.type == "bind" else ""
            if relabel:
                annotations[BIND_MOUNT_ANNOTATION] = _truncated(f"{m.source}:{relabel}")
    pod_ports = [{"containerPort": p.container_port, **({"hostPort": p.host_port} if p.host_port else {}),
                  **({"protocol": p.protocol.upper()} if p.protocol != "tcp" else {})}
                 for p in parse_ports(pod.ports)]
    if pod_ports and containers:  # the infra container publishes them; Kubernetes wants them on a container
        containers[0]["ports"] = containers[0].get("ports", []) + pod_ports
    spec: dict[str, Any] = {"automountServiceAccountToken": False, "containers": containers,
                            "enableServiceLinks": False}
    hostname = pod.hostname or (pod.containers[0].config.hostname if pod.containers else "")
    if hostname:
        spec["hostname"] = hostname
    dns = _dns_config(pod)
    if dns:
        spec["dnsConfig"] = dns
    if pod.host_network:
        spec["hostNetwork"] = True
    if not pod.host_users:
        spec["hostUsers"] = False
    aliases = [entry.partition(":") for entry in pod.host_aliases]
    if aliases:
        spec["hostAliases"] = [{"hostnames": [name], "ip": ip} for name, _, ip in aliases]
    restart = _RESTART.get(pod.containers[0].config.restart.name, "Never") if pod.containers else "Never"
    if pod.from_pod:  # Podman gives a wrapped container's pod no policy
        spec["restartPolicy"] = restart
    if pod.share_pid:
        spec["shareProcessNamespace"] = True
    if volumes:
        spec["volumes"] = volumes
    return spec, annotations


def _dns_config(pod: PodView) -> dict[str, Any]:
    """``--dns``, ``--dns-search`` and ``--dns-option`` of the pod and of its containers, each once, in order."""
    servers, searches, options = list(pod.dns[0]), list(pod.dns[1]), list(pod.dns[2])
    for v in pod.containers:
        servers += [x for x in v.config.dns_servers if x not in servers]
        searches += [x for x in v.config.dns_search if x not in searches]
        options += list(v.config.dns_options)
    out: dict[str, Any] = {}
    if servers:
        out["nameservers"] = servers
    if searches:
        out["searches"] = searches
    if options:
        out["options"] = [{"name": n, **({"value": val} if sep else {})}
                          for n, sep, val in (o.partition(":") for o in options)]
    return out


def _labels(pod: PodView, app: str) -> dict[str, str]:
    """Only labels Kubernetes accepts as they are; ``app`` ties the pod to its Service or Deployment."""
    import re

    value_ok = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
    key_ok = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
    out = {k: v for k, v in pod.labels.items() if key_ok.match(k) and value_ok.match(v)}
    out["app"] = app
    return out


def k8s_name(name: str) -> str:
    """A container's (or a wrapped container's pod's) name as Podman 4.3 writes it: without its
    underscores, which Kubernetes refuses; the rest (case, dots) stays."""
    return name.replace("_", "")


def pod_document(pod: PodView, claims: dict[str, str]) -> dict[str, Any]:
    name = pod.name if pod.from_pod else f"{k8s_name(pod.name)}-pod"
    spec, annotations = pod_spec(pod, claims)
    meta: dict[str, Any] = {"creationTimestamp": rfc3339_seconds(pod.created), "labels": _labels(pod, k8s_name(name)),
                            "name": name}
    if annotations:
        meta["annotations"] = annotations
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    if pod.from_pod:
        doc["status"] = {}
    return doc


def deployment_document(pod: PodView, claims: dict[str, str], replicas: int = 1) -> dict[str, Any]:
    """A Deployment whose template is the pod; Deployments only allow restartPolicy Always."""
    doc = pod_document(pod, claims)
    meta, spec = doc["metadata"], doc["spec"]
    spec.pop("restartPolicy", None)
    app = meta["name"]
    template_meta = {"creationTimestamp": meta["creationTimestamp"], "labels": meta["labels"]}
    if "annotations" in meta:
        template_meta["annotations"] = meta["annotations"]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"creationTimestamp": meta["creationTimestamp"], "labels": {"app": app},
                         "name": f"{app}-deployment"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": template_meta, "spec": spec}}}


def service_document(workload: dict[str, Any], rng: random.Random | None = None) -> dict[str, Any] | None:
    """A NodePort Service for the host ports of a Pod or Deployment (None when nothing is published)."""
    rng = rng or random.Random()
    spec = workload["spec"]["template"]["spec"] if workload["kind"] == "Deployment" else workload["spec"]
    app = workload["metadata"]["labels"]["app"]
    ports: list[dict[str, Any]] = []
    seen: set[tuple[int, str]] = set()
    for ctr in spec["containers"]:
        for p in ctr.get("ports", []):
            proto = p.get("protocol", "TCP")
            if (p["containerPort"], proto) in seen:
                continue
            seen.add((p["containerPort"], proto))
            name = str(p["containerPort"])  # Podman's name; a second protocol on the port needs another
            name = name if all(q["name"] != name for q in ports) else f"{name}-{proto.lower()}"
            ports.append({"name": name, "nodePort": rng.randint(30000, 32767),
                          "port": p["containerPort"], **({"protocol": proto} if proto != "TCP" else {}),
                          "targetPort": p["containerPort"]})
    if not ports:
        return None
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"creationTimestamp": workload["metadata"]["creationTimestamp"], "labels": {"app": app},
                         "name": app},
            "spec": {"ports": ports, "selector": {"app": app}, "type": "NodePort"}}


def claim_document(name: str, created: float, labels: dict[str, str], options: dict[str, str],
                   driver: str = "local") -> dict[str, Any]:
    """A PersistentVolumeClaim for a named volume; its driver and options ride along as annotations."""
    annotations = {"volume.podman.io/driver": driver}
    annotations.update({f"volume.podman.io/{k}": str(v) for k, v in options.items()
                        if k in ("type", "device", "o", "uid", "gid")})
    meta: dict[str, Any] = {"annotations": annotations, "creationTimestamp": rfc3339_seconds(created),
                            "name": dns_subdomain(name)}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            "status": {}}


# --- from the engine ------------------------------------------------------------------------

def _container_view(engine: Engine, name_or_id: str) -> ContainerView:
    from sealpod.engine.spec_annotations import pod_infra_id

    rec = engine.containers.lookup(name_or_id)
    cfg = ContainerConfig.from_json(rec.config)
    img: dict[str, Any] = {}
    if rec.image_id:
        try:
            img = engine.images.inspect(rec.image_id).get("Config") or {}
        except NotFound:
            img = {}
    image = rec.image_name or cfg.image
    if image and ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        image += ":latest"
    anonymous = {m.destination: name for m in cfg.mounts if m.type == "volume" and not m.source
                 for name in [engine.volumes.anonymous_at(rec.id, m.destination)] if name}
    return ContainerView(rec.name, image, cfg, rec.created, tuple(img.get("Env") or ()),
                         tuple(img.get("Entrypoint") or ()), tuple(img.get("Cmd") or ()),
                         tuple(engine.config.containers.containers.default_capabilities), anonymous,
                         rec.pod_id or "", pod_infra_id(engine.containers, rec))


def _pod_view(engine: Engine, name_or_id: str) -> PodView | None:
    pods = engine.pods
    try:
        pod = pods.lookup(name_or_id)
    except NotFound:
        return None
    members = [c for c in pods.container_ids(pod) if c != pod.infra_id]
    spec = pod.spec or {}
    return PodView(pod.name, pod.created, tuple(_container_view(engine, c) for c in members), dict(pod.labels),
                   pod.hostname, tuple(spec.get("ports") or ()), from_pod=True,
                   host_network=spec.get("network") == "host", host_users=spec.get("userns") in (None, "", "host"),
                   host_aliases=tuple(spec.get("add_hosts") or ()), share_pid="pid" in pod.share,
                   dns=(tuple(spec.get("dns_servers") or ()), tuple(spec.get("dns_search") or ()),
                        tuple(spec.get("dns_options") or ())))


def generate(engine: Engine, names: Sequence[str], *, service: bool = False, kind: str = "pod",
             replicas: int = 1, version: str = "") -> str:
    """The YAML for ``kube generate NAME...``: each pod on its own, all named containers in one pod."""
    if kind not in ("pod", "deployment"):
        raise InvalidArgument(f'invalid type "{kind}": only "pod" and "deployment" are supported')
    if not names:
        raise InvalidArgument("generate kube requires at least one pod, container or volume")
    pods: list[PodView] = []
    loose: list[ContainerView] = []
    claims: list[dict[str, Any]] = []
    for name in names:
        pod = _pod_view(engine, name)
        if pod is not None and not pod.containers:
            raise KubeError(f"pod {engine.pods.lookup(name).id} only has an infra container")
        if pod is not None:
            pods.append(pod)
            continue
        try:
            view = _container_view(engine, name)
        except NotFound:
            pass
        else:
            if view.pod_id:
                raise KubeError(f"container {engine.containers.lookup(name).id} is associated with pod "
                                f"{view.pod_id}: use generate on the pod itself")
            loose.append(view)
            continue
        try:
            vol = engine.volumes.get(name)
        except NotFound:
            raise KubeError(f'name or ID "{name}" not found') from None
        claims.append(claim_document(vol.name, vol.created, vol.labels, vol.options, vol.driver))
    if loose:
        pods.append(PodView(loose[0].name, loose[0].created, tuple(loose), hostname=loose[0].config.hostname,
                            host_network=all(v.config.network == "host" for v in loose),
                            host_users=all(v.config.userns in ("", "host") for v in loose)))
    return render(pods, claims, service=service, kind=kind, replicas=replicas, version=version)


def render(pods: Sequence[PodView], claims: list[dict[str, Any]], *, service: bool, kind: str, replicas: int,
           version: str) -> str:
    from sealpod.kube.yamlio import dump_document

    claim_names: dict[str, str] = {}
    services: list[dict[str, Any]] = []
    workloads: list[dict[str, Any]] = []
    for pod in pods:
        doc = deployment_document(pod, claim_names, replicas) if kind == "deployment" else \
            pod_document(pod, claim_names)
        svc = service_document(doc) if service else None
        services += [svc] if svc is not None else []
        workloads.append(doc)
    # Podman's order (claims, services, workloads) and layout: the note, when a pod has volumes, is a part
    # of its own between the claims and the rest; parts are separated by "---" lines.
    spec_of = [d["spec"]["template"]["spec"] if d["kind"] == "Deployment" else d["spec"] for d in workloads]
    parts = [dump_document(d) for d in claims]
    parts += [VOLUME_NOTE] if any(s.get("volumes") for s in spec_of) else []
    parts += [dump_document(d) for d in (*services, *workloads)]
    return HEADER.format(version=version or "dev") + "---\n".join(parts)
