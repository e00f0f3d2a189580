"""Small gaps against Podman 4.3.1 (netavark): macvlan/ipvlan network create, the Docker API's
NetworkSettings of a container in another's network namespace, the pod infra container's
config.json, and NeedsChown of implicitly created volumes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.sealpod import SealpodRunner

IMAGE = "sealtest/tiny"


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    out = ctr.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr


def _post(api: ApiService, target: str, doc: dict[str, object]) -> tuple[int, dict[str, object]]:
    status, body = api.request("POST", target, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    return status, json.loads(body or b"{}")


def _get(api: ApiService, target: str) -> dict[str, object]:
    status, body = api.request("GET", target)
    assert status == 200, body
    doc = json.loads(body)
    assert isinstance(doc, dict)
    return doc


# --- 1. network create -d macvlan / ipvlan ----------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    ((), "Error: macvlan driver needs at least one subnet specified, DHCP is not yet supported with netavark"),
    (("--ipv6",), "Error: macvlan driver needs at least one subnet specified, DHCP is not yet supported with netavark"),
    (("-o", "parent=nosuchif0", "--subnet", "10.91.2.0/24"), "Error: parent interface nosuchif0 does not exist"),
    (("--subnet", "10.91.2.0/24", "-o", "mode=foo"), 'Error: unknown macvlan mode "foo"'),
    (("--subnet", "10.91.2.0/24", "-o", "vlan=3"), "Error: unsupported macvlan network option vlan"),
    (("--subnet", "10.91.2.0/24", "-o", "mtu=abc"), 'Error: strconv.Atoi: parsing "abc": invalid syntax'),
])
def test_macvlan_create_refusals(api: ApiService, args: tuple[str, ...], message: str) -> None:
    """Podman 4.3.1 with netavark: a macvlan network needs a subnet (no DHCP yet), an existing parent,
    a known mode; each refusal exits 125 with its message and creates nothing."""
    ctr = api.runner
    assert _fails(ctr, "network", "create", "-d", "macvlan", *args, "mvbad").strip() == message
    assert ctr.run("network", "exists", "mvbad", check=False).returncode == 1


def test_ipvlan_is_unsupported(api: ApiService) -> None:
    """Podman 4.3.1 with netavark has no ipvlan driver: "unsupported driver ipvlan: invalid argument"."""
    ctr = api.runner
    assert _fails(ctr, "network", "create", "-d", "ipvlan", "--subnet", "10.91.3.0/24", "ivbad").strip() == \
        "Error: unsupported driver ipvlan: invalid argument"
    status, doc = _post(api, "/v1.41/networks/create", {"Name": "ivbad2", "Driver": "ipvlan"})
    assert status >= 400 and "unsupported driver ipvlan" in str(doc.get("message")), doc
    status, doc = _post(api, "/v4.0.0/libpod/networks/create", {"name": "ivbad3", "driver": "ipvlan"})
    assert status >= 400 and "unsupported driver ipvlan" in str(doc.get("message")), doc


def test_macvlan_with_subnet(api: ApiService) -> None:
    """Podman: a subnet is enough (no parent: netavark's default-route interface); DNS stays on as
    on a bridge, --ipv6 is kept as asked, subnets are not checked against other networks'."""
    ctr = api.runner
    ctr.run("network", "create", "-d", "macvlan", "--subnet", "10.88.0.0/24", "--ipv6", "-o", "mode=passthru",
            "mvok")
    try:
        doc = json.loads(ctr.run("network", "inspect", "mvok").stdout)[0]
        assert doc["driver"] == "macvlan" and "network_interface" not in doc
        assert doc["dns_enabled"] is True and doc["ipv6_enabled"] is True
        assert doc["subnets"] == [{"subnet": "10.88.0.0/24", "gateway": "10.88.0.1"}]
        assert doc["options"] == {"mode": "passthru"} and doc["ipam_options"] == {"driver": "host-local"}
    finally:
        ctr.run("network", "rm", "mvok", check=False)


def test_macvlan_api_create(api: ApiService) -> None:
    """Both APIs refuse a macvlan network without a subnet as the CLI does; Podman's compat API
    turns DNS on for bridges only."""
    status, doc = _post(api, "/v1.41/networks/create", {"Name": "mvapi1", "Driver": "macvlan"})
    assert status >= 400 and "needs at least one subnet" in str(doc.get("message")), doc
    status, doc = _post(api, "/v4.0.0/libpod/networks/create", {"name": "mvapi2", "driver": "macvlan"})
    assert status >= 400 and "needs at least one subnet" in str(doc.get("message")), doc
    status, doc = _post(api, "/v1.41/networks/create", {
        "Name": "mvapi3", "Driver": "macvlan", "IPAM": {"Config": [{"Subnet": "10.91.4.0/24"}]}})
    assert status == 201, doc
    try:
        net = _get(api, "/v4.0.0/libpod/networks/mvapi3/json")
        assert net["driver"] == "macvlan" and net["dns_enabled"] is False
    finally:
        api.runner.run("network", "rm", "mvapi3", check=False)


# --- 2. the Docker API's NetworkSettings of a pod member ---------------------------------------

def test_docker_inspect_pod_member_shows_infra_network(api: ApiService) -> None:
    """Podman's compat API converts its own inspect: a pod member shows the infra container's
    networks (its aliases) and the pod's ports, with addresses while it runs and none once stopped."""
    ctr = api.runner
    ctr.run("pod", "create", "--name", "sgpod", "-p", "18741:80")
    try:
        ctr.run("run", "-d", "--pod", "sgpod", "--name", "sgmember", IMAGE, "sleep", "1000")
        infra = ctr.run("pod", "inspect", "sgpod", "--format", "{{.InfraContainerID}}").stdout.strip()
        ns = _get(api, "/v1.41/containers/sgmember/json")["NetworkSettings"]
        assert isinstance(ns, dict)
        nets = ns["Networks"]
        assert list(nets) == ["podman"] and nets["podman"]["Aliases"] == [infra[:12]], nets
        assert nets["podman"]["IPAddress"] and ns["IPAddress"] == nets["podman"]["IPAddress"]
        infra_ns = _get(api, f"/v1.41/containers/{infra}/json")["NetworkSettings"]
        assert isinstance(infra_ns, dict)
        assert ns["SandboxKey"] == infra_ns["SandboxKey"] and ns["Ports"] == infra_ns["Ports"]
        assert ns["Ports"]["80/tcp"][0]["HostPort"] == "18741"
        ctr.run("stop", "-t", "0", "sgmember")
        ns = _get(api, "/v1.41/containers/sgmember/json")["NetworkSettings"]
        assert isinstance(ns, dict)
        assert ns["Networks"]["podman"]["Aliases"] == [infra[:12]] and ns["Networks"]["podman"]["IPAddress"] == ""
        assert ns["Ports"] == {"80/tcp": [{"HostIp": "", "HostPort": "18741"}]} and ns["SandboxKey"] == ""
        cli = json.loads(ctr.run("inspect", "sgmember", "--format", "{{json .NetworkSettings.Networks}}").stdout)
        assert cli["podman"]["Aliases"] == [infra[:12]]  # the CLI too, stopped
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "sgpod", check=False)


def test_docker_inspect_stopped_ports_any_address(api: ApiService) -> None:
    """Podman's compat API: a created container's published ports with no address show HostIp ""."""
    ctr = api.runner
    ctr.run("create", "--name", "sgports", "-p", "18742:80", "-p", "127.0.0.1:18743:81", IMAGE, "true")
    try:
        ns = _get(api, "/v1.41/containers/sgports/json")["NetworkSettings"]
        assert isinstance(ns, dict)
        assert ns["Ports"] == {"80/tcp": [{"HostIp": "", "HostPort": "18742"}],
                               "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18743"}]}
    finally:
        ctr.run("rm", "-f", "sgports", check=False)


# --- 3. the infra container's config.json -------------------------------------------------------

def test_infra_spec_has_no_pids_limit_or_groups(api: ApiService) -> None:
    """Podman's infra container gets no pids limit (containers.conf's applies to `create`'s
    containers only) and no additional groups; its HostConfig.PidsLimit is 0. Members keep theirs."""
    ctr = api.runner
    ctr.run("pod", "create", "--name", "sginfra")
    try:
        ctr.run("pod", "start", "sginfra")
        ctr.run("create", "--pod", "sginfra", "--name", "sginframember", IMAGE, "sleep", "100")
        infra = ctr.run("pod", "inspect", "sginfra", "--format", "{{.InfraContainerID}}").stdout.strip()
        root = Path(ctr.run("info", "--format", "{{.Store.GraphRoot}}").stdout.strip())
        spec = json.loads((root / "overlay-containers" / infra / "userdata" / "config.json").read_text())
        assert "pids" not in spec["linux"].get("resources", {})
        assert "additionalGids" not in spec["process"]["user"]
        assert ctr.run("inspect", infra, "--format", "{{.HostConfig.PidsLimit}}").stdout.strip() == "0"
        assert ctr.run("inspect", "sginframember", "--format", "{{.HostConfig.PidsLimit}}").stdout.strip() == "2048"
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "sginfra", check=False)


# --- 4. NeedsChown ------------------------------------------------------------------------------

def test_needs_chown_until_first_use(api: ApiService) -> None:
    """Podman 4.3.1: NeedsChown is true for a volume from `volume create` and for one `create -v`
    makes alike, until a container first mounts it; `-o uid=` volumes never show it."""
    ctr = api.runner
    ctr.run("volume", "create", "sgv1")
    ctr.run("volume", "create", "--opt", "o=uid=5", "sgv3")
    ctr.run("create", "--name", "sgvc", "-v", "sgv2:/data", IMAGE, "true")
    try:
        fmt = "{{.NeedsChown}}"
        assert ctr.run("volume", "inspect", "sgv1", "sgv2", "sgv3", "--format", fmt).stdout.split() == \
            ["true", "true", "false"]
        ctr.run("start", "-a", "sgvc")
        ctr.run("run", "--rm", "-v", "sgv1:/data", IMAGE, "true")
        assert ctr.run("volume", "inspect", "sgv1", "sgv2", "--format", fmt).stdout.split() == ["false", "false"]
    finally:
        ctr.run("rm", "-f", "sgvc", check=False)
        ctr.run("volume", "rm", "-f", "sgv1", "sgv2", "sgv3", check=False)
