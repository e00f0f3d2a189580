"""The parts of ``ps`` that look past a container's own row: whose network namespace it
joins and which networks it is on (``--filter network=``)."""

from __future__ import annotations

from sealpod.errors import SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable

    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService

DEFAULT_MODES = ("", "bridge", "default", "private")  # --network values that mean the default network


def default_network_name(svc: ContainerService) -> str:
    """The default network's name from containers.conf alone: ``ps`` must not load the network
    machinery (the files, ipaddress) to print it."""
    return svc.engine.config.containers.network.default_network or "podman"


def record_networks(svc: ContainerService, rec: ContainerRecord) -> tuple[str, ...]:
    """The networks a container is configured on: its named ones, else the default one in bridge mode
    (none for a rootless container, which uses slirp4netns)."""
    named = rec.config.get("networks") or {}
    if named:
        return tuple(named)
    if (rec.config.get("network") or "") in DEFAULT_MODES and not svc.engine.config.rootless:
        return (default_network_name(svc),)
    return ()


def _joined_id(svc: ContainerService, rec: ContainerRecord) -> str:
    """The ID of the container whose network namespace ``rec`` joins (``--network container:X``, a
    pod's member), or ""."""
    mode = rec.config.get("network") or ""
    if not mode.startswith("container:"):
        return ""
    try:
        return svc.lookup(mode.split(":", 1)[1]).id
    except SealpodError:
        return ""


def network_filter(svc: ContainerService, value: str) -> Callable[[ContainerRecord], bool]:
    """``network=NAME|ID`` matches the containers on that network; ``network=container:X`` those
    that joined X's namespace. An unknown network or container matches nothing, as in Podman."""
    if value.startswith("container:"):
        try:
            owner = svc.lookup(value.split(":", 1)[1]).id
        except SealpodError:
            return lambda r: False
        return lambda r: _joined_id(svc, r) == owner
    try:
        name = svc.engine.networks.get(value).name
    except SealpodError:
        name = value
    return lambda r: name in record_networks(svc, r)
