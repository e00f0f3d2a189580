from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealpod.network import netns
from sealpod.network.netavark import build_options, helper_path, parse_status


def test_path_hides_systemd_run_unless_systemd_runs(tmp_path: Path) -> None:
    with_run = tmp_path / "bin"
    with_run.mkdir()
    (with_run / "systemd-run").touch()
    other = tmp_path / "sbin"
    other.mkdir()
    path = f"{other}:{with_run}"
    sbins = ":/usr/local/sbin:/usr/sbin:/sbin"
    assert helper_path(path, systemd_running=False) == str(other) + sbins
    assert helper_path(path, systemd_running=True) == path + sbins


def test_path_gains_the_sbin_directories_a_users_path_lacks() -> None:
    """After `su -` a user's PATH has no sbin: netavark then could not run iptables (Podman's still works)."""
    assert helper_path("/usr/bin:/bin:/usr/sbin", systemd_running=True) == \
        "/usr/bin:/bin:/usr/sbin:/usr/local/sbin:/sbin"


def test_status_block_is_parsed() -> None:
    out = (b'{"n1": {"dns_search_domains": ["dns.podman"], "dns_server_ips": ["10.1.0.1"], "interfaces": '
           b'{"eth0": {"mac_address": "aa:bb:cc:dd:ee:ff", "subnets": [{"ipnet": "10.1.0.2/24", '
           b'"gateway": "10.1.0.1"}]}}}}')
    [res] = parse_status(out)
    assert res.network == "n1" and res.dns_servers == ("10.1.0.1",) and res.dns_search == ("dns.podman",)
    assert res.interfaces[0].addresses == ("10.1.0.2/24",) and res.interfaces[0].gateways == ("10.1.0.1",)


def test_options_shape() -> None:
    opts = build_options("id", "name", {"n": {"interface_name": "eth0", "static_ips": ["10.1.0.2"]}},
                         {"n": {"name": "n"}}, [], dns_servers=["1.1.1.1"])
    assert opts == {"container_id": "id", "container_name": "name", "port_mappings": None,
                    "networks": {"n": {"interface_name": "eth0", "static_ips": ["10.1.0.2"]}},
                    "network_info": {"n": {"name": "n"}}, "dns_servers": ["1.1.1.1"]}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_netns_file_lifecycle(tmp_path: Path) -> None:
    path = netns.create(tmp_path / "netns" / "t")
    assert netns.is_netns(path)
    assert os.stat(path).st_ino != os.stat("/proc/self/ns/net").st_ino  # a new namespace, not ours
    assert os.readlink("/proc/self/ns/net") == os.readlink(f"/proc/{os.getpid()}/ns/net")
    netns.remove(path)
    assert not path.exists() and not netns.is_netns(path)
    netns.remove(path)  # twice is fine
