"""Network definitions: one JSON file per network, in the shape Podman keeps them in
``/etc/containers/networks/*.json`` (netavark reads that same shape on stdin), under sealpod's
own graph root so that sealpod and Podman never edit each other's networks.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sealpod.errors import InvalidArgument, NetworkExists, NoSuchNetwork
from sealpod.utils.record import dataclass, field
from sealpod.utils.timefmt import now_rfc3339

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NAME_PATTERN = "[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_NAME_RE = re.compile(NAME_PATTERN)
_DRIVERS = ("bridge", "macvlan")  # Podman 4.3.1 with netavark has no ipvlan
_BRIDGE_OPTIONS = ("mtu", "vlan", "isolate")  # Podman 4.3.1's: no "metric" yet
_MACVLAN_OPTIONS = ("mtu", "mode")
BRIDGE_PREFIX = "podman"


@dataclass
class Subnet:
    subnet: str
    gateway: str = ""
    lease_start: str = ""
    lease_end: str = ""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"subnet": self.subnet}
        if self.gateway:
            doc["gateway"] = self.gateway
        if self.lease_start or self.lease_end:
            doc["lease_range"] = {k: v for k, v in (("start_ip", self.lease_start), ("end_ip", self.lease_end)) if v}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Subnet:
        lease = doc.get("lease_range") or {}
        return cls(doc["subnet"], doc.get("gateway", ""), lease.get("start_ip", ""), lease.get("end_ip", ""))

    @property
    def network(self) -> IPNetwork:
        return ipaddress.ip_network(self.subnet, strict=False)


@dataclass
class Network:
    """A network as netavark and ``network inspect`` see it."""

    name: str
    id: str
    driver: str = "bridge"
    network_interface: str = ""
    created: str = ""
    subnets: list[Subnet] = field(default_factory=list)
    ipv6_enabled: bool = False
    internal: bool = False
    dns_enabled: bool = True
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    ipam_driver: str = "host-local"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "id": self.id, "driver": self.driver}
        if self.network_interface:
            doc["network_interface"] = self.network_interface
        doc["created"] = self.created
        if self.subnets:  # Podman leaves the key out when there are none (--ipam-driver none)
            doc["subnets"] = [s.to_json() for s in self.subnets]
        doc.update(ipv6_enabled=self.ipv6_enabled, internal=self.internal, dns_enabled=self.dns_enabled)
        if self.labels:
            doc["labels"] = dict(self.labels)
        if self.options:
            doc["options"] = dict(self.options)
        doc["ipam_options"] = {"driver": self.ipam_driver}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Network:
        return cls(
            name=doc["name"], id=doc.get("id") or _network_id(doc["name"]), driver=doc.get("driver", "bridge"),
            network_interface=doc.get("network_interface", ""), created=doc.get("created", ""),
            subnets=[Subnet.from_json(s) for s in doc.get("subnets") or []],
            ipv6_enabled=bool(doc.get("ipv6_enabled")), internal=bool(doc.get("internal")),
            dns_enabled=bool(doc.get("dns_enabled")), options=dict(doc.get("options") or {}),
            labels=dict(doc.get("labels") or {}),
            ipam_driver=(doc.get("ipam_options") or {}).get("driver", "host-local"))


@dataclass(frozen=True)
class CreateOptions:
    """What ``network create`` was asked for, before defaults are picked."""

    driver: str = "bridge"
    subnets: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    ip_ranges: tuple[str, ...] = ()
    ipv6: bool = False
    internal: bool = False
    disable_dns: bool = False
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    interface_name: str = ""
    ipam_driver: str = ""  # --ipam-driver: "" (host-local), host-local or none; netavark has no dhcp yet


# --- pure parts -----------------------------------------------------------------------------

def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise InvalidArgument(f"network name {name} invalid: names must match {NAME_PATTERN}: invalid argument")
    if len(name) > 200:  # it names a file (and netavark's bridge defaults): keep it a valid file name
        raise InvalidArgument(f"network name {name[:20]}... invalid: names must be at most 200 characters: "
                              "invalid argument")
    return name


def parse_cidr(text: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid CIDR address: {text}") from None


def parse_ip(text: str, what: str = "IP address") -> IPAddress:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidArgument(f"{text} is not a valid {what}") from None


def _network_id(name: str) -> str:
    """Podman's default network has the ID sha256("podman"); others get a random one."""
    return hashlib.sha256(name.encode()).hexdigest()


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)


def host_routes(path: str = "/proc/net/route") -> list[IPNetwork]:
    """Subnets the host already routes to (other than the default route): a new network must not
    take one of them, or its containers would hide part of the host's network."""
    out: list[IPNetwork] = []
    try:
        lines = Path(path).read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        cols = line.split()
        if len(cols) < 8 or cols[7] == "00000000":
            continue
        dest = ipaddress.IPv4Address(int(cols[1], 16).to_bytes(4, "little"))
        mask = bin(int(cols[7], 16)).count("1")
        with contextlib.suppress(ValueError):
            out.append(ipaddress.ip_network(f"{dest}/{mask}", strict=False))
    return out


def _subnet_of(text: str, ip_range: str, gateway: str) -> Subnet:
    net = parse_cidr(text)
    if net.prefixlen >= net.max_prefixlen - 1:
        raise InvalidArgument(f"subnet {net} is too small")
    gw = ""
    if gateway:
        gw_ip = parse_ip(gateway, "gateway")
        if gw_ip not in net:
            raise InvalidArgument(f"gateway {gateway} not in subnet {net}")
        gw = str(gw_ip)
    else:
        gw = str(net.network_address + 1)
    sub = Subnet(str(net), gw)
    if ip_range:
        rng = parse_cidr(ip_range)
        if not overlaps(rng, net) or not rng.subnet_of(net):  # type: ignore[arg-type]
            raise InvalidArgument(f"ip-range {ip_range} is not in subnet {net}")
        first = rng.network_address + (1 if rng.network_address == net.network_address else 0)
        last = rng.broadcast_address - (1 if rng.broadcast_address == net.broadcast_address else 0)
        sub.lease_start, sub.lease_end = str(first), str(last)
    return sub


def free_subnet(pools: Iterable[tuple[str, int]], taken: Sequence[IPNetwork]) -> IPNetwork:
    """The first subnet of the configured pools that no network and no host route uses."""
    for base, size in pools:
        pool = ipaddress.ip_network(base, strict=False)
        if size < pool.prefixlen:
            continue
        for candidate in pool.subnets(new_prefix=size):
            if not any(overlaps(candidate, t) for t in taken):
                return candidate
    raise InvalidArgument("could not find free subnet from subnet pools")


def free_bridge(taken: Iterable[str], sys_class_net: Path = Path("/sys/class/net")) -> str:
    used = set(taken)
    n = 0
    while f"{BRIDGE_PREFIX}{n}" in used or (sys_class_net / f"{BRIDGE_PREFIX}{n}").exists():
        n += 1
    return f"{BRIDGE_PREFIX}{n}"


def build_network(name: str, opts: CreateOptions, existing: Sequence[Network], *,
                  pools: Iterable[tuple[str, int]], host_nets: Sequence[IPNetwork] = ()) -> Network:
    """Check ``network create``'s options against each other and the networks there are, and pick
    the subnet and bridge the user left out, as Podman does."""
    check_name(name)
    if name in ("none", "host", "bridge", "private", "slirp4netns", "pasta", "container", "ns", "default"):
        raise InvalidArgument(f'cannot create network with name "{name}" because it conflicts with a valid '
                              "network mode")
    if any(n.name == name for n in existing):
        raise NetworkExists(f"network name {name} already used: network already exists")
    _check_ipam(opts)
    if opts.driver not in _DRIVERS:
        raise InvalidArgument(f"unsupported driver {opts.driver}: invalid argument")
    if opts.driver == "macvlan":
        return _macvlan(name, opts)
    _check_options(opts)
    if opts.ipam_driver == "none":
        return _unaddressed_bridge(name, opts, existing)
    if len(opts.gateways) > len(opts.subnets):
        raise InvalidArgument("cannot set more gateways than subnets")
    if len(opts.ip_ranges) > len(opts.subnets):
        raise InvalidArgument("cannot set more ranges than subnets")
    taken = [s.network for n in existing for s in n.subnets]
    subnets = [_subnet_of(s, opts.ip_ranges[i] if i < len(opts.ip_ranges) else "",
                          opts.gateways[i] if i < len(opts.gateways) else "")
               for i, s in enumerate(opts.subnets)]
    for sub in subnets:
        if any(overlaps(sub.network, t) for t in [*taken, *host_nets]):
            raise NetworkExists(f"subnet {sub.subnet} is already used on the host or by another config")
        taken.append(sub.network)
    if not subnets or (opts.ipv6 and not any(s.network.version == 4 for s in subnets)):  # dual stack: an IPv4 too
        net = free_subnet(pools, [*taken, *host_nets])
        subnets.insert(0, Subnet(str(net), str(net.network_address + 1)))
    if opts.ipv6 and not any(s.network.version == 6 for s in subnets):
        v6 = free_subnet([("fd00::/8", 64)], [*taken, *host_nets])
        subnets.append(Subnet(str(v6), str(v6.network_address + 1)))
    bridge = opts.interface_name
    if bridge and any(n.network_interface == bridge for n in existing):
        raise NetworkExists(f"bridge name {bridge} already in use")
    bridge = bridge or free_bridge(n.network_interface for n in existing)
    return Network(name=name, id=secrets.token_hex(32), driver=opts.driver, network_interface=bridge,
                   created=now_rfc3339(), subnets=subnets,
                   ipv6_enabled=any(s.network.version == 6 for s in subnets), internal=opts.internal,
                   dns_enabled=opts.driver == "bridge" and not opts.disable_dns,
                   options={k: v for k, v in opts.options.items() if k != "parent"}, labels=dict(opts.labels))


def _macvlan(name: str, opts: CreateOptions) -> Network:
    """A macvlan network as Podman 4.3.1 with netavark makes one: the parent (if named) must exist,
    there must be a subnet (netavark has no DHCP yet) and none is picked or checked for overlap;
    no parent means netavark's choice, the interface of the default route."""
    parent = opts.interface_name
    if parent and ("/" in parent or parent in (".", "..") or not (Path("/sys/class/net") / parent).exists()):
        raise InvalidArgument(f"parent interface {parent} does not exist")
    if opts.ipam_driver == "none":  # no addresses, and no DNS without them
        return Network(name=name, id=secrets.token_hex(32), driver="macvlan", network_interface=parent,
                       created=now_rfc3339(), ipv6_enabled=opts.ipv6, internal=opts.internal, dns_enabled=False,
                       options={k: v for k, v in opts.options.items() if k != "parent"}, labels=dict(opts.labels),
                       ipam_driver="none")
    if not opts.subnets and opts.ipam_driver == "host-local":
        raise InvalidArgument("macvlan driver needs at least one subnet specified, when the host-local ipam driver "
                              "is set")
    if not opts.subnets:
        raise InvalidArgument("macvlan driver needs at least one subnet specified, DHCP is not yet supported "
                              "with netavark")
    for key, value in opts.options.items():
        if key == "mode" and value not in ("", "bridge", "private", "vepa", "passthru"):
            raise InvalidArgument(f'unknown macvlan mode "{value}"')
        if key not in _MACVLAN_OPTIONS and key != "parent":
            raise InvalidArgument(f"unsupported macvlan network option {key}")
        if key == "mtu" and not value.isdigit():
            raise InvalidArgument(f'strconv.Atoi: parsing "{value}": invalid syntax')
    if len(opts.gateways) > len(opts.subnets):
        raise InvalidArgument("cannot set more gateways than subnets")
    if len(opts.ip_ranges) > len(opts.subnets):
        raise InvalidArgument("cannot set more ranges than subnets")
    subnets = [_subnet_of(s, opts.ip_ranges[i] if i < len(opts.ip_ranges) else "",
                          opts.gateways[i] if i < len(opts.gateways) else "")
               for i, s in enumerate(opts.subnets)]
    return Network(name=name, id=secrets.token_hex(32), driver="macvlan", network_interface=parent,
                   created=now_rfc3339(), subnets=subnets,
                   ipv6_enabled=opts.ipv6 or any(s.network.version == 6 for s in subnets), internal=opts.internal,
                   dns_enabled=not opts.disable_dns,
                   options={k: v for k, v in opts.options.items() if k != "parent"}, labels=dict(opts.labels))


def _check_ipam(opts: CreateOptions) -> None:
    """``--ipam-driver``, judged as Podman 4.3.1 with netavark judges it (before the driver)."""
    if opts.ipam_driver == "none" and opts.subnets:
        raise InvalidArgument("none ipam driver is set but subnets are given")
    if opts.ipam_driver == "dhcp":
        raise InvalidArgument("dhcp ipam driver is not yet supported with netavark")
    if opts.ipam_driver not in ("", "host-local", "none", "dhcp"):
        raise InvalidArgument(f'unsupported ipam driver "{opts.ipam_driver}"')


def _unaddressed_bridge(name: str, opts: CreateOptions, existing: Sequence[Network]) -> Network:
    """``--ipam-driver none``: a bridge with no subnet; containers get only link-local addresses,
    and DNS is off (aardvark-dns has no address to answer on)."""
    bridge = opts.interface_name
    if bridge and any(n.network_interface == bridge for n in existing):
        raise NetworkExists(f"bridge name {bridge} already in use")
    return Network(name=name, id=secrets.token_hex(32), driver=opts.driver,
                   network_interface=bridge or free_bridge(n.network_interface for n in existing),
                   created=now_rfc3339(), ipv6_enabled=opts.ipv6, internal=opts.internal, dns_enabled=False,
                   options=dict(opts.options), labels=dict(opts.labels), ipam_driver="none")


def _check_options(opts: CreateOptions) -> None:
    for key, value in opts.options.items():
        if key not in _BRIDGE_OPTIONS:
            raise InvalidArgument(f"unsupported {opts.driver} network option {key}")
        if key in ("mtu", "vlan") and not value.isdigit():
            raise InvalidArgument(f'strconv.Atoi: parsing "{value}": invalid syntax')


def default_network(name: str, subnet: str, bridge: str) -> Network:
    """The network containers join when they name none: Podman's ``podman`` network, except that
    its DNS is on, so containers on it find each other by name as on a user-defined one."""
    net = parse_cidr(subnet)
    return Network(name=name, id=_network_id(name), network_interface=bridge, created=now_rfc3339(),
                   subnets=[Subnet(str(net), str(net.network_address + 1))], dns_enabled=True)


# --- the files ------------------------------------------------------------------------------

class NetworkFiles:
    """``<dir>/<name>.json``, written atomically; the default network exists only in memory until
    something changes it, as in Podman."""

    def __init__(self, directory: Path, default: Network) -> None:
        self.dir = directory
        self.default = default

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """``netavark.lock`` in the directory, as Podman keeps it: one writer of the definitions at a
        time across processes (two creates must not take the same subnet or name)."""
        import fcntl

        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "netavark.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def all(self) -> list[Network]:
        found: dict[str, Network] = {}
        with contextlib.suppress(FileNotFoundError):
            for path in sorted(self.dir.glob("*.json")):
                with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                    net = Network.from_json(json.loads(path.read_text()))
                    found[net.name] = net
        found.setdefault(self.default.name, self.default)
        return sorted(found.values(), key=lambda n: n.name)

    def __iter__(self) -> Iterator[Network]:
        return iter(self.all())

    def get(self, name_or_id: str) -> Network:
        nets = self.all()
        for net in nets:
            if net.name == name_or_id or net.id == name_or_id:
                return net
        matches = [n for n in nets if name_or_id and n.id.startswith(name_or_id)]
        if len(matches) == 1:
            return matches[0]
        raise NoSuchNetwork(f"unable to find network with name or ID {name_or_id}: network not found")

    def save(self, net: Network) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        # a temporary name of this writer's own: processes and API threads may save at once
        tmp = self.dir / f".{net.name}.json.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(net.to_json(), indent=5) + "\n")
        os.replace(tmp, self.dir / f"{net.name}.json")

    def delete(self, name: str) -> None:
        (self.dir / f"{name}.json").unlink(missing_ok=True)
