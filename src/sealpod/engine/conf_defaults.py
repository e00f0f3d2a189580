"""containers.conf's ``[containers]`` defaults that a new container takes when its creator left
them out: time zone, /etc/hosts, namespaces, devices, annotations and volumes.

Podman fills these in while completing a spec, so they reach containers made by the CLI, the
REST API and kube play alike; sealpod does it at create, before the spec is stored, so ``inspect``
shows what the container really got and a later change of containers.conf leaves it as it was.
What the user gave always wins: a device, volume or annotation of the same target or key.
"""

from __future__ import annotations

import posixpath

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.config.containers_conf import ContainersSection
    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig, MountSpec

# containers.conf namespace keys and the ContainerConfig field each one fills
_NAMESPACES = (("ipcns", "ipc"), ("pidns", "pid"), ("utsns", "uts"))


def with_conf_defaults(engine: Engine, config: ContainerConfig) -> ContainerConfig:
    """``config`` completed from containers.conf; fails as Podman does when ``no_hosts`` is on
    and the user added hosts without saying ``--no-hosts=false``."""
    from sealpod.utils import record

    conf = engine.config.containers.containers
    changes: dict[str, Any] = {}
    if config.no_hosts is None:
        if conf.no_hosts and config.add_hosts:
            raise InvalidArgument("--no-hosts and --add-host cannot be set together")
        changes["no_hosts"] = bool(conf.no_hosts)
    if not config.timezone and conf.tz:
        changes["timezone"] = conf.tz
    if config.shm_size is None and not config.pod:  # a pod's member may share the infra's /dev/shm
        from sealpod.engine.container_namespaces import conf_shm_size

        changes["shm_size"] = conf_shm_size(conf.shm_size or "65536k")
    if not config.pod:  # a pod's member takes its namespaces from the pod
        for key, name in _NAMESPACES:
            mode = str(getattr(conf, key) or "")
            if not getattr(config, name) and mode not in ("", "private", "shareable"):
                changes[name] = mode
    changes.update(_annotations(conf, config))
    changes.update(_devices(conf, config))
    changes.update(_volumes(conf, config))
    return record.replace(config, **changes) if changes else config


def _annotations(conf: ContainersSection, config: ContainerConfig) -> dict[str, Any]:
    if not conf.annotations:
        return {}
    extra = dict(item.partition("=")[::2] for item in conf.annotations if item)
    return {"annotations": {**extra, **config.annotations}}


def _devices(conf: ContainersSection, config: ContainerConfig) -> dict[str, Any]:
    """containers.conf's ``HOST[:CONTAINER[:PERMISSIONS]]`` devices after the user's own, unless the
    user's already name that device path in the container."""
    if not conf.devices:
        return {}

    def target(spec: str) -> str:
        parts = spec.split(":")
        return parts[1] if len(parts) > 1 and parts[1].startswith("/") else parts[0]

    taken = {target(d) for d in config.devices}
    extra = tuple(d for d in conf.devices if d and target(d) not in taken)
    return {"devices": (*config.devices, *extra)} if extra else {}


def _volumes(conf: ContainersSection, config: ContainerConfig) -> dict[str, Any]:
    if not conf.volumes:
        return {}
    taken = {posixpath.normpath(m.destination) for m in config.mounts}
    extra = []
    for spec in conf.volumes:
        mount = _volume(spec)
        if posixpath.normpath(mount.destination) not in taken:
            extra.append(mount)
            taken.add(posixpath.normpath(mount.destination))
    return {"mounts": (*config.mounts, *extra)} if extra else {}


def _volume(spec: str) -> MountSpec:
    """``SOURCE:DEST[:OPTIONS]`` as ``-v`` reads it: an absolute source is a bind mount, a name a volume."""
    from sealpod.engine.container_config import MountSpec

    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1].startswith("/"):
        raise InvalidArgument(f'invalid volume specification in containers.conf: "{spec}"')
    options = tuple(o for o in (parts[2].split(",") if len(parts) == 3 else ()) if o)
    kind = "bind" if parts[0].startswith("/") else "volume"
    return MountSpec(kind, parts[1], parts[0], options, "ro" in options)
