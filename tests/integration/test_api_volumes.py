"""Volume routes of the API service, driven by the real Docker CLI, docker-py and raw libpod requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.rig.api import ApiService

pytestmark = pytest.mark.integration


def _call(api: ApiService, method: str, target: str, doc: Any = None) -> tuple[int, Any]:
    body = json.dumps(doc).encode() if doc is not None else None
    status, raw = api.request(method, target, body, {"Content-Type": "application/json"} if body else None)
    return status, json.loads(raw) if raw.strip() else None


def test_docker_cli_volume_lifecycle(api: ApiService) -> None:
    assert api.docker("volume", "create", "--label", "team=api", "-o", "type=tmpfs", "-o", "device=tmpfs",
                      "-o", "o=size=2m", "clivol").stdout.strip() == "clivol"
    doc = json.loads(api.docker("volume", "inspect", "clivol").stdout)[0]
    assert doc["Name"] == "clivol" and doc["Driver"] == "local" and doc["Labels"] == {"team": "api"}
    assert doc["Options"] == {"device": "tmpfs", "o": "size=2m", "type": "tmpfs"}
    assert doc["Scope"] == "local" and Path(doc["Mountpoint"]).is_dir()
    names = api.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert "clivol" in names
    assert api.docker("volume", "ls", "-q", "--filter", "label=team=api").stdout.split() == ["clivol"]
    assert api.docker("volume", "ls", "-q", "--filter", "label=team=other").stdout.split() == []
    api.docker("volume", "rm", "clivol")
    gone = api.docker("volume", "inspect", "clivol", check=False)
    assert gone.returncode != 0 and "no such volume" in gone.stderr.lower()
    assert api.docker("volume", "rm", "clivol", check=False).returncode != 0


def test_docker_cli_prune_spares_volumes_in_use(api: ApiService, seeded_registry: Any) -> None:
    api.docker("volume", "create", "spare")
    api.docker("volume", "create", "keep")
    api.runner.run("create", "--name", "volholder", "-v", "keep:/data", f"{seeded_registry.host}/sealtest/tiny")
    try:
        busy = api.docker("volume", "rm", "keep", check=False)
        assert busy.returncode != 0 and "volume is being used" in busy.stderr
        out = api.docker("volume", "prune", "-f").stdout
        assert "spare" in out and "keep" not in out
        names = api.docker("volume", "ls", "-q").stdout.split()
        assert "keep" in names and "spare" not in names
        api.docker("volume", "rm", "-f", "keep")  # force: the container goes first, as in Podman
        assert "keep" not in api.docker("volume", "ls", "-q").stdout.split()
    finally:
        api.runner.run("rm", "-f", "volholder", check=False)


def test_docker_py_volumes(api: ApiService) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=api.url)
    try:
        vol = client.volumes.create("pyvol", driver="local", labels={"a": "b"})
        assert vol.name == "pyvol" and vol.attrs["Labels"] == {"a": "b"}
        assert client.volumes.create("pyvol").id == "pyvol"  # Docker returns an existing volume
        assert "pyvol" in [v.name for v in client.volumes.list()]
        assert [v.name for v in client.volumes.list(filters={"label": "a=b"})] == ["pyvol"]
        assert client.volumes.get("pyvol").attrs["Mountpoint"].endswith("/pyvol/_data")
        vol.remove()
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("pyvol")
        anon = client.volumes.create()
        assert len(anon.name) == 64
        assert anon.name in client.volumes.prune()["VolumesDeleted"]
    finally:
        client.close()


def test_libpod_volume_routes(api: ApiService) -> None:
    status, doc = _call(api, "POST", "/v4.3.1/libpod/volumes/create",
                        {"Name": "libvol", "Labels": {"x": "1"}, "Options": {"uid": "1234"}})
    assert status == 201 and doc["Name"] == "libvol" and doc["Labels"] == {"x": "1"} and "MountCount" in doc
    assert _call(api, "POST", "/v4.3.1/libpod/volumes/create", {"Name": "libvol"})[0] == 409
    assert _call(api, "GET", "/v4.3.1/libpod/volumes/libvol/exists")[0] == 204
    assert _call(api, "GET", "/v4.3.1/libpod/volumes/nosuch/exists")[0] == 404
    status, listed = _call(api, "GET", '/v4.3.1/libpod/volumes/json?filters={"name":["libvol"]}')
    assert status == 200 and [v["Name"] for v in listed] == ["libvol"]
    assert _call(api, "GET", "/v4.3.1/libpod/volumes/libvol/json")[1]["UID"] == 1234
    status, pruned = _call(api, "POST", "/v4.3.1/libpod/volumes/prune")
    assert status == 200 and {"Id": "libvol", "Size": 0, "Err": None} in pruned
    status, err = _call(api, "GET", "/volumes/libvol")
    assert status == 404 and "no such volume" in err["message"]
    assert _call(api, "POST", "/volumes/create", ["not", "an", "object"])[0] == 400
    assert _call(api, "DELETE", "/v1.44/volumes/libvol")[0] == 404


def test_docker_volume_created_at_has_whole_seconds(api: ApiService) -> None:
    """Podman 4.3.1's compat volumes (as Docker's): CreatedAt is RFC 3339 in whole seconds; libpod's keeps
    the fraction."""
    import re

    status, body = api.request("POST", "/v1.41/volumes/create", b'{"Name": "secs"}',
                               headers={"Content-Type": "application/json"})
    assert status == 201
    try:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", json.loads(body)["CreatedAt"])
        _, listed = api.request("GET", "/v1.41/volumes")
        assert all("." not in v["CreatedAt"] for v in json.loads(listed)["Volumes"])
    finally:
        api.request("DELETE", "/v1.41/volumes/secs")
