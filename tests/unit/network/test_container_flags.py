from __future__ import annotations

import pytest

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.network_flags import check_config, network_mode, parse_network_flag
from sealpod.errors import InvalidArgument


def test_network_flag_options() -> None:
    assert parse_network_flag("web:ip=10.1.0.5,alias=db,alias=sql,mac=AA-BB-CC-DD-EE-FF") == (
        "web", {"static_ips": ["10.1.0.5"], "aliases": ["db", "sql"], "static_mac": "aa:bb:cc:dd:ee:ff"})
    assert parse_network_flag("plain") == ("plain", {})
    with pytest.raises(InvalidArgument):
        parse_network_flag("web:bogus=1")


@pytest.mark.parametrize(("network", "networks", "mode"), [
    ("", {}, "bridge"), ("bridge", {}, "bridge"), ("none", {}, "none"), ("host", {}, "host"),
    ("container:abc", {}, "container:abc"), ("ns:/run/netns/x", {}, "ns:/run/netns/x"),
    ("bridge", {"a": {}}, "bridge"), ("mynet", {}, "bridge"),
])
def test_modes(network: str, networks: dict[str, dict[str, object]], mode: str) -> None:
    assert network_mode(ContainerConfig(image="i", network=network, networks=networks)) == mode


@pytest.mark.parametrize(("fields", "message"), [
    ({"mac_address": "zz"}, "address zz: invalid MAC address"),
    ({"ip": "10.0.0.300"}, "\"10.0.0.300\" is not an ip address"),
    ({"ports": ("80:80/foo",)}, 'unrecognized protocol "foo" in port mapping'),
    ({"ports": ("80:80",), "network": "host"}, "--publish is not supported with --network=host"),
])
def test_bad_flags(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        check_config(ContainerConfig(image="i", **fields))  # type: ignore[arg-type]
    assert str(e.value) == message
