"""The libpod pod routes, through podman-py and raw HTTP on the service's unix socket.

Pods here use no network (``netns: none``): the module's service shares the host with other
tests' bridges, and what is tested is the API, not networking (test_pods.py does that).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import podman
import pytest
from podman.errors import NotFound

from tests.rig.api import ApiService

NO_NET = {"netns": {"nsmode": "none"}}


def _call(api: ApiService, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, data = api.request(method, f"/v4.3.1/libpod{path}", json.dumps(body).encode() if body is not None
                               else None, {"Content-Type": "application/json"})
    return status, json.loads(data) if data else None


@pytest.fixture
def client(api: ApiService) -> Iterator[podman.PodmanClient]:
    c = podman.PodmanClient(base_url=api.url)
    yield c
    for pod in c.pods.list():
        pod.remove(force=True)


def _tiny(client: podman.PodmanClient) -> str:
    return str(next(i for i in client.images.list() if any("sealtest/tiny" in t for t in i.tags)).id)


def test_podman_py_pod_lifecycle(client: podman.PodmanClient) -> None:
    pod = client.pods.create("pypod", labels={"made": "by-podman-py"}, **NO_NET)
    assert pod.name == "pypod" and len(pod.id) == 64
    assert client.pods.exists("pypod") and not client.pods.exists("nosuchpod")
    listed = {p.name: p for p in client.pods.list()}
    assert "pypod" in listed and listed["pypod"].attrs["Labels"] == {"made": "by-podman-py"}
    ctr = client.containers.create(_tiny(client), ["sleep", "600"], pod="pypod", name="pymember")
    assert ctr.attrs.get("Pod") == pod.id
    pod.start()
    pod.reload()
    assert pod.attrs["State"] == "Running"
    assert {c["Name"] for c in pod.attrs["Containers"]} == {"pymember", f"{pod.id[:12]}-infra"}
    assert client.pods.list(filters={"status": "running"})[0].id == pod.id
    pod.stop(timeout=1)
    pod.reload()
    assert pod.attrs["State"] == "Exited"
    pod.remove(force=True)
    assert not client.pods.exists("pypod")
    with pytest.raises(NotFound):
        client.pods.get("pypod")


def test_raw_shapes(api: ApiService, client: podman.PodmanClient) -> None:
    status, created = _call(api, "POST", "/pods/create", {"name": "rawpod", "hostname": "rawhost", **NO_NET})
    assert status == 201 and set(created) == {"Id"}
    pod_id = created["Id"]
    status, body = _call(api, "GET", "/pods/rawpod/exists")
    assert status == 204 and body is None
    assert _call(api, "GET", "/pods/nosuch/exists")[0] == 404
    status, err = _call(api, "GET", "/pods/nosuch/json")
    assert status == 404 and "no such pod" in err["message"]
    status, doc = _call(api, "GET", "/pods/rawpod/json")
    assert status == 200 and doc["Id"] == pod_id and doc["Hostname"] == "rawhost" and doc["State"] == "Created"
    status, rows = _call(api, "GET", "/pods/json")
    row = next(r for r in rows if r["Id"] == pod_id)
    assert set(row) >= {"Cgroup", "Containers", "Created", "Id", "InfraId", "Name", "Namespace", "Networks",
                        "Status", "Labels"}
    status, report = _call(api, "POST", "/pods/rawpod/start")
    assert status == 200 and report == {"Errs": None, "Id": pod_id}
    assert _call(api, "POST", "/pods/rawpod/start")[0] == 304
    deadline = time.monotonic() + 10  # started means past runc's exec fifo: the exec of catatonit may still come
    while True:
        status, top = _call(api, "GET", "/pods/rawpod/top")
        if any("catatonit" in " ".join(p) for p in top.get("Processes") or ()) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 200 and "PID" in top["Titles"] and any("catatonit" in " ".join(p) for p in top["Processes"])
    assert _call(api, "POST", "/pods/rawpod/pause")[1]["Id"] == pod_id
    assert _call(api, "GET", "/pods/rawpod/json")[1]["State"] == "Paused"
    assert _call(api, "POST", "/pods/rawpod/unpause")[0] == 200
    status, report = _call(api, "POST", "/pods/rawpod/kill")
    assert status == 200, report
    status, removed = _call(api, "DELETE", "/pods/rawpod")
    assert status == 200 and removed["Id"] == pod_id and len(removed["RemovedCtrs"]) == 1
    status, pruned = _call(api, "POST", "/pods/prune")
    assert status == 200 and pruned == []
