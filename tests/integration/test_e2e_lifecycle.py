"""Conformance with Podman 4.3.1's e2e tests of the container lifecycle (test/e2e: ps, create, start,
stop, restart, rm, pause, init, rename, inspect, container inspect, clone, update): flags, filters,
outputs, exit codes and messages, against real conmon, runc and overlay mounts.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-life"), seeded_registry.host) as runner:
        yield runner


@pytest.fixture
def clean(sp: SealpodRunner) -> Iterator[SealpodRunner]:
    """The module's store, emptied of containers and pods after the test."""
    yield sp
    sp.run("pod", "rm", "-af", "-t", "0", check=False)
    sp.run("rm", "-af", "-t", "0", check=False)


def _fails(sp: SealpodRunner, code: int, *args: str) -> str:
    out = sp.run(*args, check=False)
    assert out.returncode == code, (args, out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    return out.stderr


def _lines(sp: SealpodRunner, *args: str) -> list[str]:
    return sp.run(*args).stdout.splitlines()


def _free_port_base() -> int:
    """A host port range nobody else's test is likely to hold (several suites run at once)."""
    return random.randrange(40000, 60000, 10)


# --- ps_test.go -------------------------------------------------------------------------

def test_ps_namespaces_field_table_and_json(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps namespace flag even for remote / --ns / --namespace"""
    sp = clean
    cid = sp.run("run", "-d", "--name", "nsrun", IMAGE, "sleep", "100").stdout.strip()
    sp.run("run", "--name", "nsdone", IMAGE, "true")
    fmt = "{{with .Namespaces}}{{.Cgroup}}:{{.IPC}}:{{.MNT}}:{{.NET}}:{{.PIDNS}}:{{.User}}:{{.UTS}}{{end}}"
    line = sp.run("ps", "--ns", "--format", fmt).stdout.strip()
    assert "::" not in line
    pid = sp.run("inspect", "--format", "{{.State.Pid}}", cid).stdout.strip()
    assert line.split(":")[3] == str(os.stat(f"/proc/{pid}/ns/net").st_ino)
    table = _lines(sp, "ps", "-a", "--namespace")
    assert table[0].split() == ["CONTAINER", "ID", "NAMES", "PID", "CGROUPNS", "IPC", "MNT", "NET", "PIDNS",
                                "USERNS", "UTS"]
    doc = json.loads(sp.run("ps", "-a", "--ns", "--format", "json").stdout)
    by_name = {d["Names"][0]: d for d in doc}
    assert set(by_name["nsrun"]["Namespaces"]) == {"Cgroup", "Ipc", "Mnt", "Net", "Pidns", "User", "Uts"}
    assert by_name["nsdone"]["Namespaces"] == {}


def test_ps_flag_conflicts_and_size_format_warning(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps mutually exclusive flags / podman --format by size"""
    sp = clean
    assert "quiet conflicts with size and namespace" in _fails(sp, 125, "ps", "-aqs")
    assert "size and namespace options conflict" in _fails(sp, 125, "ps", "-a", "--ns", "-s")
    sp.run("create", IMAGE, "true")
    out = sp.run("ps", "-a", "--format", "{{.Size}}")
    assert "Size format requires --size option" in out.stderr


def test_ps_quiet_with_format_and_sync(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps quiet template / podman ps sync flag"""
    sp = clean
    cid = sp.run("run", "-d", "--name", "quietctr", IMAGE, "sleep", "100").stdout.strip()
    assert _lines(sp, "ps", "-q", "-a", "--format", "{{ .Names }}") == ["quietctr"]
    assert _lines(sp, "ps", "-q", "--no-trunc", "--sync") == [cid]


def test_ps_networks_field_and_network_filter(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps --format networks / podman ps filter network"""
    sp = clean
    nets = [f"e2lnet{random.randrange(10**6)}", f"e2lnet{random.randrange(10**6)}"]
    for net in nets:
        sp.run("network", "create", net)
    try:
        plain = sp.run("create", IMAGE).stdout.strip()
        assert sp.run("ps", "-a", "--format", "{{.Networks}}", "--filter", f"id={plain}").stdout == "podman\n"
        both = sp.run("create", "--network", ",".join(nets), IMAGE).stdout.strip()
        shown = sp.run("ps", "-a", "--format", "{{.Networks}}", "--filter", f"id={both}").stdout.strip()
        assert sorted(shown.split(",")) == sorted(nets)
        assert _lines(sp, "ps", "-aq", "--no-trunc", "--filter", f"network={nets[0]}") == [both]
        doc = json.loads(sp.run("ps", "-a", "--format", "json", "--filter", f"id={plain}").stdout)
        assert doc[0]["Networks"] == ["podman"]
    finally:
        sp.run("rm", "-af", check=False)
        for net in nets:
            sp.run("network", "rm", "-f", net, check=False)


def test_create_comma_separated_networks_must_exist(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps --format networks (--network NET1,NET2 is two networks, which must exist)"""
    sp = clean
    err = _fails(sp, 125, "create", "--network", "nosuchnet1,nosuchnet2", IMAGE)
    assert "unable to find network with name or ID nosuchnet1: network not found" in err
    assert sp.run("ps", "-aq").stdout == ""


def test_ps_filter_network_container(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps --filter network=container:<name> / <id>"""
    sp = clean
    alpha = sp.run("run", "-d", "--name", "alpha", IMAGE, "sleep", "100").stdout.strip()
    sp.run("run", "-d", "--network", "container:alpha", "--name", "bravo", IMAGE, "sleep", "100")
    for ref in ("alpha", alpha):
        out = sp.run("ps", "-a", "--format", "table {{.Names}}", "--filter", f"network=container:{ref}").stdout
        assert out.split() == ["NAMES", "bravo"]


def test_ps_filters_volume_pair_and_ancestor_without_tag(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps filter test (volume=SRC:DST) / podman ps ancestor filter flag"""
    sp = clean
    sp.run("create", "--name", "volctr", "-v", "/:/test2", IMAGE, "true")
    assert _lines(sp, "ps", "-a", "--format", "{{.Names}}", "--filter", "volume=/:/test2") == ["volctr"]
    full = sp.run("inspect", "--format", "{{.ImageName}}", "volctr").stdout.strip()
    assert full.endswith(":latest")
    untagged = full.removesuffix(":latest")
    assert _lines(sp, "ps", "-a", "--format", "{{.Names}}", "--filter", f"ancestor={untagged}") == ["volctr"]


def test_ps_ports_sorted_and_shared_with_pod(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps test with multiple port range / test with port shared with pod"""
    sp = clean
    base = _free_port_base()
    sp.run("run", "-d", "--name", "portctr", "-p", f"{base + 5}:80", "-p", f"{base}-{base + 1}:3000-3001",
           IMAGE, "sleep", "100")
    ports = sp.run("ps", "--filter", "name=portctr", "--format", "{{.Ports}}").stdout.strip()
    assert ports == f"0.0.0.0:{base}-{base + 1}->3000-3001/tcp, 0.0.0.0:{base + 5}->80/tcp"
    sp.run("pod", "create", "-p", f"{base + 7}:80", "--name", "portpod")
    sp.run("run", "-d", "--name", "podmember", "--pod", "portpod", IMAGE, "sleep", "100")
    shown = sp.run("ps", "--filter", "name=podmember", "--format", "{{.Ports}}").stdout
    assert f"0.0.0.0:{base + 7}->80/tcp" in shown


def test_conflicting_port_ranges_refused_at_create(clean: SealpodRunner) -> None:
    """e2e ps_test.go: podman ps test with invalid port range"""
    err = _fails(clean, 125, "create", "-p", "1000-2000:2000-3000", "-p", "1999-2999:3001-4001", IMAGE)
    assert "conflicting port mappings for host port 1999 (protocol tcp)" in err
    clean.run("create", "-p", "1000-1002:2000-2002", "-p", "1002:3001", IMAGE)  # a range's last port is free


# --- create_test.go -----------------------------------------------------------------------

def test_create_refuses_detach_flags(clean: SealpodRunner) -> None:
    """e2e create_test.go: podman create -d should fail, can not detach create containers"""
    assert "unknown shorthand flag: 'd' in -d" in _fails(clean, 125, "create", "-d", IMAGE)
    assert "unknown flag: --detach" in _fails(clean, 125, "create", "--detach", IMAGE)
    assert "unknown flag: --detach-keys" in _fails(clean, 125, "create", "--detach-keys", "ctrl-x", IMAGE)


def test_create_replace_needs_name_umask_and_tz_checks(clean: SealpodRunner) -> None:
    """e2e create_test.go: podman create --replace / --umask / --tz"""
    sp = clean
    assert "cannot replace container without --name" in _fails(sp, 125, "create", "--replace", IMAGE, "true")
    assert "invalid umask string 9999" in _fails(sp, 125, "create", "--umask", "9999", IMAGE)
    sp.run("create", "--umask", "22", "--name", "umaskshort", IMAGE)
    assert sp.run("inspect", "--format", "{{.Config.Umask}}", "umaskshort").stdout == "0022\n"
    assert "invalid timezone: is a directory" in _fails(sp, 125, "create", "--tz", "America", IMAGE)


def test_create_pidfile_and_chrootdirs(clean: SealpodRunner, tmp_path: Path) -> None:
    """e2e start_test.go: podman start container with special pidfile; create_test.go: --chrootdirs"""
    sp = clean
    pidfile = tmp_path / "pidfile"
    cid = sp.run("create", "--pidfile", str(pidfile), IMAGE, "sleep", "100").stdout.strip()
    sp.run("start", cid)
    assert int(pidfile.read_text().splitlines()[0]) == int(sp.run("inspect", "--format", "{{.State.Pid}}",
                                                                   cid).stdout)
    assert sp.run("inspect", "--format", "{{.PidFile}}", cid).stdout.strip() == str(pidfile)
    chroot = sp.run("create", "--chrootdirs", "/var/local/qwerty", IMAGE, "sleep", "100").stdout.strip()
    assert sp.run("inspect", "--format", "{{.Config.ChrootDirs}}", chroot).stdout == "[/var/local/qwerty]\n"
    sp.run("start", chroot)
    inner = sp.run("exec", chroot, "cat", "/var/local/qwerty/etc/resolv.conf").stdout
    assert inner and inner == sp.run("exec", chroot, "cat", "/etc/resolv.conf").stdout


def test_create_in_pod_refuses_ip_mac_and_idmaps(clean: SealpodRunner) -> None:
    """e2e create_test.go: create container in pod with IP / mac should fail; --uid/gidmap --pod conflict"""
    sp = clean
    sp.run("pod", "create", "--name", "addrpod")
    for flag, value in (("--ip", "10.88.0.77"), ("--mac-address", "52:54:00:6d:2f:82")):
        err = _fails(sp, 125, "create", "--pod", "addrpod", flag, value, IMAGE)
        assert "networks must be defined when the pod is created" in err
    for flag in ("--uidmap", "--gidmap"):
        err = _fails(sp, 125, "create", flag, "0:1000:1000", "--pod", "new:mappod", IMAGE)
        assert "cannot specify a new uid/gid map when entering a pod with an infra container" in err


# --- start / stop / restart / rm / pause / init --------------------------------------------

def test_start_rm_container_removed_when_it_cannot_start(clean: SealpodRunner) -> None:
    """e2e start_test.go: podman start --rm removed on failure"""
    sp = clean
    cid = sp.run("create", "--name", "rmfail", "--rm", IMAGE, "/no/such/cmd").stdout.strip()
    err = _fails(sp, 125, "start", "rmfail")
    assert f'unable to start container "{cid}"' in err
    assert sp.run("container", "exists", "rmfail", check=False).returncode == 1


def test_start_sig_proxy_needs_attach(clean: SealpodRunner) -> None:
    """e2e start_test.go: podman start --sig-proxy should not work without --attach"""
    clean.run("create", IMAGE, "true")
    assert "you cannot use sig-proxy without --attach" in _fails(clean, 125, "start", "-l", "--sig-proxy")


def test_stop_restart_pause_rm_filter(clean: SealpodRunner) -> None:
    """e2e stop_test.go / restart_test.go / pause_test.go / rm_test.go: --filter"""
    sp = clean
    cids = [sp.run("run", "-d", IMAGE, "sleep", "100").stdout.strip() for _ in range(3)]
    assert "--filter takes no arguments" in _fails(sp, 125, "stop", cids[0], "-f", "status=running")
    assert sp.run("pause", "-a", "-f", f"id={cids[2][:5]}wrongid").stdout == ""
    assert _lines(sp, "pause", "-a", "--filter", f"id={cids[2][:5]}") == [cids[2]]
    assert _lines(sp, "unpause", "-f", f"id={cids[2]}") == [cids[2]]
    assert _lines(sp, "restart", "-f", f"id={cids[1]}") == [cids[1]]
    assert _lines(sp, "stop", "-t", "0", "-f", f"id={cids[1]}") == [cids[1]]
    assert "--filter takes no arguments" in _fails(sp, 125, "rm", cids[0], "-f", "--filter", "status=running")
    assert _lines(sp, "rm", "-f", "-t", "0", "--filter", f"id={cids[0]}") == [cids[0]]


def test_cidfile_conflicts_with_all_and_latest(clean: SealpodRunner) -> None:
    """e2e rm_test.go / restart_test.go / pause_test.go: invalid --latest and --cidfile and --all"""
    for verb in ("rm", "restart", "stop", "pause", "unpause", "kill"):
        for extra in ("--latest", "--all"):
            err = _fails(clean, 125, verb, "--cidfile", "foobar", extra)
            assert "--all, --latest, and --cidfile cannot be used together" in err, verb
    assert "no arguments are needed with --all" in _fails(clean, 125, "stop", "--all", "somectr")


def test_unknown_name_stops_before_acting_on_any(clean: SealpodRunner) -> None:
    """e2e rm_test.go: podman rm bogus container and a running container"""
    sp = clean
    sp.run("run", "-d", "--name", "keepme", IMAGE, "sleep", "100")
    for args in (("bogus", "keepme"), ("keepme", "bogus")):
        assert '"bogus" found: no such container' in _fails(sp, 1, "rm", *args)
    created = sp.run("create", IMAGE, "true").stdout.strip()
    _fails(sp, 125, "stop", "bogus", "keepme")
    assert sp.run("inspect", "--format", "{{.State.Status}}", "keepme").stdout == "running\n"
    assert sp.run("rm", "--ignore", "bogus", created).stdout == created + "\n"


def test_restart_running_only(clean: SealpodRunner) -> None:
    """e2e restart_test.go: podman restart --all --running"""
    sp = clean
    sp.run("run", "--name", "done1", IMAGE, "true")
    sp.run("run", "-d", "--name", "up2", IMAGE, "sleep", "100")
    before = _lines(sp, "inspect", "--format", "{{.State.StartedAt}}", "done1", "up2")
    sp.run("restart", "-a", "--running", "-t", "0")
    after = _lines(sp, "inspect", "--format", "{{.State.StartedAt}}", "done1", "up2")
    assert after[0] == before[0] and after[1] != before[1]


def test_stop_refuses_paused_container(clean: SealpodRunner) -> None:
    """e2e pause_test.go: podman stop a paused container by id"""
    sp = clean
    cid = sp.run("run", "-d", IMAGE, "sleep", "100").stdout.strip()
    sp.run("pause", cid)
    _fails(sp, 125, "stop", cid)
    assert sp.run("inspect", "--format", "{{.State.Status}}", cid).stdout == "paused\n"
    sp.run("unpause", cid)
    sp.run("rm", "-f", "-t", "0", cid)


def test_init_all_and_initialized_state(clean: SealpodRunner) -> None:
    """e2e init_test.go: podman init all three containers, one running"""
    sp = clean
    cids = [sp.run("create", "--name", f"init{i}", IMAGE, "true").stdout.strip() for i in range(2)]
    running = sp.run("run", "-d", "--name", "init2", IMAGE, "sleep", "100").stdout.strip()
    assert sorted(_lines(sp, "init", "--all")) == sorted([*cids, running])
    assert _lines(sp, "inspect", "--format", "{{.State.Status}}", "init0", "init1", "init2") == [
        "initialized", "initialized", "running"]
    doc = json.loads(sp.run("ps", "-a", "--format", "json", "--filter", "name=init0").stdout)
    assert doc[0]["State"] == "initialized"


def test_rename_emits_event(clean: SealpodRunner) -> None:
    """e2e rename_test.go: Successfully rename a created container and test event generated"""
    sp = clean
    sp.run("create", "--name", "oldname", IMAGE)
    sp.run("rename", "oldname", "newname")
    events = sp.run("events", "--stream=false", "--filter", "container=newname").stdout
    assert "container rename" in events


# --- inspect_test.go / container_inspect_test.go ----------------------------------------------

def test_inspect_size_aliases_and_ports(clean: SealpodRunner) -> None:
    """e2e inspect_test.go: container with size / mount filters / .ImageID / NetworkSettings.Ports"""
    sp = clean
    sp.run("create", "--name", "insp", "-v", "/tmp:/test1", "-p", "8084:80", "--expose", "8787/udp", IMAGE)
    doc = json.loads(sp.run("inspect", "--size", "insp").stdout)[0]
    assert doc["SizeRootFs"] > 0 and doc["SizeRw"] >= 0
    out = sp.run("inspect", "insp", "--format", "{{(index .Mounts 0).Src}} {{(index .Mounts 0).Dst}} {{.ImageID}}")
    assert out.stdout.split() == ["/tmp", "/test1", doc["Image"]]
    ports = sp.run("inspect", "--format", "{{json .NetworkSettings.Ports}}", "insp").stdout
    assert json.loads(ports) == {"80/tcp": [{"HostIp": "", "HostPort": "8084"}], "8787/udp": None}


def test_inspect_caps_sorted_unlimited_ulimit_and_manager(clean: SealpodRunner) -> None:
    """e2e inspect_test.go: Dropped capabilities are sorted / unlimited ulimits are -1;
    container_inspect_test.go: the container manager annotation"""
    sp = clean
    sp.run("run", "-d", "--name", "capsctr", "--ulimit", "core=-1:-1", "--cap-drop", "CAP_NET_RAW",
           "--cap-drop", "CAP_AUDIT_WRITE", "--cap-drop", "CAP_MKNOD", IMAGE, "sleep", "100")
    doc = json.loads(sp.run("inspect", "capsctr").stdout)[0]
    assert doc["HostConfig"]["CapDrop"] == ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"]
    core = next(u for u in doc["HostConfig"]["Ulimits"] if u["Name"] == "RLIMIT_CORE")
    assert (core["Soft"], core["Hard"]) == (-1, -1)
    assert doc["Config"]["Annotations"]["io.container.manager"] == "libpod"


def test_inspect_network_and_latest_pod(clean: SealpodRunner) -> None:
    """e2e inspect_test.go: podman inspect network / podman inspect latest pod"""
    sp = clean
    net = f"e2linsp{random.randrange(10**6)}"
    sp.run("network", "create", net)
    try:
        assert sp.run("inspect", net, "--format", "{{.Driver}}").stdout == "bridge\n"
    finally:
        sp.run("network", "rm", net)
    sp.run("pod", "create", "--name", "latestpod")
    assert sp.run("inspect", "--type", "pod", "--latest", "--format", "{{.Name}}").stdout == "latestpod\n"


# --- container_clone_test.go / update_test.go ----------------------------------------------

def test_clone_names_pods_and_force(clean: SealpodRunner) -> None:
    """e2e container_clone_test.go: basic test (-clone1) / clone in a pod / clone to a pod / --force"""
    sp = clean
    base = sp.run("create", "--name", "cbase", IMAGE).stdout.strip()
    first = sp.run("container", "clone", base).stdout.strip()
    second = sp.run("container", "clone", first).stdout.strip()
    assert sp.run("inspect", "--format", "{{.Name}}", second).stdout == "cbase-clone1\n"
    member = sp.run("run", "-d", "--pod", "new:clonepod", IMAGE, "sleep", "100").stdout.strip()
    copy = sp.run("container", "clone", member).stdout.strip()
    assert _lines(sp, "inspect", "--format", "{{.Pod}} {{.HostConfig.NetworkMode}}", copy) == \
        _lines(sp, "inspect", "--format", "{{.Pod}} {{.HostConfig.NetworkMode}}", member)
    pod = sp.run("pod", "create", "--share", "uts,net", "--name", "targetpod").stdout.strip()
    sp.run("container", "clone", "--name", "moved", "--pod", "targetpod", base)
    out = sp.run("inspect", "--format", "{{.Pod}} {{.HostConfig.NetworkMode}}", "moved").stdout.split()
    assert out[0] == pod and out[1].startswith("container:")
    assert "cannot set --force without --destroy" in _fails(sp, 125, "container", "clone", "-f", base)


def test_update_memory_swappiness(clean: SealpodRunner) -> None:
    """e2e update_test.go: podman update container all options v1 (--memory-swappiness, --cpuset-mems)"""
    sp = clean
    cid = sp.run("run", "-d", IMAGE, "sleep", "100").stdout.strip()
    sp.run("update", "--memory-swappiness", "50", "--cpuset-mems", "0", "--memory", "1G", cid)
    assert sp.run("inspect", "--format", "{{.HostConfig.MemorySwappiness}} {{.HostConfig.CpusetMems}}",
                  cid).stdout == "50 0\n"


# --- the container's own runtime --------------------------------------------------------------

def test_later_commands_use_the_runtime_the_container_was_created_with(clean: SealpodRunner,
                                                                        tmp_path: Path) -> None:
    """Podman records OCIRuntime per container: stop, exec, pause, rm use it whatever the default is."""
    import shutil

    sp = clean
    runc = shutil.which("runc")
    assert runc
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "myruntime"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {runc} "$@"\n')
    wrapper.chmod(0o755)
    cid = sp.run("--runtime", str(wrapper), "run", "-d", IMAGE, "sleep", "100").stdout.strip()
    assert sp.run("inspect", "--format", "{{.OCIRuntime}}", cid).stdout == f"{wrapper}\n"
    for verb in (("exec", cid, "true"), ("pause", cid), ("unpause", cid), ("stop", "-t", "0", cid), ("rm", cid)):
        sp.run(*verb)
    calls = log.read_text()
    for word in (" pause ", " resume ", " kill ", " delete "):
        assert word in calls, (word, calls)


def test_run_rm_with_an_unwritable_pidfile_leaves_nothing(clean: SealpodRunner) -> None:
    """A pid file that cannot be written is a one-line error, and run --rm removes what it made."""
    res = clean.run("run", "--rm", "--pidfile", "/nonexistent/dir/pid", IMAGE, "true", check=False)
    assert res.returncode == 125 and res.stderr == "Error: writing pid file /nonexistent/dir/pid: " \
                                                   "No such file or directory\n"
    assert clean.run("ps", "-aq").stdout == ""


def test_wait_on_a_detached_rm_container_returns_once_it_is_gone(clean: SealpodRunner) -> None:
    """800-config.bats: `run -d --rm`, `wait`, then `rm` must fail with no such container, as in Podman,
    whose wait returns only after conmon's exit command removed it (a race sealpod's faster wait lost)."""
    for _ in range(3):
        cid = clean.run("run", "-d", "--rm", IMAGE, "true").stdout.strip()
        waited = clean.run("wait", cid, check=False)  # it may be gone already, as the bats test allows
        assert waited.stdout == "0\n" or "no such container" in waited.stderr, waited.stderr
        gone = clean.run("rm", cid, check=False)
        assert (gone.returncode, gone.stderr) == (1, f'Error: no container with name or ID "{cid}" found: '
                                                     "no such container\n")
