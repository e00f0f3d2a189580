"""The real Podman 4.3.1 client in remote mode (``podman --remote --url unix://...``) against the
service: it decodes every libpod answer into Podman's Go structs, so a wrong JSON type or shape
fails the command outright.  Outputs are compared with what the same command prints against Podman.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.podman_remote import Remote
from tests.rig.registry import free_port

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="the real podman client is not installed (apt-get install podman)")


def test_version_info_and_image_commands(pr: Remote, tmp_path: Path) -> None:
    assert "API Version:  4.3.1" in pr.out("version")
    assert pr.out("info", "--format", "{{.Host.CgroupManager}}") in ("cgroupfs", "systemd")
    assert pr.image in pr.out("images", "--format", "{{.Repository}}:{{.Tag}}").splitlines()
    assert pr.out("image", "inspect", pr.image, "--format", "{{.Os}} {{.Architecture}} {{.Config.Cmd}}") \
        == "linux amd64 [sh]"
    assert "COPY busybox /" in pr.out("image", "history", pr.image)
    assert pr("image", "exists", pr.image).returncode == 0
    assert pr("image", "exists", "localhost/nothing:here", check=False).returncode == 1
    pr("pull", "-q", pr.image)
    pr("tag", pr.image, "localhost/remote-tag:v1")  # the name travels %2F-encoded in the path
    assert "localhost/remote-tag:v1" in pr.out("images", "--format", "{{.Repository}}:{{.Tag}}")
    pr("untag", pr.image, "localhost/remote-tag:v1")
    pr("tag", pr.image, "localhost/remote-tag:v2")
    assert pr.out("rmi", "localhost/remote-tag:v2") == "Untagged: localhost/remote-tag:v2"
    archive = tmp_path / "tiny.tar"
    pr("image", "save", "-o", str(archive), pr.image)
    assert tarfile.is_tarfile(archive)
    assert f"Loaded image: {pr.image}" in pr.out("image", "load", "-i", str(archive))


def test_run_ps_inspect_and_lifecycle(pr: Remote, tmp_path: Path) -> None:
    res = pr("run", "--rm", "-e", "FOO=bar", pr.image, "sh", "-c", "echo $FOO; exit 3", check=False)
    assert (res.returncode, res.stdout) == (3, "bar\n"), res.stderr  # the exit code comes from the died event
    assert "Cannot get exit code" not in res.stderr
    (tmp_path / "in.txt").write_text("mounted\n")
    assert pr.out("run", "--rm", "-v", f"{tmp_path}:/mnt", pr.image, "cat", "/mnt/in.txt") == "mounted"
    port = free_port()
    cid = pr.out("run", "-d", "--name", "rc-web", "-p", f"{port}:80", pr.image, "sleep", "1000")
    assert pr.out("ps", "--format", "{{.ID}} {{.Names}} {{.Ports}}") == f"{cid[:12]} rc-web 0.0.0.0:{port}->80/tcp"
    assert "Up " in pr.out("ps", "--filter", "name=rc-web", "--format", "{{.Status}}")
    assert pr.out("port", "rc-web") == f"80/tcp -> 0.0.0.0:{port}"
    assert pr.out("inspect", "rc-web", "--format", "{{.Config.StopSignal}} {{.Name}} {{.State.Status}}") \
        == "15 rc-web running"
    assert pr.out("exec", "-e", "X=1", "rc-web", "sh", "-c", "echo $X") == "1"
    assert "sleep 1000" in pr.out("top", "rc-web")
    assert pr.out("pause", "rc-web") == "rc-web"
    assert pr.out("ps", "-a", "--filter", "name=rc-web", "--format", "{{.Status}}") == "Paused"
    pr("unpause", "rc-web")
    pr("rename", "rc-web", "rc-web2")
    assert pr("container", "exists", "rc-web2").returncode == 0
    assert pr("container", "exists", "rc-web", check=False).returncode == 1
    assert pr.out("stop", "-t", "1", "rc-web2") == "rc-web2"
    assert pr.out("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}") == "rc-web2"
    assert pr.out("rm", "rc-web2") == "rc-web2"


def test_logs_wait_files_and_commit(pr: Remote, tmp_path: Path) -> None:
    pr("create", "--name", "rc-once", pr.image, "sh", "-c", "echo one; echo two >&2")
    started = pr("start", "-a", "rc-once")
    assert (started.stdout, started.stderr) == ("one\n", "two\n")
    assert pr.out("wait", "rc-once") == "0"
    logs = pr("logs", "rc-once")
    assert (logs.stdout, logs.stderr) == ("one\n", "two\n")
    pr("run", "-d", "--name", "rc-files", pr.image, "sleep", "1000")
    (tmp_path / "f.txt").write_text("data\n")
    pr("cp", str(tmp_path / "f.txt"), "rc-files:/f.txt")
    pr("cp", "rc-files:/f.txt", str(tmp_path / "back.txt"))  # the stat's linkTarget is where it copies from
    assert (tmp_path / "back.txt").read_text() == "data\n"
    assert "A /f.txt" in pr.out("diff", "rc-files").splitlines()
    pr("export", "-o", str(tmp_path / "fs.tar"), "rc-files")
    with tarfile.open(tmp_path / "fs.tar") as tar:
        assert "f.txt" in tar.getnames()
    image_id = pr.out("commit", "rc-files", "localhost/rc-committed:1")
    assert pr.out("run", "--rm", "localhost/rc-committed:1", "cat", "/f.txt") == "data"
    pr("rmi", "-f", image_id)
    assert pr.out("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "rc-files") == "rc-files 1"
    assert pr.out("kill", "rc-files") == "rc-files"
    assert pr.out("wait", "rc-files") == "137"
    exited = set(pr.out("ps", "-aq", "--no-trunc").split())
    assert set(pr.out("container", "prune", "-f").split()) == exited
    assert pr.out("ps", "-aq") == ""


def test_events_report_died_with_exit_code(pr: Remote) -> None:
    cid = pr.out("run", "-d", pr.image, "sh", "-c", "exit 4")
    assert pr.out("wait", cid) == "4"
    out = pr.out("events", "--stream=false", "--since", "1m", "--filter", f"container={cid}",
                 "--filter", "event=died", "--format", "{{.Status}} {{.ContainerExitCode}}")
    assert out.splitlines() == ["died 4"]


def test_pods(pr: Remote) -> None:
    pod_id = pr.out("pod", "create", "--name", "rc-pod")
    pr("run", "-d", "--pod", "rc-pod", "--name", "rc-member", pr.image, "sleep", "1000")
    assert pr.out("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}") == "rc-pod Running 2"
    assert pr.out("pod", "inspect", "rc-pod", "--format", "{{.Name}} {{.NumContainers}}") == "rc-pod 2"
    assert pr("pod", "exists", "rc-pod").returncode == 0
    assert "sleep 1000" in pr.out("pod", "top", "rc-pod")
    assert pr.out("pod", "stop", "rc-pod") == pod_id
    assert pr.out("pod", "start", "rc-pod") == pod_id
    assert pr.out("pod", "rm", "-f", "rc-pod") == pod_id
    assert pr("pod", "exists", "rc-pod", check=False).returncode == 1


def test_volumes_networks_and_secrets(pr: Remote, tmp_path: Path) -> None:
    assert pr.out("volume", "create", "--label", "a=b", "rc-vol") == "rc-vol"
    assert pr.out("volume", "inspect", "rc-vol", "--format", "{{.Name}} {{.Driver}} {{.Labels}}") \
        == "rc-vol local map[a:b]"
    assert "rc-vol" in pr.out("volume", "ls", "--format", "{{.Name}}").splitlines()
    assert pr.out("volume", "rm", "rc-vol") == "rc-vol"
    assert pr("volume", "exists", "rc-vol", check=False).returncode == 1
    pr("volume", "create", "rc-vol2")
    assert "rc-vol2" in pr.out("volume", "prune", "-f").splitlines()

    assert pr.out("network", "create", "rc-net") == "rc-net"
    assert pr.out("network", "inspect", "rc-net", "--format", "{{.Name}} {{.Driver}}") == "rc-net bridge"
    pr("run", "-d", "--name", "rc-netted", pr.image, "sleep", "1000")
    pr("network", "connect", "rc-net", "rc-netted")
    assert "rc-net" in pr.out("inspect", "rc-netted", "--format",
                              "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}").split()
    pr("network", "disconnect", "rc-net", "rc-netted")
    pr("rm", "-f", "-t", "0", "rc-netted")
    assert pr.out("network", "rm", "rc-net") == "rc-net"
    assert pr("network", "exists", "rc-net", check=False).returncode == 1

    (tmp_path / "secret").write_text("s3cr3t")
    secret_id = pr.out("secret", "create", "rc-secret", str(tmp_path / "secret"))
    assert pr.out("secret", "ls", "--format", "{{.Name}} {{.Driver}}") == "rc-secret file"
    assert pr.out("secret", "inspect", "rc-secret", "--format", "{{.Spec.Name}}") == "rc-secret"
    assert pr.out("secret", "rm", "rc-secret") == secret_id


def test_generate_kube_and_system(pr: Remote, tmp_path: Path) -> None:
    pr("run", "-d", "--name", "rc-unit", pr.image, "sleep", "1000")
    unit = pr.out("generate", "systemd", "--name", "rc-unit")  # the query's "usename" is schema's useName
    assert unit.startswith("# container-rc-unit.service")
    assert "kind: Pod" in pr.out("kube", "generate", "rc-unit")
    yaml = tmp_path / "pod.yaml"
    yaml.write_text(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: rc-kube\nspec:\n  containers:\n"
                    f"  - name: c\n    image: {pr.image}\n    command: [sleep, '1000']\n")
    assert "Pod:" in pr.out("kube", "play", str(yaml))
    assert "rc-kube Running" in pr.out("pod", "ps", "--format", "{{.Name}} {{.Status}}")
    assert "Pods removed:" in pr.out("kube", "down", str(yaml))
    df = pr.out("system", "df")
    assert df.splitlines()[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert "rc-unit" in pr.out("system", "df", "-v")


def test_healthcheck_and_manifest(pr: Remote) -> None:
    pr("run", "-d", "--name", "rc-ok", "--health-cmd", "true", pr.image, "sleep", "1000")
    pr("run", "-d", "--name", "rc-bad", "--health-cmd", "false", "--health-retries", "1", pr.image, "sleep", "1000")
    assert pr("healthcheck", "run", "rc-ok").returncode == 0
    bad = pr("healthcheck", "run", "rc-bad", check=False)
    assert (bad.returncode, bad.stdout.strip()) == (1, "unhealthy")
    assert pr.out("ps", "--filter", "name=rc-ok", "--format", "{{.Status}}").endswith("(healthy)")
    list_id = pr.out("manifest", "create", "localhost/rc-list:1")
    assert pr.out("manifest", "add", "localhost/rc-list:1", f"containers-storage:{pr.image}") == list_id
    doc = json.loads(pr.out("manifest", "inspect", "localhost/rc-list:1"))
    assert [m["platform"]["architecture"] for m in doc["manifests"]] == ["amd64"]
    pr("manifest", "rm", "localhost/rc-list:1")


def test_remote_build(pr: Remote, tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text(f"FROM {pr.image}\nRUN echo built > /b.txt\n")
    res = pr("build", "-t", "localhost/rc-built:1", str(tmp_path))
    assert res.stdout.strip().splitlines()[-1] == pr.out("image", "inspect", "localhost/rc-built:1",
                                                         "--format", "{{.Id}}")
    assert pr.out("run", "--rm", "localhost/rc-built:1", "cat", "/b.txt") == "built"
    pr("rmi", "localhost/rc-built:1")


def test_docker_inspect_keeps_the_stop_signal_name(pr: Remote, api: ApiService) -> None:
    pr("create", "--name", "rc-sig", "--stop-signal", "SIGUSR1", pr.image, "true")
    status, body = api.request("GET", "/v1.41/containers/rc-sig/json")
    assert status == 200 and json.loads(body)["Config"]["StopSignal"] == "SIGUSR1"
    status, body = api.request("GET", "/v4.3.1/libpod/containers/rc-sig/json")
    assert status == 200 and json.loads(body)["Config"]["StopSignal"] == 10


def test_run_with_slirp4netns_options(pr: Remote) -> None:
    """500-networking.bats through podman-remote: `--network slirp4netns:cidr=...` reaches the service as
    network_options, which create ignored (the default 10.0.2.0/24 was used)."""
    out = pr.out("run", "--rm", "--name", "slc", "--hostname", "slc", "--network", "slirp4netns:cidr=172.19.225.0/24",
                 pr.image, "sh", "-c", "grep slc /etc/hosts; head -1 /etc/resolv.conf")
    assert out.splitlines() == ["172.19.225.100\tslc slc", "nameserver 172.19.225.3"]


def test_remote_build_options_reach_the_build(pr: Remote, tmp_path: Path) -> None:
    """070-build.bats through podman-remote: a Containerfile from outside the context (-f ./other, -f -)
    travels in the context under its absolute path; --dns-search, --dns, --add-host and --env arrive as
    JSON lists and reach RUN; --layers=false (no "layers" sent) uses no cache."""
    ctx, other = tmp_path / "ctx", tmp_path / "other"
    ctx.mkdir()
    other.mkdir()
    text = (f"FROM {pr.image}\nRUN grep -E 'search|nameserver' /etc/resolv.conf; grep h1 /etc/hosts; "
            "echo E1=$E1\n")
    (other / "Containerfile").write_text(text)
    out = pr.out("build", "--no-cache", "-t", "rb-opts", "--dns-search", "foo.example", "--dns", "9.9.9.9",
                 "--add-host", "h1:1.2.3.4", "--env", "E1=v1", "-f", str(other / "Containerfile"), str(ctx))
    for line in ("search foo.example", "nameserver 9.9.9.9", "1.2.3.4\th1", "E1=v1"):
        assert line in out.splitlines(), out
    piped = subprocess.run(["podman", "--remote", "--url", pr.api.url, "build", "-q", "-t", "rb-stdin", "-f", "-",
                            str(ctx)], input=f"FROM {pr.image}\nRUN true\n", capture_output=True, text=True,
                           timeout=120, env={k: v for k, v in pr.api.runner.env.items()
                                             if k not in ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG")})
    assert piped.returncode == 0, piped.stderr
    (ctx / "Containerfile").write_text(f"FROM {pr.image}\nRUN echo layer-{tmp_path.name}\n")
    pr("build", "-t", "rb-layers", str(ctx))
    assert "Using cache" in pr.out("build", "-t", "rb-layers", str(ctx))
    assert "Using cache" not in pr.out("build", "-t", "rb-layers", "--layers=false", str(ctx))
    pr("rmi", "-f", "rb-opts", "rb-stdin", "rb-layers")


def test_remote_build_ignorefile_as_buildah_matches(pr: Remote, tmp_path: Path) -> None:
    """070-build.bats "COPY with ignore" through podman-remote: the client sends the ignore file's patterns
    as excludes and the service applies them as a local build does (subdir2/sub1 stays out: a directory
    excluded is not re-entered by !*/sub1*)."""
    ctx = tmp_path / "ctx"
    for name in ("test1", "test2", "subdir1/sub1", "subdir1/sub2", "subdir1/sub3", "subdir2/sub1", "keep"):
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(name)
    (ctx / "Containerfile").write_text(f"FROM {pr.image}\nCOPY ./ /nd/\n")
    ignore = tmp_path / "ignoreme"
    ignore.write_text("# comment\ntest*\n!test2*\nsubdir1\nsubdir2\n!*/sub1*\n!subdir1/sub3*\n")
    pr("build", "-q", "-t", "rb-ignore", "--ignorefile", str(ignore), str(ctx))
    found = sorted(pr.out("run", "--rm", "rb-ignore", "find", "/nd", "-type", "f").splitlines())
    assert found == ["/nd/Containerfile", "/nd/keep", "/nd/subdir1/sub1", "/nd/subdir1/sub3", "/nd/test2"]
    pr("rmi", "-f", "rb-ignore")


def test_remote_kube_play_annotation(pr: Remote, tmp_path: Path) -> None:
    """700-play.bats "kube --annotation" through podman-remote: the annotations arrive as one JSON object."""
    yaml = tmp_path / "pod.yaml"
    yaml.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: annpod\nspec:\n  containers:\n  - name: c1\n"
                    f"    image: {pr.image}\n    command: [sleep, '100']\n")
    pr("kube", "play", "--annotation", "name=hello123", str(yaml))
    try:
        assert "name:hello123" in pr.out("inspect", "--format", "{{ .Config.Annotations }}", "annpod-c1")
    finally:
        pr("kube", "down", str(yaml))


def test_remote_import(pr: Remote, tmp_path: Path) -> None:
    """125-import.bats through podman-remote: POST /libpod/images/import (it answered "method not allowed"),
    with --change, --message and a reference; the answer is Podman's ImageImportReport."""
    cid = pr.out("create", pr.image, "true")
    archive = tmp_path / "exported.tar"
    pr("export", "-o", str(archive), cid)
    pr("rm", cid)
    image_id = pr.out("import", "-q", "--change", 'CMD ["echo", "imported"]', "-m", "a message", str(archive),
                      "rc-imported:1")
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert pr.out("run", "--rm", "rc-imported:1") == "imported"
    assert pr.out("image", "inspect", "--format", "{{.Comment}}", "rc-imported:1") == "a message"
    pr("rmi", "rc-imported:1")


def test_remote_namespace_refusals_exit_125(pr: Remote) -> None:
    """170-run-userns.bats and 190-run-ipcns.bats through podman-remote: specgen's "no-map" is nomap (refused
    as root), and joining a private IPC namespace is refused at create (exit 125, not a failed start's 126)."""
    nomap = pr("run", "--rm", "--userns=nomap", pr.image, "true", check=False)
    assert (nomap.returncode, nomap.stderr) == (125, "Error: nomap is only supported in rootless mode\n")
    donor = pr.out("run", "-d", "--ipc=private", pr.image, "sleep", "100")
    joined = pr("run", "--rm", f"--ipc=container:{donor}", pr.image, "true", check=False)
    assert joined.returncode == 125 and "non-shareable IPC" in joined.stderr
    pr("rm", "-f", "-t", "0", donor)


def test_remote_build_several_containerfiles_seccomp_and_ulimits(pr: Remote, tmp_path: Path) -> None:
    """070-build.bats "build -f test" and "check_seccomp_ulimits" through podman-remote: every -f is read,
    one after the other; --security-opt seccomp=unconfined and --ulimit reach RUN."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Containerfile1").write_text("FROM scratch\ncopy . /tmp\n")
    second = tmp_path / "Containerfile2"
    second.write_text(f"FROM {pr.image}\n")
    assert pr.image in pr.out("build", "-t", "rb-two", "-f", str(ctx / "Containerfile1"), "-f", str(second), str(ctx))
    (ctx / "Dockerfile").write_text(f"FROM {pr.image}\nRUN grep Seccomp: /proc/self/status\n"
                                    "RUN grep 'Max open files' /proc/self/limits\n")
    out = pr.out("build", "--no-cache", "-t", "rb-sec", "--ulimit", "nofile=101:102", "--security-opt",
                 "seccomp=unconfined", "-f", str(ctx / "Dockerfile"), str(ctx))
    assert "Seccomp:\t0" in out and " 101 " in out and " 102 " in out, out
    pr("rmi", "-f", "rb-two", "rb-sec")
