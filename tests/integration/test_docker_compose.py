"""docker-compose 1.x (PyPI, its own venv made by scripts/setup.sh) against the Docker API socket:
a project with a network, a named volume, a published port, depends_on and environment."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.rig.api import ApiService
from tests.rig.http import http_get
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import skip_or_fail

COMPOSE_BIN = Path(__file__).resolve().parents[2] / ".venv-compose1" / "bin" / "docker-compose"

PROJECT = """
version: "3.7"
services:
  web:
    image: {image}
    command: ["sh", "-c", "{web}"]
    ports: ["{port}:80"]
    volumes: ["data:/data"]
    networks: [back]
    environment:
      GREETING: hello
  client:
    image: {image}
    command: ["sh", "-c", "echo client-started; sleep 1000"]
    depends_on: [web]
    networks: [back]
volumes:
  data: {{}}
networks:
  back: {{}}
"""


WEB = "mkdir -p /www && echo compose-ok > /www/index.html && echo web-started && exec busybox httpd -f -p 80 -h /www"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_docker_compose_v1_up_ps_logs_exec_down(api: ApiService, seeded_registry: RegistryServer,
                                                 tmp_path: Path) -> None:
    if not COMPOSE_BIN.exists():
        skip_or_fail(f"{COMPOSE_BIN} is missing: run scripts/setup.sh")
    project = tmp_path / f"dc{os.getpid()}"
    project.mkdir()
    port = _free_port()
    image = f"{seeded_registry.host}/sealtest/tiny:latest"
    (project / "docker-compose.yml").write_text(PROJECT.format(image=image, port=port, web=WEB))
    env = {**api.runner.env, "DOCKER_HOST": api.url, "COMPOSE_INTERACTIVE_NO_CLI": "1"}

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(COMPOSE_BIN), "--no-ansi", *args], cwd=project, env=env, capture_output=True,
                              text=True, timeout=120)

    name = project.name
    try:
        up = compose("up", "-d")
        assert up.returncode == 0, f"{up.stderr}\n--- service log ---\n{api.log_tail()}"
        ps = compose("ps")
        assert ps.returncode == 0
        rows = [line for line in ps.stdout.splitlines() if line.startswith(f"{name}_")]  # long cells wrap
        assert {line.split()[0] for line in rows} == {f"{name}_web_1", f"{name}_client_1"}
        assert all(" Up " in line for line in rows), ps.stdout
        assert b"compose-ok" in http_get(port, expect=b"compose-ok")
        greeting = compose("exec", "-T", "web", "sh", "-c", "echo $GREETING")
        assert greeting.stdout.strip() == "hello", greeting.stderr
        fetched = compose("exec", "-T", "client", "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web 80")
        assert "compose-ok" in fetched.stdout, fetched.stderr  # by service name, on the project network
        logs = compose("logs", "--no-color")
        assert "web-started" in logs.stdout and "client-started" in logs.stdout
        volumes = api.runner.run("volume", "ls", "-q").stdout.split()
        assert f"{name}_data" in volumes
    finally:
        down = compose("down", "-v")
    assert down.returncode == 0, down.stderr
    assert api.runner.run("ps", "-a", "--filter", f"label=com.docker.compose.project={name}", "-q").stdout == ""
    assert f"{name}_data" not in api.runner.run("volume", "ls", "-q").stdout
    assert f"{name}_back" not in api.runner.run("network", "ls", "--format", "{{.Name}}").stdout
