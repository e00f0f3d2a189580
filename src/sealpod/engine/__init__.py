"""The runtime facade (libpod): the only entry point for cli, api, kube, systemd and build.

Front-ends build an :class:`Engine` from the global flags and call its services; they
never reach below it into storage, the registry client or the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sealpod.config.loader import Config
from sealpod.config.loader import GlobalOptions as GlobalFlags

if TYPE_CHECKING:
    from sealpod.config.registries_conf import RegistriesConf
    from sealpod.engine.images import ImageService
    from sealpod.engine.system import SystemService
    from sealpod.storage.store import Store

__all__ = ["Engine", "GlobalFlags"]


class Engine:
    """Configuration plus lazily opened storage; one per process (or per API request)."""

    def __init__(self, config: Config, env: Mapping[str, str], home: Path) -> None:
        self.config = config
        self.env = env
        self.home = home
        self._store: Store | None = None
        self._registries: RegistriesConf | None = None

    @classmethod
    def from_flags(cls, flags: GlobalFlags, env: Mapping[str, str] | None = None) -> Engine:
        from sealpod.config.loader import resolve_config
        from sealpod.config.paths import home_dir, is_rootless

        env = dict(os.environ) if env is None else env
        home = home_dir(env)
        return cls(resolve_config(flags, env, home, is_rootless(env)), env, home)

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
    def system(self) -> SystemService:
        from sealpod.engine.system import SystemService

        return SystemService(self)

    def image_users(self, image_id: str) -> list[str]:
        """Containers (ID or name) using an image; they keep it from being removed.

        There are no containers yet (see the containers issue): nothing uses an image.
        """
        return []

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
