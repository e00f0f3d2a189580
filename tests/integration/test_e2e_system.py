"""Conformance with Podman 4.3.1's e2e tests (test/e2e) for containers.conf defaults, info, version,
system service and generate spec: outputs, exit codes and messages against real conmon and runc.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-system"), seeded_registry.host) as runner:
        yield runner


@contextmanager
def conf_override(ctr: SealpodRunner, text: str) -> Iterator[None]:
    """containers.conf settings laid over the runner's own (CONTAINERS_CONF_OVERRIDE), for one test."""
    path = ctr.base / "override.conf"
    path.write_text(text)
    ctr.env["CONTAINERS_CONF_OVERRIDE"] = str(path)
    try:
        yield
    finally:
        ctr.env.pop("CONTAINERS_CONF_OVERRIDE", None)


# --- containers_conf_test.go -------------------------------------------------------------

def test_conf_devices_are_added(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: additional devices."""
    with conf_override(ctr, '[containers]\ndevices = ["/dev/zero:/dev/notone:rwm"]\n'):
        out = ctr.run("run", "--rm", "--device", "/dev/null:/dev/bar", IMAGE, "ls", "/dev").stdout.split()
    assert "bar" in out and "notone" in out


def test_conf_shm_size_uses_decimal_units(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: shm-size (containers.conf's 201k ends up as 200k)."""
    with conf_override(ctr, '[containers]\nshm_size = "201k"\n'):
        assert "size=200k" in ctr.run("run", "--rm", IMAGE, "grep", "shm", "/proc/self/mounts").stdout
        assert "size=1048576k" in ctr.run("run", "--rm", "--shm-size", "1g", IMAGE, "grep", "shm",
                                          "/proc/self/mounts").stdout
        ctr.run("create", "--name", "shmconf", IMAGE)
        assert ctr.run("inspect", "--format", "{{.HostConfig.ShmSize}}", "shmconf").stdout.strip() == "201000"
        ctr.run("rm", "shmconf")
    # the default "65536k" is 65536000 bytes, as Podman's /dev/shm of 64000k
    assert "size=64000k" in ctr.run("run", "--rm", IMAGE, "grep", "shm", "/proc/self/mounts").stdout


def test_conf_timezone_applies_when_tz_is_empty(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: add timezone."""
    if not Path("/usr/share/zoneinfo/Pacific/Honolulu").exists():
        pytest.skip("no zoneinfo on this host")
    with conf_override(ctr, '[containers]\ntz = "Pacific/Honolulu"\n'):
        assert "HST" in ctr.run("run", "--rm", "--tz", "", IMAGE, "date", "+%Z").stdout
        assert "EST" in ctr.run("run", "--rm", "--tz", "EST", IMAGE, "date", "+%Z").stdout


def test_conf_annotations_reach_inspect(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: add annotations."""
    with conf_override(ctr, '[containers]\nannotations = ["run.oci.keep_original_groups=1"]\n'):
        ctr.run("create", "--rm", "--name", "annoconf", IMAGE)
    out = ctr.run("inspect", "--format", "{{ .Config.Annotations }}", "annoconf").stdout
    ctr.run("rm", "annoconf")
    assert "run.oci.keep_original_groups:1" in out


def test_conf_no_hosts_conflicts_with_add_host(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: --add-host and no-hosts=true fails; /etc/hosts without the hostname."""
    with conf_override(ctr, "[containers]\nno_hosts = true\n"):
        res = ctr.run("run", "--rm", "--add-host", "test1:127.0.0.1", IMAGE, "true", check=False)
        assert res.returncode == 125
        assert "--no-hosts and --add-host cannot be set together" in res.stderr
        ctr.run("run", "--rm", "--add-host", "test1:127.0.0.1", "--no-hosts=false", IMAGE, "true")
        hosts = ctr.run("run", "--rm", "--name", "nohoststest", IMAGE, "sh", "-c", "cat /etc/hosts 2>/dev/null; true")
        assert "nohoststest" not in hosts.stdout
        hosts = ctr.run("run", "--rm", "--name", "nohoststest", "--no-hosts=false", IMAGE, "cat", "/etc/hosts")
        assert "nohoststest" in hosts.stdout


def test_conf_volumes_are_mounted(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e containers_conf_test.go: add volumes."""
    (tmp_path / "marker").write_text("x")
    with conf_override(ctr, f'[containers]\nvolumes = ["{tmp_path}:{tmp_path}:Z",]\n'):
        assert ctr.run("run", "--rm", IMAGE, "ls", str(tmp_path)).stdout.split() == ["marker"]


@pytest.mark.parametrize("kind", ["ipc", "uts", "pid"])
def test_conf_host_namespaces(ctr: SealpodRunner, kind: str) -> None:
    """e2e containers_conf_test.go: ipcns / utsns / pidns (containers-ns.conf)."""
    host = Path(f"/proc/self/ns/{kind}").readlink().name
    with conf_override(ctr, f'[containers]\n{kind}ns = "host"\n'):
        inside = ctr.run("run", "--rm", IMAGE, "readlink", f"/proc/self/ns/{kind}").stdout.strip()
        private = ctr.run("run", "--rm", f"--{kind}", "private", IMAGE, "readlink", f"/proc/self/ns/{kind}")
    assert inside == host
    assert private.stdout.strip() != host


def test_info_security_and_image_copy_tmp_dir(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: seccomp profile path; add image_copy_tmp_dir."""
    fmt = "{{.Host.Security.SECCOMPProfilePath}} {{.Store.ImageCopyTmpDir}}"
    assert ctr.run("info", "--format", fmt).stdout.split() == ["/usr/share/containers/seccomp.json", "/var/tmp"]
    custom = '[containers]\nseccomp_profile = "/x/seccomp.json"\n[engine]\nimage_copy_tmp_dir = "/foobar"\n'
    with conf_override(ctr, custom):
        assert ctr.run("info", "--format", fmt).stdout.split() == ["/x/seccomp.json", "/foobar"]
    with conf_override(ctr, '[engine]\nimage_copy_tmp_dir = "storage1"\n'):
        res = ctr.run("info", "--format", "{{.Store.ImageCopyTmpDir}}", check=False)
    assert res.returncode == 125
    assert 'invalid image_copy_tmp_dir value "storage1" (relative paths are not accepted)' in res.stderr
    security = json.loads(ctr.run("info", "--format", "{{json .Host.Security}}").stdout)
    assert {"apparmorEnabled", "seccompEnabled", "selinuxEnabled", "rootless"} <= set(security)
    assert security["capabilities"].startswith("CAP_")


# --- version_test.go ----------------------------------------------------------------------

def test_version_template_without_client_reads_client(ctr: SealpodRunner) -> None:
    """e2e version_test.go: podman version --format GO template ({{ .Version }})."""
    version = ctr.run("version", "--format", "{{ .Client.Version }}").stdout.strip()
    assert ctr.run("version", "--format", "{{ .Version }}").stdout.strip() == version


# --- generate_spec_test.go ----------------------------------------------------------------

def test_generate_spec_container_and_pod(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e generate_spec_test.go: basic usage, spec file, spec pod, bogus should fail."""
    res = ctr.run("generate", "spec", "foobar", check=False)
    assert res.returncode == 125
    assert "could not find a pod or container with the id foobar" in res.stderr
    ctr.run("create", "--cpus", "5", "--name", "specgen", IMAGE)
    compact = ctr.run("generate", "spec", "--compact", "specgen").stdout
    assert len(compact.strip().splitlines()) == 1
    doc = json.loads(compact)
    assert doc["name"] == "specgen-clone"
    assert doc["resource_limits"]["cpu"] == {"quota": 500000, "period": 100000}
    out = tmp_path / "out.json"
    ctr.run("generate", "spec", "--filename", str(out), "specgen")
    assert "specgen-clone" in out.read_text() and "500000" in out.read_text()
    ctr.run("rm", "specgen")
    ctr.run("pod", "create", "--cpus", "5", "--name", "podspecgen")
    assert json.loads(ctr.run("generate", "spec", "--compact", "podspecgen").stdout)["name"] == "podspecgen-clone"
    ctr.run("pod", "rm", "podspecgen")


# --- system_service_test.go / containers_conf_test.go --------------------------------------

def test_service_idle_timeout_comes_from_containers_conf(ctr: SealpodRunner) -> None:
    """e2e containers_conf_test.go: system service (default from service_timeout); system_service_test.go: --time."""
    import time

    sock = ctr.base / "svc.sock"
    with conf_override(ctr, "[engine]\nservice_timeout = 1\n"):
        started = time.monotonic()
        ctr.run("system", "service", f"unix://{sock}", timeout=20)
    assert time.monotonic() - started < 4.5  # not the built-in 5 seconds
    ctr.run("system", "service", "--time=1", f"unix://{sock}", timeout=20)


# --- system_connection_test.go ------------------------------------------------------------

def test_connection_add_unix_socket_path_overrides_uri(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e system_connection_test.go: add UDS (--socket-path)."""
    conf = tmp_path / "connections.conf"
    conf.write_text("")
    saved = ctr.env["CONTAINERS_CONF"]
    ctr.env["CONTAINERS_CONF"] = str(conf)
    try:
        ctr.run("system", "connection", "add", "QA-UDS", "unix:///run/podman/podman.sock")
        ctr.run("system", "connection", "add", "QA-UDS1", "--socket-path", "/run/user/podman/podman.sock",
                "unix:///run/podman/podman.sock")
        rows = ctr.run("system", "connection", "list", "--format", "{{.Name}} {{.URI}} {{.Default}}").stdout
    finally:
        ctr.env["CONTAINERS_CONF"] = saved
    assert "QA-UDS unix:///run/podman/podman.sock true" in rows
    assert "QA-UDS1 unix:///run/user/podman/podman.sock false" in rows
