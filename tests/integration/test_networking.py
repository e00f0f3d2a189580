"""Bridge networks end to end with real netavark and aardvark-dns (root only).

Every test gets its own default network, subnets, bridge names and host ports, derived from
the xdist worker and the test's index, so tests run in parallel; after each one, nothing of its
networks may remain: no bridge, no veth on it, no netns file, no iptables rule for its subnets.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig.http import http_get
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

IMAGE = "sealtest/tiny"
_COUNTER = itertools.count()


@dataclass
class Net:
    """The unique names and numbers one test may use."""

    runner: SealpodRunner
    tag: str  # short, for bridge names (IFNAMSIZ is 16)
    octet: int  # 10.123.<octet + k>.0/24
    port: int  # first of 10 host ports

    def subnet(self, k: int) -> str:
        return f"10.123.{self.octet + k}.0/24"

    def bridge(self, k: int) -> str:
        return f"sp{self.tag}b{k}"

    def name(self, k: int) -> str:
        return f"spnet{self.tag}n{k}"

    def create(self, k: int, *extra: str) -> str:
        self.runner.run("network", "create", "--subnet", self.subnet(k), "--interface-name", self.bridge(k),
                        *extra, self.name(k))
        return self.name(k)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.runner.run(*args, check=check)


def _worker() -> int:
    text = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return int(text) if text.isdigit() else 0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    require_root()
    runner = SealpodRunner(tmp_path_factory.mktemp("net"), search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    runner.run("pull", "-q", IMAGE)
    yield runner
    runner.run("rm", "-af", "-t", "0", check=False)


def _host_state(prefix: str, subnets: list[str]) -> list[str]:
    """What of the test's networks the host still has."""
    left = []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    left += [line for line in links.splitlines() if f" {prefix}" in line or f"master {prefix}" in line]
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    left += [line for line in rules.splitlines() if any(s.rsplit(".", 1)[0] + "." in line for s in subnets)]
    return left


@pytest.fixture
def net(store: SealpodRunner) -> Iterator[Net]:
    idx = next(_COUNTER)
    w = _worker()
    tag = f"{w % 100}x{idx}"
    octet = (w * 40 + idx * 4) % 250
    conf = store.containers_conf
    n = Net(store, tag, octet, 20000 + w * 400 + idx * 10)
    conf.write_text(f'[network]\ndefault_network = "spdef{tag}"\ndefault_subnet = "{n.subnet(3)}"\n'
                    f'default_bridge = "{n.bridge(3)}"\n')
    yield n
    store.run("rm", "-af", "-t", "0", check=False)
    conf.write_text("")  # this test's default network is an ordinary one now: prune takes it too
    store.run("network", "prune", "-f", check=False)
    netns = list((store.runroot / "netns").glob("*")) if (store.runroot / "netns").exists() else []
    assert not netns, f"netns files left: {netns}"
    left = _host_state(f"sp{tag}b", [n.subnet(k) for k in range(4)])
    assert not left, f"left on the host: {left}"


def test_published_tcp_port_reaches_httpd(net: Net, tmp_path: Path) -> None:
    name = net.create(0)
    net.run("run", "-d", "--name", "web", "--network", name, "-p", f"{net.port}:80", IMAGE,
            "sh", "-c", "mkdir -p /www && echo hello-from-sealpod > /www/index.html && "
            "exec busybox httpd -f -p 80 -h /www")
    assert b"hello-from-sealpod" in http_get(net.port)
    assert net.run("port", "web").stdout == f"80/tcp -> 0.0.0.0:{net.port}\n"
    assert net.run("ps", "--format", "{{.Ports}}").stdout == f"0.0.0.0:{net.port}->80/tcp\n"
    settings = json.loads(net.run("inspect", "web").stdout)[0]["NetworkSettings"]
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "", "HostPort": str(net.port)}]}  # as Podman 4.3.1 shows it
    assert settings["Networks"][name]["IPAddress"] != "" == settings["IPAddress"]  # Podman: only the default network's
    # the port is taken now: a second container publishing it fails cleanly
    bad = net.run("run", "-d", "--network", name, "-p", f"{net.port}:80", IMAGE, "true", check=False)
    assert bad.returncode != 0 and "address already in use" in bad.stderr


def test_published_udp_port_and_random_host_port(net: Net) -> None:
    net.run("run", "-d", "--name", "udp", "-p", f"127.0.0.1:{net.port + 1}:5353/udp", "-p", "8080",
            IMAGE, "sleep", "600")
    lines = net.run("port", "udp").stdout.splitlines()
    assert f"5353/udp -> 127.0.0.1:{net.port + 1}" in lines
    random_port = [line for line in lines if line.startswith("8080/tcp -> 0.0.0.0:")]
    assert random_port and int(random_port[0].rsplit(":", 1)[1]) > 1024
    # busybox-static's nc has no -u: a UDP echo server runs in the container's netns instead
    ctr_id = net.run("inspect", "--format", "{{.Id}}", "udp").stdout.strip()
    netns = net.runner.runroot / "netns" / f"netns-{ctr_id}"
    server = subprocess.Popen(
        ["nsenter", f"--net={netns}", sys.executable, "-c",
         "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 5353)); "
         "print('ready', flush=True); d, a = s.recvfrom(100); s.sendto(b'echo:' + d, a)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(b"ping-udp", ("127.0.0.1", net.port + 1))
            assert s.recvfrom(100)[0] == b"echo:ping-udp"
    finally:
        server.kill()
        server.wait()


def test_containers_resolve_each_other_by_name_and_alias(net: Net) -> None:
    name = net.create(0)
    net.run("run", "-d", "--name", "db", "--network", name, "--network-alias", "database", IMAGE, "sleep", "600")
    out = net.run("run", "--rm", "--network", name, "--cap-add", "NET_RAW", IMAGE, "sh", "-c",
                  "nslookup db && nslookup database && ping -c1 -W5 db && cat /etc/resolv.conf").stdout
    db_ip = json.loads(net.run("network", "inspect", name).stdout)[0]["subnets"][0]["gateway"]
    assert "search dns.podman" in out and f"nameserver {db_ip}" in out
    assert out.count(f"{net.subnet(0).rsplit('.', 1)[0]}.2") >= 3  # db's address from both names and ping
    # the default network has DNS too
    net.run("run", "-d", "--name", "d1", IMAGE, "sleep", "600")
    assert "Name:" in net.run("run", "--rm", IMAGE, "nslookup", "d1").stdout


def test_host_none_and_container_modes(net: Net) -> None:
    net.run("run", "-d", "--name", "owner", IMAGE, "sleep", "600")
    owner_ip = net.run("exec", "owner", "sh", "-c", "ip -4 addr show eth0").stdout
    assert net.subnet(3).rsplit(".", 1)[0] in owner_ip  # on the default network
    joined = net.run("run", "--rm", "--network", "container:owner", IMAGE, "ip", "-4", "addr", "show", "eth0").stdout
    assert joined.split("inet ")[1].split()[0] == owner_ip.split("inet ")[1].split()[0]
    none = net.run("run", "--rm", "--network", "none", IMAGE, "cat", "/proc/net/dev").stdout
    assert "eth0" not in none and "lo:" in none
    host_ifaces = Path("/proc/net/dev").read_text().split("\n", 2)[2]
    host = net.run("run", "--rm", "--network", "host", IMAGE, "cat", "/proc/net/dev").stdout
    assert {line.split(":")[0].strip() for line in host.splitlines()[2:]} >= {
        line.split(":")[0].strip() for line in host_ifaces.splitlines() if line.strip().startswith(("lo", "eth0"))}


def test_connect_and_disconnect_a_running_container(net: Net) -> None:
    first = net.create(0)
    second = net.create(1)
    net.run("run", "-d", "--name", "multi", "--network", first, IMAGE, "sleep", "600")
    net.run("network", "connect", "--alias", "extra", second, "multi")
    addrs = net.run("exec", "multi", "ip", "-4", "addr").stdout
    assert net.subnet(1).rsplit(".", 1)[0] in addrs and "eth1" in addrs
    eth1 = net.run("exec", "multi", "ip", "-4", "-o", "addr", "show", "eth1").stdout
    second_ip = eth1.split("inet ")[1].split("/")[0]
    hosts = net.run("exec", "multi", "cat", "/etc/hosts").stdout  # /etc/hosts follows connect
    assert any(line.split()[:1] == [second_ip] and "multi" in line.split() for line in hosts.splitlines())
    out = net.run("run", "--rm", "--network", second, IMAGE, "nslookup", "extra").stdout
    assert net.subnet(1).rsplit(".", 1)[0] in out
    again = net.run("network", "connect", second, "multi", check=False)
    assert again.returncode == 125 and "already connected" in again.stderr
    net.run("network", "disconnect", second, "multi")
    assert "eth1" not in net.run("exec", "multi", "ip", "-4", "addr").stdout
    assert second_ip not in net.run("exec", "multi", "cat", "/etc/hosts").stdout  # ... and disconnect
    events = net.run("events", "--stream=false", "--filter", "type=network", "--format", "{{.Status}} {{.Name}}")
    assert events.stdout.splitlines()[-2:] == [f"connect {second}", f"disconnect {second}"]
    net.run("network", "rm", second)


def test_network_commands_output_and_errors(net: Net) -> None:
    name = net.create(0, "--label", "team=blue")
    listed = net.run("network", "ls").stdout.splitlines()
    assert listed[0].split() == ["NETWORK", "ID", "NAME", "DRIVER"]
    assert any(line.split()[1:] == [name, "bridge"] for line in listed[1:])
    assert net.run("network", "ls", "--filter", "label=team=blue", "--format", "{{.Name}}").stdout == f"{name}\n"
    doc = json.loads(net.run("network", "inspect", name).stdout)[0]
    assert doc["subnets"] == [{"subnet": net.subnet(0), "gateway": net.subnet(0).replace(".0/24", ".1")}]
    assert doc["network_interface"] == net.bridge(0) and doc["dns_enabled"] and doc["labels"] == {"team": "blue"}
    assert net.run("network", "exists", name).returncode == 0
    assert net.run("network", "exists", "nope-net", check=False).returncode == 1

    overlap = net.run("network", "create", "--subnet", net.subnet(0).replace(".0/24", ".128/25"), "x", check=False)
    assert overlap.returncode == 125
    assert overlap.stderr == (f"Error: subnet {net.subnet(0).replace('.0/24', '.128/25')} is already used on the "
                              "host or by another config\n")
    cidr = net.run("network", "create", "--subnet", "10.123.0.0/33", "y", check=False)
    assert cidr.stderr == "Error: invalid CIDR address: 10.123.0.0/33\n" and cidr.returncode == 125
    unknown = net.run("network", "rm", "nope-net", check=False)
    assert unknown.returncode == 1
    assert unknown.stderr == "Error: unable to find network with name or ID nope-net: network not found\n"
    bad_run = net.run("run", "--rm", "--network", "nope-net", IMAGE, "true", check=False)
    assert "unable to find network with name or ID nope-net" in bad_run.stderr

    net.run("create", "--name", "user", "--network", name, IMAGE, "true")
    busy = net.run("network", "rm", name, check=False)
    assert busy.returncode == 2 and "has associated containers with it" in busy.stderr
    spare = net.create(1)
    kept = net.create(2, "--label", "keep=yes")
    assert net.run("network", "prune", "-f", "--filter", "until=1h").stdout == ""  # all newer than an hour
    assert net.run("network", "prune", "-f", "--filter", "label!=keep=yes").stdout.split() == [spare]
    bad = net.run("network", "prune", "-f", "--filter", "colour=red", check=False)
    assert (bad.returncode, bad.stderr) == (125, 'Error: invalid filter "colour=red"\n')
    assert net.run("network", "prune", "-f", "--filter", "label=keep").stdout.split() == [kept]
    assert net.run("network", "rm", "-f", name).stdout == f"{name}\n"
    assert net.run("container", "exists", "user", check=False).returncode == 1


def test_crashed_run_leaves_nothing_that_blocks_the_next_start(net: Net) -> None:
    name = net.create(0)
    net.run("run", "-d", "--name", "c1", "--network", name, "--ip", net.subnet(0).replace(".0/24", ".50"),
            "-p", f"{net.port + 2}:80", IMAGE, "sleep", "600")
    # the same static address and port for a second container: refused, nothing half made
    clash = net.run("run", "-d", "--name", "c2", "--network", name, "--ip", net.subnet(0).replace(".0/24", ".50"),
                    IMAGE, "true", check=False)
    assert clash.returncode != 0 and "already allocated" in clash.stderr
    net.run("rm", "-f", "c2")
    # SIGKILL the container behind sealpod's back: the next start reclaims its netns and address
    pid = int(net.run("inspect", "--format", "{{.State.Pid}}", "c1").stdout)
    conmon = int(net.run("inspect", "--format", "{{.State.ConmonPid}}", "c1").stdout)
    os.kill(conmon, 9)
    os.kill(pid, 9)
    time.sleep(0.5)
    net.run("start", "c1")
    assert ".50/" in net.run("exec", "c1", "ip", "-4", "addr", "show", "eth0").stdout
