"""Kubernetes YAML in: safe loading of hostile input, and the typed model of what play accepts."""

from __future__ import annotations

import base64
import textwrap

import pytest

from sealpod.errors import KubeError
from sealpod.kube.model import parse_manifest
from sealpod.kube.yamlio import load_documents

POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      labels: {app: web}
    spec:
      restartPolicy: OnFailure
      hostname: webhost
      containers:
      - name: srv
        image: sealtest/tiny
        command: [httpd, -f]
        args: [-p, "8080"]
        workingDir: /tmp
        env:
        - {name: PLAIN, value: 1}
        - name: FROM_CM
          valueFrom: {configMapKeyRef: {name: cm, key: a}}
        envFrom:
        - secretRef: {name: sec}
          prefix: S_
        ports:
        - {containerPort: 8080, hostPort: 18080}
        - {containerPort: 53, protocol: UDP}
        resources: {limits: {memory: 64Mi, cpu: 500m}, requests: {memory: 1Mi}}
        securityContext:
          privileged: true
          readOnlyRootFilesystem: true
          runAsUser: 1000
          allowPrivilegeEscalation: false
          capabilities: {add: [NET_ADMIN], drop: [CAP_CHOWN]}
        volumeMounts:
        - {name: cfg, mountPath: /cfg}
        livenessProbe: {exec: {command: [/bin/true]}, periodSeconds: 5}
        lifecycle: {}
      volumes:
      - name: cfg
        configMap: {name: cm, items: [{key: a, path: sub/a.txt}]}
    """)


def test_pod_fields_are_read_and_unknown_ones_warned() -> None:
    m = parse_manifest(load_documents(POD))
    (wl,) = m.workloads
    assert (wl.kind, wl.name, wl.pod_names()) == ("Pod", "web", ["web"])
    pod = wl.pod
    assert (pod.restart_policy, pod.hostname, pod.labels) == ("OnFailure", "webhost", {"app": "web"})
    (c,) = pod.containers
    assert c.command == ("httpd", "-f") and c.args == ("-p", "8080") and c.working_dir == "/tmp"
    assert c.env[0].value == "1" and (c.env[1].source, c.env[1].source_name, c.env[1].key) == ("configMap", "cm", "a")
    assert (c.env_from[0].source, c.env_from[0].prefix) == ("secret", "S_")
    assert [(p.container_port, p.host_port, p.protocol) for p in c.ports] == [(8080, 18080, "tcp"), (53, 0, "udp")]
    assert c.memory == 64 * 2**20 and c.cpus == pytest.approx(0.5)
    sc = c.security
    assert sc.privileged and sc.read_only_root and sc.run_as_user == 1000 and sc.no_new_privileges
    assert sc.cap_add == ("CAP_NET_ADMIN",) and sc.cap_drop == ("CAP_CHOWN",)
    assert pod.volumes[0].items == (("a", "sub/a.txt"),)
    assert c.liveness is not None and (c.liveness.command, c.liveness.period, c.liveness.timeout) == ("/bin/true", 5, 1)
    assert m.warnings == ['field "spec.containers[0].lifecycle" is not supported, ignoring it']


def test_deployment_replicas_and_podman_pod_names() -> None:
    doc = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: dep}
        spec:
          replicas: 3
          selector: {matchLabels: {app: dep}}
          template:
            metadata: {labels: {app: dep}}
            spec: {containers: [{name: c, image: tiny}]}
        """)
    (wl,) = parse_manifest(load_documents(doc)).workloads
    assert wl.pod_names() == ["dep-pod-0", "dep-pod-1", "dep-pod-2"]
    assert wl.pod.labels == {"app": "dep"}


def test_configmap_secret_claim_and_unknown_kind() -> None:
    binary = base64.b64encode(bytes([0, 1])).decode()
    docs = load_documents(textwrap.dedent(f"""\
        kind: ConfigMap
        metadata: {{name: cm}}
        data: {{a: hello}}
        binaryData: {{b: {binary}}}
        ---
        kind: Secret
        metadata: {{name: sec}}
        data: {{pw: {base64.b64encode(b"s3cret").decode()}}}
        stringData: {{user: bob}}
        ---
        kind: PersistentVolumeClaim
        metadata: {{name: claim1, labels: {{tier: db}}}}
        ---
        kind: Service
        metadata: {{name: ignored-quietly}}
        ---
        kind: Frobnicator
        metadata: {{name: x}}
        """))
    m = parse_manifest(docs)
    assert m.config_maps["cm"].data == {"a": b"hello", "b": b"\x00\x01"}
    assert m.secrets["sec"].data == {"pw": b"s3cret", "user": b"bob"}
    assert [(c.name, c.labels) for c in m.claims] == [("claim1", {"tier": "db"})]
    assert m.warnings == ['kind "Frobnicator" not supported, ignoring document 5']


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "YAML document 1 is a list, expected a mapping with apiVersion and kind"),
    ("hello\n", "YAML document 1 is a string"),
    ("a: b: c\n", "unable to read YAML: mapping values are not allowed here (line 1, column 5)"),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: 3}\n",
     'invalid field "spec.containers": expected a list, got a number'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: [x]}]}\n",
     'invalid field "spec.containers[0].image": expected a string, got a list'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 99999}]}]}\n",
     'invalid field "spec.containers[0].ports[0].containerPort": 99999 is not a port number'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, resources: {limits: {memory: lots}}}]}\n",
     'invalid field "spec.containers[0].resources.limits.memory": "lots" is not a resource quantity'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n", 'pod "p" has no containers'),
    ("kind: Pod\nspec: {}\n", 'Pod has no "metadata.name"'),
    ("metadata: {name: p}\n", 'YAML document 1 has no "kind"'),
    ("kind: Secret\nmetadata: {name: s}\ndata: {k: '%%%'}\n", 'invalid field "data.k": not valid base64'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Sometimes, containers: [{name: c, image: i}]}\n",
     'invalid field "spec.restartPolicy": "Sometimes" is not Always, OnFailure or Never'),
    ("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}], volumes: [{name: v, nfs: {}}]}\n",
     'volume "v": no supported volume source'),
])
def test_hostile_or_wrong_yaml_gives_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(KubeError) as info:
        parse_manifest(load_documents(text))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_alias_bomb_and_recursive_anchor_are_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(KubeError, match="expands to more than"):
        load_documents("\n".join(lines))
    with pytest.raises(KubeError, match='recursive YAML anchor "x"'):
        load_documents("a: &x [1, *x]\n")
    with pytest.raises(KubeError, match="not valid UTF-8"):
        load_documents(b"kind: \xff\xfe")
    with pytest.raises(KubeError, match="unable to read YAML"):
        load_documents("!!python/object:os.system {}\n")  # safe loading: no arbitrary objects
    assert load_documents("x: &a {k: v}\ny: *a\n---\n") == [{"x": {"k": "v"}, "y": {"k": "v"}}]


def test_configmap_files_must_be_configmaps() -> None:
    with pytest.raises(KubeError, match='--configmap file holds a "Pod"'):
        parse_manifest([], load_documents("kind: Pod\nmetadata: {name: p}\n"))
