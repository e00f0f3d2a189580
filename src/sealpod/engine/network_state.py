"""What a container's run got from the network (addresses, gateways, ports), and its JSON
form in the state file under the run root that teardown replays."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.network.portmap import PortMapping


@dataclass(frozen=True)
class Attachment:
    """A container's interface on one network."""

    network: str
    interface: str
    addresses: tuple[str, ...] = ()  # CIDR form, 10.88.0.2/16
    gateways: tuple[str, ...] = ()
    mac_address: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(a.split("/")[0] for a in self.addresses)


@dataclass(frozen=True)
class NetworkStatus:
    """Where a container's network lives and what it has there."""

    mode: str  # bridge | none | host | private | container | ns
    netns: str | None = None  # a path runc joins; None: runc makes a private one (or host)
    attachments: tuple[Attachment, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    ports: tuple[PortMapping, ...] = ()

    @property
    def ips(self) -> tuple[str, ...]:
        return tuple(ip for a in self.attachments for ip in a.ips)


def is_bridge_state(path: Path) -> bool:
    """Whether a container's network state file records a bridge run (one in the rootless netns)."""
    try:
        return str(json.loads(path.read_text()).get("mode", "bridge")) == "bridge"
    except (OSError, ValueError, AttributeError):
        return False


def rfc3339_seconds(text: str) -> float:
    """A network's ``created`` (Go writes nanoseconds; Python reads at most microseconds)."""
    from datetime import datetime

    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def result_ips(results: Sequence[dict[str, Any]]) -> list[str]:
    return [a.split("/")[0] for r in results for i in r.get("interfaces", ()) for a in i.get("addresses", ())]


def result_json(result: Any, opts: dict[str, Any]) -> dict[str, Any]:
    ifaces = [{"name": i.name, "mac_address": i.mac_address, "addresses": list(i.addresses),
               "gateways": list(i.gateways)} for i in result.interfaces]
    return {"network": result.network, "interfaces": ifaces, "dns_servers": list(result.dns_servers),
            "dns_search": list(result.dns_search), "aliases": list(opts.get("aliases", ()))}


def status_json(status: NetworkStatus) -> dict[str, Any]:
    """A borrowed status as a state file: the joined container's addresses for /etc/hosts."""
    results = [{"network": a.network, "interfaces": [{"name": a.interface, "mac_address": a.mac_address,
                                                      "addresses": list(a.addresses), "gateways": list(a.gateways)}],
                "dns_servers": list(status.dns_servers), "dns_search": list(status.dns_search),
                "aliases": list(a.aliases)} for a in status.attachments]
    return {"mode": status.mode, "netns": status.netns, "results": results,
            "ports": [], "options": {}}


def status_from_json(doc: dict[str, Any]) -> NetworkStatus:
    from sealpod.network.portmap import PortMapping

    atts = []
    servers: list[str] = []
    search: list[str] = []
    for r in doc.get("results", ()):
        for i in r.get("interfaces", ()):
            atts.append(Attachment(r["network"], i["name"], tuple(i["addresses"]), tuple(i["gateways"]),
                                   i["mac_address"], tuple(r.get("aliases", ()))))
        servers += r.get("dns_servers", ())
        search += r.get("dns_search", ())
    return NetworkStatus(doc.get("mode", "bridge"), doc.get("netns"), tuple(atts), tuple(dict.fromkeys(servers)),
                         tuple(dict.fromkeys(search)), tuple(PortMapping.from_json(p) for p in doc.get("ports", ())))




def rewrite_in_place(path: Path, change: Callable[[str], str]) -> bool:
    """Apply ``change`` to a file that running containers have bind-mounted (same inode, never
    replaced), under an exclusive lock so that two members joining a pod at once both land."""
    import fcntl

    try:
        with open(path, "r+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            text = f.read()
            new = change(text)
            if new != text:
                f.seek(0)
                f.write(new)
                f.truncate()
    except OSError:
        return False
    return True
