"""The route table: each module registers its routes; Docker and libpod paths share handlers
wherever their meaning agrees."""

from __future__ import annotations

import importlib

from sealpod.api.http import Router

MODULES = ("system", "images", "containers", "exec", "volumes", "networks", "secrets", "pods", "remote_cli", "kube",
           "build", "manifests", "generate")


def build_router() -> Router:
    router = Router()
    for name in MODULES:
        try:
            module = importlib.import_module(f"sealpod.api.routes.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"sealpod.api.routes.{name}":
                raise
            continue  # not written yet
        module.register(router)
    return router
