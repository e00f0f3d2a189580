"""The host's own address, as a container outside a bridge sees the host
(``host.containers.internal`` for slirp4netns, host and no networking, as in Podman)."""

from __future__ import annotations

import socket


def _ipv4_of(interface: str) -> str | None:
    import fcntl
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
    for _, name in sorted(socket.if_nameindex()):
        addr = _ipv4_of(name)
        if addr and _unicast(addr):
            return addr
    return ""


def _unicast(addr: str) -> bool:
    import ipaddress

    ip = ipaddress.ip_address(addr)
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)
