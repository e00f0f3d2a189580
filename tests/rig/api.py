"""A real `sealpod system service` for API tests, on a unix socket in the test's tmp dir."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.rig.sealpod import SealpodRunner


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(60)
        self.sock.connect(str(self.path))


@dataclass
class ApiService:
    runner: SealpodRunner
    socket_path: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        """For the Docker CLI (DOCKER_HOST), docker-py and podman-py (base_url)."""
        return f"unix://{self.socket_path}"

    def docker_env(self) -> dict[str, str]:
        """Environment for the real `docker` CLI pointed at this service."""
        return {**self.runner.env, "DOCKER_HOST": self.url, "DOCKER_CONFIG": str(self.runner.home / ".docker")}

    def docker(self, *args: str, check: bool = True, input: str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(["docker", *args], env=self.docker_env(), capture_output=True, text=True,
                                  input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # the service dumps its threads' stacks into its log
            time.sleep(0.5)
            raise AssertionError(f"docker {' '.join(args)} timed out\n--- service log ---\n"
                                 f"{self.log_tail(200)}") from None
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                                 f"\n--- service log ---\n{self.log_tail()}")
        return proc

    def request(self, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """One raw HTTP request on a fresh connection to the socket: (status, body)."""
        conn = _UnixConnection(self.socket_path)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_service(runner: SealpodRunner, *, idle: float = 0) -> ApiService:
    """Start the service for ``runner``'s store and wait until it answers /_ping."""
    sock = runner.base / "api.sock"
    log_path = runner.base / "api.log"
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(runner.argv("--log-level", "debug", "system", "service", "--time", str(idle),
                                        f"unix://{sock}"), env=runner.env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the API service exited ({proc.returncode}): {log_path.read_text()}")
        if os.path.exists(sock):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(sock))
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    return ApiService(runner, sock, proc, log_path)
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the API service did not answer in time: {log_path.read_text()}")
