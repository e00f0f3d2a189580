"""The image config ``commit`` writes: the container's settings over its image's, as Podman commits them.

Besides CMD, ENV and the like, a commit carries what the container was created with that an image
can say: its port mappings and ``--expose`` ports become ExposedPorts, its anonymous volumes (all
of its volumes and bind mounts with ``--include-volumes``) become Volumes.  Secrets never enter
the image: their mount points are left out of the committed layer.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_files import CommitOptions
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.storage.records import ImageRecord


def secret_paths(rec: ContainerRecord) -> frozenset[str]:
    """Where the container's secrets are mounted: never committed into an image, as Podman."""
    from sealpod.engine.secrets import SecretUse

    uses = [SecretUse(name=u.get("Name", ""), target=u.get("Target", "")) for u in rec.spec.get("secrets") or []
            if u.get("Type", "mount") == "mount"]
    return frozenset(use.mount_path for use in uses)


def _container_ports(spec: str) -> list[str]:
    """``[IP:][HOST:]CTR[-CTR2][/PROTO]`` (``-p``) or ``CTR[-CTR2][/PROTO]`` (``--expose``) → ``80/tcp`` keys."""
    ports, _, proto = spec.partition("/")
    target = ports.rsplit(":", 1)[-1]
    first, _, last = target.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return []
    return [f"{port}/{proto or 'tcp'}" for port in range(int(first), int(last or first) + 1)]


def _exposed_ports(rec: ContainerRecord, inner: dict[str, Any]) -> dict[str, Any]:
    ports = dict(inner.get("ExposedPorts") or {})
    for spec in [*(rec.config.get("ports") or []), *(rec.config.get("expose") or [])]:
        ports.update({key: {} for key in _container_ports(str(spec))})
    return ports


def _volumes(rec: ContainerRecord, inner: dict[str, Any], include_volumes: bool) -> dict[str, Any]:
    """Anonymous volumes always; named volumes and bind mounts too with ``--include-volumes``."""
    volumes = dict(inner.get("Volumes") or {})
    for mount in rec.config.get("mounts") or []:
        anonymous = mount.get("type") == "volume" and not mount.get("source")
        if anonymous or (include_volumes and mount.get("type") in ("volume", "bind")):
            volumes[str(mount.get("destination"))] = {}
    return volumes


def commit_config(rec: ContainerRecord, parent: ImageRecord | None, layer_diff_id: str | None,
                  options: CommitOptions, now: str) -> dict[str, Any]:
    """The new image's config: the parent's, updated from the container and ``options``."""
    import shlex

    from sealpod.engine.image_changes import apply_changes
    from sealpod.image.manifest import host_platform

    base: dict[str, Any] = json.loads(parent.config) if parent else {}
    spec = rec.spec
    inner = dict(base.get("config") or {})
    inner.update({"Env": list(spec.get("env") or []), "Cmd": list(spec.get("cmd") or []) or None,
                  "Entrypoint": list(spec.get("entrypoint") or []) or None,
                  "WorkingDir": spec.get("workdir") or "", "User": spec.get("user") or "",
                  "Labels": dict(spec.get("labels") or {}) or None})
    if options.config is not None:
        inner = dict(options.config)
    else:
        inner.update(ExposedPorts=_exposed_ports(rec, inner), Volumes=_volumes(rec, inner, options.include_volumes))
    inner = {k: v for k, v in apply_changes(inner, options.changes).items() if v not in (None, "", [], {})}
    comment = options.message or (f"FROM {rec.image_name}" if rec.image_name else "")
    if options.history_comment is not None:
        comment = options.history_comment
    now = options.created or now
    entry: dict[str, Any] = {"created": now,
                             "created_by": options.created_by or shlex.join(spec.get("command") or []) or "/bin/sh"}
    if comment:
        entry["comment"] = comment
    if layer_diff_id is None:
        entry["empty_layer"] = True
    if options.author:
        entry["author"] = options.author
    plat = host_platform()
    kept = {} if options.squash else base  # squashed: the parent's layers and history are folded in
    config = {**base, "created": now, "config": inner,
              "architecture": options.arch or base.get("architecture") or plat.architecture,
              "os": options.os_name or base.get("os") or plat.os,
              "rootfs": {"type": "layers",
                         "diff_ids": [*((kept.get("rootfs") or {}).get("diff_ids") or []),
                                      *([layer_diff_id] if layer_diff_id else [])]},
              "history": [*(kept.get("history") or []), entry]}
    if options.message:  # the Docker config's own comment, what inspect's Comment shows
        config["comment"] = options.message
    config.pop("container_config", None)
    config.update(options.extra_config or {})
    if options.omit_history:
        del config["history"]
    if options.author:
        config["author"] = options.author
    elif "author" in config:
        del config["author"]
    return config
