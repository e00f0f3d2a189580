"""Conformance with Podman's own system tests for pods, networking and kube (test/system/200-pod,
500-networking, 700-play, 710-kube), as Podman 4.3.1 behaves, against real conmon, runc and netavark.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from tests.rig.registry import RegistryServer, free_port
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-podnet"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


def _image_ref(ctr: SealpodRunner) -> str:
    return ctr.run("image", "inspect", "--format", "{{index .RepoTags 0}}", IMAGE).stdout.strip()


# --- 500-networking.bats ----------------------------------------------------------------

def test_run_passes_host_proxy_variables_unless_http_proxy_false(ctr: SealpodRunner) -> None:
    """500-networking 'port on localhost': run takes --http-proxy; by default the host's proxy variables go in."""
    saved = ctr.env
    ctr.env = {**saved, "http_proxy": "http://proxy.example:3128", "NO_PROXY": "localhost"}
    try:
        out = ctr.run("run", "--rm", IMAGE, "sh", "-c", 'echo "$http_proxy|$NO_PROXY"')
        assert out.stdout == "http://proxy.example:3128|localhost\n"
        out = ctr.run("run", "--rm", "--http-proxy=false", IMAGE, "sh", "-c", 'echo "[$http_proxy]"')
        assert out.stdout == "[]\n"
    finally:
        ctr.env = saved


def test_dns_opt_is_an_alias_of_dns_option(ctr: SealpodRunner) -> None:
    """500-networking 'network rm --dns-option': run --dns-opt=X writes options X into resolv.conf."""
    out = ctr.run("run", "--rm", "--dns-opt=ndots:3", IMAGE, "cat", "/etc/resolv.conf")
    assert "options ndots:3" in out.stdout


def test_network_rm_force_of_a_missing_network_is_quiet_success(ctr: SealpodRunner) -> None:
    """500-networking 'network rm --force bogus': exit 0, no output; without --force exit 1."""
    assert ctr.run("network", "rm", "bogus", check=False).returncode == 1
    out = ctr.run("network", "rm", "--force", "bogus", check=False)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_pod_members_share_the_infra_hosts_file(ctr: SealpodRunner) -> None:
    """500-networking 'pod manages /etc/hosts': the pod's name and infra name on its address; each member
    as 127.0.0.1 while it exists, gone again once it exited."""
    ctr.run("pod", "create", "--name", "hostpod", "--infra-name", "hostinfra")
    try:
        first = ctr.run("run", "--pod", "hostpod", "--name", "member1", IMAGE, "cat", "/etc/hosts").stdout
        lines = first.splitlines()
        assert any(line.split()[1:] == ["hostpod", "hostinfra"] for line in lines if line.strip())
        assert "127.0.0.1\tmember1" in lines
        second = ctr.run("run", "--pod", "hostpod", "--name", "member2", IMAGE, "cat", "/etc/hosts").stdout
        assert "127.0.0.1\tmember2" in second.splitlines() and "member1" not in second
        assert len(second.splitlines()) == len(lines)
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "hostpod")


def test_published_port_in_time_wait_is_free(ctr: SealpodRunner) -> None:
    """500-networking 'network after restart': a host port whose last connection (of a server that,
    as slirp4netns's forwarder, reuses addresses) is in TIME-WAIT can be published again."""
    port = free_port()
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen(1)
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server.accept()
        conn.close()  # the server side closes first: its end stays in TIME-WAIT on the port
        client.close()
    ctr.run("run", "-d", "--name", "timewait", "-p", f"{port}:80", IMAGE, "sleep", "100")
    ctr.run("rm", "-f", "-t", "0", "timewait")


# --- 700-play.bats ----------------------------------------------------------------------

def _pod_yaml(ctr: SealpodRunner, name: str, ports: str = "") -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n"
            f"  - name: main\n    image: {_image_ref(ctr)}\n    command: [sleep, '100']\n"
            f"    securityContext:\n      fsGroup: 2000\n{ports}")


def test_kube_play_network_host_and_no_field_warnings(ctr: SealpodRunner, tmp_path: Path) -> None:
    """700-play 'kube --network': --network host is allowed and makes a host-network pod; play's output
    starts with Pod: (fields it ignores are not warned about, as in Podman)."""
    path = tmp_path / "host.yaml"
    path.write_text(_pod_yaml(ctr, "hostnetpod"))
    out = ctr.run("kube", "play", "--network", "host", str(path))
    try:
        assert out.stderr == "" and out.stdout.startswith("Pod:\n")
        fmt = "{{.InfraConfig.HostNetwork}}"
        assert ctr.run("pod", "inspect", "--format", fmt, "hostnetpod").stdout.strip() == "true"
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "hostnetpod")


def test_kube_play_from_a_url(ctr: SealpodRunner, tmp_path: Path) -> None:
    """700-play 'kube play - URL': play and down read the YAML from an http:// URL."""
    (tmp_path / "pod.yaml").write_text(_pod_yaml(ctr, "urlpod"))

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/pod.yaml"
    try:
        ctr.run("kube", "play", url)
        assert ctr.run("inspect", "--format", "{{.State.Running}}", "urlpod-main").stdout.strip() == "true"
        ctr.run("kube", "down", url)
        assert ctr.run("pod", "exists", "urlpod", check=False).returncode == 1
        missing = ctr.run("kube", "play", url.replace("pod.yaml", "nope.yaml"), check=False)
        assert missing.returncode == 125 and "404" in missing.stderr and "Traceback" not in missing.stderr
    finally:
        server.shutdown()
        ctr.run("pod", "rm", "-f", "-t", "0", "--ignore", "urlpod")


def test_kube_play_container_port_without_host_port_is_published(ctr: SealpodRunner, tmp_path: Path) -> None:
    """700-play 'kube play - hostport': a containerPort alone is published on the same host port; pod
    inspect's template prints the binding as Go's struct."""
    port = free_port()
    path = tmp_path / "ports.yaml"
    path.write_text(_pod_yaml(ctr, "portpod", f"    ports:\n    - name: hostp\n      containerPort: {port}\n"))
    ctr.run("kube", "play", "--start=false", str(path))
    try:
        out = ctr.run("pod", "inspect", "--format", "{{.InfraConfig.PortBindings}}", "portpod").stdout
        assert out.strip() == f"map[{port}/tcp:[{{ {port}}}]]"
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "portpod")


# --- 710-kube.bats ----------------------------------------------------------------------

def _yaml_doc(text: str) -> dict[str, object]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert len(docs) == 1
    doc: dict[str, object] = docs[0]
    return doc


def test_kube_generate_container_names_as_podman(ctr: SealpodRunner) -> None:
    """710-kube 'kube generate - container': names keep their case and dots (underscores go); no restart
    policy and no status for a lone container."""
    ctr.run("create", "--name", "Gen_Ctr.x", IMAGE, "top")
    try:
        doc = _yaml_doc(ctr.run("kube", "generate", "Gen_Ctr.x").stdout)
        meta, spec = doc["metadata"], doc["spec"]
        assert isinstance(meta, dict) and isinstance(spec, dict)
        assert meta["name"] == meta["labels"]["app"] == "GenCtr.x-pod"
        assert meta["annotations"]["io.kubernetes.cri-o.TTY/GenCtr.x"] == "false"
        assert meta["annotations"]["io.podman.annotations.autoremove/GenCtr.x"] == "FALSE"
        assert spec["containers"][0]["name"] == "GenCtr.x"
        assert "restartPolicy" not in spec and "status" not in doc
    finally:
        ctr.run("rm", "Gen_Ctr.x")


def test_kube_generate_pod_members_sandbox_annotations(ctr: SealpodRunner) -> None:
    """710-kube 'kube generate - pod': members carry cri-o's ContainerType and SandboxID (cut to 63
    characters, with Podman's warning), resources {}, the pod's hostname as given, status {}."""
    ctr.run("pod", "create", "--name", "Gen_Pod", "--publish", f"{free_port()}:8888")
    try:
        ctr.run("create", "--name", "genm1", "--pod", "Gen_Pod", IMAGE, "top")
        fmt = "{{json .Config.Annotations}}"
        ann = json.loads(ctr.run("inspect", "--format", fmt, "genm1").stdout)
        assert ann["io.kubernetes.cri-o.ContainerType"] == "container"
        infra_id = ctr.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "Gen_Pod").stdout.strip()
        assert ann["io.kubernetes.cri-o.SandboxID"] == infra_id  # Podman's sandbox: the infra container
        out = ctr.run("kube", "generate", "Gen_Pod")
        assert "Truncation Annotation" in out.stderr and "Kubernetes only allows 63 characters" in out.stderr
        doc = _yaml_doc(out.stdout)
        meta, spec = doc["metadata"], doc["spec"]
        assert isinstance(meta, dict) and isinstance(spec, dict)
        assert meta["name"] == "Gen_Pod" and meta["labels"]["app"] == "GenPod"
        assert meta["annotations"]["io.kubernetes.cri-o.ContainerType/genm1"] == "container"
        assert meta["annotations"]["io.kubernetes.cri-o.SandboxID/genm1"] == infra_id[:63]
        assert spec["hostname"] == "Gen_Pod" and spec["restartPolicy"] == "Never" and doc["status"] == {}
        member = spec["containers"][0]
        assert member["resources"] == {} and "env" not in member  # no HOSTNAME: the pod's name is not its own
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "Gen_Pod")


def test_kube_generate_usage_names_operands_as_podman(ctr: SealpodRunner) -> None:
    """710-kube 'kube generate - usage message': the operands read {CONTAINER...|POD...|VOLUME...}."""
    for argv in (("kube", "generate"), ("generate", "kube")):
        out = ctr.run(*argv, "--help").stdout
        assert f"{' '.join(argv)} [options] {{CONTAINER...|POD...|VOLUME...}}" in out


def test_kube_play_service_container_lifecycle(ctr: SealpodRunner, tmp_path: Path) -> None:
    """700-play 'play --service-container': <sha256[:12]>-service runs with the pod, stops when it exits,
    starts with it again, refuses rm while its pod exists and goes with it."""
    import hashlib

    path = tmp_path / "svc.yaml"
    path.write_text(_pod_yaml(ctr, "svcpod"))
    service = hashlib.sha256(path.read_bytes()).hexdigest()[:12] + "-service"

    def running() -> str:
        return ctr.run("container", "inspect", "--format", "{{.State.Running}}", service).stdout.strip()

    ctr.run("kube", "play", "--service-container=true", str(path))
    try:
        assert running() == "true"
        assert ctr.run("container", "inspect", "--format", "{{.IsService}}", service).stdout.strip() == "true"
        ctr.run("stop", "-t", "0", "svcpod-main")
        for _ in range(50):
            if running() == "false":
                break
            time.sleep(0.1)
        assert running() == "false"
        ctr.run("pod", "restart", "svcpod")
        assert running() == "true"
        refused = ctr.run("container", "rm", service, check=False)
        assert refused.returncode == 125
        assert "is the service container of pod(s)" in refused.stderr
        assert "cannot be removed without removing the pod(s)" in refused.stderr
        ctr.run("pod", "kill", "svcpod")
        assert running() == "false"
        ctr.run("pod", "rm", "svcpod")
        assert ctr.run("container", "exists", service, check=False).returncode == 1
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "--ignore", "svcpod")
