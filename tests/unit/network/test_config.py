from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealpod.errors import InvalidArgument, NetworkExists, NoSuchNetwork
from sealpod.network.config import CreateOptions, Network, NetworkFiles, build_network, default_network, parse_cidr

POOLS = [("10.89.0.0/16", 24)]


def test_defaults_are_picked_like_podman(tmp_path: Path) -> None:
    net = build_network("n1", CreateOptions(), [], pools=POOLS, host_nets=[])
    doc = net.to_json()
    assert doc["subnets"] == [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}]
    assert doc["driver"] == "bridge" and doc["dns_enabled"] and not doc["internal"]
    assert doc["ipam_options"] == {"driver": "host-local"} and len(doc["id"]) == 64
    second = build_network("n2", CreateOptions(), [net], pools=POOLS, host_nets=[parse_cidr("10.89.1.0/24")])
    assert second.subnets[0].subnet == "10.89.2.0/24"
    assert second.network_interface != net.network_interface


def test_ip_range_gateway_and_options() -> None:
    net = build_network("n3", CreateOptions(subnets=("10.5.0.0/24",), gateways=("10.5.0.254",),
                                            ip_ranges=("10.5.0.0/28",), internal=True, disable_dns=True,
                                            options={"mtu": "1400"}), [], pools=POOLS)
    assert net.to_json()["subnets"] == [{"subnet": "10.5.0.0/24", "gateway": "10.5.0.254",
                                         "lease_range": {"start_ip": "10.5.0.1", "end_ip": "10.5.0.15"}}]
    assert net.internal and not net.dns_enabled and net.options == {"mtu": "1400"}


@pytest.mark.parametrize(("opts", "error", "message"), [
    (CreateOptions(subnets=("10.1.0.0/33",)), InvalidArgument, "invalid CIDR address: 10.1.0.0/33"),
    (CreateOptions(subnets=("foo",)), InvalidArgument, "invalid CIDR address: foo"),
    (CreateOptions(subnets=("10.9.0.128/25",)), NetworkExists,
     "subnet 10.9.0.128/25 is already used on the host or by another config"),
    (CreateOptions(options={"bogus": "1"}), InvalidArgument, "unsupported bridge network option bogus"),
    (CreateOptions(subnets=("10.7.0.0/24",), gateways=("10.8.0.1",)), InvalidArgument,
     "gateway 10.8.0.1 not in subnet 10.7.0.0/24"),
])
def test_bad_input(opts: CreateOptions, error: type[Exception], message: str) -> None:
    taken = build_network("taken", CreateOptions(subnets=("10.9.0.0/24",)), [], pools=POOLS)
    with pytest.raises(error) as e:
        build_network("x", opts, [taken], pools=POOLS)
    assert str(e.value) == message


def test_names_are_checked_and_unique() -> None:
    with pytest.raises(InvalidArgument):
        build_network("-bad", CreateOptions(), [], pools=POOLS)
    first = build_network("same", CreateOptions(), [], pools=POOLS)
    with pytest.raises(NetworkExists, match="network name same already used"):
        build_network("same", CreateOptions(), [first], pools=POOLS)


def test_files_round_trip_and_default_network(tmp_path: Path) -> None:
    files = NetworkFiles(tmp_path / "networks", default_network("podman", "10.88.0.0/16", "podman0"))
    assert [n.name for n in files.all()] == ["podman"]
    assert files.get("podman").id == "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"
    net = build_network("mine", CreateOptions(labels={"a": "b"}), files.all(), pools=POOLS)
    files.save(net)
    on_disk = json.loads((tmp_path / "networks" / "mine.json").read_text())
    assert Network.from_json(on_disk) == net
    assert files.get(net.id[:12]).name == "mine"
    files.delete("mine")
    with pytest.raises(NoSuchNetwork, match="unable to find network with name or ID mine: network not found"):
        files.get("mine")
