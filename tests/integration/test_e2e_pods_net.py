"""Podman 4.3.1's e2e tests of pods and networking (test/e2e/pod_*_test.go, network*_test.go,
port_test.go, run_networking_test.go, run_dns_test.go), as sealpod must behave: real conmon, runc
and netavark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-pods-net"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-fa", "-t", "0", check=False)


def _pod(ctr: SealpodRunner, *args: str) -> str:
    return ctr.run("pod", "create", *args).stdout.strip()


# --- pod_create_test.go -------------------------------------------------------------------

@pytest.mark.parametrize("flags", [
    ["--no-hosts"], ["--add-host", "test.example.com:12.34.56.78"], ["--dns", "12.34.56.78"],
    ["--dns-opt", "attempts:5"], ["--dns-search", "example.com"], ["--ip", "10.88.0.77"],
    ["--mac-address", "92:d0:c6:0a:29:35"], ["-p", "80:80"], ["--share", "ipc"],
])
def test_pod_create_infra_only_flags_need_infra(ctr: SealpodRunner, flags: list[str]) -> None:
    """e2e pod_create_test.go: podman create pod with --no-hosts/--add-host/DNS/IP/MAC and no infra should fail"""
    out = ctr.run("pod", "create", *flags, "--name", "noinfra", "--infra=false", check=False)
    assert out.returncode == 125, out.stderr
    assert out.stderr.startswith("Error: ") and "Traceback" not in out.stderr
    assert ctr.run("pod", "exists", "noinfra", check=False).returncode == 1


def test_pod_and_container_share_names(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman create pod with same name as ctr"""
    ctr.run("create", "--name", "samename", IMAGE, "ls")
    out = ctr.run("pod", "create", "--name", "samename", check=False)
    assert out.returncode == 125
    assert 'name "samename" is in use: container already exists' in out.stderr
    ctr.run("rm", "samename")
    _pod(ctr, "--name", "podname")
    out = ctr.run("create", "--name", "podname", IMAGE, check=False)
    assert out.returncode == 125 and 'name "podname" is in use: pod already exists' in out.stderr
    ctr.run("pod", "rm", "podname")


def test_pod_no_hosts_reaches_members(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman create pod with --no-hosts"""
    _pod(ctr, "--no-hosts", "--name", "nohosts")
    show = ["sh", "-c", "cat /etc/hosts 2>&1; true"]
    plain = ctr.run("run", "--rm", "--no-hosts", IMAGE, *show).stdout
    member = ctr.run("run", "--rm", "--pod", "nohosts", IMAGE, *show).stdout
    assert member == plain and "nohosts" not in member
    ctr.run("pod", "rm", "-f", "nohosts")


@pytest.mark.parametrize(("network", "word"), [("container:doesnotmatter", "container"), ("ns:/does/not", "path")])
def test_pod_network_modes_not_supported(ctr: SealpodRunner, network: str, word: str) -> None:
    """e2e pod_create_test.go: podman create with unsupported network options"""
    out = ctr.run("pod", "create", "--network", network, check=False)
    assert out.returncode == 125
    assert f"pods presently do not support network mode {word}" in out.stderr


def test_pod_slirp4netns_network_options(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman create pod with slirp network option"""
    _pod(ctr, "--name", "slirppod", "--network", "slirp4netns:port_handler=slirp4netns", "-p", "8082:8000")
    fmt = "{{.InfraConfig.NetworkOptions.slirp4netns}}"
    assert ctr.run("pod", "inspect", "--format", fmt, "slirppod").stdout.strip() == "[port_handler=slirp4netns]"
    ctr.run("pod", "rm", "slirppod")


def test_pod_cpu_limits_in_inspect(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --cpus, --cpuset-cpus"""
    _pod(ctr, "--cpus", "1", "--cpuset-cpus", "0", "--name", "cpupod")
    ctr.run("create", "--pod", "cpupod", IMAGE)
    out = ctr.run("pod", "inspect", "--format", "{{.CPUPeriod}} {{.CPUQuota}} {{.CPUSetCPUs}}", "cpupod").stdout
    assert out.strip() == "100000 100000 0"
    ctr.run("pod", "rm", "-f", "cpupod")


def test_pod_pid_and_uts_namespaces(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --pid, --uts test"""
    _pod(ctr, "--pid", "ns:/proc/self/ns/", "--share", "pid", "--name", "pidpod")
    assert ctr.run("pod", "inspect", "--format", "{{.InfraConfig.PidNS}}", "pidpod").stdout.strip() == \
        "ns:/proc/self/ns/"
    for bad in ("pod", "container:randomfakeid"):
        assert ctr.run("pod", "create", "--pid", bad, "--share", "pid", check=False).returncode == 125
    _pod(ctr, "--pid", "host", "--share", "pid", "--name", "pidhost")
    assert ctr.run("pod", "inspect", "--format", "{{.InfraConfig.PidNS}}", "pidhost").stdout.strip() == "host"
    uts = _pod(ctr, "--uts", "host")
    out = ctr.run("run", "--rm", "--pod", uts, IMAGE, "sh", "-c", "echo $HOSTNAME").stdout.strip()
    assert out == os.uname().nodename
    for name in ("pidpod", "pidhost", uts):
        ctr.run("pod", "rm", "-f", name)


def test_pod_volume_and_volumes_from_in_inspect(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --volume, --volumes-from"""
    ctr.run("volume", "create", "podvol")
    _pod(ctr, "--volume", "podvol:/tmp1", "--name", "volpod")
    assert ctr.run("pod", "inspect", "--format", "{{(index .Mounts 0).Name}}", "volpod").stdout.strip() == "podvol"
    ctr.run("run", "--rm", "--pod", "volpod", IMAGE, "sh", "-c", "echo hello >> /tmp1/test")
    ctr.run("create", "--name", "volsrc", "-v", "podvol:/tmp2", IMAGE)
    _pod(ctr, "--volumes-from", "volsrc", "--name", "frompod")
    assert ctr.run("pod", "inspect", "--format", "{{(index .Mounts 0).Name}}", "frompod").stdout.strip() == "podvol"
    assert ctr.run("run", "--rm", "--pod", "frompod", IMAGE, "cat", "/tmp2/test").stdout.strip() == "hello"
    for name in ("volpod", "frompod"):
        ctr.run("pod", "rm", "-f", name)
    ctr.run("rm", "volsrc")


def test_pod_device_directory(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e pod_create_test.go: podman pod create --device (a directory of device nodes)"""
    devdir = Path("/dev") / f"sealtest-{os.getpid()}"
    devdir.mkdir()
    try:
        os.mknod(devdir / "null", 0o666 | 0o020000, os.makedev(1, 3))
        _pod(ctr, "--device", f"{devdir}:/dev/bar", "--name", "devpod")
        out = ctr.run("run", "--rm", "-q", "--pod", "devpod", IMAGE, "stat", "-c%t:%T", "/dev/bar/null")
        assert out.stdout.strip() == "1:3"
    finally:
        ctr.run("pod", "rm", "-f", "devpod", check=False)
        (devdir / "null").unlink(missing_ok=True)
        devdir.rmdir()


def test_pod_security_opt_and_sysctl_inherited(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --security-opt seccomp, --sysctl test"""
    pod = _pod(ctr, "--security-opt", "seccomp=unconfined")
    member = ctr.run("create", "--pod", pod, IMAGE).stdout.strip()
    assert ctr.run("inspect", "--format", "{{.HostConfig.SecurityOpt}}", member).stdout.strip() == \
        "[seccomp=unconfined]"
    shared = _pod(ctr, "--sysctl", "net.core.somaxconn=65535")
    out = ctr.run("run", "--rm", "--pod", shared, IMAGE, "cat", "/proc/sys/net/core/somaxconn").stdout
    assert out.strip() == "65535"
    apart = _pod(ctr, "--share", "pid", "--sysctl", "net.core.somaxconn=65535")
    out = ctr.run("run", "--rm", "--pod", apart, IMAGE, "cat", "/proc/sys/net/core/somaxconn").stdout
    assert out.strip() != "65535"
    for name in (pod, shared, apart):
        ctr.run("pod", "rm", "-f", name)


def test_pod_shm_size_conflicts_with_ipc_host(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --shm-size and --ipc=host conflict"""
    pod = _pod(ctr, "--shm-size", "10mb")
    out = ctr.run("run", "-d", "--pod", pod, "--ipc", "host", IMAGE, check=False)
    assert out.returncode == 125 and "cannot set shmsize" in out.stderr
    ctr.run("pod", "rm", "-f", pod)


def test_pod_network_mode_from_containers_conf(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e pod_create_test.go: podman pod create read network mode from config"""
    conf = tmp_path / "containers.conf"
    conf.write_text('[containers]\nnetns = "host"\n')
    saved = ctr.env["CONTAINERS_CONF"]
    ctr.env["CONTAINERS_CONF"] = str(conf)
    try:
        _pod(ctr, "--name", "netnspod", "--infra-name", "netnspod-infra")
    finally:
        ctr.env["CONTAINERS_CONF"] = saved
    assert ctr.run("inspect", "--format", "{{.HostConfig.NetworkMode}}", "netnspod-infra").stdout.strip() == "host"
    ctr.run("pod", "rm", "netnspod")


# --- pod_infra_container_test.go ------------------------------------------------------------

def test_top_lists_the_shared_pid_namespace(ctr: SealpodRunner) -> None:
    """e2e pod_infra_container_test.go: podman pod correctly sets up PIDNS"""
    pod = _pod(ctr, "--share", "pid", "--name", "pidshare")
    ctr.run("run", "-d", "--name", "pidshare-ctr", "--pod", pod, IMAGE, "top")
    pids = ctr.run("top", "pidshare-ctr", "pid").stdout.split()
    assert pids[0] == "PID" and len(pids) == 3 and int(pids[1]) < int(pids[2])
    ctr.run("pod", "rm", "-f", "-t", "0", pod)


def test_member_joins_pod_namespace_on_request(ctr: SealpodRunner) -> None:
    """e2e pod_infra_container_test.go: podman pod container can override pod not sharing pid"""
    pod = _pod(ctr, "--share", "net", "--name", "pidjoin")
    ctr.run("pod", "start", pod)
    ctr.run("run", "-d", "--pod", pod, "--pid", "pod", IMAGE, "top")
    spaces = ctr.run("ps", "-a", "--ns", "--filter", f"pod={pod}", "--format", "{{.PIDNS}}").stdout.split()
    assert len(spaces) == 2 and spaces[0] == spaces[1]
    ctr.run("pod", "rm", "-f", "-t", "0", pod)
    out = ctr.run("create", "--pid", "pod", IMAGE, check=False)
    assert out.returncode == 125 and "cannot use pod namespace" in out.stderr


def test_member_add_host_refused(ctr: SealpodRunner) -> None:
    """e2e pod_infra_container_test.go: podman run --add-host in pod should fail"""
    pod = _pod(ctr, "--add-host", "host1:127.0.0.1")
    out = ctr.run("create", "--pod", pod, "--add-host", "foobar:127.0.0.1", IMAGE, check=False)
    assert out.returncode == 125
    assert "extra host entries must be specified on the pod: network cannot be configured when it is shared " \
        "with a pod" in out.stderr
    ctr.run("pod", "rm", pod)


@pytest.mark.parametrize("share", ["", "none"])
def test_pod_sharing_nothing_has_no_infra(ctr: SealpodRunner, share: str) -> None:
    """e2e pod_infra_container_test.go: podman pod create --share= should not create an infra ctr"""
    pod = _pod(ctr, "--share", share)
    assert ctr.run("pod", "inspect", "--format", "{{.NumContainers}}", pod).stdout.strip() == "0"
    ctr.run("pod", "rm", pod)


# --- pod_ps_test.go ---------------------------------------------------------------------------

def test_pod_ps_name_filter_is_a_regex(ctr: SealpodRunner) -> None:
    """e2e pod_ps_test.go: podman pod ps filter name regexp"""
    first = _pod(ctr, "--infra=false", "--share=", "--name=rxpod")
    second = _pod(ctr, "--infra=false", "--share=", "--name=rxpod1")
    both = ctr.run("pod", "ps", "-q", "--no-trunc", "--filter", "name=rxpod").stdout.split()
    assert sorted(both) == sorted([first, second])
    assert ctr.run("pod", "ps", "-q", "--no-trunc", "--filter", "name=rxpod$").stdout.split() == [first]
    ctr.run("pod", "rm", first, second)


def test_pod_ps_quiet_and_format_exclusive_and_ns_headers(ctr: SealpodRunner) -> None:
    """e2e pod_ps_test.go: podman pod ps mutually exclusive flags, podman pod ps headers"""
    out = ctr.run("pod", "ps", "-q", "--format", "{{.ID}}", check=False)
    assert out.returncode == 125 and "quiet and format cannot be used together" in out.stderr
    head = ctr.run("pod", "ps", "--ctr-ids", "--ctr-names", "--ctr-status", "--ns").stdout.splitlines()[0]
    assert head.split() == ["POD", "ID", "NAME", "STATUS", "CREATED", "INFRA", "ID", "IDS", "NAMES", "STATUS",
                            "CGROUP", "NAMESPACES"]


# --- pod_start/stop/restart/kill_test.go --------------------------------------------------------

@pytest.mark.parametrize(("verb", "code"), [("start", 125), ("stop", 125), ("kill", 125), ("restart", 125),
                                            ("pause", 125), ("rm", 1)])
def test_pod_verbs_on_a_missing_pod(ctr: SealpodRunner, verb: str, code: int) -> None:
    """e2e pod_start_test.go / pod_stop_test.go / pod_rm_test.go: podman pod start bogus pod (125; rm 1)"""
    out = ctr.run("pod", verb, "123", check=False)
    assert out.returncode == code and "no pod with name or ID 123 found" in out.stderr


def test_pod_start_and_restart_of_an_empty_pod_fail(ctr: SealpodRunner) -> None:
    """e2e pod_start_test.go / pod_restart_test.go: podman pod start/restart single empty pod"""
    pod = _pod(ctr, "--infra=false", "--share=")
    for verb in ("start", "restart"):
        out = ctr.run("pod", verb, pod, check=False)
        assert out.returncode == 125 and f"no containers in pod {pod} have no dependencies" in out.stderr
    assert ctr.run("pod", "kill", pod).stdout.strip() == pod
    ctr.run("pod", "rm", pod)


# --- pod_top_test.go / pod_rm_test.go -------------------------------------------------------------

def test_pod_top_lists_a_shared_pid_namespace_once_and_rm_removes_it(ctr: SealpodRunner) -> None:
    """e2e pod_top_test.go: podman pod top on pod with containers in same pid namespace"""
    pod = _pod(ctr, "--infra=false", "--share=")
    first = ctr.run("run", "-d", "--pod", pod, IMAGE, "top", "-d", "2").stdout.strip()
    ctr.run("run", "-d", "--pod", pod, "--pid", f"container:{first}", IMAGE, "top", "-d", "2")
    assert len(ctr.run("pod", "top", pod).stdout.splitlines()) == 3
    ctr.run("pod", "rm", "-f", "-t", "0", pod)  # the member joined to the other goes first


# --- pod_clone_test.go --------------------------------------------------------------------------

def test_pod_clone(ctr: SealpodRunner) -> None:
    """e2e pod_clone_test.go: podman pod clone basic, renaming, start, destroy, infra option tests"""
    _pod(ctr, "--name", "orig")
    ctr.run("create", "--pod", "orig", "--name", "origctr", IMAGE, "top")
    clone = ctr.run("pod", "clone", "orig").stdout.strip()
    assert ctr.run("pod", "inspect", "--format", "{{.Name}}", clone).stdout.strip() == "orig-clone"
    ctr.run("pod", "start", clone)
    states = ctr.run("pod", "inspect", "--format", "{{range .Containers}}{{.State}} {{end}}", clone).stdout.split()
    assert states == ["running", "running"]
    named = ctr.run("pod", "clone", "--name", "clone2", "--start", "orig").stdout.strip()
    assert ctr.run("pod", "inspect", "--format", "{{.Name}} {{.State}}", named).stdout.strip() == "clone2 Running"
    ctr.run("volume", "create", "clonevol")
    ctr.run("pod", "clone", "--volume", "clonevol:/tmp1", "--destroy", "orig")
    assert ctr.run("pod", "exists", "orig", check=False).returncode == 1
    fmt = "{{(index .Mounts 0).Name}}"
    assert ctr.run("pod", "inspect", "--format", fmt, "orig-clone1").stdout.strip() == "clonevol"
    for name in (clone, named, "orig-clone1"):
        ctr.run("pod", "rm", "-f", "-t", "0", name)


# --- pod_initcontainers_test.go ------------------------------------------------------------------

def test_init_container_flag_checks(ctr: SealpodRunner) -> None:
    """e2e pod_initcontainers_test.go: init container without --pod / with bad type / in a running pod fail"""
    out = ctr.run("create", "--init-ctr", "always", IMAGE, "top", check=False)
    assert out.returncode == 125 and "must specify pod value with init-ctr" in out.stderr
    out = ctr.run("create", "--init-ctr", "unknown", "--pod", "new:initbad", IMAGE, "top", check=False)
    assert out.returncode == 125 and "init-ctr value must be 'always' or 'once'" in out.stderr
    ctr.run("run", "-d", "--pod", "new:initrun", IMAGE, "top")
    out = ctr.run("create", "--init-ctr", "always", "--pod", "initrun", IMAGE, "date", check=False)
    assert out.returncode == 125 and "cannot add init-ctr to a running pod" in out.stderr
    ctr.run("pod", "rm", "-f", "-t", "0", "initrun")


def test_init_containers_run_first(ctr: SealpodRunner) -> None:
    """e2e pod_initcontainers_test.go: init container runs before pod containers; once container is removed"""
    once = ctr.run("create", "--init-ctr", "once", "--pod", "new:initpod", IMAGE, "sh", "-c",
                   "echo hello > /dev/shm/initfile").stdout.strip()
    ctr.run("create", "--init-ctr", "always", "--pod", "initpod", IMAGE, "sh", "-c", "echo x >> /dev/shm/always")
    main = ctr.run("create", "--pod", "initpod", IMAGE, "top").stdout.strip()
    ctr.run("pod", "start", "initpod")
    assert ctr.run("pod", "inspect", "--format", "{{.State}}", "initpod").stdout.strip() == "Running"
    assert ctr.run("exec", main, "cat", "/dev/shm/initfile").stdout.strip() == "hello"
    assert ctr.run("container", "exists", once, check=False).returncode == 1
    ctr.run("pod", "stop", "-t", "0", "initpod")
    ctr.run("pod", "start", "initpod")
    assert ctr.run("exec", main, "cat", "/dev/shm/initfile", check=False).returncode == 1
    assert "x" in ctr.run("exec", main, "cat", "/dev/shm/always").stdout.split()
    ctr.run("pod", "rm", "-f", "-t", "0", "initpod")


# --- run_dns_test.go / run_networking_test.go / port_test.go -------------------------------------

@pytest.mark.parametrize(("flags", "mode"), [(["--dns=1.2.3.4", "--network", "none"], "none"),
                                             (["--dns-search=foobar.com", "--network", "none"], "none"),
                                             (["--dns-opt=debug", "--network", "container:x"], "container")])
def test_dns_flags_conflict_with_network_mode(ctr: SealpodRunner, flags: list[str], mode: str) -> None:
    """e2e run_dns_test.go: podman run mutually excludes --dns* and --network"""
    out = ctr.run("run", "--rm", *flags, IMAGE, "true", check=False)
    assert out.returncode == 125 and f"conflicting options: dns and the network mode: {mode}" in out.stderr
    assert ctr.run("run", "--rm", "--dns=1.2.3.4", "--network", "host", IMAGE, "true").returncode == 0


def test_joined_network_namespace_shares_resolv_conf_and_refuses_add_host(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: --net container: copies hosts and resolv, --net container: and --add-host"""
    ctr.run("run", "-d", "--name", "netowner", IMAGE, "top")
    out = ctr.run("run", "-d", "--net=container:netowner", "--add-host", "host1:127.0.0.1", IMAGE, "true",
                  check=False)
    assert out.returncode == 125
    assert "cannot set extra host entries when the container is joined to another containers network " \
        "namespace: invalid configuration" in out.stderr
    ctr.run("exec", "netowner", "sh", "-c", "echo nameserver 192.0.2.1 > /etc/resolv.conf")
    ctr.run("run", "-d", "--net=container:netowner", "--name", "netjoiner", IMAGE, "top")
    assert "nameserver 192.0.2.1" in ctr.run("exec", "netjoiner", "cat", "/etc/resolv.conf").stdout
    ctr.run("rm", "-f", "-t", "0", "netjoiner", "netowner")


def test_host_network_takes_the_host_name(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: podman run --net host hostname test"""
    out = ctr.run("run", "--rm", "--net", "host", IMAGE, "sh", "-c", "echo $HOSTNAME").stdout.strip()
    assert out == os.uname().nodename


def test_inspect_ports_before_start(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: podman run --expose 80 -P, podman run -p 0.0.0.0:9280:80"""
    import json

    ctr.run("create", "--name", "portsctr", "--expose", "80", "--expose", "81/udp", "-P", "-p", "0.0.0.0:9280:82",
            IMAGE, "true")
    ports = json.loads(ctr.run("inspect", "--format", "{{json .NetworkSettings.Ports}}", "portsctr").stdout)
    assert len(ports["80/tcp"]) == 1 and len(ports["81/udp"]) == 1
    assert ports["82/tcp"] == [{"HostIp": "", "HostPort": "9280"}]
    ctr.run("rm", "portsctr")


def test_port_latest_flags(ctr: SealpodRunner) -> None:
    """e2e port_test.go: podman port all and latest, podman port -l port"""
    out = ctr.run("port", "-a", "-l", check=False)
    assert out.returncode == 125 and "--all and --latest cannot be used together" in out.stderr
    ctr.run("run", "-d", "--name", "portl", "-p", "5390:5390", "-p", "5391:5391", IMAGE, "top")
    assert ctr.run("port", "-l", "5391").stdout.strip() == "0.0.0.0:5391"
    ctr.run("rm", "-f", "-t", "0", "portl")


# --- network_test.go / network_create_test.go / network_connect_disconnect_test.go -----------------

def test_network_config_dir_flag(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e network_test.go: podman --cni-config-dir backwards compat"""
    confdir = tmp_path / "nets"
    confdir.mkdir()
    out = ctr.run("--cni-config-dir", str(confdir), "network", "ls", "--noheading").stdout
    assert len(out.splitlines()) == 1
    assert [p.name for p in confdir.iterdir()] == ["netavark.lock"]
    ctr.run("--network-config-dir", str(confdir), "network", "create", "elsewhere")
    assert (confdir / "elsewhere.json").exists()
    assert "elsewhere" not in ctr.run("network", "ls", "-q").stdout.split()


def test_network_ls_filters(ctr: SealpodRunner) -> None:
    """e2e network_test.go: podman network list --filter labels / invalid value / dangling"""
    ctr.run("network", "create", "--label", "testlabel1=abc", "lblnet1")
    ctr.run("network", "create", "--label", "testlabel1=abc", "--label", "abcdef", "lblnet2")
    both = ctr.run("network", "ls", "-q", "--filter", "label=testlabel1=abc").stdout.split()
    assert {"lblnet1", "lblnet2"} <= set(both)
    out = ctr.run("network", "ls", "-q", "--filter", "label=testlabel1=abc", "--filter", "label=abcdef").stdout
    assert out.split() == ["lblnet2"]
    bad = ctr.run("network", "ls", "--filter", "namr=ab", check=False)
    assert bad.returncode == 125 and 'invalid filter "namr"' in bad.stderr
    bad = ctr.run("network", "ls", "--filter", "dangling=foo", check=False)
    assert bad.returncode == 125 and 'invalid dangling filter value "foo"' in bad.stderr
    ctr.run("network", "rm", "lblnet1", "lblnet2")


def test_network_create_checks(ctr: SealpodRunner) -> None:
    """e2e network_create_test.go: invalid name, multiple subnets with too many gateways/ranges, dual stack"""
    for name in ("none", "host", "bridge", "private", "slirp4netns", "container", "ns"):
        out = ctr.run("network", "create", name, check=False)
        assert out.returncode == 125
        assert f'cannot create network with name "{name}" because it conflicts with a valid network mode' in out.stderr
    out = ctr.run("network", "create", "--subnet", "10.10.3.0/24", "--gateway", "10.10.3.10", "--gateway",
                  "fd52:2a5a:747e:3acf::10", "gwnet", check=False)
    assert out.returncode == 125 and out.stderr.strip() == "Error: cannot set more gateways than subnets"
    out = ctr.run("network", "create", "--subnet", "10.10.3.0/24", "--ip-range", "10.10.3.0/26", "--ip-range",
                  "10.10.3.0/28", "rangenet", check=False)
    assert out.returncode == 125 and out.stderr.strip() == "Error: cannot set more ranges than subnets"
    ctr.run("network", "create", "--subnet", "fd00:4:3:2::/64", "--ipv6", "dualnet")
    subnets = ctr.run("network", "inspect", "dualnet", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}").stdout
    assert len(subnets.split()) == 2 and "fd00:4:3:2::/64" in subnets.split()
    ctr.run("network", "rm", "dualnet")


def test_network_connect_disconnect_modes_and_ids(ctr: SealpodRunner) -> None:
    """e2e network_connect_disconnect_test.go: slirp4netns errors, connect before init, run with network ID"""
    ctr.run("network", "create", "connnet")
    ctr.run("create", "--name", "slirpctr", "--network", "slirp4netns", IMAGE)
    for verb in ("connect", "disconnect"):
        out = ctr.run("network", verb, "connnet", "slirpctr", check=False)
        assert out.returncode == 125 and '"slirp4netns" is not supported: invalid network mode' in out.stderr
    ctr.run("rm", "slirpctr")
    ctr.run("create", "--name", "connctr", "--network", "connnet", IMAGE, "top")
    ctr.run("network", "connect", "connnet", "connctr")  # not initialised yet: a no-op
    ctr.run("init", "connctr")
    assert ctr.run("network", "connect", "connnet", "connctr", check=False).returncode == 125
    ctr.run("rm", "-f", "connctr")
    net_id = ctr.run("network", "inspect", "--format", "{{.ID}}", "connnet").stdout.strip()
    ctr.run("run", "-d", "--name", "byid", "--network", net_id, IMAGE, "top")
    assert ctr.run("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                   "byid").stdout.split() == ["connnet"]
    ctr.run("network", "disconnect", net_id, "byid")
    assert ctr.run("inspect", "--format", "{{len .NetworkSettings.Networks}}", "byid").stdout.strip() == "0"
    ctr.run("rm", "-f", "-t", "0", "byid")
    ctr.run("network", "rm", "connnet")


def test_network_rm_force_removes_pod(ctr: SealpodRunner) -> None:
    """e2e network_test.go: podman network remove --force with pod"""
    ctr.run("network", "create", "podnet")
    pod = _pod(ctr, "--network", "podnet")
    ctr.run("create", "--pod", pod, IMAGE)
    assert ctr.run("network", "rm", "podnet", check=False).returncode == 2
    ctr.run("network", "rm", "-t", "0", "--force", "podnet")
    assert ctr.run("pod", "exists", pod, check=False).returncode == 1


def test_pod_name_resolves_on_its_network(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: podman run check dnsname plugin with Netavark (POD.dns.podman)"""
    ctr.run("network", "create", "dnspodnet")
    _pod(ctr, "--network", "dnspodnet", "--name", "dnspod")
    ctr.run("pod", "start", "dnspod")
    out = ctr.run("run", "--rm", "--network", "dnspodnet", IMAGE, "nslookup", "dnspod.dns.podman").stdout
    assert "Name:" in out and "dnspod.dns.podman" in out
    ctr.run("pod", "rm", "-f", "-t", "0", "dnspod")
    ctr.run("network", "rm", "dnspodnet")


def test_pod_userns_auto_with_forced_mappings(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: podman pod create --userns=auto:uidmapping=, --userns=auto:gidmapping="""
    import re

    if "containers:" not in Path("/etc/subuid").read_text():
        pytest.skip("no subordinate ids for the user containers")
    ctr.make_searchable()
    _pod(ctr, "--userns=auto:uidmapping=0:0:1", "--name", "autouid")
    out = ctr.run("run", "--rm", "--pod", "autouid", IMAGE, "cat", "/proc/self/uid_map").stdout
    assert re.search(r"\s0\s+0\s+1\b", out) and re.search(r"\s1\s+\d+\s+1023\b", out)
    _pod(ctr, "--userns=auto:size=8192,gidmapping=0:0:1", "--name", "autogid")
    out = ctr.run("run", "--rm", "--pod", "autogid", IMAGE, "cat", "/proc/self/gid_map").stdout
    assert re.search(r"\s0\s+0\s+1\b", out) and "8191" in out
    ctr.run("pod", "rm", "autouid", "autogid")


def test_pod_id_map_flags_and_subuidname(ctr: SealpodRunner) -> None:
    """e2e pod_create_test.go: pod create --uidmap/--gidmap/--subuidname (members join the infra's namespace)"""
    ctr.make_searchable()
    _pod(ctr, "--uidmap", "0:200000:5000", "--gidmap", "0:200000:5000", "--name", "mappod")
    assert ctr.run("run", "--rm", "--pod", "mappod", IMAGE, "cat", "/proc/self/uid_map").stdout.split() == \
        ["0", "200000", "5000"]
    ctr.run("pod", "rm", "mappod")
    if "containers:" not in Path("/etc/subuid").read_text():
        return
    start, count = next(line.split(":")[1:] for line in Path("/etc/subuid").read_text().splitlines()
                        if line.startswith("containers:"))
    out = ctr.run("run", "--rm", "--subuidname", "containers", IMAGE, "cat", "/proc/self/uid_map").stdout.split()
    assert out[:3] == ["0", start, count]  # the container's root is the range's first id


def test_slirp4netns_ipv6_address_without_delay(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: podman run slirp4netns verify net.ipv6.conf.default.accept_dad=0"""
    out = ctr.run("run", "--rm", "--network", "slirp4netns:enable_ipv6=true", IMAGE, "ip", "addr").stdout
    assert "inet6 fd00::" in out


def test_sctp_port_note_once(ctr: SealpodRunner) -> None:
    """e2e run_networking_test.go: podman run forward sctp protocol"""
    out = ctr.run("--log-level=info", "run", "--name", "sctpctr", "-p", "80/sctp", "-p", "81/sctp", IMAGE, "true")
    assert out.stderr.count("Port reservation for SCTP is not supported") == 1
    ports = ctr.run("inspect", "--format", "{{json .NetworkSettings.Ports}}", "sctpctr").stdout
    assert '"80/sctp"' in ports and '"81/sctp"' in ports
    ctr.run("rm", "sctpctr")
