"""The pure translations both ways: YAML model → container configs, and container configs → YAML."""

from __future__ import annotations

import random
import textwrap

import pytest

from sealpod.engine.container_config import ContainerConfig, MountSpec, RestartPolicy
from sealpod.errors import KubeError
from sealpod.kube.fields import cpu_quantity, dns_label, dns_subdomain, memory_quantity, quantity
from sealpod.kube.generate import ContainerView, PodView, parse_ports, pod_document, render, service_document
from sealpod.kube.model import DataObject, Volume, VolumeMount, parse_manifest
from sealpod.kube.translate import PlayFlags, container_config, data_files, host_ports, mount_for, resolve_env
from sealpod.kube.yamlio import load_documents

YAML = textwrap.dedent("""\
    kind: Pod
    metadata: {name: web, annotations: {io.podman.annotations.init/srv: "TRUE", note: hi}}
    spec:
      restartPolicy: Never
      containers:
      - name: srv
        image: tiny
        command: [httpd]
        env:
        - {name: A, value: x}
        - {name: B, valueFrom: {configMapKeyRef: {name: cm, key: b}}}
        - {name: C, valueFrom: {secretKeyRef: {name: sec, key: c, optional: true}}}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        envFrom: [{configMapRef: {name: cm}, prefix: CM_}]
        ports:
        - {containerPort: 80, hostPort: 8080}
        - {containerPort: 53, hostPort: 5353, protocol: UDP}
        - {containerPort: 9}
        securityContext: {runAsUser: 1000, runAsGroup: 100}
        resources: {limits: {memory: 1Gi, cpu: "2"}}
    """)


def _manifest():  # type: ignore[no-untyped-def]
    return parse_manifest(load_documents(YAML))


def test_env_resolution_order_and_references() -> None:
    m = _manifest()
    c = m.workloads[0].pod.containers[0]
    cms = {"cm": DataObject("ConfigMap", "cm", {"b": b"from-cm"})}
    env = resolve_env(c, "web", cms, {}, m.warnings)
    assert env == ("CM_b=from-cm", "A=x", "B=from-cm", "POD=web")  # optional secret missing: skipped
    with pytest.raises(KubeError, match='configmap "cm" not found'):
        resolve_env(c, "web", {}, {}, [])
    with pytest.raises(KubeError, match='key "b" not found in configmap "cm"'):
        resolve_env(c, "web", {"cm": DataObject("ConfigMap", "cm", {})}, {}, [])


def test_container_config_from_yaml() -> None:
    m = _manifest()
    tmpl = m.workloads[0].pod
    c = tmpl.containers[0]
    cfg = container_config(c, tmpl, "web", "podid", ["A=x"], [], PlayFlags(log_driver="k8s-file"))
    assert cfg.name == "web-srv" and cfg.pod == "podid" and cfg.detach
    assert cfg.entrypoint == ("httpd",) and cfg.command is None  # command given: the image's Cmd is dropped
    assert cfg.user == "1000:100" and cfg.memory == 2**30 and cfg.cpus == 2.0
    assert cfg.restart == RestartPolicy("no") and cfg.init and not cfg.remove
    assert cfg.annotations == {"note": "hi"} and cfg.log_driver == "k8s-file"
    assert host_ports(tmpl) == ("8080:80/tcp", "5353:53/udp", "9:9/tcp")  # no hostPort: containerPort's


def test_mounts_and_data_files() -> None:
    host = Volume("h", "hostPath", path="/srv/data")
    assert mount_for(VolumeMount("h", "/data", sub_path="x"), host, "/srv/data") == \
        MountSpec("bind", "/data", source="/srv/data/x")
    cm = Volume("c", "configMap", source_name="cm", items=(("k", "dir/k.txt"),))
    assert mount_for(VolumeMount("c", "/cfg"), cm, "cm") == MountSpec("volume", "/cfg", source="cm", read_only=True)
    assert mount_for(VolumeMount("m", "/mem"), Volume("m", "emptyDir", medium="Memory"), "").type == "tmpfs"
    obj = DataObject("ConfigMap", "cm", {"k": b"v", "other": b"w"})
    assert data_files(cm, obj) == {"dir/k.txt": b"v"}
    assert data_files(Volume("c", "configMap", source_name="cm"), obj) == {"k": b"v", "other": b"w"}
    with pytest.raises(KubeError, match='invalid item path "../escape"'):
        data_files(Volume("c", "configMap", items=(("k", "../escape"),)), obj)


def test_quantities_and_names() -> None:
    assert quantity("64Mi", "x") == 64 * 2**20 and quantity("500m", "x") == 0.5 and quantity("1e3", "x") == 1000
    assert memory_quantity(str(64 * 2**20)) == "64Mi" and memory_quantity("1000") == "1000"
    assert cpu_quantity(0.5) == "500m" and cpu_quantity(2.0) == "2"
    assert dns_label("My_Container.1") == "my-container-1" and dns_label("--") == "x"
    assert dns_subdomain("Web..Pod_1") == "web.pod-1"


def _view(**cfg: object) -> ContainerView:
    config = ContainerConfig(image="tiny", **cfg)  # type: ignore[arg-type]
    return ContainerView("web-1", "localhost/tiny:latest", config, 0.0, ("PATH=/bin",), (), ("sh",))


def test_pod_document_writes_only_what_differs_from_the_image() -> None:
    v = _view(name="web-1", command=("sleep", "1000"), env=("PATH=/bin", "FOO=bar"), memory=64 * 2**20, cpus=0.5,
              cap_add=("NET_ADMIN",), read_only=True, user="1000:1000", workdir="/tmp", ports=("8080:80",),
              mounts=(MountSpec("volume", "/data", "data1"), MountSpec("bind", "/h", "/tmp", read_only=True)),
              restart=RestartPolicy("always"))
    doc = pod_document(PodView("web-1", 0.0, (v,)), {})
    assert doc["metadata"]["name"] == "web-1-pod" and doc["metadata"]["labels"] == {"app": "web-1-pod"}
    spec = doc["spec"]
    assert "restartPolicy" not in spec  # Always is Kubernetes' default
    (ctr,) = spec["containers"]
    assert ctr["command"] == ["sleep", "1000"] and "args" not in ctr
    assert ctr["env"] == [{"name": "FOO", "value": "bar"}]
    assert ctr["resources"] == {"limits": {"memory": "64Mi", "cpu": "500m"}}
    runtime_caps = ["CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE"]  # granted by Kubernetes runtimes, not by us
    assert ctr["securityContext"] == {"capabilities": {"add": ["CAP_NET_ADMIN"], "drop": runtime_caps},
                                      "readOnlyRootFilesystem": True,
                                      "runAsUser": 1000, "runAsGroup": 1000}
    assert ctr["ports"] == [{"containerPort": 80, "hostPort": 8080}]
    assert ctr["volumeMounts"] == [{"name": "data1-pvc", "mountPath": "/data"},
                                   {"name": "tmp-host-1", "mountPath": "/h", "readOnly": True}]
    assert spec["volumes"] == [{"name": "data1-pvc", "persistentVolumeClaim": {"claimName": "data1"}},
                               {"name": "tmp-host-1", "hostPath": {"path": "/tmp", "type": "Directory"}}]


def test_entrypoint_override_becomes_command_and_cmd_args() -> None:
    v = _view(entrypoint=("/bin/sh",), command=("-c", "httpd -f"))
    (ctr,) = pod_document(PodView("x", 0.0, (v,)), {})["spec"]["containers"]
    assert (ctr["command"], ctr["args"]) == (["/bin/sh"], ["-c", "httpd -f"])
    same = _view(command=("sh",))  # the image's own Cmd: nothing written
    (ctr,) = pod_document(PodView("x", 0.0, (same,)), {})["spec"]["containers"]
    assert "command" not in ctr and "args" not in ctr


def test_service_and_deployment_rendering() -> None:
    v = _view(ports=("8080:80", "5353:53/udp"), restart=RestartPolicy("no"))
    pod = pod_document(PodView("web-1", 0.0, (v,)), {})
    assert "restartPolicy" not in pod["spec"]  # Podman 4.3 gives a wrapped container's pod none
    svc = service_document(pod, random.Random(1))
    assert svc is not None and svc["spec"]["type"] == "NodePort" and svc["spec"]["selector"] == {"app": "web-1-pod"}
    assert [(p["name"], p["port"], p.get("protocol", "TCP")) for p in svc["spec"]["ports"]] == \
        [("80", 80, "TCP"), ("53", 53, "UDP")]
    assert all(30000 <= p["nodePort"] <= 32767 for p in svc["spec"]["ports"])
    text = render([PodView("web-1", 0.0, (v,))], [], service=True, kind="deployment", replicas=2, version="1")
    docs = load_documents(text)
    assert [d["kind"] for d in docs] == ["Service", "Deployment"]
    dep = docs[1]
    assert dep["spec"]["replicas"] == 2 and "restartPolicy" not in dep["spec"]["template"]["spec"]
    assert dep["spec"]["selector"]["matchLabels"] == dep["spec"]["template"]["metadata"]["labels"]
    assert text.startswith("# Save the output of this file") and "&id" not in text


def test_parse_ports() -> None:
    assert [(p.container_port, p.host_port, p.protocol) for p in parse_ports(
        ["127.0.0.1:8080:80", "9000-9001:90-91/udp", "443", "[::1]:8443:443/tcp"])] == \
        [(80, 8080, "tcp"), (90, 9000, "udp"), (91, 9001, "udp"), (443, 0, "tcp"), (443, 8443, "tcp")]
