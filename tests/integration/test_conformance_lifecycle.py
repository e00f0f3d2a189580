"""Conformance with Podman 4.3.1's system tests of the container lifecycle (test/system/030-run,
040-ps, 050-stop): ``run --rootfs``, ``--rmi``, the runtime a container was made with, the
``stopping`` state, /etc/mtab and systemd mode's devices, against real conmon, runc and overlay.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-life"), seeded_registry.host) as runner:
        yield runner


def _inspect(ctr: SealpodRunner, name: str, fmt: str) -> str:
    return ctr.run("inspect", "--format", fmt, name).stdout.strip()


def _wait_for_log(ctr: SealpodRunner, name: str, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in ctr.run("logs", name).stdout:
        assert time.monotonic() < deadline, f"{name} never said {text!r}"
        time.sleep(0.1)


# --- 030-run.bats -----------------------------------------------------------------------

def test_run_rootfs_overlay_leaves_directory_unchanged(ctr: SealpodRunner) -> None:
    """030-run "check workdir": --rootfs DIR:O runs on the directory, which the container never writes."""
    mounted = Path(ctr.run("image", "mount", IMAGE).stdout.strip())
    try:
        out = ctr.run("run", "--name", "rfo", "--rootfs", f"{mounted}:O", "sh", "-c", "touch /new && echo Hello")
        assert out.stdout == "Hello\n"
        assert not (mounted / "new").exists()
        assert _inspect(ctr, "rfo", "{{.Rootfs}}|{{.ImageDigest}}|{{.Image}}|{{.ImageName}}") == f"{mounted}|||"
        ctr.run("rm", "-f", "-t0", "rfo")
        assert (mounted / "bin").is_dir()
    finally:
        ctr.run("image", "unmount", IMAGE)


def test_run_rootfs_plain_directory_kept_after_rm(ctr: SealpodRunner, tmp_path: Path) -> None:
    """030-run "check workdir": plain --rootfs DIR writes into DIR; removing the container keeps DIR."""
    mounted = Path(ctr.run("image", "mount", IMAGE).stdout.strip())
    rootfs = tmp_path / "rootfs"
    try:
        shutil.copytree(mounted, rootfs, symlinks=True)
    finally:
        ctr.run("image", "unmount", IMAGE)
    out = ctr.run("run", "--name", "rfp", "--rootfs", str(rootfs), "sh", "-c", "echo mark > /written; cat /written")
    assert out.stdout == "mark\n"
    assert (rootfs / "written").read_text() == "mark\n"
    assert ctr.run("start", "-a", "rfp").stdout == "mark\n"  # a second start runs on it again
    ctr.run("rm", "rfp")
    assert (rootfs / "written").exists() and (rootfs / "bin").is_dir()


def test_run_rootfs_missing_directory_fails_at_create(ctr: SealpodRunner) -> None:
    """030-run "check workdir" (--rootfs): a directory that is not there fails create in Podman's words."""
    out = ctr.run("run", "--rootfs", "/no/such/rootfs:O", "true", check=False)
    assert out.returncode == 125
    assert out.stderr == "Error: running container create option: stat /no/such/rootfs: no such file or directory\n"


def test_run_runtime_full_path_is_preserved(ctr: SealpodRunner, tmp_path: Path) -> None:
    """030-run "full path to --runtime is preserved": inspect's OCIRuntime is the path as given."""
    runtime = ctr.run("info", "--format", "{{.Host.OCIRuntime.Path}}").stdout.strip()
    copy = tmp_path / "myruntime"
    shutil.copy2(runtime, copy)
    cid = ctr.run("run", "-d", "--runtime", str(copy), IMAGE, "sleep", "60").stdout.strip()
    assert _inspect(ctr, cid, "{{.OCIRuntime}}") == str(copy)
    ctr.run("kill", cid)
    ctr.run("wait", cid)
    ctr.run("rm", cid)
    cid = ctr.run("create", IMAGE, "true").stdout.strip()
    assert _inspect(ctr, cid, "{{.OCIRuntime}}") == "runc"
    ctr.run("rm", cid)


def test_run_creates_missing_etc_mtab(ctr: SealpodRunner) -> None:
    """030-run "no /etc/mtab": an image without /etc/mtab gets the link to /proc/mounts."""
    assert ctr.run("run", "--rm", IMAGE, "readlink", "/etc/mtab").stdout == "/proc/mounts\n"


def test_run_privileged_systemd_mode_gets_no_host_ttys(ctr: SealpodRunner) -> None:
    """030-run "--privileged as root with systemd will not mount /dev/tty": only runc's /dev/tty."""
    cid = ctr.run("run", "-d", "--privileged", "--systemd=always", IMAGE, "sleep", "60").stdout.strip()
    assert ctr.run("exec", cid, "sh", "-c", "ls /dev/tty*").stdout == "/dev/tty\n"
    ctr.run("rm", "-f", "-t0", cid)
    cid = ctr.run("run", "-d", "--privileged", IMAGE, "sleep", "60").stdout.strip()
    assert ctr.run("exec", cid, "sh", "-c", "ls /dev/tty*").stdout != "/dev/tty\n"
    ctr.run("rm", "-f", "-t0", cid)


def test_run_rmi_keeps_an_image_in_use(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    """030-run "podman run --rmi": an image another container uses stays (a logged error, exit 0)."""
    with store_with_image(tmp_path, seeded_registry.host) as own:
        own.run("run", "--name", "keepme", IMAGE, "true")
        out = own.run("run", "--rmi", "--rm", IMAGE, "true")
        assert "level=error" in out.stderr and "image is in use by a container" in out.stderr
        assert not out.stderr.startswith("Error:")
        own.run("image", "exists", IMAGE)
        own.run("rm", "keepme")
        own.run("run", "--rmi", "--rm", IMAGE, "true")
        assert own.run("image", "exists", IMAGE, check=False).returncode == 1


# --- 050-stop.bats ----------------------------------------------------------------------

def test_stop_waiting_for_timeout_shows_stopping_and_holds_no_lock(ctr: SealpodRunner) -> None:
    """050-stop "unlock while waiting for timeout": stopping, and other commands are not blocked."""
    ctr.run("run", "-d", "--name", "stopme", IMAGE, "sh", "-c",
            "trap 'echo Received SIGTERM, ignoring' TERM; echo READY; while :; do sleep 0.2; done")
    _wait_for_log(ctr, "stopme", "READY")
    t0 = time.monotonic()
    stopper = subprocess.Popen(ctr.argv("stop", "-t", "20", "stopme"), env=ctr.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_for_log(ctr, "stopme", "Received SIGTERM, ignoring")
        assert "Stopping" in ctr.run("ps", "-a").stdout
        assert _inspect(ctr, "stopme", "{{.State.Status}} {{.State.Running}}") == "stopping false"
        assert time.monotonic() - t0 < 10
        assert ctr.run("rm", "stopme", check=False).returncode == 2  # still a live container
        ctr.run("kill", "stopme")
        assert ctr.run("wait", "stopme").stdout == "137\n"
        out, _ = stopper.communicate(timeout=30)
    finally:
        stopper.kill()
        stopper.wait()
    assert stopper.returncode == 0 and out == b"stopme\n"
    assert time.monotonic() - t0 < 15
    assert _inspect(ctr, "stopme", "{{.State.Status}}") == "exited"
    ctr.run("rm", "stopme")


# --- 130-kill.bats, 045-start.bats ------------------------------------------------------

def test_wait_on_never_started_container_returns_at_once(ctr: SealpodRunner) -> None:
    """130-kill "podman wait - exit codes": a container that never ran is waited for at once (0)."""
    cid = ctr.run("create", IMAGE, "/no/such/command").stdout.strip()
    assert ctr.run("wait", cid, timeout=10).stdout == "0\n"
    out = ctr.run("start", cid, check=False)
    assert out.returncode == 125
    assert out.stderr.startswith(f'Error: unable to start container "{cid}": ')
    assert "/no/such/command" in out.stderr
    assert ctr.run("wait", cid, timeout=10).stdout == "0\n"
    attached = ctr.run("start", "-a", cid, check=False)
    assert attached.returncode == 125 and attached.stderr.startswith(f"Error: unable to start container {cid}: ")
    assert ctr.run("run", "--rm", IMAGE, "/no/such/command", check=False).returncode == 127  # run keeps its own
    ctr.run("rm", cid)


# --- 450-interactive.bats, 032-sig-proxy.bats ---------------------------------------------

def test_run_tty_interactive_without_a_tty_warns(ctr: SealpodRunner) -> None:
    """450-interactive "--tty -i failure with no tty": Podman's warning, and the command runs."""
    out = ctr.run("run", "--tty", "-i", "--rm", IMAGE, "echo", "hello", input="")
    assert "level=warning" in out.stderr and "The input device is not a TTY" in out.stderr
    assert out.stdout.startswith("hello")
    for flags in (["--tty=false", "-i"], ["--tty", "-i=false"]):
        quiet = ctr.run("run", *flags, "--rm", IMAGE, "echo", "hello", input="")
        assert "not a TTY" not in quiet.stderr and quiet.stdout.startswith("hello")


def test_run_boolean_flag_before_image_takes_no_value(ctr: SealpodRunner) -> None:
    """032-sig-proxy: ``--sig-proxy IMAGE`` is the flag then the image, as cobra parses booleans."""
    assert ctr.run("run", "--rm", "--sig-proxy", IMAGE, "echo", "hi").stdout == "hi\n"
    assert ctr.run("run", "--rm", "--sig-proxy=false", "--tls-verify", IMAGE, "echo", "ok").stdout == "ok\n"
