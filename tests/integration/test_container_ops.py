"""exec, attach, top, port, rename, init, mount, prune, clone, update: real conmon, runc and overlay."""

from __future__ import annotations

import json
import os
import pty
import select
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
    """One store holding the tiny image and one long-running container, ``main``."""
    with store_with_image(tmp_path_factory.mktemp("ops"), seeded_registry.host) as runner:
        runner.run("run", "-d", "--name", "main", IMAGE, "sleep", "1000")
        yield runner


def _inspect(ctr: SealpodRunner, name: str) -> dict[str, object]:
    return json.loads(ctr.run("container", "inspect", name).stdout)[0]  # type: ignore[no-any-return]


def _state(ctr: SealpodRunner, name: str) -> str:
    return str(_inspect(ctr, name)["State"]["Status"])  # type: ignore[index]


def _in_pty(argv: list[str], env: dict[str, str], script: list[tuple[float, bytes]],
            timeout: float = 20) -> tuple[int, bytes]:
    """Run ``argv`` on a new pseudo-terminal, typing each chunk after its delay; (exit code, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.execve(argv[0], argv, env)
    out = bytearray()

    def pump(seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return False
                if not data:
                    return False
                out.extend(data)
        return True

    for delay, keys in script:
        pump(delay)
        os.write(fd, keys)
    deadline = time.monotonic() + timeout
    done, status = 0, 0
    while time.monotonic() < deadline:
        open_ = pump(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if not open_:
            time.sleep(0.05)
    if not done:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError(f"{argv} did not finish; output: {bytes(out)!r}")
    os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(out)


# --- exec --------------------------------------------------------------------------------------

def test_exec_output_and_exit_codes(ctr: SealpodRunner) -> None:
    out = ctr.run("exec", "main", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (out.returncode, out.stdout, out.stderr) == (3, "out\n", "err\n")
    assert ctr.run("exec", "main", "true").returncode == 0

    missing = ctr.run("exec", "main", "nosuchcmd", check=False)
    assert missing.returncode == 127
    assert missing.stderr.startswith("Error: ") and missing.stderr.count("\n") == 1
    assert '"nosuchcmd": executable file not found' in missing.stderr

    denied = ctr.run("exec", "main", "/etc/passwd", check=False)
    assert denied.returncode == 126
    assert "permission denied" in denied.stderr

    ctr.run("create", "--name", "idle", IMAGE, "true")
    idle = ctr.run("exec", "idle", "true", check=False)
    assert idle.returncode == 125
    assert idle.stderr == ("Error: can only create exec sessions on running containers: "
                           "container state improper\n")
    assert ctr.run("exec", "nosuch", "true", check=False).returncode == 125


def test_exec_env_user_workdir(ctr: SealpodRunner) -> None:
    out = ctr.run("exec", "-e", "FOO=bar", "-u", "nobody", "-w", "/tmp", "main",
                  "sh", "-c", 'echo "$FOO $(id -u) $(pwd) $HOME"; echo "$PATH"').stdout.splitlines()
    assert out[0] == "bar 65534 /tmp /home"
    assert out[1].startswith("/usr/local/sbin")  # the container's environment is kept
    assert ctr.run("exec", "-u", "1234:55", "main", "id").stdout.startswith("uid=1234 gid=55")


def test_exec_interactive_reads_piped_stdin(ctr: SealpodRunner) -> None:
    assert ctr.run("exec", "-i", "main", "cat", input="hi\nthere\n").stdout == "hi\nthere\n"
    assert ctr.run("exec", "main", "cat", input="ignored\n").stdout == ""  # no -i: stdin not attached


def test_exec_tty_in_a_pty(ctr: SealpodRunner) -> None:
    code, out = _in_pty(ctr.argv("exec", "-it", "main", "sh", "-c", "tty; exit 4"), ctr.env, [])
    assert code == 4
    assert b"/dev/pts/" in out


def test_exec_detached_process_shows_in_top(ctr: SealpodRunner) -> None:
    exec_id = ctr.run("exec", "-d", "main", "sleep", "777").stdout.strip()
    assert len(exec_id) == 64
    rows = ctr.run("top", "main").stdout.splitlines()
    assert rows[0].split() == ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]
    commands = [r.split(None, 7)[-1].strip() for r in rows[1:]]
    assert "sleep 1000" in commands and "sleep 777" in commands
    assert rows[1].split()[:3] == ["root", "1", "0"]  # PIDs as the container sees them

    table = ctr.run("top", "main", "pid,comm", "hpid").stdout.splitlines()
    assert table[0].split() == ["PID", "COMMAND", "HPID"]
    host_pid = _inspect(ctr, "main")["State"]["Pid"]  # type: ignore[index]
    assert ["1", "sleep", str(host_pid)] in [r.split() for r in table[1:]]

    ps = ctr.run("top", "main", "-o", "pid,args").stdout  # not a descriptor: the container's own ps
    assert "sleep 777" in ps
    ctr.run("create", "--name", "idle-top", IMAGE, "true")
    stopped = ctr.run("top", "idle-top", check=False)
    assert (stopped.returncode, stopped.stderr) == (125, "Error: top can only be used on running containers\n")


# --- attach ------------------------------------------------------------------------------------

def test_attach_streams_output_and_returns_exit_code(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "talker", IMAGE, "sh", "-c",
            "while [ ! -e /tmp/go ]; do echo tick; sleep 0.1; done; echo done; exit 7")
    proc = subprocess.Popen(ctr.argv("attach", "talker"), env=ctr.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"tick\n"  # attached and receiving
        ctr.run("exec", "talker", "touch", "/tmp/go")
        rest, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7, err
    assert rest.endswith(b"done\n")
    assert _state(ctr, "talker") == "exited"
    gone = ctr.run("attach", "talker", check=False)
    assert (gone.returncode, gone.stderr) == (125, "Error: you can only attach to running containers\n")


def test_attach_detach_keys_on_a_tty(ctr: SealpodRunner) -> None:
    ctr.run("run", "-dit", "--name", "shell", IMAGE, "sh")
    code, out = _in_pty(ctr.argv("attach", "shell"), ctr.env,
                        [(1.0, b"echo mark$((40+2))\r"), (1.0, b"\x10\x11")])
    assert code == 0
    assert b"mark42" in out
    assert _state(ctr, "shell") == "running"
    code, _ = _in_pty(ctr.argv("attach", "--detach-keys", "ctrl-x", "shell"), ctr.env, [(1.0, b"\x18")])
    assert code == 0
    assert _state(ctr, "shell") == "running"


# --- rename / init / port ----------------------------------------------------------------------

def test_rename_then_lookup_by_new_name(ctr: SealpodRunner) -> None:
    cid = ctr.run("create", "--name", "before", IMAGE, "true").stdout.strip()
    ctr.run("rename", "before", "after")
    assert _inspect(ctr, "after")["Id"] == cid
    assert ctr.run("container", "exists", "before", check=False).returncode == 1
    taken = ctr.run("rename", "after", "main", check=False)
    assert taken.returncode == 125 and "already in use" in taken.stderr
    bad = ctr.run("rename", "after", "no/slash", check=False)
    assert bad.stderr == "Error: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument\n"


def test_init_then_start(ctr: SealpodRunner) -> None:
    ctr.run("create", "--name", "early", IMAGE, "sleep", "100")
    assert ctr.run("init", "early").stdout == "early\n"
    assert _state(ctr, "early") == "initialized"  # Podman 4.3.1: State.Status of an init-ed container
    cid = str(_inspect(ctr, "early")["Id"])
    runc = subprocess.run(["runc", "--root", str(ctr.runroot / "runc"), "state", cid], capture_output=True,
                          check=True)
    assert json.loads(runc.stdout)["status"] == "created"  # the runtime holds it, waiting for start
    again = ctr.run("init", "early", check=False)
    assert again.returncode == 125 and "has already been created in runtime" in again.stderr
    ctr.run("start", "early")
    assert _state(ctr, "early") == "running"
    ctr.run("rm", "-f", "-t", "0", "early")


def test_port_without_ports(ctr: SealpodRunner) -> None:
    assert ctr.run("port", "main").stdout == ""
    assert ctr.run("port", "--all").stdout == ""
    assert ctr.run("port", "nosuch", check=False).returncode == 125


# --- mount / unmount ---------------------------------------------------------------------------

def test_mount_write_unmount(ctr: SealpodRunner) -> None:
    cid = ctr.run("create", "--name", "mnt", IMAGE, "cat", "/hello").stdout.strip()
    path = Path(ctr.run("mount", "mnt").stdout.strip())
    assert path.is_dir() and (path / "bin").exists()
    (path / "hello").write_text("from the host\n")
    assert f"{cid[:12]}  {path}\n" in ctr.run("mount").stdout
    assert ctr.run("umount", "mnt").stdout == "mnt\n"
    assert cid[:12] not in ctr.run("mount").stdout
    assert not os.path.ismount(path)
    assert ctr.run("start", "-a", "mnt").stdout == "from the host\n"  # the write landed in the container
    ctr.run("mount", "mnt")
    assert cid in ctr.run("unmount", "--all").stdout.split()
    assert not os.path.ismount(path)


# --- prune / clone / update --------------------------------------------------------------------

def test_prune_removes_only_stopped(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "p-run", "--label", "prune=yes", IMAGE, "sleep", "100")
    done = ctr.run("run", "--name", "p-done", "--label", "prune=yes", IMAGE, "true")
    assert done.returncode == 0
    new = ctr.run("create", "--name", "p-new", "--label", "prune=yes", IMAGE, "true").stdout.strip()
    ctr.run("run", "--name", "p-other", IMAGE, "true")
    removed = ctr.run("container", "prune", "-f", "--filter", "label=prune=yes").stdout.split()
    assert new in removed and len(removed) == 2
    names = ctr.run("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "p-run" in names and "p-other" in names
    assert "p-done" not in names and "p-new" not in names
    bad = ctr.run("container", "prune", "-f", "--filter", "bogus=1", check=False)
    assert (bad.returncode, bad.stderr) == (125, "Error: bogus is an invalid filter\n")
    ctr.run("rm", "-f", "-t", "0", "p-run", "p-other")


def test_clone_copies_config(ctr: SealpodRunner) -> None:
    ctr.run("create", "--name", "orig", "-e", "K=v", "--label", "who=orig", IMAGE, "sleep", "55")
    cid = ctr.run("container", "clone", "orig").stdout.strip()
    copy = _inspect(ctr, "orig-clone")
    assert copy["Id"] == cid
    assert copy["Config"]["Cmd"] == ["sleep", "55"]  # type: ignore[index]
    assert "K=v" in copy["Config"]["Env"]  # type: ignore[index]
    assert copy["Config"]["Labels"]["who"] == "orig"  # type: ignore[index]
    ctr.run("container", "clone", "--destroy", "--run", "--pids-limit", "33", "orig-clone", "copy2")
    assert ctr.run("container", "exists", "orig-clone", check=False).returncode == 1
    assert _state(ctr, "copy2") == "running"
    assert _inspect(ctr, "copy2")["HostConfig"]["PidsLimit"] == 33  # type: ignore[index]
    ctr.run("rm", "-f", "-t", "0", "orig", "copy2")


def test_update_pids_limit_reaches_the_cgroup(ctr: SealpodRunner) -> None:
    cid = str(_inspect(ctr, "main")["Id"])
    assert ctr.run("update", "--pids-limit", "42", "main").stdout == cid + "\n"
    pid = _inspect(ctr, "main")["State"]["Pid"]  # type: ignore[index]
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    v1 = [ln for ln in lines if ":pids:" in ln]
    base, line = (Path("/sys/fs/cgroup/pids"), v1[0]) if v1 else (Path("/sys/fs/cgroup"), lines[0])
    pids_max = base / line.split(":", 2)[2].lstrip("/") / "pids.max"
    assert pids_max.read_text().strip() == "42"
    assert _inspect(ctr, "main")["HostConfig"]["PidsLimit"] == 42  # type: ignore[index]
