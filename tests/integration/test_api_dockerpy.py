"""docker-py (PyPI `docker`) against `sealpod system service`: containers, logs, exec, attach, and
many clients at once."""

from __future__ import annotations

import socket
import threading
import time

import docker
import pytest

from tests.rig.api import ApiService


@pytest.fixture
def client(api: ApiService) -> docker.DockerClient:
    return docker.DockerClient(base_url=api.url, timeout=60)


def test_run_detached_logs_stream_wait_remove(client: docker.DockerClient) -> None:
    ctr = client.containers.run("sealtest/tiny", ["sh", "-c", "echo a; echo b >&2; sleep 0.3; echo c"],
                                detach=True, labels={"suite": "dockerpy"})
    assert b"".join(ctr.logs(stream=True, follow=True)) == b"a\nb\nc\n"
    assert ctr.wait(timeout=30) == {"StatusCode": 0, "Error": None}
    found = client.containers.list(all=True, filters={"label": "suite=dockerpy"})
    assert [c.id for c in found] == [ctr.id]
    assert client.containers.list(filters={"label": "suite=dockerpy"}) == []
    ctr.reload()
    assert ctr.status == "exited" and ctr.attrs["State"]["ExitCode"] == 0
    ctr.remove(force=True)
    assert client.containers.list(all=True, filters={"id": ctr.id}) == []


def test_exec_run_and_foreground_run(client: docker.DockerClient) -> None:
    ctr = client.containers.run("sealtest/tiny", ["sleep", "60"], detach=True, environment={"FOO": "bar"})
    try:
        result = ctr.exec_run(["sh", "-c", "echo $FOO; exit 2"])
        assert result.exit_code == 2 and result.output == b"bar\n"
        split = ctr.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
        assert split.output == (b"o\n", b"e\n")
    finally:
        ctr.remove(force=True)
    assert client.containers.run("sealtest/tiny", ["echo", "fg"], remove=True) == b"fg\n"


def test_attach_socket_with_stdin(client: docker.DockerClient) -> None:
    ctr = client.containers.create("sealtest/tiny", ["cat"], stdin_open=True, tty=True)
    try:
        sock = ctr.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        raw: socket.socket = sock._sock  # noqa: SLF001 - docker-py hands out a SocketIO
        ctr.start()
        raw.sendall(b"ping\n")
        raw.settimeout(10)
        got = b""
        while b"ping" not in got:
            got += raw.recv(1024)
        raw.close()
    finally:
        ctr.remove(force=True)


def test_concurrent_clients(client: docker.DockerClient, api: ApiService) -> None:
    """8 threads create/start/remove while others list, for ~10 s: no error, nothing leaked."""
    errors: list[BaseException] = []
    stop_at = time.monotonic() + 10
    label = {"suite": "concurrency"}

    def churn() -> None:
        c = docker.DockerClient(base_url=api.url, timeout=120)
        while time.monotonic() < stop_at:
            try:
                ctr = c.containers.create("sealtest/tiny", ["sleep", "30"], labels=label)
                ctr.start()
                ctr.remove(force=True)
            except BaseException as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)
                return

    def lister() -> None:
        c = docker.DockerClient(base_url=api.url, timeout=120)
        while time.monotonic() < stop_at:
            try:
                c.containers.list(all=True, ignore_removed=True)
                c.images.list()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
                return

    threads = [threading.Thread(target=churn) for _ in range(8)] + [threading.Thread(target=lister) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, [getattr(e, "explanation", e) for e in errors][:3]
    assert client.containers.list(all=True, filters={"label": "suite=concurrency"}) == []
    assert client.ping()
