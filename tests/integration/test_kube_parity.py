"""kube generate / play / down against Podman 4.3.1: the YAML files under tests/data/kube/ were written by
``podman kube generate`` on this machine (image ``localhost/sealtest/tiny:latest``, host paths under
/tmp/kh); sealpod must write the same fields for the same containers and play those files back."""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
PODMAN_IMAGE = "localhost/sealtest/tiny:latest"
DATA = Path(__file__).resolve().parent.parent / "data" / "kube"
U = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("kparity"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


@pytest.fixture
def hostdir(tmp_path: Path) -> Path:
    """What /tmp/kh was when Podman generated the files: a directory and a file."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("hi\n")
    return tmp_path


def _podman_file(name: str, hostdir: Path, image: str) -> str:
    return (DATA / name).read_text().replace(PODMAN_IMAGE, image).replace("/tmp/kh/", f"{hostdir}/")


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


_HEX = re.compile(r"\b[0-9a-f]{64}\b")


def _normal(doc: dict[str, Any], image: str) -> dict[str, Any]:
    """A document with what may differ run to run taken out: timestamps, node ports, anonymous volume
    names, the image's registry, volume names and order (matched through their mount paths)."""
    doc = json.loads(_HEX.sub("ANON", json.dumps(doc)).replace(image, "IMAGE").replace(PODMAN_IMAGE, "IMAGE"))
    doc["metadata"].pop("creationTimestamp", None)
    spec = doc.get("spec", {})
    spec.pop("restartPolicy", None)  # Podman 4.3.1 leaves a lone container's out; we write it
    for port in spec.get("ports", []):
        port.pop("nodePort", None)
    vols = {v.pop("name"): v for v in spec.pop("volumes", [])}
    for ctr in spec.get("containers", []):
        mounts = []
        for m in ctr.get("volumeMounts", []):
            vol = vols[m.pop("name")]
            if vol.get("hostPath", {}).get("path") != "tmpfs":  # Podman's way of writing --read-only's tmpfs
                mounts.append({**m, "volume": vol})
        if mounts:
            ctr["volumeMounts"] = sorted(mounts, key=lambda m: m["mountPath"])
        else:
            ctr.pop("volumeMounts", None)
    return doc


def test_generate_matches_podman(kube: SealpodRunner, hostdir: Path) -> None:
    h = str(hostdir)
    kube.run("volume", "create", "-l", "tier=db", "kdata")
    kube.run("create", *U, "--name", "anon", "-v", "/anonvol", IMAGE, "sleep", "1000")
    kube.run("create", *U, "--name", "full", "-p", "18181:80", "-p", "15353:53/udp", "-e", "FOO=bar", "-l", "lab=one",
             "--annotation", "ann=two", "-v", "kdata:/data", "-v", f"{h}/dir:/host:ro", "-v", f"{h}/file:/hostfile",
             "-v", "/anon2", "--memory", "64m", "--cpus", "0.5", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
             "--read-only", "-u", "1000:1000", "-w", "/tmp", "--restart", "on-failure", "--hostname", "genhost",
             IMAGE, "sleep", "1000")
    kube.run("create", *U, "--name", "priv", "--privileged", "--restart", "always", IMAGE, "sh", "-c", "echo hi")
    kube.run("create", *U, "--name", "ttyi", "-it", "--init", "--rm", IMAGE)
    image = json.loads(kube.run("inspect", "anon").stdout)[0]["ImageName"]
    cases = {"podman-anon.yaml": ("anon",), "podman-full.yaml": ("-s", "full", "kdata"),
             "podman-priv.yaml": ("priv",), "podman-tty.yaml": ("ttyi",)}
    for fixture, args in cases.items():
        ours = kube.run("kube", "generate", *args).stdout
        theirs = _podman_file(fixture, hostdir, image)
        mine = yaml.safe_dump_all([_normal(d, image) for d in _docs(ours)])
        want = yaml.safe_dump_all([_normal(d, image) for d in _docs(theirs)])
        assert mine == want, fixture + "\n" + "\n".join(difflib.unified_diff(want.splitlines(), mine.splitlines()))
        skeleton = re.compile(r"^(?:#|---|apiVersion|kind)|^$")
        assert [line for line in ours.splitlines() if skeleton.match(line) and "Created with" not in line] == \
            [line for line in theirs.splitlines() if skeleton.match(line) and "Created with" not in line], fixture
    kube.run("rm", "-f", "-t", "0", "anon", "full", "priv", "ttyi")
    kube.run("volume", "rm", "-af")


def _inspect(kube: SealpodRunner, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(kube.run("inspect", name).stdout)[0]
    return doc


def test_play_podman_generated_files(kube: SealpodRunner, hostdir: Path, tmp_path: Path) -> None:
    files = {}
    for name in ("podman-anon.yaml", "podman-full.yaml", "podman-priv.yaml", "podman-tty.yaml", "podman-pod.yaml"):
        files[name] = tmp_path / name
        files[name].write_text(_podman_file(name, hostdir, IMAGE))
    out = kube.run("kube", "play", str(files["podman-full.yaml"]))
    lines = out.stdout.splitlines()
    assert lines[:3] == ["Volumes:", "kdata", "Pod:"] and lines[4:] == ["Container:", lines[5], ""]
    full = _inspect(kube, "full-pod-full")
    assert full["State"]["Running"] and full["Config"]["Annotations"].get("ann") == "two"
    assert not any(k.endswith("/full") for k in full["Config"]["Annotations"])
    caps = kube.run("exec", "full-pod-full", "grep", "CapBnd", "/proc/self/status").stdout
    assert int(caps.split()[-1], 16) & (1 << 12) and not int(caps.split()[-1], 16) & 1  # NET_ADMIN yes, CHOWN no
    assert kube.run("exec", "full-pod-full", "id", "-u").stdout.strip() == "1000"
    mounts = kube.run("exec", "full-pod-full", "cat", "/proc/mounts").stdout
    assert " /tmp tmpfs " in mounts and " /run tmpfs " in mounts  # Podman's hostPath "tmpfs"
    assert not (Path(kube.base) / "tmpfs").exists()
    assert kube.run("exec", "full-pod-full", "cat", "/hostfile").stdout == "hi\n"
    anon = re.search(r"claimName: ([0-9a-f]{64})", files["podman-full.yaml"].read_text())
    assert anon is not None and kube.run("volume", "exists", anon.group(1), check=False).returncode == 0
    priv = kube.run("kube", "play", "--start=false", str(files["podman-priv.yaml"])).stdout.splitlines()
    assert priv[0] == "Pod:" and priv[2] == "Container:" and len(priv) == 5
    assert _inspect(kube, "priv-pod-priv")["HostConfig"]["Privileged"] is True
    kube.run("kube", "play", "--start=false", str(files["podman-tty.yaml"]))
    tty = _inspect(kube, "ttyi-pod-ttyi")
    assert tty["Config"]["Tty"] and tty["Config"]["OpenStdin"] and tty["HostConfig"]["AutoRemove"]
    again = _docs(kube.run("kube", "generate", "ttyi-pod").stdout)[0]["metadata"]["annotations"]
    assert again["io.podman.annotations.init/ttyi"] == again["io.podman.annotations.autoremove/ttyi"] == "TRUE"
    kube.run("kube", "play", "--start=false", str(files["podman-pod.yaml"]))
    rt = _inspect(kube, "rt-rt-web")
    assert rt["Config"]["WorkingDir"] == "/tmp" and "KEY=value" in rt["Config"]["Env"]
    again = kube.run("kube", "play", "--start=false", str(files["podman-pod.yaml"]), check=False)
    assert (again.returncode, again.stderr) == \
        (125, 'Error: adding pod to state: name "rt" is in use: pod already exists\n')
    replaced = kube.run("kube", "play", "--replace", "--start=false", str(files["podman-pod.yaml"])).stdout
    assert re.match(r"Pods stopped:\n[0-9a-f]{64}\nPods removed:\n[0-9a-f]{64}\nPod:\n[0-9a-f]{64}\nContainer:\n",
                    replaced)
    for name, pod in (("podman-full.yaml", "full-pod"), ("podman-priv.yaml", "priv-pod"),
                      ("podman-tty.yaml", "ttyi-pod"), ("podman-pod.yaml", "rt")):
        down = kube.run("kube", "down", str(files[name])).stdout
        assert re.fullmatch(r"Pods stopped:\n[0-9a-f]{64}\nPods removed:\n[0-9a-f]{64}\n", down), down
        assert kube.run("pod", "exists", pod, check=False).returncode == 1
    gone = kube.run("kube", "down", str(files["podman-priv.yaml"]), check=False)
    assert (gone.returncode, gone.stdout, gone.stderr) == \
        (125, "", "Error: no pod with name or ID priv-pod found: no such pod\n")
    kube.run("volume", "rm", "-af")


HAND = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: hcm}}
    data: {{MODE: fast, LEVEL: "3"}}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: hand
      labels: {{app: hand}}
    spec:
      restartPolicy: OnFailure
      initContainers:
      - name: setup
        image: {image}
        command: [sh, -c, "echo ready > /work/flag"]
        volumeMounts: [{{name: work, mountPath: /work}}]
      containers:
      - name: web
        image: {image}
        imagePullPolicy: Never
        command: [sh, -c]
        args: ["cat /work/flag && exec sleep 1000"]
        workingDir: /work
        envFrom: [{{configMapRef: {{name: hcm}}}}]
        env: [{{name: LVL, valueFrom: {{configMapKeyRef: {{name: hcm, key: LEVEL}}}}}}]
        resources: {{limits: {{memory: 32Mi, cpu: 250m}}}}
        volumeMounts: [{{name: work, mountPath: /work}}]
        livenessProbe:
          exec: {{command: [cat, /etc/hostname]}}
          periodSeconds: 7
          timeoutSeconds: 3
          failureThreshold: 4
          initialDelaySeconds: 2
      - name: http
        image: {image}
        command: [sleep, "1000"]
        livenessProbe:
          httpGet: {{path: /health, port: 8080}}
      volumes:
      - name: work
        emptyDir: {{}}
    """)


def test_play_hand_written_pod(kube: SealpodRunner, tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(HAND.format(image=IMAGE))
    out = kube.run("kube", "play", "--log-driver", "json-file", str(path))
    lines = out.stdout.splitlines()
    assert lines[0] == "Pod:" and lines[2] == "Containers:" and len(lines) == 6  # the init container not listed
    assert "setup" not in kube.run("ps", "-a", "--format", "{{.Names}}").stdout  # it ran once, and went
    assert kube.run("logs", "hand-web").stdout == "ready\n"
    web = _inspect(kube, "hand-web")
    assert web["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "cat /etc/hostname || exit 1"],
                                            "StartPeriod": 2_000_000_000, "Interval": 7_000_000_000,
                                            "Timeout": 3_000_000_000, "Retries": 4}
    assert web["HostConfig"]["RestartPolicy"]["Name"] == "on-failure"
    assert web["HostConfig"]["Memory"] == 32 * 2**20 and web["HostConfig"]["NanoCpus"] == 250_000_000
    assert web["Config"]["WorkingDir"] == "/work" and web["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert {"MODE=fast", "LEVEL=3", "LVL=3"} <= set(web["Config"]["Env"])
    http = _inspect(kube, "hand-http")["Config"]["Healthcheck"]
    assert http["Test"] == ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]
    assert (http["Interval"], http["Timeout"], http["Retries"]) == (10_000_000_000, 1_000_000_000, 3)
    kube.run("kube", "down", str(path))


def test_play_failing_init_container_and_host_network(kube: SealpodRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad-init.yaml"
    path.write_text(textwrap.dedent(f"""\
        kind: Pod
        metadata: {{name: badinit}}
        spec:
          hostNetwork: true
          initContainers: [{{name: fail, image: {IMAGE}, command: [sh, -c, "exit 3"]}}]
          containers: [{{name: main, image: {IMAGE}, command: [sleep, "1000"]}}]
        """))
    out = kube.run("kube", "play", "-q", str(path), check=False)
    assert (out.returncode, out.stderr) == \
        (125, "init container badinit-fail exited with code 3\nError: failed to start 1 containers\n")
    assert not _inspect(kube, "badinit-main")["State"]["Running"]
    infra = json.loads(kube.run("pod", "inspect", "badinit").stdout)
    infra = infra[0] if isinstance(infra, list) else infra
    assert _inspect(kube, infra["InfraContainerID"])["HostConfig"]["NetworkMode"] == "host"
    kube.run("kube", "down", str(path))


def test_play_reports_each_container_that_fails(kube: SealpodRunner, tmp_path: Path) -> None:
    path = tmp_path / "wd.yaml"
    path.write_text(textwrap.dedent(f"""\
        kind: Pod
        metadata: {{name: wd}}
        spec:
          containers:
          - {{name: a, image: {IMAGE}, workingDir: /nowhere, command: [sleep, "1000"]}}
          - {{name: b, image: {IMAGE}, command: [sleep, "1000"]}}
        """))
    out = kube.run("kube", "play", str(path), check=False)
    a = _inspect(kube, "wd-a")["Id"]
    assert (out.returncode, out.stderr) == \
        (125, f'starting container {a}: workdir "/nowhere" does not exist on container {a}\n'
              "Error: failed to start 1 containers\n")
    assert out.stdout.startswith("Pod:\n") and _inspect(kube, "wd-b")["State"]["Running"]
    kube.run("pod", "rm", "-f", "-t", "0", "wd")


def test_play_static_ip_and_mac_per_pod_in_file_order(kube: SealpodRunner, tmp_path: Path) -> None:
    """``kube play --ip A --ip B --mac-address M``: the first pod of the file gets A and M, the second B."""
    image = kube.run("image", "inspect", "--format", "{{index .RepoTags 0}}", IMAGE).stdout.strip()
    pod = textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          containers:
          - name: c
            image: {image}
            command: ["sleep", "100"]
        """)
    path = tmp_path / "two.yaml"
    path.write_text(pod.format(name="ipone", image=image) + "---\n" + pod.format(name="iptwo", image=image))
    kube.run("kube", "play", "--network", "podman",  # not the kube default network: its subnet is another
             "--ip", "10.88.77.5", "--ip", "10.88.77.6", "--mac-address", "92:d0:c6:0a:29:33", str(path))
    try:
        one = kube.run("run", "--rm", "--pod", "ipone", IMAGE, "sh", "-c", "ip addr show eth0").stdout
        two = kube.run("run", "--rm", "--pod", "iptwo", IMAGE, "sh", "-c", "ip addr show eth0").stdout
        assert "inet 10.88.77.5/" in one and "92:d0:c6:0a:29:33" in one
        assert "inet 10.88.77.6/" in two and "92:d0:c6:0a:29:33" not in two
    finally:
        kube.run("pod", "rm", "-f", "-t", "0", "ipone", "iptwo")
