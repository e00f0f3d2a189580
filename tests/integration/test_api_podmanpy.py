"""podman-py, a client nobody here wrote, through the libpod routes."""

from __future__ import annotations

import podman

from tests.rig.api import ApiService


def test_podman_py_images_containers_volumes(api: ApiService) -> None:
    client = podman.PodmanClient(base_url=api.url)
    assert client.version()["Version"]
    image = next(i for i in client.images.list() if any("sealtest/tiny" in t for t in i.tags))
    ctr = client.containers.run(image.id, ["sh", "-c", "echo from-podman-py; exit 4"], detach=True)
    assert ctr.wait() == 4
    assert b"from-podman-py" in b"".join(ctr.logs())
    assert ctr.id in [c.id for c in client.containers.list(all=True)]
    ctr.remove(force=True)
    assert ctr.id not in [c.id for c in client.containers.list(all=True)]
    vol = client.volumes.create("podmanpy-vol")
    assert client.volumes.exists("podmanpy-vol")
    vol.remove()
    assert client.info()["host"]["os"] == "linux"
