"""podman-compose drives sealpod's CLI (as it drives podman's) through a multi-service project."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

from tests.rig.http import http_get
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

COMPOSE = """
services:
  web:
    image: {image}
    command: ["sh", "-c", "mkdir -p /www && echo compose-ok > /www/index.html && exec busybox httpd -f -p 80 -h /www"]
    ports: ["{port}:80"]
    volumes: ["data:/data"]
    environment:
      GREETING: hello
  client:
    image: {image}
    command: ["sh", "-c", "sleep 1000"]
    depends_on: [web]
volumes:
  data: {{}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_podman_compose_up_exec_logs_down(tmp_path: Path, seeded_registry: RegistryServer) -> None:
    require_root()
    runner = SealpodRunner(tmp_path / "store", search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    image = f"{seeded_registry.host}/sealtest/tiny:latest"
    runner.run("pull", "-q", image)
    wrapper = tmp_path / "sealpod"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(runner.argv())} \"$@\"\n")
    wrapper.chmod(0o755)
    port = _free_port()
    project = tmp_path / f"proj{os.getpid()}"
    project.mkdir()
    (project / "compose.yml").write_text(COMPOSE.format(image=image, port=port))
    compose = [sys.executable, "-m", "podman_compose", "--in-pod", "false", "--podman-path", str(wrapper)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*compose, *args], cwd=project, env=runner.env, capture_output=True, text=True,
                              timeout=120)

    try:
        up = run("up", "-d")
        assert up.returncode == 0, up.stderr
        names = runner.run("ps", "--format", "{{.Names}}").stdout.split()
        assert sorted(names) == [f"{project.name}_client_1", f"{project.name}_web_1"]
        assert b"compose-ok" in http_get(port, expect=b"compose-ok")
        out = run("exec", "client", "sh", "-c", "busybox wget -q -O- http://web/")
        assert out.stdout.strip() == "compose-ok", out.stderr
        assert run("exec", "web", "sh", "-c", "echo $GREETING").stdout.strip() == "hello"
    finally:
        down = run("down", "-v")
    assert down.returncode == 0, down.stderr
    assert runner.run("ps", "-aq").stdout == ""
    assert f"{project.name}_data" not in runner.run("volume", "ls", "-q").stdout
