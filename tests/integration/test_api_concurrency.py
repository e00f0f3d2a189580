"""Many API clients at once: 16 threads list containers and images and create, start and remove
containers for a while; nothing fails, nothing leaks, and the service still answers."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse

import pytest

from tests.rig.api import ApiService

CLIENTS = 16
SECONDS = 30.0
LABEL = "suite=api-concurrency"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=180)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)


def call(conn: http.client.HTTPConnection, method: str, target: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, target, body=data, headers={"Content-Type": "application/json"} if data else {})
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status >= 300:
        raise AssertionError(f"{method} {target}: {resp.status} {raw[:300]!r}")
    return json.loads(raw) if raw.strip() else None


def client_loop(api: ApiService, index: int, stop_at: float, errors: list[str], cycles: list[int]) -> None:
    conn = UnixConnection(str(api.socket_path))
    body = {"Image": "sealtest/tiny", "Cmd": ["sleep", "30"], "Labels": {"suite": "api-concurrency"},
            "HostConfig": {"NetworkMode": "none"}}
    try:
        while time.monotonic() < stop_at:
            listed = call(conn, "GET", "/v1.44/containers/json?all=1")
            assert isinstance(listed, list)
            images = call(conn, "GET", "/v1.44/images/json")
            assert isinstance(images, list) and images
            if index % 4 == 3:
                continue  # a quarter of the clients only read
            created = call(conn, "POST", "/v1.44/containers/create", body)
            assert isinstance(created, dict)
            cid = created["Id"]
            call(conn, "POST", f"/v1.44/containers/{cid}/start")
            call(conn, "DELETE", f"/v1.44/containers/{cid}?force=1&t=0")
            cycles[index] += 1
    except BaseException as e:  # noqa: BLE001 - reported by the test
        errors.append(f"client {index}: {type(e).__name__}: {e}")
    finally:
        conn.close()


@pytest.mark.slow
def test_sixteen_clients_at_once(api: ApiService) -> None:
    errors: list[str] = []
    cycles = [0] * CLIENTS
    stop_at = time.monotonic() + SECONDS
    threads = [threading.Thread(target=client_loop, args=(api, i, stop_at, errors, cycles)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 300)
    assert not any(t.is_alive() for t in threads), "a client hung\n" + api.log_tail()
    assert not errors, "\n".join(errors[:5]) + "\n--- service log ---\n" + api.log_tail()
    assert sum(cycles) > 0
    conn = UnixConnection(str(api.socket_path))
    try:
        query = urllib.parse.quote(json.dumps({"label": [LABEL]}))
        leaked = call(conn, "GET", f"/v1.44/containers/json?all=1&filters={query}")
        assert leaked == [], leaked
        conn.request("GET", "/_ping")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b"OK"
    finally:
        conn.close()
    assert not api.runner.run("ps", "-aq", "--filter", f"label={LABEL}").stdout.strip()
