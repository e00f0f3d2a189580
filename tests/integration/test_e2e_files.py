"""Conformance with Podman 4.3.1's end-to-end tests (test/e2e) on volumes, mounts and container
files: run_volume, volume_*, exec, logs, cp, events and friends, against real conmon and runc.
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
    with store_with_image(tmp_path_factory.mktemp("e2e-files"), seeded_registry.host) as runner:
        yield runner


def _mountinfo(ctr: SealpodRunner, dest: str, *args: str) -> list[str]:
    out = ctr.run("run", "--rm", *args, IMAGE, "awk", f'$5 == "{dest}" {{ print }}', "/proc/self/mountinfo")
    return out.stdout.split()


# --- run_volume_test.go -------------------------------------------------------------------

@pytest.mark.parametrize(("mount", "message"), [
    ("target=/x", "incorrect mount format"),
    ("type=tmpfs,target=/x,tmpcopyup,notmpcopyup", "cannot pass 'tmpcopyup' and 'notmpcopyup' options more than once"),
    ("type=bind,src=/tmp,target=/x,tmpcopyup", "tmpcopyup: invalid mount option"),
    ("type=bind,src=/tmp,target=/x,notmpcopyup", "notmpcopyup: invalid mount option"),
    ("type=bind,src=/tmp,target=/x,ro=true,rw=false", "cannot pass 'readonly', 'ro', or 'rw' options more than once"),
    ("type=bind,src=/tmp,target=/x,U=invalid", "'U' or 'chown' must be set to true or false"),
    ("type=tmpfs,src=/tmp,target=/x", "source is not supported with tmpfs mounts"),
    ("type=tmpfs,target=/x,size=2m", "size: invalid mount option"),
    ("type=volume,target=/x,volume-label=a", "the --volume-label option is not presently implemented"),
    ("type=bind,src=/tmp", "must set volume destination"),
    ("type=image,src=sealtest/tiny,target=/x,ro", "ro: invalid mount option"),
])
def test_mount_flag_refuses_bad_options(ctr: SealpodRunner, mount: str, message: str) -> None:
    """e2e run_volume_test.go: podman run with --mount flag / mount flag and boolean options"""
    out = ctr.run("run", "--rm", "--mount", mount, IMAGE, "true", check=False)
    assert out.returncode == 125 and message in out.stderr, out.stderr


def test_mount_flag_csv_quoting(ctr: SealpodRunner) -> None:
    """e2e run_volume_test.go: podman run with --mount flag (test csv escaping)"""
    out = ctr.run("run", "--rm", '--mount=type=tmpfs,tmpfs-size=512M,"destination=/test,"', IMAGE, "ls", "-d", "/test,")
    assert out.stdout.strip() == "/test,"


@pytest.mark.parametrize(("options", "message"), [
    ("ro,rw", "can only specify 1 'rw' or 'ro' option"),
    ("z,Z", "can only specify 1 'z', 'Z', or 'O' option"),
    ("shared,private", "can only specify 1 '[r]shared', '[r]private', '[r]slave' or '[r]unbindable' option"),
    ("foo", 'invalid option type "foo"'),
    ("O,rw", "can't use 'O' with other options"),
    ("O,upperdir=/tmp", "must set both `upperdir` and `workdir`"),
])
def test_volume_flag_refuses_conflicting_options(ctr: SealpodRunner, tmp_path: Path, options: str,
                                                 message: str) -> None:
    """e2e run_volume_test.go: podman run with volume flag (Podman's checks of -v options)"""
    out = ctr.run("run", "--rm", "-v", f"{tmp_path}:/data:{options}", IMAGE, "true", check=False)
    assert out.returncode == 125 and message in out.stderr, out.stderr


def test_tmpfs_flag_refuses_duplicate_options(ctr: SealpodRunner) -> None:
    """e2e run_volume_test.go: podman run with volumes and suid/dev/exec options (tmpfs checks)"""
    out = ctr.run("run", "--rm", "--tmpfs", "/x:ro,rw", IMAGE, "true", check=False)
    assert out.returncode == 125 and "only one of 'rw' and 'ro' can be used" in out.stderr


def test_overlay_volume_on_bind_source(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_volume_test.go: podman run with overlay volume flag"""
    (tmp_path / "test1").write_text("")
    flag = f"{tmp_path}:/run/test:O"
    assert _mountinfo(ctr, "/run/test", "-v", flag)[7] == "overlay"
    ctr.run("run", "--rm", "-v", flag, IMAGE, "touch", "/run/test/container")
    assert not (tmp_path / "container").exists()
    ctr.run("create", "--name", "ovl", "-v", flag, IMAGE, "sleep", "100")
    ctr.run("start", "ovl")
    ctr.run("exec", "ovl", "touch", "/run/test/container")
    ctr.run("exec", "ovl", "ls", "/run/test/test1", "/run/test/container")
    ctr.run("stop", "-t", "0", "ovl")
    ctr.run("start", "ovl")
    assert ctr.run("exec", "ovl", "ls", "/run/test/container", check=False).returncode != 0
    ctr.run("rm", "-f", "-t", "0", "ovl")


def test_overlay_on_named_volume_with_upperdir(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_volume_test.go: podman support overlay on named volume with custom upperdir and workdir"""
    (tmp_path / "upper").mkdir()
    (tmp_path / "work").mkdir()
    ctr.run("volume", "create", "ovlvol")
    ctr.run("run", "--rm", "-v", "ovlvol:/data", IMAGE, "sh", "-c", "echo hi > /data/test")
    ctr.run("run", "--rm", "-v", "ovlvol:/data:O", IMAGE, "sh", "-c", "echo hi > /data/scratch")
    opts = f"upperdir={tmp_path / 'upper'},workdir={tmp_path / 'work'}"
    ctr.run("run", "--rm", "-v", f"ovlvol:/data:O,{opts}", IMAGE, "sh", "-c", "echo hi > /data/overlay")
    assert ctr.run("run", "--rm", "-v", f"ovlvol:/data:O,{opts}", IMAGE, "ls", "/data").stdout.split() == \
        ["overlay", "test"]
    assert ctr.run("run", "--rm", "-v", "ovlvol:/data", IMAGE, "ls", "/data").stdout.split() == ["test"]
    ctr.run("volume", "rm", "ovlvol")


def test_mount_and_volume_U_flag_chowns_bind_source(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e run_volume_test.go: podman run with --mount and U flag / --volume and U flag"""
    src = tmp_path / "foo"
    (src / "sub").mkdir(parents=True)
    stat = ("stat", "-c", "%u:%g")
    out = ctr.run("run", "--rm", "--user", "888:888", "--mount", f"type=bind,src={src},dst=/d,U=false", IMAGE,
                  *stat, "/d")
    assert out.stdout.strip() == "0:0"
    out = ctr.run("run", "--rm", "--user", "888:888", "--mount", f"type=bind,src={src},dst=/d,U=true", IMAGE,
                  *stat, "/d", "/d/sub")
    assert out.stdout.split() == ["888:888", "888:888"]
    os.chown(src, 0, 0)
    out = ctr.run("run", "--rm", "--user", "888:888", "-v", f"{src}:/d:U", IMAGE, *stat, "/d")
    assert out.stdout.strip() == "888:888"
    out = ctr.run("run", "--rm", "--user", "888:888", "--mount", "type=tmpfs,dst=/d,chown", IMAGE, *stat, "/d")
    assert out.stdout.strip() == "888:888"


def test_U_flag_leaves_a_source_whose_top_is_the_users_already(ctr: SealpodRunner, tmp_path: Path) -> None:
    """160-volumes.bats "podman volume user test" (and Podman 4.3.1 as root): each start chows a `:U` source
    unless its top belongs to the user already, so a file chowned inside since keeps its owner."""
    src = tmp_path / "vol"
    src.mkdir()
    (src / "test1").touch()
    ctr.run("run", "--name", "uvol", "--user", "1000:2000", "-v", f"{src}:/data:U", IMAGE, "true")
    try:
        os.chown(src / "test1", 100, 200)
        ctr.run("start", "-a", "uvol")
        assert ((src / "test1").stat().st_uid, (src / "test1").stat().st_gid) == (100, 200)
        for path in (src, src / "test1"):
            os.chown(path, 100, 200)
        ctr.run("start", "-a", "uvol")
        assert ((src / "test1").stat().st_uid, (src / "test1").stat().st_gid) == (1000, 2000)
    finally:
        ctr.run("rm", "uvol")


def test_mount_named_volume_with_driver_opts(ctr: SealpodRunner) -> None:
    """e2e run_volume_test.go: podman run with --mount and named volume with driver-opts"""
    vol = "type=volume,source=optvol,dst=/test,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=nodev"
    assert ctr.run("run", "--rm", "--mount", vol, IMAGE, "echo", "hello").stdout.strip() == "hello"
    assert '"o": "nodev"' in ctr.run("volume", "inspect", "optvol").stdout
    ctr.run("volume", "rm", "optvol")


# --- volume_*_test.go ---------------------------------------------------------------------

def test_volume_ls_label_filter_key_pattern(ctr: SealpodRunner) -> None:
    """e2e volume_ls_test.go: podman ls volume filter with a key pattern"""
    ctr.run("volume", "create", "--label", "helloworld=world", "patvol")
    for pattern, found in (("hello*", True), ("*world", True), ("h.*", False), ("hello", False)):
        out = ctr.run("volume", "ls", "-q", "--filter", f"label={pattern}").stdout.split()
        assert ("patvol" in out) is found, pattern
    ctr.run("volume", "rm", "patvol")


def test_volume_rm_and_inspect_by_partial_name(ctr: SealpodRunner) -> None:
    """e2e volume_rm_test.go: podman volume rm by partial name / by nonunique partial name"""
    ctr.run("volume", "create", "partvol1")
    assert ctr.run("volume", "inspect", "--format", "{{.Name}}", "partv").stdout.strip() == "partvol1"
    assert ctr.run("volume", "exists", "partv", check=False).returncode == 1
    ctr.run("volume", "create", "partvol2")
    out = ctr.run("volume", "rm", "partv", check=False)
    assert out.returncode == 125 and 'more than one result for volume name "partv"' in out.stderr
    ctr.run("volume", "rm", "partvol2")
    ctr.run("volume", "rm", "partv")
    assert "partvol1" not in ctr.run("volume", "ls", "-q").stdout


def test_volume_import_missing_tarball_first(ctr: SealpodRunner) -> None:
    """e2e volume_create_test.go: podman import/export volume should fail"""
    out = ctr.run("volume", "import", "notfound", "notfound.tar", check=False)
    assert out.returncode == 125 and "open notfound.tar: no such file or directory" in out.stderr
    out = ctr.run("volume", "import", "notfound", "-", check=False, input="")
    assert "no such volume notfound" in out.stderr


# --- exec_test.go -------------------------------------------------------------------------

def test_exec_preserve_fds(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e exec_test.go: podman exec preserve fds sanity check"""
    import shlex
    import subprocess

    ctr.run("run", "-d", "--name", "pfds", IMAGE, "sleep", "100")
    payload = tmp_path / "payload"
    payload.write_text("from fd 3\n")
    argv = ctr.argv("exec", "--preserve-fds", "1", "pfds", "cat", "/proc/self/fd/3")
    out = subprocess.run(["sh", "-c", f"exec {shlex.join(argv)} 3<{shlex.quote(str(payload))}"], env=ctr.env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "from fd 3\n", out.stderr
    ctr.run("rm", "-f", "-t", "0", "pfds")


def test_exec_detach_lists_exec_id_in_inspect(ctr: SealpodRunner) -> None:
    """e2e exec_test.go: podman exec --detach"""
    ctr.run("run", "-d", "--name", "execd", IMAGE, "sleep", "100")
    exec_id = ctr.run("exec", "-d", "execd", "sleep", "100").stdout.strip()
    assert ctr.run("inspect", "--format", "{{.ExecIDs}}", "execd").stdout.strip() == f"[{exec_id}]"
    ctr.run("rm", "-f", "-t", "0", "execd")


# --- logs_test.go / cp_test.go ------------------------------------------------------------

def test_logs_of_tty_container_keep_carriage_returns(ctr: SealpodRunner) -> None:
    """e2e logs_test.go: Make sure logs match expected length"""
    ctr.run("run", "-t", "--name", "ttylog", IMAGE, "sh", "-c", "echo 1; echo 2")
    assert ctr.run("logs", "ttylog").stdout == "1\r\n2\r\n"
    ctr.run("rm", "ttylog")


def test_cp_root_of_running_container_leaves_out_kernel_filesystems(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e cp_test.go: podman cp the root directory from the ctr to an existing directory on the host"""
    ctr.run("run", "-d", "--name", "cproot", IMAGE, "sleep", "100")
    ctr.run("exec", "cproot", "touch", "/dummy.txt")
    ctr.run("cp", "cproot:/", str(tmp_path))
    names = set(os.listdir(tmp_path))
    assert {"dummy.txt", "etc", "bin"} <= names and not names & {"proc", "sys", "dev"}
    ctr.run("rm", "-f", "-t", "0", "cproot")


# --- mount_test.go / events_test.go / secret_test.go --------------------------------------

def test_mount_format_other_than_json_is_refused(ctr: SealpodRunner) -> None:
    """e2e mount_test.go: podman mount with json format"""
    out = ctr.run("mount", "--format={{.foobar}}", check=False)
    assert out.returncode == 125 and 'unknown --format argument: "{{.foobar}}"' in out.stderr


def test_events_pod_filter_and_pod_id(ctr: SealpodRunner) -> None:
    """e2e events_test.go: podman events pod creation / podman events with a type"""
    pod_id = ctr.run("pod", "create", "--infra=false", "--name", "evpod").stdout.strip()
    lines = ctr.run("events", "--stream=false", "--filter", f"pod={pod_id}").stdout.splitlines()
    assert len(lines) == 1 and f" pod create {pod_id} (image=, name=evpod)" in lines[0]
    ctr.run("create", "--pod", pod_id, "--name", "evctr", IMAGE, "true")
    out = ctr.run("events", "--stream=false", "--filter", "container=evctr", "--since", "30s").stdout
    assert f"name=evctr, pod_id={pod_id}" in out
    doc = ctr.run("events", "--stream=false", "--filter", "container=evctr", "--format", "{{json.}}").stdout
    assert f'"PodID":"{pod_id}"' in doc
    ctr.run("pod", "rm", "-f", "evpod")


def test_secret_ls_filters_split_on_commas_and_format_beats_quiet(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e secret_test.go: podman secret ls with filters / podman secret ls --quiet"""
    data = tmp_path / "secret"
    data.write_text("mysecret")
    for name in ("lsec1", "lsec2", "Lsec3"):
        ctr.run("secret", "create", name, str(data))
    out = ctr.run("secret", "ls", "--filter", "name=lsec1,name=lsec2", "--format", "{{.Name}}").stdout.split()
    assert sorted(out) == ["lsec1", "lsec2"]
    assert sorted(ctr.run("secret", "ls", "-q", "--format", "{{.Name}}").stdout.split()) == ["Lsec3", "lsec1", "lsec2"]
    ctr.run("secret", "rm", "lsec1", "lsec2", "Lsec3")


# --- diff_test.go / stats_test.go / healthcheck_run_test.go / attach_test.go ---------------

def test_image_diff_against_parent_and_other_image(ctr: SealpodRunner, tmp_path: Path) -> None:
    """e2e diff_test.go: podman image diff / podman diff container and image with same name"""
    (tmp_path / "Containerfile").write_text(f"FROM {IMAGE}\nRUN touch /f1\nRUN touch /f2\n")
    ctr.run("build", "-q", "--layers", "-t", "diffimg", str(tmp_path))
    (tmp_path / "Containerfile").write_text(f"FROM {IMAGE}\nRUN echo test\n")
    ctr.run("build", "-q", "--layers", "-t", "diffbase", str(tmp_path))
    assert ctr.run("image", "diff", "diffimg").stdout == "A /f2\n"
    out = ctr.run("image", "diff", "diffimg", "diffbase").stdout.splitlines()
    assert "A /f1" in out and "A /f2" in out
    assert ctr.run("image", "diff", IMAGE, IMAGE).stdout == ""
    assert ctr.run("image", "diff", "1234", IMAGE, check=False).returncode == 125
    ctr.run("run", "--name", "diffimg", IMAGE, "touch", "/confile")
    assert ctr.run("diff", "diffimg").stdout == "A /f2\n"  # the image wins
    assert "A /confile" in ctr.run("container", "diff", "diffimg").stdout.splitlines()
    ctr.run("rm", "diffimg")
    ctr.run("rmi", "diffimg", "diffbase")


def test_stats_raw_memory_limit_field(ctr: SealpodRunner) -> None:
    """e2e stats_test.go: podman stats with custom memory limits"""
    ctr.run("run", "-d", "--name", "memlim", "--memory", "50m", IMAGE, "sleep", "100")
    out = ctr.run("stats", "--no-stream", "--format", "{{.MemLimit}}", "memlim").stdout.strip()
    assert out == str(50 * 1024 * 1024)
    ctr.run("rm", "-f", "-t", "0", "memlim")


def test_inspect_healthcheck_prints_as_go_struct(ctr: SealpodRunner) -> None:
    """e2e healthcheck_run_test.go: Verify default time is used and no utf-8 escapes"""
    ctr.run("create", "--name", "hcfmt", "--health-cmd", "ls -l / 2>&1", IMAGE, "true")
    out = ctr.run("inspect", "--format", "{{.Config.Healthcheck}}", "hcfmt").stdout.strip()
    assert out.startswith("{[CMD-SHELL ls -l / 2>&1] 0s 30s 30s ")
    ctr.run("rm", "hcfmt")


def test_closed_stdout_gives_no_python_noise(ctr: SealpodRunner) -> None:
    """e2e attach_test.go: podman attach to a running container (output piped, reader gone)"""
    import shlex
    import subprocess

    ctr.run("run", "-d", "--name", "pipey", IMAGE, "sh", "-c", "while :; do echo test; sleep 0.2; done")
    argv = ctr.argv("logs", "-f", "pipey")
    out = subprocess.run(["sh", "-c", f"timeout -s INT 3 {shlex.join(argv)} | head -1"], env=ctr.env,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert out.stdout == "test\n" and "BrokenPipeError" not in out.stderr, out.stderr
    ctr.run("rm", "-f", "-t", "0", "pipey")


def test_top_with_ps_options_hides_its_own_ps(ctr: SealpodRunner) -> None:
    """e2e top_test.go: podman top with ps(1) options (the ps that answers is not listed)."""
    ctr.run("run", "-d", "--name", "topps", IMAGE, "top", "-d", "2")
    try:
        rows = ctr.run("top", "topps", "ax -o args").stdout.splitlines()
        assert [r.strip() for r in rows] == ["COMMAND", "top -d 2"]
    finally:
        ctr.run("rm", "-f", "-t", "0", "topps")
