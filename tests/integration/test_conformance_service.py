"""Conformance with Podman's system tests for the API service and configuration.

Each test names the Podman BATS case (test/system/251-system-service.bats, 270-socket-activation,
271-tcp-cors-server, 272-system-connection, 800-config) whose assertions it pins.  Services are
real `sealpod system service` processes; systemd's socket activation is simulated by handing the
service an already listening socket as fd 3 with LISTEN_FDS/LISTEN_PID, as systemd does.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, describe, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path, seeded_registry.host) as runner:
        yield runner


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited ({proc.returncode}): {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the service did not listen in time: {log.read_text()}")


def _start(runner: SealpodRunner, *args: str, log_name: str = "service.log") -> tuple[subprocess.Popen[bytes], Path]:
    log = runner.base / log_name
    with open(log, "wb") as out:
        proc = subprocess.Popen(runner.argv(*args), env=runner.env, stdout=out, stderr=out)
    return proc, log


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _raw_get(connect: socket.socket, path: str = "/_ping") -> bytes:
    with connect as s:
        s.settimeout(10)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def _client(runner: SealpodRunner, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """sealpod without --root/--runroot: a remote client decides nothing about storage."""
    return subprocess.run([sys.executable, "-m", "sealpod", *args], env=env or runner.env, capture_output=True,
                          text=True, timeout=120, cwd=runner.base)


# --- 251-system-service.bats ---------------------------------------------------------------------

def test_system_service_bad_scheme_uri_returns_error(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    res = runner.run("system", "service", "localhost:9292", check=False)
    assert res.returncode == 125, describe(res)
    assert res.stderr == ('Error: API Service endpoint scheme "localhost" is not supported. '
                          "Try tcp://localhost:9292 or unix:/localhost:9292\n")
    res = runner.run("system", "service", "myunix.sock", check=False)
    assert res.returncode == 125, describe(res)
    assert res.stderr == ('Error: API Service endpoint scheme "" is not supported. '
                          "Try tcp://myunix.sock or unix:/myunix.sock\n")


def test_system_service_containers_survive_service_stop(sp: SealpodRunner) -> None:
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc, log = _start(sp, "system", "service", url, "--time=0")
    try:
        _wait_port(port, proc, log)
        res = _client(sp, "--url", url, "run", "-d", "--name", "keeps-running", IMAGE, "top", "-d", "2")
        assert res.returncode == 0, describe(res)
        assert sp.run("container", "inspect", "-l", "--format", "{{.State.Running}}").stdout == "true\n"
    finally:
        _stop(proc)
    assert sp.run("container", "inspect", "keeps-running", "--format", "{{.State.Running}}").stdout == "true\n"
    sp.run("rm", "-f", "-t", "0", "keeps-running")


def test_host_and_H_options(sp: SealpodRunner) -> None:  # noqa: N802 - the BATS case's name
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc, log = _start(sp, "system", "service", url, "--time=0")
    try:
        _wait_port(port, proc, log)
        for opt in ("--host", "-H"):
            res = _client(sp, opt, url, "info", "--format", "{{.Host.RemoteSocket.Path}}")
            assert res.returncode == 0, describe(res)
            assert res.stdout == f"{url}\n"
    finally:
        _stop(proc)


# --- 270-socket-activation.bats ------------------------------------------------------------------

def _activated(runner: SealpodRunner, sock_path: Path) -> subprocess.Popen[bytes]:
    """`system service -t 2` started as systemd would on a connection to its .socket unit."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_path))
    listener.listen(16)
    fd = listener.fileno()
    argv = runner.argv("--log-level=info", "system", "service", "-t", "2")
    script = 'LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=sealpod.socket exec "$@"'
    log = open(runner.base / "activated.log", "wb")  # noqa: SIM115 - handed to the process
    try:
        return subprocess.Popen(["sh", "-c", script, "sh", *argv], env=runner.env, stdout=log, stderr=log,
                                pass_fds=(3,), preexec_fn=lambda: os.dup2(fd, 3))  # noqa: PLW1509
    finally:
        log.close()
        listener.close()  # the service holds its own copy, as with systemd


def _ping_unix(path: Path) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    return _raw_get(s, "/libpod/_ping")


def test_socket_activation_no_container(sp: SealpodRunner) -> None:
    sock_path = sp.base / "activated.sock"
    proc = _activated(sp, sock_path)
    try:
        reply = _ping_unix(sock_path)
        assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"\r\n\r\nOK"), reply
        assert proc.wait(timeout=20) == 0  # idle for 2 s: done, and the socket is systemd's to keep
        assert sock_path.exists()
    finally:
        _stop(proc)


def test_socket_activation_existing_container(sp: SealpodRunner) -> None:
    cid = sp.run("run", "-d", IMAGE, "sleep", "90").stdout.strip()
    sock_path = sp.base / "activated.sock"
    proc = _activated(sp, sock_path)
    try:
        reply = _ping_unix(sock_path)
        assert reply.endswith(b"\r\n\r\nOK"), reply
        # what the service starts does not inherit the activation environment
        res = _client(sp, "--url", f"unix://{sock_path}", "run", "--rm", IMAGE, "echo", "through-activated")
        assert res.stdout == "through-activated\n", describe(res)
    finally:
        _stop(proc)
    sp.run("rm", "-f", "-t", "0", cid)


# --- 271-tcp-cors-server.bats --------------------------------------------------------------------

def test_system_service_tcp_cors(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    port = _free_port()
    proc, log = _start(runner, "system", "service", "--cors=*", f"tcp:localhost:{port}", "-t", "20")
    try:
        _wait_port(port, proc, log)
        reply = _raw_get(socket.create_connection(("localhost", port)))
        head = reply.split(b"\r\n\r\n")[0].decode()
        assert re.search(r"^Access-Control-Allow-Origin: \*\r?$", head, re.M), head
        assert "Access-Control-Allow-Methods: " in head and "Access-Control-Allow-Headers: " in head
    finally:
        _stop(proc)
    assert "Using the Podman API service with TCP sockets" in log.read_text()


def test_system_service_tcp_without_cors(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    port = _free_port()
    proc, log = _start(runner, "system", "service", f"tcp:localhost:{port}", "-t", "20")
    try:
        _wait_port(port, proc, log)
        reply = _raw_get(socket.create_connection(("localhost", port)))
        assert reply.endswith(b"OK") and b"Access-Control-Allow-Origin" not in reply, reply
    finally:
        _stop(proc)


def test_system_service_cors_enabled_in_logs(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    sock = tmp_path / "cors.sock"
    res = runner.run("system", "service", "--log-level=debug", "--cors=*", "-t", "1", f"unix://{sock}")
    assert re.search(r'CORS Headers were set to ..\*..', res.stdout + res.stderr), describe(res)


# --- 272-system-connection.bats (remote-only there: here the same binary is the client) ----------

def test_system_connection_basic_add_ls_remove(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)

    def ok(*args: str) -> str:
        res = _client(runner, *args)
        assert res.returncode == 0, describe(res)
        return res.stdout

    assert ok("system", "connection", "ls") == "Name        URI         Identity    Default\n"
    ok("system", "connection", "add", "c1", "tcp://localhost:12345")
    ok("context", "create", "--docker", "host=tcp://localhost:54321", "c2")
    rows = ok("system", "connection", "ls").splitlines()[1:]
    assert [r.split() for r in rows] == [["c1", "tcp://localhost:12345", "true"],
                                         ["c2", "tcp://localhost:54321", "false"]]
    assert sorted(ok("system", "connection", "ls", "-q").split()) == ["c1", "c2"]
    assert sorted(ok("context", "ls", "-q").split()) == ["c1", "c2"]
    ok("context", "use", "c2")
    rows = ok("system", "connection", "ls").splitlines()[1:]
    assert [r.split()[-1] for r in rows] == ["false", "true"]
    ok("system", "connection", "rm", "c2")  # the remaining one does not become the default
    assert [r.split() for r in ok("context", "ls").splitlines()[1:]] == [["c1", "tcp://localhost:12345", "false"]]
    ok("context", "rm", "c1")
    assert ok("context", "list", "-q") == ""
    bad = _client(runner, "context", "create", "--docker", "host=tcp://localhost:1,ca=x", "c3")
    assert bad.returncode == 125 and bad.stderr == 'Error: --docker additional options "ca=x" not supported\n'


def test_system_connection_tcp(tmp_path: Path) -> None:
    runner = SealpodRunner(tmp_path)
    port = _free_port()
    assert _client(runner, "system", "connection", "add", "myconnect", f"tcp://localhost:{port}").returncode == 0
    res = _client(runner, "--remote", "info")
    assert res.returncode == 125
    assert re.match(r"Cannot connect to Podman. Please verify.*dial tcp.*connection refused", res.stderr, re.S), \
        describe(res)
    service_root = tmp_path / "service-root"
    argv = [sys.executable, "-m", "sealpod", "--root", str(service_root), "--runroot", str(tmp_path / "service-rr"),
            "system", "service", "-t", "99", f"tcp://localhost:{port}"]
    log = tmp_path / "tcp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=runner.env, stdout=out, stderr=out)
    try:
        _wait_port(port, proc, log)
        res = _client(runner, "--remote", "info", "--format", "{{.Host.RemoteSocket.Path}}")
        assert res.stdout == f"tcp://localhost:{port}\n", describe(res)
        res = _client(runner, "--remote", "info", "--format", "{{.Store.GraphRoot}}")
        assert res.stdout == f"{service_root}\n", describe(res)
        add = _client(runner, "system", "connection", "add", "fakeconnect", f"tcp://localhost:{port + 1}")
        assert add.returncode == 0, describe(add)
        res = _client(runner, "--remote", "info", "--format", "{{.Store.GraphRoot}}")  # still the default one
        assert res.stdout == f"{service_root}\n", describe(res)
    finally:
        _stop(proc)
    for name in ("fakeconnect", "myconnect"):
        assert _client(runner, "system", "connection", "rm", name).returncode == 0


# --- 800-config.bats -------------------------------------------------------------------------------

def _conmon_env(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")


def test_containers_conf_in_conmon(sp: SealpodRunner) -> None:
    runtime = sp.run("info", "--format", "{{ .Host.OCIRuntime.Name }}").stdout.strip()
    ocipath = sp.run("info", "--format", "{{ .Host.OCIRuntime.Path }}").stdout.strip()
    assert runtime and ocipath.startswith("/")
    conf = sp.base / "nonstandard.conf"
    conf.write_text(f'[engine]\nruntime="{runtime}"\n[engine.runtimes]\n{runtime} = ["{ocipath}"]\n')
    sp.env["CONTAINERS_CONF"] = str(conf)
    cid = sp.run("run", "-d", IMAGE, "sleep", "infinity").stdout.strip()
    conmon = int(sp.run("inspect", cid, "--format", "{{ .State.ConmonPid }}").stdout)
    assert f"CONTAINERS_CONF={conf}" in _conmon_env(conmon)
    sp.run("rm", "-f", "-t", "0", cid)


def test_containers_conf_override_runtime_name(sp: SealpodRunner) -> None:
    ocipath = sp.run("info", "--format", "{{ .Host.OCIRuntime.Path }}").stdout.strip()
    conf = sp.base / "nonstandard_runtime_name.conf"
    conf.write_text('[engine]\nruntime = "nonstandard_runtime_name"\n'
                    f'[engine.runtimes]\nnonstandard_runtime_name = ["{ocipath}"]\n')
    sp.env["CONTAINERS_CONF"] = str(conf)
    cid = sp.run("run", "-d", "--rm", IMAGE, "true").stdout.strip()
    wait = sp.run("wait", "--condition=removing", cid, check=False)
    if wait.returncode != 0:
        assert re.match(r"Error:.*no such container", wait.stderr), describe(wait)
    deadline = time.monotonic() + 10  # --rm: the cleanup conmon runs removes it
    while sp.run("container", "exists", cid, check=False).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    res = sp.run("rm", cid, check=False)
    assert res.returncode == 1 and re.match(r"Error:.*no such container", res.stderr), describe(res)


# --- pure logic behind the cases above ------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ("unix:///run/x.sock", "unix:///run/x.sock"), ("unix:/run/x.sock", "unix:///run/x.sock"),
    ("tcp://localhost:8080", "tcp://localhost:8080"), ("tcp:localhost:8080", "tcp://localhost:8080"),
])
def test_service_uri_forms_podman_accepts(given: str, expected: str) -> None:
    from sealpod.cli.system import service_uri

    assert service_uri(given) == expected


def test_log_lines_are_logrus_shaped() -> None:
    import logging

    from sealpod.cli.logfmt import LogrusFormatter

    record = logging.LogRecord("sealpod", logging.DEBUG, __file__, 1, 'CORS Headers were set to "%s"', ("*",), None)
    piped = LogrusFormatter(tty=False).format(record)
    assert re.fullmatch(r'time="[0-9T:-]+(Z|[+-]\d\d:\d\d)" level=debug msg="CORS Headers were set to \\"\*\\""',
                        piped), piped
    # a terminal gets logrus's colours, the seconds since the start, the message padded to 44 columns
    assert re.fullmatch(r'\x1b\[37mDEBU\x1b\[0m\[\d{4}\] CORS Headers were set to "\*" {17}',
                        LogrusFormatter(tty=True).format(record))
