"""``kube generate``: pods, containers and volumes as Kubernetes YAML that a cluster accepts as is.

The translation is pure (:func:`pod_spec`, :func:`pod_document` ... take plain views of what the
engine knows); :func:`generate` gathers those views from the engine.  Only what differs from the
image is written (env, command, args), as Podman does, so the YAML stays short and portable.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from sealpod.engine.container_config import ContainerConfig, MountSpec
from sealpod.errors import InvalidArgument, KubeError, NotFound
from sealpod.kube.fields import cpu_quantity, dns_label, dns_subdomain, memory_quantity
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

HEADER = ("# Save the output of this file and use kubectl create -f to import\n# it into Kubernetes.\n#\n"
          "# Created with sealpod-{version}\n")
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


@dataclass(frozen=True)
class PodView:
    name: str
    created: float
    containers: tuple[ContainerView, ...]
    labels: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    ports: tuple[str, ...] = ()  # -p specs published at pod level
    from_pod: bool = False  # a real pod (not a container wrapped in one)


@dataclass(frozen=True)
class PortSpec:
    container_port: int
    host_port: int
    protocol: str


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts or 0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    if v.config.hostname:
        merged.setdefault("HOSTNAME", v.config.hostname)
    return [{"name": k, "value": val} for k, val in merged.items()]


def _security(cfg: ContainerConfig) -> dict[str, Any]:
    sc: dict[str, Any] = {}
    caps = {k: [c.upper() if c.upper().startswith("CAP_") else f"CAP_{c.upper()}" for c in v]
            for k, v in (("add", cfg.cap_add), ("drop", cfg.cap_drop)) if v}
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
    return sc


def _resources(cfg: ContainerConfig) -> dict[str, Any]:
    limits: dict[str, str] = {}
    if cfg.memory:
        limits["memory"] = memory_quantity(str(cfg.memory))
    if cfg.cpus:
        limits["cpu"] = cpu_quantity(cfg.cpus)
    return {"limits": limits} if limits else {}


def _volume_for(m: MountSpec, index: int, claim_names: dict[str, str]) -> dict[str, Any]:
    if m.type == "bind":
        stem = dns_label(m.source.strip("/").replace("/", "-") or "root", 50)
        kind = "Directory" if os.path.isdir(m.source) else "File" if os.path.isfile(m.source) else "DirectoryOrCreate"
        return {"name": f"{stem}-host-{index}", "hostPath": {"path": m.source, "type": kind}}
    if m.type == "volume" and m.source:
        claim = claim_names.setdefault(m.source, dns_subdomain(m.source))
        return {"name": f"{dns_label(m.source, 59)}-pvc", "persistentVolumeClaim": {"claimName": claim}}
    medium = {"medium": "Memory"} if m.type == "tmpfs" else {}
    return {"name": f"{m.type}-{index}", "emptyDir": medium}


def container_spec(v: ContainerView, pod_name: str, index: int, claims: dict[str, str]
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One entry of ``spec.containers`` and the pod volumes it needs."""
    cfg = v.config
    name = v.name.removeprefix(f"{pod_name}-") or v.name  # play names it <pod>-<name> again
    ctr: dict[str, Any] = {"name": dns_label(name), "image": v.image, **_command_and_args(v)}
    env = _env(v)
    if env:
        ctr["env"] = env
    ports = [{"containerPort": p.container_port, **({"hostPort": p.host_port} if p.host_port else {}),
              **({"protocol": p.protocol.upper()} if p.protocol != "tcp" else {})} for p in parse_ports(cfg.ports)]
    if ports:
        ctr["ports"] = ports
    for key, value in (("resources", _resources(cfg)), ("securityContext", _security(cfg))):
        if value:
            ctr[key] = value
    if cfg.workdir:
        ctr["workingDir"] = cfg.workdir
    if cfg.tty:
        ctr["tty"] = True
    if cfg.interactive:
        ctr["stdin"] = True
    volumes, mounts = [], []
    for i, m in enumerate(cfg.mounts):
        vol = _volume_for(m, index * 100 + i, claims)
        volumes.append(vol)
        mounts.append({"name": vol["name"], "mountPath": m.destination, **({"readOnly": True} if m.read_only else {})})
    if mounts:
        ctr["volumeMounts"] = mounts
    return ctr, volumes


def _annotations(v: ContainerView) -> dict[str, str]:
    """Podman's per-container annotations, where they say something (the defaults are FALSE)."""
    cfg, key = v.config, dns_label(v.name)
    flags = {"autoremove": cfg.remove, "init": cfg.init, "privileged": cfg.privileged,
             "publish-all": cfg.publish_all}
    out = {f"io.podman.annotations.{k}/{key}": "TRUE" for k, on in flags.items() if on}
    if cfg.tty:
        out[f"io.kubernetes.cri-o.TTY/{key}"] = "true"
    return out


def pod_spec(pod: PodView, claims: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``spec`` of the Pod (or of a Deployment's template) and the pod's annotations."""
    containers, volumes, annotations = [], [], {}
    for i, v in enumerate(pod.containers):
        ctr, vols = container_spec(v, pod.name, i, claims)
        containers.append(ctr)
        volumes += [vol for vol in vols if vol not in volumes]
        annotations.update(_annotations(v))
        annotations.update({k: str(val) for k, val in v.config.annotations.items()})
    pod_ports = [{"containerPort": p.container_port, **({"hostPort": p.host_port} if p.host_port else {}),
                  **({"protocol": p.protocol.upper()} if p.protocol != "tcp" else {})}
                 for p in parse_ports(pod.ports)]
    if pod_ports and containers:  # the infra container publishes them; Kubernetes wants them on a container
        containers[0]["ports"] = containers[0].get("ports", []) + pod_ports
    spec: dict[str, Any] = {"automountServiceAccountToken": False, "containers": containers,
                            "enableServiceLinks": False}
    hostname = pod.hostname or (pod.containers[0].config.hostname if pod.containers else "")
    if hostname:
        spec["hostname"] = dns_label(hostname)
    restart = _RESTART.get(pod.containers[0].config.restart.name, "Never") if pod.containers else "Never"
    if restart != "Always":
        spec["restartPolicy"] = restart
    if volumes:
        spec["volumes"] = volumes
    return spec, annotations


def _labels(pod: PodView, app: str) -> dict[str, str]:
    """Only labels Kubernetes accepts as they are; ``app`` ties the pod to its Service or Deployment."""
    import re

    value_ok = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
    key_ok = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
    out = {k: v for k, v in pod.labels.items() if key_ok.match(k) and value_ok.match(v)}
    out["app"] = app
    return out


def pod_document(pod: PodView, claims: dict[str, str]) -> dict[str, Any]:
    name = dns_subdomain(pod.name if pod.from_pod else f"{pod.name}-pod")
    spec, annotations = pod_spec(pod, claims)
    meta: dict[str, Any] = {"creationTimestamp": rfc3339(pod.created), "labels": _labels(pod, name), "name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


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
    ports, seen = [], set()
    for ctr in spec["containers"]:
        for p in ctr.get("ports", []):
            proto = p.get("protocol", "TCP")
            if (p["containerPort"], proto) in seen:
                continue
            seen.add((p["containerPort"], proto))
            ports.append({"name": f"{p['containerPort']}-{proto.lower()}", "nodePort": rng.randint(30000, 32767),
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
    meta: dict[str, Any] = {"annotations": annotations, "creationTimestamp": rfc3339(created),
                            "name": dns_subdomain(name)}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


# --- from the engine ------------------------------------------------------------------------

def _container_view(engine: Engine, name_or_id: str) -> ContainerView:
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
    return ContainerView(rec.name, image, cfg, rec.created, tuple(img.get("Env") or ()),
                         tuple(img.get("Entrypoint") or ()), tuple(img.get("Cmd") or ()))


def _pod_view(engine: Engine, name_or_id: str) -> PodView | None:
    pods = engine.pods
    try:
        pod = pods.lookup(name_or_id)
    except NotFound:
        return None
    members = [c for c in pods.container_ids(pod) if c != pod.infra_id]
    spec = pod.spec or {}
    return PodView(pod.name, pod.created, tuple(_container_view(engine, c) for c in members), dict(pod.labels),
                   pod.hostname, tuple(spec.get("ports") or ()), from_pod=True)


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
            loose.append(_container_view(engine, name))
            continue
        except NotFound:
            pass
        try:
            vol = engine.volumes.get(name)
        except NotFound:
            raise KubeError(f'name or ID "{name}" not found') from None
        claims.append(claim_document(vol.name, vol.created, vol.labels, vol.options, vol.driver))
    if loose:
        pods.append(PodView(loose[0].name, loose[0].created, tuple(loose), hostname=loose[0].config.hostname))
    return render(pods, claims, service=service, kind=kind, replicas=replicas, version=version)


def render(pods: Sequence[PodView], claims: list[dict[str, Any]], *, service: bool, kind: str, replicas: int,
           version: str) -> str:
    from sealpod.kube.yamlio import dump_documents

    claim_names: dict[str, str] = {}
    docs: list[dict[str, Any]] = list(claims)
    for pod in pods:
        doc = deployment_document(pod, claim_names, replicas) if kind == "deployment" else \
            pod_document(pod, claim_names)
        svc = service_document(doc) if service else None
        docs += [d for d in (svc, doc) if d is not None]
    return HEADER.format(version=version or "dev") + dump_documents(docs)
