"""cp, diff, export, import and commit on real containers (overlay, conmon, runc), and push of a commit."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

pytestmark = pytest.mark.integration
IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("files"), seeded_registry.host) as runner:
        yield runner


def _bytes(sp: SealpodRunner, *args: str, data: bytes | None = None) -> bytes:
    res = subprocess.run(sp.argv(*args), input=data, env=sp.env, cwd=sp.base, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        return tf.getnames()


def test_cp_both_ways_running_and_stopped(sp: SealpodRunner, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("from host\n")
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "f").write_text("deep\n")
    sp.run("run", "-d", "--name", "cprun", IMAGE, "sleep", "1000")
    sp.run("create", "--name", "cpstop", IMAGE, "true")
    for name in ("cprun", "cpstop"):
        sp.run("cp", str(tmp_path / "in.txt"), f"{name}:/tmp/")
        sp.run("cp", str(tmp_path / "tree"), f"{name}:/tmp/t2")
        sp.run("cp", f"{name}:/tmp/in.txt", str(tmp_path / f"back-{name}"))
        assert (tmp_path / f"back-{name}").read_text() == "from host\n"
        sp.run("cp", f"{name}:/tmp/t2/.", str(tmp_path / f"tree-{name}"))
        assert (tmp_path / f"tree-{name}" / "sub" / "f").read_text() == "deep\n"
    assert sp.run("exec", "cprun", "cat", "/tmp/t2/sub/f", check=False).stdout in ("deep\n", "")
    stopped_id = sp.run("container", "inspect", "--format", "{{.Id}}", "cpstop").stdout.strip()
    assert not os.path.ismount(sp.root / "overlay-containers" / stopped_id / "merged")  # unmounted again
    assert sp.run("start", "-a", "cpstop").returncode == 0


def test_cp_tar_streams(sp: SealpodRunner) -> None:
    sp.run("create", "--name", "cpstream", IMAGE, "true")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("streamed/hello")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"hi\n"))
    _bytes(sp, "cp", "-", "cpstream:/tmp", data=buf.getvalue())
    out = _bytes(sp, "cp", "cpstream:/tmp/streamed", "-")
    assert _names(out) == ["streamed", "streamed/hello"]
    with tarfile.open(fileobj=io.BytesIO(out)) as tf:
        member = tf.extractfile("streamed/hello")
        assert member is not None and member.read() == b"hi\n"


def test_cp_symlinks_resolve_inside_the_container(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "--name", "esc", IMAGE, "sh", "-c",
           "ln -s / /x; ln -s /tmp /link; ln -s ../../../../../.. /up; echo mine > /etc/shadow")
    out = _bytes(sp, "cp", "esc:/x/etc/shadow", "-")
    with tarfile.open(fileobj=io.BytesIO(out)) as tf:
        member = tf.extractfile("shadow")
        assert member is not None and member.read() == b"mine\n"
    marker = tmp_path / "marker-file"
    marker.write_text("m")
    sp.run("cp", str(marker), "esc:/link/")
    sp.run("cp", str(marker), "esc:/up/tmp/escaped")
    assert not Path("/tmp/marker-file").exists() and not Path("/tmp/escaped").exists()
    names = _names(_bytes(sp, "cp", "esc:/tmp", "-"))
    assert "tmp/marker-file" in names and "tmp/escaped" in names
    res = sp.run("cp", "esc:/nosuch", str(tmp_path), check=False)
    assert res.returncode == 125 and 'Error: "/nosuch" could not be found on container esc' in res.stderr


def test_diff_lists_added_changed_deleted(sp: SealpodRunner) -> None:
    sp.run("run", "--name", "differ", IMAGE, "sh", "-c", "mkdir -p /d/e; echo x > /d/e/f; rm /bin/true")
    lines = sp.run("diff", "differ").stdout.splitlines()
    assert lines == sorted(lines, key=lambda line: line[2:])
    for want in ("A /d", "A /d/e", "A /d/e/f", "C /bin", "D /bin/true"):
        assert want in lines
    assert not any(line.endswith(("/etc/hosts", "/run/.containerenv", "/proc")) for line in lines)
    doc = sp.run("diff", "--format", "json", "differ").stdout
    assert '"deleted": [\n          "/bin/true"\n     ]' in doc


def test_export_contains_the_whole_root(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "--name", "exp", IMAGE, "sh", "-c", "echo e > /exported")
    sp.run("export", "-o", str(tmp_path / "exp.tar"), "exp")
    names = _names((tmp_path / "exp.tar").read_bytes())
    assert "exported" in names and "bin/" not in names and "bin" in names and "bin/sh" in names


def test_import_makes_a_runnable_image(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "--name", "exp2", IMAGE, "sh", "-c", "echo e > /exported")
    sp.run("export", "-o", str(tmp_path / "root.tar"), "exp2")
    res = sp.run("import", "-c", "CMD [\"cat\", \"/exported\"]", "-m", "hi", str(tmp_path / "root.tar"),
                 "imported:v1")
    assert res.stdout.startswith("sha256:") and len(res.stdout.strip()) == 71
    assert sp.run("run", "--rm", "imported:v1").stdout == "e\n"
    dangling = _bytes(sp, "import", "-q", "-", data=(tmp_path / "root.tar").read_bytes()).decode().strip()
    assert dangling.startswith("sha256:")
    assert sp.run("images", "-q", "--filter", "dangling=true", "--no-trunc").stdout.strip() == dangling


def test_commit_keeps_changes_and_deletions(sp: SealpodRunner) -> None:
    sp.run("run", "--name", "tocommit", "-e", "FOO=bar", IMAGE, "sh", "-c",
           "echo kept > /etc/motd; rm /bin/true")
    image_id = sp.run("commit", "-q", "-c", "LABEL x=y", "tocommit", "committed:v1").stdout.strip()
    assert len(image_id) == 64
    out = sp.run("run", "--rm", "committed:v1", "sh", "-c",
                 "cat /etc/motd; test -e /bin/true && echo present || echo deleted; echo $FOO").stdout
    assert out == "kept\ndeleted\nbar\n"
    labels = sp.run("image", "inspect", "--format", "{{.Labels.x}}", "committed:v1").stdout.strip()
    assert labels == "y"


def test_commit_push_pull_round_trip(sp: SealpodRunner, seeded_registry: RegistryServer, tmp_path: Path) -> None:
    sp.run("run", "--name", "topush", IMAGE, "sh", "-c", "echo pushed > /pushed")
    sp.run("commit", "-q", "topush", "localhost/pushme:v1")
    dest = f"{seeded_registry.host}/committed/pushme:v1"
    sp.run("push", "localhost/pushme:v1", dest)
    other = SealpodRunner(tmp_path / "other", search_registries=[seeded_registry.host],
                          insecure_registries=[seeded_registry.host])
    other.run("pull", "-q", dest)
    assert other.run("run", "--rm", dest, "cat", "/pushed").stdout == "pushed\n"
    other.run("rm", "-af", check=False)


def test_cp_chowns_to_the_user_as_a_container_with_its_own_id_map_sees_it(sp: SealpodRunner, tmp_path: Path) -> None:
    """065-cp.bats "cp (-a=true) ... check ownership" with a user namespace (--userns=auto here, keep-id
    rootless): the copied file belongs to the container's user as the container sees it, running or not.
    Written as the bare uid it showed as nobody (65534), outside the container's map."""
    src = tmp_path / "hostfile"
    src.write_text("content\n")
    sp.make_searchable()  # runc reaches the rootfs as the container's root
    cid = sp.run("run", "-d", "--userns=auto", "--user", "1001", IMAGE, "sleep", "600").stdout.strip()
    try:
        sp.run("cp", str(src), f"{cid}:/tmp/live")
        sp.run("stop", "-t", "0", cid)
        sp.run("cp", str(src), f"{cid}:/tmp/stopped")
        sp.run("start", cid)
        assert sp.run("exec", cid, "stat", "-c", "%u", "/tmp/live", "/tmp/stopped").stdout == "1001\n1001\n"
    finally:
        sp.run("rm", "-f", "-t", "0", cid)
