"""Conformance with Podman's own system tests for files, mounts and events (test/system/060-mount,
065-cp, 160-volumes, 090-events, 035-logs, 320-system-df), as Podman 4.3.1 behaves, against real
conmon, runc and overlay mounts.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-files"), seeded_registry.host) as runner:
        yield runner


def _image_id(ctr: SealpodRunner) -> str:
    return ctr.run("image", "inspect", "--format", "{{.ID}}", IMAGE).stdout.strip()


# --- 060-mount.bats ---------------------------------------------------------------------

def test_run_mount_image_read_only_and_read_write(ctr: SealpodRunner) -> None:
    """060-mount: podman run --mount image."""
    mount = f"type=image,src={IMAGE},dst=/image-mount"
    ctr.run("run", "--rm", "--mount", mount, IMAGE, "diff", "/bin/busybox", "/image-mount/bin/busybox")
    denied = ctr.run("run", "--rm", "--mount", mount, IMAGE, "touch", "/image-mount/x", check=False)
    assert denied.returncode == 1 and "Read-only file system" in denied.stderr
    for rw in ("rw=true", "readwrite=true"):
        ctr.run("run", "--rm", "--mount", f"{mount},{rw}", IMAGE, "touch", "/image-mount/x")
    # the written file was thrown away with the container: the image is untouched
    ctr.run("run", "--rm", IMAGE, "test", "!", "-e", "/x")
    assert ctr.run("image", "umount", IMAGE).stdout == "", "the container's image mount was given up"


def test_run_mount_image_counts_as_an_image_mount(ctr: SealpodRunner) -> None:
    """060-mount: podman run --mount image (image umount while a container holds it)."""
    iid = _image_id(ctr)
    cid = ctr.run("run", "-d", "--mount", f"type=image,src={iid},dst=/image-mount,readwrite=true",
                  IMAGE, "sleep", "infinity").stdout.strip()
    assert ctr.run("image", "umount", IMAGE).stdout.strip() == iid
    assert ctr.run("image", "umount", IMAGE).stdout == ""
    ctr.run("exec", cid, "diff", "/bin/busybox", "/image-mount/bin/busybox")
    ctr.run("rm", "-t", "0", "-f", cid)


def test_run_mount_image_inspection(ctr: SealpodRunner) -> None:
    """060-mount: podman run --mount image inspection."""
    cid = ctr.run("run", "-d", "--mount", f"type=image,src={IMAGE},dst=/image-mount,rw=true",
                  IMAGE, "sleep", "infinity").stdout.strip()
    out = ctr.run("inspect", "--format", "{{(index .Mounts 0).Type}} {{(index .Mounts 0).Source}} "
                  "{{(index .Mounts 0).Destination}} {{(index .Mounts 0).RW}}", cid).stdout.split()
    assert out == ["image", IMAGE, "/image-mount", "true"]
    ctr.run("rm", "-t", "0", "-f", cid)


def test_run_mount_image_of_a_missing_image_fails_at_create(ctr: SealpodRunner) -> None:
    """060-mount: podman run --mount image (the source must be an image)."""
    out = ctr.run("create", "--mount", "type=image,src=no-such-image,dst=/m", IMAGE, check=False)
    assert out.returncode == 125 and "no-such-image" in out.stderr and "Traceback" not in out.stderr


def test_mount_keys_translated_as_podman(ctr: SealpodRunner, tmp_path: Path) -> None:
    """060-mount / 160-volumes: --mount tmpfs-size/tmpfs-mode, devpts, bind-propagation, --tmpfs defaults."""
    line = ctr.run("run", "--rm", "--mount", "type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=1770", IMAGE,
                   "sh", "-c", "grep ' /x ' /proc/mounts; stat -c %a /x").stdout.split()
    assert "size=1024k" in line[3] and "mode=1770" in line[3] and line[-1] == "1770"
    opts = ctr.run("run", "--rm", "--tmpfs", "/x:size=2m,mode=700", IMAGE, "grep", " /x ", "/proc/mounts").stdout
    assert "nosuid" in opts and "nodev" in opts and "size=2048k" in opts  # defaults kept beside the user's
    assert ctr.run("run", "--rm", "--mount", "type=devpts,destination=/dev/pts", IMAGE,
                   "grep", "-c", "devpts /dev/pts", "/proc/mounts").stdout.strip() == "1"
    ctr.run("create", "--name", "bprop", "--mount",
            f"type=bind,src={tmp_path},dst=/x,bind-propagation=rslave,bind-nonrecursive=true", IMAGE, "true")
    ctr.run("start", "--attach", "bprop")
    cid = ctr.run("inspect", "--format", "{{.Id}}", "bprop").stdout.strip()
    spec = json.loads((ctr.root / "overlay-containers" / cid / "userdata" / "config.json").read_text())
    (mount,) = [m for m in spec["mounts"] if m["destination"] == "/x"]
    assert mount["options"] == ["bind", "rslave", "rw"]
    ctr.run("rm", "bprop")


# --- 065-cp.bats ------------------------------------------------------------------------

def test_cp_into_running_container_tmpfs(ctr: SealpodRunner, tmp_path: Path) -> None:
    """065-cp: podman cp file from host to container tmpfs mount."""
    src = tmp_path / "file"
    src.write_text("tmpfs-content\n")
    ctr.run("run", "-d", "--mount", "type=tmpfs,dst=/tmp", "--name", "cptmpfs", IMAGE, "sleep", "infinity")
    ctr.run("cp", "--pause=false", str(src), "cptmpfs:/tmp")
    assert ctr.run("exec", "cptmpfs", "cat", "/tmp/file").stdout == "tmpfs-content\n"
    ctr.run("exec", "cptmpfs", "sh", "-c", "echo inside > /tmp/made")
    ctr.run("cp", "cptmpfs:/tmp/made", str(tmp_path / "out"))
    assert (tmp_path / "out").read_text() == "inside\n"
    missing = ctr.run("cp", "cptmpfs:/tmp/nonesuch", str(tmp_path), check=False)
    assert missing.returncode == 125
    assert missing.stderr.strip() == ('Error: "/tmp/nonesuch" could not be found on container cptmpfs: '
                                      "no such file or directory")
    ctr.run("rm", "-t", "0", "-f", "cptmpfs")


def test_cp_tar_streams_reach_running_container_tmpfs(ctr: SealpodRunner, tmp_path: Path) -> None:
    """065-cp: podman cp from stdin to container / from container to stdout (a running container's tmpfs)."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"streamed\n"
        info = tarfile.TarInfo("in.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    ctr.run("run", "-d", "--mount", "type=tmpfs,dst=/tmp", "--name", "cpstream", IMAGE, "sleep", "infinity")
    raw = subprocess.run(ctr.argv("cp", "-", "cpstream:/tmp"), input=buf.getvalue(), env=ctr.env,
                         capture_output=True, check=True)
    assert raw.stderr == b""
    assert ctr.run("exec", "cpstream", "cat", "/tmp/in.txt").stdout == "streamed\n"
    out = subprocess.run(ctr.argv("cp", "cpstream:/tmp/in.txt", "-"), env=ctr.env, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        member = tar.extractfile("in.txt")
        assert member is not None and member.read() == b"streamed\n"
    ctr.run("rm", "-t", "0", "-f", "cpstream")


def test_cp_to_a_host_fifo_is_refused(ctr: SealpodRunner, tmp_path: Path) -> None:
    """065-cp: podman cp from container to stdout (only "-" is stdout; /dev/stdout is refused)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ctr.run("run", "-d", "--name", "cpfifo", IMAGE, "sh", "-c", "echo x > /tmp/file.txt; sleep infinity")
    out = ctr.run("cp", "cpfifo:/tmp/file.txt", str(fifo), check=False)
    assert out.returncode == 125
    assert out.stderr.strip() == f'Error: invalid destination: "{fifo}" must be a directory or a regular file'
    assert fifo.is_fifo()
    ctr.run("rm", "-t", "0", "-f", "cpfifo")


def test_cp_onto_dangling_symlink_creates_its_target(ctr: SealpodRunner, tmp_path: Path) -> None:
    """065-cp: podman cp into container: weird symlink expansion."""
    src = tmp_path / "f"
    src.write_text("content1\n")
    ctr.run("run", "-d", "--name", "cpweird", IMAGE, "sh", "-c",
            "mkdir /tmp/d1; ln -s /tmp/nonesuch1 /tmp/d1/x; sleep infinity")
    ctr.run("cp", "--pause=false", str(src), "cpweird:/tmp/d1/x")
    assert ctr.run("exec", "cpweird", "cat", "/tmp/nonesuch1").stdout == "content1\n"
    ctr.run("rm", "-t", "0", "-f", "cpweird")


# --- 160-volumes.bats -------------------------------------------------------------------

def test_duplicate_mount_destinations(ctr: SealpodRunner, tmp_path: Path) -> None:
    """160-volumes: podman volume duplicates."""
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    ctr.run("run", "--rm", "-v", f"{v1}:/vol1", "-v", f"{v1}:/vol1", IMAGE, "true")
    ctr.run("run", "--rm", "--tmpfs", "/vol1", "--tmpfs", "/vol1", IMAGE, "true")
    for flags, dest in ((["-v", f"{v1}:/vol1", "-v", f"{v2}:/vol1"], "/vol1"),
                        (["-v", "dupvol1:/vol1", "-v", "dupvol2:/vol1"], "/vol1"),
                        (["--tmpfs", "/vol1", "--tmpfs", "/vol1:ro"], "/vol1"),
                        (["-v", "dupvol2:/vol2", "--tmpfs", "/vol2"], "/vol2")):
        out = ctr.run("run", "--rm", *flags, IMAGE, "true", check=False)
        assert out.returncode == 125
        assert out.stderr.strip() == f"Error: {dest}: duplicate mount destination"
    ctr.run("volume", "rm", "-f", "dupvol1", "dupvol2")


def test_volume_mount_and_unmount(ctr: SealpodRunner) -> None:
    """160-volumes: podman volume mount."""
    ctr.run("volume", "create", "mntvol")
    path = Path(ctr.run("volume", "mount", "mntvol").stdout.strip())
    (path / "f").write_text("from host\n")
    assert ctr.run("run", "--rm", "-v", "mntvol:/vol:z", IMAGE, "cat", "/vol/f").stdout == "from host\n"
    ctr.run("volume", "unmount", "mntvol")
    ctr.run("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "mnttmpfs")
    path = Path(ctr.run("volume", "mount", "mnttmpfs").stdout.strip())
    assert os.path.ismount(path)
    assert ctr.run("volume", "inspect", "--format", "{{.MountCount}}", "mnttmpfs").stdout.strip() == "1"
    ctr.run("volume", "umount", "mnttmpfs")
    assert not os.path.ismount(path)
    ctr.run("volume", "rm", "mntvol", "mnttmpfs")


def test_volume_rm_force_of_missing_volume_is_silent(ctr: SealpodRunner) -> None:
    """160-volumes: podman volume rm --force bogus."""
    out = ctr.run("volume", "rm", "bogus", check=False)
    assert out.returncode == 1 and out.stderr.strip() == 'Error: no volume with name "bogus" found: no such volume'
    out = ctr.run("volume", "rm", "--force", "bogus")
    assert out.stdout == "" and out.stderr == ""


# --- 090-events.bats --------------------------------------------------------------------

def test_events_format_id_is_never_truncated(ctr: SealpodRunner) -> None:
    """090-events: truncate events."""
    cid = ctr.run("run", "-d", "--name", "evtrunc", "--rm", IMAGE, "echo", "hi").stdout.strip()
    ctr.run("wait", "--ignore", cid, check=False)
    base = ("events", "--filter", "container=evtrunc", "--stream=false")
    assert f" {cid[:12]} " in ctr.run(*base, "--filter", "event=start", "--no-trunc=false").stdout
    out = ctr.run(*base, "--filter", "event=died", "--format", "{{.ID}}--{{.Image}}", "--no-trunc=false").stdout
    assert out.strip().split("--")[0] == cid


def test_pull_from_archive_event_has_no_id(ctr: SealpodRunner, tmp_path: Path) -> None:
    """090-events: image events (pull docker-archive: is recorded without an image ID)."""
    tarball = tmp_path / "ball.tar"
    ctr.run("save", IMAGE, "-o", str(tarball))
    ctr.run("pull", f"docker-archive:{tarball}")
    out = ctr.run("events", "--stream=false", "--filter", "type=image", "--filter", "event=pull",
                  "--format", "{{.Status}}-{{.ID}}-{{.Name}}").stdout.splitlines()
    assert f"pull--docker-archive:{tarball}" in out


def test_events_logfile_rotation_drops_the_middle_line(ctr: SealpodRunner, tmp_path: Path) -> None:
    """090-events: events log-file rotation (the second half kept, from the line after the middle)."""
    events = tmp_path / "events.txt"
    line = '{{"Name":"busybox","Status":"pull","Time":"2022-04-06T11:26:42.7236679{:02d}+02:00",' \
           '"Type":"image","Attributes":null}}\n'
    events.write_text("".join(line.format(i) for i in range(100)))
    original = ctr.containers_conf.read_text()
    try:
        ctr.containers_conf.write_text(f'[engine]\nevents_logger="file"\nevents_logfile_path="{events}"\n'
                                       "events_logfile_max_size=4750\n")
        ctr.run("volume", "create", "evrot")
        lines = events.read_text().splitlines()
        assert lines[0] == line.format(51).rstrip("\n")  # 100 lines of 113 bytes: from the 52nd on, as Podman
        assert len(lines) == 51 and '"log-rotation"' in lines[-2]
    finally:
        ctr.containers_conf.write_text(original)
        ctr.run("volume", "rm", "evrot")
