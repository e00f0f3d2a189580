"""The service container of ``kube play --service-container``: one pause container, started before
the pods of a YAML file, that stands for all of them (systemd's podman-kube@ unit watches it).

It belongs to no pod; each pod names it in its spec (``service_container``).  It stops when the
last of those pods has nothing left running (the pod exited, was stopped or killed), starts again
with any of them, can be removed only with them, and goes with the last one, as in Podman.
"""

from __future__ import annotations

import contextlib

from sealpod.errors import ContainerHasDependents, NoSuchContainer, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine


def service_name(yaml_bytes: bytes) -> str:
    """Podman's predictable name: the first 12 hex digits of the file's sha256, then ``-service``."""
    import hashlib

    return f"{hashlib.sha256(yaml_bytes).hexdigest()[:12]}-service"


def create(engine: Engine, name: str, *, replace: bool = False) -> str:
    """Create and start the service container (the pause image, no network of its own)."""
    from sealpod.engine.container_config import ContainerConfig

    svc = engine.containers
    if replace:
        with contextlib.suppress(NoSuchContainer):
            old = svc.lookup(name)
            for pod_id in pods_served(engine, old.id):
                with contextlib.suppress(SealpodError):
                    engine.pods.remove(pod_id, force=True)
            with contextlib.suppress(NoSuchContainer):
                svc.remove(old.id, force=True)
    pods = engine.pods
    image_id = pods.pause_image()
    config = ContainerConfig(image=pods.pause_image_name(), name=name, network="none", pull="never",
                             stop_signal="SIGTERM", stop_timeout=10)
    rec = svc.create(config, image_id=image_id)
    svc.start(rec.id)
    return rec.id


def pods_served(engine: Engine, ctr_id: str) -> list[str]:
    """The pods whose service container ``ctr_id`` is (none: it is not one)."""
    rows = engine.pods.db.conn.execute(
        "SELECT id FROM pods WHERE json_extract(spec, '$.service_container') = ?", (ctr_id,)).fetchall()
    return [row[0] for row in rows]


def check_removable(engine: Engine, ctr_id: str) -> None:
    pods = pods_served(engine, ctr_id)
    if pods:
        raise ContainerHasDependents(f"container {ctr_id} is the service container of pod(s) {', '.join(pods)} "
                                     "and cannot be removed without removing the pod(s)")


def ensure_running(engine: Engine, ctr_id: str) -> None:
    """A pod of the file starts: its service container runs first."""
    from sealpod.engine.container_state import State

    with contextlib.suppress(NoSuchContainer):
        if engine.containers.lookup(ctr_id).state not in (State.RUNNING, State.PAUSED):
            engine.containers.start(ctr_id)


def stop_if_idle(engine: Engine, ctr_id: str) -> None:
    """Stop the service container once no pod it serves has a container other than its infra running."""
    from sealpod.engine.container_state import State

    pods = engine.pods
    for pod_id in pods_served(engine, ctr_id):
        with contextlib.suppress(SealpodError):
            pod = pods.lookup(pod_id)
            if any(r.state in (State.RUNNING, State.PAUSED) for r in pods.members(pod) if r.id != pod.infra_id):
                return
    with contextlib.suppress(SealpodError):
        if engine.containers.lookup(ctr_id).state in (State.RUNNING, State.PAUSED):
            engine.containers.stop(ctr_id, 0)  # a pause process: nothing to wait for


def remove_if_unused(engine: Engine, ctr_id: str) -> None:
    """The last pod it served is gone: so is the service container."""
    if not pods_served(engine, ctr_id):
        with contextlib.suppress(SealpodError):
            engine.containers.remove(ctr_id, force=True)


__all__ = ["check_removable", "create", "ensure_running", "pods_served", "remove_if_unused", "service_name",
           "stop_if_idle"]
