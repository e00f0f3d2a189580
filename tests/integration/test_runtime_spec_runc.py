"""Specs from build_spec run under real runc: what the container sees matches what we asked for."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sealpod.runtime.etcfiles import hostname_content, hosts_content, resolve_user
from sealpod.runtime.rlimits import Rlimit, clamp_rlimits, parse_ulimits
from sealpod.runtime.seccomp import default_seccomp
from sealpod.runtime.spec import (
    ALL_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    Mount,
    Resources,
    SpecParams,
    build_spec,
    write_spec,
)
from sealpod.utils.proc import run
from sealpod.utils.record import replace
from tests.rig.sealpod import require_root, skip_or_fail

pytestmark = pytest.mark.integration

RUNC = "/usr/sbin/runc"
APPLETS = ("sh", "id", "cat", "grep", "hostname", "touch", "ls", "echo", "wc", "mount")


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_root()
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        skip_or_fail("busybox (busybox-static) is not installed")
    if not os.path.exists(RUNC):
        skip_or_fail("runc is not installed")
    root = tmp_path_factory.mktemp("bb") / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "data"):
        (root / d).mkdir(parents=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    for applet in APPLETS:
        os.symlink("busybox", root / "bin" / applet)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nalice:x:1000:\nwheel:x:10:alice\n")
    return root


@pytest.fixture
def runc_root(tmp_path: Path) -> Path:
    return tmp_path / "runc-state"


def execute(p: SpecParams, bundle: Path, state: Path) -> tuple[int, str]:
    """Run the container to completion with ``runc run``; return (exit code, stdout+stderr)."""
    cid = "sp-" + uuid.uuid4().hex[:12]
    p = replace(p, cgroups_path=f"/sealpod-test-{cid}")  # no parent: delete removes it all
    write_spec(bundle, build_spec(p))
    try:
        proc = run([RUNC, "--root", state, "run", "--bundle", bundle, cid], check=False, timeout=60,
                   stderr=subprocess.STDOUT)
    finally:
        run([RUNC, "--root", state, "delete", "-f", cid], check=False)
    return proc.returncode, proc.stdout.decode(errors="replace")


Runner = Callable[[SpecParams], tuple[int, str]]


@pytest.fixture
def go(tmp_path: Path, runc_root: Path) -> Runner:
    def _go(p: SpecParams) -> tuple[int, str]:
        return execute(p, tmp_path / "bundle", runc_root)
    return _go


def params(rootfs: Path, script: str, **kw: Any) -> SpecParams:
    return SpecParams(rootfs=str(rootfs), args=("/bin/sh", "-c", script), env=("PATH=/bin",), **kw)


def cap_mask(caps: tuple[str, ...]) -> str:
    mask = sum(1 << ALL_CAPABILITIES.index(c) for c in caps)
    return f"{mask:016x}"


def status_field(out: str, name: str) -> str:
    for line in out.splitlines():
        if line.startswith(name + ":"):
            return line.split()[1]
    raise AssertionError(f"{name} not in output: {out}")


def test_user_caps_hostname(rootfs: Path, go: Runner) -> None:
    user = resolve_user(rootfs, "alice")
    p = params(rootfs, "id; grep Cap /proc/self/status; hostname; echo cwd=$PWD", hostname="spec-test",
               uid=user.uid, gid=user.gid, additional_gids=(user.gid, *user.additional_gids), cwd="/tmp")
    rc, out = go(p)
    assert rc == 0, out
    assert "uid=1000(alice) gid=1000(alice)" in out and "10(wheel)" in out
    assert status_field(out, "CapBnd") == cap_mask(DEFAULT_CAPABILITIES)
    assert status_field(out, "CapEff") == "0" * 16
    assert "spec-test" in out.splitlines()
    assert "cwd=/tmp" in out


def test_root_gets_default_caps_and_seccomp(rootfs: Path, go: Runner) -> None:
    sc = default_seccomp(DEFAULT_CAPABILITIES)
    if sc is None:
        pytest.skip("no seccomp.json installed")
    rc, out = go(params(rootfs, "grep -E 'Cap|Seccomp|NoNewPrivs' /proc/self/status", seccomp=sc,
                        no_new_privileges=True))
    assert rc == 0, out
    assert status_field(out, "CapEff") == cap_mask(DEFAULT_CAPABILITIES)
    assert status_field(out, "Seccomp") == "2"
    assert status_field(out, "NoNewPrivs") == "1"


def test_readonly_rootfs_refuses_writes(rootfs: Path, go: Runner) -> None:
    tmpfs = Mount("/tmp", "tmpfs", "tmpfs", ("rw", "nosuid", "nodev"))
    rc, out = go(params(rootfs, "touch /tmp/ok && echo tmp-writable; touch /newfile", readonly_rootfs=True,
                        mounts=(tmpfs,)))
    assert rc != 0
    assert "tmp-writable" in out and "Read-only file system" in out
    assert not (rootfs / "newfile").exists()


def test_bind_mount_visible(rootfs: Path, go: Runner, tmp_path: Path) -> None:
    host = tmp_path / "hostdir"
    host.mkdir()
    (host / "hello.txt").write_text("hello from the host\n")
    m = Mount("/data", "bind", str(host), ("rbind", "ro", "rprivate"))
    rc, out = go(params(rootfs, "cat /data/hello.txt; touch /data/x", mounts=(m,)))
    assert "hello from the host" in out
    assert rc != 0 and not (host / "x").exists()


def test_masked_and_readonly_paths(rootfs: Path, go: Runner) -> None:
    rc, out = go(params(rootfs, "echo kcore=$(cat /proc/kcore | wc -c); echo fw=$(ls /sys/firmware | wc -l);"
                        " grep ' /proc/sys ' /proc/mounts"))
    assert rc == 0, out
    assert "kcore=0" in out and "fw=0" in out
    sys_line = next(line for line in out.splitlines() if " /proc/sys " in line)
    assert " ro," in sys_line or sys_line.split()[3].startswith("ro")


def test_rlimits_applied_and_clamped(rootfs: Path, go: Runner) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    rc, out = go(params(rootfs, "echo soft=$(ulimit -n) hard=$(ulimit -Hn)",
                        rlimits=(Rlimit("RLIMIT_NOFILE", 512, 1024),)))
    assert rc == 0, out
    assert "soft=512 hard=1024" in out
    if hard == resource.RLIM_INFINITY:
        return
    wanted = parse_ulimits(["nofile=1048576:1048576"])
    limits = clamp_rlimits(wanted) if hard < 1048576 else wanted
    rc, out = go(params(rootfs, "echo soft=$(ulimit -n) hard=$(ulimit -Hn)", rlimits=limits))
    assert rc == 0, out
    expected = min(hard, 1048576)
    assert f"soft={expected} hard={expected}" in out


def test_etc_files_bound(rootfs: Path, go: Runner, tmp_path: Path) -> None:
    files = tmp_path / "userdata"
    files.mkdir()
    (files / "hosts").write_text(hosts_content(["etc-test", "myname"]))
    (files / "hostname").write_text(hostname_content("etc-test"))
    mounts = tuple(Mount(f"/etc/{n}", "bind", str(files / n), ("bind", "rprivate")) for n in ("hosts", "hostname"))
    rc, out = go(params(rootfs, "cat /etc/hosts; echo; cat /etc/hostname", hostname="etc-test", mounts=mounts))
    assert rc == 0, out
    assert "127.0.0.1\tetc-test myname" in out
    assert out.rstrip().endswith("etc-test")


def test_privileged_has_all_caps(rootfs: Path, go: Runner) -> None:
    rc, out = go(params(rootfs, "grep -E 'CapEff|CapBnd' /proc/self/status; ls /dev/null", privileged=True))
    assert rc == 0, out
    with open("/proc/self/status") as f:
        host_bnd = next(line.split()[1] for line in f if line.startswith("CapBnd:"))
    assert status_field(out, "CapEff") == host_bnd


def test_cgroup_resources(rootfs: Path, go: Runner) -> None:
    r = Resources(memory=64 * 1024 * 1024, pids_limit=50, cpu_shares=512)
    rc, out = go(params(rootfs, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"
                        " /sys/fs/cgroup/cpu/cpu.shares", resources=r))
    assert rc == 0, out
    assert out.split() == ["67108864", "50", "512"]
