"""podman-py, a client nobody here wrote, through the libpod routes."""

from __future__ import annotations

from pathlib import Path

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


def test_podman_py_userns_auto(api: ApiService) -> None:
    # runc mounts the rootfs from inside the container's user namespace: every directory above
    # the store must be searchable by others, as /var/lib is (pytest's tmp dirs are 0700)
    for parent in api.runner.root.parents:
        if parent != Path("/") and not parent.stat().st_mode & 0o001:
            parent.chmod(parent.stat().st_mode | 0o011)
    client = podman.PodmanClient(base_url=api.url)
    image = next(i for i in client.images.list() if any("sealtest/tiny" in t for t in i.tags))
    ctr = client.containers.run(image.id, ["cat", "/proc/self/uid_map"], detach=True, userns_mode="auto")
    assert ctr.wait() == 0
    fields = b"".join(ctr.logs()).split()
    assert fields[0] == b"0" and fields[1] != b"0"  # root inside maps to a subordinate id, not to host root
    ctr.remove(force=True)
