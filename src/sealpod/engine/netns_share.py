"""What a container in another's network namespace takes from that container besides the
namespace: its resolv.conf (Podman bind-mounts the owner's own file, so edits show in both)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from pathlib import Path

    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.containers import ContainerService


def shared_resolv_conf(svc: ContainerService, cfg: ContainerConfig) -> Path | None:
    """The resolv.conf of the container owning the network namespace ``cfg`` joins (``--network
    container:``, a pod's infra container), at the end of a chain of joins; None: not joined, or it
    sets DNS of its own, or the owner has none."""
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.errors import NoSuchContainer

    if cfg.dns_servers or cfg.dns_search or cfg.dns_options:
        return None
    owner = None
    seen: set[str] = set()
    while cfg.network.startswith("container:"):
        try:
            owner = svc.lookup(cfg.network.split(":", 1)[1])
        except NoSuchContainer:
            return None
        if owner.id in seen:
            return None
        seen.add(owner.id)
        cfg = ContainerConfig.from_json(owner.config)
    if owner is None:
        return None
    path = svc.paths(owner.id).userdata / "resolv.conf"
    return path if path.exists() else None
