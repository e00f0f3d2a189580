"""kube generate / play / down end to end: real pods, real containers, YAML checked against the
Kubernetes schemas (kubernetes-validate, offline), and the libpod routes over raw HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
U = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("kube"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


def _validate(docs: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _exec(kube: SealpodRunner, ctr: str, *cmd: str) -> str:
    return kube.run("exec", ctr, *cmd).stdout


def test_generate_every_kind_validates(kube: SealpodRunner, tmp_path: Path) -> None:
    kube.run("volume", "create", "-l", "tier=db", "gen-data")
    kube.run("run", "-d", *U, "--name", "gen-web", "-p", "18181:80", "-p", "15353:53/udp", "-e", "FOO=bar",
             "-v", "gen-data:/data", "-v", f"{tmp_path}:/host:ro", "--memory", "64m", "--cpus", "0.5",
             "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "--read-only", "-u", "1000:1000", "-w", "/tmp",
             "--restart", "on-failure", "--hostname", "genhost", IMAGE, "sleep", "1000")
    docs = _docs(kube.run("kube", "generate", "gen-web", "gen-data").stdout)
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Pod"]
    _validate(docs)
    pvc, pod = docs
    assert pvc["metadata"]["name"] == "gen-data" and pvc["metadata"]["labels"] == {"tier": "db"}
    ctr = pod["spec"]["containers"][0]
    assert pod["metadata"]["name"] == "gen-web-pod" and "restartPolicy" not in pod["spec"]  # as Podman 4.3
    assert ctr["name"] == "gen-web" and ctr["command"] == ["sleep", "1000"] and "args" not in ctr
    assert ctr["env"] == [{"name": "FOO", "value": "bar"}, {"name": "HOSTNAME", "value": "genhost"}]
    assert ctr["ports"] == [{"containerPort": 80, "hostPort": 18181},
                            {"containerPort": 53, "hostPort": 15353, "protocol": "UDP"}]
    assert ctr["resources"] == {"limits": {"cpu": "500m", "memory": "64Mi"}}
    drop = ["CAP_CHOWN", "CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE"]  # Podman's: what runtimes grant besides
    assert ctr["securityContext"] == {"capabilities": {"add": ["CAP_NET_ADMIN"], "drop": drop},
                                      "readOnlyRootFilesystem": True, "runAsGroup": 1000, "runAsUser": 1000}
    assert {"name": "gen-data-pvc", "persistentVolumeClaim": {"claimName": "gen-data"}} in pod["spec"]["volumes"]
    host = next(m for m in ctr["volumeMounts"] if m["mountPath"] == "/host")
    assert host["readOnly"] and host["name"].endswith("-host-1")
    assert {"name": host["name"], "hostPath": {"path": str(tmp_path), "type": "Directory"}} in pod["spec"]["volumes"]
    with_service = _docs(kube.run("generate", "kube", "-s", "gen-web").stdout)
    assert [d["kind"] for d in with_service] == ["Service", "Pod"]
    _validate(with_service)
    assert with_service[0]["spec"]["type"] == "NodePort"
    deployment = _docs(kube.run("kube", "generate", "--type", "deployment", "--replicas", "2", "gen-web").stdout)
    assert [d["kind"] for d in deployment] == ["Deployment"]
    _validate(deployment)
    assert deployment[0]["spec"]["replicas"] == 2
    out = kube.run("kube", "generate", "no-such-thing", check=False)
    assert (out.returncode, out.stderr) == (125, 'Error: name or ID "no-such-thing" not found\n')
    kube.run("rm", "-f", "-t", "0", "gen-web")
    kube.run("volume", "rm", "gen-data")


def _pod_members(kube: SealpodRunner, pod: str) -> dict[str, dict[str, Any]]:
    ids = kube.run("ps", "-a", "-q", "--no-trunc", "--filter", f"pod={pod}").stdout.split()
    docs = json.loads(kube.run("inspect", *ids).stdout) if ids else []
    return {d["Name"]: d for d in docs}


def test_generate_play_round_trip(kube: SealpodRunner, tmp_path: Path) -> None:
    kube.run("pod", "create", "--name", "rt", "-p", "18282:80", "-l", "tier=front")
    kube.run("create", *U, "--pod", "rt", "--name", "rt-web", "-e", "KEY=value", "-w", "/tmp", IMAGE,
             "busybox", "httpd", "-f", "-p", "80")
    kube.run("create", *U, "--pod", "rt", "--name", "side", IMAGE, "sleep", "1000")
    text = kube.run("kube", "generate", "rt").stdout
    docs = _docs(text)
    _validate(docs)
    (pod,) = docs
    assert pod["metadata"]["name"] == "rt" and pod["metadata"]["labels"] == {"app": "rt", "tier": "front"}
    assert [c["name"] for c in pod["spec"]["containers"]] == ["web", "side"]
    assert pod["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "hostPort": 18282}]
    before = {n.removeprefix("rt-"): ([d["Path"], *d["Args"]], sorted(e for e in d["Config"]["Env"] if "KEY" in e))
              for n, d in _pod_members(kube, "rt").items() if not d["IsInfra"] and "infra" not in n}
    kube.run("pod", "rm", "-f", "-t", "0", "rt")
    path = tmp_path / "rt.yaml"
    path.write_text(text)
    out = kube.run("kube", "play", str(path))
    lines = out.stdout.splitlines()
    assert lines[0] == "Pod:" and lines[2] == "Containers:" and len(lines[1]) == 64
    members = _pod_members(kube, "rt")
    after = {n.removeprefix("rt-"): ([d["Path"], *d["Args"]], sorted(e for e in d["Config"]["Env"] if "KEY" in e))
             for n, d in members.items() if n.startswith("rt-")}
    assert after == before
    assert all(d["State"]["Running"] for d in members.values())
    reply = _http_get("127.0.0.1", 18282)
    assert reply.startswith("HTTP/1.")
    replay = kube.run("kube", "play", str(path), check=False)
    assert replay.returncode == 125 and "already exists" in replay.stderr
    replaced = kube.run("kube", "play", "--replace", "--start=false", str(path)).stdout
    assert replaced.startswith("Pods stopped:\n") and "\nPod:\n" in replaced  # what went, as Podman prints it
    assert not any(d["State"]["Running"] for d in _pod_members(kube, "rt").values())
    down = kube.run("kube", "down", str(path)).stdout
    assert down.startswith("Pods stopped:\n") and "Pods removed:\n" in down
    assert kube.run("pod", "ps", "-q", "--filter", "name=^rt$").stdout == ""


def _http_get(host: str, port: int, tries: int = 50) -> str:
    for _ in range(tries):
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = s.recv(200).decode(errors="replace")
                if data:
                    return data
        except OSError:
            pass
        time.sleep(0.1)
    return ""


MULTI = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: kcfg}}
    data:
      greeting.txt: hello from a configmap
      other: second file
    ---
    apiVersion: v1
    kind: Secret
    metadata: {{name: ksec}}
    data: {{password: {password}}}
    stringData: {{user: bob}}
    ---
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {{name: kclaim}}
    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: kdep, labels: {{app: kdep}}}}
    spec:
      replicas: 2
      selector: {{matchLabels: {{app: kdep}}}}
      template:
        metadata: {{labels: {{app: kdep}}}}
        spec:
          containers:
          - name: main
            image: {image}
            command: [sleep, "1000"]
            env:
            - name: PASSWORD
              valueFrom: {{secretKeyRef: {{name: ksec, key: password}}}}
            envFrom:
            - secretRef: {{name: ksec}}
              prefix: SEC_
            volumeMounts:
            - {{name: cfg, mountPath: /etc/kcfg}}
            - {{name: data, mountPath: /data}}
            - {{name: scratch, mountPath: /scratch}}
          volumes:
          - name: cfg
            configMap: {{name: kcfg}}
          - name: data
            persistentVolumeClaim: {{claimName: kclaim}}
          - name: scratch
            emptyDir: {{}}
    ---
    apiVersion: v1
    kind: Frobnicator
    metadata: {{name: nope}}
    """)


def test_play_multi_document_deployment_configmap_secret(kube: SealpodRunner, tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text(MULTI.format(password=base64.b64encode(b"s3cret").decode(), image=IMAGE))
    out = kube.run("kube", "play", str(path))
    assert "Frobnicator" not in out.stderr  # Podman 4.3.1 skips it, saying so at the info level only
    assert out.stdout.startswith("Volumes:\nkclaim\n")
    assert out.stdout.count("Pod:\n") == 2 and out.stdout.count("Container:\n") == 2
    for i in range(2):
        ctr = f"kdep-pod-{i}-main"
        assert _exec(kube, ctr, "cat", "/etc/kcfg/greeting.txt") == "hello from a configmap"
        assert _exec(kube, ctr, "cat", "/etc/kcfg/other") == "second file"
        env = _exec(kube, ctr, "env").splitlines()
        assert "PASSWORD=s3cret" in env and "SEC_user=bob" in env and "SEC_password=s3cret" in env
        write = kube.run("exec", ctr, "sh", "-c", "echo x > /etc/kcfg/new", check=False)
        assert write.returncode != 0  # configMap volumes are read-only
    kube.run("exec", "kdep-pod-0-main", "sh", "-c", "echo shared > /data/f")
    assert _exec(kube, "kdep-pod-1-main", "cat", "/data/f") == "shared\n"  # one claim, both pods
    pods = kube.run("pod", "ps", "--format", "{{.Name}}").stdout.split()
    assert {"kdep-pod-0", "kdep-pod-1"} <= set(pods)
    down = kube.run("kube", "down", str(path)).stdout
    assert down.count("\n") == 6  # 2 stopped, 2 removed, 2 headers
    assert kube.run("pod", "ps", "-q").stdout == ""
    assert "kdep" not in kube.run("ps", "-a", "--format", "{{.Names}}").stdout
    assert kube.run("volume", "ls", "-q").stdout.split() == ["kclaim"]  # the user's data stays
    forced = kube.run("kube", "down", "--force", str(path)).stdout
    assert forced.endswith("Volumes removed:\nkclaim\n")
    assert kube.run("volume", "ls", "-q").stdout == ""


def test_play_errors_are_one_line(kube: SealpodRunner, tmp_path: Path) -> None:
    cases = {
        "bad.yaml": ("a: b: c\n", "Error: unable to read YAML: mapping values are not allowed here (line 1, column 5)"),
        "list.yaml": ("- 1\n- 2\n", "Error: YAML document 1 is a list, expected a mapping with apiVersion and kind"),
        "type.yaml": ("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 5, ports: oops}]}\n",
                      'Error: invalid field "spec.containers[0].ports": expected a list, got a string'),
        "ref.yaml": ("kind: Pod\nmetadata: {name: badref}\nspec:\n  containers:\n  - name: c\n    image: "
                     f"{IMAGE}\n    env: [{{name: X, valueFrom: {{configMapKeyRef: {{name: nocm, key: k}}}}}}]\n",
                     'Error: configmap "nocm" not found'),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        out = kube.run("kube", "play", str(tmp_path / name), check=False)
        assert (out.returncode, out.stderr) == (125, message + "\n"), name
    assert kube.run("pod", "exists", "badref", check=False).returncode == 1  # undone
    missing = kube.run("kube", "play", str(tmp_path / "absent.yaml"), check=False)
    assert missing.returncode == 125 and missing.stderr.startswith("Error: open ") and "Traceback" not in missing.stderr


def test_play_from_stdin_with_configmap_file_and_publish(kube: SealpodRunner, tmp_path: Path) -> None:
    cm = tmp_path / "cm.yaml"
    cm.write_text("kind: ConfigMap\nmetadata: {name: extcm}\ndata: {MODE: external}\n")
    pod = textwrap.dedent(f"""\
        kind: Pod
        metadata: {{name: stdinpod}}
        spec:
          containers:
          - name: srv
            image: {IMAGE}
            command: [busybox, httpd, -f, -p, "8080"]
            envFrom: [{{configMapRef: {{name: extcm}}}}]
        """)
    kube.run("play", "kube", "--configmap", str(cm), "--publish", "18383:8080", "-", input=pod)
    assert "MODE=external" in _exec(kube, "stdinpod-srv", "env")
    assert _http_get("127.0.0.1", 18383).startswith("HTTP/1.")
    out = kube.run("kube", "play", "--down", "-", input=pod).stdout
    assert out.startswith("Pods stopped:\n")
    assert kube.run("pod", "exists", "stdinpod", check=False).returncode == 1


# --- the API --------------------------------------------------------------------------------------

def _http(api: ApiService, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("localhost", timeout=120)
    conn.sock = socket.socket(socket.AF_UNIX)
    conn.sock.connect(str(api.socket_path))
    conn.request(method, target, body=body, headers={"Content-Type": "application/yaml"} if body else {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_api_generate_play_down(api: ApiService) -> None:
    api.runner.run("run", "-d", *U, "--name", "apikube", "-e", "A=1", IMAGE, "sleep", "1000")
    status, body = _http(api, "GET", "/v4.3.1/libpod/generate/kube?names=apikube&service=true")
    assert status == 200, body
    docs = _docs(body.decode())
    assert [d["kind"] for d in docs] == ["Pod"]  # nothing published: no Service
    _validate(docs)
    api.runner.run("rm", "-f", "-t", "0", "apikube")
    status, body = _http(api, "POST", "/v4.3.1/libpod/play/kube?start=true", body.replace(b"apikube-pod", b"apiplay"))
    assert status == 200, body
    report = json.loads(body)
    assert len(report["Pods"]) == 1 and len(report["Pods"][0]["Containers"]) == 1
    env = api.runner.run("exec", "apiplay-apikube", "env").stdout
    assert "A=1" in env.splitlines()
    status, body = _http(api, "POST", "/v4.3.1/libpod/play/kube", b"a: b: c")
    assert status == 400 and "unable to read YAML" in json.loads(body)["message"]
    status, body = _http(api, "GET", "/v4.3.1/libpod/generate/kube?names=nonexistent")
    assert status == 400 and "not found" in json.loads(body)["message"]
    status, body = _http(api, "DELETE", "/v4.3.1/libpod/play/kube",
                         b"kind: Pod\nmetadata: {name: apiplay}\nspec: {containers: [{name: apikube, image: x}]}\n")
    assert status == 200, body
    assert len(json.loads(body)["RmReport"]) == 1
    assert api.runner.run("pod", "exists", "apiplay", check=False).returncode == 1
