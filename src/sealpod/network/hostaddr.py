"""The host's own address, as a container outside a bridge sees the host
(``host.containers.internal`` for slirp4netns, host and no networking, as in Podman)."""

from __future__ import annotations


def _ipv4_of(interface: str) -> str | None:
    # _socket, not socket: building socket.py's enum classes costs ~1.5 ms of every `run -d`,
    # which needs none of them
    import _socket
    import fcntl
    import struct

    siocgifaddr = 0x8915
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        raw = fcntl.ioctl(s.fileno(), siocgifaddr, struct.pack("256s", interface.encode()[:15]))
    except OSError:  # no IPv4 address on it
        return None
    finally:
        s.close()
    return _socket.inet_ntoa(raw[20:24])


def local_ip() -> str:
    """The first global IPv4 address of the host's interfaces in index order; "" when there is none.
    Podman takes the first non-loopback address likewise, so both write the same hosts line."""
    import _socket

    for _, name in sorted(_socket.if_nameindex()):
        addr = _ipv4_of(name)
        if addr and _unicast(addr):
            return addr
    return ""


def _unicast(addr: str) -> bool:
    """Not loopback, link-local, multicast or unspecified (the ipaddress module costs a ms to load)."""
    first, second = (int(part) for part in addr.split(".")[:2])
    return not (first in (0, 127) or (first, second) == (169, 254) or 224 <= first <= 239)
