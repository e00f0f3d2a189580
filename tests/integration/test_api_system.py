"""The API service answers the real Docker CLI: version negotiation, info, errors, idle exit."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from tests.rig.api import ApiService, start_service
from tests.rig.sealpod import SealpodRunner


def _request(api: ApiService, raw: bytes) -> bytes:
    """Send one request with ``Connection: close`` and read the whole answer, to EOF."""
    if b"Connection: close" not in raw:
        raw = raw.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(api.socket_path))
    s.sendall(raw)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return data


def test_docker_cli_version_and_info(api: ApiService) -> None:
    out = api.docker("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}").stdout.split()
    assert out[1] == "linux" and tuple(map(int, out[0].split("."))) >= (1, 44)
    info = json.loads(api.docker("info", "--format", "{{json .}}").stdout)
    assert info["Images"] >= 1 and info["Driver"] == "overlay"


def test_docker_version_lists_conmon_and_the_oci_runtime(api: ApiService) -> None:
    """As Podman's /version: the engine, then the monitor and runtime that really run containers."""
    components = json.loads(api.docker("version", "--format", "{{json .Server.Components}}").stdout)
    names = [c["Name"] for c in components]
    assert names[0] == "Podman Engine" and "Conmon" in names and "OCI Runtime (runc)" in names
    runc = next(c for c in components if c["Name"] == "OCI Runtime (runc)")
    assert runc["Version"].startswith("runc version") and runc["Details"]["Package"].startswith("runc_")


def test_ping_head_unknown_route_and_bad_body(api: ApiService) -> None:
    head = _request(api, b"HEAD /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Api-Version: 1.44" in head.replace(b"API-Version", b"Api-Version")
    missing = _request(api, b"GET /v1.44/nothing/here HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404") and b'"message"' in missing
    garbage = _request(api, b"POST /v1.44/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n"
                            b"Connection: close\r\n\r\n{nope")
    assert garbage.startswith(b"HTTP/1.1 400")
    assert api.docker("version").returncode == 0  # still serving


def test_idle_service_exits(tmp_path: object, api: ApiService) -> None:
    runner: SealpodRunner = api.runner
    quick = SealpodRunner(runner.base / "idle", search_registries=[], insecure_registries=[])
    service = start_service(quick, idle=1)
    deadline = time.monotonic() + 15
    while service.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service.proc.returncode == 0
    assert not service.socket_path.exists()
    subprocess.run(["true"], check=True)
