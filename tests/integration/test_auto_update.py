"""``auto-update`` (Podman's 255-auto-update.bats, the parts that need no systemd as PID 1): policy
labels checked at create, pending updates seen by asking the real registry or the local store, and
a failed unit restart reported and rolled back, with real registry, runc and conmon."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

FMT = "{{.Unit}},{{.Image}},{{.Updated}},{{.Policy}}"


@pytest.fixture(scope="module")
def au(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("auto-update"), seeded_registry.host) as runner:
        runner.run("pull", "-q", "sealtest/multilayer")
        yield runner


def _service(au: SealpodRunner, image: str, policy: str, unit: str = "container-x.service") -> str:
    return au.run("run", "-d", "--label", f"io.containers.autoupdate={policy}",
                  "--label", f"PODMAN_SYSTEMD_UNIT={unit}", image, "sleep", "1000").stdout.strip()


def test_create_needs_a_fully_qualified_docker_reference(au: SealpodRunner, tmp_path: Path) -> None:
    """255 "validate input": short names and other transports cannot be asked for updates."""
    au.run("tag", "sealtest/tiny", "shortname:latest")
    try:
        out = au.run("create", "--label", "io.containers.autoupdate=registry", "shortname:latest", check=False)
        assert out.returncode == 125
        assert out.stderr.strip() == ('Error: short name: auto updates require fully-qualified image reference: '
                                      '"shortname:latest"')
        archive = tmp_path / "archive.tar"
        au.run("save", "-o", str(archive), "sealtest/tiny")
        out = au.run("create", "--label", "io.containers.autoupdate=image", f"docker-archive:{archive}", check=False)
        assert out.returncode == 125
        assert ('auto updates require the docker image transport but image is of transport "docker-archive"'
                in out.stderr)
        cid = au.run("create", "--label", "io.containers.autoupdate=local", "shortname:latest").stdout.strip()
        au.run("rm", cid)
    finally:
        au.run("rmi", "shortname:latest")


def test_nothing_to_update_prints_nothing(tmp_path: Path) -> None:
    """255 "label io.containers.autoupdate=image": no container with a policy, no output, no event."""
    runner = SealpodRunner(tmp_path)
    assert runner.run("auto-update").stdout == ""
    assert runner.run("events", "--stream=false", "--filter", "type=system").stdout == ""


def test_registry_policy_sees_a_changed_remote_image(au: SealpodRunner, seeded_registry: RegistryServer) -> None:
    """The registry's digest differs from the local image's: pending (dry run), then pulled."""
    name = f"{seeded_registry.host}/sealtest/tiny:latest"
    cid = _service(au, name, "registry")
    try:
        assert au.run("auto-update", "--dry-run", "--format", FMT).stdout == \
            f"container-x.service,{name},false,registry\n"
        au.run("tag", "sealtest/multilayer", name)  # the local name now points elsewhere
        assert au.run("auto-update", "--dry-run", "--format", FMT).stdout == \
            f"container-x.service,{name},pending,registry\n"
        assert "system auto-update" in au.run("events", "--stream=false", "--filter", "type=system").stdout
    finally:
        au.run("rm", "-f", "-t", "0", cid)
        au.run("pull", "-q", name)


def test_local_policy_and_a_failed_restart_rolls_back(au: SealpodRunner, seeded_registry: RegistryServer) -> None:
    """local: the name now names another image; the unit restart fails here (no systemd), so the
    name goes back to the image the container ran and the run fails, as Podman reports it."""
    au.run("tag", "sealtest/tiny", "localhost/au-local:latest")
    cid = _service(au, "localhost/au-local:latest", "local", "container-local.service")
    old = au.run("inspect", "--format", "{{.Image}}", cid).stdout.strip()
    try:
        au.run("tag", "sealtest/multilayer", "localhost/au-local:latest")
        out = au.run("auto-update", "--dry-run", "--format", "json")
        (row,) = json.loads(out.stdout)
        assert (row["Unit"], row["Policy"], row["Updated"], row["ContainerID"]) == \
            ("container-local.service", "local", "pending", cid)
        assert row["Container"] == f"{cid[:12]} ({row['ContainerName']})"
        out = au.run("auto-update", "--format", FMT, check=False)
        assert out.returncode == 125 and "restarting unit container-local.service" in out.stderr
        assert out.stdout == "container-local.service,localhost/au-local:latest,failed,local\n"
        assert au.run("image", "inspect", "--format", "{{.Id}}", "localhost/au-local:latest").stdout.strip() == old
    finally:
        au.run("rm", "-f", "-t", "0", cid)
        au.run("rmi", "localhost/au-local:latest")


def test_invalid_policy_fails_the_run(au: SealpodRunner) -> None:
    """255 "label io.containers.autoupdate=fakevalue"."""
    cid = _service(au, "sealtest/tiny", "fakevalue")
    try:
        out = au.run("auto-update", check=False)
        assert out.returncode == 125 and "invalid auto-update policy" in out.stderr
    finally:
        au.run("rm", "-f", "-t", "0", cid)
