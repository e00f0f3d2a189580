"""``pod clone``: a new pod made from an existing one's specification, its members cloned into it.

The source's infra container is not cloned as a container: the new pod makes its own from the
source's ``PodSpec`` (with the flags given to ``clone`` laid over it), then every other member is
cloned into the new pod as ``container clone --pod`` would.
"""

from __future__ import annotations

from sealpod.utils import record as dataclasses

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.pods import PodRecord


def clone_pod_name(engine: Engine, base: str) -> str:
    """``NAME-clone``, then ``NAME-clone1``, ``NAME-clone2``... as Podman numbers them."""
    name = f"{base}-clone"
    n = 0
    while engine.pods.exists(name):
        n += 1
        name = f"{base}-clone{n}"
    return name


def clone_pod(engine: Engine, name_or_id: str, overrides: dict[str, Any], *, name: str = "",
              destroy: bool = False, start: bool = False) -> PodRecord:
    from sealpod.engine.container_ops import CloneOptions

    pods = engine.pods
    source = pods.lookup(name_or_id)
    spec = source.pod_spec
    infra_config = {**spec.infra_config, **overrides.pop("infra_config", {})}
    infra_name = ""
    if spec.infra_name:
        infra_name = spec.infra_name + "-clone"
    spec = dataclasses.replace(spec, **{"name": name or clone_pod_name(engine, source.name), "pod_id_file": "",
                                        "infra_conmon_pidfile": "", "infra_name": infra_name,
                                        "service_container": "", **overrides, "infra_config": infra_config})
    pod = pods.create(spec)
    for rec in pods.members(source):
        if rec.id != source.infra_id:
            engine.container_ops.clone(rec.id, CloneOptions(pod=pod.id))
    if destroy:
        pods.remove(source.id, force=True)
    if start:
        pods.start(pod.id)
    return pod
