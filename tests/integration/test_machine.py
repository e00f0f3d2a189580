"""`machine`: Podman's virtual machines have no place in an engine that runs containers on its host,
but scripts written for Podman meet Podman's answers (read off Podman 4.3.1 as root and as a user)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEALPOD = [sys.executable, "-m", "sealpod"]
VERBS = ("info", "init", "inspect", "list", "rm", "set", "ssh", "start", "stop")


def test_every_verb_is_refused_as_root_after_its_flags_are_parsed() -> None:
    if os.geteuid() != 0:
        pytest.skip("the refusal is root's")
    for verb in (*VERBS, "ls"):
        out = subprocess.run([*SEALPOD, "machine", verb], capture_output=True, text=True)
        shown = "list" if verb == "ls" else verb
        assert (out.returncode, out.stderr) == (125, f'Error: cannot run command "sealpod machine {shown}" as root\n')
    bad = subprocess.run([*SEALPOD, "machine", "init", "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 125 and bad.stderr.startswith("Error: unknown flag: --bogus")
    listed = subprocess.run([*SEALPOD, "machine", "--help"], capture_output=True, text=True).stdout
    assert all(f"  {verb} " in listed for verb in VERBS)


def test_a_user_has_no_machines(tmp_path: Path) -> None:
    """As a user: an empty list, info with no machine, init wanting qemu, every other verb no such VM."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to become another user")
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 65534, 65534)
    tmp_path.chmod(0o755)
    env = {**os.environ, "HOME": str(home)}

    def as_user(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *SEALPOD, "machine",
                               *args], capture_output=True, text=True, env=env, cwd=home)

    listed = as_user("list")
    if listed.returncode != 0 and "Permission denied" in listed.stderr:
        pytest.skip("the checkout is not readable by nobody")
    assert listed.stdout.split() == ["NAME", "VM", "TYPE", "CREATED", "LAST", "UP", "CPUS", "MEMORY", "DISK", "SIZE"]
    assert as_user("list", "--format", "json").stdout == "[]\n"
    assert as_user("info", "--format", "{{.Host.NumberOfMachines}} {{.Host.VMType}}").stdout == "0 qemu\n"
    if shutil.which("qemu-system-x86_64") is None:
        init = as_user("init")
        assert (init.returncode, init.stderr) == (
            125, 'Error: exec: "qemu-system-x86_64": executable file not found in $PATH\n')
    for verb in ("start", "stop", "inspect", "rm"):
        gone = as_user(verb, "vm1")
        assert (gone.returncode, gone.stderr) == (125, "Error: vm1: VM does not exist\n")
    assert as_user("start").stderr == "Error: podman-machine-default: VM does not exist\n"
