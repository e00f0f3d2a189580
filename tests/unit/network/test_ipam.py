from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.errors import InvalidArgument, NetworkError
from sealpod.network.config import Network, Subnet
from sealpod.network.ipam import IPAM
from sealpod.storage.db import Database


def _net(lease: tuple[str, str] = ("", "")) -> Network:
    return Network(name="n", id="x" * 64, subnets=[Subnet("10.1.2.0/29", "10.1.2.1", *lease)])


def test_allocate_release_and_exhaustion(tmp_path: Path) -> None:
    ipam = IPAM(Database(tmp_path))
    net = _net()
    got = [ipam.allocate(net, f"c{i}")[0] for i in range(5)]
    assert got == ["10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"]
    with pytest.raises(NetworkError, match="failed to find free IP"):
        ipam.allocate(net, "c9")
    ipam.release("c2")
    assert ipam.allocate(net, "c9") == ["10.1.2.4"]
    assert ipam.allocate(net, "c9") == ["10.1.2.4"]  # the same container again: replaced, not doubled
    assert sorted(ipam.allocations("n")) == ["c0", "c1", "c3", "c4", "c9"]


def test_static_addresses(tmp_path: Path) -> None:
    ipam = IPAM(Database(tmp_path))
    net = _net()
    assert ipam.allocate(net, "a", ["10.1.2.5"]) == ["10.1.2.5"]
    with pytest.raises(NetworkError, match="already allocated to container ID a"):
        ipam.allocate(net, "b", ["10.1.2.5"])
    with pytest.raises(InvalidArgument, match="not in any subnet"):
        ipam.allocate(net, "b", ["10.9.9.9"])
    with pytest.raises(InvalidArgument, match="reserved"):
        ipam.allocate(net, "b", ["10.1.2.1"])


def test_stale_owners_are_reclaimed(tmp_path: Path) -> None:
    ipam = IPAM(Database(tmp_path))
    net = _net(("10.1.2.2", "10.1.2.2"))
    assert ipam.allocate(net, "crashed") == ["10.1.2.2"]
    with pytest.raises(NetworkError):
        ipam.allocate(net, "next")
    assert ipam.allocate(net, "next", stale=lambda owners: owners & {"crashed"}) == ["10.1.2.2"]
    assert ipam.allocations() == {"next": ["10.1.2.2"]}


def test_offset_spreads_stores(tmp_path: Path) -> None:
    ipam = IPAM(Database(tmp_path), {"n": 3})
    assert ipam.allocate(_net(), "a") == ["10.1.2.4"]  # the search starts at .1 + 3
