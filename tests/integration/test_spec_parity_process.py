"""The OCI runtime spec (config.json) sealpod writes, against the one Podman 4.3.1 writes for the
same flags: process (env, user, rlimits), hostname, namespaces, resources and annotations.
Each test's docstring names the Podman behaviour it mirrors (observed with the real Podman 4.3.1).
"""

from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("spec-process"), seeded_registry.host) as runner:
        yield runner


def _spec(ctr: SealpodRunner, *flags: str, command: tuple[str, ...] = ("true",), pre: tuple[str, ...] = ()) -> \
        tuple[str, dict[str, Any]]:
    """Create a container with ``flags``, init it (the spec is written), return its ID and config.json."""
    cid = ctr.run(*pre, "create", *flags, IMAGE, *command).stdout.strip().splitlines()[-1]
    ctr.run(*pre, "init", cid)
    spec = json.loads((ctr.root / "overlay-containers" / cid / "userdata" / "config.json").read_text())
    return cid, spec


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    out = ctr.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr.strip()


def _env(spec: dict[str, Any]) -> dict[str, str]:
    return dict(e.partition("=")[::2] for e in spec["process"]["env"])


def test_annotations_podman_writes_into_the_spec(ctr: SealpodRunner) -> None:
    """Podman's config.json carries its create flags as annotations (io.podman.annotations.*,
    cri-o's TTY), the creation time and the stop signal as a number, then the user's."""
    _, spec = _spec(ctr, "--rm", "--init", "-t", "--stop-signal", "SIGINT", "--annotation", "a=b")
    ann = spec["annotations"]
    assert {k: v for k, v in ann.items() if k != "io.kubernetes.cri-o.Created"} == {
        "a": "b", "io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "true",
        "io.podman.annotations.autoremove": "TRUE", "io.podman.annotations.init": "TRUE",
        "io.podman.annotations.privileged": "FALSE", "io.podman.annotations.publish-all": "FALSE",
        "org.opencontainers.image.stopSignal": "2"}
    assert ann["io.kubernetes.cri-o.Created"].endswith("Z")
    _, plain = _spec(ctr, "--privileged", "-P")
    assert plain["annotations"]["io.podman.annotations.privileged"] == "TRUE"
    assert plain["annotations"]["io.podman.annotations.publish-all"] == "TRUE"
    assert plain["annotations"]["io.podman.annotations.init"] == "FALSE"
    assert plain["annotations"]["org.opencontainers.image.stopSignal"] == "15"
    assert plain["annotations"]["io.kubernetes.cri-o.TTY"] == "false"


def test_keep_groups_annotation(ctr: SealpodRunner) -> None:
    """--group-add keep-groups: Podman asks the runtime (crun) through run.oci.keep_original_groups=1."""
    cid, spec = _spec(ctr, "--group-add", "keep-groups")
    assert spec["annotations"]["run.oci.keep_original_groups"] == "1"
    ann = json.loads(ctr.run("inspect", "--format", "{{json .Config.Annotations}}", cid).stdout)
    assert ann["run.oci.keep_original_groups"] == "1"


def test_pod_member_sandbox_is_the_infra_container(ctr: SealpodRunner) -> None:
    """A pod member's io.kubernetes.cri-o.SandboxID is the pod's infra container (not the pod), in
    the spec and inspect; joining the pod's UTS namespace, its spec sets no hostname."""
    ctr.run("pod", "create", "--name", "specpod")
    try:
        infra = ctr.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "specpod").stdout.strip()
        cid, spec = _spec(ctr, "--pod", "specpod")
        assert spec["annotations"]["io.kubernetes.cri-o.SandboxID"] == infra
        assert spec["annotations"]["io.kubernetes.cri-o.ContainerType"] == "container"
        ann = json.loads(ctr.run("inspect", "--format", "{{json .Config.Annotations}}", cid).stdout)
        assert ann["io.kubernetes.cri-o.SandboxID"] == infra
        assert "hostname" not in spec and _env(spec)["HOSTNAME"] == "specpod"
        infra_spec = json.loads((ctr.root / "overlay-containers" / infra / "userdata" / "config.json").read_text())
        assert "io.kubernetes.cri-o.SandboxID" not in infra_spec["annotations"]
    finally:
        ctr.run("pod", "rm", "-f", "specpod", check=False)


def test_hooks_match_podman_annotations(ctr: SealpodRunner, tmp_path: Path) -> None:
    """OCI hooks' when.annotations match the spec's annotations, Podman's own among them
    (io.podman.annotations.init=TRUE for --init)."""
    (tmp_path / "init.json").write_text(json.dumps({
        "version": "1.0.0", "hook": {"path": "/bin/true", "args": ["true", "init-hook"]},
        "when": {"annotations": {"^io\\.podman\\.annotations\\.init$": "TRUE"}}, "stages": ["createRuntime"]}))
    pre = ("--hooks-dir", str(tmp_path))
    _, spec = _spec(ctr, "--init", pre=pre)
    assert spec["hooks"]["createRuntime"] == [{"path": "/bin/true", "args": ["true", "init-hook"]}]
    _, spec = _spec(ctr, pre=pre)
    assert "createRuntime" not in (spec.get("hooks") or {})


def test_home_of_a_uid_not_in_passwd(ctr: SealpodRunner) -> None:
    """--user UID the image does not know: Podman puts no HOME in the spec; runc takes it from the
    passwd entry Podman adds, whose home is the working directory."""
    _, spec = _spec(ctr, "--user", "1000:1000", "--group-add", "10")
    assert "HOME" not in _env(spec)
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [1000, 10]}
    out = ctr.run("run", "--rm", "--user", "1000", "-w", "/tmp", IMAGE, "sh", "-c", "echo $HOME").stdout.strip()
    assert out == "/tmp"
    _, spec = _spec(ctr, "--user", "root")
    assert _env(spec)["HOME"] == "/root"


def test_pids_limit_unlimited_is_zero(ctr: SealpodRunner) -> None:
    """--pids-limit -1: Podman's spec has pids.limit 0 (the runtime leaves pids.max alone), inspect 0."""
    cid, spec = _spec(ctr, "--pids-limit", "-1")
    assert spec["linux"]["resources"]["pids"] == {"limit": 0}
    assert ctr.run("inspect", "--format", "{{.HostConfig.PidsLimit}}", cid).stdout.strip() == "0"
    _, spec = _spec(ctr, "--pids-limit", "100")
    assert spec["linux"]["resources"]["pids"] == {"limit": 100}


def test_memory_swap_defaults(ctr: SealpodRunner) -> None:
    """-m alone: Podman limits memory+swap to twice the memory (where the kernel accounts swap);
    --memory-swap -1 (unlimited) sets none, and inspect shows 0."""
    if not (Path("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
            or Path("/sys/fs/cgroup/cgroup.controllers").exists()):
        pytest.skip("no swap accounting on this host")
    _, spec = _spec(ctr, "-m", "64m")
    assert spec["linux"]["resources"]["memory"] == {"limit": 64 << 20, "swap": 128 << 20}
    cid, spec = _spec(ctr, "-m", "64m", "--memory-swap", "-1")
    assert spec["linux"]["resources"]["memory"] == {"limit": 64 << 20}
    assert ctr.run("inspect", "--format", "{{.HostConfig.MemorySwap}}", cid).stdout.strip() == "0"
    _, spec = _spec(ctr, "-m", "64m", "--memory-reservation", "32m", "--memory-swap", "128m",
                    "--memory-swappiness", "10")
    assert spec["linux"]["resources"]["memory"] == {"limit": 64 << 20, "swap": 128 << 20,
                                                    "reservation": 32 << 20, "swappiness": 10}


def test_blkio_devices_checked_at_create(ctr: SealpodRunner) -> None:
    """Podman checks the blkio flags' shapes and stats their devices at create, in its words."""
    missing = "/dev/sealpod-no-such-disk"
    assert _fails(ctr, "create", "--device-read-bps", f"{missing}:1mb", IMAGE) == \
        f"Error: could not parse throttle device at {missing}: no such file or directory"
    assert _fails(ctr, "create", "--device-write-iops", f"{missing}:10", IMAGE) == \
        f"Error: could not parse throttle device at {missing}: no such file or directory"
    assert _fails(ctr, "create", "--blkio-weight-device", f"{missing}:100", IMAGE) == \
        f"Error: failed to inspect '{missing}' in --blkio-weight-device: no such file or directory"
    assert _fails(ctr, "create", "--device-read-bps", "/dev/null", IMAGE) == "Error: bad format: /dev/null"
    assert _fails(ctr, "create", "--device-read-bps", "/tmp/x:1", IMAGE) == \
        "Error: bad format for device path: /tmp/x:1"
    assert _fails(ctr, "create", "--device-read-bps", "/dev/null:1x", IMAGE) == (
        "Error: invalid rate for device: /dev/null:1x. The correct format is <device-path>:<number>[<unit>]. "
        "Number must be a positive integer. Unit is optional and can be kb, mb, or gb")
    assert _fails(ctr, "create", "--device-read-iops", "/dev/null:1k", IMAGE) == (
        "Error: invalid rate for device: /dev/null:1k. The correct format is <device-path>:<number>. "
        "Number must be a positive integer")
    assert _fails(ctr, "create", "--blkio-weight-device", "/dev/null:5", IMAGE) == \
        "Error: invalid weight for device: /dev/null:5"
    ctr.run("create", "--blkio-weight-device", "/dev/null:0", "--device-read-bps", "/dev/null:1.5mb", IMAGE)


def _rlimits(spec: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(r["type"], r["soft"], r["hard"]) for r in spec["process"]["rlimits"]]


def test_default_rlimits(ctr: SealpodRunner) -> None:
    """With no --ulimit, Podman gives NOFILE first and NPROC at the kernel's pid_max (containers.conf's
    built-in default); --ulimit replaces containers.conf's defaults, and NPROC falls back to 1048576.
    This host refuses limits above its own hard ones: sealpod lowers the defaults to them."""
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    nproc_hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    _, spec = _spec(ctr)
    limits = _rlimits(spec)
    assert [t for t, _, _ in limits] == ["RLIMIT_NOFILE", "RLIMIT_NPROC"]
    if nproc_hard == resource.RLIM_INFINITY or pid_max <= nproc_hard:
        assert limits[1] == ("RLIMIT_NPROC", pid_max, pid_max)
    _, spec = _spec(ctr, "--ulimit", "core=100:200", "--ulimit", "nofile=1024:1024")
    limits = _rlimits(spec)
    assert limits[:2] == [("RLIMIT_NOFILE", 1024, 1024), ("RLIMIT_CORE", 100, 200)]
    expected = 1048576 if nproc_hard == resource.RLIM_INFINITY else min(1048576, nproc_hard)
    if limits[2] != ("RLIMIT_NPROC", 1048576, 1048576):  # lowered only where we may not raise it
        assert limits[2] == ("RLIMIT_NPROC", expected, expected)
    conf = ctr.containers_conf.read_text()
    try:
        ctr.containers_conf.write_text(conf + 'default_ulimits = ["core=10:20", "nproc=1000:1000"]\n')
        _, spec = _spec(ctr)
        assert ("RLIMIT_CORE", 10, 20) in _rlimits(spec) and ("RLIMIT_NPROC", 1000, 1000) in _rlimits(spec)
        _, spec = _spec(ctr, "--ulimit", "nproc=500:500")
        assert "RLIMIT_CORE" not in [t for t, _, _ in _rlimits(spec)]
        assert ("RLIMIT_NPROC", 500, 500) in _rlimits(spec)
    finally:
        ctr.containers_conf.write_text(conf)


def test_uts_of_another_container_names_the_host(ctr: SealpodRunner) -> None:
    """--uts container:X: the spec sets no hostname, and HOSTNAME and /etc/hostname are X's, as in Podman."""
    donor = ctr.run("run", "-d", "--hostname", "donorhost", IMAGE, "sleep", "100").stdout.strip()
    try:
        _, spec = _spec(ctr, "--uts", f"container:{donor}")
        assert "hostname" not in spec and _env(spec)["HOSTNAME"] == "donorhost"
        out = ctr.run("run", "--rm", "--uts", f"container:{donor}", IMAGE, "sh", "-c",
                      "hostname; cat /etc/hostname; echo; echo $HOSTNAME").stdout.split()
        assert out == ["donorhost"] * 3
    finally:
        ctr.run("rm", "-f", "-t", "0", donor, check=False)


def test_process_and_namespaces_of_common_flags(ctr: SealpodRunner) -> None:
    """The process and namespace parts Podman writes for -w, --umask, -t, --hostname, --sysctl, --ipc,
    --pid, --uts, --cgroupns, --oom-score-adj, --init, --cpus and --cpu-shares/--cpuset-cpus."""
    _, spec = _spec(ctr, "-w", "/tmp", "--umask", "0027", "--hostname", "h", "--sysctl", "net.ipv4.ip_forward=1",
                    "--oom-score-adj", "100", "--init", "--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0")
    proc = spec["process"]
    assert proc["cwd"] == "/tmp" and proc["user"]["umask"] == 0o027 and proc["oomScoreAdj"] == 100
    assert proc["args"] == ["/run/podman-init", "--", "true"]
    assert spec["hostname"] == "h" and _env(spec)["HOSTNAME"] == "h"
    assert spec["linux"]["sysctl"]["net.ipv4.ip_forward"] == "1"
    assert spec["linux"]["resources"]["cpu"] == {"shares": 512, "quota": 150000, "period": 100000, "cpus": "0"}
    kinds = [n["type"] for n in spec["linux"]["namespaces"]]
    assert kinds == ["pid", "network", "ipc", "uts", "mount"]
    _, spec = _spec(ctr, "--ipc", "host", "--pid", "host", "--uts", "host", "--cgroupns", "private")
    assert [n["type"] for n in spec["linux"]["namespaces"]] == ["network", "mount", "cgroup"]
    assert "hostname" not in spec
    _, spec = _spec(ctr, "-t")
    assert spec["process"]["terminal"] is True


def test_pod_members_cgroups_go_under_the_pods(ctr: SealpodRunner) -> None:
    """Podman puts a pod's infra container and members under the pod's cgroup (PARENT/POD_ID), names it
    as their HostConfig.CgroupParent, keeps a member's own --cgroup-parent, and removes it with the pod;
    --share-parent=false leaves them under the usual parent."""
    pod = ctr.run("pod", "create", "--name", "cgpod").stdout.strip()
    cgroup = f"/libpod_parent/{pod}"
    try:
        infra = ctr.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "cgpod").stdout.strip()
        assert ctr.run("pod", "inspect", "--format", "{{.CgroupPath}}", "cgpod").stdout.strip() == cgroup
        cid, spec = _spec(ctr, "--pod", "cgpod")
        assert spec["linux"]["cgroupsPath"] == f"{cgroup}/libpod-{cid}"
        for ident in (cid, infra):
            assert ctr.run("inspect", "--format", "{{.HostConfig.CgroupParent}}", ident).stdout.strip() == cgroup
        out = ctr.run("run", "--rm", "--pod", "cgpod", IMAGE, "cat", "/proc/self/cgroup").stdout
        assert f":{cgroup}/libpod-" in out
        own, spec = _spec(ctr, "--pod", "cgpod", "--cgroup-parent", "/elsewhere")
        assert spec["linux"]["cgroupsPath"] == f"/elsewhere/libpod-{own}"
        ctr.run("rm", "-f", own)
        assert any(Path("/sys/fs/cgroup").glob(f"*{cgroup}"))
    finally:
        ctr.run("pod", "rm", "-f", "cgpod", check=False)
    assert not any(Path("/sys/fs/cgroup").glob(f"*{cgroup}")) and not Path(f"/sys/fs/cgroup{cgroup}").exists()
    ctr.run("pod", "create", "--name", "flatpod", "--share-parent=false")
    try:
        cid, spec = _spec(ctr, "--pod", "flatpod")
        assert spec["linux"]["cgroupsPath"] == f"/libpod_parent/libpod-{cid}"
        assert ctr.run("inspect", "--format", "{{.HostConfig.CgroupParent}}", cid).stdout.strip() == ""
    finally:
        ctr.run("pod", "rm", "-f", "flatpod", check=False)


def test_init_failure_is_an_engine_error(ctr: SealpodRunner) -> None:
    """podman init of a container whose command does not exist fails with 125 (init runs nothing;
    run's 127 is not init's), with the runtime's message."""
    cid = ctr.run("create", IMAGE, "/no/such/command").stdout.strip()
    err = _fails(ctr, "init", cid, code=125)
    assert "executable file not found" in err or "no such file or directory" in err
    ctr.run("rm", "-f", cid)
