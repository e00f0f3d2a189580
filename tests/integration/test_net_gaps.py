"""Podman 4.3.1's networking details sealpod once missed: host ports chosen at create, the
``dangling`` filter and the default network, and ``--dns none``, against real conmon, runc and
netavark (each expectation was read off the real Podman 4.3.1)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.engine.port_alloc import reserved_ports, spec_of
from sealpod.network.portmap import PortMapping, parse_publish
from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import DISTRIBUTION_CONTAINERS_CONF, SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
DISCARDED = "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("net-gaps"), seeded_registry.host) as runner:
        yield runner


def _out(sp: SealpodRunner, *args: str) -> str:
    return sp.run(*args).stdout.strip()


def _fails(sp: SealpodRunner, *args: str, code: int = 125) -> str:
    out = sp.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr


def _fmt(sp: SealpodRunner, name: str, template: str) -> str:
    return _out(sp, "inspect", "--format", template, name)


def _bindings(sp: SealpodRunner, name: str) -> dict[str, list[dict[str, str]] | None]:
    doc: dict[str, list[dict[str, str]] | None] = json.loads(_fmt(sp, name, "{{json .HostConfig.PortBindings}}"))
    return doc


# --- host ports chosen at create ------------------------------------------------------------

def test_random_host_port_is_chosen_at_create_and_kept(sp: SealpodRunner) -> None:
    """Podman 4.3.1: `create -p 80` picks the host port at create (specgen): inspect and ps show it
    before the start, `port` prints nothing for a container that does not run, restarts keep it."""
    sp.run("create", "--name", "rp1", "-p", "80", "-p", "127.0.0.1::81/udp", IMAGE, "sleep", "1000")
    try:
        bound = _bindings(sp, "rp1")
        port80, port81 = (bound[k][0]["HostPort"] for k in ("80/tcp", "81/udp"))  # type: ignore[index]
        assert port80.isdigit() and port81.isdigit() and port80 != port81
        assert bound == {"80/tcp": [{"HostIp": "", "HostPort": port80}],
                         "81/udp": [{"HostIp": "127.0.0.1", "HostPort": port81}]}
        assert json.loads(_fmt(sp, "rp1", "{{json .NetworkSettings.Ports}}")) == bound
        ps = _out(sp, "ps", "-a", "--filter", "name=rp1", "--format", "{{.Ports}}")
        assert f"0.0.0.0:{port80}->80/tcp" in ps and f"127.0.0.1:{port81}->81/udp" in ps
        rows = json.loads(_out(sp, "ps", "-a", "--filter", "name=rp1", "--format", "json"))
        assert {"host_ip": "", "container_port": 80, "host_port": int(port80), "range": 1,
                "protocol": "tcp"} in rows[0]["Ports"]
        assert sp.run("port", "rp1").stdout == "" and sp.run("port", "rp1", "80").stdout == ""  # rc 0
        sp.run("start", "rp1")
        assert _out(sp, "port", "rp1", "80") == f"0.0.0.0:{port80}"
        assert _out(sp, "port", "rp1", "81/udp") == f"127.0.0.1:{port81}"
        assert "failed to find published port" in _fails(sp, "port", "rp1", "82")
        sp.run("restart", "-t", "0", "rp1")
        assert _out(sp, "port", "rp1", "80") == f"0.0.0.0:{port80}"
        sp.run("stop", "-t", "0", "rp1")
        sp.run("start", "rp1")
        assert _out(sp, "port", "rp1", "80") == f"0.0.0.0:{port80}"
        assert _bindings(sp, "rp1") == bound
    finally:
        sp.run("rm", "-f", "-t", "0", "rp1")


def test_containers_created_one_after_another_get_different_ports(sp: SealpodRunner) -> None:
    """A random host port is never one another container (running or not) already publishes."""
    names = [f"rnd{i}" for i in range(6)]
    try:
        for name in names:
            sp.run("create", "--name", name, "-p", "80", "-p", "90-92", IMAGE, "true")
        taken = []
        for name in names:
            for binding in _bindings(sp, name).values():
                assert binding
                taken.append(int(binding[0]["HostPort"]))
        assert len(taken) == len(set(taken)) == 4 * len(names)
        ranged = _bindings(sp, names[0])
        assert [int(ranged[f"{p}/tcp"][0]["HostPort"]) for p in (90, 91, 92)] == [  # type: ignore[index]
            int(ranged["90/tcp"][0]["HostPort"]) + i for i in range(3)]  # type: ignore[index]
    finally:
        sp.run("rm", "-f", *names)


def test_reserved_ports_reads_every_containers_specs() -> None:
    """The ports a new container must avoid: those every existing container's -p specs name."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE containers (id TEXT, config TEXT)")
    conn.executemany("INSERT INTO containers VALUES (?, ?)", [
        ("a", json.dumps({"ports": ["40000:80/tcp", "127.0.0.1:41000-41001:90-91/udp"]})),
        ("b", json.dumps({"ports": ["80"]})), ("c", json.dumps({"ports": []})), ("d", json.dumps({}))])
    assert reserved_ports(conn) == {(40000, "tcp"), (41000, "udp"), (41001, "udp")}
    for mapping in (PortMapping(80, 40000), PortMapping(90, 41000, "::1", "udp", 2), PortMapping(53, 5353, "", "udp")):
        assert parse_publish(spec_of(mapping)) == [mapping]


def test_publish_all_expose_and_network_none(sp: SealpodRunner) -> None:
    """Podman 4.3.1: -P gives each exposed port its own host port at create, PublishAllPorts stays
    false (the annotation says TRUE); exposed ports show as null; --network none discards -p with a
    warning but keeps -P silently, and shows no ports at all."""
    sp.run("create", "--name", "pa1", "-P", "--expose", "80", "--expose", "90/udp", "--expose", "79",
           "-p", "8080:79", IMAGE, "true")
    sp.run("create", "--name", "pa2", "--expose", "80", "-p", "81", IMAGE, "true")
    try:
        bound = _bindings(sp, "pa1")
        assert list(bound) == ["79/tcp", "80/tcp", "90/udp"]
        assert bound["79/tcp"] == [{"HostIp": "", "HostPort": "8080"}]
        assert all(v and v[0]["HostPort"].isdigit() for v in bound.values())
        assert _fmt(sp, "pa1", "{{.HostConfig.PublishAllPorts}}") == "false"
        assert _fmt(sp, "pa1", '{{index .Config.Annotations "io.podman.annotations.publish-all"}}') == "TRUE"
        mixed = _bindings(sp, "pa2")
        assert list(mixed) == ["80/tcp", "81/tcp"] and mixed["80/tcp"] is None and mixed["81/tcp"]
        assert json.loads(_fmt(sp, "pa2", "{{json .NetworkSettings.Ports}}")) == mixed
        quiet = sp.run("create", "--name", "pa3", "--network", "none", "-P", "--expose", "80", IMAGE, "true")
        assert DISCARDED not in quiet.stderr
        assert _fmt(sp, "pa3", '{{index .Config.Annotations "io.podman.annotations.publish-all"}}') == "TRUE"
        assert _fmt(sp, "pa3", "{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}}") == "{} {}"
        loud = sp.run("create", "--name", "pa4", "--network", "host", "-p", "80", IMAGE, "true")
        assert DISCARDED in loud.stderr
        assert _fmt(sp, "pa4", "{{json .HostConfig.PortBindings}}") == "{}"
    finally:
        sp.run("rm", "-f", "pa1", "pa2", "pa3", "pa4", check=False)


def test_pod_infra_port_chosen_at_create(sp: SealpodRunner) -> None:
    """Podman 4.3.1: `pod create -p 80` shows the infra's chosen host port in pod inspect and ps."""
    sp.run("pod", "create", "--name", "rpod", "-p", "80")
    try:
        bound = json.loads(_out(sp, "pod", "inspect", "--format", "{{json .InfraConfig.PortBindings}}", "rpod"))
        port = bound["80/tcp"][0]["HostPort"]
        assert port.isdigit()
        assert f"0.0.0.0:{port}->80/tcp" in _out(sp, "ps", "-a", "--pod", "--format", "{{.Ports}}")
    finally:
        sp.run("pod", "rm", "-f", "rpod")


def test_docker_api_random_host_ports_before_start(api: ApiService) -> None:
    """Podman 4.3.1's compat API: PortBindings HostPort "" or "0" get a host port at create, which
    GET /containers/{id}/json and /containers/json show before the start."""
    body = {"Image": IMAGE, "Cmd": ["sleep", "1000"], "HostConfig": {"PortBindings": {
        "80/tcp": [{"HostIp": "", "HostPort": ""}], "81/tcp": [{"HostPort": "0"}],
        "82/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}}}
    status, raw = api.request("POST", "/v1.41/containers/create?name=apiports", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})
    assert status == 201, raw
    try:
        status, raw = api.request("GET", "/v1.41/containers/apiports/json")
        doc = json.loads(raw)
        bound = doc["HostConfig"]["PortBindings"]
        assert list(bound) == ["80/tcp", "81/tcp", "82/tcp"]
        ports = {k: v[0]["HostPort"] for k, v in bound.items()}
        assert all(p.isdigit() for p in ports.values()) and len(set(ports.values())) == 3
        assert bound["82/tcp"][0]["HostIp"] == "127.0.0.1"
        assert {k: v[0]["HostPort"] for k, v in doc["NetworkSettings"]["Ports"].items()} == ports
        assert set(doc["Config"]["ExposedPorts"]) == set(ports)
        assert doc["HostConfig"]["PublishAllPorts"] is False
        status, raw = api.request("GET", "/v1.41/containers/json?all=1")
        listed = next(c for c in json.loads(raw) if c["Names"] == ["/apiports"])
        assert {(p["PrivatePort"], p["PublicPort"]) for p in listed["Ports"]} == {
            (int(k.split("/")[0]), int(v)) for k, v in ports.items()}
        assert api.request("POST", "/v1.41/containers/apiports/start")[0] == 204
        status, raw = api.request("GET", "/v1.41/containers/apiports/json")
        assert {k: v[0]["HostPort"] for k, v in json.loads(raw)["NetworkSettings"]["Ports"].items()} == ports
    finally:
        api.request("DELETE", "/v1.41/containers/apiports?force=1")


# --- network ls --filter dangling, network prune ----------------------------------------------

def test_default_network_is_never_dangling(sp: SealpodRunner) -> None:
    """Podman 4.3.1: `network ls --filter dangling=true` never lists the default network, with or
    without containers on it; values are Go booleans (T, 1, False...); prune keeps the default."""
    sp.run("network", "create", "gapnet1")
    try:
        names = _out(sp, "network", "ls", "--filter", "dangling=true", "--format", "{{.Name}}").split()
        assert "gapnet1" in names and "podman" not in names
        assert "podman" in _out(sp, "network", "ls", "--filter", "dangling=false", "--format", "{{.Name}}").split()
        assert "gapnet1" in _out(sp, "network", "ls", "--filter", "dangling=T", "--format", "{{.Name}}").split()
        assert _out(sp, "network", "ls", "--filter", "dangling=F", "--format", "{{.Name}}").split() == ["podman"]
        assert 'invalid dangling filter value "yes"' in _fails(sp, "network", "ls", "--filter", "dangling=yes")
        sp.run("create", "--name", "dang1", "--network", "gapnet1", IMAGE, "true")
        assert "gapnet1" not in _out(sp, "network", "ls", "--filter", "dangling=1", "--format", "{{.Name}}")
        sp.run("rm", "dang1")
        assert _out(sp, "network", "prune", "-f").split() == ["gapnet1"]
        assert _out(sp, "network", "ls", "--format", "{{.Name}}").split() == ["podman"]
    finally:
        sp.run("network", "rm", "-f", "gapnet1", check=False)


# --- --dns none -----------------------------------------------------------------------------

_RESOLV_MOUNTED = "grep -c ' /etc/resolv.conf ' /proc/self/mountinfo"


def test_dns_none_keeps_the_images_resolv_conf(sp: SealpodRunner) -> None:
    """Podman 4.3.1: --dns none (UseImageResolvConf) bind-mounts no resolv.conf, nor does
    --network none; HostConfig.Dns is [] and ResolvConfPath empty; the conflicts are refused."""
    assert _out(sp, "run", "--rm", IMAGE, "sh", "-c", _RESOLV_MOUNTED) == "1"
    for flags in (("--dns", "none"), ("--network", "none")):
        out = sp.run("run", "--rm", *flags, IMAGE, "sh", "-c", _RESOLV_MOUNTED, check=False)
        assert out.stdout.strip() == "0", (flags, out.stderr)
    sp.run("run", "--name", "dnsnone", "--dns", "none", IMAGE, "true")
    try:
        assert _fmt(sp, "dnsnone", "{{json .HostConfig.Dns}}|{{.ResolvConfPath}}|") == "[]||"
    finally:
        sp.run("rm", "dnsnone")
    assert "conflicting options: dns and the network mode: none" in _fails(
        sp, "run", "--rm", "--dns", "none", "--network", "none", IMAGE, "true")
    assert "none is not allowed to be specified with other DNS ip addresses" in _fails(
        sp, "run", "--rm", "--dns", "1.1.1.1", "--dns", "none", IMAGE, "true")
    assert "bogus is not an ip address" in _fails(sp, "create", "--dns", "bogus", "--dns", "none", IMAGE)
    for flag, key in (("--dns-search", "DNSSearch"), ("--dns-option", "DNSOption")):
        err = _fails(sp, "create", "--dns", "none", flag, "x.example", IMAGE)
        assert f"invalid config provided: UseImageResolvConf and {key} are mutually exclusive options" in err


def test_containers_conf_dns_comes_before_the_flags(sp: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 writes containers.conf's dns_servers/searches/options and then the flags' (a
    "none" in the file is written as it is); --dns none still leaves the image's file."""
    conf = tmp_path / "containers.conf"
    conf.write_text(DISTRIBUTION_CONTAINERS_CONF + 'dns_servers = ["none", "1.1.1.1"]\n'
                    'dns_searches = ["a.example"]\ndns_options = ["ndots:2"]\n')
    saved = sp.env["CONTAINERS_CONF"]
    sp.env["CONTAINERS_CONF"] = str(conf)
    try:
        resolv = _out(sp, "run", "--rm", "--dns", "8.8.8.8", "--dns-search", "b.example", "--dns-option", "rotate",
                      IMAGE, "cat", "/etc/resolv.conf")
        assert resolv.splitlines() == ["search a.example b.example", "nameserver none", "nameserver 1.1.1.1",
                                       "nameserver 8.8.8.8", "options ndots:2 rotate"]
        assert _out(sp, "run", "--rm", "--dns", "none", IMAGE, "sh", "-c", _RESOLV_MOUNTED + " || true") == "0"
    finally:
        sp.env["CONTAINERS_CONF"] = saved


def test_pod_dns_none(sp: SealpodRunner) -> None:
    """Podman 4.3.1: `pod create --dns none` leaves the members the image's resolv.conf; pod inspect
    shows no DNS server and NoManageResolvConf true."""
    sp.run("pod", "create", "--name", "dnspod", "--dns", "none")
    try:
        out = sp.run("run", "--rm", "--pod", "dnspod", IMAGE, "sh", "-c", _RESOLV_MOUNTED, check=False)
        assert out.stdout.strip() == "0", out.stderr
        template = "{{json .InfraConfig.DNSServer}} {{.InfraConfig.NoManageResolvConf}}"
        assert _out(sp, "pod", "inspect", "--format", template, "dnspod") == "null true"
    finally:
        sp.run("pod", "rm", "-f", "-t", "0", "dnspod")


# --- published ports held by conmon ---------------------------------------------------------

def _conmon_fds_listening_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a socket bound to ``port`` (from /proc: no ss needed)."""
    inodes = set()
    for table in ("tcp", "udp"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    fd_dir = Path(f"/proc/{pid}/fd")
    return any(str(fd.readlink()) == f"socket:[{inode}]" for fd in fd_dir.iterdir() for inode in inodes)


def test_published_ports_are_held_by_conmon_while_the_container_runs(sp: SealpodRunner) -> None:
    """Podman 4.3.1 (rootful bridge) binds each published port and hands it to conmon: `ss` names conmon,
    a host program cannot take the port while the container runs, the container itself never sees the
    socket, and the port is free again once the container stops."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        tcp = probe.getsockname()[1]
    sp.run("run", "-d", "--name", "held", "-p", f"{tcp}:80", "-p", f"127.0.0.1:{tcp}:81/udp", IMAGE, "sleep", "600")
    try:
        conmon = int(_fmt(sp, "held", "{{.State.ConmonPid}}"))
        assert _conmon_fds_listening_on(conmon, tcp)
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as s, pytest.raises(OSError, match="Address already in use"):
                s.bind(("127.0.0.1" if kind == socket.SOCK_DGRAM else "0.0.0.0", tcp))
        assert "socket:" not in _out(sp, "exec", "held", "ls", "-l", "/proc/1/fd")
        sp.run("restart", "-t", "0", "held")  # a new conmon takes the ports over
        assert _conmon_fds_listening_on(int(_fmt(sp, "held", "{{.State.ConmonPid}}")), tcp)
        sp.run("stop", "-t", "0", "held")
        with socket.socket() as s:
            s.bind(("0.0.0.0", tcp))  # free again
    finally:
        sp.run("rm", "-f", "-t", "0", "held")


def test_a_port_a_host_program_listens_on_cannot_be_published(sp: SealpodRunner) -> None:
    """Podman 4.3.1: exit 126 and its message; the container is left created, as Podman leaves it."""
    import socket

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = _fails(sp, "run", "-d", "--name", "blocked", "-p", f"{port}:80", IMAGE, "sleep", "600", code=126)
    assert err == (f"Error: cannot listen on the TCP port: listen tcp4 :{port}: bind: address already in use\n")
    assert _fmt(sp, "blocked", "{{.State.Status}}") == "created"
    sp.run("rm", "-f", "blocked")
