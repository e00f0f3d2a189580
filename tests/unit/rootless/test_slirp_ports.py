"""The host-port rule of rootless publishing (pure)."""

from __future__ import annotations

import pytest

from sealpod.errors import NetworkError
from sealpod.network.portmap import PortMapping
from sealpod.network.slirp import check_host_ports


def test_ports_below_the_unprivileged_start_are_refused_with_advice() -> None:
    with pytest.raises(NetworkError) as e:
        check_host_ports([PortMapping(80, 80)], start=1024)
    assert "rootlessport cannot expose privileged port 80" in str(e.value)
    assert "net.ipv4.ip_unprivileged_port_start=80" in str(e.value) and "(currently 1024)" in str(e.value)


def test_ports_at_or_above_it_and_random_ports_pass() -> None:
    check_host_ports([PortMapping(80, 1024), PortMapping(80, 0), PortMapping(80, 8080)], start=1024)
    check_host_ports([PortMapping(80, 80)], start=0)
