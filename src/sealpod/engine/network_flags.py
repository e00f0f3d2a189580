"""Checks of a container's network flags, pure: the CLI and the API call them before creating
anything, the engine to decide what a start sets up."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.network.config import CreateOptions
    from sealpod.network.portmap import PortMapping

MODES = ("none", "host", "private", "bridge", "slirp4netns", "pasta")
_MAC_RE = re.compile(r"([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}")
_ALIAS_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


# --- checks of the flags (pure; the CLI and the API call them before creating) -------------

def check_mac(mac: str) -> str:
    if mac and not _MAC_RE.fullmatch(mac):
        raise InvalidArgument(f"address {mac}: invalid MAC address")
    return mac.lower().replace("-", ":")


def parse_network_flag(value: str) -> tuple[str, dict[str, Any]]:
    """``name:ip=10.0.0.5,alias=db,mac=…,interface_name=eth1`` → (name, per-network options)."""
    name, _, rest = value.partition(":")
    opts: dict[str, Any] = {}
    for item in (i for i in rest.split(",") if i) if rest else ():
        key, sep, val = item.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid option for network {name}: {item}")
        if key in ("ip", "ip6"):
            opts.setdefault("static_ips", []).append(val)
        elif key == "alias":
            opts.setdefault("aliases", []).append(val)
        elif key == "mac":
            opts["static_mac"] = check_mac(val)
        elif key == "interface_name":
            opts["interface_name"] = val
        else:
            raise InvalidArgument(f"unknown network option {key}")
    return name, opts


def place_addresses(default_name: str, network: str, networks: dict[str, dict[str, Any]], ip: str,
                    ip6: str) -> dict[str, Any]:
    """``--network bridge:ip=…`` means the default network with those options, as Podman reads it,
    and ``--ip6`` is one more static address on the first network (with ``--ip``'s, if any): the
    fields (network, networks, ip) a container or pod records for them."""
    if "bridge" in networks:
        networks = {(default_name if k == "bridge" else k): v for k, v in networks.items()}
    if ip6:
        import ipaddress

        try:
            ipaddress.ip_address(ip6)
        except ValueError:
            raise InvalidArgument(f'"{ip6}" is not an ip address') from None
        own_mode = network in ("none", "host", "private") or network.startswith(("container:", "ns:", "slirp4netns"))
        if not networks and not own_mode:
            networks = {network if network not in ("", "default", "bridge") else default_name: {}}
        if networks:
            name, opts = next(iter(networks.items()))
            static = list(opts.get("static_ips") or ([ip] if ip else []))
            networks = {**networks, name: {**opts, "static_ips": [*static, ip6]}}
            network, ip = "bridge", ""
    return {"network": network, "networks": networks, "ip": ip}


def check_config(cfg: ContainerConfig) -> None:
    """Reject malformed ``-p``, ``--expose``, ``--ip``, ``--mac-address`` and ``--network``
    before anything is created, with Podman's messages."""
    import ipaddress

    from sealpod.network.portmap import check_conflicts, parse_expose, parse_publish

    check_conflicts([m for spec in cfg.ports for m in parse_publish(spec)])
    for spec in cfg.expose:
        parse_expose(spec)
    if cfg.ip:
        try:
            ipaddress.ip_address(cfg.ip)
        except ValueError:
            raise InvalidArgument(f'"{cfg.ip}" is not an ip address') from None
    check_mac(cfg.mac_address)
    for alias in cfg.network_aliases:
        if not _ALIAS_RE.fullmatch(alias):
            raise InvalidArgument(f"invalid network alias {alias!r}")
    mode = cfg.network
    if mode.startswith("slirp4netns:"):
        from sealpod.network.slirp import SlirpOptions

        SlirpOptions.parse(mode.partition(":")[2])
    if cfg.ports and (mode in ("none", "host") or mode.startswith(("container:", "ns:"))):
        raise InvalidArgument("--publish is not supported with --network=" + mode.split(":")[0])


def create_options(**kwargs: Any) -> CreateOptions:
    """``network create``'s options, for front-ends that must not import ``sealpod.network``."""
    from sealpod.network.config import CreateOptions

    return CreateOptions(**kwargs)


def network_mode(cfg: ContainerConfig) -> str:
    """``bridge`` (the default network or named ones), ``none``, ``host``, ``private``,
    ``container:ID`` or ``ns:PATH``."""
    mode = cfg.network
    if cfg.networks or mode in ("", "bridge", "default"):
        return "bridge"
    if mode in MODES or mode.startswith(("container:", "ns:")):
        return mode
    if mode.startswith("slirp4netns:"):
        return "slirp4netns"
    return "bridge"  # a network name


def ports_of(cfg: ContainerConfig, image_exposed: Sequence[str]) -> list[PortMapping]:
    from sealpod.network.portmap import parse_expose, parse_publish, publish_all

    mappings = [m for spec in cfg.ports for m in parse_publish(spec)]
    if cfg.publish_all:
        exposed = [p for spec in (*image_exposed, *cfg.expose) for p in parse_expose(spec)]
        mappings += publish_all(exposed, mappings)
    return mappings


def with_default_network(conf_netns: str, cfg: ContainerConfig) -> ContainerConfig:
    """containers.conf's ``netns`` for a container that asked for no network mode of its own
    (``private``/``bridge``, the defaults, change nothing)."""
    if cfg.network or cfg.networks or conf_netns in ("", "private", "bridge"):
        return cfg
    from sealpod.utils import record

    return record.replace(cfg, network=conf_netns)


def with_network_names(files: Any, cfg: ContainerConfig) -> ContainerConfig:
    """Networks named by ID (or an ID prefix) are recorded by name, as Podman records them: inspect,
    connect and disconnect then see one network, not two."""
    from sealpod.errors import NoSuchNetwork
    from sealpod.utils import record

    def name_of(ref: str) -> str:
        try:
            return str(files.get(ref).name)
        except NoSuchNetwork:
            return ref  # an unknown network: its own error comes when the container starts

    changes: dict[str, Any] = {}
    mode = cfg.network
    if mode and mode not in MODES and mode != "default" and not mode.startswith(("container:", "ns:", "slirp4netns:")):
        changes["network"] = name_of(mode)
    if cfg.networks:
        changes["networks"] = {name_of(k): v for k, v in cfg.networks.items()}
    return record.replace(cfg, **changes) if changes else cfg
