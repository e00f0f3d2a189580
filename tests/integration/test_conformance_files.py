"""Conformance with Podman's system tests for files, events, volumes and system commands.

Each test names the Podman BATS case (test/system/065-cp, 090-events, 160-volumes, 300-cli-parsing,
005-info) whose assertions it pins; the scenarios run against the real sealpod command line with
real conmon, runc and overlay mounts.  Where Podman 4.3.1 and the newer BATS text differ, 4.3.1 wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
BASE = "localhost/cpbase"  # the tiny image plus /srv, as Podman's test image has it


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-files"), seeded_registry.host) as runner:
        runner.run("run", "--name", "mkbase", IMAGE, "mkdir", "-p", "/srv", "/usr")
        runner.run("commit", "-q", "mkbase", BASE)
        runner.run("rm", "mkbase")
        yield runner


def _fail(sp: SealpodRunner, code: int, *args: str, input: str | None = None) -> str:
    res = sp.run(*args, check=False, input=input)
    assert res.returncode == code, res
    return res.stderr.strip()


def _rm(sp: SealpodRunner, *names: str) -> None:
    sp.run("rm", "-f", "-t", "0", *names)


# --- 065-cp.bats ------------------------------------------------------------------------------

_HOST_TO_CTR = [  # (file id, destination, where it lands) as in "podman cp file from host to container"
    (0, "/", "/hostfile0"), (0, "/anotherbase.txt", "/anotherbase.txt"), (0, "/tmp", "/tmp/hostfile0"),
    (1, "/tmp/", "/tmp/hostfile1"), (2, "/tmp/.", "/tmp/hostfile2"),
    (0, "/tmp/anotherbase.txt", "/tmp/anotherbase.txt"), (0, ".", "/srv/hostfile0"),
    (1, "./", "/srv/hostfile1"), (0, "anotherbase.txt", "/srv/anotherbase.txt"),
    (0, "subdir", "/srv/subdir/hostfile0"),
]


def test_cp_file_from_host_to_container_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"hostfile{i}").write_text(f"random-{i}\n")
    sp.run("run", "-d", "--name", "cpc", "--workdir=/srv", BASE, "sh", "-c", "mkdir /srv/subdir; sleep 1000")
    try:
        for i, dest, full in _HOST_TO_CTR:
            sp.run("cp", str(tmp_path / f"hostfile{i}"), f"cpc:{dest}")
            assert sp.run("exec", "cpc", "cat", full).stdout == f"random-{i}\n", dest
        assert _fail(sp, 125, "cp", str(tmp_path / "IdoNotExist"), "cpc:/tmp").startswith(
            f'Error: "{tmp_path}/IdoNotExist" could not be found on the host')
        assert _fail(sp, 125, "cp", str(tmp_path / "hostfile0"), "cpc:/IdoNotExist/") == \
            'Error: "/IdoNotExist/" could not be found on container cpc: no such file or directory'
    finally:
        _rm(sp, "cpc")
    # a created container: relative paths still start at its working directory
    sp.run("create", "--name", "cpc", "--workdir=/srv", BASE, "sleep", "1000")
    try:
        sp.run("cp", str(tmp_path / "hostfile1"), "cpc:anotherbase.txt")
        sp.run("start", "cpc")
        assert sp.run("exec", "cpc", "cat", "/srv/anotherbase.txt").stdout == "random-1\n"
    finally:
        _rm(sp, "cpc")


def test_cp_dir_and_file_from_container_to_host_and_container_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "-d", "--name", "cpsrc", "--workdir=/srv", BASE, "sh", "-c",
           "mkdir /srv/subdir; echo r0 > /srv/subdir/containerfile0; echo r1 > /srv/containerfile1;"
           "mkdir /tmp/subdir.; cp /srv/subdir/* /tmp/subdir./; sleep 1000")
    sp.run("run", "-d", "--name", "cpdst", IMAGE, "sleep", "1000")
    try:
        sp.run("cp", "cpsrc:containerfile1", str(tmp_path))  # relative: from the working directory
        assert (tmp_path / "containerfile1").read_text() == "r1\n"
        sp.run("cp", "cpsrc:/srv/.", str(tmp_path / "newdir"))
        assert (tmp_path / "newdir" / "subdir" / "containerfile0").read_text() == "r0\n"
        (tmp_path / "testfile").touch()
        assert _fail(sp, 125, "cp", "cpsrc:/etc/", str(tmp_path / "testfile")) == \
            "Error: destination must be a directory when copying a directory"
        # container to container (Podman 4.3 copies through; sealpod used to refuse)
        for src, dest, full in (("/srv", "", "/srv/subdir"), ("/srv/.", "/newdir", "/newdir/subdir"),
                                ("/tmp/subdir.", "", "/subdir.")):
            sp.run("cp", f"cpsrc:{src}", f"cpdst:/{dest}")
            assert sp.run("exec", "cpdst", "cat", f"{full}/containerfile0").stdout == "r0\n", src
        sp.run("cp", "cpsrc:/srv/containerfile1", "cpdst:/newfile")
        assert sp.run("exec", "cpdst", "cat", "/newfile").stdout == "r1\n"
    finally:
        _rm(sp, "cpsrc", "cpdst")


def test_cp_overwrite_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "-d", "--name", "ctr-file", IMAGE, "sh", "-c", "echo file > /tmp/foo; sleep 1000")
    sp.run("run", "-d", "--name", "ctr-dir", IMAGE, "sh", "-c",
           "mkdir /tmp/foo; echo dir > /tmp/foo/file.txt; sleep 1000")
    try:
        err = _fail(sp, 125, "cp", "ctr-file:/tmp/foo", "ctr-dir:/tmp")
        assert ' error creating "/tmp/foo": ' in err and err.endswith("file exists")
        sp.run("cp", "--overwrite", "ctr-file:/tmp/foo", "ctr-dir:/tmp")
        assert sp.run("exec", "ctr-dir", "cat", "/tmp/foo").stdout == "file\n"
        (tmp_path / "foo").mkdir()
        err = _fail(sp, 125, "cp", "ctr-file:/tmp/foo", str(tmp_path))
        assert ' error creating "/foo": ' in err and err.endswith("file exists")
        sp.run("cp", "--overwrite", "ctr-file:/tmp/foo", str(tmp_path))
        assert (tmp_path / "foo").read_text() == "file\n"
        src = tmp_path / "src" / "foo"
        src.mkdir(parents=True)
        (src / "file.txt").write_text("host\n")
        err = _fail(sp, 125, "cp", str(src), "ctr-file:/tmp")
        assert ' error creating "/tmp/foo": mkdir /tmp/foo: file exists' in err
        assert _fail(sp, 125, "cp", str(src), "ctr-file:/tmp/foo") == \
            "Error: destination must be a directory when copying a directory"
        sp.run("cp", "--overwrite", str(src), "ctr-file:/tmp")
        assert sp.run("exec", "ctr-file", "cat", "/tmp/foo/file.txt").stdout == "host\n"
    finally:
        _rm(sp, "ctr-file", "ctr-dir")


def test_cp_from_stdin_errors_like_podman(sp: SealpodRunner) -> None:
    sp.run("run", "-d", "--name", "cpin", IMAGE, "sleep", "1000")
    try:
        for text in (None, "just text\n"):  # empty input, or a plain file: not a tar
            assert _fail(sp, 125, "cp", "-", "cpin:/tmp", input=text) == \
                "Error: source must be a (compressed) tar archive when copying from stdin"
        sp.run("exec", "cpin", "touch", "/tmp/file.txt")
        for dest in ("/tmp/file.txt", "/tmp/IdoNotExist"):
            assert _fail(sp, 125, "cp", "-", f"cpin:{dest}") == \
                "Error: destination must be a directory when copying from stdin"
    finally:
        _rm(sp, "cpin")


def test_cp_file_into_container_volume_and_mount_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    (tmp_path / "hostfile").write_text("This file should be in volume2\n")
    mountdir = tmp_path / "mnt"
    mountdir.mkdir()
    sp.run("volume", "create", "cpvol1")
    sp.run("volume", "create", "cpvol2")
    m1 = Path(sp.run("volume", "inspect", "cpvol1", "--format", "{{.Mountpoint}}").stdout.strip())
    m2 = Path(sp.run("volume", "inspect", "cpvol2", "--format", "{{.Mountpoint}}").stdout.strip())
    sp.run("create", "--name", "cpvol", "-v", "cpvol1:/tmp/volume", "-v", "cpvol2:/tmp/volume/sub-volume",
           "-v", f"{mountdir}:/tmp/volume/mount", IMAGE, "true")
    try:
        sp.run("cp", str(tmp_path / "hostfile"), "cpvol:/tmp/volume/sub-volume")
        assert (m2 / "hostfile").read_text() == "This file should be in volume2\n"
        assert list(m1.iterdir()) == []
        sp.run("cp", str(tmp_path / "hostfile"), "cpvol:/tmp/volume/mount")
        assert (mountdir / "hostfile").exists()
        sp.run("cp", "cpvol:/tmp/volume/sub-volume/hostfile", str(tmp_path / "back"))
        assert (tmp_path / "back").read_text() == "This file should be in volume2\n"
    finally:
        _rm(sp, "cpvol")
        sp.run("volume", "rm", "cpvol1", "cpvol2")


# --- 090-events.bats --------------------------------------------------------------------------

def test_events_backend_none_and_image_events_like_podman(sp: SealpodRunner) -> None:
    for extra in ((), ("--stream=false",)):
        assert _fail(sp, 125, "--events-backend", "none", "events", *extra) == \
            'Error: cannot read events with the "none" backend'
    iid = sp.run("image", "inspect", "--format", "{{.ID}}", IMAGE).stdout.strip()
    sp.run("tag", IMAGE, "registry.com/evtest")
    sp.run("rmi", "registry.com/evtest")
    sp.run("tag", IMAGE, "registry.com/evtest")
    out = sp.run("events", "--stream=false", "--filter", "type=image", "--filter", "event=tag").stdout
    assert out.rstrip("\n").endswith(f" image tag {iid} registry.com/evtest")  # the name as typed


def test_events_logfile_path_and_rotation_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    events = tmp_path / "events.txt"
    original = sp.containers_conf.read_text()
    try:
        sp.containers_conf.write_text(f'[engine]\nevents_logger="file"\nevents_logfile_path="{events}"\n')
        sp.run("events", "--stream=false")  # no file yet: no hang, no error
        sp.run("tag", IMAGE, "localhost/evpath")
        assert '"Name":"localhost/evpath"' in events.read_text()
        line = '{{"Name":"busybox","Status":"pull","Time":"2022-04-06T11:26:42.7236679{:02d}+02:00",' \
               '"Type":"image","Attributes":null}}\n'
        events.write_text("".join(line.format(i) for i in range(100)))
        sp.containers_conf.write_text(f'[engine]\nevents_logger="file"\nevents_logfile_path="{events}"\n'
                                      "events_logfile_max_size=4750\n")
        sp.run("untag", IMAGE, "localhost/evpath")
        lines = events.read_text().splitlines()
        assert len(lines) <= 52
        out = sp.run("events", "--stream=false", "--since=2022-03-06T11:26:42.723667984+02:00").stdout.splitlines()
        assert len(out) == len(lines)
        assert out[-2].endswith(f" log-rotation {events}")
    finally:
        sp.containers_conf.write_text(original)


# --- 160-volumes.bats -------------------------------------------------------------------------

def test_volume_create_copyup_like_podman(sp: SealpodRunner) -> None:
    sp.run("volume", "create", "copyup")
    try:
        sp.run("run", "--rm", "--volume", "copyup:/vol", IMAGE, "true")
        fmt = "{{ .NeedsCopyUp }} {{ .NeedsChown }}"
        assert sp.run("volume", "inspect", "--format", fmt, "copyup").stdout == "true false\n"
        sp.run("run", "--rm", "--volume", "copyup:/etc", IMAGE, "ls", "/etc/passwd")
        assert sp.run("volume", "inspect", "--format", "{{ .NeedsCopyUp }}", "copyup").stdout == "false\n"
        mountpoint = sp.run("volume", "inspect", "--format", "{{.Mountpoint}}", "copyup").stdout.strip()
        assert (Path(mountpoint) / "passwd").exists()
    finally:
        sp.run("volume", "rm", "copyup")


def test_volume_prune_lists_filtered_volumes_like_podman(sp: SealpodRunner) -> None:
    sp.run("volume", "create", "prune-plain")
    sp.run("volume", "create", "prune-l1", "--label", "mylabel")
    sp.run("volume", "create", "prune-l2", "--label", "mylabel")
    try:
        out = sp.run("volume", "prune", "--filter", "label=mylabel", input="N\n").stdout.splitlines()
        assert sorted(out[1:3]) == ["prune-l1", "prune-l2"] and "prune-plain" not in out
    finally:
        sp.run("volume", "rm", "prune-plain", "prune-l1", "prune-l2")


# --- 300-cli-parsing.bats ---------------------------------------------------------------------

def test_flag_error_like_podman(sp: SealpodRunner) -> None:
    assert _fail(sp, 125, "run", "-h") == "Error: flag needs an argument: 'h' in -h\nSee 'sealpod run --help'"
    assert _fail(sp, 125, "run", "--hostname") == \
        "Error: flag needs an argument: --hostname\nSee 'sealpod run --help'"
    assert _fail(sp, 125, "bad", "--invalid") == "Error: unknown flag: --invalid\nSee 'sealpod --help'"


def test_run_env_with_glob_like_podman(sp: SealpodRunner, tmp_path: Path) -> None:
    prefix = "envGlobXyz"
    sp.env.update({prefix: "just plain basename", f"{prefix}1": "1", f"{prefix}_x": "_x",
                   prefix.upper(): "CAPS-NOT-ALLOWED", "NOTREALLYRANDOMBUTPROBABLYNOTDEFINED": "probably not"})
    envfile = tmp_path / "envfile-in-1,withcomma"
    envfile.write_text(f"{prefix}*\nNOT*DEFINED\n")
    try:
        for flags in (("--env", f"{prefix}*", "--env", "NOT*DEFINED"), ("--env-file", str(envfile))):
            out = sp.run("run", "--rm", *flags, IMAGE, "env").stdout.splitlines()
            got = sorted(line for line in out if line.lower().startswith(prefix.lower()))
            assert got == sorted([f"{prefix}=just plain basename", f"{prefix}1=1", f"{prefix}_x=_x"]), flags
            assert not any("DEFINED" in line for line in out)
    finally:
        for key in (prefix, f"{prefix}1", f"{prefix}_x", prefix.upper(), "NOTREALLYRANDOMBUTPROBABLYNOTDEFINED"):
            sp.env.pop(key, None)


# --- 005-info.bats ----------------------------------------------------------------------------

def test_root_volumepath_info_like_podman(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    volume_path = tmp_path / "volumesGoHere"
    out = runner.run("--storage-driver=vfs", "--root", str(tmp_path / "nothing-here-move-along"),
                     "--volumepath", str(volume_path), "info", "--format", "{{ .Store.VolumePath }}").stdout
    assert out == f"{volume_path}\n"
    out = runner.run("--storage-driver=vfs", "--root", str(tmp_path / "nothing-here-move-along"), "info",
                     "--format", "{{ .Store.GraphOptions }}").stdout
    assert out == "map[]\n"
