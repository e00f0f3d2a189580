"""Conformance with Podman's own system tests for pods and kube YAML (test/system/200-pod, 200-pod-top,
700-play, 710-kube), as Podman 4.3.1 behaves: outputs, exit codes and messages, with real runc, conmon,
netavark and overlay mounts.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import DISTRIBUTION_CONTAINERS_CONF, SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


def _worker() -> int:
    text = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return int(text) if text.isdigit() else 0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-pods"), seeded_registry.host) as runner:
        w = 60 + _worker() % 30  # a network of this module's own, clear of test_pods' ones
        runner.containers_conf.write_text(DISTRIBUTION_CONTAINERS_CONF + f'[network]\ndefault_network = "spcp{w}"\n'
                                          f'default_subnet = "10.125.{w}.0/24"\ndefault_bridge = "spcp{w}b"\n')
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)
        runner.run("network", "rm", "-f", f"spcp{w}", check=False)


@pytest.fixture
def sp(store: SealpodRunner) -> Iterator[SealpodRunner]:
    yield store
    store.run("pod", "rm", "-af", "-t", "0", check=False)
    store.run("rm", "-af", "-t", "0", check=False)


def _fails(sp: SealpodRunner, code: int, *args: str, input: str | None = None) -> str:
    res = sp.run(*args, check=False, input=input)
    assert res.returncode == code, res
    assert "Traceback" not in res.stderr
    return res.stderr


# --- 200-pod.bats -----------------------------------------------------------------------

def test_pod_basic_listing_is_empty(sp: SealpodRunner) -> None:
    for verb in ("list", "ls", "ps"):
        assert sp.run("pod", verb, "--noheading").stdout == ""


def test_pod_top_containers_in_different_pid_namespaces(sp: SealpodRunner) -> None:
    pod = sp.run("pod", "create", "--infra=false").stdout.strip()
    for _ in range(2):
        sp.run("run", "-d", "--pod", pod, IMAGE, "top", "-d", "2")
    deadline = time.monotonic() + 10
    out = ""
    while out.count("top -d 2") < 2 and time.monotonic() < deadline:
        out = sp.run("pod", "top", pod).stdout
        time.sleep(0.2)
    assert out.count("top -d 2") == 2 and "root" in out
    assert sp.run("--noout", "pod", "rm", "-f", "-t", "0", pod).stdout == ""


def test_pod_create_custom_infra_image_is_pulled(sp: SealpodRunner, tmp_path: Path) -> None:
    image = "i.do/not/exist:image"
    err = _fails(sp, 125, "pod", "create", "--infra-image", image)
    assert f"initializing source docker://{image}:" in err
    conf = tmp_path / "containers.conf"
    conf.write_text(f'[engine]\ninfra_image="{image}"\n')
    saved = sp.env["CONTAINERS_CONF"]
    sp.env["CONTAINERS_CONF"] = str(conf)
    try:
        assert f"initializing source docker://{image}:" in _fails(sp, 125, "pod", "create")
        assert f"initializing source docker://{image}:" in _fails(sp, 125, "create", "--pod", "new:test", IMAGE)
    finally:
        sp.env["CONTAINERS_CONF"] = saved
    assert sp.run("pod", "ps", "-q").stdout == ""


def test_pod_communicating_between_pods(sp: SealpodRunner) -> None:
    assert sp.run("pod", "exists", "podcomm", check=False).returncode == 1
    pod = sp.run("pod", "create", "--infra=true", "--name=podcomm").stdout.strip()
    assert sp.run("pod", "exists", pod).returncode == 0
    assert len(sp.run("pod", "inspect", "podcomm").stdout.splitlines()) >= 10
    listener = sp.run("run", "-d", "--pod", "podcomm", IMAGE, "nc", "-l", "-p", "5678").stdout.strip()
    assert sp.run("ps", "--format", "{{.Pod}}").stdout == f"{pod[:12]}\n{pod[:12]}\n"
    # The listener's stdin is /dev/null, so it half-closes at once; a talker reading a pipe could see that EOF
    # before `echo` wrote and leave without sending. A file is readable from the start, and busybox nc reads
    # stdin before the socket.
    for _ in range(50):  # until the listener listens: the talker's nc fails while nothing does
        if sp.run("run", "--rm", "--pod", "podcomm", IMAGE, "sh", "-c",
                  "echo hi-there > /tmp/msg && nc 127.0.0.1 5678 < /tmp/msg",
                  check=False).returncode == 0:
            break
        time.sleep(0.1)
    assert sp.run("wait", listener).stdout == "0\n"
    for _ in range(20):  # under load conmon may still be writing the log when the exit is recorded
        if sp.run("logs", listener).stdout:
            break
        time.sleep(0.1)
    assert sp.run("logs", listener).stdout == "hi-there\n"
    sp.run("rm", "-t", "0", "-f", listener)
    sp.run("pod", "rm", "podcomm")  # the infra container still runs: no --force needed, as in Podman
    assert sp.run("pod", "exists", pod, check=False).returncode == 1


def test_pod_communicating_via_dev_shm(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "shmpod")
    sp.run("run", "--rm", "--pod", "shmpod", IMAGE, "touch", "/dev/shm/test1")
    assert sp.run("run", "--rm", "--pod", "shmpod", IMAGE, "ls", "/dev/shm/test1").stdout == "/dev/shm/test1\n"
    sp.run("pod", "rm", "-f", "-t", "0", "shmpod")
    assert str(sp.runroot) not in Path("/proc/self/mountinfo").read_text()


def test_ipc_host_shares_the_hosts_dev_shm_and_mqueue(sp: SealpodRunner) -> None:
    out = sp.run("run", "--rm", "--ipc", "host", IMAGE, "grep", "-E", "shm|mqueue", "/proc/mounts").stdout
    assert "/dev/mqueue mqueue" in out and "/dev/shm" in out


def test_pod_create_hashtag_all_the_options(sp: SealpodRunner, tmp_path: Path) -> None:
    id_file = tmp_path / "pod-id-file"
    pod = sp.run("pod", "create", "--name=mypod", f"--pod-id-file={id_file}", "--mac-address=02:1a:2b:3c:4d:5e",
                 "--hostname=host1.example.net", "--add-host", "extra.abc.xyz:172.20.9.8", "--dns", "172.20.1.2",
                 "--dns-search", "srch.abc", "--dns-option", "ndots:3", "--label", "lname=lvalue",
                 "--infra-image", IMAGE, "--infra-command", "sleep 1000", "--infra-name", "infra_ctr_x"
                 ).stdout.strip()
    assert id_file.read_text() == pod
    infra = sp.run("pod", "inspect", "--format", "{{(index .Containers 0).ID}}", "mypod").stdout.strip()
    assert sp.run("container", "inspect", "--format", "{{.Config.Entrypoint}}", infra).stdout == "sleep 1000\n"
    assert sp.run("container", "inspect", "--format", "{{.Name}}", infra).stdout == "infra_ctr_x\n"
    assert "link/ether 02:1a:2b:3c:4d:5e " in sp.run("run", "--rm", "--pod", "mypod", IMAGE, "ip", "link",
                                                      "show").stdout
    assert sp.run("run", "--rm", "--pod", "mypod", IMAGE, "hostname").stdout == "host1.example.net\n"
    err = _fails(sp, 125, "run", "--rm", "--pod", "mypod", "--hostname", "foobar", IMAGE, "hostname")
    assert "invalid config provided: cannot set hostname when joining the pod UTS namespace: invalid " \
           "configuration" in err
    hosts = sp.run("run", "--rm", "--pod", pod, IMAGE, "cat", "/etc/hosts").stdout
    assert "172.20.9.8\textra.abc.xyz" in hosts and "\thost1.example.net" in hosts
    resolv = sp.run("run", "--rm", "--pod", "mypod", IMAGE, "cat", "/etc/resolv.conf").stdout
    assert "nameserver 172.20.1.2" in resolv and "search srch.abc" in resolv and "options ndots:3" in resolv
    assert sp.run("pod", "inspect", "--format", "{{.Name}}: {{.ID}} : {{.NumContainers}} : {{.Labels}}",
                  "mypod").stdout == f"mypod: {pod} : 1 : map[lname:lvalue]\n"
    assert sp.run("pod", "ps", "--format", "{{.ID}} {{.Name}} {{.Status}} {{.Labels}}").stdout == \
        f"{pod[:12]} mypod Running map[lname:lvalue]\n"
    assert sp.run("pod", "ps", "--no-trunc", "--filter", "label=lname=lvalue", "--format", "{{.ID}}").stdout == \
        f"{pod}\n"


def test_default_sysctls_reach_containers(sp: SealpodRunner) -> None:
    """containers.conf's ``net.ipv4.ping_group_range=0 0``, as Podman sets it."""
    out = sp.run("run", "--rm", IMAGE, "cat", "/proc/sys/net/ipv4/ping_group_range").stdout
    assert out.split() == ["0", "0"]


def test_pod_create_fails_when_infra_name_in_use(sp: SealpodRunner) -> None:
    assert sp.run("--noout", "pod", "create", "--name", "firstpod", "--infra-name", "infra_taken").stdout == ""
    err = _fails(sp, 125, "pod", "create", "--infra-name", "infra_taken")
    holder = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "firstpod").stdout.strip()
    assert err.startswith("Error: creating container storage: the container name \"infra_taken\" is already in "
                          f"use by {holder}. You have to remove that container to be able to reuse that name: "
                          "that name is already in use")


def test_pod_create_share(sp: SealpodRunner) -> None:
    err = _fails(sp, 125, "pod", "create", "--share", "bogus", "--name", "sharepod")
    assert "invalid kernel namespace to share: bogus. Options are: cgroup, ipc, net, pid, uts or none" in err
    sp.run("pod", "create", "--share", "ipc", "--name", "sharepod")
    assert sp.run("pod", "inspect", "sharepod", "--format", "{{.SharedNamespaces}}").stdout == "[ipc]\n"
    assert sp.run("run", "--rm", "--pod", "sharepod", "--hostname", "foobar", IMAGE, "hostname").stdout == \
        "foobar\n"
    sp.run("pod", "create", "--share", "+pid", "--replace", "--name", "sharepod")
    shared = sp.run("pod", "inspect", "sharepod", "--format", "{{.SharedNamespaces}}").stdout
    assert all(ns in shared for ns in ("uts", "pid", "ipc", "net"))


def test_pod_create_new_pod_hostname(sp: SealpodRunner) -> None:
    assert sp.run("run", "--rm", "--pod", "new:hostpod", "--hostname", "foobar", IMAGE, "hostname").stdout == \
        "foobar\n"
    sp.run("pod", "rm", "hostpod")
    assert sp.run("run", "--rm", "--pod", "new:hostpod", IMAGE, "hostname").stdout == "hostpod\n"


def test_rm_force_to_remove_infra_container(sp: SealpodRunner) -> None:
    member = sp.run("create", "--pod", "new:rminfra", IMAGE).stdout.strip()
    infra = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "rminfra").stdout.strip()
    for flags in ((), ("--force",)):
        assert "and cannot be removed without removing the pod" in _fails(sp, 125, "container", "rm", *flags,
                                                                           infra)
    out = sp.run("container", "rm", "--depend", infra).stdout
    assert infra in out and member in out
    assert sp.run("pod", "exists", "rminfra", check=False).returncode == 1
    ids = [sp.run("create", "--pod", "new:rminfra", IMAGE).stdout.strip(),
           sp.run("create", "--pod", "rminfra", IMAGE).stdout.strip(), sp.run("create", IMAGE).stdout.strip()]
    infra = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "rminfra").stdout.strip()
    out = sp.run("container", "rm", "--force", "--all").stdout
    assert all(i in out for i in (infra, *ids))


@pytest.mark.parametrize(("args", "host"), [
    (["--name", "nettest"], "false"), (["--share", "ipc", "--network", "private", "nettest"], "false"),
    (["--name", "nettest", "--share", "net", "--network", "private"], "false"),
    (["--share", "net", "--network", "host", "nettest"], "true"),
    (["--name", "nettest", "--share", "ipc", "--network", "host"], "true"),
])
def test_pod_create_share_net(sp: SealpodRunner, args: list[str], host: str) -> None:
    sp.run("pod", "create", *args)
    assert sp.run("pod", "inspect", "nettest", "--format", "{{.InfraConfig.HostNetwork}}").stdout == f"{host}\n"


def _pod_state(sp: SealpodRunner, pod: str, want: str) -> None:
    deadline = time.monotonic() + 10
    while (state := sp.run("pod", "inspect", pod, "--format", "{{.State}}").stdout.strip()) != want:
        assert time.monotonic() < deadline, f"pod {pod} is {state}, not {want}"
        time.sleep(0.1)


def test_pod_exit_policies(sp: SealpodRunner) -> None:
    pod = sp.run("pod", "create").stdout.strip()
    assert sp.run("pod", "inspect", pod, "--format", "{{.ExitPolicy}}").stdout == "continue\n"
    sp.run("run", "--pod", pod, IMAGE, "true")
    _pod_state(sp, pod, "Degraded")
    err = _fails(sp, 125, "pod", "create", "--exit-policy", "invalid")
    assert err == 'Error: running pod create option: invalid pod exit policy: "invalid"\n'
    pod = sp.run("pod", "create", "--exit-policy", "stop").stdout.strip()
    assert sp.run("pod", "inspect", pod, "--format", "{{.ExitPolicy}}").stdout == "stop\n"
    sp.run("run", "--pod", pod, IMAGE, "true")
    _pod_state(sp, pod, "Exited")


def test_pod_exit_policies_play_kube(sp: SealpodRunner, tmp_path: Path) -> None:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "exitpol-pod"},
           "spec": {"restartPolicy": "OnFailure", "containers": [{"command": ["true"], "image": IMAGE,
                                                                  "name": "ctr"}]}}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(doc))
    sp.run("play", "kube", str(tmp_path / "test.yaml"))
    assert sp.run("pod", "inspect", "exitpol-pod", "--format", "{{.ExitPolicy}}").stdout == "stop\n"
    _pod_state(sp, "exitpol-pod", "Exited")


def test_pod_ps_does_not_race_with_pod_rm(sp: SealpodRunner) -> None:
    for _ in range(6):
        sp.run("pod", "create")
    remover = subprocess.Popen(sp.argv("pod", "rm", "-a"), env=sp.env, stdout=subprocess.DEVNULL)
    try:
        sp.run("pod", "ps", "-q")
    finally:
        assert remover.wait(60) == 0


def test_pod_rm_force_bogus(sp: SealpodRunner) -> None:
    err = _fails(sp, 1, "pod", "rm", "bogus")
    assert err.startswith("Error: ") and "bogus" in err and "no such pod" in err
    res = sp.run("pod", "rm", "--force", "bogus")
    assert res.stdout == res.stderr == ""


def test_pod_rm_without_force_refuses_running_members(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "busy")
    ctr = sp.run("run", "-d", "--pod", "busy", IMAGE, "sleep", "100").stdout.strip()
    err = _fails(sp, 125, "pod", "rm", "busy")
    assert f"removing container {ctr} from pod " in err and "cannot be removed without force" in err


# --- pod --userns and pod stats (the two gaps of the pod implementation) -------------------

def test_pod_userns_members_join_the_infra_user_namespace(sp: SealpodRunner) -> None:
    for parent in sp.root.parents:  # runc reaches the rootfs from inside the user namespace (tmp dirs are 0700)
        if parent != Path("/") and not parent.stat().st_mode & 0o001:
            parent.chmod(parent.stat().st_mode | 0o011)
    sp.run("pod", "create", "--name", "userpod", "--userns", "auto:size=5000", "--network", "none")
    member = sp.run("run", "--rm", "--pod", "userpod", IMAGE, "cat", "/proc/self/uid_map").stdout.split()
    assert member[0] == "0" and member[2] == "5000" and member[1] != "0"
    infra = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "userpod").stdout.strip()
    infra_pid = sp.run("inspect", "--format", "{{.State.Pid}}", infra).stdout.strip()
    assert Path(f"/proc/{infra_pid}/uid_map").read_text().split() == member
    ctr = sp.run("run", "-d", "--pod", "userpod", IMAGE, "sleep", "100").stdout.strip()
    pid = sp.run("inspect", "--format", "{{.State.Pid}}", ctr).stdout.strip()
    assert os.readlink(f"/proc/{pid}/ns/user") == os.readlink(f"/proc/{infra_pid}/ns/user")
    err = _fails(sp, 125, "run", "--rm", "--pod", "userpod", "--userns", "host", IMAGE, "true")
    assert err == "Error: --userns and --pod cannot be set together\n"  # Podman 4.3.1, before any pull


def test_pod_userns_auto_shares_user_and_bridge_network_namespaces(sp: SealpodRunner) -> None:
    """As Podman: the infra's network namespace is made inside its user namespace and configured
    afterwards, so members (which enter the user namespace first) can join both."""
    sp.make_searchable()
    sp.run("pod", "create", "--name", "uspod", "--userns", "auto", "-p", "80")
    try:
        member = sp.run("run", "--rm", "--pod", "uspod", IMAGE, "sh", "-c",
                        "cat /proc/self/uid_map; cat /etc/hosts; ls /sys/class/net").stdout
        uid_map = member.split()[:3]
        assert uid_map[0] == "0" and uid_map[1] != "0"  # a mapped root, not the host's
        assert "eth0" in member.split()
        infra = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "uspod").stdout.strip()
        ip = sp.run("inspect", "--format", "{{.NetworkSettings.IPAddress}}", infra).stdout.strip()
        assert ip and ip in member  # the hosts file names the address set up after the infra was created
    finally:
        sp.run("pod", "rm", "-f", "uspod")


def test_pod_stats_streams_unless_no_stream(sp: SealpodRunner) -> None:
    pod = sp.run("pod", "create", "--name", "statpod").stdout.strip()
    ctr = sp.run("run", "-d", "--pod", "statpod", "--name", "statctr", IMAGE, "top").stdout.strip()
    out = sp.run("pod", "stats", "--no-stream", "statpod").stdout.splitlines()
    assert out[0].split() == ["POD", "CID", "NAME", "CPU", "%", "MEM", "USAGE/", "LIMIT", "MEM", "%", "NET", "IO",
                              "BLOCK", "IO", "PIDS"]
    assert any(line.startswith(f"{pod[:12]}  {ctr[:12]}  statctr ") for line in out[1:])
    docs = json.loads(sp.run("pod", "stats", "--no-stream", "--format", "json", "statpod").stdout)
    assert {d["Name"] for d in docs} >= {"statctr"}
    assert set(docs[0]) == {"CPU", "MemUsage", "MemUsageBytes", "Mem", "NetIO", "BlockIO", "PIDS", "Pod", "CID",
                            "Name"}
    proc = subprocess.Popen(sp.argv("pod", "stats", "--no-reset", "--format", "{{.Name}}", "statpod"), env=sp.env,
                            stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2.6)
    finally:
        proc.terminate()
    assert proc.communicate(timeout=10)[0].count("statctr\n") >= 2  # a sample each second
    _fails(sp, 125, "pod", "stats", "--no-stream", "nosuchpod")


# --- 700-play.bats ------------------------------------------------------------------------

def _play_yaml(tmp_path: Path, **meta: object) -> Path:
    testdir = tmp_path / "testdir"
    testdir.mkdir(exist_ok=True)
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"app": "test"}, "name": "test_pod", **meta},
           "spec": {"containers": [{"command": ["sleep", "100"], "image": IMAGE, "name": "test",
                                    "env": [{"name": "TERM", "value": "xterm"}], "resources": {},
                                    "volumeMounts": [{"mountPath": "/testdir:z", "name": "home-podman-testdir"}],
                                    "workingDir": "/"}],
                    "volumes": [{"hostPath": {"path": str(testdir), "type": "Directory"},
                                 "name": "home-podman-testdir"}]}, "status": {}}
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_play_network(sp: SealpodRunner, tmp_path: Path) -> None:
    path = _play_yaml(tmp_path)
    sp.run("play", "kube", "--network", "host", str(path))  # Podman 4.3 takes host (and bridge) here
    assert sp.run("pod", "inspect", "--format", "{{.InfraConfig.HostNetwork}}", "test_pod").stdout == "true\n"
    sp.run("pod", "rm", "-f", "-t", "0", "test_pod")
    sp.run("play", "kube", "--network", "none", str(path))
    infra = sp.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "test_pod").stdout.strip()
    assert sp.run("container", "inspect", "--format", "{{.HostConfig.NetworkMode}}", infra).stdout == "none\n"


def test_play_annotation_too_long(sp: SealpodRunner, tmp_path: Path) -> None:
    long = "x" * 65
    err = _fails(sp, 125, "play", "kube", "--annotation", f"name={long}", str(_play_yaml(tmp_path)))
    assert "annotation exceeds maximum size, 63, of kubernetes annotation:" in err
    path = _play_yaml(tmp_path, annotations={"test": long})
    assert f'invalid annotation "test"="{long}"' in _fails(sp, 125, "play", "kube", "-", input=path.read_text())
    assert sp.run("pod", "ps", "-q").stdout == ""


def test_play_kube_default_log_driver(sp: SealpodRunner, tmp_path: Path) -> None:
    driver = sp.run("info", "--format", "{{.Host.LogDriver}}").stdout
    sp.run("play", "kube", str(_play_yaml(tmp_path)))
    assert sp.run("inspect", "--format", "{{.HostConfig.LogConfig.Type}}", "test_pod-test").stdout == driver


# --- 710-kube.bats ------------------------------------------------------------------------

def test_kube_generate_pod_with_only_infra_fails(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "genpod", "--publish", "9999:8888")
    err = _fails(sp, 125, "kube", "generate", "genpod")
    assert err.startswith("Error: ") and err.rstrip().endswith("only has an infra container")
    sp.run("container", "create", "--cap-drop", "fowner", "--cap-drop", "setfcap", "--name", "genc1", "--pod",
           "genpod", IMAGE, "top")
    doc = yaml.safe_load(sp.run("kube", "generate", "genpod").stdout.split("---\n", 1)[-1])
    c0 = doc["spec"]["containers"][0]
    assert doc["metadata"]["name"] == "genpod" and doc["spec"]["hostname"] == "genpod"
    assert c0["ports"] == [{"containerPort": 8888, "hostPort": 9999}]
    # Podman 4.3.1 (what runs here): the runtime caps a cluster would add come out dropped too, in its order
    assert c0["securityContext"]["capabilities"] == {"drop": ["CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                                                              "CAP_SETFCAP", "CAP_AUDIT_WRITE"]}
