"""Hostile requests against the API service: malformed bodies, wrong types, absurd names, broken
HTTP. Every answer is a client error or a clean refusal, never a 500, and the service lives on."""

from __future__ import annotations

import json
import socket

import pytest

from tests.rig.api import ApiService

BODIES = [b"", b"{", b"[]", b"null", b'{"Image": 5}', b'{"Image": "sealtest/tiny", "HostConfig": "x"}',
          b'{"Image":"sealtest/tiny","Cmd":"notalist"}', b'{"Image":"sealtest/tiny","HostConfig":{"Binds":["::::"]}}',
          b'{"Image":"sealtest/tiny","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}}', b"\xff\xfe",
          b'{"Name":"../../etc"}', b'{"Name": "' + b"a" * 5000 + b'"}', b'{"name": "' + b"b" * 5000 + b'"}',
          json.dumps({"Image": "sealtest/tiny", "Env": [1, 2]}).encode(),
          json.dumps({"Image": "sealtest/tiny", "HostConfig": {"Memory": "lots"}}).encode(),
          json.dumps({"Image": "sealtest/tiny", "Labels": [1], "Options": "x"}).encode(),
          b'{"Name": 5, "name": 5}', b'{"Name": "n5", "IPAM": {"Config": [{"Subnet": 5}]}}',
          b'{"Name": "n6", "IPAM": "x"}',
          b'{"name": "n7", "subnets": [{"subnet": 5}]}', b'{"name": "n8", "driver": ["x"]}']
PATHS = ["/containers/create", "/containers/create?name=../x", "/volumes/create", "/networks/create",
         "/secrets/create", "/libpod/containers/create", "/libpod/pods/create", "/libpod/networks/create",
         "/libpod/volumes/create", "/images/create?fromImage=%00bad", "/containers/nope/archive?path=../../etc",
         "/exec/abc/start", "/libpod/play/kube", "/containers/json?filters=notjson", "/v999.0/info",
         "/libpod/secrets/create?name=x"]


def _send(path: str, raw: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(raw)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


@pytest.mark.parametrize("target", PATHS)
def test_malformed_bodies_are_client_errors(api: ApiService, target: str) -> None:
    for body in BODIES:
        for method in ("POST", "PUT"):
            head = (f"{method} {target} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            answer = _send(str(api.socket_path), head + body)
            status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b"none"
            assert status != b"500" and status != b"none", (method, target, body[:60], answer[-300:])
    for created in ("x", "a" * 5000):
        api.runner.run("rm", "-f", created, check=False)


def test_broken_http_and_the_service_survives(api: ApiService) -> None:
    sock = str(api.socket_path)
    assert _send(sock, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert _send(sock, b"GET /_ping HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
    assert _send(sock, b"POST /containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") \
        .startswith(b"HTTP/1.1 400")
    assert _send(sock, b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(("target", "field", "value", "go_type"), [
    ("/libpod/pods/create", "portmappings", True, "[]object"),
    ("/libpod/pods/create", "shm_size", "x", "int64"),
    ("/libpod/pods/create", "sysctl", [5], "map[string]string"),
    ("/libpod/pods/create", "labels", "x", "map[string]string"),
    ("/libpod/pods/create", "volumes", 5, "[]object"),
    ("/libpod/pods/create", "Name", 5, "string"),  # Go matches field names in any case
    ("/libpod/networks/create", "subnets", 5, "[]object"),
])
def test_wrong_json_types_are_gos_400(api: ApiService, target: str, field: str, value: object, go_type: str) -> None:
    """Podman decodes bodies into Go structs: a value of the wrong type is a 400 naming the field, where the
    routes read the field anyway and failed with a 500 (a TypeError) before."""
    body = json.dumps({field: value}).encode()
    head = (f"POST {target} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answer = _send(str(api.socket_path), head + body)
    assert answer.startswith(b"HTTP/1.1 400"), answer[-300:]
    message = json.loads(answer.partition(b"\r\n\r\n")[2])["message"]
    assert message.endswith(f".{field.lower()} of type {go_type}"), message


@pytest.mark.parametrize("body", [
    {"Image": "sealtest/tiny", "MacAddress": 5},
    {"Image": "sealtest/tiny", "MacAddress": "zz:zz"},
    {"Image": "sealtest/tiny", "NetworkingConfig": {"EndpointsConfig": {"podman": {"MacAddress": "xx"}}}},
])
def test_bad_mac_addresses_are_refused_at_create(api: ApiService, body: dict[str, object]) -> None:
    """As `create --mac-address` is: a container made with one broke `network rm` and the like later."""
    status, answer = api.request("POST", "/v1.41/containers/create", json.dumps(body).encode())
    assert status == 400 and b"invalid MAC address" in answer, answer
