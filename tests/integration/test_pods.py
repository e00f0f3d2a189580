"""Pods end to end: an infra container (catatonit from a locally built pause image) holding the
namespaces, members that reach each other on localhost, pod-level ports, lifecycle and reports.

Each xdist worker gets its own default network (name, bridge, subnet) and host ports, so pods
of parallel tests never share a bridge.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.http import http_get
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

IMAGE = "sealtest/tiny"
HTTPD = ("sh", "-c", "mkdir -p /www && echo pod-hello > /www/index.html && exec busybox httpd -f -p 8080 -h /www")
FETCH = "echo -e 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080"


def _worker() -> int:
    text = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return int(text) if text.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    require_root()
    runner = SealpodRunner(tmp_path_factory.mktemp("pods"), search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    w = _worker() % 50
    # networks this store creates (compose's) get subnets of their own: other tests' stores, running at the
    # same time, pick theirs from the default 10.89 pool and could take the same one and bridge
    runner.containers_conf.write_text(f'[network]\ndefault_network = "sppod{w}"\n'
                                      f'default_subnet = "10.124.{w}.0/24"\ndefault_bridge = "sppod{w}b"\n'
                                      f'default_subnet_pools = [{{"base" = "10.{150 + w}.0.0/16", "size" = 24}}]\n')
    runner.run("pull", "-q", IMAGE)
    yield runner
    runner.run("pod", "rm", "-af", "-t", "0", check=False)
    runner.run("rm", "-af", "-t", "0", check=False)
    runner.run("network", "rm", "-f", f"sppod{w}", check=False)


@pytest.fixture
def sp(store: SealpodRunner) -> Iterator[SealpodRunner]:
    yield store
    store.run("pod", "rm", "-af", "-t", "0", check=False)
    store.run("rm", "-af", "-t", "0", check=False)


def _fetch_from_member(sp: SealpodRunner, pod: str) -> str:
    """A second member asks the first one's httpd on localhost (retrying while it starts)."""
    out = ""
    for _ in range(50):
        out = sp.run("run", "--rm", "--pod", pod, IMAGE, "sh", "-c", FETCH, check=False).stdout
        if "pod-hello" in out:
            return out
        time.sleep(0.1)
    return out


def test_members_share_localhost_and_pod_port_reaches_host(sp: SealpodRunner) -> None:
    port = _free_port()
    pod_id = sp.run("pod", "create", "--name", "web", "-p", f"{port}:8080", "--label", "tier=front").stdout.strip()
    assert len(pod_id) == 64
    assert sp.run("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}").stdout == \
        "web Created 1\n"
    sp.run("run", "-d", "--name", "httpd", "--pod", "web", IMAGE, *HTTPD)
    assert "pod-hello" in _fetch_from_member(sp, "web")
    assert b"pod-hello" in http_get(port)
    # uts is shared: every member (and the infra) carries the pod's name as hostname
    assert sp.run("run", "--rm", "--pod", "web", IMAGE, "hostname").stdout.strip() == "web"
    assert sp.run("exec", "httpd", "hostname").stdout.strip() == "web"
    # ipc is shared: a member sees the infra container's IPC namespace
    infra = sp.run("pod", "inspect", "web", "--format", "{{.InfraContainerID}}").stdout.strip()
    infra_pid = json.loads(sp.run("inspect", infra).stdout)[0]["State"]["Pid"]
    httpd_pid = json.loads(sp.run("inspect", "httpd").stdout)[0]["State"]["Pid"]
    for ns in ("ipc", "net", "uts"):
        assert os.readlink(f"/proc/{infra_pid}/ns/{ns}") == os.readlink(f"/proc/{httpd_pid}/ns/{ns}")
    assert os.readlink(f"/proc/{infra_pid}/ns/pid") != os.readlink(f"/proc/{httpd_pid}/ns/pid")
    ps = sp.run("ps", "-a", "--pod", "--format", "{{.Names}} {{.PodName}} {{.Pod}}").stdout.splitlines()
    assert sorted(ps) == sorted([f"httpd web {pod_id[:12]}", f"{pod_id[:12]}-infra web {pod_id[:12]}"])
    assert sp.run("ps", "-a", "--filter", "pod=web", "-q").stdout.split() != []
    assert sp.run("ps", "-a", "--filter", "pod=nosuchpod", "-q").stdout == ""


def test_stop_start_rm_semantics(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "life")
    sp.run("run", "-d", "--name", "m1", "--pod", "life", IMAGE, "sleep", "600")
    assert sp.run("pod", "ps", "--format", "{{.Status}}").stdout == "Running\n"
    busy = sp.run("pod", "rm", "life", check=False)
    assert busy.returncode != 0 and "cannot remove" in busy.stderr and "Traceback" not in busy.stderr
    infra = sp.run("pod", "inspect", "life", "--format", "{{.InfraContainerID}}").stdout.strip()
    refused = sp.run("rm", "-f", infra, check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    sp.run("pod", "stop", "-t", "1", "life")
    states = sp.run("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.split("\n")
    assert all(line.endswith("exited") for line in states if line), states
    assert sp.run("pod", "ps", "--format", "{{.Status}}").stdout == "Exited\n"
    sp.run("pod", "start", "life")
    assert sp.run("pod", "ps", "--format", "{{.Status}} {{.ContainerStatuses}}").stdout == \
        "Running running,running\n"
    sp.run("pod", "pause", "life")
    assert sp.run("pod", "ps", "--format", "{{.Status}}").stdout == "Paused\n"
    sp.run("pod", "unpause", "life")
    top = sp.run("pod", "top", "life").stdout
    assert "sleep 600" in top and "catatonit" in top
    sp.run("pod", "kill", "life")
    assert sp.run("pod", "ps", "--format", "{{.Status}}").stdout == "Exited\n"
    sp.run("pod", "create", "--name", "fresh")
    life_id = sp.run("pod", "inspect", "life", "--format", "{{.Id}}").stdout.strip()
    assert sp.run("pod", "prune", "-f").stdout.split() == [life_id]
    assert sp.run("pod", "ps", "--format", "{{.Name}}").stdout == "fresh\n"  # a created pod is no prune's
    sp.run("pod", "start", "fresh")
    assert sp.run("pod", "rm", "fresh", check=False).returncode == 0  # a running infra alone: Podman 4.3 removes
    sp.run("pod", "rm", "-f", "-t", "0", "fresh")
    assert sp.run("pod", "ps", "-q").stdout == ""
    assert sp.run("ps", "-aq").stdout == ""
    assert sp.run("pod", "exists", "life", check=False).returncode == 1


def test_starting_a_member_starts_the_infra(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "lazy")
    sp.run("create", "--name", "later", "--pod", "lazy", IMAGE, "sleep", "600")
    assert sp.run("pod", "ps", "--format", "{{.Status}}").stdout == "Created\n"
    sp.run("start", "later")
    assert sp.run("pod", "ps", "--format", "{{.Status}} {{.ContainerStatuses}}").stdout == \
        "Running running,running\n"
    # rm -a takes the pod with its infra container, as Podman's does
    sp.run("rm", "-af", "-t", "0")
    assert sp.run("pod", "ps", "-q").stdout == "" and sp.run("ps", "-aq").stdout == ""


def test_pod_volume_hosts_dns_and_shared_pid(sp: SealpodRunner, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("shared-file\n")
    sp.run("pod", "create", "--name", "feat", "--share", "pid,net,ipc,uts", "-v", f"{tmp_path}:/pv:ro",
           "--add-host", "foo:1.2.3.4", "--dns", "9.9.9.9")  # --dns with --network none: Podman refuses both
    out = sp.run("run", "--rm", "--pod", "feat", IMAGE, "sh", "-c",
                 "cat /pv/f; grep foo /etc/hosts; grep nameserver /etc/resolv.conf; ps -o pid,args").stdout
    lines = out.splitlines()
    assert lines[:3] == ["shared-file", "1.2.3.4\tfoo", "nameserver 9.9.9.9"]
    assert any(ln.split()[:2] == ["1", "/catatonit"] for ln in lines[3:]), out  # the infra is PID 1
    assert sp.run("pod", "inspect", "feat", "--format", "{{.SharedNamespaces}}").stdout == "[ipc net pid uts]\n"


def test_pod_logs_and_stats(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "chatty", "--network", "none")
    sp.run("run", "--name", "say-a", "--pod", "chatty", IMAGE, "echo", "hello-a")
    sp.run("run", "-d", "--name", "say-b", "--pod", "chatty", IMAGE, "sh", "-c", "echo hello-b; exec sleep 600")
    deadline = time.monotonic() + 10
    while "hello-b" not in sp.run("pod", "logs", "chatty").stdout and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = sp.run("pod", "logs", "chatty").stdout.splitlines()
    assert sorted(ln.split(" ", 1)[1] for ln in lines) == ["hello-a", "hello-b"]  # prefixed by container ID
    assert sp.run("pod", "logs", "-c", "say-b", "chatty").stdout == "hello-b\n"
    stats = sp.run("pod", "stats", "--no-stream", "chatty").stdout
    assert "say-b" in stats and "chatty-infra" not in stats and "-infra" in stats


def test_exit_policy_stop(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "brief", "--exit-policy", "stop")
    sp.run("pod", "create", "--name", "lasting")
    for pod in ("brief", "lasting"):
        sp.run("run", "--pod", pod, IMAGE, "true")
    status = sp.run("pod", "ps", "--sort", "name", "--format", "{{.Name}} {{.Status}}").stdout
    assert status == "brief Exited\nlasting Degraded\n"
    assert json.loads(sp.run("pod", "inspect", "brief").stdout)["ExitPolicy"] == "stop"


def test_exit_policy_stop_waits_for_members_not_started_yet(sp: SealpodRunner) -> None:
    """Only exited members count as done (Podman's rule): a created member keeps the pod up."""
    sp.run("pod", "create", "--name", "pending", "--exit-policy", "stop")
    sp.run("create", "--pod", "pending", "--name", "later", IMAGE, "sleep", "600")
    sp.run("run", "--pod", "pending", IMAGE, "true")  # starts the infra; ends at once
    assert sp.run("pod", "ps", "--filter", "name=pending", "--format", "{{.Status}}").stdout == "Degraded\n"
    sp.run("start", "later")  # the infra's namespaces are still there to join


def test_no_infra_pod_and_new_pod_flag(sp: SealpodRunner, tmp_path: Path) -> None:
    id_file = tmp_path / "pod.id"
    pod_id = sp.run("pod", "create", "--infra=false", "--name", "bare", "--pod-id-file", str(id_file)).stdout.strip()
    assert id_file.read_text() == pod_id
    doc = json.loads(sp.run("pod", "inspect", "bare").stdout)
    assert doc["CreateInfra"] is False and doc["NumContainers"] == 0 and "InfraContainerID" not in doc
    sp.run("run", "-d", "--name", "solo", "--pod-id-file", str(id_file), IMAGE, "sleep", "600")
    assert sp.run("pod", "ps", "--format", "{{.Name}} {{.InfraID}}|{{.ContainerNames}}").stdout == "bare |solo\n"
    # --pod new:NAME makes the pod, with the container's hostname its name
    assert sp.run("run", "--rm", "--pod", "new:fresh", IMAGE, "hostname").stdout.strip() == "fresh"
    names = sp.run("pod", "ps", "--sort", "name", "--format", "{{.Name}}").stdout.split()
    assert names == ["bare", "fresh"]


def test_pod_ps_formats_and_filters(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "alpha", "--label", "team=a")
    sp.run("pod", "create", "--name", "beta", "--label", "team=b")
    sp.run("run", "-d", "--name", "beta-one", "--pod", "beta", IMAGE, "sleep", "600")
    lines = sp.run("pod", "ps").stdout.splitlines()
    assert lines[0].split() == ["POD", "ID", "NAME", "STATUS", "CREATED", "INFRA", "ID", "#", "OF", "CONTAINERS"]
    assert [ln.split()[1] for ln in lines[1:]] == ["beta", "alpha"]  # newest first
    header = sp.run("pod", "ps", "--ctr-names", "--ctr-status", "--ctr-ids").stdout.splitlines()[0]
    assert header.split()[-3:] == ["IDS", "NAMES", "STATUS"]
    assert sp.run("pod", "ps", "--filter", "label=team=a", "--format", "{{.Name}}").stdout == "alpha\n"
    assert sp.run("pod", "ps", "--filter", "status=running", "--format", "{{.Name}}").stdout == "beta\n"
    assert sp.run("pod", "ps", "--filter", "ctr-names=beta-one", "--format", "{{.Name}}").stdout == "beta\n"
    assert sp.run("pod", "ps", "--filter", "ctr-status=created", "--format", "{{.Name}}").stdout == "alpha\n"
    assert sp.run("pod", "ps", "--filter", "name=alp", "-q").stdout.strip() == \
        sp.run("pod", "inspect", "alpha", "--format", "{{.Id}}").stdout.strip()  # Podman 4.3: whole IDs
    assert len(sp.run("pod", "ps", "-q", "--no-trunc").stdout.split()[0]) == 64
    net = sp.run("pod", "ps", "--filter", "name=alpha", "--format", "{{.Networks}}").stdout.strip()
    assert net.startswith("sppod")
    rows = json.loads(sp.run("pod", "ps", "--format", "json").stdout)
    beta = next(r for r in rows if r["Name"] == "beta")
    assert beta["Status"] == "Running" and beta["Labels"] == {"team": "b"}
    assert {c["Names"] for c in beta["Containers"]} == {"beta-one", f"{beta['Id'][:12]}-infra"}
    bad = sp.run("pod", "ps", "--filter", "status=bogus", check=False)
    assert bad.returncode == 125 and "bogus is not a valid pod status" in bad.stderr


def test_pod_inspect_document(sp: SealpodRunner) -> None:
    port = _free_port()
    sp.run("pod", "create", "--name", "insp", "--hostname", "hh", "-p", f"{port}:80", "--label", "x=y")
    doc = json.loads(sp.run("pod", "inspect", "insp").stdout)
    assert doc["Name"] == "insp" and doc["Hostname"] == "hh" and doc["Labels"] == {"x": "y"}
    assert doc["State"] == "Created" and doc["CreateInfra"] is True
    assert doc["SharedNamespaces"] == ["ipc", "net", "uts"]
    assert doc["InfraConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": str(port)}]}
    assert doc["Containers"] == [{"Id": doc["InfraContainerID"], "Name": f"{doc['Id'][:12]}-infra",
                                  "State": "created"}]
    assert sp.run("run", "--rm", "--pod", "insp", IMAGE, "hostname").stdout.strip() == "hh"
    assert sp.run("pod", "exists", "insp").returncode == 0


def test_errors_are_podmans(sp: SealpodRunner) -> None:
    missing = sp.run("pod", "inspect", "nosuch", check=False)
    assert missing.returncode == 125 and "no such pod" in missing.stderr
    rm = sp.run("pod", "rm", "nosuch", check=False)
    assert rm.returncode == 1 and "no pod with name or ID nosuch found: no such pod" in rm.stderr
    run = sp.run("run", "--rm", "--pod", "nosuch", IMAGE, "true", check=False)
    assert run.returncode == 125 and "no such pod" in run.stderr
    userns = sp.run("pod", "create", "--userns", "keep-id", "--name", "un", check=False)
    assert userns.returncode == 125 and "Traceback" not in userns.stderr  # keep-id: rootless only
    assert sp.run("pod", "exists", "un", check=False).returncode == 1
    sp.run("pod", "create", "--name", "ports")
    own = sp.run("run", "-d", "--pod", "ports", "-p", "8081:80", IMAGE, "true", check=False)
    assert own.returncode == 125
    assert own.stderr.strip() == ("Error: invalid config provided: published or exposed ports must be defined when "
                                  "the pod is created: network cannot be configured when it is shared with a pod")
    dup = sp.run("pod", "create", "--name", "ports", check=False)
    assert dup.returncode == 125 and "already exists" in dup.stderr
    share = sp.run("pod", "create", "--share", "bogus", check=False)
    assert share.returncode == 125 and "Traceback" not in share.stderr
    assert sp.run("ps", "-aq", "--filter", "pod=ports").stdout.count("\n") == 1  # only the infra


COMPOSE = """
services:
  web:
    image: {image}
    command: ["sh", "-c", "mkdir -p /www && echo compose-pod-ok > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["{port}:80"]
  client:
    image: {image}
    command: ["sh", "-c", "sleep 1000"]
    depends_on: [web]
"""


def test_podman_compose_default_pod_mode(tmp_path: Path, store: SealpodRunner,
                                         seeded_registry: RegistryServer) -> None:
    """podman-compose without --in-pod: a pod (no infra, nothing shared) holds the project."""
    image = f"{seeded_registry.host}/sealtest/tiny:latest"
    store.run("pull", "-q", image)
    wrapper = tmp_path / "sealpod"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(store.argv())} \"$@\"\n")
    wrapper.chmod(0o755)
    port = _free_port()
    project = tmp_path / f"podproj{os.getpid()}"
    project.mkdir()
    (project / "compose.yml").write_text(COMPOSE.format(image=image, port=port))
    compose = [sys.executable, "-m", "podman_compose", "--podman-path", str(wrapper)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=project, env=store.env, capture_output=True, text=True,
                              timeout=120)

    try:
        up = run("up", "-d")
        assert up.returncode == 0, up.stderr
        pods = store.run("pod", "ps", "--format", "{{.Name}} {{.ContainerNames}}").stdout.split()
        assert pods[0] == f"pod_{project.name}"
        assert sorted(pods[1].split(",")) == [f"{project.name}_client_1", f"{project.name}_web_1"]
        assert b"compose-pod-ok" in http_get(port)
        out = run("exec", "client", "sh", "-c", "echo -e 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 80")
        assert "compose-pod-ok" in out.stdout, out.stderr
    finally:
        down = run("down")
    assert down.returncode == 0, down.stderr
    assert store.run("pod", "ps", "-q").stdout == ""
    assert store.run("ps", "-aq").stdout == ""
