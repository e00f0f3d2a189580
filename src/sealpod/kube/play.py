"""``kube play`` and ``kube down``: a parsed manifest becomes volumes, pods and containers.

Volumes that only exist to serve a pod (configMap and secret files, shared emptyDirs) are labelled
as ours, so ``kube down`` removes them with the pods; PersistentVolumeClaims are the user's data
and stay unless ``down`` is forced.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from sealpod.errors import KubeError, NoSuchPod, NoSuchVolume, SealpodError
from sealpod.kube.model import DataObject, Manifest, PodTemplate, Volume, VolumeMount, Workload
from sealpod.kube.translate import (
    TMPFS_HOST_PATH,
    PlayFlags,
    container_config,
    data_files,
    host_ports,
    mount_for,
    resolve_env,
)
from sealpod.utils.record import dataclass, field, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.engine.container_config import MountSpec
    from sealpod.engine.entities import PullOptions

KUBE_NETWORK = "podman-default-kube-network"
OWNED_LABEL = "io.sealpod.kube.owner"  # value: the pod volume's kind (configMap, secret, emptyDir)


@dataclass(frozen=True)
class PlayOptions:
    flags: PlayFlags = field(default_factory=PlayFlags)
    start: bool = True
    replace: bool = False
    pull: PullOptions | None = None
    report: Callable[[str], None] = lambda _line: None
    service_name: str = ""  # --service-container: the name of the container standing for the file's pods


INIT_TYPE_ANNOTATION = "io.podman.annotations.init.container.type"  # once (the default) | always


@dataclass
class PodReport:
    id: str
    containers: list[str] = field(default_factory=list)
    init_containers: list[str] = field(default_factory=list)
    keep_init: bool = False  # init containers of type "always" stay, exited, after they ran


@dataclass
class DownReport:
    stopped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)


@dataclass
class PlayReport:
    pods: list[PodReport] = field(default_factory=list)
    replaced: DownReport | None = None  # what --replace took down first
    volumes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # IDs of the secrets the file's Secrets were stored as
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # containers that did not start


def owned_volume_name(volume: Volume, pod_name: str) -> str:
    """configMap volumes are named after the ConfigMap, as Podman names them; the rest per pod."""
    if volume.kind == "configMap":
        return volume.source_name
    if volume.kind == "secret":
        return f"{volume.source_name}-secret"
    return volume.name  # an emptyDir: Podman names it after the pod's volume


_DEVICE_TYPES = {"BlockDevice": "HostPathBlockDevice", "CharDevice": "HostPathCharDevice"}


def _host_path(volume: Volume) -> str:
    """hostPath ``type`` as Kubernetes checks it; the ``OrCreate`` kinds make what is missing, every other
    kind needs the path to exist (Podman's words: ``failed to create volume "NAME": ...``)."""
    path, kind = Path(volume.path), volume.host_type
    fail = f'failed to create volume "{volume.name}"'
    if kind == "DirectoryOrCreate":
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    elif kind == "FileOrCreate":
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.touch(mode=0o644, exist_ok=True)
    checks = {"Directory": path.is_dir, "File": path.is_file, "Socket": path.is_socket,
              "CharDevice": path.is_char_device, "BlockDevice": path.is_block_device}
    if kind and kind not in checks and kind not in ("DirectoryOrCreate", "FileOrCreate"):
        raise KubeError(f"{fail}: invalid HostPath type {kind}")
    if not os.path.lexists(path):
        where = f"checking {_DEVICE_TYPES[kind]}" if kind in _DEVICE_TYPES else "in parsing HostPath in YAML"
        raise KubeError(f"{fail}: {where}: stat {volume.path}: no such file or directory")
    if kind in checks and not checks[kind]():
        raise KubeError(f'{fail}: hostPath "{volume.path}" is not a {kind}')
    return str(path)


def _fill_owned(engine: Engine, name: str, kind: str, files: dict[str, bytes], mode: int, infra: str) -> None:
    """(Re)create a volume of ours holding exactly ``files``.  An emptyDir is anonymous and the pod's infra
    container owns it, so that it goes with the pod, as Podman removes it with the pod."""
    vols = engine.volumes
    try:
        vol = vols.get(name)
        if vol.labels.get(OWNED_LABEL) != kind:
            raise KubeError(f'volume "{name}" exists and was not made by kube play for a {kind}')
    except NoSuchVolume:
        if kind == "emptyDir" and infra:
            vols.create(name, labels={OWNED_LABEL: kind}, anonymous=True, owner=infra, owner_dest=f"emptyDir:{name}")
        else:
            vols.create(name, labels={OWNED_LABEL: kind})
    data = engine.volume_path(name)
    if kind == "emptyDir":
        return
    for old in sorted(data.rglob("*"), reverse=True):
        if old.is_dir() and not old.is_symlink():
            old.rmdir()
        else:
            old.unlink()
    for rel, content in files.items():
        target = data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode & 0o777)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(target, mode & 0o777)


def _pod_volumes(engine: Engine, tmpl: PodTemplate, pod_name: str, manifest: Manifest,
                 infra: str = "") -> dict[str, str]:
    """Pod volume name → what a mount of it uses: a host path or a volume name."""
    out: dict[str, str] = {}
    for v in tmpl.volumes:
        if v.kind == "hostPath" and v.path == TMPFS_HOST_PATH:
            out[v.name] = ""  # a tmpfs, as it was in the container Podman wrote it from
        elif v.kind == "hostPath":
            out[v.name] = _host_path(v)
        elif v.kind == "persistentVolumeClaim":
            engine.volumes.ensure(v.source_name)
            out[v.name] = v.source_name
        elif v.kind == "emptyDir" and v.medium == "Memory":
            out[v.name] = ""
        else:
            name = owned_volume_name(v, pod_name)
            files: dict[str, bytes] = {}
            if v.kind in ("configMap", "secret"):
                from sealpod.kube.secrets import from_store

                obj = manifest.config_maps.get(v.source_name) if v.kind == "configMap" else \
                    from_store(engine, v.source_name, for_volume=True)  # the file's were stored already
                if obj is None and not v.optional:
                    what = "ConfigMap" if v.kind == "configMap" else "secret"
                    raise KubeError(f'failed to create volume "{v.name}": no such {what} "{v.source_name}"')
                files = data_files(v, obj) if obj is not None else {}
            _fill_owned(engine, name, v.kind, files, v.mode, infra)
            out[v.name] = name
    return out


def _mounts(tmpl: PodTemplate, ctr_mounts: tuple[VolumeMount, ...], sources: dict[str, str]) -> list[MountSpec]:
    by_name = {v.name: v for v in tmpl.volumes}
    out = []
    for m in ctr_mounts:
        if m.name not in by_name:
            raise KubeError(f'volume mount "{m.name}" refers to no volume of pod "{tmpl.name}"')
        if by_name[m.name].host_type not in _DEVICE_TYPES:
            out.append(mount_for(m, by_name[m.name], sources[m.name]))
    return out


def _devices(tmpl: PodTemplate, ctr_mounts: tuple[VolumeMount, ...], sources: dict[str, str]) -> tuple[str, ...]:
    """hostPath volumes of type BlockDevice or CharDevice are passed through as devices, at the mount path."""
    by_name = {v.name: v for v in tmpl.volumes}
    return tuple(f"{sources[m.name]}:{m.mount_path}" for m in ctr_mounts
                 if m.name in by_name and by_name[m.name].kind == "hostPath"
                 and by_name[m.name].host_type in _DEVICE_TYPES)


def _pod_network(tmpl: PodTemplate, flags: PlayFlags) -> tuple[str, dict[str, dict[str, object]]]:
    """Podman's: the host's network, the ``--network`` flags, or else the kube default network."""
    from sealpod.engine.network_flags import parse_network_flag

    if tmpl.host_network:
        return "host", {}
    values = [v for v in flags.network if v] or [KUBE_NETWORK]
    if len(values) == 1 and (":" not in values[0] or values[0].startswith(("ns:", "container:", "slirp4netns:"))):
        return values[0], {}
    return "bridge", dict(parse_network_flag(v) for v in values)


def ensure_kube_network(engine: Engine) -> None:
    """The network every played pod joins when ``--network`` names none, made once (DNS on), as Podman's."""
    from sealpod.engine.network_flags import create_options

    if not engine.networks.exists(KUBE_NETWORK):
        engine.networks.create(KUBE_NETWORK, create_options(), ignore=True)


@dataclass
class PlayState:
    """What the pods of one ``kube play`` share: the secrets their env reads, the images refreshed already."""

    secrets: Mapping[str, DataObject] = field(default_factory=dict)
    refreshed: set[str] = field(default_factory=set)  # asked of their registry once ("newer"), not per container


def play_pod(engine: Engine, wl: Workload, pod_name: str, manifest: Manifest, opts: PlayOptions,
             index: int = 0, service: str = "", state: PlayState | None = None) -> PodReport:
    """One pod of a workload: create it, its volumes and containers; undo all of it on failure."""
    from sealpod.engine.entities import PullOptions
    from sealpod.engine.pods import PodSpec

    tmpl = wl.pod
    seen: set[str] = set()
    for c in (*tmpl.init_containers, *tmpl.containers):
        if c.name in seen:
            raise KubeError(f'the pod "{pod_name}" is invalid; duplicate container name "{c.name}" detected')
        seen.add(c.name)
    for key, value in tmpl.annotations.items():
        if len(value) > 63:
            raise KubeError(f'invalid annotation "{key}"="{value}": annotation exceeds maximum size, 63, of '
                            "kubernetes annotation")
    if tmpl.host_aliases and opts.flags.no_hosts:
        raise KubeError("HostAliases in yaml file will not work with --no-hosts")
    network, networks = _pod_network(tmpl, opts.flags)
    userns = opts.flags.userns or ("auto" if tmpl.host_users is False else "")
    spec = PodSpec(name=pod_name, hostname=tmpl.hostname, labels=dict(tmpl.labels), network=network,
                   networks=dict(networks), ports=host_ports(tmpl) + tuple(opts.flags.publish),
                   add_hosts=tmpl.host_aliases, dns_servers=tmpl.dns[0], dns_search=tmpl.dns[1],
                   dns_options=tmpl.dns[2], share=("ipc", "net", "uts", "pid") if tmpl.share_pid else
                   ("ipc", "net", "uts"),
                   userns=userns, exit_policy="stop",  # Podman's for played pods
                   ip=opts.flags.ips[index] if index < len(opts.flags.ips) else "",
                   mac_address=opts.flags.macs[index] if index < len(opts.flags.macs) else "",
                   service_container=service)
    pod = engine.pods.create(spec)
    report = PodReport(pod.id, keep_init=wl.annotations.get(INIT_TYPE_ANNOTATION, "once") == "always")
    try:
        sources = _pod_volumes(engine, tmpl, pod_name, manifest, pod.infra_id)
        for c in (*tmpl.init_containers, *tmpl.containers):
            state = state or PlayState(manifest.secrets)
            env = resolve_env(c, pod_name, manifest.config_maps, state.secrets, manifest.warnings)
            config = container_config(c, tmpl, pod_name, pod.id, env, _mounts(tmpl, c.mounts, sources), opts.flags,
                                      wl.annotations)
            devices = _devices(tmpl, c.mounts, sources)
            if devices:
                config = replace(config, devices=devices)
            if config.pull == "newer" and config.image in state.refreshed:
                config = replace(config, pull="missing")
            state.refreshed.add(config.image)
            rec = engine.containers.create_with_image(config, opts.pull or PullOptions(), opts.report)
            (report.init_containers if c in tmpl.init_containers else report.containers).append(rec.id)
    except BaseException:
        with contextlib.suppress(SealpodError):
            engine.pods.remove(pod.id, force=True, volumes=True)
        raise
    return report


def _claims(engine: Engine, manifest: Manifest, replace: bool) -> list[str]:
    from sealpod.errors import VolumeExists

    made = []
    for claim in manifest.claims:
        if engine.volumes.exists(claim.name):
            if replace:
                continue
            raise VolumeExists(f"volume with name {claim.name} already exists: volume already exists")
        driver = claim.annotations.get("volume.podman.io/driver", "local")
        options = {k.removeprefix("volume.podman.io/"): v for k, v in claim.annotations.items()
                   if k in ("volume.podman.io/type", "volume.podman.io/device", "volume.podman.io/o",
                            "volume.podman.io/uid", "volume.podman.io/gid")}
        engine.volumes.create(claim.name, driver=driver, options=options, labels=dict(claim.labels))
        made.append(claim.name)
    return made


def play(engine: Engine, manifest: Manifest, opts: PlayOptions) -> PlayReport:
    """Everything the manifest asks for; pods are started unless ``start`` is false."""
    if not (manifest.workloads or manifest.claims or manifest.secrets):
        if manifest.config_maps:
            raise KubeError("ConfigMaps in podman are not a standalone object and must be used in a container")
        raise KubeError("YAML document does not contain any supported kube kind")
    out = PlayReport(warnings=manifest.warnings)
    if opts.replace:
        out.replaced = down(engine, manifest, force=False, missing_ok=True)
    else:
        for wl in manifest.workloads:
            for name in wl.pod_names():
                if engine.pods.exists(name):
                    from sealpod.errors import PodExists

                    raise PodExists(f'adding pod to state: name "{name}" is in use: pod already exists')
    out.volumes = _claims(engine, manifest, opts.replace)
    from sealpod.kube.secrets import env_secrets, store

    out.secrets = store(engine, manifest.secrets)
    state = PlayState(env_secrets(engine, manifest))
    if not opts.flags.network and any(not wl.pod.host_network for wl in manifest.workloads):
        ensure_kube_network(engine)
    service = ""
    if opts.service_name:
        from sealpod.engine import pod_service

        service = pod_service.create(engine, opts.service_name, replace=opts.replace)
    index = 0
    for wl in manifest.workloads:
        for name in wl.pod_names():
            pod = play_pod(engine, wl, name, manifest, opts, index, service, state)
            index += 1
            out.pods.append(pod)
            if opts.start:
                out.errors += start_pod(engine, pod)
    return out


def start_pod(engine: Engine, pod: PodReport) -> list[str]:
    """Init containers first, then each container on its own, so that every failure is reported (Podman's
    ``starting container ID: ...`` lines); the pod's start event follows when they all run."""
    try:
        run_init_containers(engine, pod)
    except SealpodError as e:
        return [str(e)]
    errors = []
    for ctr_id in pod.containers:
        try:
            engine.containers.start(ctr_id)
        except SealpodError as e:
            errors.append(f"starting container {ctr_id}: {e}")
    if not errors:
        engine.pods.start(pod.id)  # nothing left to start: the pod's own bookkeeping and event
    return errors


def run_init_containers(engine: Engine, pod: PodReport) -> None:
    """Each init container in turn, to a zero exit, then it goes (Podman's ``once``): the others start after."""
    svc = engine.containers
    for ctr_id in pod.init_containers:
        name = svc.lookup(ctr_id).name
        svc.start(ctr_id)
        code = svc.wait(ctr_id)
        if code != 0:
            raise KubeError(f"init container {name} exited with code {code}")
        if not pod.keep_init:
            svc.remove(ctr_id, force=True, volumes=True)
    pod.init_containers.clear()


def down(engine: Engine, manifest: Manifest, *, force: bool = False, missing_ok: bool = False) -> DownReport:
    """Stop and remove the file's pods and the volumes kube play made for them; ``force``: its claims too.
    A pod of the file that does not exist is an error, as in Podman, unless ``missing_ok`` (``--replace``)."""
    out = DownReport()
    if not missing_ok:
        for wl in manifest.workloads:
            for name in wl.pod_names():
                if not engine.pods.exists(name):
                    raise NoSuchPod(f"no pod with name or ID {name} found: no such pod")
    for wl in manifest.workloads:
        for name in wl.pod_names():
            try:
                pod = engine.pods.stop(name)
            except NoSuchPod:
                continue
            out.stopped.append(pod.id)
            out.removed.append(engine.pods.remove(pod.id, force=True, volumes=True))
    wanted = {owned_volume_name(v, name): v.kind for wl in manifest.workloads for name in wl.pod_names()
              for v in wl.pod.volumes if v.kind in ("configMap", "secret", "emptyDir") and v.medium != "Memory"}
    if force:
        wanted.update({c.name: "" for c in manifest.claims})
    for name, kind in wanted.items():
        try:
            vol = engine.volumes.get(name)
        except NoSuchVolume:
            continue
        if kind and vol.labels.get(OWNED_LABEL) != kind:
            continue  # a volume of the user's that happens to have the name
        with contextlib.suppress(SealpodError):
            out.volumes.append(engine.volumes.remove(name, force=force))
    return out
