"""Typed views of the Kubernetes YAML that ``kube play`` accepts.

Parsing is pure: documents in, a :class:`Manifest` out, with errors naming the field and
warnings for every kind or field that is read but not acted on.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from sealpod.errors import KubeError
from sealpod.kube.fields import Fields, quantity
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str = ""
    source: str = ""  # "" (value) | configMap | secret | field
    source_name: str = ""  # the ConfigMap or Secret; for field: the fieldPath
    key: str = ""
    optional: bool = False


@dataclass(frozen=True)
class EnvFrom:
    source: str  # configMap | secret
    name: str
    prefix: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Port:
    container_port: int
    host_port: int = 0
    protocol: str = "tcp"
    host_ip: str = ""


@dataclass(frozen=True)
class VolumeMount:
    name: str
    mount_path: str
    read_only: bool = False
    sub_path: str = ""


@dataclass(frozen=True)
class Volume:
    name: str
    kind: str  # hostPath | emptyDir | persistentVolumeClaim | configMap | secret
    path: str = ""  # hostPath
    host_type: str = ""  # hostPath type: Directory, DirectoryOrCreate, File, FileOrCreate, ...
    source_name: str = ""  # claimName, ConfigMap name or secretName
    items: tuple[tuple[str, str], ...] = ()  # (key, path) for configMap and secret
    optional: bool = False
    read_only: bool = False
    medium: str = ""  # emptyDir: "" or Memory
    mode: int = 0o644


@dataclass(frozen=True)
class SecurityContext:
    privileged: bool = False
    read_only_root: bool = False
    run_as_user: int | None = None
    run_as_group: int | None = None
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    no_new_privileges: bool = False


@dataclass(frozen=True)
class Probe:
    """A livenessProbe, as the shell line Podman turns it into (``CMD-SHELL``) and its timings in seconds."""

    command: str
    period: int = 10
    timeout: int = 1
    failures: int = 3
    initial_delay: int = 0


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    command: tuple[str, ...] | None = None  # overrides the image's Entrypoint
    args: tuple[str, ...] | None = None  # overrides the image's Cmd
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFrom, ...] = ()
    ports: tuple[Port, ...] = ()
    mounts: tuple[VolumeMount, ...] = ()
    working_dir: str = ""
    security: SecurityContext = field(default_factory=SecurityContext)
    memory: int | None = None
    cpus: float | None = None
    memory_reservation: int | None = None
    tty: bool = False
    stdin: bool = False
    pull_policy: str = ""  # Always | IfNotPresent | Never
    liveness: Probe | None = None


@dataclass(frozen=True)
class PodTemplate:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    restart_policy: str = "Always"
    host_network: bool = False
    containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    init_containers: tuple[Container, ...] = ()  # run to completion, in order, before the others start
    host_aliases: tuple[str, ...] = ()  # hostAliases as --add-host entries (``name:ip``), in file order
    share_pid: bool = False  # shareProcessNamespace
    host_users: bool | None = None  # hostUsers: false asks for a user namespace of the pod's own
    dns: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())  # dnsConfig: servers, searches,
    # options (``name:value``)


@dataclass(frozen=True)
class Workload:
    """A Pod, or a Deployment whose template runs as ``replicas`` pods."""

    kind: str
    name: str
    pod: PodTemplate
    replicas: int = 1
    annotations: dict[str, str] = field(default_factory=dict)  # the Pod's, or the Deployment's own metadata's

    def pod_names(self) -> list[str]:
        """Podman's names: the Pod's own, or ``<deployment>-pod-<i>``."""
        if self.kind == "Pod":
            return [self.name]
        return [f"{self.name}-pod-{i}" for i in range(self.replicas)]


@dataclass(frozen=True)
class DataObject:
    """A ConfigMap or a Secret: named bytes."""

    kind: str
    name: str
    data: dict[str, bytes] = field(default_factory=dict)
    doc: dict[str, Any] = field(default_factory=dict)  # a Secret's document, as it is stored as a secret


@dataclass(frozen=True)
class Claim:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    workloads: list[Workload] = field(default_factory=list)
    config_maps: dict[str, DataObject] = field(default_factory=dict)
    secrets: dict[str, DataObject] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_QUIET_META = ("namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
               "ownerReferences", "finalizers", "generateName", "selfLink")
_QUIET_CONTAINER = ("imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy", "readinessProbe",
                    "startupProbe")
_QUIET_POD = ("automountServiceAccountToken", "enableServiceLinks", "dnsPolicy", "schedulerName",
              "terminationGracePeriodSeconds", "serviceAccountName", "serviceAccount", "nodeSelector",
              "tolerations", "affinity", "priority", "priorityClassName", "preemptionPolicy")


def _metadata(doc: Fields, kind: str) -> tuple[str, Fields]:
    meta = doc.child_or_empty("metadata")
    meta.warn_unknown(("name", "labels", "annotations"), _QUIET_META)
    name = meta.text("name")
    if not name:
        raise KubeError(f'{kind} has no "metadata.name"')
    return name, meta


def _env(c: Fields) -> tuple[EnvVar, ...]:
    out = []
    for e in c.items("env"):
        name = e.text("name")
        if not name:
            raise KubeError(f'invalid field "{e.path}": env has no name')
        src = e.child("valueFrom")
        if src is None:
            e.warn_unknown(("name", "value"))
            out.append(EnvVar(name, e.text("value")))
            continue
        src.warn_unknown(("configMapKeyRef", "secretKeyRef", "fieldRef"), ("resourceFieldRef",))
        for key, source in (("configMapKeyRef", "configMap"), ("secretKeyRef", "secret")):
            ref = src.child(key)
            if ref is not None:
                out.append(EnvVar(name, source=source, source_name=ref.text("name"), key=ref.text("key"),
                                  optional=bool(ref.flag("optional", False))))
                break
        else:
            ref = src.child("fieldRef")
            if ref is not None:
                out.append(EnvVar(name, source="field", source_name=ref.text("fieldPath")))
    return tuple(out)


def _env_from(c: Fields) -> tuple[EnvFrom, ...]:
    out = []
    for e in c.items("envFrom"):
        e.warn_unknown(("configMapRef", "secretRef", "prefix"))
        for key, source in (("configMapRef", "configMap"), ("secretRef", "secret")):
            ref = e.child(key)
            if ref is not None:
                out.append(EnvFrom(source, ref.text("name"), e.text("prefix"), bool(ref.flag("optional", False))))
    return tuple(out)


def _port_number(p: Fields, key: str) -> int:
    """0 when absent or null: Podman publishes nothing for such an entry (its e2e YAML writes
    ``containerPort:`` with no value on every container)."""
    value = p.integer(key, 0) or 0
    if not 0 <= value <= 65535:
        raise KubeError(f'invalid field "{p.path}.{key}": {value} is not a port number')
    return value


def _ports(c: Fields) -> tuple[Port, ...]:
    out = []
    for p in c.items("ports"):
        p.warn_unknown(("containerPort", "hostPort", "protocol", "hostIP"), ("name",))
        proto = p.text("protocol", "TCP").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise KubeError(f'invalid field "{p.path}.protocol": "{proto}" is not TCP, UDP or SCTP')
        out.append(Port(_port_number(p, "containerPort"), _port_number(p, "hostPort"), proto,
                        p.text("hostIP")))
    return tuple(out)


def _capabilities(sc: Fields, key: str) -> tuple[str, ...]:
    caps = sc.child_or_empty("capabilities").strs(key) or ()
    return tuple(c.upper() if c.upper().startswith("CAP_") or c.upper() == "ALL" else f"CAP_{c.upper()}"
                 for c in caps)


def _security(c: Fields, pod_sc: Fields) -> SecurityContext:
    sc = c.child_or_empty("securityContext")
    sc.warn_unknown(("privileged", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "capabilities",
                     "allowPrivilegeEscalation"), ("runAsNonRoot", "seccompProfile", "seLinuxOptions", "procMount"))
    sc.child_or_empty("capabilities").warn_unknown(("add", "drop"))
    return SecurityContext(
        privileged=bool(sc.flag("privileged", False)),
        read_only_root=bool(sc.flag("readOnlyRootFilesystem", False)),
        run_as_user=sc.integer("runAsUser", pod_sc.integer("runAsUser")),
        run_as_group=sc.integer("runAsGroup", pod_sc.integer("runAsGroup")),
        cap_add=_capabilities(sc, "add"), cap_drop=_capabilities(sc, "drop"),
        no_new_privileges=sc.flag("allowPrivilegeEscalation") is False)


def _resources(c: Fields) -> tuple[int | None, float | None, int | None]:
    """(memory limit, CPUs, memory reservation): ``requests.memory`` is the soft limit, as Podman sets it."""
    res = c.child_or_empty("resources")
    res.warn_unknown(("limits", "requests"), ("claims",))
    limits, requests = res.strmap("limits"), res.strmap("requests")
    memory = cpus = reservation = None
    if limits.get("memory"):
        memory = int(quantity(limits["memory"], f"{res.path}.limits.memory"))
    if limits.get("cpu"):
        cpus = quantity(limits["cpu"], f"{res.path}.limits.cpu")
    if requests.get("memory"):
        reservation = int(quantity(requests["memory"], f"{res.path}.requests.memory"))
    return memory, cpus, reservation


def _mounts(c: Fields) -> tuple[VolumeMount, ...]:
    out = []
    for m in c.items("volumeMounts"):
        m.warn_unknown(("name", "mountPath", "readOnly", "subPath"), ("mountPropagation",))
        if not m.text("name") or not m.text("mountPath"):
            raise KubeError(f'invalid field "{m.path}": a volume mount needs name and mountPath')
        out.append(VolumeMount(m.text("name"), m.text("mountPath"), bool(m.flag("readOnly", False)), m.text("subPath")))
    return tuple(out)


def _probe_port(handler: Fields) -> int:
    port = handler.get("port")
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port <= 65535:
        return port
    raise KubeError(f'invalid field "{handler.path}.port": a port number is needed (named ports are not supported)')


def _probe(c: Fields) -> Probe | None:
    """Podman's mapping: exec runs as is, httpGet through curl, tcpSocket through nc; a failure ends in
    ``exit 1`` (``kill 1`` when the pod restarts its containers, so the restart policy acts)."""
    p = c.child("livenessProbe")
    if p is None:
        return None
    p.warn_unknown(("exec", "httpGet", "tcpSocket", "periodSeconds", "timeoutSeconds", "failureThreshold",
                    "initialDelaySeconds"), ("successThreshold", "terminationGracePeriodSeconds"))
    if p.child("exec") is not None:
        command = " ".join(p.child_or_empty("exec").strs("command") or ())
    elif p.child("httpGet") is not None:
        h = p.child_or_empty("httpGet")
        h.warn_unknown(("path", "port", "host", "scheme"), ("httpHeaders",))
        path = h.text("path", "/")
        command = (f"curl -f {h.text('scheme', 'HTTP').lower()}://{h.text('host', 'localhost')}:{_probe_port(h)}"
                   f"{path if path.startswith('/') else '/' + path}")
    elif p.child("tcpSocket") is not None:
        t = p.child_or_empty("tcpSocket")
        t.warn_unknown(("port", "host"))
        command = f"nc -z -v {t.text('host', 'localhost')} {_probe_port(t)}"
    else:
        raise KubeError(f'invalid field "{p.path}": a probe needs exec, httpGet or tcpSocket')
    if not command.strip():
        raise KubeError(f'invalid field "{p.path}.exec.command": the probe has no command')
    return Probe(command, p.integer("periodSeconds", 10) or 10, p.integer("timeoutSeconds", 1) or 1,
                 p.integer("failureThreshold", 3) or 3, p.integer("initialDelaySeconds", 0) or 0)


def _container(c: Fields, pod_sc: Fields) -> Container:
    c.warn_unknown(("name", "image", "command", "args", "env", "envFrom", "ports", "volumeMounts", "workingDir",
                    "securityContext", "resources", "tty", "stdin", "livenessProbe"), _QUIET_CONTAINER)
    name, image = c.text("name"), c.text("image")
    if not name:
        raise KubeError(f'invalid field "{c.path}": a container needs a name')
    if not image:
        raise KubeError(f'invalid field "{c.path}": container "{name}" has no image')
    memory, cpus, reservation = _resources(c)
    return Container(
        name=name, image=image, command=c.strs("command"), args=c.strs("args"), env=_env(c),
        env_from=_env_from(c), ports=_ports(c), mounts=_mounts(c), working_dir=c.text("workingDir"),
        security=_security(c, pod_sc), memory=memory, cpus=cpus, memory_reservation=reservation,
        tty=bool(c.flag("tty", False)),
        stdin=bool(c.flag("stdin", False)), pull_policy=c.text("imagePullPolicy"), liveness=_probe(c))


def _items(src: Fields) -> tuple[tuple[str, str], ...]:
    return tuple((i.text("key"), i.text("path") or i.text("key")) for i in src.items("items"))


def _volume(v: Fields) -> Volume:
    name = v.text("name")
    if not name:
        raise KubeError(f'invalid field "{v.path}": a volume needs a name')
    kinds = ("hostPath", "emptyDir", "persistentVolumeClaim", "configMap", "secret")
    v.warn_unknown(("name", *kinds))
    present = {str(k).lower() for k in v.doc}
    found = [k for k in kinds if k.lower() in present]
    if not found:
        raise KubeError(f'volume "{name}": no supported volume source (hostPath, emptyDir, persistentVolumeClaim, '
                        'configMap, secret)')
    kind = found[0]
    src = Fields(v.get(kind) or {}, f"{v.path}.{kind}", v.warnings)
    mode = src.integer("defaultMode", 0o644) or 0o644
    if kind == "hostPath":
        if not src.text("path"):
            raise KubeError(f'invalid field "{src.path}": hostPath needs a path')
        return Volume(name, kind, path=src.text("path"), host_type=src.text("type"))
    if kind == "emptyDir":
        return Volume(name, kind, medium=src.text("medium"))
    if kind == "persistentVolumeClaim":
        return Volume(name, kind, source_name=src.text("claimName"), read_only=bool(src.flag("readOnly", False)))
    source = src.text("name") if kind == "configMap" else src.text("secretName")
    return Volume(name, kind, source_name=source, items=_items(src), optional=bool(src.flag("optional", False)),
                  mode=mode)


def _pod_template(name: str, meta: Fields, spec: Fields) -> PodTemplate:
    spec.warn_unknown(("containers", "initContainers", "volumes", "hostname", "restartPolicy", "hostNetwork",
                       "securityContext", "hostAliases", "shareProcessNamespace", "hostUsers", "dnsConfig"),
                      _QUIET_POD)
    pod_sc = spec.child_or_empty("securityContext")
    containers = tuple(_container(c, pod_sc) for c in spec.items("containers"))
    init_containers = tuple(_container(c, pod_sc) for c in spec.items("initContainers"))
    if not containers:
        raise KubeError(f'pod "{name}" has no containers')
    policy = spec.text("restartPolicy", "Always")
    if policy not in ("Always", "OnFailure", "Never"):
        raise KubeError(f'invalid field "{spec.path}.restartPolicy": "{policy}" is not Always, OnFailure or Never')
    return PodTemplate(
        name=name, labels=meta.strmap("labels"), annotations=meta.strmap("annotations"),
        hostname=spec.text("hostname"), restart_policy=policy, host_network=bool(spec.flag("hostNetwork", False)),
        containers=containers, volumes=tuple(_volume(v) for v in spec.items("volumes")),
        init_containers=init_containers, host_aliases=_host_aliases(spec),
        share_pid=bool(spec.flag("shareProcessNamespace", False)), host_users=spec.flag("hostUsers"),
        dns=_dns_config(spec.child_or_empty("dnsConfig")))


def _dns_config(dns: Fields) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    dns.warn_unknown(("nameservers", "searches", "options"))
    options = []
    for o in dns.items("options"):
        value = o.text("value") if o.has("value") else None
        options.append(o.text("name") + (f":{value}" if value is not None else ""))
    return dns.strs("nameservers") or (), dns.strs("searches") or (), tuple(options)


def _host_aliases(spec: Fields) -> tuple[str, ...]:
    out = []
    for alias in spec.items("hostAliases"):
        alias.warn_unknown(("ip", "hostnames"))
        ip = alias.text("ip")
        out += [f"{name}:{ip}" for name in alias.strs("hostnames") or ()]
    return tuple(out)


def _pod(doc: Fields) -> Workload:
    name, meta = _metadata(doc, "Pod")
    tmpl = _pod_template(name, meta, doc.child_or_empty("spec"))
    return Workload("Pod", name, tmpl, annotations=dict(tmpl.annotations))


def _deployment(doc: Fields) -> Workload:
    name, meta = _metadata(doc, "Deployment")
    spec = doc.child_or_empty("spec")
    spec.warn_unknown(("replicas", "template"), ("selector", "strategy", "revisionHistoryLimit",
                                                 "progressDeadlineSeconds", "minReadySeconds", "paused"))
    replicas = spec.integer("replicas", 1)
    if replicas is None or not 0 <= replicas <= 1000:
        raise KubeError(f'invalid field "{spec.path}.replicas": {replicas} replicas')
    template = spec.child_or_empty("template")
    tmeta = template.child_or_empty("metadata")
    tmeta.warn_unknown(("labels", "annotations"), _QUIET_META + ("name",))
    return Workload("Deployment", name, _pod_template(name, tmeta, template.child_or_empty("spec")), replicas,
                    meta.strmap("annotations"))


def _decode(value: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KubeError(f'invalid field "{where}": not valid base64') from None


def data_object(doc: Fields, kind: str) -> DataObject:
    """A ConfigMap (data, binaryData) or a Secret (data base64, stringData)."""
    name, _ = _metadata(doc, kind)
    doc.warn_unknown(("apiVersion", "kind", "metadata", "data", "binaryData", "stringData"),
                     ("type", "immutable", "status"))
    data: dict[str, bytes] = {}
    if kind == "ConfigMap":
        data.update({k: v.encode() for k, v in doc.strmap("data").items()})
        data.update({k: _decode(v, f"binaryData.{k}") for k, v in doc.strmap("binaryData").items()})
    else:
        data.update({k: _decode(v, f"data.{k}") for k, v in doc.strmap("data").items()})
        data.update({k: v.encode() for k, v in doc.strmap("stringData").items()})
    return DataObject(kind, name, data, doc.doc if kind == "Secret" else {})


def _claim(doc: Fields) -> Claim:
    name, meta = _metadata(doc, "PersistentVolumeClaim")
    return Claim(name, meta.strmap("labels"), meta.strmap("annotations"))


def parse_manifest(docs: Sequence[dict[str, Any]], extra_config_maps: Sequence[dict[str, Any]] = ()) -> Manifest:
    """The documents of one ``kube play`` (plus ``--configmap`` files): what to create, in order."""
    out = Manifest()
    for i, raw in enumerate([*docs, *extra_config_maps]):
        doc = Fields(raw, "", out.warnings)
        kind = doc.text("kind")
        if not kind:
            raise KubeError(f'YAML document {i + 1} has no "kind"')
        if i >= len(docs) and kind != "ConfigMap":
            raise KubeError(f'--configmap file holds a "{kind}", expected a ConfigMap')
        if kind == "Pod":
            out.workloads.append(_pod(doc))
        elif kind == "Deployment":
            out.workloads.append(_deployment(doc))
        elif kind == "PersistentVolumeClaim":
            out.claims.append(_claim(doc))
        elif kind == "ConfigMap":
            obj = data_object(doc, kind)
            if i >= len(docs) and obj.name in out.config_maps:
                raise KubeError(f"ambiguous configuration: the same config map {obj.name} is present in YAML and in "
                                "--configmaps")
            out.config_maps[obj.name] = obj
        elif kind == "Secret":
            obj = data_object(doc, kind)
            out.secrets[obj.name] = obj
        elif kind != "Service":  # what a Service publishes, the pods' hostPorts publish already
            out.warnings.append(f'kind "{kind}" not supported, ignoring document {i + 1}')
    return out
