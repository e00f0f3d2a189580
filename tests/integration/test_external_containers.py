"""A build's working containers as Podman 4.3.1 keeps them apart from its own ("external", storage-only
containers): hidden from ``ps -a`` and ``rm -a``, listed by ``ps --external`` as "Storage", found by
``container exists --external``, removed by ``rm -f`` and ``image prune --external``; against real
conmon, runc and overlay mounts."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image


@pytest.fixture(scope="module")
def ext(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("external"), seeded_registry.host) as runner:
        yield runner
        for cid in runner.run("ps", "--external", "-q").stdout.split():  # rm -a passes them over
            runner.run("rm", "-f", "-t", "0", cid, check=False)


def _lines(ext: SealpodRunner, *args: str) -> list[str]:
    return ext.run(*args).stdout.splitlines()


def _kill_build_mid_run(ext: SealpodRunner, tmp_path: Path, tag: str) -> None:
    """A build whose second RUN sleeps, killed (SIGTERM, as the BATS timeout) while that RUN runs."""
    ctx = build_context(tmp_path, tag, f"FROM sealtest/tiny\nRUN touch /{tag}\nRUN sleep 30\n")
    proc = subprocess.Popen(ext.argv("build", "-t", tag, str(ctx)), env=ext.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    try:
        while len(ext.run("ps", "--external", "-q").stdout.split()) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the build never reached its sleep"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_killed_build_leaves_storage_containers(ext: SealpodRunner, tmp_path: Path) -> None:
    """BATS 040-ps "podman ps --external" (and e2e ps_test.go, rm_test.go, exists_test.go: --external)."""
    _kill_build_mid_run(ext, tmp_path, "neverdone")
    assert len(_lines(ext, "ps", "-a")) == 1  # ps -a does not see them
    lines = _lines(ext, "ps", "--external")
    assert len(lines) == 3
    assert re.match(r"[0-9a-f]{12} +\S*sealtest/tiny:latest +buildah .* ago +Storage +tiny-working-container$",
                    lines[1]), lines[1]
    assert "-working-container" in lines[2] and " Storage " in lines[2]
    doc = json.loads(ext.run("ps", "--external", "--format", "json").stdout)
    assert [d["State"] for d in doc] == ["storage", "storage"] and doc[0]["Command"] == ["buildah"]
    assert ext.run("ps", "-a", "--external", "-q").stdout.split() == [line.split()[0] for line in lines[1:]]
    # exists: only with --external
    assert ext.run("container", "exists", "tiny-working-container", check=False).returncode == 1
    assert ext.run("container", "exists", "--external", "tiny-working-container").returncode == 0
    # rm -a (and other --all commands) pass them over
    ext.run("rm", "-a")
    assert len(_lines(ext, "ps", "--external")) == 3
    # the intermediate image is in use: pruned only with --external, with the container using it
    assert ext.run("image", "prune", "-f").stdout == ""
    assert len(_lines(ext, "image", "prune", "-f", "--external")) == 1
    lines = _lines(ext, "ps", "--external")
    assert len(lines) == 2 and lines[1].endswith("tiny-working-container")
    cid = lines[1][:12]
    res = ext.run("rm", cid, check=False)
    assert res.returncode == 2
    assert res.stderr.strip() == (f'Error: container "{cid}" is mounted and cannot be removed without using force: '
                                  "container state improper")
    ext.run("rm", "-t", "0", "-f", cid)
    assert len(_lines(ext, "ps", "--external")) == 1


def test_running_build_container_hidden_and_removed_after(ext: SealpodRunner, tmp_path: Path) -> None:
    """e2e ps_test.go: podman ps --external; a finished build leaves no working container behind."""
    ctx = build_context(tmp_path, "done", "FROM sealtest/tiny\nRUN touch /a\nRUN touch /b\n")
    ext.run("build", "-t", "donebuild", str(ctx))
    assert len(_lines(ext, "ps", "-a", "--external")) == 1
    assert ext.run("container", "exists", "--external", "tiny-working-container", check=False).returncode == 1


def test_external_lists_running_but_not_stopped_ordinary_containers(ext: SealpodRunner, tmp_path: Path) -> None:
    """e2e ps_test.go: ps --external without -a shows the storage containers, not a created ordinary one."""
    ext.run("create", "--name", "plainone", "sealtest/tiny", "true")
    try:
        _kill_build_mid_run(ext, tmp_path, "again")
        names = [line.split()[-1] for line in _lines(ext, "ps", "--external")[1:]]
        assert "plainone" not in names and names[0] == "tiny-working-container"
        assert "plainone" in ext.run("ps", "-a", "--external").stdout
        assert ext.run("container", "exists", "--external", "plainone").returncode == 0
    finally:
        ext.run("rm", "-f", "plainone")
        for cid in ext.run("ps", "--external", "-q").stdout.split():
            ext.run("rm", "-f", "-t", "0", cid)


def test_remote_ps_and_exists_external(api: ApiService, pr: Remote, tmp_path: Path) -> None:
    """e2e ps_test.go / exists_test.go through the libpod API: ps --external, container exists --external."""
    try:
        _kill_build_mid_run(api.runner, tmp_path, "remote")
        assert len(pr("ps", "-a").stdout.splitlines()) == 1
        lines = pr("ps", "--external").stdout.splitlines()
        assert len(lines) == 3 and " Storage " in lines[1] and lines[1].endswith("tiny-working-container")
        assert pr("container", "exists", "tiny-working-container", check=False).returncode == 1
        assert pr("container", "exists", "--external", "tiny-working-container").returncode == 0
    finally:
        for cid in api.runner.run("ps", "--external", "-q").stdout.split():
            api.runner.run("rm", "-f", "-t", "0", cid)
