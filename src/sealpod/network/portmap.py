"""Published ports: ``-p`` parsing, ``-P`` for exposed ports, random host ports, and the check
that a host port is free (netavark's iptables DNAT would silently shadow a listening program).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Sequence

from sealpod.errors import InvalidArgument, NetworkError
from sealpod.utils.record import dataclass, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    from typing import Any

PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class PortMapping:
    """``range`` ports from ``host_port`` forwarded to ``container_port`` (host_port 0: pick one)."""

    container_port: int
    host_port: int = 0
    host_ip: str = ""
    protocol: str = "tcp"
    range: int = 1

    def to_netavark(self) -> dict[str, Any]:
        return {"container_port": self.container_port, "host_ip": self.host_ip, "host_port": self.host_port,
                "protocol": self.protocol, "range": self.range}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PortMapping:
        return cls(int(doc["container_port"]), int(doc.get("host_port") or 0), doc.get("host_ip") or "",
                   doc.get("protocol") or "tcp", int(doc.get("range") or 1))

    def lines(self) -> list[str]:
        """``podman port``'s lines: ``80/tcp -> 0.0.0.0:8080``, one per port of a range."""
        ip = self.host_ip or "0.0.0.0"
        ip = f"[{ip}]" if ":" in ip else ip
        return [f"{self.container_port + i}/{self.protocol} -> {ip}:{self.host_port + i}" for i in range(self.range)]


def _port(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidArgument(f'parsing {what} port: invalid port number "{text}"') from None
    if not 0 < value < 65536:
        raise InvalidArgument(f"parsing {what} port: port numbers must be between 1 and 65535 "
                              f"(inclusive), got {value}")
    return value


def _port_range(text: str, what: str) -> tuple[int, int]:
    start, sep, end = text.partition("-")
    first = _port(start, what)
    last = _port(end, what) if sep else first
    if last < first:
        raise InvalidArgument(f"parsing {what} port: invalid range {text}")
    return first, last - first + 1


def _split_host_ip(spec: str) -> tuple[str, str]:
    """``[::1]:8080:80`` and ``127.0.0.1:8080:80`` → (ip, rest); two colons or fewer only for IPv4."""
    if spec.startswith("["):
        ip, sep, rest = spec[1:].partition("]:")
        if not sep:
            raise InvalidArgument(f"invalid port format {spec}")
        return ip, rest
    parts = spec.split(":")
    if len(parts) == 3:
        return parts[0], f"{parts[1]}:{parts[2]}"
    if len(parts) > 3:
        raise InvalidArgument(f"invalid port format {spec}")
    return "", spec


def parse_publish(spec: str) -> list[PortMapping]:
    """One ``-p`` value; ``tcp,udp`` gives one mapping per protocol."""
    body, _, protos = spec.partition("/")
    protocols = [p.strip().lower() for p in (protos or "tcp").split(",")]
    for proto in protocols:
        if proto not in PROTOCOLS:
            raise InvalidArgument(f'unrecognized protocol "{proto}" in port mapping')
    host_ip, rest = _split_host_ip(body)
    if host_ip:
        import ipaddress

        try:
            host_ip = str(ipaddress.ip_address(host_ip))
        except ValueError:
            raise InvalidArgument(f"invalid IP address {host_ip} in port mapping") from None
    host, sep, ctr = rest.rpartition(":")
    if not sep:
        ctr, host = rest, ""
    cport, count = _port_range(ctr, "container")
    hport = 0
    if host:
        hport, hcount = _port_range(host, "host")
        if hcount != count:
            raise InvalidArgument(f"host and container port ranges have different lengths: {hcount} vs {count}")
    return [PortMapping(cport, hport, host_ip, proto, count) for proto in protocols]


def check_conflicts(mappings: Sequence[PortMapping]) -> None:
    """Podman refuses, at create, a host port that a ``-p`` range covers (short of the range's last
    port) and another ``-p`` of the same protocol and address also asks for; two single ports may
    repeat (netavark then forwards the first)."""
    owned: dict[tuple[str, str, int], int] = {}  # (ip, protocol, host port) -> index of the range
    for i, m in enumerate(mappings):
        if m.host_port and m.range > 1:
            for port in range(m.host_port, m.host_port + m.range - 1):
                owned.setdefault((m.host_ip if m.host_ip != "0.0.0.0" else "", m.protocol, port), i)
    clashes = []
    for i, m in enumerate(mappings):
        ports = range(m.host_port, m.host_port + max(1, m.range - 1)) if m.host_port else range(0)
        ip = m.host_ip if m.host_ip != "0.0.0.0" else ""
        clashes += [(port, m.protocol) for port in ports if owned.get((ip, m.protocol, port), i) != i]
    if clashes:
        port, proto = min(clashes)
        raise InvalidArgument(f"conflicting port mappings for host port {port} (protocol {proto})")


def parse_expose(spec: str) -> list[tuple[int, str]]:
    """``--expose 80``, ``8000-8002/udp`` (and the image's ``ExposedPorts`` keys) → (port, protocol)."""
    body, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise InvalidArgument(f'unrecognized protocol "{proto}" in port mapping')
    first, count = _port_range(body, "container")
    return [(first + i, proto) for i in range(count)]


def publish_all(exposed: Iterable[tuple[int, str]], mapped: Sequence[PortMapping]) -> list[PortMapping]:
    """``-P``: every exposed port not already published gets a random host port."""
    taken = {(m.container_port + i, m.protocol) for m in mapped for i in range(m.range)}
    return [PortMapping(port, 0, "", proto) for port, proto in dict.fromkeys(exposed) if (port, proto) not in taken]


def _socket(proto: str, host_ip: str) -> socket.socket:
    import socket  # only when ports are published: a container start without -p skips it

    family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(family, kind)
    if kind == socket.SOCK_STREAM:  # as a TCP listener binds: a connection in TIME-WAIT does not hold the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


def _bind_check(proto: str, host_ip: str, port: int) -> bool:
    if proto == "sctp":
        return True
    with _socket(proto, host_ip) as s:
        try:
            s.bind((host_ip or "0.0.0.0", port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return False
            raise NetworkError(f"cannot listen on the {proto.upper()} port {port}: {e.strerror}") from e
    return True


def reserve(mappings: Sequence[PortMapping]) -> list[socket.socket]:
    """Bind (and for TCP listen on) every published host port, as Podman's conmon holds them while the
    container runs: a program on the host that tries the port later is refused, and ``ss`` shows who
    has it.  Traffic itself takes the DNAT rules and never reaches these sockets.

    SO_REUSEPORT lets the next run of the same container (its restart policy, started by the exit
    command while the old conmon still holds the port) take it over; a host program, which does not
    ask for the option, still finds the port taken."""
    import socket

    held: list[socket.socket] = []
    try:
        for m in mappings:
            if m.protocol == "sctp" or not m.host_port:
                continue
            for i in range(m.range):
                s = _socket(m.protocol, m.host_ip)
                held.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                try:
                    s.bind((m.host_ip or "0.0.0.0", m.host_port + i))
                except OSError as e:
                    if e.errno != errno.EADDRINUSE:
                        raise NetworkError(f"cannot listen on the {m.protocol.upper()} port "
                                           f"{m.host_port + i}: {e.strerror}") from e
                    raise NetworkError(f"cannot listen on the {m.protocol.upper()} port: listen "
                                       f"{m.protocol}4 {m.host_ip or ''}:{m.host_port + i}: bind: address already "
                                       "in use") from None
                if m.protocol == "tcp":
                    s.listen()
    except BaseException:
        for s in held:
            s.close()
        raise
    return held


def check_free(mapping: PortMapping) -> None:
    """Fail as Podman does when a program on the host already listens on a published port."""
    for i in range(mapping.range):
        port = mapping.host_port + i
        if not _bind_check(mapping.protocol, mapping.host_ip, port):
            ip = mapping.host_ip or ""
            raise NetworkError(f"cannot listen on the {mapping.protocol.upper()} port: listen "
                               f"{mapping.protocol}4 {ip}:{port}: bind: address already in use")


def assign_host_ports(mappings: Sequence[PortMapping], reserved: set[tuple[int, str]], *,
                      note_sctp: bool = True) -> list[PortMapping]:
    """Pick free host ports for mappings that left them out; ``reserved`` holds (port, protocol)
    already published by other containers (nothing listens on them, so bind cannot tell)."""
    out: list[PortMapping] = []
    taken = set(reserved)
    if note_sctp and any(m.protocol == "sctp" for m in mappings):  # Podman's note, once per start, at log-level info
        import logging

        logging.getLogger("sealpod").info("Port reservation for SCTP is not supported")
    for m in mappings:
        if m.host_port:
            out.append(m)
            taken.update((m.host_port + i, m.protocol) for i in range(m.range))
            continue
        import random  # only -p without a host port picks one

        for _ in range(200):
            base = random.randint(32768, 60999 - m.range)
            ports = [(base + i, m.protocol) for i in range(m.range)]
            if any(p in taken for p in ports):
                continue
            if all(_bind_check(m.protocol, m.host_ip, p) for p, _ in ports):
                taken.update(ports)
                out.append(replace(m, host_port=base))
                break
        else:
            raise NetworkError("could not find a free host port to publish on")
    return out
