"""Podman 4.3.1's e2e tests (test/e2e) in their remote mode: the real ``podman --remote`` client against
``sealpod system service``.  Each test names the It block it mirrors; what it checks is a request field
the service ignored, a response field the client reads, or a status or message it prints.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="the real podman client is not installed (apt-get install podman)")


def test_run_proc_opts_reach_the_proc_mount(pr: Remote) -> None:
    """e2e run_test.go: podman run --security-opts proc-opts= (sent as procfs_opts)."""
    out = pr.out("run", "--rm", "--security-opt", "proc-opts=nosuid,exec", pr.image,
                 "sh", "-c", "grep ' /proc ' /proc/mounts")
    assert "nosuid" in out and "noexec" not in out


def test_run_overlay_volume_keeps_the_host_directory(pr: Remote, tmp_path: Path) -> None:
    """e2e run_volume_test.go: podman run with --volume and O flag (sent as overlay_volumes)."""
    (tmp_path / "a").write_text("hi\n")
    out = pr.out("run", "--rm", "-v", f"{tmp_path}:/ov:O", pr.image, "sh", "-c", "touch /ov/b && ls /ov")
    assert out.split() == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_run_spec_generator_fields(pr: Remote) -> None:
    """e2e run_env_test.go / run_passwd_test.go: --unsetenv-all, --env-merge, --passwd-entry, --read-only-tmpfs."""
    env = pr.out("run", "--rm", "--unsetenv-all", "-e", "ONLY=1", pr.image, "/usr/bin/env").split()
    assert "ONLY=1" in env and not any(e.startswith("PATH=") for e in env)  # HOME and HOSTNAME stay, as Podman's
    merged = pr.out("run", "--rm", "--env-merge", "PATH=${PATH}:/foo", pr.image, "/usr/bin/env").split()
    assert next(e for e in merged if e.startswith("PATH=")).endswith("/bin:/foo")
    entry = pr.out("run", "--rm", "--user", "1234", "--passwd-entry", "who:x:$UID:$GID::$HOME:/bin/sh",
                   pr.image, "grep", "who:", "/etc/passwd")
    assert entry == "who:x:1234:0::/:/bin/sh"
    res = pr("run", "--rm", "--read-only", "--read-only-tmpfs=false", pr.image, "touch", "/tmp/x", check=False)
    assert res.returncode == 1 and "Read-only file system" in res.stderr
    pr("run", "--rm", "--read-only", pr.image, "touch", "/tmp/x")
    pr("create", "--name", "e2e-limits", "--memory-reservation", "100m", "--oom-kill-disable", pr.image)
    assert pr.out("inspect", "e2e-limits", "--format",
                  "{{.HostConfig.MemoryReservation}} {{.HostConfig.OomKillDisable}}") == "104857600 true"


def test_run_cgroups_garbage_errors(pr: Remote) -> None:
    """e2e run_test.go: podman run with cgroups=garbage errors."""
    res = pr("run", "--rm", "--cgroups=garbage", pr.image, "true", check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == \
        'Error: running container create option: invalid cgroup mode "garbage": invalid argument'


def test_inspect_unlimited_ulimit_and_conmon_pidfile(pr: Remote, tmp_path: Path) -> None:
    """e2e inspect_test.go: Container inspect with unlimited ulimits should be -1; ConmonPidFile; --size."""
    pr("create", "--name", "e2e-ul", "--ulimit", "core=-1:-1", pr.image)  # arrives as 2**64-1
    assert "{RLIMIT_CORE -1 -1}" in pr.out("inspect", "e2e-ul", "--format", "{{.HostConfig.Ulimits}}")
    pidfile = tmp_path / "conmon.pid"
    pr("run", "-d", "--name", "e2e-cp", "--conmon-pidfile", str(pidfile), pr.image, "sleep", "100")
    assert pr.out("inspect", "e2e-cp", "--format", "{{.ConmonPidFile}}") == str(pidfile)
    size = pr.out("inspect", "--size", "e2e-cp", "--format", "{{.SizeRw}} {{.SizeRootFs}}").split()
    assert size[0] != "<nil>" and int(size[1]) > 0


def test_ps_size_last_and_namespaces(pr: Remote) -> None:
    """e2e ps_test.go: podman ps size flag, last flag, namespace flag."""
    for name in ("e2e-ps1", "e2e-ps2", "e2e-ps3"):
        pr("run", "-d", "--name", name, pr.image, "sleep", "100")
        time.sleep(0.05)
    assert pr.out("ps", "-a", "--last", "2", "--format", "{{.Names}}").split() == ["e2e-ps2", "e2e-ps3"]
    sizes = pr.out("ps", "-a", "--size", "--format", "{{.Size}}").splitlines()
    assert len(sizes) == 3 and all("virtual" in s for s in sizes)
    ns = pr.out("ps", "--ns", "--filter", "name=e2e-ps1", "--format", "{{.Namespaces.MNT}} {{.Namespaces.NET}}")
    assert all(part.isdigit() for part in ns.split()) and len(ns.split()) == 2


def test_images_label_filter_with_a_value(pr: Remote, seeded_registry: RegistryServer) -> None:
    """e2e images_test.go: podman images filter by label (the client sends label=K=V as ["K", "V"])."""
    assert pr.out("images", "-q", "--filter", "label=org.sealtest.image=true")
    assert pr.out("images", "-q", "--filter", "label=org.sealtest.image=false") == ""
    assert pr.out("images", "-q", "--filter", "label=org.sealtest.image")


def test_images_since_and_before_go_by_creation_time(pr: Remote, seeded_registry: RegistryServer) -> None:
    """e2e images_test.go: podman images filter since/after image (the image's creation, not its pull)."""
    pr("run", "--name", "e2e-commit", pr.image, "true")
    newer = pr.out("commit", "-q", "e2e-commit", "localhost/e2e-newer")
    older = f"{seeded_registry.host}/sealtest/multilayer:latest"
    pr("pull", "-q", older)  # stored after the commit, created long before it
    try:
        since = pr.out("images", "--noheading", "--format", "{{.Repository}}", "--filter", "since=localhost/e2e-newer")
        assert since == ""
        before = pr.out("images", "--noheading", "--format", "{{.Repository}}", "--filter",
                        "before=localhost/e2e-newer").splitlines()
        assert f"{seeded_registry.host}/sealtest/multilayer" in before
        assert newer.removeprefix("sha256:")
    finally:
        pr("rmi", "-f", "localhost/e2e-newer", older, check=False)


def test_pod_create_options_reach_the_pod(pr: Remote) -> None:
    """e2e pod_create_test.go: --cpus, --cpuset-cpus, --pid, --no-hosts, slirp options, unsupported modes."""
    pr("pod", "create", "--name", "e2e-pod", "--cpus", "5", "--cpuset-cpus", "0", "--pid", "host", "--no-hosts")
    fmt = "{{.CPUPeriod}} {{.CPUQuota}} {{.CPUSetCPUs}} {{.InfraConfig.PidNS}} {{.InfraConfig.NoManageHosts}}"
    assert pr.out("pod", "inspect", "e2e-pod", "--format", fmt) == "100000 500000 0 host true"
    pr("pod", "create", "--name", "e2e-slirp", "--network", "slirp4netns:port_handler=slirp4netns")
    assert pr.out("pod", "inspect", "e2e-slirp", "--format", "{{.InfraConfig.NetworkOptions}}") == \
        "map[slirp4netns:[port_handler=slirp4netns]]"
    res = pr("pod", "create", "--network", "container:whatever", check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == "Error: failed to make pod: pods presently do not support network mode container"
    res = pr("pod", "create", "--name", "e2e-pod", check=False)
    assert res.returncode == 125 and res.stderr.startswith("Error: failed to make pod: ")


def test_logs_of_a_tty_container(pr: Remote) -> None:
    """e2e logs_test.go: Make sure logs match expected length (libpod's logs stay multiplexed with -t)."""
    pr("run", "-t", "--name", "e2e-tty", pr.image, "sh", "-c", "echo 1; echo 2")
    assert pr("logs", "e2e-tty").stdout.split() == ["1", "2"]  # empty before: the client reads frames


def test_network_create_ip_range(pr: Remote) -> None:
    """e2e network_create_test.go: podman network create with name and subnet and IP range (lease_range)."""
    pr("network", "create", "--subnet", "10.11.12.0/24", "--ip-range", "10.11.12.0/26", "e2e-range")
    try:
        doc = json.loads(pr.out("network", "inspect", "e2e-range"))[0]
        assert doc["subnets"][0]["lease_range"] == {"start_ip": "10.11.12.1", "end_ip": "10.11.12.63"}
    finally:
        pr("network", "rm", "e2e-range", check=False)


def test_healthcheck_failures_before_retries(pr: Remote) -> None:
    """e2e healthcheck_run_test.go: failed checks must reach retries before unhealthy (each run exits 1)."""
    pr("run", "-d", "--name", "e2e-hc", "--health-retries", "2", "--health-cmd", "ls /foo || exit 1",
       pr.image, "sleep", "100")
    res = pr("healthcheck", "run", "e2e-hc", check=False)
    assert (res.returncode, res.stdout) == (1, "unhealthy\n")
    assert pr.out("inspect", "e2e-hc", "--format", "{{.State.Health.Status}}") == "starting"
    assert pr("healthcheck", "run", "e2e-hc", check=False).returncode == 1
    assert pr.out("inspect", "e2e-hc", "--format", "{{.State.Health.Status}}") == "unhealthy"


def test_health_interval_zero_stays_zero(pr: Remote) -> None:
    """e2e healthcheck_run_test.go: --health-interval 0 (the client leaves Interval out) is no timer."""
    pr("create", "--name", "e2e-hc0", "--health-cmd", "true", "--health-interval", "0", pr.image)
    assert pr.out("inspect", "e2e-hc0", "--format", "{{.Config.Healthcheck.Interval}}") == "0s"
    pr("create", "--name", "e2e-hc30", "--health-cmd", "true", pr.image)
    assert pr.out("inspect", "e2e-hc30", "--format", "{{.Config.Healthcheck.Interval}}") == "30s"


def test_events_until_a_duration_is_in_the_future(pr: Remote) -> None:
    """e2e events_test.go: podman events --until future (a duration counts forward from now)."""
    pr("run", "--name", "e2e-ev", pr.image, "true")
    out = pr.out("events", "--stream=false", "--since", "1m", "--until", "30s", "--filter", "container=e2e-ev",
                 "--filter", "event=died", "--format", "{{.Name}}")
    assert out == "e2e-ev"


def test_pull_names_the_blobs_already_present(pr: Remote) -> None:
    """e2e pull_test.go: podman pull progress (Copying blob even when the image is already stored)."""
    res = pr("pull", pr.image)
    assert "Getting image source signatures" in res.stderr and "Copying blob " in res.stderr
    assert pr("pull", "-q", pr.image).stderr == ""


def test_exec_and_volume_messages(pr: Remote) -> None:
    """e2e exec_test.go: podman exec without command; volume_ls_test.go: dangling filter with a bad value."""
    pr("run", "-d", "--name", "e2e-exec", pr.image, "sleep", "100")
    res = pr("exec", "e2e-exec", check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == "Error: must provide a non-empty command to start an exec session: invalid argument"
    res = pr("volume", "ls", "--filter", "dangling=foo", check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == 'Error: "foo" is not a valid value for the "dangling" filter - must be true or false'


def test_generate_kube_of_a_missing_container(pr: Remote) -> None:
    """e2e generate_kube_test.go: podman generate pod kube on bogus object (the service's error prefix)."""
    res = pr("generate", "kube", "e2e-bogus", check=False)
    assert res.returncode == 125
    assert res.stderr.strip() == 'Error: generating YAML: name or ID "e2e-bogus" not found'
