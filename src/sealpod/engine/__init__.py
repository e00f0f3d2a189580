"""The runtime facade (libpod): the only entry point for cli, api, kube, systemd and build.

Front-ends build an :class:`Engine` from the global flags and call its services; they
never reach below it into storage, the registry client or the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sealpod.config.loader import GLOBAL_FLAGS_WITH_VALUE as GLOBAL_FLAGS_WITH_VALUE
from sealpod.config.loader import Config
from sealpod.config.loader import GlobalOptions as GlobalFlags

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.config.registries_conf import RegistriesConf
    from sealpod.engine.container_files import ContainerFiles
    from sealpod.engine.container_io import ContainerIO
    from sealpod.engine.container_ops import ContainerOps
    from sealpod.engine.container_stats import StatsService
    from sealpod.engine.containers import ContainerService
    from sealpod.engine.events import EventLog
    from sealpod.engine.health import HealthService
    from sealpod.engine.images import ImageService
    from sealpod.engine.manifests import ManifestService
    from sealpod.engine.networks import NetworkService
    from sealpod.engine.pods import PodService
    from sealpod.engine.secrets import SecretService
    from sealpod.engine.system import SystemService
    from sealpod.engine.trust import TrustService
    from sealpod.engine.volumes import VolumeService
    from sealpod.runtime.conmon import ConmonRuntime
    from sealpod.storage.store import Store

__all__ = ["Engine", "GlobalFlags", "enter_rootless_namespace"]


def enter_rootless_namespace(config: Config) -> dict[str, str]:
    """Join the user's namespace (its pause process), before anything touches storage.

    Every front-end builds its engine through :meth:`Engine.from_flags`, which calls this for
    a rootless user outside the namespace; it returns the variables children must inherit.
    """
    from sealpod.rootless.userns import Identity, enter

    return enter(Identity(os.geteuid(), os.getegid(), config.storage.run_root))


class Engine:
    """Configuration plus lazily opened storage; one per process (or per API request)."""

    def __init__(self, config: Config, env: Mapping[str, str], home: Path) -> None:
        self.config = config
        self.env = env
        self.home = home
        self._store: Store | None = None
        self._registries: RegistriesConf | None = None
        self._containers: ContainerService | None = None
        self._runtimes: dict[str, ConmonRuntime] = {}  # by the name asked for ("": the one in force)

    @classmethod
    def from_flags(cls, flags: GlobalFlags, env: Mapping[str, str] | None = None) -> Engine:
        from sealpod.config.loader import resolve_config
        from sealpod.config.paths import home_dir, is_rootless

        env = dict(os.environ) if env is None else env
        home = home_dir(env)
        config = resolve_config(flags, env, home, is_rootless(env))
        if config.rootless and os.geteuid() != 0:
            env = {**env, **enter_rootless_namespace(config)}
        return cls(config, env, home)

    @property
    def store(self) -> Store:
        if self._store is None:
            from sealpod.storage.store import Store

            s = self.config.storage
            self._store = Store(s.graph_root, s.run_root, s.driver)
        return self._store

    @property
    def registries(self) -> RegistriesConf:
        if self._registries is None:
            from sealpod.config.registries_conf import load_registries_conf

            self._registries = load_registries_conf(self.env, self.home)
        return self._registries

    @property
    def images(self) -> ImageService:
        from sealpod.engine.images import ImageService

        return ImageService(self)

    @property
    def trust(self) -> TrustService:
        """policy.json (``image trust``) and signatures (``image sign``)."""
        from sealpod.engine.trust import TrustService

        return TrustService(self)

    @property
    def system(self) -> SystemService:
        from sealpod.engine.system import SystemService

        return SystemService(self)

    @property
    def containers(self) -> ContainerService:
        if self._containers is None:
            from sealpod.engine.containers import ContainerService

            self._containers = ContainerService(self)
        return self._containers

    @property
    def container_ops(self) -> ContainerOps:
        """exec, attach, top, rename, init, mount, prune, clone, update."""
        from sealpod.engine.container_ops import ContainerOps

        return ContainerOps(self)

    @property
    def container_io(self) -> ContainerIO:
        """Attach before start, resize, Docker's wait conditions, stats: for API clients."""
        from sealpod.engine.container_io import ContainerIO

        return ContainerIO(self)

    @property
    def health(self) -> HealthService:
        """Healthchecks: one check (``healthcheck run``), their state, the timer that repeats them."""
        from sealpod.engine.health import HealthService

        return HealthService(self)

    @property
    def container_stats(self) -> StatsService:
        """Resource-use samples of containers for ``stats``."""
        from sealpod.engine.container_stats import StatsService

        return StatsService(self)

    @property
    def container_files(self) -> ContainerFiles:
        """cp, diff, export, import, commit: a container's files as archives and images."""
        from sealpod.engine.container_files import ContainerFiles

        return ContainerFiles(self)

    @property
    def volumes(self) -> VolumeService:
        from sealpod.engine.volumes import VolumeService

        return VolumeService(self)

    @property
    def secrets(self) -> SecretService:
        """Secrets (the ``file`` driver): records in the database, data in 0600 files."""
        from sealpod.engine.secrets import SecretService

        return SecretService(self)

    @property
    def events(self) -> EventLog:
        """The event log under the graph root: emitted by every operation, read by ``events``."""
        from sealpod.engine.events import EventLog

        return EventLog(self)

    @property
    def networks(self) -> NetworkService:
        """Networks, and each container's network namespace, addresses and ports."""
        from sealpod.engine.networks import NetworkService

        return NetworkService(self)

    @property
    def pods(self) -> PodService:
        """Pods: an infra container holding shared namespaces, and its members."""
        from sealpod.engine.pods import PodService

        return PodService(self)

    @property
    def manifests(self) -> ManifestService:
        """Local manifest lists (multi-arch images): create, add, annotate, inspect, push."""
        from sealpod.engine.manifests import ManifestService

        return ManifestService(self)

    def image_users(self, image_id: str) -> list[str]:
        """Containers (by name) using an image; they keep it from being removed."""
        return self.containers.db.users_of_image(image_id)

    def oci_runtime(self, wanted: str = "") -> ConmonRuntime:
        """conmon + the configured OCI runtime (runc where crun cannot run), state under the run root;
        ``wanted``: a container's own runtime (the name or path it was created with), which Podman
        keeps using for it whatever runtime later commands are given."""
        runtime = self._runtimes.get(wanted)
        if runtime is None:
            from sealpod.errors import ConfigError
            from sealpod.runtime.conmon import ConmonRuntime, RuntimePaths
            from sealpod.utils.proc import which

            name, path = self.system.runtime_path(wanted)
            if not path:  # Podman's words
                raise ConfigError(f'default OCI runtime "{name}" not found: invalid argument')
            if not os.access(path, os.X_OK):
                raise ConfigError(f"no valid executable found for OCI runtime {path}: invalid argument")
            conmon = next((p for p in self.config.containers.engine.conmon_path if os.access(p, os.X_OK)), None)
            conmon = conmon or which("conmon")
            if not conmon:
                raise ConfigError("could not find a working conmon binary: install conmon")
            run_root = self.store.run_root
            runtime = self._runtimes[wanted] = ConmonRuntime(RuntimePaths(
                runtime=path, runtime_root=run_root / "runc", conmon=conmon, exit_dir=run_root / "exits",
                socket_dir=run_root / "socket", persist_dir_base=run_root / "containers"),
                # conmon's own debug lines would end up in exec sessions' output: trace only
                log_level="debug" if self.config.log_level == "trace" else "error",
                env=self.monitor_env(), runtime_flags=self.config.runtime_flags)
        return runtime

    def monitor_env(self) -> dict[str, str]:
        """The environment conmon keeps for the container's lifetime: only what its exit command
        (``container cleanup``) needs to find the same configuration, not the whole shell's.  No
        locale: with LANG set conmon's glib loads the locale tables, ~30 kB more left running per
        container, and the cleanup's Python falls back to C.UTF-8 by itself."""
        keep = ("PATH", "HOME", "TMPDIR", "REGISTRY_AUTH_FILE", "NOTIFY_SOCKET")
        prefixes = ("CONTAINERS_", "SEALPOD_", "XDG_", "STORAGE_", "_CONTAINERS_")
        return {k: v for k, v in self.env.items() if k in keep or k.startswith(prefixes)}

    def volume_path(self, name: str | None) -> Path:
        """The data directory of a named volume, created (and recorded) on first use; None: a new
        anonymous volume.  Containers go through ``volumes.mount_for``, which also mounts and copies up."""
        volumes = self.volumes
        return volumes.data_dir(volumes.ensure(name).name)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
