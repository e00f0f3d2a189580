"""What a pod's infra container is given from ``pod create``, and what each member inherits from it.

Podman keeps a pod's devices, security options, volumes and limits on the infra container (limits
on the pod's cgroup) and lets every member start from those; sealpod has no pod cgroup, so a member
that sets no limit of its own is given the pod's, which bounds each member as the pod is bounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from sealpod.utils import record as dataclasses

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.pods import PodSpec

# limits that go together: a member setting any one of a group keeps its own for the whole group
_LIMIT_GROUPS = (("cpus", "cpu_period", "cpu_quota"), ("memory", "memory_swap"), ("cpu_shares",),
                 ("cpuset_cpus",), ("blkio_weight",), ("blkio_weight_device",), ("device_read_bps",),
                 ("device_write_bps",))


def _value(value: Any) -> Any:
    """JSON gave lists: ContainerConfig holds tuples (of tuples, for PATH:VALUE pairs)."""
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    return value


def infra_with(config: ContainerConfig, overrides: dict[str, Any]) -> ContainerConfig:
    """The infra container's configuration with the pod's own flags applied (pod-only keys skipped)."""
    from sealpod.engine.container_config import ContainerConfig

    known = {f.name for f in dataclasses.fields(ContainerConfig)}
    values = {k: _value(v) for k, v in overrides.items() if k in known}
    if values.get("uts") == "host":  # the host's own name: nothing may set it
        values["hostname"] = ""
    return dataclasses.replace(config, **values)


def check_pod_namespaces(config: ContainerConfig) -> None:
    """``--pid pod`` and the like name a pod's namespace: a container outside a pod (or in one without
    an infra container) has none to join."""
    if any(getattr(config, kind) == "pod" for kind in ("ipc", "uts", "pid", "cgroupns", "network")):
        from sealpod.errors import InvalidArgument

        raise InvalidArgument("cannot use pod namespace as container is not joining a pod or pod has no infra "
                              "container: invalid argument")


def _unset(value: Any) -> bool:
    return value is None or value == () or value == ""


def inherited(spec: PodSpec, share: Sequence[str], config: ContainerConfig, infra: str) -> dict[str, Any]:
    """The ContainerConfig changes a new member takes from its pod's infra container (``infra``:
    ``container:ID``); ``--pid pod`` and the like join its namespace even when the pod shares none."""
    pod = spec.infra_config
    out: dict[str, Any] = {kind: infra for kind in ("ipc", "uts", "pid", "cgroupns") if getattr(config, kind) == "pod"}
    if spec.shm_size and config.ipc == "host":
        from sealpod.errors import InvalidArgument

        raise InvalidArgument("invalid config provided: cannot set shmsize when running in the {host } IPC Namespace")
    if spec.shm_size and "ipc" in share and not config.ipc and config.shm_size is None:
        out["shm_size"] = spec.shm_size  # the infra container's /dev/shm, which they share
    devices = _value(pod.get("devices") or ())
    if devices:
        out["devices"] = tuple(dict.fromkeys((*devices, *config.devices)))
    if not config.security_opts and pod.get("security_opts"):
        out["security_opts"] = _value(pod["security_opts"])
    if pod.get("volumes_from"):
        out["volumes_from"] = tuple(dict.fromkeys((*_value(pod["volumes_from"]), *config.volumes_from)))
    for group in _LIMIT_GROUPS:
        if all(_unset(getattr(config, k)) for k in group):
            out.update({k: _value(pod[k]) for k in group if not _unset(pod.get(k))})
    if spec.no_hosts and "net" in share and not config.network and not config.networks:
        out["no_hosts"] = True  # the pod's network namespace has no /etc/hosts of ours: nor do its members
    for kind in ("uts", "pid"):
        if kind in share and pod.get(kind) == "host" and not getattr(config, kind):
            out[kind] = "host"  # the infra container is in the host's namespace: so are they
            if kind == "uts":
                out["hostname"] = ""
    return out


def is_init_container(rec: ContainerRecord) -> bool:
    """Init containers run to completion at pod start and count for none of the pod's states."""
    return bool((rec.config or {}).get("init_ctr"))


def run_init_containers(engine: Engine, members: list[ContainerRecord], infra_id: str) -> list[ContainerRecord]:
    """Pod start: the infra container, then each init container to its end (``once`` ones removed
    after), as Podman does before it starts the others; returns the members left to start."""
    from sealpod.errors import ContainerStateInvalid

    inits = [r for r in members if is_init_container(r)]
    if not inits:
        return members
    svc = engine.containers
    infra = next((r for r in members if r.id == infra_id), None)
    if infra is not None and infra.state not in ("running", "paused"):
        svc.start(infra.id)
    for rec in inits:
        svc.start(rec.id)
        code = svc.wait(rec.id)
        if code != 0:
            raise ContainerStateInvalid(f"init container {rec.id} exited with code {code}")
        if rec.config.get("init_ctr") == "once":
            svc.remove(rec.id, force=True)
    return [r for r in members if not is_init_container(r) and r.id != infra_id]
