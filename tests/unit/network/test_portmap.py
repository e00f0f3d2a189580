from __future__ import annotations

import socket

import pytest

from sealpod.errors import InvalidArgument, NetworkError
from sealpod.network.portmap import (
    PortMapping,
    assign_host_ports,
    check_free,
    parse_expose,
    parse_publish,
    publish_all,
)


@pytest.mark.parametrize(("spec", "expected"), [
    ("8080:80", [PortMapping(80, 8080)]),
    ("127.0.0.1:8080:80/udp", [PortMapping(80, 8080, "127.0.0.1", "udp")]),
    ("8000-8002:80-82", [PortMapping(80, 8000, range=3)]),
    (":80", [PortMapping(80)]),
    ("80", [PortMapping(80)]),
    ("127.0.0.1::53/udp", [PortMapping(53, 0, "127.0.0.1", "udp")]),
    ("[::1]:8080:80", [PortMapping(80, 8080, "::1")]),
    ("53:53/tcp,udp", [PortMapping(53, 53), PortMapping(53, 53, protocol="udp")]),
])
def test_publish_forms(spec: str, expected: list[PortMapping]) -> None:
    assert parse_publish(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("99999:80", "parsing host port: port numbers must be between 1 and 65535 (inclusive), got 99999"),
    ("80:80/foo", 'unrecognized protocol "foo" in port mapping'),
    ("8000-8001:80-82", "host and container port ranges have different lengths: 2 vs 3"),
    ("x:80", 'parsing host port: invalid port number "x"'),
    ("1.2.3:80:80", "invalid IP address 1.2.3 in port mapping"),
])
def test_publish_errors(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_publish(spec)
    assert str(e.value) == message


def test_podman_port_lines() -> None:
    assert PortMapping(80, 8080, range=2).lines() == ["80/tcp -> 0.0.0.0:8080", "81/tcp -> 0.0.0.0:8081"]
    assert PortMapping(53, 5353, "::1", "udp").lines() == ["53/udp -> [::1]:5353"]


def test_expose_and_publish_all_skip_published_ports() -> None:
    exposed = parse_expose("80") + parse_expose("8000-8001/udp")
    assert exposed == [(80, "tcp"), (8000, "udp"), (8001, "udp")]
    assert publish_all(exposed, [PortMapping(80, 8080)]) == [PortMapping(8000, protocol="udp"),
                                                             PortMapping(8001, protocol="udp")]


def test_random_ports_are_free_and_avoid_reserved() -> None:
    out = assign_host_ports([PortMapping(80), PortMapping(81, 9999)], reserved=set())
    assert out[1].host_port == 9999 and 32768 <= out[0].host_port < 61000
    check_free(out[0])


def test_port_in_use_is_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(NetworkError, match="address already in use"):
            check_free(PortMapping(80, port, "127.0.0.1"))
