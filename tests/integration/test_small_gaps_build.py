"""Small build and image gaps closed against Podman 4.3.1 (Buildah 1.28): history of an image
without history, ``-o`` tars and where ``-o -`` writes its tar, the COMMIT line of cached builds,
``build --ipc host`` and ``--cgroup-parent`` for RUN, and OCI poststop hooks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("small-gaps"), seeded_registry.host) as runner:
        yield runner


def _last(out: str) -> str:
    return out.strip().splitlines()[-1]


# --- history ------------------------------------------------------------------------------------


def test_history_of_an_image_without_history_lists_nothing(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: an image whose config has no history (build --omit-history) has no history rows: the
    table is its header alone, JSON an empty list, -q and templates print nothing."""
    ctx = build_context(tmp_path, "noh", "FROM sealtest/tiny\nRUN echo x > /x\n")
    image = _last(bld.run("build", "-q", "--omit-history", "-t", "nohistory", str(ctx)).stdout)
    assert bld.run("history", "nohistory").stdout == "ID          CREATED     CREATED BY  SIZE        COMMENT\n"
    assert json.loads(bld.run("history", "--format", "json", image).stdout) == []
    assert bld.run("history", "--format", "{{.ID}}", "nohistory").stdout == ""
    assert bld.run("image", "history", "-q", "nohistory").stdout == ""
    assert len(bld.run("history", "-q", "sealtest/tiny").stdout.splitlines()) >= 1  # others keep theirs


def test_api_history_of_an_image_without_history_is_an_empty_list(api: ApiService, tmp_path: Path) -> None:
    """Podman's compat and libpod history routes: [] for an image without history."""
    ctx = build_context(tmp_path, "apinoh", "FROM sealtest/tiny\nRUN echo y > /y\n")
    api.runner.run("build", "-q", "--omit-history", "-t", "apinohistory", str(ctx))
    for prefix in ("/v1.41", "/v4.3.1/libpod"):
        status, body = api.request("GET", f"{prefix}/images/apinohistory/history")
        assert (status, json.loads(body)) == (200, [])


# --- -o: the exported tar -------------------------------------------------------------------------


def test_output_tar_names_directories_without_a_trailing_slash(bld: SealpodRunner, tmp_path: Path) -> None:
    """Buildah's type=tar output: "bin", "d", "d/f" (no "d/"), and no PAX records for whole-second times."""
    ctx = build_context(tmp_path, "tar", "FROM sealtest/tiny\nRUN mkdir /d && echo hi > /d/f\n")
    out = tmp_path / "out.tar"
    bld.run("build", "-q", "-o", f"type=tar,dest={out}", str(ctx))
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert "d" in names and "d/f" in names and not any(n.endswith("/") for n in names)
    assert all("mtime" not in m.pax_headers for m in members)
    with out.open("rb") as f:
        assert f.read(100).rstrip(b"\0") == b"bin"  # the raw header's name: no "bin/"


def _split_tar(data: bytes, before: bytes) -> tuple[bytes, list[str], bytes]:
    """The text before the tar (ending with ``before``), the tar's member names, the text after it."""
    start = data.index(before) + len(before)
    names: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(data[start:]), mode="r|") as tar:
        names = [m.name for m in tar]
        fileobj = tar.fileobj
        assert fileobj is not None
        consumed = fileobj.tell()
    rest = data[start + consumed:].lstrip(b"\0")
    return data[:start], names, rest


def test_output_stdout_writes_the_tar_between_commit_and_the_id_line(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman's -o -: on stdout "COMMIT", the tar, then "--> SHORTID" and the image ID."""
    ctx = build_context(tmp_path, "stdout", "FROM sealtest/tiny\nRUN echo z > /z\n")
    res = subprocess.run(bld.argv("build", "--no-cache", "-o", "-", str(ctx)), env=bld.env, capture_output=True,
                         timeout=120, check=True)
    head, names, tail = _split_tar(res.stdout, b"COMMIT\n")
    assert "z" in names
    image = tail.decode().splitlines()[-1]
    assert tail.decode() == f"--> {image[:11]}\n{image}\n"
    assert b"--> " not in head.split(b"STEP 2/2")[1]


def test_cached_untagged_build_says_no_commit(bld: SealpodRunner, tmp_path: Path) -> None:
    """Buildah: when the last step comes from the cache and there is no name to give, nothing is
    committed: no "COMMIT" line nor "Successfully tagged" (even if the cached image has names);
    with -t, "COMMIT NAME" follows "--> Using cache"."""
    for text in ("FROM sealtest/tiny\nRUN echo c > /c\n", "FROM sealtest/tiny\nRUN echo c > /c\nCMD [\"sh\"]\n"):
        ctx = build_context(tmp_path, f"cache{len(text)}", text)
        bld.run("build", "-q", "-t", f"cached{len(text)}", str(ctx))
        lines = bld.run("build", str(ctx)).stdout.splitlines()
        assert lines[-3].startswith("--> Using cache ") and not any(ln.startswith(("COMMIT", "Successfully"))
                                                                    for ln in lines), lines
        assert lines[-2] == f"--> {lines[-1][:11]}"
        lines = bld.run("build", "-t", "again", str(ctx)).stdout.splitlines()
        at = lines.index("COMMIT again")
        assert lines[at - 1].startswith("--> Using cache ") and lines[at + 1:at + 3] == [
            f"--> {lines[-1][:11]}", "Successfully tagged localhost/again:latest"], lines  # this build's name first


# --- RUN containers' /dev/shm and cgroup ------------------------------------------------------------


def test_build_ipc_host_keeps_a_private_shm_of_shm_size(bld: SealpodRunner, tmp_path: Path) -> None:
    """Buildah: with --ipc host, RUN still gets its own /dev/shm tmpfs of --shm-size (64 MiB by default)."""
    ctx = build_context(tmp_path, "shm", "FROM sealtest/tiny\nRUN readlink /proc/self/ns/ipc; "
                                         "df -k /dev/shm | tail -1\n")
    res = bld.run("build", "--no-cache", "--ipc", "host", "--shm-size", "10m", str(ctx))
    assert f"\n{os.readlink('/proc/self/ns/ipc')}\n" in res.stdout  # the host's IPC namespace all the same
    shm = next(ln for ln in res.stdout.splitlines() if ln.endswith("/dev/shm"))
    assert shm.split()[:2] == ["shm", "10240"]
    res = bld.run("build", "--no-cache", "--ipc", "host", str(ctx))
    shm = next(ln for ln in res.stdout.splitlines() if ln.endswith("/dev/shm"))
    assert shm.split()[:2] == ["shm", "65536"]


def test_build_cgroup_parent_is_the_run_containers_cgroup(bld: SealpodRunner, tmp_path: Path) -> None:
    """Buildah: --cgroup-parent X puts RUN in the cgroup X itself, not in a child of it."""
    if not os.path.isdir("/sys/fs/cgroup/memory"):
        pytest.skip("cgroup v1 memory controller not mounted")
    ctx = build_context(tmp_path, "cg", "FROM sealtest/tiny\nRUN grep memory /proc/self/cgroup\n")
    res = bld.run("build", "--no-cache", "--cgroup-parent", "/sealpod-smallgaps-test", str(ctx))
    assert "\n4:memory:/sealpod-smallgaps-test\n" in res.stdout or any(
        ln.endswith(":memory:/sealpod-smallgaps-test") for ln in res.stdout.splitlines()), res.stdout


# --- OCI hooks ------------------------------------------------------------------------------------


def test_poststop_hook_runs_when_the_container_exits(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman: a poststop hook runs once the container has exited (before any `rm`), its stdin the
    state JSON with status "stopped" and the bundle."""
    hooks, log = tmp_path / "hooks", tmp_path / "hook.log"
    hooks.mkdir()
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\ncat >> {log}\necho >> {log}\n")
    script.chmod(0o755)
    (hooks / "post.json").write_text(json.dumps({"version": "1.0.0", "hook": {"path": str(script)},
                                                 "when": {"always": True}, "stages": ["poststop"]}))
    cid = bld.run("--hooks-dir", str(hooks), "run", "-d", "sealtest/tiny", "true").stdout.strip()
    try:
        bld.run("wait", cid)
        for _ in range(100):  # the hook runs in the cleanup that follows the exit
            if log.exists() and log.read_text().endswith("\n"):
                break
            time.sleep(0.1)
        state = json.loads(log.read_text().splitlines()[0])
        assert state["id"] == cid and state["status"] == "stopped" and state["bundle"].endswith("/userdata")
    finally:
        bld.run("rm", "-f", cid, check=False)
