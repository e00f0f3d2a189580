"""``info`` and ``version``: what a user or a bug report needs to know about this host."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sealpod import BUILT, __version__
from sealpod.errors import CommandFailed
from sealpod.utils.proc import run
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.config.containers_conf import ContainersSection
    from sealpod.engine import Engine
    from sealpod.rootless.userns import Identity

API_VERSION = "4.3.1"  # the Libpod API level we answer to
DOCKER_API_VERSION = "1.44"


def _tool_version(path: str | None, *args: str) -> dict[str, str]:
    if not path:
        return {"path": "", "version": ""}
    try:
        out = run([path, *args], timeout=10).stdout.decode(errors="replace").strip()
    except CommandFailed:
        out = ""
    return {"path": path, "version": out}


def _cgroup_version() -> str:
    return "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"


def _distribution() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip('"')
    except OSError:
        pass
    return {"distribution": fields.get("ID", ""), "version": fields.get("VERSION_ID", ""),
            "codename": fields.get("VERSION_CODENAME", "")}


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return values


def _security(conf: ContainersSection, rootless: bool) -> dict[str, Any]:
    """Podman's ``host.security``: the confinement a new container gets (capabilities with their
    ``CAP_`` names, the seccomp profile containers.conf names) and what the kernel offers."""
    caps = [c.upper() if c.upper().startswith("CAP_") else f"CAP_{c.upper()}" for c in conf.default_capabilities]

    def flag(path: str) -> bool:
        try:
            with open(path) as f:
                return f.read().strip() in ("Y", "1")
        except OSError:
            return False

    return {"apparmorEnabled": flag("/sys/module/apparmor/parameters/enabled"),
            "capabilities": ",".join(sorted(caps)), "rootless": rootless,
            "seccompEnabled": os.path.exists("/proc/sys/kernel/seccomp/actions_avail"),
            "seccompProfilePath": conf.seccomp_profile, "selinuxEnabled": os.path.exists("/sys/fs/selinux/enforce")}


def image_copy_tmp_dir(engine: Engine) -> str:
    """Where image copies keep their scratch files, as Podman reports it: ``$TMPDIR``, else
    containers.conf's ``image_copy_tmp_dir`` ("storage": the store's own tmp), which must be absolute."""
    value = engine.env.get("TMPDIR") or engine.config.containers.engine.image_copy_tmp_dir or "/var/tmp"
    if value == "storage":
        return str(engine.store.graph_root / "tmp")
    if not value.startswith("/"):
        from sealpod.errors import ConfigError

        raise ConfigError(f'invalid image_copy_tmp_dir value "{value}" (relative paths are not accepted)')
    return value


class SystemService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def runtime_path(self, wanted: str = "") -> tuple[str, str | None]:
        """The OCI runtime in force (or the one named ``wanted``, a container's own): name and
        path (crun is refused on hybrid cgroup v1 hosts)."""
        from sealpod.utils.proc import which

        conf = self.engine.config.containers.engine
        wanted = wanted or conf.runtime or ("crun" if _cgroup_version() == "v2" and which("crun") else "runc")
        if "/" in wanted:
            return os.path.basename(wanted), wanted
        for candidate in (conf.runtimes.get(wanted) or ()):
            if os.access(candidate, os.X_OK):
                return wanted, candidate
        return wanted, which(wanted)

    def conmon_path(self) -> str | None:
        import shutil

        return next((p for p in self.engine.config.containers.engine.conmon_path if os.access(p, os.X_OK)),
                    shutil.which("conmon"))

    def components(self) -> list[dict[str, Any]]:
        """The helpers the Docker API's ``/version`` lists beside the engine (conmon and the OCI
        runtime, with their packages), so that ``docker version`` shows what really runs containers."""
        from sealpod.engine.host_info import packages_of

        name, runtime = self.runtime_path()
        tools = [("Conmon", self.conmon_path()), (f"OCI Runtime ({name})", runtime)]
        packages = packages_of(tuple(path for _, path in tools if path))
        return [{"Name": label, "Version": _tool_version(path, "--version")["version"],
                 "Details": {"Package": packages.get(path, "Unknown")}} for label, path in tools if path]

    def version(self) -> dict[str, Any]:
        return self.static_version()

    @staticmethod
    def static_version() -> dict[str, Any]:
        """Needs no storage or configuration: ``version`` must work on a broken setup too."""
        import time

        python = sys.version.split()[0]
        return {  # the build time as Go's time.ANSIC shows it, in local time
            "APIVersion": API_VERSION, "Version": __version__, "GoVersion": f"python{python}",
            "PythonVersion": python, "GitCommit": "", "BuiltTime": time.strftime("%a %b %e %H:%M:%S %Y",
                                                                                 time.localtime(BUILT)),
            "Built": BUILT, "OsArch": f"linux/{_arch()}", "Os": "linux",
        }

    def info(self) -> dict[str, Any]:
        import shutil
        import socket

        cfg = self.engine.config
        store = self.engine.store
        images = store.list_images()
        name, path = self.runtime_path()
        conmon = self.conmon_path()
        mem = _meminfo()
        try:
            usage = shutil.disk_usage(store.graph_root)
            allocated, used = usage.total, usage.used
        except OSError:
            allocated = used = 0
        host = {
            "arch": _arch(), "cgroupManager": cfg.containers.engine.cgroup_manager,
            "cgroupVersion": _cgroup_version(), "conmon": _tool_version(conmon, "--version"),
            "cpus": os.cpu_count() or 0, "distribution": _distribution(),
            "eventLogger": cfg.containers.engine.events_logger, "hostname": socket.gethostname(),
            "kernel": os.uname().release, "logDriver": cfg.containers.containers.log_driver,
            "memFree": mem.get("MemAvailable", 0), "memTotal": mem.get("MemTotal", 0),
            "networkBackend": cfg.containers.network.network_backend or "netavark",
            "ociRuntime": {"name": name, **_tool_version(path, "--version")}, "os": "linux",
            "security": _security(cfg.containers.containers, cfg.rootless),
            "swapFree": mem.get("SwapFree", 0), "swapTotal": mem.get("SwapTotal", 0),
        }
        if cfg.rootless:
            host["idMappings"] = _id_mappings()
        host.update(self._remote_socket())
        from sealpod.engine.host_info import extend_host, plugins, registries

        host = extend_host(host, cfg.containers, conmon or "", path or "")
        registries_conf = self.engine.registries
        return {
            "host": host, "plugins": plugins(cfg.containers),
            "registries": registries(registries_conf),
            "store": {
                "configFile": str(cfg.storage.files[0]) if cfg.storage.files else "",
                "containerStore": self._container_counts(),
                "graphDriverName": store.driver_name, "graphOptions": {},
                "graphRoot": str(store.graph_root), "graphRootAllocated": allocated,
                "graphRootUsed": used, "graphStatus": dict(store.driver.status()),
                "imageCopyTmpDir": image_copy_tmp_dir(self.engine), "imageStore": {"number": len(images)},
                "runRoot": str(store.run_root), "volumePath": str(cfg.volume_path),
            },
            "version": self.version(),
        }

    def _container_counts(self) -> dict[str, int]:
        states = [rec.state for rec in self.engine.containers.list_containers()]
        return {"number": len(states), "paused": states.count("paused"), "running": states.count("running"),
                "stopped": len(states) - states.count("paused") - states.count("running")}

    def _remote_socket(self) -> dict[str, Any]:
        """Podman's ``host.remoteSocket``: the service's default socket, or, in a command a service
        runs for a remote client, the address that client reached."""
        served = self.engine.env.get("_SEALPOD_SERVICE_URI", "")
        if served:
            return {"remoteSocket": {"path": served, "exists": True}, "serviceIsRemote": True}
        from sealpod.config.connections import default_service_uri

        uri = default_service_uri(self.engine.env)
        path = uri.removeprefix("unix://")
        return {"remoteSocket": {"path": path, "exists": os.path.exists(path)}, "serviceIsRemote": False}

    def _identity(self) -> Identity:
        from sealpod.config.paths import rootless_uid
        from sealpod.rootless.userns import Identity

        gid = int(self.engine.env.get("_CONTAINERS_ROOTLESS_GID", os.getegid()))
        return Identity(rootless_uid(self.engine.env), gid, self.engine.config.storage.run_root)

    def unshare(self, argv: list[str]) -> int:
        """Run ``argv`` inside the user's namespace (the engine joined it when it was built)."""
        if not self.engine.config.rootless:
            from sealpod.errors import InvalidArgument

            raise InvalidArgument("please use unshare with rootless")
        storage = self.engine.config.storage
        env = {**self.engine.env, "CONTAINERS_GRAPHROOT": str(storage.graph_root),
               "CONTAINERS_RUNROOT": str(storage.run_root)}
        command = argv or [env.get("SHELL") or "/bin/sh"]
        return run(command, check=False, stdin=None, stdout=None, stderr=None, env=env).returncode

    def migrate(self) -> None:
        """Stop the user's containers and its pause process: the next command maps the ids anew
        (after an administrator changed /etc/subuid or /etc/subgid)."""
        if not self.engine.config.rootless:
            return
        from sealpod.rootless.userns import stop_pause

        containers = self.engine.containers
        for rec in containers.list_containers():
            if rec.state in ("running", "paused"):
                containers.stop(rec.id, timeout=0)
        stop_pause(self._identity())

    def reset(self) -> None:
        """Remove every container, image, volume and network of this store, and the store itself."""
        containers = self.engine.containers
        for rec in reversed(containers.list_containers(external=True)):  # dependents before what they depend on
            containers.remove(rec.id, force=True, volumes=True)
        from sealpod.engine.image_damage import warn_on_remove

        for image in self.engine.store.list_images():  # as Podman's image removal: damaged ones warn
            warn_on_remove(image)
        cfg = self.engine.config
        self.engine.close()
        if cfg.rootless:  # this process stays inside, so the files of subordinate ids can still go
            from sealpod.rootless.userns import stop_pause

            stop_pause(self._identity())
        import shutil

        for path in (cfg.storage.graph_root, cfg.volume_path, cfg.storage.run_root):
            shutil.rmtree(path, ignore_errors=True)

    def df(self) -> DiskUsage:
        """``system df``: what images, containers and volumes take on disk, and who uses them."""
        engine = self.engine
        images = engine.images.list_images()
        records = engine.containers.list_containers()
        containers = engine.containers
        ctr_rows = []
        for rec in records:
            mounts = [m for m in rec.config.get("mounts", []) if m.get("type") == "volume"]
            ctr_rows.append(ContainerUsage(
                id=rec.id, name=rec.name, image_id=rec.image_id or "", command=" ".join(rec.spec.get("command", [])),
                volumes=len(mounts), size=containers.rw_size(rec.id), created=rec.created,
                status=_public(rec.state)))
        users = engine.volumes.users()
        vol_rows = [VolumeUsage(v.name, len(users.get(v.name, [])), _tree_size(engine.volumes.data_dir(v.name)))
                    for v in engine.volumes.all()]
        shared = _shared_sizes(engine)
        img_rows = [ImageUsage(id=i.id, names=i.names, created=float(i.created), size=i.size,
                               containers=i.containers, shared_size=min(shared.get(i.id, 0), i.size))
                    for i in images]
        return DiskUsage(tuple(img_rows), tuple(ctr_rows), tuple(vol_rows))

    def prune(self, *, all_images: bool = False, volumes: bool = False,
              filters: Sequence[str] = ()) -> PruneReport:
        """``system prune``: stopped containers (and empty pods), unused networks, dangling (or,
        with ``all_images``, unused) images, unused volumes when asked; what went and the space freed."""
        engine = self.engine
        _check_prune_filters(engine, filters)
        before = self.df()
        pods = engine.pods.prune()
        ctrs = engine.container_ops.prune(filters)
        vols = engine.volumes.prune(filters) if volumes else []
        nets = engine.networks.prune(filters)
        imgs: list[str] = []
        while True:  # removing an image can leave its parent dangling
            gone = engine.images.prune(all_images=all_images, filters=filters)
            imgs += gone
            if not gone:
                break
        # Podman counts what its container, image and volume prunes report; a pod's infra container is not one
        pruned = set(ctrs) | set(imgs) | set(vols)
        freed = (sum(c.size for c in before.containers if c.id in pruned) + sum(i.size for i in before.images
                 if i.id in pruned) + sum(v.size for v in before.volumes if v.name in pruned))
        return PruneReport(tuple(pods), tuple(ctrs), tuple(vols), tuple(nets), tuple(imgs), freed)


@dataclass(frozen=True)
class ImageUsage:
    id: str
    names: tuple[str, ...]
    created: float
    size: int
    containers: int
    shared_size: int = 0  # what the image shares with its parent or children; the rest is unique to it

    @property
    def unique_size(self) -> int:
        return self.size - self.shared_size


def _check_prune_filters(engine: Engine, filters: Sequence[str]) -> None:
    """Refuse a bad ``--filter`` before anything is pruned, in the words of the first prune (containers)
    that reads it, as Podman does; then as images read them."""
    from sealpod.engine.image_filters import build_filter
    from sealpod.errors import InvalidArgument

    for spec in filters:
        key, sep, _ = spec.partition("=")
        if not sep:
            raise InvalidArgument(f'invalid filter "{spec}"')
        if key not in ("until", "label", "label!"):
            raise InvalidArgument(f"{key} is an invalid filter")
    build_filter(filters, engine.images.get)


def _shared_sizes(engine: Engine) -> dict[str, int]:
    """Podman's split of an image's size: an image others are built on shares all of it; else one built
    on a parent shares the parent's size; else none."""
    from sealpod.engine.image_tree import parents, with_children

    records = engine.store.list_images()
    sizes = {r.id: r.size for r in records}
    parent_of = parents(records)
    out = {image_id: sizes[image_id] for image_id in with_children(records)}
    for image_id, parent in parent_of.items():
        out.setdefault(image_id, sizes.get(parent, 0))
    return out


@dataclass(frozen=True)
class ContainerUsage:
    id: str
    name: str
    image_id: str
    command: str
    volumes: int
    size: int
    created: float
    status: str


@dataclass(frozen=True)
class VolumeUsage:
    name: str
    links: int
    size: int


@dataclass(frozen=True)
class DiskUsage:
    images: tuple[ImageUsage, ...]
    containers: tuple[ContainerUsage, ...]
    volumes: tuple[VolumeUsage, ...]

    def total(self) -> int:
        return (sum(i.size for i in self.images) + sum(c.size for c in self.containers)
                + sum(v.size for v in self.volumes))


@dataclass(frozen=True)
class PruneReport:
    pods: tuple[str, ...]
    containers: tuple[str, ...]
    volumes: tuple[str, ...]
    networks: tuple[str, ...]
    images: tuple[str, ...]
    reclaimed: int


def _public(state: str) -> str:
    return {"stopped": "exited", "configured": "created"}.get(state, state)


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def _id_mappings() -> dict[str, list[dict[str, int]]]:
    """The maps of the user namespace this (rootless) process runs in, as Podman's info shows them."""
    from sealpod.rootless.idmap import read_id_map

    out: dict[str, list[dict[str, int]]] = {}
    for kind in ("uid", "gid"):
        try:
            maps = read_id_map("self", kind)
        except OSError:
            maps = []
        out[f"{kind}map"] = [{"container_id": m.container_id, "host_id": m.host_id, "size": m.size} for m in maps]
    return out


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
