"""Podman 4.3.1's e2e tests of pods (test/e2e/pod_inspect_test.go, pod_kill_test.go,
pod_pause_test.go, pod_pod_namespaces_test.go, pod_prune_test.go, pod_stats_test.go), as sealpod
must behave: real conmon and runc.  Their ``top`` containers run ``sleep`` here (busybox image);
pods without infra are made as the e2e helper makes them (``--infra=false --share ""``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-pods-more"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-fa", "-t", "0", check=False)


@pytest.fixture
def sp(ctr: SealpodRunner) -> Iterator[SealpodRunner]:
    """The module's store, emptied of pods and containers after each test (the e2e tests count them)."""
    yield ctr
    ctr.run("pod", "rm", "-fa", "-t", "0", check=False)
    ctr.run("rm", "-fa", "-t", "0", check=False)


def _bare_pod(sp: SealpodRunner, *args: str) -> str:
    """The e2e helper's CreatePod: no infra, nothing shared."""
    return sp.run("pod", "create", "--infra=false", "--share", "", *args).stdout.strip()


def _top(sp: SealpodRunner, pod: str, *args: str) -> str:
    """The e2e helper's RunTopContainerInPod, with a command the busybox image has."""
    return sp.run("run", *args, "-d", "--pod", pod, IMAGE, "sleep", "1000").stdout.strip()


def _running(sp: SealpodRunner) -> list[str]:
    return sp.run("ps", "-q").stdout.split()


# --- pod_inspect_test.go ----------------------------------------------------------------------

def test_pod_inspect_bogus(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman inspect bogus pod"""
    out = sp.run("pod", "inspect", "foobar", check=False)
    assert (out.returncode, out.stdout, out.stderr) == (125, "[]\n", "Error: inspecting object: no such pod foobar\n")
    # several misses: the later ones first, then the first one fails the command (Podman's inspect)
    out = sp.run("pod", "inspect", "foo", "bar", check=False)
    assert (out.returncode, out.stdout) == (125, "[]\n")
    assert out.stderr == "error inspecting object: no such pod bar\nError: inspecting object: no such pod foo\n"
    out = sp.run("pod", "inspect", "--format", "{{.Name}}", "foo", check=False)
    assert (out.returncode, out.stdout) == (125, "")
    out = sp.run("pod", "inspect", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: no names or ids specified\n")
    out = sp.run("pod", "inspect", "--latest", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: no such pod\n")


def test_pod_inspect_a_pod(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman inspect a pod"""
    pod = _bare_pod(sp)
    ids = [_top(sp, pod), _top(sp, pod)]
    out = sp.run("pod", "inspect", pod).stdout
    assert out.startswith('{\n     "Id": ')  # one pod: an object, indented as Podman's (5 spaces)
    doc = json.loads(out)
    assert doc["Id"] == pod and doc["NumContainers"] == 2 and doc["State"] == "Running"
    assert [c["Id"] for c in doc["Containers"]] == sorted(ids)  # Podman's state DB lists them by ID
    assert sp.run("pod", "inspect", "--latest", "--format", "{{.ID}}").stdout == pod + "\n"
    out = sp.run("pod", "inspect", "--latest", pod, check=False)
    assert (out.returncode, out.stderr) == (125, "Error: --latest and arguments cannot be used together\n")


def test_pod_inspect_create_command(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman pod inspect (CreateCommand)"""
    create = ["pod", "create", "--name", "myTestPod", "--hostname", "rudolph", "--share", "net"]
    sp.run(*create)
    doc = json.loads(sp.run("pod", "inspect", "myTestPod").stdout)
    assert doc["CreateCommand"][-len(create):] == create


def test_pod_inspect_port_bindings(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman pod inspect outputs port bindings"""
    sp.run("pod", "create", "--name", "testPod", "-p", "8383:80")
    doc = json.loads(sp.run("pod", "inspect", "testPod").stdout)
    assert doc["InfraConfig"]["PortBindings"]["80/tcp"] == [{"HostIp": "", "HostPort": "8383"}]


def test_pod_inspect_mac(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman pod inspect outputs show correct MAC"""
    mac = "42:43:44:00:00:01"
    sp.run("pod", "create", "--name", "macPod", "--mac-address", mac)
    cid = _top(sp, "macPod")
    assert mac in sp.run("pod", "inspect", "macPod").stdout
    assert sp.run("inspect", cid, "--format", "{{.NetworkSettings.MacAddress}}").stdout.strip() == mac


def test_pod_inspect_two_pods(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman inspect two pods"""
    first, second = _bare_pod(sp), _bare_pod(sp)
    docs = json.loads(sp.run("pod", "inspect", first, second).stdout)
    assert [d["Id"] for d in docs] == [first, second]
    # Podman prints a lone pod found as an object even when another name missed
    out = sp.run("pod", "inspect", first, "foobar", check=False)
    assert out.returncode == 125 and json.loads(out.stdout)["Id"] == first
    assert out.stderr == "Error: inspecting object: no such pod foobar\n"
    out = sp.run("inspect", "--type", "pod", first)
    assert out.stdout.startswith('[\n     {\n          "Id": ')  # inspect's JSON: a list, 5-space indent


def test_inspect_misses_in_podman_order(sp: SealpodRunner) -> None:
    """e2e pod_inspect_test.go: podman inspect bogus pod (the inspect command's own error order)"""
    out = sp.run("inspect", "--type", "container", "foo", "bar", "baz", check=False)
    assert (out.returncode, out.stdout) == (125, "[]\n")
    assert out.stderr == ("error inspecting object: no such container bar\n"
                          "error inspecting object: no such container baz\n"
                          "Error: inspecting object: no such container foo\n")


# --- pod_kill_test.go -------------------------------------------------------------------------

def test_pod_kill_bogus(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill bogus"""
    out = sp.run("pod", "kill", "foobar", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: no pod with name or ID foobar found: no such pod\n")


def test_pod_kill_by_id_and_name(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill a pod by id / by id with TERM / by name"""
    pod = _bare_pod(sp, "--name", "test1")
    _top(sp, pod), _top(sp, pod)
    assert sp.run("pod", "kill", pod).stdout == pod + "\n"
    assert _running(sp) == []
    # nothing left running is no error for Podman's CLI: it still names the pod
    assert sp.run("pod", "kill", pod).stdout == pod + "\n"
    _top(sp, pod)
    assert sp.run("pod", "kill", "-s", "9", pod).stdout == pod + "\n"
    assert _running(sp) == []
    _top(sp, pod)
    assert sp.run("pod", "kill", "test1").stdout == pod + "\n"
    assert _running(sp) == []


def test_pod_kill_bogus_signal(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill a pod by id with a bogus signal"""
    pod = _bare_pod(sp, "--name", "test1")
    _top(sp, pod)
    out = sp.run("pod", "kill", "-s", "bogus", "test1", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: invalid signal: bogus\n")
    assert len(_running(sp)) == 1
    for sig in ("0", "SIGBADSIG", "-0"):  # 130-kill.bats: refused before the pod is looked up
        out = sp.run("pod", "kill", "-s", sig, "nosuchpod", check=False)
        assert (out.returncode, out.stderr) == (125, f"Error: invalid signal: {sig.lstrip('-')}\n")


def test_pod_kill_latest(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill latest pod"""
    first = _bare_pod(sp)
    _top(sp, first)
    latest = _bare_pod(sp)
    _top(sp, latest), _top(sp, latest)
    assert sp.run("pod", "kill", "-l").stdout == latest + "\n"
    assert len(_running(sp)) == 1
    out = sp.run("pod", "kill", "-l", first, check=False)
    assert (out.returncode, out.stderr) == (125, "Error: --latest and containers cannot be used together\n")


def test_pod_kill_all(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill all"""
    pods = [_bare_pod(sp), _bare_pod(sp)]
    _top(sp, pods[0]), _top(sp, pods[0]), _top(sp, pods[1])
    assert sp.run("pod", "kill", "-a").stdout.split() == sorted(pods)  # by ID, as Podman's state DB
    assert _running(sp) == []
    assert sp.run("pod", "kill", "-a").stdout.split() == sorted(pods)
    out = sp.run("pod", "kill", "-a", pods[0], check=False)
    assert (out.returncode, out.stderr) == (125, "Error: no arguments are needed with --all\n")
    out = sp.run("pod", "kill", "--pod-id-file", "/nonexistent", check=False)
    assert out.returncode == 125 and out.stderr.startswith("Error: unknown flag: --pod-id-file\n")


def test_pod_lifecycle_names_looked_up_first(sp: SealpodRunner) -> None:
    """e2e pod_kill_test.go: podman pod kill bogus (a missing pod among others: Podman acts on none)"""
    pod = _bare_pod(sp, "--name", "m1")
    _top(sp, pod)
    for verb in ("kill", "pause", "stop", "restart"):
        out = sp.run("pod", verb, "m1", "foo", "bar", check=False)
        assert (out.returncode, out.stdout) == (125, ""), verb
        assert out.stderr == "Error: no pod with name or ID foo found: no such pod\n"
        assert len(_running(sp)) == 1, verb
    out = sp.run("pod", "rm", "m1", "foo", check=False)
    assert (out.returncode, out.stderr) == (1, "Error: no pod with name or ID foo found: no such pod\n")
    # --force alone: a missing pod makes Podman 4.3 remove nothing, silently; --ignore goes on with the rest
    assert sp.run("pod", "rm", "-f", "foo", "m1").stdout == ""
    assert sp.run("pod", "exists", "m1", check=False).returncode == 0
    out = sp.run("pod", "rm", "-t", "0", "m1", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: --force option must be specified to use the --time option\n")
    assert sp.run("pod", "rm", "-f", "-i", "-t", "0", "foo", "m1").stdout == pod + "\n"


def test_pod_kill_api_needs_a_running_member(api: ApiService) -> None:
    """e2e pod_kill_test.go: podman pod kill a pod by id (the REST API refuses a pod with nothing running)"""
    pod = api.runner.run("pod", "create", "--infra=false", "--share", "", "--name", "idle").stdout.strip()
    try:
        status, data = api.request("POST", "/v4.3.1/libpod/pods/idle/kill")
        assert status == 409
        assert json.loads(data)["message"] == f"cannot kill a pod with no running containers: {pod}"
    finally:
        api.runner.run("pod", "rm", "-f", "idle", check=False)


# --- pod_pause_test.go ------------------------------------------------------------------------

def test_pod_pause_unpause_bogus(sp: SealpodRunner) -> None:
    """e2e pod_pause_test.go: podman pod pause bogus pod / podman unpause bogus pod"""
    for verb in ("pause", "unpause"):
        out = sp.run("pod", verb, "foobar", check=False)
        assert (out.returncode, out.stderr) == (125, "Error: no pod with name or ID foobar found: no such pod\n")


def test_pod_pause_created_pod(sp: SealpodRunner) -> None:
    """e2e pod_pause_test.go: podman pod pause a created pod by id"""
    pod = _bare_pod(sp)
    assert sp.run("pod", "pause", pod).stdout == pod + "\n"
    assert sp.run("pod", "unpause", pod).stdout == ""  # nothing paused: Podman leaves it and names nothing


def test_pod_pause_running_pod(sp: SealpodRunner) -> None:
    """e2e pod_pause_test.go: pause a running pod by id / unpause a paused pod by id / by name"""
    pod = _bare_pod(sp, "--name", "test1")
    cid = _top(sp, pod)
    assert sp.run("pod", "pause", "test1").stdout == pod + "\n"
    assert _running(sp) == []  # ps without --all lists running containers only, not paused ones
    assert sp.run("ps", "--all", "--format", "{{.Status}}").stdout == "Paused\n"
    assert sp.run("ps", "--filter", "status=paused", "-q", "--no-trunc").stdout == cid + "\n"
    assert sp.run("pod", "unpause", pod).stdout == pod + "\n"
    assert _running(sp) == [cid[:12]]
    assert sp.run("pod", "unpause", "test1").stdout == ""


def test_pod_unpause_all(sp: SealpodRunner) -> None:
    """e2e pod_pause_test.go: unpause --all"""
    first, second = _bare_pod(sp), _bare_pod(sp)
    _top(sp, first), _top(sp, second)
    assert sp.run("pod", "pause", first).stdout == first + "\n"
    assert len(_running(sp)) == 1
    assert "Paused" in sp.run("ps", "-a", "--format", "{{.Status}}").stdout
    assert sp.run("pod", "unpause", "--all").stdout == first + "\n"  # only the pod that was paused
    assert len(_running(sp)) == 2
    assert sp.run("pod", "pause", "-a").stdout.split() == sorted([first, second])
    out = sp.run("pod", "pause", "-a", first, check=False)
    assert (out.returncode, out.stderr) == (125, "Error: no arguments are needed with --all\n")
    assert sp.run("pod", "unpause", "-a").stdout.split() == sorted([first, second])


# --- pod_pod_namespaces_test.go ---------------------------------------------------------------

def test_pod_container_namespaces(sp: SealpodRunner) -> None:
    """e2e pod_pod_namespaces_test.go: podman pod container share Namespaces / dontshare PIDNS"""
    pod = sp.run("pod", "create").stdout.strip()
    sp.run("pod", "start", pod)
    _top(sp, pod)
    shared = sp.run("ps", "-a", "--ns", "--format", "{{.Namespaces.IPC}} {{.Namespaces.UTS}} {{.Namespaces.NET}}")
    lines = shared.stdout.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0].strip()
    pidns = sp.run("ps", "-a", "--ns", "--format", "{{.Namespaces.PIDNS}}").stdout.splitlines()
    assert len(pidns) == 2 and pidns[0] != pidns[1]
    # the whole struct, as Go prints it: its seven inode numbers in field order
    whole = sp.run("ps", "-a", "--ns", "--format", "{{.Namespaces}}").stdout.splitlines()
    assert all(w.startswith("{") and w.endswith("}") and len(w[1:-1].split(" ")) == 7 for w in whole), whole
    keys = json.loads(sp.run("ps", "-a", "--ns", "--format", "json").stdout)[0]["Namespaces"]
    assert list(keys) == ["Mnt", "Cgroup", "Ipc", "Net", "Pidns", "Uts", "User"]


def test_pod_container_share_ipc_shm(sp: SealpodRunner) -> None:
    """e2e pod_pod_namespaces_test.go: podman pod container share ipc && /dev/shm"""
    pod = sp.run("pod", "create").stdout.strip()
    sp.run("pod", "start", pod)
    sp.run("run", "--rm", "--pod", pod, IMAGE, "touch", "/dev/shm/test")
    assert sp.run("run", "--rm", "--pod", pod, IMAGE, "ls", "/dev/shm/test").stdout == "/dev/shm/test\n"


# --- pod_prune_test.go ------------------------------------------------------------------------

def test_pod_prune_empty_pod(sp: SealpodRunner) -> None:
    """e2e pod_prune_test.go: podman pod prune empty pod"""
    pod = _bare_pod(sp)
    assert sp.run("pod", "prune", "--force").stdout == ""
    assert sp.run("pod", "ps", "-q").stdout == pod + "\n"  # a created pod stays; -q gives whole IDs


def test_pod_prune_keeps_running(sp: SealpodRunner) -> None:
    """e2e pod_prune_test.go: podman pod prune doesn't remove a pod with a running container"""
    pod = _bare_pod(sp)
    _top(sp, pod)
    assert sp.run("pod", "prune", "-f").stdout == ""
    assert len(sp.run("ps", "-qa").stdout.split()) == 1


def test_pod_prune_removes_stopped(sp: SealpodRunner) -> None:
    """e2e pod_prune_test.go: podman pod prune removes a pod with a stopped container"""
    pod = _bare_pod(sp)
    cid = sp.run("run", "--pod", pod, "-d", IMAGE, "ls").stdout.strip()
    sp.run("wait", cid)
    assert sp.run("pod", "prune", "-f").stdout == pod + "\n"
    assert sp.run("ps", "-qa").stdout == ""


def test_pod_prune_prompt(sp: SealpodRunner) -> None:
    """e2e pod_prune_test.go: podman pod prune empty pod (without --force: Podman's prompt)"""
    prompt = "WARNING! This will remove all stopped/exited pods..\nAre you sure you want to continue? [y/N] "
    declined = sp.run("pod", "prune", input="n\n")
    assert (declined.returncode, declined.stdout) == (0, prompt)
    eof = sp.run("pod", "prune", input="", check=False)
    assert (eof.returncode, eof.stdout, eof.stderr) == (125, prompt, "Error: EOF\n")
    pod = _bare_pod(sp)
    sp.run("wait", sp.run("run", "--pod", pod, "-d", IMAGE, "true").stdout.strip())
    assert sp.run("pod", "prune", input="Yup\n").stdout == prompt + pod + "\n"  # any answer starting with y


# --- pod_stats_test.go ------------------------------------------------------------------------

def test_pod_stats_no_pods(sp: SealpodRunner) -> None:
    """e2e pod_stats_test.go: podman pod stats should run with no pods"""
    out = sp.run("pod", "stats", "--no-stream").stdout.splitlines()
    assert out[0].split() == ["POD", "CID", "NAME", "CPU", "%", "MEM", "USAGE/", "LIMIT", "MEM", "%", "NET", "IO",
                              "BLOCK", "IO", "PIDS"]
    assert out[1:] and out[1].split() == ["--"] * 9
    assert sp.run("pod", "stats", "--no-stream", "--format", "{{.Pod}}").stdout == ""
    out2 = sp.run("pod", "stats", "-l", check=False)
    assert (out2.returncode, out2.stderr) == (125, "Error: unable to get list of pods: no such pod\n")


def test_pod_stats_bogus(sp: SealpodRunner) -> None:
    """e2e pod_stats_test.go: podman pod stats with a bogus pod"""
    out = sp.run("pod", "stats", "foobar", check=False)
    assert (out.returncode, out.stderr) == (
        125, "Error: unable to get list of pods: no pod with name or ID foobar found: no such pod\n")
    out = sp.run("pod", "stats", "-l", "foobar", check=False)
    assert (out.returncode, out.stderr) == (125, "Error: --all, --latest and arguments cannot be used together\n")


def test_pod_stats_running_pod(sp: SealpodRunner) -> None:
    """e2e pod_stats_test.go: podman pod stats on a specific running pod / with shortID / with name /
    on running pods / on all pods / with json output"""
    pod = _bare_pod(sp, "--name", "test")
    ids = sorted([_top(sp, pod), _top(sp, pod)])
    for args in ([pod], [pod[:5]], ["test"], [], ["-a"]):
        lines = sp.run("pod", "stats", "--no-stream", *args).stdout.splitlines()
        assert [line.split()[:2] for line in lines[1:]] == [[pod[:12], i[:12]] for i in ids], args
    rows = json.loads(sp.run("pod", "stats", "--format", "json", "--no-stream", "-a").stdout)
    assert [r["CID"] for r in rows] == [i[:12] for i in ids]
    for row in rows:
        assert row["PIDS"] == "1" and row["Pod"] == pod[:12]
        # a pair of zeros is Podman's "-- / --", never "0B / 0B"
        assert not any(v.startswith("0B / 0B") for v in row.values()), row


def test_pod_stats_templates(sp: SealpodRunner) -> None:
    """e2e pod_stats_test.go: podman pod stats with GO template / with invalid GO template"""
    pod = _bare_pod(sp)
    _top(sp, pod)
    fmt = "table {{.CID}} {{.Pod}} {{.Mem}} {{.MemUsage}} {{.CPU}} {{.NetIO}} {{.BlockIO}} {{.PIDS}} {{.Pod}}"
    out = sp.run("pod", "stats", "-a", "--no-reset", "--no-stream", "--format", fmt).stdout.splitlines()
    assert out[0].split() == ["CID", "POD", "MEM", "MEM", "USAGE/", "LIMIT", "CPU", "%", "NET", "IO", "BLOCK", "IO",
                              "PIDS", "POD"]
    assert len(out) == 2 and out[1].split()[1] == pod[:12]
    # a template without "table" gets the header line too, as Podman's pod stats prints it
    plain = sp.run("pod", "stats", "-a", "--no-stream", "--format", "{{.Pod}} {{.Mem}}").stdout.splitlines()
    assert plain[0] == "POD MEM" and plain[1].startswith(pod[:12] + " ")
    bad = sp.run("pod", "stats", "-a", "--no-reset", "--no-stream", "--format", '"table {{.ID}} "', check=False)
    assert bad.returncode == 125 and "can't evaluate field ID" in bad.stderr


def test_pod_stats_host_network(sp: SealpodRunner) -> None:
    """e2e pod_stats_test.go: podman pod stats on net=host post"""
    sp.run("pod", "create", "--net=host", "--name", "hostPod")
    cid = _top(sp, "hostPod")
    rows = json.loads(sp.run("pod", "stats", "--format", "json", "--no-stream", "hostPod").stdout)
    assert len(rows) == 2 and all(r["NetIO"] == "-- / --" for r in rows), rows  # the host's traffic is not theirs
    assert sp.run("stats", "--no-stream", "--format", "{{.NetIO}}", cid).stdout == "0B / 0B\n"


def test_pod_stats_api(api: ApiService) -> None:
    """e2e pod_stats_test.go: podman pod stats on a specific running pod (GET /libpod/pods/stats, which
    podman --remote and podman-py use)"""
    pod = api.runner.run("pod", "create", "--infra=false", "--share", "", "--name", "statpod").stdout.strip()
    try:
        cid = api.runner.run("run", "-d", "--network", "none", "--pod", pod, IMAGE, "sleep", "1000").stdout.strip()
        status, data = api.request("GET", "/v4.3.1/libpod/pods/stats?namesOrIDs=statpod")
        assert status == 200, data
        (row,) = json.loads(data)
        assert list(row) == ["CPU", "MemUsage", "MemUsageBytes", "Mem", "NetIO", "BlockIO", "PIDS", "Pod", "CID",
                             "Name"]
        assert (row["Pod"], row["CID"], row["PIDS"], row["NetIO"]) == (pod[:12], cid[:12], "1", "-- / --")
        status, data = api.request("GET", "/v4.3.1/libpod/pods/stats?namesOrIDs=nopod")
        assert status == 404
        assert json.loads(data)["message"] == ("unable to get list of pods: no pod with name or ID nopod found: "
                                               "no such pod")
    finally:
        api.runner.run("pod", "rm", "-f", "-t", "0", "statpod", check=False)
