"""YAML model → engine specs (Podman's ``ToSpecGen``): pure, so every rule is unit-tested without
running anything.  Volumes are resolved by the caller (they touch the engine) and passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sealpod.engine.container_config import ContainerConfig, MountSpec, RestartPolicy
from sealpod.errors import KubeError
from sealpod.kube.model import Container, DataObject, PodTemplate, Volume, VolumeMount
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
# imagePullPolicy, compared in lower case as Podman compares it; none given is Podman's "newer" (a ":latest"
# image is refreshed from its registry, a local-only image is used as it is)
_PULL = {"": "newer", "always": "always", "never": "never", "ifnotpresent": "missing", "missing": "missing",
         "ifnewer": "newer", "newer": "newer"}
# Podman 4 writes a --read-only container's /tmp, /var/tmp and /run as hostPath "tmpfs": they were tmpfs mounts.
TMPFS_HOST_PATH = "tmpfs"
# Podman writes these per-container annotations (``<key>/<container>``); read them back on play.
_FLAG_ANNOTATIONS = ("io.podman.annotations.autoremove", "io.podman.annotations.init")


@dataclass(frozen=True)
class PlayFlags:
    """What the ``kube play`` command line adds to every pod of the file."""

    network: tuple[str, ...] = ()
    publish: tuple[str, ...] = ()
    log_driver: str = ""
    log_opts: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    no_hosts: bool = False
    userns: str = ""
    ips: tuple[str, ...] = ()  # --ip: one per pod, in the order the file defines them
    macs: tuple[str, ...] = ()  # --mac-address, likewise
    seccomp_root: str = "/var/lib/kubelet/seccomp"  # --seccomp-profile-root: where "localhost/" profiles are


def _lookup(kind: str, name: str, key: str, store: Mapping[str, DataObject], optional: bool) -> str | None:
    obj = store.get(name)
    if obj is None:
        if optional:
            return None
        raise KubeError(f'{kind} "{name}" not found')
    if key not in obj.data:
        if optional:
            return None
        raise KubeError(f'key "{key}" not found in {kind} "{name}"')
    return obj.data[key].decode("utf-8", errors="replace")


def resolve_env(c: Container, pod_name: str, config_maps: Mapping[str, DataObject],
                secrets: Mapping[str, DataObject], warnings: list[str]) -> tuple[str, ...]:
    """``envFrom`` first, then ``env`` over it, as Kubernetes orders them."""
    env: dict[str, str] = {}
    for ref in c.env_from:
        store, kind = (config_maps, "configmap") if ref.source == "configMap" else (secrets, "secret")
        obj = store.get(ref.name)
        if obj is None:
            if not ref.optional:
                raise KubeError(f'{kind} "{ref.name}" not found')
            continue
        env.update({ref.prefix + k: v.decode("utf-8", errors="replace") for k, v in obj.data.items()})
    for var in c.env:
        value: str | None = var.value
        if var.source == "configMap":
            value = _lookup("configmap", var.source_name, var.key, config_maps, var.optional)
        elif var.source == "secret":
            value = _lookup("secret", var.source_name, var.key, secrets, var.optional)
        elif var.source == "field":
            value = {"metadata.name": pod_name, "metadata.namespace": "default"}.get(var.source_name)
            if value is None:
                warnings.append(f'env "{var.name}": fieldRef "{var.source_name}" is not supported, ignoring it')
        if value is not None:
            env[var.name] = value
    return tuple(f"{k}={v}" for k, v in env.items())


def host_ports(tmpl: PodTemplate) -> tuple[str, ...]:
    """Published at pod level, as Podman 4.3 publishes them: a port without a hostPort on the
    host port of its containerPort's number, one without a containerPort on its hostPort."""
    out = []
    for c in tmpl.containers:
        for p in c.ports:
            host, inside = p.host_port or p.container_port, p.container_port or p.host_port
            if host:
                ip = f"[{p.host_ip}]:" if ":" in p.host_ip else (f"{p.host_ip}:" if p.host_ip else "")
                out.append(f"{ip}{host}:{inside}/{p.protocol}")
    return tuple(out)


def pull_policy(text: str, image: str) -> str:
    """``newer`` asks the registry only of an image named with its registry: a short name found here
    (``demo``, built or committed locally) or a ``localhost/`` one is used as it is."""
    policy = _PULL.get(text.lower())
    if policy is None:
        raise KubeError(f'unsupported pull policy "{text.lower()}"')
    first, slash, _ = image.partition("/")
    if policy == "newer" and (not slash or not ("." in first or ":" in first) or "@" in image):
        return "missing"
    return policy


def _user(c: Container) -> str:
    sc = c.security
    if sc.run_as_user is None:
        return "" if sc.run_as_group is None else f"0:{sc.run_as_group}"
    return f"{sc.run_as_user}" + (f":{sc.run_as_group}" if sc.run_as_group is not None else "")


def _command(c: Container) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(entrypoint, cmd): ``command`` replaces the Entrypoint (and drops the image's Cmd), ``args`` the Cmd."""
    if c.command is not None:
        return tuple(c.command), tuple(c.args) if c.args is not None else None
    return None, tuple(c.args) if c.args is not None else None


def _flag_annotation(annotations: Mapping[str, str], key: str, ctr: str) -> bool:
    return annotations.get(f"{key}/{ctr}", "").upper() == "TRUE"


def container_annotations(annotations: Mapping[str, str], ctr: str, names: Sequence[str]) -> dict[str, str]:
    """Podman's generate writes a container's annotations as ``key/<container>``: each goes back to its
    own container under its key; Podman's flags (``io.podman.annotations.*``, cri-o's) were read already."""
    out: dict[str, str] = {}
    for key, value in annotations.items():
        stem, _, suffix = key.rpartition("/")
        if stem and suffix in names:
            if suffix == ctr and not stem.startswith(("io.podman.annotations.", "io.kubernetes.cri-o.")):
                out[stem] = value
        elif not key.startswith(("io.podman.annotations.", "io.kubernetes.cri-o.")):
            out[key] = value
    return out


def healthcheck(c: Container, restart_policy: str) -> dict[str, Any]:
    """A livenessProbe as Podman runs it: a ``CMD-SHELL`` check; seconds become nanoseconds."""
    probe = c.liveness
    if probe is None:
        return {}
    failure = "kill 1" if restart_policy == "Always" else "exit 1"
    second = 1_000_000_000
    return {"Test": ["CMD-SHELL", f"{probe.command} || {failure}"], "Interval": probe.period * second,
            "Timeout": probe.timeout * second, "Retries": probe.failures, "StartPeriod": probe.initial_delay * second}


_SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CTR = "container.seccomp.security.alpha.kubernetes.io/"
_AUTO_UPDATE = ("io.containers.autoupdate", "io.containers.autoupdate.authfile")


def seccomp_opts(annotations: Mapping[str, str], ctr: str, root: str) -> tuple[str, ...]:
    """The pod's or the container's seccomp annotation (the container's wins) as a ``--security-opt``."""
    value = annotations.get(_SECCOMP_CTR + ctr) or annotations.get(_SECCOMP_POD, "")
    if value in ("", "runtime/default", "docker/default"):
        return ()
    if value == "unconfined":
        return ("seccomp=unconfined",)
    if value.startswith("localhost/"):
        return (f"seccomp={root.rstrip('/')}/{value.removeprefix('localhost/')}",)
    raise KubeError(f"could not find seccomp profile type: {value}: invalid seccomp annotation")


def container_labels(tmpl: PodTemplate, annotations: Mapping[str, str], ctr: str) -> dict[str, str]:
    """The pod's labels, and auto-update's annotations as labels (``key/<container>`` over ``key``),
    which the Pod's (or the Deployment's own) annotations set, as Podman reads them."""
    out = dict(tmpl.labels)
    for key in _AUTO_UPDATE:
        value = annotations.get(f"{key}/{ctr}") or annotations.get(key)
        if value:
            out[key] = value
    return out


def container_config(c: Container, tmpl: PodTemplate, pod_name: str, pod_id: str, env: Sequence[str],
                     mounts: Sequence[MountSpec], flags: PlayFlags,
                     workload_annotations: Mapping[str, str] | None = None) -> ContainerConfig:
    """One container of a pod, named ``<pod>-<container>`` as Podman names them; an init container
    runs once, to completion, so it is never restarted."""
    restart = "no" if c in tmpl.init_containers else _RESTART.get(tmpl.restart_policy, "always")
    entrypoint, cmd = _command(c)
    sc = c.security
    annotations = {**tmpl.annotations, **(flags.annotations or {})}
    names = [x.name for x in (*tmpl.containers, *tmpl.init_containers)]
    security = ("no-new-privileges",) if sc.no_new_privileges else ()
    return ContainerConfig(
        image=c.image, name=f"{pod_name}-{c.name}", entrypoint=entrypoint, command=cmd, env=tuple(env),
        labels=container_labels(tmpl, {**annotations, **(workload_annotations or {})}, c.name),
        workdir=c.working_dir, user=_user(c), interactive=c.stdin, detach=True,
        annotations=container_annotations(annotations, c.name, names), healthcheck=healthcheck(c, tmpl.restart_policy),
        mounts=tuple(mounts), read_only=sc.read_only_root, privileged=sc.privileged,
        cap_add=sc.cap_add, cap_drop=sc.cap_drop,
        security_opts=security + seccomp_opts(tmpl.annotations, c.name, flags.seccomp_root),
        memory=c.memory, cpus=c.cpus, memory_reservation=c.memory_reservation, restart=RestartPolicy(restart),
        log_driver=flags.log_driver, log_opts=dict(flags.log_opts or {}), pull=pull_policy(c.pull_policy, c.image),
        remove=_flag_annotation(annotations, _FLAG_ANNOTATIONS[0], c.name),
        init=_flag_annotation(annotations, _FLAG_ANNOTATIONS[1], c.name),
        tty=c.tty,
        no_hosts=flags.no_hosts, pod=pod_id)


def mount_for(mount: VolumeMount, volume: Volume, source: str) -> MountSpec:
    """``source``: the host path (hostPath) or the volume name the caller made for this pod volume."""
    read_only = mount.read_only or volume.read_only or volume.kind in ("configMap", "secret")
    if volume.kind == "hostPath" and volume.path == TMPFS_HOST_PATH:
        return MountSpec("tmpfs", mount.mount_path, "tmpfs", read_only=read_only)
    if volume.kind == "hostPath":
        path = f"{source.rstrip('/')}/{mount.sub_path}" if mount.sub_path else source
        return MountSpec("bind", mount.mount_path, source=path, read_only=read_only)
    if volume.kind == "emptyDir" and volume.medium == "Memory":
        return MountSpec("tmpfs", mount.mount_path, "tmpfs", read_only=read_only)
    if mount.sub_path:
        raise KubeError(f'volume mount "{mount.name}": subPath is only supported for hostPath volumes')
    return MountSpec("volume", mount.mount_path, source=source, read_only=read_only)


def data_files(volume: Volume, obj: DataObject) -> dict[str, bytes]:
    """The files a configMap or secret volume shows: every key, or just ``items`` (key → path)."""
    pairs = volume.items or tuple((k, k) for k in obj.data)
    out: dict[str, bytes] = {}
    for key, path in pairs:
        if key not in obj.data:
            if volume.optional:
                continue
            raise KubeError(f'key "{key}" not found in {obj.kind.lower()} "{obj.name}"')
        parts = path.split("/")
        if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise KubeError(f'volume "{volume.name}": invalid item path "{path}"')
        out[path] = obj.data[key]
    return out
