"""Image routes of the API service, driven by the real Docker CLI, docker-py and raw libpod requests."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from tests.rig.api import ApiService
from tests.rig.images import DOCKER_MANIFEST, OCI_MANIFEST, SeedSet
from tests.rig.registry import PASSWORD, USERNAME, RegistryServer

pytestmark = pytest.mark.integration


def _call(api: ApiService, method: str, target: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return api.request(method, target, body, headers)


def _lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def _registry_digest(server: RegistryServer, repo: str, tag: str) -> str | None:
    conn = http.client.HTTPConnection(server.host, timeout=30)
    headers = {"Accept": f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"}
    if server.username:
        token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        conn.request("HEAD", f"/v2/{repo}/manifests/{tag}", headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.headers.get("Docker-Content-Digest") if resp.status == 200 else None
    finally:
        conn.close()


def test_docker_pull_progress_digest_and_up_to_date(api: ApiService, seeded_registry: RegistryServer,
                                                    seed_images: SeedSet) -> None:
    name = f"{seeded_registry.host}/sealtest/multilayer"
    out = api.docker("pull", name).stdout
    assert "Pulling from sealtest/multilayer" in out
    assert f"Digest: {seed_images.digest('sealtest/multilayer:latest')}" in out
    assert f"Status: Downloaded newer image for {name}:latest" in out
    assert "Pull complete" in out
    again = api.docker("pull", name).stdout
    assert f"Status: Image is up to date for {name}:latest" in again
    # The raw stream: Docker's message shapes, one JSON document a line.
    status, body = _call(api, "POST", f"/v1.44/images/create?fromImage={name}&tag=latest")
    msgs = _lines(body)
    assert status == 200 and msgs[0] == {"status": "Pulling from sealtest/multilayer", "id": "latest"}
    assert msgs[-1]["status"].startswith("Status: Image is up to date")


def test_pull_errors_before_and_after_the_stream(api: ApiService, seeded_registry: RegistryServer) -> None:
    status, body = _call(api, "POST", f"/images/create?fromImage={seeded_registry.host}/sealtest/nope&tag=x")
    assert status == 404 and "message" in json.loads(body)
    res = api.docker("pull", f"{seeded_registry.host}/sealtest/nope:x", check=False)
    assert res.returncode != 0 and "nope" in res.stderr
    # libpod streams every error, as Podman does
    status, body = _call(api, "POST", f"/v4.3.1/libpod/images/pull?reference={seeded_registry.host}/sealtest/nope:x")
    assert status == 200 and "error" in _lines(body)[-1]


def test_docker_images_inspect_history_tag_rmi(api: ApiService, seeded_registry: RegistryServer) -> None:
    tiny = f"{seeded_registry.host}/sealtest/tiny:latest"
    rows = [json.loads(line) for line in api.docker("images", "--format", "{{json .}}").stdout.splitlines()]
    assert any(r["Repository"] == f"{seeded_registry.host}/sealtest/tiny" and r["Tag"] == "latest" for r in rows)
    doc = json.loads(api.docker("image", "inspect", tiny).stdout)[0]
    assert doc["Id"].startswith("sha256:") and tiny in doc["RepoTags"] and doc["Config"]["Cmd"] == ["sh"]
    assert doc["RootFS"]["Type"] == "layers" and len(doc["RootFS"]["Layers"]) == 1
    hist = api.docker("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", tiny).stdout.splitlines()
    assert hist[0].split("|")[0] == doc["Id"] and any("busybox" in h for h in hist)
    api.docker("tag", tiny, "apitest/retagged:v2")
    assert json.loads(api.docker("image", "inspect", "apitest/retagged:v2").stdout)[0]["Id"] == doc["Id"]
    out = api.docker("rmi", "apitest/retagged:v2").stdout
    # the CLI sends "repo" normalized: docker.io/apitest/retagged
    assert "Untagged: docker.io/apitest/retagged:v2" in out and "Deleted" not in out
    missing = api.docker("rmi", "apitest/retagged:v2", check=False)
    assert missing.returncode != 0 and "No such image: apitest/retagged:v2" in missing.stderr
    assert api.docker("image", "inspect", "nosuch/img", check=False).returncode == 1


def test_docker_push_to_registry(api: ApiService, seeded_registry: RegistryServer) -> None:
    tiny = f"{seeded_registry.host}/sealtest/tiny:latest"
    target = f"{seeded_registry.host}/apitest/pushed:v1"
    api.docker("tag", tiny, target)
    out = api.docker("push", target).stdout
    assert f"The push refers to repository [{seeded_registry.host}/apitest/pushed]" in out
    digest = _registry_digest(seeded_registry, "apitest/pushed", "v1")
    assert digest is not None and f"v1: digest: {digest}" in out
    api.docker("rmi", target)


def test_docker_login_and_authenticated_push(api: ApiService, seeded_registry: RegistryServer,
                                             auth_registry: RegistryServer) -> None:
    api.runner.write_registries_conf([seeded_registry.host], [seeded_registry.host, auth_registry.host])
    bad = api.docker("login", "-u", USERNAME, "--password-stdin", auth_registry.host, input="wrong\n", check=False)
    assert bad.returncode != 0 and "invalid username/password" in bad.stderr
    good = api.docker("login", "-u", USERNAME, "--password-stdin", auth_registry.host, input=PASSWORD + "\n")
    assert "Login Succeeded" in good.stdout
    assert not api.runner.auth_file.exists()  # the service checks credentials, the client keeps them
    target = f"{auth_registry.host}/apitest/secret:v1"
    api.docker("tag", f"{seeded_registry.host}/sealtest/tiny", target)
    api.docker("push", target)  # the CLI sends the stored credentials in X-Registry-Auth
    assert _registry_digest(auth_registry, "apitest/secret", "v1") is not None
    api.docker("rmi", target)
    api.docker("pull", target)
    api.docker("logout", auth_registry.host)
    api.docker("rmi", target)
    # not a 401, on which the CLI would prompt for a login
    denied = api.docker("pull", target, check=False, input="", timeout=30)
    assert denied.returncode != 0 and "pull access denied" in denied.stderr


def test_docker_py_images(api: ApiService, seeded_registry: RegistryServer) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=api.url)
    try:
        # multilayer: tiny and tiny-docker are one image (same config), which other tests need
        image = client.images.pull(f"{seeded_registry.host}/sealtest/multilayer", tag="latest")
        assert f"{seeded_registry.host}/sealtest/multilayer:latest" in image.tags
        assert image.id in [i.id for i in client.images.list()]
        assert client.images.get(image.id[:19]).id == image.id
        assert image.history()[0]["Id"] == image.id
        assert image.tag("apitest/py", "one") is True
        found = client.images.search(f"{seeded_registry.host}/sealtest/tiny")
        assert {f"{seeded_registry.host}/sealtest/tiny", f"{seeded_registry.host}/sealtest/tiny-docker"} <= {
            r["name"] for r in found}
        with pytest.raises(docker.errors.APIError) as conflict:
            client.images.remove(image.id)  # two names: by ID needs force
        assert conflict.value.status_code == 409
        client.images.remove(image.id, force=True)
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get(image.id)
        assert client.images.prune()["ImagesDeleted"] is None
    finally:
        client.close()


def test_libpod_image_routes(api: ApiService, seeded_registry: RegistryServer) -> None:
    name = f"{seeded_registry.host}/sealtest/tiny"
    status, body = _call(api, "POST", f"/v4.3.1/libpod/images/pull?reference={name}")
    msgs = _lines(body)
    assert status == 200 and any(m.get("stream", "").startswith("Trying to pull") for m in msgs)
    image_id = msgs[-1]["id"]
    assert msgs[-1]["images"] == [image_id] and len(image_id) == 64
    assert _call(api, "GET", f"/v4.3.1/libpod/images/{name}/exists")[0] == 204
    assert _call(api, "GET", "/v4.3.1/libpod/images/nosuch/thing/exists")[0] == 404
    status, body = _call(api, "GET", "/v4.3.1/libpod/images/json")
    summary = next(s for s in json.loads(body) if s["Id"] == image_id)
    assert f"{name}:latest" in summary["RepoTags"] and f"{name}:latest" in summary["Names"]
    doc = json.loads(_call(api, "GET", f"/v4.3.1/libpod/images/{name}/json")[1])
    assert doc["Id"] == image_id and doc["Digest"].startswith("sha256:")
    status, _ = _call(api, "POST", f"/v4.3.1/libpod/images/{image_id}/tag?repo=apitest/lib&tag=t")
    assert status == 201
    status, body = _call(api, "DELETE", "/v4.3.1/libpod/images/apitest/lib:t")
    assert status == 200 and json.loads(body)["Untagged"] == ["localhost/apitest/lib:t"]


def test_save_load_round_trip(api: ApiService, seeded_registry: RegistryServer, tmp_path: Path) -> None:
    name = f"{seeded_registry.host}/sealtest/tiny:latest"
    api.docker("tag", name, "apitest/saved:v1")
    archive = tmp_path / "saved.tar"
    api.docker("save", "-o", str(archive), "apitest/saved:v1")
    assert archive.stat().st_size > 100_000
    api.docker("rmi", "apitest/saved:v1")
    out = api.docker("load", "-i", str(archive)).stdout
    assert "Loaded image: docker.io/apitest/saved:v1" in out
    api.docker("rmi", "apitest/saved:v1")


def test_commit_from_a_container(api: ApiService, seeded_registry: RegistryServer) -> None:
    api.runner.run("create", "--name", "apicommit", f"{seeded_registry.host}/sealtest/tiny", "true")
    out = api.docker("commit", "-m", "from the API", "-c", 'CMD ["echo", "hi"]', "apicommit",
                     "apitest/committed:c1").stdout
    doc = json.loads(api.docker("image", "inspect", "apitest/committed:c1").stdout)[0]
    assert out.strip() == doc["Id"] and doc["Config"]["Cmd"] == ["echo", "hi"]
    comments = api.docker("history", "--format", "{{.Comment}}", "apitest/committed:c1").stdout.splitlines()
    assert comments[0] == "from the API"
    api.runner.run("rm", "apicommit")
    api.docker("rmi", "apitest/committed:c1")


def test_unknown_image_errors_are_docker_shaped(api: ApiService) -> None:
    for method, target in (("GET", "/images/nosuch/x/json"), ("GET", "/images/nosuch/history"),
                           ("DELETE", "/images/nosuch"), ("POST", "/images/nosuch/tag?repo=a&tag=b"),
                           ("POST", "/images/nosuch/push?tag=x")):
        status, body = _call(api, method, target)
        assert status == 404, (method, target, body)
        assert "No such image: nosuch" in json.loads(body)["message"]
    status, body = _call(api, "POST", "/images/create")
    assert status == 400
