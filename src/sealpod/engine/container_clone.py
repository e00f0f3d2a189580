"""``container clone``: a new container with the configuration of an existing one.

A pod's member keeps, in its stored configuration, what joining the pod gave it (the infra's
namespaces, the pod's hostname and hosts); the clone joins its pod afresh, so those are taken
back out first, or the pod's own checks would refuse what the pod itself set.
"""

from __future__ import annotations

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import State
from sealpod.errors import ContainerStateInvalid, InvalidArgument, NoSuchPod
from sealpod.utils.record import replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.container_ops import CloneOptions, ContainerOps
    from sealpod.engine.container_state import ContainerRecord


def clone(ops: ContainerOps, name_or_id: str, opts: CloneOptions) -> ContainerRecord:
    from sealpod.engine.container_ops import with_resources

    svc = ops.svc
    rec = svc.lookup(name_or_id)
    if opts.force and not opts.destroy:
        raise InvalidArgument("cannot set --force without --destroy: invalid argument")
    if opts.destroy and rec.state in (State.RUNNING, State.PAUSED, State.STOPPING) and not opts.force:
        raise ContainerStateInvalid(f"cannot destroy container {rec.id} as it is {rec.state}: use --force")
    cfg = with_resources(ContainerConfig.from_json(rec.config), opts.resources)
    if rec.pod_id:
        cfg = _without_pod(ops, cfg, rec.pod_id)
    if opts.pod:
        cfg = replace(cfg, pod=ops.engine.pods.lookup(opts.pod).id)
    cfg = replace(cfg, name=opts.name or clone_name(ops, rec.name), cidfile="", conmon_pidfile="", pidfile="",
                  image=opts.image or cfg.image)
    image_id = ops.engine.images.get(opts.image).id if opts.image else rec.image_id
    new = svc.create(cfg, image_id=image_id)
    if opts.destroy:
        svc.remove(rec.id, force=True)
    if opts.run:
        new = svc.start(new.id)
    return new


def _without_pod(ops: ContainerOps, cfg: ContainerConfig, pod_id: str) -> ContainerConfig:
    """What the container asked for itself, without what joining its pod added."""
    try:
        pod = ops.engine.pods.lookup(pod_id)
    except NoSuchPod:
        return replace(cfg, pod="")
    joined = f"container:{pod.infra_id}" if pod.infra_id else None
    spec = pod.pod_spec
    hosts = cfg.add_hosts[len(spec.add_hosts):] if cfg.add_hosts[:len(spec.add_hosts)] == spec.add_hosts \
        else cfg.add_hosts
    return replace(
        cfg, pod=pod.id, add_hosts=hosts,
        network="" if cfg.network == joined else cfg.network, ipc="" if cfg.ipc == joined else cfg.ipc,
        uts="" if cfg.uts == joined else cfg.uts, pid="" if cfg.pid == joined else cfg.pid,
        userns="" if cfg.userns == joined else cfg.userns,
        hostname="" if cfg.hostname in (pod.hostname, pod.name) else cfg.hostname)


def clone_name(ops: ContainerOps, base: str) -> str:
    """``NAME-clone``, then ``NAME-clone1``...: a clone of a clone counts on from the same NAME, as Podman."""
    import re

    base = re.sub(r"-clone\d*$", "", base) or base
    name = f"{base}-clone"
    n = 1
    while ops.svc.db.name_in_use(name):
        name = f"{base}-clone{n}"
        n += 1
    return name
