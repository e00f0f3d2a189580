"""Rootless bridge networks: a user's containers on a network of its own, in the user's rootless
network namespace (netavark and aardvark-dns there, slirp4netns for the way out and for -p)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.http import http_get
from tests.rig.registry import RegistryServer, free_port
from tests.rig.rootless import RootlessRunner, rootless_store

IMAGE = "sealtest/tiny"
HTTPD = "mkdir -p /www && echo hello-from-$(hostname) > /www/index.html && exec busybox httpd -f -p 80 -h /www"


@pytest.fixture(scope="module")
def rl(seeded_registry: RegistryServer) -> Iterator[RootlessRunner]:
    with rootless_store(seeded_registry.host, IMAGE) as runner:
        runner.run("network", "create", "rl-net")
        yield runner


def _slirps(rl: RootlessRunner) -> list[str]:
    return [line for line in rl.run_host("ps", "-ww", "-eo", "args").splitlines()
            if line.startswith("slirp4netns") and str(rl.runroot) in line]


def _get(rl: RootlessRunner, client: str, host: str) -> str:
    return rl.run("exec", client, "sh", "-c", f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {host} 80").stdout


def test_two_containers_reach_each_other_by_name(rl: RootlessRunner) -> None:
    ids = [rl.run("run", "-d", "--network", "rl-net", "--name", name, "--hostname", name, IMAGE, "sh", "-c",
                  HTTPD).stdout.strip() for name in ("rl-a", "rl-b")]
    try:
        assert "hello-from-rl-b" in _get(rl, "rl-a", "rl-b")
        assert "hello-from-rl-a" in _get(rl, "rl-b", "rl-a")
        doc = json.loads(rl.run("container", "inspect", "rl-a").stdout)[0]
        ip = doc["NetworkSettings"]["Networks"]["rl-net"]["IPAddress"]
        assert ip and not ip.startswith("10.0.2."), "on the bridge, not on a slirp4netns of its own"
        assert len(_slirps(rl)) == 1, "one slirp4netns for the rootless netns, none per container"
    finally:
        rl.run("rm", "-f", "-t", "0", *ids)
    assert _slirps(rl) == [], "the rootless netns outlived its last container"
    assert not (rl.runroot / "networks" / "rootless-netns" / "state.json").exists()


def test_published_port_of_a_bridge_container(rl: RootlessRunner) -> None:
    port = free_port()
    rl.run("run", "-d", "--network", "rl-net", "--name", "rl-pub", "--hostname", "rl-pub", "-p", f"{port}:80",
           IMAGE, "sh", "-c", HTTPD)
    try:
        assert b"hello-from-rl-pub" in http_get(port)
        assert rl.run("port", "rl-pub").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
    finally:
        rl.run("rm", "-f", "-t", "0", "rl-pub")
    assert _slirps(rl) == []


def test_outbound_traffic_from_a_bridge_container(rl: RootlessRunner) -> None:
    import socket
    import threading

    from tests.integration.test_rootless import _host_address

    address = _host_address()
    if address is None or address.startswith("127."):
        pytest.skip("no non-loopback address on this host")
    server = socket.create_server(("0.0.0.0", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"pong\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        out = rl.run("run", "--rm", "--network", "rl-net", IMAGE, "sh", "-c", f"nc {address} {port} </dev/null",
                     timeout=60)
        assert out.stdout == "pong\n"
    finally:
        server.close()
    thread.join(5)


def test_network_files_stay_under_the_users_run_root(rl: RootlessRunner) -> None:
    assert Path(rl.runroot).is_dir()
    assert rl.run("network", "ls", "--format", "{{.Name}}").stdout.split().count("rl-net") == 1
