"""Session-wide fixtures: real registries (started lazily), the seeded images, an isolated sealpod."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService, start_service
from tests.rig.images import SeedSet, build_seed_set, seed_registry
from tests.rig.podman_remote import Remote
from tests.rig.registry import MissingComponent, RegistryPool, RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root, skip_or_fail

__all__ = ["require_root", "skip_or_fail"]

REGISTRY_FIXTURES = {"registry": "plain", "auth_registry": "auth", "tls_registry": "tls",
                     "tls_auth_registry": "tls_auth"}


@pytest.fixture(scope="session")
def registry_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryPool]:
    pool = RegistryPool(tmp_path_factory.mktemp("registries"))
    try:
        yield pool
    finally:
        pool.close()


def _start(pool: RegistryPool, kind: str) -> RegistryServer:
    try:
        return pool.get(kind)
    except MissingComponent as e:
        skip_or_fail(str(e))


@pytest.fixture(scope="session")
def registry(registry_pool: RegistryPool) -> RegistryServer:
    """Plain HTTP, no auth; the one ``seeded_registry`` fills."""
    return _start(registry_pool, "plain")


@pytest.fixture(scope="session")
def auth_registry(registry_pool: RegistryPool) -> RegistryServer:
    """HTTP with htpasswd basic auth (sealtest / s3cret-pass)."""
    return _start(registry_pool, "auth")


@pytest.fixture(scope="session")
def tls_registry(registry_pool: RegistryPool) -> RegistryServer:
    """HTTPS with a self-signed CA; trust it through ``ca_cert`` or ``cert_dir``."""
    return _start(registry_pool, "tls")


@pytest.fixture(scope="session")
def tls_auth_registry(registry_pool: RegistryPool) -> RegistryServer:
    """HTTPS + htpasswd basic auth."""
    return _start(registry_pool, "tls_auth")


@pytest.fixture(scope="session")
def seed_images() -> SeedSet:
    """The seeded images as built (digests, manifests, configs), to compare pulls against."""
    return build_seed_set()


@pytest.fixture(scope="session")
def seeded_registry(registry: RegistryServer, seed_images: SeedSet) -> RegistryServer:
    seed_registry(registry, seed_images)
    return registry


@pytest.fixture
def sealpod(tmp_path: Path, request: pytest.FixtureRequest, registry_pool: RegistryPool) -> SealpodRunner:
    """An isolated sealpod; registries.conf knows every registry started so far.

    Registry fixtures the test itself asks for are started first, whatever the argument order,
    so that they are in registries.conf.
    """
    for name in (*REGISTRY_FIXTURES, "seeded_registry"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    started = registry_pool.started
    search = [started["plain"].host] if "plain" in started else []
    insecure = [started[k].host for k in ("plain", "auth") if k in started]
    return SealpodRunner(tmp_path, search_registries=search, insecure_registries=insecure)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    """On failure, attach the tail of the log of each registry the test used."""
    report = yield
    if report.failed:
        servers = {v.url: v for v in getattr(item, "funcargs", {}).values() if isinstance(v, RegistryServer)}
        for url, server in servers.items():
            if server.log_tail():
                report.sections.append((f"registry log ({url})", server.log_tail(15)))
    return report


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[ApiService]:
    """A `sealpod system service` on its own store (holding sealtest/tiny) for a test module.

    The real Docker CLI reaches it with ``api.docker(...)``; docker-py with ``api.url``.
    Containers left behind are removed at the end.
    """
    require_root()
    runner = SealpodRunner(tmp_path_factory.mktemp("api"), search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    runner.run("pull", "-q", "sealtest/tiny")
    service = start_service(runner)
    yield service
    service.stop()
    runner.run("rm", "-af", "-t", "0", check=False)


@pytest.fixture
def pr(api: ApiService, seeded_registry: RegistryServer) -> Iterator[Remote]:
    """The real ``podman --remote`` against the module's service; its pods and containers go afterwards."""
    remote = Remote(api, f"{seeded_registry.host}/sealtest/tiny:latest")
    yield remote
    remote("pod", "rm", "-fa", "-t", "0", check=False)
    remote("rm", "-fa", "-t", "0", check=False)
