"""The remote client (`--url`, `--remote`, `--connection`, CONTAINER_HOST) against a real
`sealpod system service`, and `system connection` editing containers.conf."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.sealpod import SealpodRunner, describe


def client(api: ApiService, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
           url: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`sealpod --url SOCKET ARGS` with no storage flags: the service decides those."""
    argv = [sys.executable, "-m", "sealpod", *(["--url", url or api.url] if url != "" else []), *args]
    raw = subprocess.run(argv, env=env or api.runner.env, input=input or b"", capture_output=True, timeout=timeout,
                         cwd=api.runner.base)
    return subprocess.CompletedProcess(argv, raw.returncode, raw.stdout.decode(errors="replace"),
                                       raw.stderr.decode(errors="replace"))


def ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, describe(res)
    return res.stdout


def test_run_output_and_exit_codes(api: ApiService) -> None:
    assert ok(client(api, "run", "--rm", "sealtest/tiny", "echo", "hi")) == "hi\n"
    failed = client(api, "run", "--rm", "sealtest/tiny", "sh", "-c", "echo oops >&2; exit 3")
    assert failed.returncode == 3 and failed.stderr == "oops\n", describe(failed)
    missing = client(api, "run", "--rm", "sealtest/no-such-image:1", "true")
    assert missing.returncode == 125 and "Error: " in missing.stderr, describe(missing)
    assert missing.stdout == ""


def test_detached_lifecycle_through_the_client(api: ApiService) -> None:
    cid = ok(client(api, "run", "-d", "--name", "remote1", "sealtest/tiny", "sh", "-c",
                    "echo out1; echo err1 >&2; sleep 60")).strip()
    assert len(cid) == 64
    ps = ok(client(api, "ps", "-a", "--format", "{{.Names}}|{{.Status}}", "--filter", "name=remote1"))
    assert ps.startswith("remote1|Up")
    deadline = time.monotonic() + 10
    while "out1" not in ok(client(api, "logs", "remote1")) and time.monotonic() < deadline:
        time.sleep(0.1)
    logs = client(api, "logs", "remote1")
    assert logs.stdout == "out1\n" and logs.stderr == "err1\n", describe(logs)
    rc = client(api, "exec", "remote1", "sh", "-c", "echo in-exec; exit 5")
    assert rc.returncode == 5 and rc.stdout == "in-exec\n", describe(rc)
    assert ok(client(api, "exec", "-i", "remote1", "cat", input=b"via-exec\n")) == "via-exec\n"
    fmt = "{{.State.Status}} {{.Name}}"
    assert ok(client(api, "inspect", "--format", fmt, "remote1")).strip() == "running remote1"
    ok(client(api, "rm", "-f", "-t", "0", "remote1"))
    assert ok(client(api, "ps", "-aq", "--filter", "name=remote1")) == ""
    # the service's store is the one the runner sees locally
    assert ok(api.runner.run("ps", "-aq", "--filter", "name=remote1")) == ""


def test_images_are_the_services(api: ApiService) -> None:
    out = ok(client(api, "images", "--format", "{{.Repository}}:{{.Tag}}"))
    assert any(line.endswith("sealtest/tiny:latest") for line in out.splitlines()), out


def test_stdin_is_forwarded(api: ApiService) -> None:
    assert ok(client(api, "run", "-i", "--rm", "sealtest/tiny", "cat", input=b"piped\n")) == "piped\n"
    big = b"x" * 3_000_000  # more than any pipe or socket buffer: no deadlock between the directions
    out = ok(client(api, "run", "-i", "--rm", "sealtest/tiny", "cat", input=big))
    assert len(out) == len(big)


def _run_on_pty(argv: list[str], env: dict[str, str], reply: tuple[bytes, bytes] | None = None,
                timeout: float = 60, resize: bool = False) -> tuple[int, bytes]:
    """Run ``argv`` on a new terminal; once ``reply[0]`` was printed, type ``reply[1]`` (after
    making the terminal 40x120 when ``resize``)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
                if reply and reply[0] in output:
                    if resize:  # the terminal is not the client's controlling one: signal it by hand
                        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
                        proc.send_signal(signal.SIGWINCH)
                        time.sleep(1)
                    os.write(master, reply[1])
                    reply = None
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=10), output
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_tty_mode(api: ApiService) -> None:
    argv = [sys.executable, "-m", "sealpod", "--url", api.url, "run", "-t", "--rm", "sealtest/tiny", "sh", "-c",
            "test -t 0 && test -t 1 && echo TTY-YES; stty size; exit 4"]
    code, out = _run_on_pty(argv, api.runner.env)
    assert code == 4, out
    assert b"TTY-YES" in out, out
    assert b"30 100" in out, out  # the client's terminal size reached the container's terminal


def test_tty_interactive_input(api: ApiService) -> None:
    argv = [sys.executable, "-m", "sealpod", "--url", api.url, "run", "-it", "--rm", "sealtest/tiny", "sh", "-c",
            "echo ready; read line; echo got-$line"]
    code, out = _run_on_pty(argv, api.runner.env, reply=(b"ready", b"hello\r"))
    assert code == 0 and b"got-hello" in out, out


def test_tty_resize_reaches_the_container(api: ApiService) -> None:
    argv = [sys.executable, "-m", "sealpod", "--url", api.url, "run", "-it", "--rm", "sealtest/tiny", "sh", "-c",
            "echo ready; read line; stty size"]
    code, out = _run_on_pty(argv, api.runner.env, reply=(b"ready", b"\r"), resize=True)
    assert code == 0 and b"40 120" in out, out


def test_container_host_remote_and_connection(api: ApiService) -> None:
    env = {**api.runner.env, "CONTAINER_HOST": api.url}
    assert "sealtest/tiny" in ok(client(api, "images", url="", env=env))
    ok(client(api, "system", "connection", "add", "svc", api.url, url=""))
    assert "sealtest/tiny" in ok(client(api, "--connection", "svc", "images", url=""))
    assert "sealtest/tiny" in ok(client(api, "--remote", "images", url=""))  # the first connection is the default
    assert "sealtest/tiny" in ok(client(api, "images", "--remote", url=""))  # a global flag after the command
    unknown = client(api, "--connection", "nope", "images", url="")
    assert unknown.returncode == 125 and '"nope"' in unknown.stderr
    ok(client(api, "system", "connection", "rm", "svc", url=""))


def test_connection_commands_edit_containers_conf(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    conf = runner.containers_conf
    conf.write_text("# mine\n[engine]\nevents_logger = \"file\"\n")

    def sp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sealpod", *args], env=runner.env, capture_output=True,
                              text=True, timeout=60)

    assert sp("system", "connection", "add", "one", "unix:///run/one.sock").returncode == 0
    assert sp("system", "connection", "add", "two", "tcp://127.0.0.1:8080").returncode == 0
    assert sp("system", "connection", "add", "-d", "three", "ssh://me@host:2222/run/x.sock").returncode == 0
    doc = tomllib.loads(conf.read_text())
    assert conf.read_text().startswith("# mine\n") and doc["engine"]["events_logger"] == "file"
    assert doc["engine"]["active_service"] == "three"
    assert doc["engine"]["service_destinations"]["two"] == {"uri": "tcp://127.0.0.1:8080"}
    assert sp("system", "connection", "ls", "-q").stdout == "one\nthree\ntwo\n"
    table = sp("system", "connection", "ls").stdout.splitlines()
    assert table[0].split() == ["Name", "URI", "Identity", "Default"]
    assert table[2].split() == ["three", "ssh://me@host:2222/run/x.sock", "true"]
    assert sp("system", "connection", "ls", "--format", "{{.Name}}={{.Default}}").stdout == \
        "one=false\nthree=true\ntwo=false\n"
    assert sp("system", "connection", "default", "one").returncode == 0
    assert sp("system", "connection", "rename", "one", "uno").returncode == 0
    doc = tomllib.loads(conf.read_text())
    assert doc["engine"]["active_service"] == "uno" and "one" not in doc["engine"]["service_destinations"]
    missing = sp("system", "connection", "default", "nope")
    assert missing.returncode == 125 and '"nope" destination is not defined' in missing.stderr
    assert sp("system", "connection", "add", "t", "tcp://h:1", "--identity", "/k").returncode == 125
    assert sp("system", "connection", "add", "bad", "http://x").returncode == 125
    assert sp("system", "connection", "rm", "uno").returncode == 0
    assert "active_service" not in tomllib.loads(conf.read_text())["engine"]
    assert sp("--url", "unix:///nowhere.sock", "system", "connection", "ls", "-q").stdout == "three\ntwo\n"
    assert sp("system", "connection", "rm", "--all").returncode == 0
    assert tomllib.loads(conf.read_text()) == {"engine": {"events_logger": "file"}}


def test_errors_before_reaching_a_service(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)

    def sp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sealpod", *args], env=runner.env, capture_output=True,
                              text=True, timeout=60)

    gone = sp("--url", f"unix://{tmp_path}/none.sock", "ps")
    assert gone.returncode == 125
    assert gone.stderr.startswith("Cannot connect to Podman. Please verify your connection")
    assert "\nError: unable to connect to sealpod socket: " in gone.stderr and "no such file" in gone.stderr
    assert "not a supported schema" in sp("--url", "http://x", "ps").stderr
    assert "lookup host.invalid: no such host" in sp("--url", "ssh://me@host.invalid/run/x.sock", "ps").stderr
    service = sp("--url", f"unix://{tmp_path}/none.sock", "system", "service")
    assert service.returncode == 125 and "remote" in service.stderr
    root = sp("--url", f"unix://{tmp_path}/none.sock", "--root", "/x", "ps")
    assert root.returncode == 125 and "--root" in root.stderr
    refused = sp("--url", "tcp://127.0.0.1:9", "ps")
    assert refused.returncode == 125 and "connection refused" in refused.stderr


def test_storage_flags_after_the_command_are_refused(api: ApiService) -> None:
    res = client(api, "ps", "--root", "/tmp/elsewhere")
    assert res.returncode == 125 and "--root flag cannot be used with a remote connection" in res.stderr


def test_service_survives_a_client_that_goes_away(api: ApiService) -> None:
    argv = [sys.executable, "-m", "sealpod", "--url", api.url, "run", "--rm", "--name", "goner", "sealtest/tiny",
            "sh", "-c", "echo started; sleep 30"]
    proc = subprocess.Popen(argv, env=api.runner.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"started\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert ok(client(api, "run", "--rm", "sealtest/tiny", "echo", "still-here")) == "still-here\n"
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(api.socket_path))
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    s.close()
    ok(client(api, "rm", "-f", "-t", "0", "goner"))


def test_interrupt_reaches_the_remote_command(api: ApiService) -> None:
    argv = [sys.executable, "-m", "sealpod", "--url", api.url, "logs", "-f", "ticker"]
    ok(client(api, "run", "-d", "--name", "ticker", "sealtest/tiny", "sh", "-c", "echo tick; sleep 60"))
    proc = subprocess.Popen(argv, env=api.runner.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"tick\n"
        proc.send_signal(signal.SIGINT)  # forwarded: the command ends, and says how
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ok(client(api, "rm", "-f", "-t", "0", "ticker"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tcp_service(api: ApiService) -> Iterator[str]:
    port = _free_port()
    log = open(api.runner.base / "tcp.log", "wb")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(api.runner.argv("system", "service", "--time", "0", f"tcp://127.0.0.1:{port}"),
                            env=api.runner.env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"tcp://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_tcp_save_and_load_stream_files_through_the_client(api: ApiService, tcp_service: str,
                                                           tmp_path: Path) -> None:
    archive = tmp_path / "tiny.tar"
    ok(client(api, "save", "-o", str(archive), "sealtest/tiny", url=tcp_service))
    assert archive.stat().st_size > 1024
    ok(client(api, "tag", "sealtest/tiny", "sealtest/tiny:remote-copy", url=tcp_service))
    ok(client(api, "rmi", "sealtest/tiny:remote-copy", url=tcp_service))
    out = ok(client(api, "load", "-i", str(archive), url=tcp_service))
    assert "sealtest/tiny" in out
    assert ok(client(api, "run", "--rm", "sealtest/tiny", "echo", "over-tcp", url=tcp_service)) == "over-tcp\n"
