"""Conformance with Podman's own system tests for networking, namespaces, user namespaces,
healthchecks and unprivileged access (test/system/500-networking, 190-run-ipcns,
195-run-namespaces, 170-run-userns, 220-healthcheck, 400-unprivileged-access), as Podman
behaves: outputs, inspect fields, exit codes and messages, with real netavark, slirp4netns,
conmon and runc (root only).

Every test gets its own default network, subnets (10.126.x.0/24), bridge names and host ports,
derived from the xdist worker and a counter, because netavark's state is host-wide.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealpod.errors import InvalidArgument
from sealpod.network.slirp import SlirpOptions
from sealpod.runtime.etcfiles import hosts_content
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
_COUNTER = itertools.count()


def _worker() -> int:
    text = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return int(text) if text.isdigit() else 0


@dataclass
class Net:
    """The unique names, subnets and ports one test may use."""

    sp: SealpodRunner
    tag: str
    octet: int
    port: int

    def subnet(self, k: int) -> str:
        return f"10.126.{self.octet + k}.0/24"

    def prefix(self, k: int) -> str:
        return f"10.126.{self.octet + k}"

    def create(self, k: int, name: str = "") -> str:
        name = name or f"cn{self.tag}n{k}"
        out = self.sp.run("network", "create", "--subnet", self.subnet(k), "--interface-name",
                          f"cn{self.tag}b{k}", name)
        assert out.stdout == name + "\n"
        return name

    @property
    def default(self) -> str:
        return f"cndef{self.tag}"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-net"), seeded_registry.host) as runner:
        yield runner


@pytest.fixture
def net(sp: SealpodRunner) -> Iterator[Net]:
    idx = next(_COUNTER)
    w = _worker()
    n = Net(sp, f"{w % 100}x{idx}", (w * 48 + idx * 4) % 248, 30000 + w * 500 + idx * 10)
    sp.containers_conf.write_text(f'[network]\ndefault_network = "{n.default}"\ndefault_subnet = "{n.subnet(3)}"\n'
                                  f'default_bridge = "cn{n.tag}b3"\n')
    yield n
    sp.run("rm", "-af", "-t", "0", check=False)
    sp.containers_conf.write_text("")
    sp.run("network", "prune", "-f", check=False)


def _get(port: int, path: str, timeout: float = 3) -> bytes | None:
    """The body of ``GET path`` on 127.0.0.1:port, or None when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    return data.partition(b"\r\n\r\n")[2]


def _wait_get(port: int, path: str, deadline: float = 10) -> bytes | None:
    end = time.monotonic() + deadline
    while (body := _get(port, path)) is None and time.monotonic() < end:
        time.sleep(0.2)
    return body


def _httpd(sp: SealpodRunner, port: int, tmp_path: Path, text: str, *extra: str) -> str:
    index = tmp_path / "hello.txt"
    index.write_text(text + "\n")
    return sp.run("run", "-d", "-p", f"{port}:80", "-v", f"{index}:/var/www/index.txt:Z", "-w", "/var/www",
                  *extra, IMAGE, "busybox", "httpd", "-f", "-p", "80").stdout.strip()


def _fmt(sp: SealpodRunner, name: str, fmt: str) -> str:
    return sp.run("inspect", "--format", fmt, name).stdout.strip()


def _netfield(sp: SealpodRunner, cid: str, network: str, field: str) -> str:
    return _fmt(sp, cid, f'{{{{(index .NetworkSettings.Networks "{network}").{field}}}}}')


# --- 500-networking.bats ----------------------------------------------------------------

def test_network_basic_like_podman(net: Net) -> None:
    out = net.sp.run("network", "ls").stdout.splitlines()
    assert out[0].split() == ["NETWORK", "ID", "NAME", "DRIVER"]
    assert "NETWORK" not in net.sp.run("network", "ls", "--noheading").stdout
    names = [net.create(k, f"{c}-{net.tag}") for k, c in enumerate("abc")]
    listed = net.sp.run("network", "ls", "--quiet").stdout.split()
    assert [n for n in listed if n in names] == names
    assert net.sp.run("network", "rm", *names).stdout.split() == names


def test_port_on_localhost_like_podman(net: Net, tmp_path: Path) -> None:
    sp, port = net.sp, net.port
    cid = _httpd(sp, port, tmp_path, "random-one", "--name", "myweb")
    sp.run("exec", "-i", "myweb", "sh", "-c", "cat > index2.txt", input="random-two\n")
    assert sp.run("exec", "-i", "myweb", "cat", "/var/www/index2.txt").stdout == "random-two\n"
    assert _wait_get(port, "/index.txt") == b"random-one\n"
    assert _get(port, "/index2.txt") == b"random-two\n"
    script = f'printf "GET /index2.txt HTTP/1.0\\r\\n\\r\\n" | nc 127.0.0.1 {port}'
    assert sp.run("run", "--rm", "--net=host", IMAGE, "sh", "-c", script).stdout.endswith("random-two\n")
    assert sp.run("port", "myweb").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
    assert sp.run("port", "myweb", "80").stdout == f"0.0.0.0:{port}\n"
    assert sp.run("port", cid, "80/tcp").stdout == f"0.0.0.0:{port}\n"
    bad = sp.run("port", "myweb", "99/tcp", check=False)
    assert (bad.returncode, bad.stderr) == (125, 'Error: failed to find published port "99/tcp"\n')


def test_port_with_uidmap_like_podman(net: Net) -> None:
    """#5466: port forwarding into a container with its own user namespace."""
    port = net.port + 1
    net.sp.make_searchable()
    cid = net.sp.run("run", "-d", "--uidmap", "0:1111111:65536", "--gidmap", "0:1111111:65536", "--network",
                     "bridge", "-p", f"127.0.0.1:{port}:{port}", IMAGE, "nc", "-l", "-p", str(port)).stdout.strip()
    end = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                s.sendall(b"test-string-uidmap\n")
            break
        except OSError:
            assert time.monotonic() < end, "nc in the container never listened"
            time.sleep(0.2)
    assert net.sp.run("wait", cid).stdout == "0\n"
    assert "test-string-uidmap" in net.sp.run("logs", cid).stdout


def test_slirp4netns_cidr_like_podman(net: Net) -> None:
    """/etc/hosts, resolv.conf and the address of ``--network slirp4netns:cidr=``."""
    from sealpod.network.hostaddr import local_ip

    sp, cidr = net.sp, net.prefix(0)
    hosts = sp.run("run", "--rm", "--network", f"slirp4netns:cidr={cidr}.0/24", "--name", "con1", "--hostname",
                   "con1", IMAGE, "cat", "/etc/hosts").stdout
    assert f"{local_ip()}\thost.containers.internal\n" in hosts
    assert f"{cidr}.100\tcon1 con1\n" in hosts
    resolv = sp.run("run", "--rm", "--network", f"slirp4netns:cidr={cidr}.0/24", IMAGE, "grep", cidr,
                    "/etc/resolv.conf").stdout
    assert resolv == f"nameserver {cidr}.3\n"
    addr = sp.run("run", "--rm", "--network", f"slirp4netns:cidr={cidr}.0/24,mtu=1500", IMAGE, "sh", "-c",
                  f"ip address | grep {cidr}").stdout
    assert f"inet {cidr}.100/24 " in addr
    for opt, msg in (("foo=bar", 'unknown option for slirp4netns: "foo=bar"'), ("cidr=1.2.3.0/33",
                     'invalid cidr "1.2.3.0/33"'), ("port_handler=x", 'unknown port_handler for slirp4netns: "x"'),
                     ("enable_ipv6=maybe", 'invalid value of enable_ipv6 for slirp4netns: "maybe"')):
        bad = sp.run("run", "--rm", "--network", f"slirp4netns:{opt}", IMAGE, "true", check=False)
        assert (bad.returncode, bad.stderr) == (125, f"Error: {msg}\n")


def test_network_create_like_podman(net: Net) -> None:
    sp = net.sp
    name = net.create(0)
    assert len(sp.run("network", "inspect", name).stdout.splitlines()) >= 5
    out = sp.run("run", "--rm", "--network", name, IMAGE, "ip", "a").stdout
    assert f" inet {net.prefix(0)}.2/24 brd {net.prefix(0)}.255 " in out
    dup = sp.run("network", "create", name, check=False)
    assert (dup.returncode, dup.stderr) == (125, f"Error: network name {name} already used: network already exists\n")
    sp.run("network", "rm", name)
    assert sp.run("network", "rm", name, check=False).returncode == 1  # with -f: 0, as Podman 4.3


def test_network_reload_like_podman(net: Net, tmp_path: Path) -> None:
    sp, port = net.sp, net.port + 2
    cid = _httpd(sp, port, tmp_path, "reload-me", "--network", net.default)
    ip1, mac1 = _netfield(sp, cid, net.default, "IPAddress"), _netfield(sp, cid, net.default, "MacAddress")
    assert _wait_get(port, "/index.txt") == b"reload-me\n"
    assert sp.run("network", "reload", cid).stdout == cid + "\n"
    assert (_netfield(sp, cid, net.default, "IPAddress"), _netfield(sp, cid, net.default, "MacAddress")) == (ip1, mac1)
    assert _wait_get(port, "/index.txt") == b"reload-me\n"
    second = net.create(1)
    sp.run("network", "connect", second, cid)
    ip2, mac2 = _netfield(sp, cid, second, "IPAddress"), _netfield(sp, cid, second, "MacAddress")
    assert sp.run("network", "reload", "--all").stdout == cid + "\n"
    assert (_netfield(sp, cid, net.default, "IPAddress"), _netfield(sp, cid, net.default, "MacAddress")) == (ip1, mac1)
    assert (_netfield(sp, cid, second, "IPAddress"), _netfield(sp, cid, second, "MacAddress")) == (ip2, mac2)
    assert _wait_get(port, "/index.txt") == b"reload-me\n"
    sp.run("rm", "-t", "0", "-f", cid)
    bad = sp.run("network", "rm", "-t", "0", "-f", net.default, check=False)
    assert (bad.returncode, bad.stderr) == (125, f"Error: default network {net.default} cannot be removed\n")


def test_network_connect_disconnect_with_port_forwarding_like_podman(net: Net, tmp_path: Path) -> None:
    """#10052: ports follow disconnect/connect; a reconnected container gets a new address."""
    sp, port = net.sp, net.port + 3
    first, second = net.create(0), net.create(1)
    background = sp.run("run", "-d", "--network", first, IMAGE, "top").stdout.strip()
    cid = _httpd(sp, port, tmp_path, "connect-me", "--network", first)
    assert _wait_get(port, "/index.txt") == b"connect-me\n"
    ip, mac = _netfield(sp, cid, first, "IPAddress"), _netfield(sp, cid, first, "MacAddress")
    assert _netfield(sp, cid, first, "Aliases") == f"[{cid[:12]}]"
    assert ip in sp.run("exec", cid, "cat", "/etc/hosts").stdout
    assert sp.run("network", "disconnect", first, cid).stdout == ""
    assert ip not in sp.run("exec", cid, "cat", "/etc/hosts").stdout
    assert _get(port, "/index.txt") in (None, b"")
    assert sp.run("network", "connect", first, cid).stdout == ""
    assert _wait_get(port, "/index.txt") == b"connect-me\n"
    new_ip = _netfield(sp, cid, first, "IPAddress")
    assert new_ip != ip and _netfield(sp, cid, first, "MacAddress") != mac
    assert new_ip in sp.run("exec", cid, "cat", "/etc/hosts").stdout
    assert sp.run("network", "disconnect", first, background).stdout == ""
    assert sp.run("network", "connect", first, background).stdout == ""
    sp.run("network", "connect", second, cid)
    assert _netfield(sp, cid, second, "Aliases") == f"[{cid[:12]}]"
    assert _wait_get(port, "/index.txt") == b"connect-me\n"
    sp.run("network", "disconnect", first, cid)
    assert _wait_get(port, "/index.txt") == b"connect-me\n"


def _with_conf(sp: SealpodRunner, extra: str) -> None:
    sp.containers_conf.write_text(sp.containers_conf.read_text() + extra)


def test_containers_conf_dns_options_like_podman(net: Net) -> None:
    sp = net.sp
    name = net.create(0)
    plain = sp.run("run", "--network", name, "--rm", IMAGE, "cat", "/etc/resolv.conf").stdout
    assert plain.startswith("search dns.podman") and f"nameserver {net.prefix(0)}.1\n" in plain
    hostdns = sp.run("run", "--network", "host", "--dns", "1.1.1.1", "--rm", IMAGE, "cat", "/etc/resolv.conf").stdout
    assert "nameserver 1.1.1.1\n" in hostdns
    _with_conf(sp, '[containers]\ndns_searches = ["example.com"]\n'
               'dns_servers = ["1.1.1.1", "100.100.100.100", "1.0.0.1", "8.8.8.8"]\n')
    want = ("search example.com\nnameserver 1.1.1.1\nnameserver 100.100.100.100\nnameserver 1.0.0.1\n"
            "nameserver 8.8.8.8\n")
    assert sp.run("run", "--rm", IMAGE, "cat", "/etc/resolv.conf").stdout.startswith(want)
    assert sp.run("run", "--network", name, "--rm", IMAGE, "cat", "/etc/resolv.conf").stdout.startswith(want)


def test_containers_conf_etc_hosts_options_like_podman(net: Net, tmp_path: Path) -> None:
    sp = net.sp
    base = tmp_path / "basehosts"
    base.write_text("10.1.2.3 hostone\n10.1.2.4 hosttwo #some comment\n")
    _with_conf(sp, f'[containers]\nbase_hosts_file = "{base}"\nhost_containers_internal_ip = "10.9.9.9"\n')
    lines = sp.run("run", "--rm", "--add-host", "hostthree:10.7.7.7", IMAGE, "cat", "/etc/hosts").stdout.splitlines()
    assert lines[:6] == ["10.7.7.7\thostthree", "10.1.2.3\thostone", "10.1.2.4\thosttwo", "127.0.0.1\tlocalhost",
                         "::1\tlocalhost", "10.9.9.9\thost.containers.internal"]
    assert len(lines) == 7
    lines = sp.run("run", "--rm", "--name", "hostone", "--hostname", "hostone", IMAGE, "cat",
                   "/etc/hosts").stdout.splitlines()
    assert len(lines) == 5 and lines[-1] == "10.9.9.9\thost.containers.internal"


def test_etc_files_owned_by_root_like_podman(sp: SealpodRunner) -> None:
    sp.make_searchable()
    for userns in ([], ["--uidmap=0:1111111:65536", "--gidmap=0:1111111:65536"]):
        out = sp.run("run", *userns, "--rm", IMAGE, "stat", "-c", "%u:%g", "/etc/hosts", "/etc/resolv.conf",
                     "/etc/hostname").stdout
        assert out == "0:0\n0:0\n0:0\n", userns


def test_hosts_without_networks_like_podman(sp: SealpodRunner) -> None:
    from sealpod.network.hostaddr import local_ip

    out = sp.run("run", "--rm", "--network", "none", "--name", "nonet", "--hostname", "nonet", IMAGE, "cat",
                 "/etc/hosts").stdout
    assert out.endswith(f"{local_ip()}\thost.containers.internal\n127.0.0.1\tnonet nonet\n")
    out = sp.run("run", "--rm", "--network", "host", "--name", "hostnet", IMAGE, "cat", "/etc/hosts").stdout
    assert out.endswith(f"{local_ip()}\thost.containers.internal\n") and "hostnet" not in out


# --- 195-run-namespaces.bats, 190-run-ipcns.bats ----------------------------------------

@pytest.mark.parametrize(("name", "option"), [("ipc", "ipc"), ("net", "network"), ("pid", "pid"), ("uts", "uts")])
@pytest.mark.parametrize("nstype", ["private", "host"])
def test_all_namespaces_like_podman(sp: SealpodRunner, name: str, option: str, nstype: str) -> None:
    kind = "shareable" if (name, nstype) == ("ipc", "private") else nstype
    cname = f"c_{name}_{nstype}"
    sp.run("run", "--name", cname, f"--{option}", kind, "-d", IMAGE, "sh", "-c",
           f"readlink /proc/self/ns/{name}; sleep inf")
    con2 = sp.run("run", "--rm", f"--{option}", f"container:{cname}", IMAGE, "readlink",
                  f"/proc/self/ns/{name}").stdout
    con1 = sp.run("logs", cname).stdout
    host = os.readlink(f"/proc/self/ns/{name}") + "\n"
    assert con1 == con2
    assert (con1 == host) == (nstype == "host")
    sp.run("rm", "-f", "-t0", cname)


def test_ipc_modes_like_podman(sp: SealpodRunner) -> None:
    hostipc = os.readlink("/proc/self/ns/ipc") + "\n"
    assert sp.run("run", "--name", "IPC", "--ipc=host", IMAGE, "readlink", "/proc/self/ns/ipc").stdout == hostipc
    assert _fmt(sp, "IPC", "{{ .HostConfig.IpcMode }}") == "host"
    sp.run("rm", "IPC")
    assert sp.run("run", "--ipc=none", "--name", "IPC", IMAGE, "readlink", "/proc/self/ns/ipc").stdout != hostipc
    assert _fmt(sp, "IPC", "{{ .HostConfig.IpcMode }}") == "none"
    sp.run("rm", "IPC")
    out = sp.run("run", "--rm", "--ipc=none", IMAGE, "ls", "/dev/shm", check=False)
    assert (out.returncode, out.stderr) == (1, "ls: /dev/shm: No such file or directory\n")
    sp.run("run", "-d", "--ipc=private", "--name", "test", IMAGE, "sleep", "100")
    assert _fmt(sp, "test", "{{ .HostConfig.IpcMode }}") == "private"
    bad = sp.run("run", "--ipc=container:test", "--rm", IMAGE, "true", check=False)
    assert bad.returncode == 125
    assert bad.stderr.endswith("is not allowed: non-shareable IPC (hint: use IpcMode:shareable for the donor "
                               "container)\n")
    sp.run("rm", "-f", "-t0", "test")
    cid = sp.run("run", "-d", "--ipc=shareable", "--name", "test", IMAGE, "sleep", "100").stdout.strip()
    assert _fmt(sp, "test", "{{ .HostConfig.IpcMode }}") == "shareable"
    testipc = sp.run("exec", "test", "readlink", "/proc/self/ns/ipc").stdout
    assert testipc != hostipc
    assert sp.run("run", "--name", "IPC", "--ipc=container:test", IMAGE, "readlink",
                  "/proc/self/ns/ipc").stdout == testipc
    assert _fmt(sp, "IPC", "{{ .HostConfig.IpcMode }}") == f"container:{cid}"
    assert _fmt(sp, "IPC", "{{.HostConfig.PidMode}} {{.HostConfig.UTSMode}}") == "private private"
    sp.run("rm", "-f", "-t0", "IPC", "test")


def test_uts_host_keeps_host_name(sp: SealpodRunner) -> None:
    assert sp.run("run", "--rm", "--uts", "host", IMAGE, "hostname").stdout == socket.gethostname() + "\n"


# --- 170-run-userns.bats --------------------------------------------------------------------

def test_userns_group_add_like_podman(sp: SealpodRunner) -> None:
    sp.make_searchable()
    assert "457" in sp.run("run", "--rm", "--group-add", "457", IMAGE, "id").stdout
    assert "457" in sp.run("run", "--rm", "--uidmap", "0:200000:5000", "--group-add", "457", IMAGE, "id").stdout
    bad = sp.run("run", "--rm", "--group-add", "keep-groups", "--group-add", "457", IMAGE, "id", check=False)
    assert (bad.returncode, bad.stderr) == (
        125, "Error: the '--group-add keep-groups' option is not allowed with any other --group-add options\n")


def test_userns_rootless_only_modes_like_podman(sp: SealpodRunner) -> None:
    for mode in ("keep-id", "nomap"):
        bad = sp.run("run", "--rm", f"--userns={mode}", IMAGE, "id", "-u", check=False)
        assert (bad.returncode, bad.stderr) == (125, f"Error: {mode} is only supported in rootless mode\n")


def test_uidmap_alone_maps_gids_too(sp: SealpodRunner) -> None:
    sp.make_searchable()
    out = sp.run("run", "--rm", "--uidmap", "0:200000:5000", IMAGE, "cat", "/proc/self/uid_map",
                 "/proc/self/gid_map").stdout.split()
    assert out == ["0", "200000", "5000"] * 2
    sp.run("create", "--name", "um", "--uidmap", "0:200000:5000", IMAGE)
    assert _fmt(sp, "um", "{{.HostConfig.UsernsMode}}") == "private"
    sp.run("rm", "um")


# --- 400-unprivileged-access.bats -------------------------------------------------------

def test_sensitive_mount_points_masked_like_podman(sp: SealpodRunner) -> None:
    candidates = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
                  "/sys/dev/block"]
    present = [p for p in candidates if os.path.exists(p)]
    out = sp.run("run", "--rm", IMAGE, "stat", "-c%n:%F:%h:%T:%t", "/dev/null", *present).stdout.splitlines()
    devnull = out[0].split(":")[3:]
    for line in out[1:]:
        path, kind, links, major, minor = line.split(":")
        if kind == "character special file":
            assert [major, minor] == devnull, path
        else:
            assert (kind, links) == ("directory", "2"), path


# --- 220-healthcheck.bats ---------------------------------------------------------------

HEALTH = ('if [ -e /uh-oh ]; then echo "Uh-oh on stdout!"; echo "Uh-oh on stderr!" >&2; exit 1; '
          'else echo "Life is Good on stdout"; echo "Life is Good on stderr" >&2; fi')


@pytest.mark.parametrize("policy", ["none", "kill", "restart", "stop"])
def test_healthcheck_on_failure_like_podman(sp: SealpodRunner, policy: str) -> None:
    bad = sp.run("create", "--health-on-failure=kill", IMAGE, check=False)
    assert (bad.returncode, bad.stderr) == (125, "Error: cannot set on-failure action to kill without a health check\n")
    ctr = f"hc_{policy}"
    sp.run("run", "-d", "--name", ctr, "--health-cmd", HEALTH, "--health-retries=1", f"--health-on-failure={policy}",
           IMAGE, "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
    assert sp.run("healthcheck", "run", ctr).stdout == ""
    sp.run("exec", ctr, "touch", "/uh-oh")
    out = sp.run("healthcheck", "run", ctr, check=False)
    assert (out.returncode, out.stdout) == (1, "unhealthy\n")
    status = _fmt(sp, ctr, "{{.State.Status}} {{.Config.HealthcheckOnFailureAction}}")
    if policy in ("none", "restart"):
        assert status == f"running {policy}"
    else:
        assert status.endswith(f" {policy}") and status != f"running {policy}"
    if policy == "none":
        health = json.loads(_fmt(sp, ctr, "{{json .State.Healthcheck}}"))
        assert (health["Status"], health["FailingStreak"]) == ("unhealthy", 1)
        assert [(e["ExitCode"], e["Output"]) for e in health["Log"][-2:]] == [
            (0, "Life is Good on stdout\nLife is Good on stderr"), (1, "Uh-oh on stdout!\nUh-oh on stderr!")]
    sp.run("rm", "-f", "-t0", ctr)


# --- pure logic -------------------------------------------------------------------------

def test_slirp_options_parse() -> None:
    opts = SlirpOptions.parse("cidr=10.5.6.0/24,enable_ipv6=true,mtu=1500,port_handler=slirp4netns")
    assert (opts.guest_addr, opts.gateway, opts.dns, opts.mtu, opts.enable_ipv6) == (
        "10.5.6.100", "10.5.6.2", "10.5.6.3", 1500, True)
    assert SlirpOptions.parse("").guest_addr == "10.0.2.100"
    with pytest.raises(InvalidArgument, match='invalid mtu "x"'):
        SlirpOptions.parse("mtu=x")


def test_hosts_names_already_known_are_left_out() -> None:
    base = "10.1.2.3 hostone\n"
    assert hosts_content(["hostone", "hostone"], base=base, ips=["10.0.0.5"]).splitlines() == [
        "10.1.2.3\thostone", "127.0.0.1\tlocalhost", "::1\tlocalhost"]
    assert hosts_content(["abc", "web"], base=base, ips=["10.0.0.5"]).splitlines()[-1] == "10.0.0.5\tabc web"
    assert hosts_content(["same", "same"], ips=["127.0.0.1"]).endswith("127.0.0.1\tsame same\n")
