"""The real Docker CLI against `sealpod system service`: networks, published ports, export/import,
a terminal session and port listings — the parts of a daily Docker workflow other files leave out."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import time
from pathlib import Path

from tests.rig.api import ApiService
from tests.rig.http import http_get

IMAGE = "sealtest/tiny"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_commands_and_name_resolution(api: ApiService) -> None:
    net = f"dcli{os.getpid()}"
    subnet = f"10.124.{os.getpid() % 200 + 20}.0/24"
    api.docker("network", "create", "--subnet", subnet, "--label", "via=docker", net)
    assert net in api.docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    doc = json.loads(api.docker("network", "inspect", net).stdout)[0]
    assert doc["Name"] == net and doc["IPAM"]["Config"][0]["Subnet"] == subnet and doc["Labels"] == {"via": "docker"}
    try:
        api.docker("run", "-d", "--name", "dcli-db", "--network", net, "--network-alias", "database", IMAGE,
                   "sleep", "600")
        api.docker("run", "-d", "--name", "dcli-app", IMAGE, "sleep", "600")
        api.docker("network", "connect", net, "dcli-app")
        nets = json.loads(api.docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", "dcli-app").stdout)
        assert net in nets and nets[net]["IPAddress"].startswith(subnet.rsplit(".", 1)[0])
        looked_up = api.docker("exec", "dcli-app", "nslookup", "database").stdout
        assert subnet.rsplit(".", 1)[0] in looked_up
        api.docker("network", "disconnect", net, "dcli-app")
        nets = json.loads(api.docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", "dcli-app").stdout)
        assert net not in nets
        busy = api.docker("network", "rm", net, check=False)
        assert busy.returncode != 0
    finally:
        api.docker("rm", "-f", "dcli-db", "dcli-app", check=False)
    api.docker("network", "rm", net)
    assert net not in api.docker("network", "ls", "--format", "{{.Name}}").stdout.split()


def test_published_port_and_docker_port(api: ApiService) -> None:
    port = _free_port()
    api.docker("run", "-d", "--name", "dcli-web", "-p", f"127.0.0.1:{port}:80", IMAGE, "sh", "-c",
               "mkdir -p /www && echo served-by-sealpod > /www/index.html && exec httpd -f -p 80 -h /www")
    try:
        assert b"served-by-sealpod" in http_get(port, expect=b"served-by-sealpod")
        assert api.docker("port", "dcli-web").stdout.strip() == f"80/tcp -> 127.0.0.1:{port}"
        assert api.docker("port", "dcli-web", "80").stdout.strip() == f"127.0.0.1:{port}"
        ps = api.docker("ps", "--filter", "name=dcli-web", "--format", "{{.Ports}}").stdout
        assert f"127.0.0.1:{port}->80/tcp" in ps
    finally:
        api.docker("rm", "-f", "dcli-web")


def test_export_import_and_commit(api: ApiService, tmp_path: Path) -> None:
    api.docker("run", "--name", "dcli-exp", IMAGE, "sh", "-c", "echo exported > /marker")
    tarball = tmp_path / "fs.tar"
    api.docker("export", "-o", str(tarball), "dcli-exp")
    assert tarball.stat().st_size > 100_000
    api.docker("import", "--change", "CMD [\"cat\", \"/marker\"]", str(tarball), "localhost/dcli-imported:1")
    assert api.docker("run", "--rm", "localhost/dcli-imported:1").stdout == "exported\n"
    api.docker("commit", "--change", "ENV FROM_COMMIT=yes", "dcli-exp", "localhost/dcli-committed:1")
    out = api.docker("run", "--rm", "localhost/dcli-committed:1", "sh", "-c", "cat /marker; echo $FROM_COMMIT")
    assert out.stdout == "exported\nyes\n"
    api.docker("rm", "dcli-exp")
    api.docker("rmi", "localhost/dcli-imported:1", "localhost/dcli-committed:1")


def test_interactive_terminal_session(api: ApiService) -> None:
    """`docker run -it`: a real pty on both sides, input echoed, the exit code passed back."""
    pid, fd = pty.fork()
    if pid == 0:  # the child becomes docker on the pty
        os.environ.update(api.docker_env())
        os.execvp("docker", ["docker", "run", "-it", "--rm", IMAGE, "sh"])
    seen = b""

    def read_until(token: bytes, timeout: float = 20) -> None:
        nonlocal seen
        end = time.monotonic() + timeout
        while token not in seen and time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    break
        assert token in seen, seen[-500:]

    read_until(b"# ")
    os.write(fd, b"tty && echo in-$((6*7))\r")
    read_until(b"in-42")
    assert b"/dev/pts/" in seen
    os.write(fd, b"exit 7\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 7


def test_attach_to_a_running_container(api: ApiService) -> None:
    api.docker("run", "-d", "--name", "dcli-att", IMAGE, "sh", "-c", "sleep 1; echo from-attached; exit 4")
    attached = subprocess.run(["docker", "attach", "dcli-att"], env=api.docker_env(), capture_output=True,
                              text=True, timeout=60)
    assert "from-attached" in attached.stdout and attached.returncode == 4
    api.docker("rm", "dcli-att")
