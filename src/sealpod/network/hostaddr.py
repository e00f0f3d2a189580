"""The host's own address, as a container outside a bridge sees the host
(``host.containers.internal`` for slirp4netns, host and no networking, as in Podman)."""

from __future__ import annotations


def _ipv4_of(interface: str) -> str | None:
    import fcntl
    import socket
    import struct

    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            raw = fcntl.ioctl(s.fileno(), siocgifaddr, struct.pack("256s", interface.encode()[:15]))
        except OSError:  # no IPv4 address on it
            return None
    return socket.inet_ntoa(raw[20:24])


def local_ip() -> str:
    """The first global IPv4 address of the host's interfaces in index order; "" when there is none.
    Podman takes the first non-loopback address likewise, so both write the same hosts line."""
    import socket

    for _, name in sorted(socket.if_nameindex()):
        addr = _ipv4_of(name)
        if addr and _unicast(addr):
            return addr
    return ""


def _unicast(addr: str) -> bool:
    """Not loopback, link-local, multicast or unspecified (the ipaddress module costs a ms to load)."""
    first, second = (int(part) for part in addr.split(".")[:2])
    return not (first in (0, 127) or (first, second) == (169, 254) or 224 <= first <= 239)
