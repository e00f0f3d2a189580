"""Random host ports picked when a container is created, as Podman 4.3 does.

``-p 80``, ``-p 127.0.0.1::80`` and ``-P`` leave the host port to the engine. Podman chooses it
at create, so ``port``, ``ps`` and ``inspect`` show it before the first start and every restart
reuses it. The choice is written back into the container's ``-p`` specs; the start then sets up
exactly those ports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sealpod.engine.container_config import ContainerConfig

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

    from sealpod.network.portmap import PortMapping

#: network modes whose ports are set up by sealpod itself (the others discard or refuse ``-p``)
_PUBLISHING_MODES = ("bridge", "slirp4netns", "pasta")


def spec_of(m: PortMapping) -> str:
    """A mapping as the ``-p`` value that :func:`sealpod.network.portmap.parse_publish` reads back."""
    def span(first: int) -> str:
        return f"{first}-{first + m.range - 1}" if m.range > 1 else str(first)

    ip = f"[{m.host_ip}]" if ":" in m.host_ip else m.host_ip
    host = f"{ip}:{span(m.host_port)}" if ip else span(m.host_port)
    return f"{host}:{span(m.container_port)}/{m.protocol}"


def reserved_ports(conn: sqlite3.Connection) -> set[tuple[int, str]]:
    """(host port, protocol) that the ``-p`` specs of existing containers name: a new container
    must not pick them, running or not (nothing listens on a stopped container's port)."""
    from sealpod.errors import SealpodError
    from sealpod.network.portmap import parse_publish

    out: set[tuple[int, str]] = set()
    rows = conn.execute("SELECT json_extract(config, '$.ports') FROM containers "
                        "WHERE json_extract(config, '$.ports') NOT IN ('[]', '')")
    for (doc,) in rows:
        try:
            specs = json.loads(doc or "[]")
        except ValueError:
            continue
        for text in specs if isinstance(specs, list) else ():
            try:
                mappings = parse_publish(str(text))
            except SealpodError:
                continue
            out.update((m.host_port + i, m.protocol) for m in mappings if m.host_port for i in range(m.range))
    return out


def with_host_ports(conn: sqlite3.Connection, config: ContainerConfig,
                    image_exposed: Sequence[str]) -> ContainerConfig:
    """``config`` with a host port chosen for every published port that has none, ``-P``'s
    exposed ports included (they become explicit ``-p`` specs; ``publish_all`` stays set, as
    Podman keeps its annotation). Modes that publish nothing keep the config as it is."""
    from sealpod.engine.network_flags import network_mode, ports_of

    if not (config.ports or config.publish_all) or network_mode(config) not in _PUBLISHING_MODES:
        return config
    mappings = ports_of(config, image_exposed)
    if all(m.host_port for m in mappings):
        return config
    from sealpod.network.portmap import assign_host_ports
    from sealpod.utils.record import replace

    assigned = assign_host_ports(mappings, reserved_ports(conn), note_sctp=False)  # the start notes SCTP
    return replace(config, ports=tuple(spec_of(m) for m in assigned))


def publishes(cfg: dict[str, Any]) -> bool:
    """Whether a stored config's network mode sets up published ports: Podman shows neither
    bindings nor exposed ports for ``none``, ``host`` or a borrowed namespace."""
    mode = str(cfg.get("network") or "")
    if cfg.get("networks") or mode in ("", "bridge", "default", "private", "pasta") or mode.startswith("slirp4netns"):
        return True
    return mode not in ("none", "host") and not mode.startswith(("container:", "ns:"))


def exposed_keys(cfg: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """``PORT/PROTO`` of the image's EXPOSE and of ``--expose``."""
    from sealpod.errors import SealpodError
    from sealpod.network.portmap import parse_expose

    out = []
    for text in (*(spec.get("exposed_ports") or ()), *(cfg.get("expose") or ())):
        try:
            out += [f"{port}/{proto}" for port, proto in parse_expose(str(text))]
        except SealpodError:
            continue
    return out


def port_map(cfg: dict[str, Any], spec: dict[str, Any], *, any_ip: str = "") -> dict[str, Any]:
    """Podman's ``PortBindings`` (and a stopped container's ``NetworkSettings.Ports``): each
    published port with its bindings, each exposed one with none (null), keys in Go's order;
    ``any_ip`` stands for a binding without an address."""
    from sealpod.errors import SealpodError
    from sealpod.network.portmap import parse_publish

    if not publishes(cfg):
        return {}
    out: dict[str, Any] = {}
    for text in cfg.get("ports") or ():
        try:
            mappings = parse_publish(str(text))
        except SealpodError:
            continue
        for p in mappings:
            for i in range(p.range):
                out.setdefault(f"{p.container_port + i}/{p.protocol}", []).append(
                    {"HostIp": p.host_ip or any_ip, "HostPort": str(p.host_port + i) if p.host_port else ""})
    for key in exposed_keys(cfg, spec):
        out.setdefault(key, None)
    return dict(sorted(out.items()))


def stopped_ports(conn: sqlite3.Connection) -> dict[str, list[PortMapping]]:
    """Published ports of the containers that do not run, by ID: ``ps`` shows them as Podman
    does (they are fixed from create on), read from the ``-p`` specs alone."""
    from sealpod.errors import SealpodError
    from sealpod.network.portmap import parse_publish

    out: dict[str, list[PortMapping]] = {}
    rows = conn.execute("SELECT id, json_extract(config, '$.ports') FROM containers WHERE state NOT IN "
                        "('running', 'paused') AND json_extract(config, '$.ports') NOT IN ('[]', '')")
    for ctr_id, doc in rows:
        try:
            specs = json.loads(doc or "[]")
            out[ctr_id] = [m for text in specs for m in parse_publish(str(text)) if m.host_port]
        except (ValueError, TypeError, SealpodError):
            continue
    return out
