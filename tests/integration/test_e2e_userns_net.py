"""Podman 4.3.1's e2e tests of user namespaces, seccomp, static addresses, container DNS and
security labels (test/e2e/run_userns_test.go, run_seccomp_test.go, run_staticip_test.go,
create_staticip_test.go, run_aardvark_test.go, run_security_labels_test.go), as sealpod must
behave: real conmon, runc and netavark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
MUTUALLY_EXCLUSIVE = "--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-userns-net"), seeded_registry.host) as runner:
        runner.make_searchable()  # containers with id maps of their own reach their root filesystem
        yield runner
        runner.run("pod", "rm", "-fa", "-t", "0", check=False)


def _needs_containers_subids() -> None:
    if "containers:" not in Path("/etc/subuid").read_text() or "containers:" not in Path("/etc/subgid").read_text():
        pytest.skip("no subordinate ids for the user containers in /etc/subuid and /etc/subgid")


def _build(ctr: SealpodRunner, tag: str, *lines: str) -> None:
    ctx = ctr.base / f"ctx-{tag.replace('/', '-').replace(':', '-')}"
    ctx.mkdir(exist_ok=True)
    (ctx / "Containerfile").write_text("\n".join([f"FROM {IMAGE}", *lines]) + "\n")
    ctr.run("build", "-q", "-t", tag, os.fspath(ctx))


# --- run_userns_test.go --------------------------------------------------------------------

@pytest.mark.parametrize("flags", [
    ["--userns=host", "--uidmap=0:1:500"], ["--userns=host", "--gidmap=0:200:5000"],
    ["--userns=private", "--subuidname=containers"], ["--userns=private", "--subgidname=containers"],
])
def test_userns_conflicts_with_maps_and_subid_names(ctr: SealpodRunner, flags: list[str]) -> None:
    """e2e run_userns_test.go: podman --userns= conflicts with ui[dg]map and sub[ug]idname"""
    out = ctr.run("run", "--rm", *flags, IMAGE, "true", check=False)
    assert out.returncode == 125
    assert MUTUALLY_EXCLUSIVE in out.stderr


def test_userns_auto_sized_for_numeric_user(ctr: SealpodRunner) -> None:
    """e2e run_userns_test.go: podman --userns=auto:size=%d (--user=2000:3000 needs 3001 ids)"""
    _needs_containers_subids()
    for user, size in (("2000:3000", "3001"), ("4000:1000", "4001")):
        out = ctr.run("run", "--rm", "--userns=auto", f"--user={user}", IMAGE, "cat", "/proc/self/uid_map")
        assert out.stdout.split()[2] == size, out.stdout


def test_userns_container_joined_with_own_network(ctr: SealpodRunner) -> None:
    """e2e run_userns_test.go: podman --userns=container:CTR (with --ipc=container:CTR, on the bridge)"""
    ctr.run("run", "-d", "--uidmap=0:0:1", "--uidmap=1:1:4998", "--name", "userns-ctr", IMAGE, "top")
    try:
        for extra in (["--ipc=container:userns-ctr"], ["--net=container:userns-ctr"], []):
            out = ctr.run("run", "--rm", "--userns=container:userns-ctr", *extra, IMAGE, "cat", "/proc/self/uid_map")
            assert "4998" in out.stdout
        out = ctr.run("run", "--rm", "--userns=container:userns-ctr", IMAGE, "ip", "-4", "addr", "show", "eth0")
        assert "inet 10." in out.stdout
    finally:
        ctr.run("rm", "-f", "-t", "0", "userns-ctr")


def test_userns_ns_path_joined(ctr: SealpodRunner) -> None:
    """e2e run_userns_test.go: --userns=ns:PATH joins that namespace (runc needs a placeholder map)"""
    ctr.run("run", "-d", "--uidmap=0:0:1", "--uidmap=1:1:4998", "--name", "userns-path", IMAGE, "top")
    try:
        pid = ctr.run("inspect", "--format", "{{.State.Pid}}", "userns-path").stdout.strip()
        out = ctr.run("run", "--rm", f"--userns=ns:/proc/{pid}/ns/user", IMAGE, "cat", "/proc/self/uid_map")
        assert "4998" in out.stdout
    finally:
        ctr.run("rm", "-f", "-t", "0", "userns-path")


def test_user_with_volume_records_owner(ctr: SealpodRunner) -> None:
    """e2e run_userns_test.go: podman --user with volume"""
    for uid, gid, arg, vol in (("0", "0", "0:0", "uvol-0"), ("1000", "0", "1000", "uvol-1"),
                               ("1000", "1000", "1000:1000", "uvol-2")):
        ctr.run("run", "--rm", "--user", arg, "--mount", f"type=volume,src={vol},dst=/home/user", IMAGE, "true")
        assert ctr.run("volume", "inspect", "--format", "{{ .UID }}", vol).stdout.strip() == uid
        assert ctr.run("volume", "inspect", "--format", "{{ .GID }}", vol).stdout.strip() == gid
    doc = json.loads(ctr.run("volume", "inspect", "uvol-2").stdout)[0]
    assert (doc["UID"], doc["GID"]) == (1000, 1000)
    ctr.run("volume", "rm", "uvol-0", "uvol-1", "uvol-2")


# --- run_seccomp_test.go -------------------------------------------------------------------

def test_seccomp_policy(ctr: SealpodRunner) -> None:
    """e2e run_seccomp_test.go: podman run --seccomp-policy default / '' / invalid / image"""
    label = "LABEL io.containers.seccomp.profile="
    _build(ctr, "localhost/seccomp-label", label + """'{"defaultAction": "SCMP_ACT_ERRNO"}'""")
    _build(ctr, "localhost/seccomp-bogus", label + """'{"defaultAction": "SCMP_ACT_NOPE"}'""")
    for policy in ("default", ""):
        assert ctr.run("run", "--rm", "--seccomp-policy", policy, "localhost/seccomp-label", "ls").returncode == 0
    out = ctr.run("run", "--rm", "--seccomp-policy", "invalid", "localhost/seccomp-label", "ls", check=False)
    assert out.returncode == 125
    assert 'invalid seccomp policy "invalid": valid policies are ["default" "image"]' in out.stderr
    blocked = ctr.run("run", "--rm", "--seccomp-policy", "image", "localhost/seccomp-label", "ls", check=False)
    assert blocked.returncode != 0  # every syscall refused: the process never starts
    bogus = ctr.run("run", "--rm", "--seccomp-policy", "image", "localhost/seccomp-bogus", "ls", check=False)
    assert bogus.returncode == 125 and "loading seccomp profile failed" in bogus.stderr
    none = ctr.run("run", "--rm", "--seccomp-policy", "image", IMAGE, "ls", check=False)
    assert none.returncode == 125 and "no seccomp policy defined by image" in none.stderr


# --- run_staticip_test.go, create_staticip_test.go, pod create --ip6 ---------------------------

def test_static_ipv6_on_named_network(ctr: SealpodRunner) -> None:
    """e2e run_staticip_test.go: Podman run with specified static IPv6 has correct IP"""
    ctr.run("network", "create", "--subnet", "fd46:db93:aa76:ac37::/64", "ipv6-e2e")
    try:
        out = ctr.run("run", "--rm", "--network", "ipv6-e2e", "--ip6", "fd46:db93:aa76:ac37::10", IMAGE, "ip", "addr")
        assert "fd46:db93:aa76:ac37::10/64" in out.stdout
        ctr.run("pod", "create", "--name", "ip6pod", "--network", "ipv6-e2e", "--ip6", "fd46:db93:aa76:ac37::12")
        out = ctr.run("run", "--rm", "--pod", "ip6pod", IMAGE, "ip", "addr")
        assert "fd46:db93:aa76:ac37::12/64" in out.stdout
    finally:
        ctr.run("pod", "rm", "-f", "ip6pod", check=False)
        ctr.run("network", "rm", "-f", "ipv6-e2e", check=False)


def test_ip6_garbage_refused(ctr: SealpodRunner) -> None:
    """e2e run_staticip_test.go: Podman run --ip with garbage address (and --ip6)"""
    for flag in ("--ip", "--ip6"):
        out = ctr.run("run", "--rm", flag, "114232346", IMAGE, "ls", check=False)
        assert out.returncode == 125 and '"114232346" is not an ip address' in out.stderr


def test_network_bridge_with_options(ctr: SealpodRunner) -> None:
    """e2e run_staticip_test.go: Podman run with --network net:ip=,mac=,interface_name= (bridge: the default)"""
    out = ctr.run("run", "--rm", "--network", "bridge:ip=10.88.64.34,mac=44:33:22:11:00:99,interface_name=myeth",
                  IMAGE, "ip", "addr").stdout
    assert "10.88.64.34/16" in out and "44:33:22:11:00:99" in out and "myeth" in out


# --- run_aardvark_test.go ------------------------------------------------------------------

def test_network_alias_comma_list(ctr: SealpodRunner) -> None:
    """e2e run_aardvark_test.go: Aardvark Test 3: Two containers, same subnet w/aliases"""
    ctr.run("network", "create", "aliasnet")
    try:
        ctr.run("run", "-d", "--name", "aone", "--network", "aliasnet", "--network-alias", "alias_a1,alias_1a",
                IMAGE, "top")
        fmt = "{{json .NetworkSettings.Networks.aliasnet.Aliases}}"
        aliases = json.loads(ctr.run("inspect", "--format", fmt, "aone").stdout)
        assert {"alias_a1", "alias_1a"} <= set(aliases)
        ip = ctr.run("inspect", "--format", "{{.NetworkSettings.Networks.aliasnet.IPAddress}}", "aone").stdout.strip()
        out = ctr.run("run", "--rm", "--network", "aliasnet", IMAGE, "nslookup", "alias_1a.").stdout
        assert ip in out
        # Aardvark Tests 1-2: the short ID resolves too (netavark adds the name; the short ID is an alias)
        short = ctr.run("inspect", "--format", "{{.Id}}", "aone").stdout.strip()[:12]
        assert ip in ctr.run("run", "--rm", "--network", "aliasnet", IMAGE, "nslookup", f"{short}.").stdout
    finally:
        ctr.run("rm", "-f", "-t", "0", "aone", check=False)
        ctr.run("network", "rm", "-f", "aliasnet", check=False)


# --- run_security_labels_test.go -----------------------------------------------------------

def _caps(ctr: SealpodRunner, *args: str) -> str:
    cid = ctr.run("create", *args).stdout.strip()
    try:
        return ",".join(json.loads(ctr.run("inspect", cid).stdout)[0]["EffectiveCaps"] or [])
    finally:
        ctr.run("rm", cid)


def test_security_labels_narrow_capabilities(ctr: SealpodRunner) -> None:
    """e2e run_security_labels_test.go: podman security labels (and bad, --cap-add, --cap-drop all, --privileged)"""
    label = "io.containers.capabilities"
    assert _caps(ctr, "--label", f"{label}=setuid,setgid", IMAGE, "true") == "CAP_SETGID,CAP_SETUID"
    assert _caps(ctr, "--label", f"{label}=sys_admin", IMAGE, "true") != "CAP_SYS_ADMIN"
    assert _caps(ctr, "--cap-add", "SYS_ADMIN", "--label", f"{label}=sys_admin", IMAGE, "true") == "CAP_SYS_ADMIN"
    assert _caps(ctr, "--cap-drop", "all", "--label", f"{label}=sys_admin", IMAGE, "true") == ""
    assert _caps(ctr, "--privileged", "--label", f"{label}=setuid,setgid", IMAGE, "true") != "CAP_SETGID,CAP_SETUID"
    out = ctr.run("run", "--rm", "--label", f"{label}=setuid,setgid", IMAGE, "grep", "CapEff", "/proc/self/status")
    assert out.stdout.split()[1] == "00000000000000c0"  # bits 6 and 7: SETGID and SETUID only


def test_security_labels_from_image(ctr: SealpodRunner) -> None:
    """e2e run_security_labels_test.go: podman container runlabel (podman --version): LABEL from a build"""
    _build(ctr, "localhost/caps-label", "LABEL io.containers.capabilities=chown,kill")
    assert _caps(ctr, "localhost/caps-label", "true") == "CAP_CHOWN,CAP_KILL"


# --- flags others missed: --hostuser, --cgroup-conf; top descriptors -------------------------

def test_hostuser_adds_host_account(ctr: SealpodRunner) -> None:
    """podman run --hostuser: host accounts in the container's /etc/passwd (a flag the e2e files use elsewhere)"""
    out = ctr.run("run", "--rm", "--hostuser", "0", "--hostuser", "daemon", IMAGE, "cat", "/etc/passwd").stdout
    lines = out.splitlines()
    assert sum(line.startswith("root:") for line in lines) == 1  # known to the image already: not added
    assert any(line.startswith("daemon:*:1:1:") and line.endswith(":/:/bin/sh") for line in lines), out
    bad = ctr.run("run", "--rm", "--hostuser", "no-such-user-here", IMAGE, "true", check=False)
    assert bad.returncode != 0 and "unknown user no-such-user-here" in bad.stderr


def test_cgroup_conf_checked(ctr: SealpodRunner) -> None:
    """podman run --cgroup-conf: KEY=VALUE, and only on cgroup v2, in Podman's words"""
    out = ctr.run("run", "--rm", "--cgroup-conf", "foo", IMAGE, "true", check=False)
    assert out.returncode == 125 and "--cgroup-conf must be formatted KEY=VALUE" in out.stderr
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        out = ctr.run("run", "--rm", "--cgroup-conf", "memory.high=100000000", IMAGE, "true", check=False)
        assert out.returncode == 125 and "cannot use --cgroup-conf without cgroup v2" in out.stderr


def test_top_groups_descriptors(ctr: SealpodRunner) -> None:
    """e2e top_test.go: podman container top on container (groups hgroups)"""
    ctr.run("run", "-d", "--name", "topgroups", IMAGE, "top")
    try:
        rows = ctr.run("top", "topgroups", "groups", "hgroups").stdout.splitlines()
        assert rows[0].split() == ["GROUPS", "HGROUPS"] and len(rows) > 1
    finally:
        ctr.run("rm", "-f", "-t", "0", "topgroups")


# --- namespace_test.go ---------------------------------------------------------------------

def test_global_namespace_lists_its_own_containers(ctr: SealpodRunner) -> None:
    """e2e namespace_test.go: podman namespace test"""
    cid = ctr.run("--namespace", "test1", "run", "-d", IMAGE, "echo", "hello").stdout.strip()
    try:
        assert ctr.run("--namespace", "test2", "ps", "-aq").stdout.split() == []
        assert ctr.run("--namespace=test1", "ps", "-aq", "--no-trunc").stdout.split() == [cid]
        assert cid in ctr.run("ps", "-aq", "--no-trunc").stdout.split()  # no namespace: every container
        assert "CGROUPNS" in ctr.run("ps", "-a", "--namespace").stdout  # after the command: ps's own --ns
    finally:
        ctr.run("rm", "-f", cid)
