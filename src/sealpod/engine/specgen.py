"""Merge what the image says, what containers.conf says and what the user said.

``resolve_static`` runs at create time and stores its answer with the container (so
``ps`` and ``inspect`` show the real command without reading the image again);
``runtime_params`` runs at each start and produces the runtime's parameters.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

if TYPE_CHECKING:
    from sealpod.engine import Engine
    from sealpod.storage.records import ImageRecord


def image_config(image: ImageRecord | None) -> dict[str, Any]:
    if image is None:
        return {}
    doc = json.loads(image.config)
    inner = doc.get("config") if isinstance(doc, dict) else None
    return inner if isinstance(inner, dict) else {}


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def merge_env(*layers: list[str]) -> list[str]:
    """Later layers win per variable; order of first appearance is kept."""
    merged: dict[str, str] = {}
    for layer in layers:
        for item in layer:
            key, sep, value = item.partition("=")
            if key:
                merged[key] = f"{key}={value}" if sep else item
    return list(merged.values())


def resolve_static(engine: Engine, config: ContainerConfig, image: ImageRecord | None) -> dict[str, Any]:
    """Command, environment, working directory, user and stop signal of a new container."""
    img = image_config(image)
    entrypoint = list(config.entrypoint) if config.entrypoint is not None else _strings(img.get("Entrypoint"))
    if config.command is not None and (config.command or config.entrypoint is not None):
        cmd = list(config.command)
    elif config.entrypoint is not None:
        cmd = []  # an explicit --entrypoint drops the image's Cmd, as Docker and Podman do
    else:
        cmd = _strings(img.get("Cmd"))
    if not entrypoint and not cmd:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    conf = engine.config.containers.containers
    host_env: list[str] = []
    if config.env_host:
        import os

        host_env = [f"{k}={v}" for k, v in os.environ.items()]
    env = merge_env(list(conf.env), _strings(img.get("Env")), ["container=podman"], host_env, list(config.env))
    labels = {**(img.get("Labels") or {}), **config.labels}
    return {
        "entrypoint": entrypoint, "cmd": cmd, "command": entrypoint + cmd, "env": env,
        "workdir": config.workdir or str(img.get("WorkingDir") or "/"),
        "user": config.user or str(img.get("User") or ""),
        "stop_signal": config.stop_signal or str(img.get("StopSignal") or "SIGTERM"),
        "labels": labels, "exposed_ports": sorted((img.get("ExposedPorts") or {}).keys()),
        # checked now (a missing secret fails create, as in Podman); the data is read at each start
        "secrets": engine.secrets.resolve_uses(config.secrets) if config.secrets else [],
    }
