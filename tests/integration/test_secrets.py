"""Secrets end to end: the secret commands, secrets in real containers, and the API routes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import docker
import podman
import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def sec(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("sec"), seeded_registry.host) as runner:
        yield runner


def test_create_ls_inspect_rm(sec: SealpodRunner, tmp_path: Path) -> None:
    secret_id = sec.run("secret", "create", "-l", "tier=db", "s-basic", "-", input="hunter2").stdout.strip()
    assert len(secret_id) == 25
    doc = json.loads(sec.run("secret", "inspect", "s-basic").stdout)[0]
    assert doc["ID"] == secret_id and doc["Spec"]["Name"] == "s-basic"
    assert doc["Spec"]["Driver"]["Name"] == "file" and doc["Spec"]["Labels"] == {"tier": "db"}
    assert "hunter2" not in sec.run("secret", "inspect", "s-basic").stdout
    data = Path(doc["Spec"]["Driver"]["Options"]["path"]) / secret_id
    assert data.read_bytes() == b"hunter2" and stat.S_IMODE(data.stat().st_mode) == 0o600
    ls = sec.run("secret", "ls").stdout.splitlines()
    assert ls[0].split() == ["ID", "NAME", "DRIVER", "CREATED", "UPDATED"]
    assert any(line.startswith(f"{secret_id}  s-basic") for line in ls[1:])
    assert sec.run("secret", "ls", "--format", "{{.Name}}", "--filter", "name=s-basic").stdout == "s-basic\n"
    assert secret_id in sec.run("secret", "ls", "-q").stdout
    assert sec.run("secret", "inspect", "--format", "{{.Spec.Name}}", secret_id[:10]).stdout == "s-basic\n"
    dup = sec.run("secret", "create", "s-basic", "-", input="x", check=False)
    assert (dup.returncode, dup.stderr) == (125, "Error: s-basic: secret name in use\n")
    sec.run("secret", "create", "--replace", "s-basic", "-", input="new")
    assert data.read_bytes() == b"new"
    assert sec.run("secret", "exists", "s-basic").returncode == 0
    assert sec.run("secret", "rm", "s-basic").stdout.strip() == secret_id
    assert not data.exists()
    assert sec.run("secret", "exists", "s-basic", check=False).returncode == 1


def test_bad_input(sec: SealpodRunner, tmp_path: Path) -> None:
    bad = sec.run("secret", "create", "bad/name", "-", input="x", check=False)
    assert bad.returncode == 125 and "invalid secret name" in bad.stderr
    empty = sec.run("secret", "create", "s-empty", "-", input="", check=False)
    assert empty.returncode == 125 and empty.stderr.startswith("Error: ")
    missing = sec.run("secret", "create", "s-nofile", str(tmp_path / "nope"), check=False)
    assert missing.returncode == 125 and "no such file or directory" in missing.stderr
    gone = sec.run("secret", "rm", "s-nope", check=False)
    assert (gone.returncode, gone.stderr) == (125, 'Error: no secret with name or id "s-nope": no such secret\n')
    run = sec.run("run", "--rm", "--secret", "s-nope", IMAGE, "true", check=False)
    assert run.returncode == 125 and "no such secret" in run.stderr
    bad_type = sec.run("run", "--rm", "--secret", "x,type=bogus", IMAGE, "true", check=False)
    assert (bad_type.returncode, bad_type.stderr) == (125, "Error: type bogus is invalid: parsing secret\n")


def test_secrets_in_a_container(sec: SealpodRunner, tmp_path: Path) -> None:
    src = tmp_path / "pw"
    src.write_text("s3cr3t")
    sec.run("secret", "create", "s-run", str(src))
    out = sec.run("run", "--rm", "--network", "none", "--secret", "s-run", "--secret", "s-run,type=env,target=PW",
                  "--secret", "s-run,target=/etc/app.pw,uid=5,mode=0400", IMAGE, "sh", "-c",
                  "cat /run/secrets/s-run; echo; echo $PW; stat -c '%u %a' /etc/app.pw /run/secrets/s-run; "
                  "echo x > /run/secrets/s-run || echo read-only").stdout.splitlines()
    assert out == ["s3cr3t", "s3cr3t", "5 400", "0 444", "read-only"]
    name = "ctr-with-secret"
    sec.run("create", "--name", name, "--network", "none", "--secret", "s-run", IMAGE, "cat", "/run/secrets/s-run")
    cfg = json.loads(sec.run("inspect", "--format", "{{json .Config.Secrets}}", name).stdout)
    assert cfg[0]["Name"] == "s-run" and cfg[0]["Mode"] == 0o444
    sec.run("secret", "create", "--replace", "s-run", "-", input="rotated")
    sec.run("start", "-a", name)
    assert sec.run("logs", name).stdout == "rotated"  # each start reads the secret afresh
    sec.run("rm", name)


def test_api_podman_py_and_docker_py(api: ApiService) -> None:
    client = podman.PodmanClient(base_url=api.url)
    created = client.secrets.create("s-api", b"from-podman-py")
    assert created.id in [s.id for s in client.secrets.list()]
    assert client.secrets.get("s-api").name == "s-api"
    image = next(i for i in client.images.list() if any(IMAGE in t for t in i.tags))
    ctr = client.containers.run(image.id, ["cat", "/run/secrets/s-api"], detach=True, secrets=["s-api"])
    assert ctr.wait() == 0
    assert b"".join(ctr.logs()) == b"from-podman-py"
    ctr.remove(force=True)
    client.secrets.get("s-api").remove()
    assert "s-api" not in [s.name for s in client.secrets.list()]
    dclient = docker.DockerClient(base_url=api.url)
    dsecret = dclient.secrets.create(name="s-docker", data=b"from-docker-py", labels={"a": "b"})
    assert dclient.secrets.get(dsecret.id).name == "s-docker"
    assert dsecret.id in [s.id for s in dclient.secrets.list()]
    dclient.secrets.get(dsecret.id).remove()
    with pytest.raises(docker.errors.NotFound):
        dclient.secrets.get("s-docker")
    assert os.path.isdir(str(api.runner.root))
