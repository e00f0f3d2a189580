"""What a container in another's network namespace takes from that container besides the
namespace: its /etc/hosts and resolv.conf (Podman bind-mounts the owner's own files, so edits
show in both)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from pathlib import Path

    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService


def netns_owner(svc: ContainerService, cfg: ContainerConfig) -> tuple[ContainerRecord, list[ContainerConfig]] | None:
    """The container owning the network namespace ``cfg`` joins (``--network container:``, a pod's
    infra container) at the end of a chain of joins, with the configurations met on the way (the
    owner's last); None: not joined, a container in the chain is gone, or the chain loops."""
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.errors import NoSuchContainer

    owner, chain = None, []
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
        chain.append(cfg)
    return (owner, chain) if owner is not None else None


def shared_resolv_conf(svc: ContainerService, cfg: ContainerConfig) -> Path | None:
    """The owner's resolv.conf; None: not joined, or ``cfg`` sets DNS of its own, or the owner has none."""
    if cfg.dns_servers or cfg.dns_search or cfg.dns_options:
        return None
    found = netns_owner(svc, cfg)
    if found is None:
        return None
    path = svc.paths(found[0].id).userdata / "resolv.conf"
    return path if path.exists() else None


def shared_hosts(svc: ContainerService, cfg: ContainerConfig) -> Path | None:
    """The owner's /etc/hosts; None: not joined, or a container on the way keeps no hosts file."""
    found = None if cfg.no_hosts else netns_owner(svc, cfg)
    if found is None or any(c.no_hosts for c in found[1]):
        return None
    path = svc.paths(found[0].id).userdata / "hosts"
    return path if path.exists() else None
