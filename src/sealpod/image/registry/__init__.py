"""The registry client (OCI distribution API) and its authentication.

The names are loaded on first use: ``import sealpod.image.registry.auth`` (which the auth.json
code needs) must not drag in ``ssl`` and ``http.client`` at CLI start-up.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.image.registry.auth import Credentials
    from sealpod.image.registry.client import RegistryClient, RegistryOptions

__all__ = ["Credentials", "RegistryClient", "RegistryOptions"]

_WHERE = {"Credentials": "auth", "RegistryClient": "client", "RegistryOptions": "client"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
