"""Podman 4.3.1's e2e tests of run details and volumes (run_exit, run_restart, run_working_dir,
run_ns, run_cgroup_parent, run_cleanup, create_staticmac, container_create_volume, volume_exists,
volume_inspect, volume_prune, negative), as sealpod must pass them against real conmon and runc.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-run-more"), seeded_registry.host) as runner:
        yield runner


@pytest.fixture
def fresh(ctr: SealpodRunner) -> Iterator[SealpodRunner]:
    """The module's store, emptied of containers and volumes before and after a test that counts them."""
    ctr.run("rm", "-af", "-t", "0")
    ctr.run("volume", "rm", "-af")
    yield ctr
    ctr.run("rm", "-af", "-t", "0", check=False)
    ctr.run("volume", "rm", "-af", check=False)


def _out(ctr: SealpodRunner, *args: str) -> str:
    return ctr.run(*args).stdout.strip()


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    res = ctr.run(*args, check=False)
    assert res.returncode == code, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr
    return res.stderr


def _lines(ctr: SealpodRunner, *args: str) -> list[str]:
    return ctr.run(*args).stdout.splitlines()


# --- run_exit_test.go ----------------------------------------------------------------------

def test_run_exit_codes(ctr: SealpodRunner) -> None:
    """e2e run_exit_test.go: podman run exit define.ExecErrorCodeGeneric / ExecErrorCodeCannotInvoke /
    ExecErrorCodeNotFound / exit 0 / exit 50 / exit 125"""
    assert "Error: unknown flag: --foobar" in _fails(ctr, "run", "--foobar", IMAGE, "ls", "$tmp")
    assert 'exec: "/etc": permission denied' in _fails(ctr, "run", "--rm", IMAGE, "/etc", code=126)
    assert "executable file not found in $PATH" in _fails(ctr, "run", "--rm", IMAGE, "foobar", code=127)
    ctr.run("run", "--rm", IMAGE, "ls")
    _fails(ctr, "run", "--rm", IMAGE, "sh", "-c", "exit 50", code=50)
    _fails(ctr, "run", "--rm", IMAGE, "sh", "-c", "exit 125", code=125)


# --- run_restart_test.go -------------------------------------------------------------------

def test_start_after_successful_run_and_after_kill(ctr: SealpodRunner) -> None:
    """e2e run_restart_test.go: Podman start after successful run / Podman start after signal kill"""
    ctr.run("run", "--name", "rs-test", IMAGE, "echo", "hi")
    try:
        assert _out(ctr, "wait", "rs-test") == "0"
        assert _out(ctr, "start", "--attach", "rs-test") == "hi"
    finally:
        ctr.run("rm", "-f", "rs-test")
    ctr.run("run", "-d", "--name", "rs-top", IMAGE, "top")
    try:
        ctr.run("kill", "-s", "9", "rs-top")
        ctr.run("wait", "rs-top", check=False)
        assert _out(ctr, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "rs-top") == "exited 137"
        assert _out(ctr, "start", "rs-top") == "rs-top"
        assert _out(ctr, "inspect", "--format", "{{.State.Status}}", "rs-top") == "running"
    finally:
        ctr.run("rm", "-f", "-t", "0", "rs-top")


# --- run_working_dir_test.go ---------------------------------------------------------------

def test_workdir_default_missing_and_under_overlay(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_working_dir_test.go: podman run a container without workdir / using non existing
    --workdir / using a --workdir under a bind mount"""
    assert _out(ctr, "run", "--rm", IMAGE, "pwd") == "/"
    err = _fails(ctr, "run", "--rm", "--workdir", "/home/foobar", IMAGE, "pwd", code=126)
    assert re.fullmatch(r'Error: workdir "/home/foobar" does not exist on container [0-9a-f]{64}\n', err), err
    vol = tmp_path / "ovl"
    vol.mkdir()
    ctr.run("run", "--rm", "--volume", f"{vol}:/var_ovl/:O", "--workdir", "/var_ovl/log", IMAGE, "true")
    assert list(vol.iterdir()) == []  # made in the overlay's upper layer, not in the directory


def test_workdir_of_image(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_working_dir_test.go: podman run a container on an image with a workdir"""
    ctx = build_context(tmp_path, "wd", f"FROM {IMAGE}\nRUN mkdir -p /home/foobar /etc/foobar; "
                                        "chown nobody:nobody /etc/foobar\nWORKDIR  /etc/foobar\n")
    ctr.run("build", "-q", "-t", "wdtest", str(ctx))
    try:
        assert _out(ctr, "run", "--rm", "wdtest", "pwd") == "/etc/foobar"
        assert "nobody" in _out(ctr, "run", "--rm", "wdtest", "ls", "-ld", ".")
        assert _out(ctr, "run", "--rm", "--workdir", "/home/foobar", "wdtest", "pwd") == "/home/foobar"
    finally:
        ctr.run("rmi", "-f", "wdtest", check=False)


# --- run_ns_test.go ------------------------------------------------------------------------

def test_pidns_and_bad_modes(fresh: SealpodRunner) -> None:
    """e2e run_ns_test.go: podman run pidns test / podman run bad ipc pid test"""
    ctr = fresh
    assert _out(ctr, "run", "--rm", IMAGE, "sh", "-c", "echo $$") == "1"
    assert _out(ctr, "run", "--rm", "--pid=host", IMAGE, "sh", "-c", "echo $$") != "1"
    for flag in ("--pid", "--ipc", "--uts", "--cgroupns", "--userns"):
        assert _fails(ctr, "run", f"{flag}=badpid", IMAGE, "true") == \
            "Error: unrecognized namespace mode badpid passed\n"
    assert _out(ctr, "ps", "-aq") == ""  # refused at create: no container left behind


@pytest.mark.parametrize(("flag", "kind", "path_kind"), [
    ("--pid", "pid", "PID"), ("--ipc", "ipc", "IPC"), ("--uts", "uts", "UTS"), ("--cgroupns", "cgroup", "cgroup"),
    ("--userns", "user", "user")])
def test_namespace_values_checked_at_create(fresh: SealpodRunner, flag: str, kind: str, path_kind: str) -> None:
    """e2e run_ns_test.go: podman run bad ipc pid test (each namespace flag's faults, in Podman's
    words, at create rather than at start)"""
    ctr = fresh
    for value in ("none:x", "host:x", "slirp4netns") + (("none", "shareable") if flag != "--ipc" else ()):
        if flag == "--userns" and value == "none":
            continue
        assert _fails(ctr, "create", f"{flag}={value}", IMAGE) == f"Error: unrecognized namespace mode {value} passed\n"
    assert _fails(ctr, "create", f"{flag}=ns:", IMAGE) == \
        "Error: invalid config provided: namespace mode path requires a value\n"
    assert _fails(ctr, "create", f"{flag}=container:", IMAGE) == \
        "Error: invalid config provided: namespace mode container requires a value\n"
    assert _fails(ctr, "create", f"{flag}=ns:/nonexist", IMAGE) == \
        f"Error: cannot find specified {path_kind} namespace path: stat /nonexist: no such file or directory\n"
    assert _fails(ctr, "create", f"{flag}=container:nonexist", IMAGE) == (
        f"Error: looking up container to share {kind} namespace with: no container with name or ID "
        '"nonexist" found: no such container\n')
    assert _fails(ctr, "create", f"{flag}=pod", IMAGE) == ("Error: cannot use pod namespace as container is not "
                                                          "joining a pod or pod has no infra container: invalid "
                                                          "argument\n")
    assert _out(ctr, "ps", "-aq") == ""


def test_userns_mode_faults_in_podman_words(fresh: SealpodRunner) -> None:
    """e2e run_ns_test.go: podman run bad ipc pid test (--userns: root's refusals and auto's options)"""
    ctr = fresh
    assert _fails(ctr, "create", "--userns=private", IMAGE) == \
        "Error: must provide at least one UID or GID mapping to configure a user namespace\n"
    assert _fails(ctr, "create", "--userns=keep-id:foo=1", IMAGE) == \
        "Error: keep-id is only supported in rootless mode\n"
    assert _fails(ctr, "create", "--userns=auto:size=x", IMAGE) == \
        'Error: strconv.ParseUint: parsing "x": invalid syntax\n'
    assert _fails(ctr, "create", "--userns=auto:foo=1", IMAGE) == 'Error: unknown option specified: "foo"\n'
    assert _fails(ctr, "create", "--userns=auto:size", IMAGE) == 'Error: invalid option specified: "size"\n'
    ctr.run("pod", "create", "--name", "ns-pod")
    try:
        for pod in ("ns-pod", "no-such-pod"):  # refused before the pod is even looked up
            assert _fails(ctr, "create", "--pod", pod, "--userns=host", IMAGE) == \
                "Error: --userns and --pod cannot be set together\n"
    finally:
        ctr.run("pod", "rm", "-f", "ns-pod")
    assert _out(ctr, "ps", "-aq") == ""


def test_cgroupns_private_and_fresh_cgroup_mounts(ctr: SealpodRunner) -> None:
    """e2e run_ns_test.go: podman run --cgroup private test / podman run mounts fresh cgroup"""
    out = _out(ctr, "run", "--rm", "--cgroupns=private", IMAGE, "cat", "/proc/self/cgroup")
    assert "slice" not in out and re.search(r"^\d+:pids:/$", out, re.M), out
    assert ".." not in _out(ctr, "run", "--rm", IMAGE, "grep", "cgroup", "/proc/self/mountinfo")


def test_ipc_host_and_container(ctr: SealpodRunner) -> None:
    """e2e run_ns_test.go: podman run ipcns test / ipcns ipcmk host test / ipcns ipcmk container test /
    podman run --ipc=host --pid=host"""
    host_inode = os.stat("/dev/shm").st_ino
    assert _out(ctr, "run", "--rm", "--ipc=host", IMAGE, "stat", "-c", "%i", "/dev/shm") == str(host_inode)
    ipcmk = subprocess.run(["ipcmk", "-M", "1024"], capture_output=True, text=True)
    if ipcmk.returncode == 0:
        shmid = ipcmk.stdout.split()[-1]
        try:
            seen = _out(ctr, "run", "--rm", "--ipc=host", IMAGE, "cat", "/proc/sysvipc/shm")
            assert any(line.split()[1] == shmid for line in seen.splitlines()[1:]), seen
        finally:
            subprocess.run(["ipcrm", "-m", shmid], check=False)
    ctr.run("run", "-d", "--name", "ipc-test1", IMAGE, "sleep", "999")
    try:
        own = _out(ctr, "exec", "ipc-test1", "readlink", "/proc/self/ns/ipc")
        assert _out(ctr, "run", "--rm", "--ipc=container:ipc-test1", IMAGE, "readlink", "/proc/self/ns/ipc") == own
    finally:
        ctr.run("rm", "-f", "-t", "0", "ipc-test1")
    both = _out(ctr, "run", "--rm", "--ipc=host", "--pid=host", IMAGE, "sh", "-c",
                "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc")
    assert both.split() == [os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/ipc")]


# --- run_cgroup_parent_test.go -------------------------------------------------------------

def test_cgroup_parent_default_and_given(ctr: SealpodRunner) -> None:
    """e2e run_cgroup_parent_test.go: no --cgroup-parent / valid --cgroup-parent using cgroupfs"""
    out = _out(ctr, "run", "--rm", "--cgroupns=host", IMAGE, "cat", "/proc/self/cgroup")
    assert re.search(r"^\d+:pids:/libpod_parent/libpod-[0-9a-f]{64}$", out, re.M), out
    out = _out(ctr, "run", "--rm", "--cgroupns=host", "--cgroup-parent", "/zzz", IMAGE, "cat", "/proc/self/cgroup")
    assert re.search(r"^\d+:pids:/zzz/libpod-[0-9a-f]{64}$", out, re.M), out
    ctr.run("pod", "create", "--name", "cg-pod")
    try:
        assert _out(ctr, "pod", "ps", "--format", "{{.Cgroup}}") == "/libpod_parent"
        pod_id = _out(ctr, "pod", "inspect", "--format", "{{.Id}}", "cg-pod")
        assert _out(ctr, "pod", "inspect", "--format", "{{.CgroupParent}} {{.CgroupPath}}", "cg-pod") == \
            f"/libpod_parent /libpod_parent/{pod_id}"
    finally:
        ctr.run("pod", "rm", "-f", "cg-pod")


# --- run_cleanup_test.go -------------------------------------------------------------------

def test_mount_cleanup(ctr: SealpodRunner) -> None:
    """e2e run_cleanup_test.go: podman run -d mount cleanup test"""
    cid = _out(ctr, "run", "-dt", IMAGE, "top")
    try:
        assert cid in Path("/proc/self/mountinfo").read_text()
        assert cid in _out(ctr, "mount", "--no-trunc")
        ctr.run("stop", "-t", "0", cid)
        ctr.run("container", "cleanup", cid)
        assert cid not in Path("/proc/self/mountinfo").read_text()
        assert cid not in _out(ctr, "mount", "--no-trunc")
    finally:
        ctr.run("rm", "-f", "-t", "0", cid)


# --- create_staticmac_test.go --------------------------------------------------------------

def test_mac_address_default_and_custom_network(ctr: SealpodRunner) -> None:
    """e2e create_staticmac_test.go: Podman run --mac-address / Podman run --mac-address with custom network"""
    assert "92:d0:c6:0a:29:34" in _out(ctr, "run", "--rm", "--mac-address", "92:d0:c6:0a:29:34", IMAGE, "ip", "addr")
    net = "n1" + uuid.uuid4().hex[:10]
    ctr.run("network", "create", net)
    try:
        out = _out(ctr, "run", "--rm", "--network", net, "--mac-address", "92:d0:c6:00:29:34", IMAGE, "ip", "addr")
        assert "92:d0:c6:00:29:34" in out
    finally:
        ctr.run("network", "rm", "-f", net)


def test_static_addresses_need_a_bridge_network(fresh: SealpodRunner) -> None:
    """e2e create_staticmac_test.go: Podman run --mac-address (refused, exit 125, where the network
    mode is not bridge, as for rootless Podman's slirp4netns)"""
    ctr = fresh
    ctr.run("create", "--name", "mac-other", IMAGE)
    for mode in ("none", "host", "private", "slirp4netns", "container:mac-other", "ns:/proc/self/ns/net"):
        for flag, value in (("--mac-address", "92:d0:c6:0a:29:34"), ("--ip", "10.88.0.50"), ("--ip6", "fd00::5")):
            assert _fails(ctr, "create", "--network", mode, flag, value, "no/such-image") == \
                f"Error: {flag} can only be set when the network mode is bridge: invalid argument\n"
    assert _fails(ctr, "create", "--network", "none", "--ip6", "zz", IMAGE) == 'Error: "zz" is not an ip address\n'
    assert _fails(ctr, "pod", "create", "--network", "none", "--mac-address", "92:d0:c6:0a:29:34") == \
        "Error: --mac-address can only be set when the network mode is bridge: invalid argument\n"
    # the default network by its mode's name takes --ip6 too
    ctr.run("create", "--network", "bridge", "--ip6", "fd00::5", IMAGE)
    assert len(_lines(ctr, "ps", "-aq")) == 2


# --- container_create_volume_test.go -------------------------------------------------------

@pytest.fixture(scope="module")
def dataimg(ctr: SealpodRunner, tmp_path_factory: pytest.TempPathFactory) -> str:
    ctx = build_context(tmp_path_factory.mktemp("dataimg"), "ctx",
                        "FROM scratch\nCMD doesnotexist.sh\nADD dummy /test/\nVOLUME /test/\n", dummy="dummy")
    ctr.run("build", "-q", "-t", "dataimg", str(ctx))
    return "dataimg"


def _check_data_volume(ctr: SealpodRunner, image: str, name: str, expect: list[str]) -> dict[str, object]:
    ctr.run("create", "--name", name, image)
    mounts = json.loads(_out(ctr, "inspect", name))[0]["Mounts"]
    assert len(mounts) == 1 and mounts[0]["Destination"] == "/test"
    assert _lines(ctr, "volume", "list", "--quiet") == [mounts[0]["Name"]]
    assert sorted(os.listdir(mounts[0]["Source"])) == expect
    doc: dict[str, object] = json.loads(_out(ctr, "volume", "inspect", mounts[0]["Name"]))[0]
    return doc


def test_create_volume_data_copy_off(fresh: SealpodRunner, dataimg: str) -> None:
    """e2e container_create_volume_test.go: podman create with volume data copy turned off"""
    doc = _check_data_volume(fresh, dataimg, "ctr-nocopy", [])
    assert doc.get("NeedsCopyUp") is True


def test_create_volume_data_copy_on(fresh: SealpodRunner, dataimg: str, tmp_path: Path) -> None:
    """e2e container_create_volume_test.go: podman create with volume data copy turned on / podman run
    with volume data copy turned on"""
    conf = tmp_path / "prepare.conf"
    conf.write_text("[containers]\nprepare_volume_on_create = true\n")
    fresh.env["CONTAINERS_CONF_OVERRIDE"] = str(conf)
    try:
        doc = _check_data_volume(fresh, dataimg, "ctr-copy", ["dummy"])
        assert "NeedsCopyUp" not in doc and doc.get("NeedsChown") is True  # the chown is still the start's
        cid = _out(fresh, "inspect", "--format", "{{.Id}}", "ctr-copy")
        assert cid not in Path("/proc/self/mountinfo").read_text()  # the root filesystem was let go again
        fresh.run("run", "--rm", IMAGE, "echo")
    finally:
        del fresh.env["CONTAINERS_CONF_OVERRIDE"]


# --- volume_exists_test.go / volume_inspect_test.go ----------------------------------------

def test_volume_exists(fresh: SealpodRunner) -> None:
    """e2e volume_exists_test.go: podman volume exists"""
    vol = "vol" + uuid.uuid4().hex
    fresh.run("volume", "create", vol)
    fresh.run("volume", "exists", vol)
    res = fresh.run("volume", "exists", uuid.uuid4().hex, check=False)
    assert (res.returncode, res.stdout, res.stderr) == (1, "", "")


def test_volume_inspect(fresh: SealpodRunner) -> None:
    """e2e volume_inspect_test.go: podman inspect volume / with Go format / with --all flag /
    inspect volume finds options"""
    name = _out(fresh, "volume", "create", "myvol1")
    assert json.loads(_out(fresh, "volume", "inspect", name))[0]["Name"] == "myvol1"
    assert _out(fresh, "volume", "inspect", "--format", "{{.Name}}", name) == "myvol1"
    fresh.run("volume", "create", "myvol2")
    assert _lines(fresh, "volume", "inspect", "--format", "{{.Name}}", "--all") == ["myvol1", "myvol2"]
    for args in (("--all", "myvol1"), ()):  # Podman words both faults alike
        assert _fails(fresh, "volume", "inspect", *args) == "Error: provide one or more volume names or use --all\n"
    fresh.run("volume", "create", "--opt", "type=tmpfs", "testvol")
    assert json.loads(_out(fresh, "volume", "inspect", "testvol"))[0]["Options"] == {"type": "tmpfs"}


# --- volume_prune_test.go ------------------------------------------------------------------

def test_volume_prune(fresh: SealpodRunner) -> None:
    """e2e volume_prune_test.go: podman prune volume"""
    fresh.run("volume", "create")
    fresh.run("volume", "create")
    fresh.run("create", "-v", "myvol:/myvol", IMAGE, "ls")
    assert len(_lines(fresh, "volume", "ls")) == 4
    fresh.run("volume", "prune", "--force")
    assert _lines(fresh, "volume", "ls", "-q") == ["myvol"]


def test_volume_prune_filters(fresh: SealpodRunner) -> None:
    """e2e volume_prune_test.go: podman prune volume --filter until / podman prune volume --filter"""
    fresh.run("volume", "create", "--label", "label1=value1", "myvol1")
    fresh.run("volume", "prune", "--force", "--filter", "until=50")
    assert _lines(fresh, "volume", "ls", "-q") == ["myvol1"]
    assert _lines(fresh, "volume", "prune", "--force", "--filter", "until=5000000000") == ["myvol1"]
    assert _lines(fresh, "volume", "ls", "-q") == []
    fresh.run("volume", "create", "--label", "label1=value1", "myvol1")
    fresh.run("volume", "create", "--label", "sharedlabel1=slv1", "myvol2")
    fresh.run("volume", "create", "--label", "sharedlabel1=slv2", "myvol3")
    fresh.run("volume", "create", "--label", "sharedlabel1", "myvol4")
    fresh.run("create", "-v", "myvol5:/myvol5", IMAGE, "ls")
    fresh.run("create", "-v", "myvol6:/myvol6", IMAGE, "ls")
    assert len(_lines(fresh, "volume", "ls", "-q")) == 6
    fresh.run("volume", "prune", "--force", "--filter", "label=label1=value1")
    assert len(_lines(fresh, "volume", "ls", "-q")) == 5
    fresh.run("volume", "prune", "--force", "--filter", "label=sharedlabel1=slv1")
    assert len(_lines(fresh, "volume", "ls", "-q")) == 4
    fresh.run("volume", "prune", "--force", "--filter", "label=sharedlabel1")
    assert _lines(fresh, "volume", "ls", "-q") == ["myvol5", "myvol6"]


def test_system_prune_volumes(fresh: SealpodRunner) -> None:
    """e2e volume_prune_test.go: podman system prune --volume"""
    fresh.run("volume", "create")
    fresh.run("volume", "create")
    fresh.run("create", "-v", "myvol:/myvol", IMAGE, "ls")
    assert len(_lines(fresh, "volume", "ls")) == 4
    fresh.run("system", "prune", "--force", "--volumes")
    assert _lines(fresh, "volume", "ls", "-q") == []


# --- negative_test.go ----------------------------------------------------------------------

def test_unknown_command_fails(ctr: SealpodRunner) -> None:
    """e2e negative_test.go: podman snuffleupagus exits non-zero"""
    err = _fails(ctr, "snuffleupagus")
    assert err.startswith("Error: unrecognized command `sealpod snuffleupagus`\n"), err
