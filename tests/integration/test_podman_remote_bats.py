"""Podman 4.3.1's system tests run with the real ``podman --remote`` against ``sealpod system service``:
what the client needs from the Libpod API to behave as it does against Podman's own service.  Each test
names the BATS test it mirrors.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from sealpod import BUILT, __version__
from tests.rig.api import ApiService
from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="the real podman client is not installed (apt-get install podman)")


def test_version_shows_the_server_build_time_and_version(pr: Remote) -> None:
    """001-basic: podman version emits reasonable output (the server's Built is a real date)."""
    assert pr.out("version", "--format", "{{.Server.Built}} {{.Server.Version}}") == f"{BUILT} {__version__}"
    assert "Built:        Mon Jan  1 00:00:00 0001" not in pr.out("version")


def test_pull_prints_the_image_id_once(pr: Remote) -> None:
    """001-basic: podman can pull an image (no output line twice)."""
    res = pr("pull", pr.image)
    image_id = pr.out("image", "inspect", "--format", "{{.Id}}", pr.image)
    assert res.stdout.splitlines() == [image_id]
    assert image_id not in res.stderr.splitlines()


def test_pod_new_and_the_infra_image_in_use(pr: Remote) -> None:
    """010-images: rmi -f can remove infra images (create --pod new:, rmi of the pause image exits 2)."""
    pr("create", "--pod", "new:rb-pod", pr.image, "true")
    version = pr.out("version", "--format", "{{.Server.Version}}-{{.Server.Built}}")
    pause = f"localhost/podman-pause:{version}"
    assert pr("image", "exists", pause).returncode == 0
    res = pr("rmi", pause, check=False)
    assert res.returncode == 2 and "image is in use by a container" in res.stderr
    assert pr("rmi", "localhost/no/such:image", check=False).returncode == 1


def test_spec_fields_reach_the_container(pr: Remote, tmp_path: Path) -> None:
    """030-run: --conmon-pidfile, --tz, --unsetenv, --log-driver none (and logs of it fail), --timeout."""
    pidfile = tmp_path / "conmon.pid"
    pr("run", "-d", "--name", "rb-spec", "--conmon-pidfile", str(pidfile), "--tz", "MST7MDT", "--unsetenv", "TERM",
       "--log-driver", "none", "--timeout", "30", pr.image, "sleep", "100")
    conmon = pr.out("inspect", "--format", "{{.State.ConmonPid}}", "rb-spec")
    assert pidfile.read_text().strip() == conmon
    assert pr.out("exec", "rb-spec", "date", "+%Z") in ("MST", "MDT")
    assert "TERM=" not in pr.out("exec", "rb-spec", "env")
    assert pr.out("inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{.Config.Timezone}}", "rb-spec") \
        == "none MST7MDT"
    assert pr("logs", "rb-spec", check=False).returncode == 125


def test_ports_with_host_network_warn(pr: Remote) -> None:
    """030-run: podman run with --net=host and --port prints warning."""
    res = pr("run", "--rm", "-p", "8080", "--net=host", pr.image, "echo", "hi")
    assert res.stdout == "hi\n"
    assert res.stderr.startswith("Port mappings have been discarded as one of the Host, Container, Pod, and None "
                                 "network modes are in use")


def test_ps_status_filter_lists_exited(pr: Remote) -> None:
    """040-ps: podman ps --filter (status=exited without -a)."""
    pr("run", "--name", "rb-done", pr.image, "true")
    pr("run", "-d", "--name", "rb-up", pr.image, "sleep", "100")
    assert pr.out("ps", "--filter", "status=exited", "--format", "{{.Names}}") == "rb-done"
    assert pr.out("ps", "--format", "{{.Names}}") == "rb-up"


def test_rm_depend_and_rm_force_of_an_attached_run(pr: Remote) -> None:
    """055-rm: podman rm --depend; podman rm -f (the attached run exits 137)."""
    base = pr.out("create", "--name", "rb-base", pr.image, "true")
    dep = pr.out("create", "--net", f"container:{base}", pr.image, "true")
    assert pr("rm", "rb-base", check=False).returncode == 125
    assert pr.out("rm", "--depend", "rb-base").splitlines() == [dep, "rb-base"]
    assert pr.out("rm", "--ignore", "rb-base") == ""

    import subprocess

    argv = ["podman", "--remote", "--url", pr.api.url, "run", "--name", "rb-killed", pr.image, "sleep", "100"]
    env = {k: v for k, v in pr.api.runner.env.items() if k not in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG")}
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        for _ in range(100):
            if pr.out("ps", "--filter", "name=rb-killed", "--format", "{{.Status}}").startswith("Up"):
                break
            time.sleep(0.1)
        pr("rm", "-f", "-t", "0", "rb-killed")
        _, err = run.communicate(timeout=60)
    assert run.returncode == 137, err
    assert "Cannot get exit code" not in err


def test_start_attach_runs_an_exited_container_again(pr: Remote) -> None:
    """035-logs: podman logs restarted - k8s-file (start -a of an exited container)."""
    assert pr("run", "--name", "rb-again", pr.image, "echo", "once").stdout == "once\n"
    assert pr.out("wait", "rb-again") == "0"
    assert pr("start", "-a", "rb-again").stdout == "once\n"
    assert pr("logs", "rb-again").stdout == "once\nonce\n"


def test_remote_create_sends_a_spec_generator(api: ApiService, seeded_registry: RegistryServer) -> None:
    """030-run: podman run --memory=0 runtime option (the libpod create body, as podman-remote sends it)."""
    image = f"{seeded_registry.host}/sealtest/tiny:latest"
    body = {"name": "rb-raw", "image": image, "command": ["true"], "volumes": [{"Name": "", "Dest": "/anon"}],
            "netns": {"nsmode": "host"}, "portmappings": [{"container_port": 80, "host_port": 0, "range": 1}],
            "resource_limits": {"pids": {"limit": 0}}}
    status, raw = api.request("POST", "/v4.3.1/libpod/containers/create", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})
    doc = json.loads(raw)
    assert status == 201, doc
    assert doc["Warnings"] and doc["Warnings"][0].startswith("Port mappings have been discarded")
    status, raw = api.request("GET", "/v4.3.1/libpod/containers/rb-raw/json")
    inspect = json.loads(raw)
    assert [m["Destination"] for m in inspect["Mounts"]] == ["/anon"]
    assert inspect["HostConfig"]["NetworkMode"] == "host"
    api.request("DELETE", "/v4.3.1/libpod/containers/rb-raw?force=true&v=true")


def test_rm_volumes_takes_anonymous_volumes(pr: Remote) -> None:
    """160-volumes: podman volume, implicit creation with run (rm --volumes over the libpod API)."""
    pr("run", "--name", "rb-anon", "-v", "/myvol", pr.image, "true")
    volume = pr.out("inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", "rb-anon")
    assert volume in pr.out("volume", "ls", "-q").split()
    pr("rm", "--volumes", "rb-anon")
    assert volume not in pr.out("volume", "ls", "-q").split()


def test_save_oci_uncompressed(pr: Remote, tmp_path: Path) -> None:
    """120-load: podman save --oci-accept-uncompressed-layers (--uncompressed reaches the server)."""
    import tarfile

    archive = tmp_path / "oci.tar"
    pr("save", "-o", str(archive), "--format", "oci-archive", "--uncompressed", pr.image)
    with tarfile.open(archive) as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
        manifest = json.load(tar.extractfile(f"blobs/sha256/{index['manifests'][0]['digest'][7:]}"))  # type: ignore[arg-type]
        layer = tar.extractfile(f"blobs/sha256/{manifest['layers'][0]['digest'][7:]}")
        assert layer is not None and layer.read(2) != b"\x1f\x8b"
    assert manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar"


def test_cp_relative_paths_renames_and_overwrite(pr: Remote, tmp_path: Path) -> None:
    """065-cp: file from container to host / container to container; --overwrite file - ctr/ctr;
    will not expand globs in host space (relative paths are in the working directory)."""
    pr("run", "-d", "--name", "rb-src", "--workdir", "/tmp", pr.image, "sh", "-c",
       "echo one > /tmp/f1; echo two > /tmp/foo; ln -s nowhere* /tmp/dangling; sleep 100")
    pr("run", "-d", "--name", "rb-dst", pr.image, "sh", "-c", "mkdir /tmp/foo; sleep 100")
    for _ in range(50):
        if pr("exec", "rb-src", "test", "-L", "/tmp/dangling", check=False).returncode == 0:
            break
        time.sleep(0.1)
    pr("cp", "rb-src:f1", str(tmp_path))
    assert (tmp_path / "f1").read_text() == "one\n"
    (tmp_path / "h.txt").write_text("host\n")
    pr("cp", str(tmp_path / "h.txt"), "rb-src:.")
    assert pr.out("exec", "rb-src", "cat", "/tmp/h.txt") == "host"
    pr("cp", "rb-src:/tmp/f1", "rb-dst:/newfile")  # a name that does not exist yet: the copy is renamed
    assert pr.out("exec", "rb-dst", "cat", "/newfile") == "one"
    assert pr("cp", "rb-src:/tmp/foo", "rb-dst:/tmp", check=False).returncode == 125  # a file over a dir
    pr("cp", "--overwrite", "rb-src:/tmp/foo", "rb-dst:/tmp")
    assert pr.out("exec", "rb-dst", "cat", "/tmp/foo") == "two"
    res = pr("cp", "rb-src:dangling", str(tmp_path), check=False)
    assert res.returncode == 125 and '"dangling" could not be found on container rb-src' in res.stderr


def test_cp_onto_a_dangling_symlink_creates_its_target(pr: Remote, tmp_path: Path) -> None:
    """065-cp: podman cp into container: weird symlink expansion (the stat of a dangling link is
    "not found" but says where the link leads; "x/" through it is an error)."""
    pr("run", "-d", "--name", "rb-weird", pr.image, "sh", "-c",
       "mkdir /tmp/d1 /tmp/d2; ln -s /tmp/nonesuch1 /tmp/d1/x; ln -s /tmp/nonesuch2 /tmp/d2/x; sleep 100")
    for _ in range(50):
        if pr("exec", "rb-weird", "test", "-L", "/tmp/d2/x", check=False).returncode == 0:
            break
        time.sleep(0.1)
    (tmp_path / "f").write_text("through the link\n")
    pr("cp", str(tmp_path / "f"), "rb-weird:/tmp/d1/x")
    assert pr.out("exec", "rb-weird", "cat", "/tmp/nonesuch1") == "through the link"
    assert pr.out("exec", "rb-weird", "readlink", "/tmp/d1/x") == "/tmp/nonesuch1"
    res = pr("cp", str(tmp_path / "f"), "rb-weird:/tmp/d2/x/", check=False)
    assert res.returncode == 125 and '"/tmp/d2/x/" could not be found on container rb-weird' in res.stderr


def test_cp_into_a_volume_of_a_created_container(pr: Remote, tmp_path: Path) -> None:
    """065-cp: podman cp file from host to container volume (its mount point does not exist yet)."""
    pr("volume", "create", "rb-outer")
    pr("volume", "create", "rb-inner")
    pr("create", "--name", "rb-vols", "-v", "rb-outer:/tmp/volume", "-v", "rb-inner:/tmp/volume/sub", pr.image,
       "cat", "/tmp/volume/sub/h.txt")
    (tmp_path / "h.txt").write_text("in a volume\n")
    pr("cp", str(tmp_path / "h.txt"), "rb-vols:/tmp/volume/sub")
    assert pr("start", "-a", "rb-vols").stdout == "in a volume\n"
    pr("rm", "rb-vols")
    pr("volume", "rm", "rb-outer", "rb-inner")


def test_pod_create_network_options(pr: Remote, tmp_path: Path) -> None:
    """200-pod: podman pod create - hashtag AllTheOptions (--mac-address, --add-host, -v over the libpod API)."""
    pidfile = tmp_path / "infra.pid"
    pr("pod", "create", "--name", "rb-allopts", "--mac-address", "92:bb:24:da:f0:77", "--add-host", "rb.host:1.2.3.4",
       "--infra-conmon-pidfile", str(pidfile), "-v", f"{tmp_path}:/shared")
    (tmp_path / "hello").write_text("from the pod\n")
    out = pr.out("run", "--rm", "--pod", "rb-allopts", pr.image, "sh", "-c",
                 "cat /sys/class/net/eth0/address; grep rb.host /etc/hosts; cat /shared/hello")
    lines = out.splitlines()
    assert lines[0] == "92:bb:24:da:f0:77"
    assert lines[1].split() == ["1.2.3.4", "rb.host"] and lines[2] == "from the pod"
    assert pidfile.read_text().strip().isdigit()
