"""``RUN --mount=...``: what a RUN instruction mounts besides the build's ``--volume``s.

Secrets (``type=secret``, from ``build --secret``) and binds (``type=bind``, from the context or
another stage) are mounted read-only unless asked otherwise; tmpfs mounts are empty.  None of
them is committed: their mount points are left out of the RUN's layer.
"""

from __future__ import annotations

import posixpath

from sealpod.errors import BuildError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.build.builder import Builder, _State
    from sealpod.build.containerfile import Instruction
    from sealpod.engine.container_config import MountSpec


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if key in ("ro", "readonly", "rw", "required") and not sep:
            value = "true"
        out[key] = value
    return out


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes", "")


def _secret(b: Builder, fields: dict[str, str]) -> MountSpec | None:
    from sealpod.engine.container_config import MountSpec

    sid = fields.get("id", "")
    target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
    if not sid:
        sid = posixpath.basename(target)
    if not sid:
        raise BuildError("RUN --mount=type=secret: an id or a target is required")
    source = b.options.secrets.get(sid)
    if source is None:
        if "required" in fields and _truthy(fields["required"]):
            raise BuildError(f"secret required but no secret with id {sid} found")
        return None
    return MountSpec("bind", target or f"/run/secrets/{sid}", source, read_only=True)


def _bind(b: Builder, fields: dict[str, str]) -> MountSpec:
    import os

    from sealpod.engine.container_config import MountSpec

    target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
    if not target:
        raise BuildError("RUN --mount=type=bind: a target is required")
    if fields.get("from"):
        raise BuildError("RUN --mount=type=bind,from=... is not supported")
    rel = (fields.get("source") or fields.get("src") or ".").lstrip("/") or "."
    root = os.path.realpath(b.context.root)
    source = os.path.realpath(os.path.join(root, rel))
    if source != root and not source.startswith(root + os.sep):
        raise BuildError(f"RUN --mount=type=bind: source {rel!r} is outside the build context")
    if not os.path.exists(source):
        raise BuildError(f"RUN --mount=type=bind: stat {source}: no such file or directory")
    writable = "rw" in fields and _truthy(fields["rw"])
    return MountSpec("bind", target, source, read_only=not writable)


def run_mounts(b: Builder, st: _State, ins: Instruction) -> list[MountSpec]:
    """The mounts ``ins``'s ``--mount`` flags ask for."""
    from sealpod.build.substitute import expand
    from sealpod.engine.container_config import MountSpec

    mounts: list[MountSpec] = []
    for name, value in ins.flags:
        if name != "mount":
            continue
        fields = _fields(expand(value, b.variables(st)))
        kind = fields.get("type", "bind")
        if kind == "secret":
            found = _secret(b, fields)
            if found is not None:
                mounts.append(found)
        elif kind == "bind":
            mounts.append(_bind(b, fields))
        elif kind in ("tmpfs", "cache"):  # a cache that lasts one RUN: what it holds is never in the image
            target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
            if not target:
                raise BuildError(f"RUN --mount=type={kind}: a target is required")
            mounts.append(MountSpec("tmpfs", target))
        else:
            raise BuildError(f'RUN --mount: unsupported mount type "{kind}"')
    return mounts


def scratch_volumes(config: dict[str, Any], taken: tuple[MountSpec, ...]) -> list[MountSpec]:
    """As Buildah: a RUN step sees the stage's VOLUME paths as the image has them (owner and mode
    too), but what it writes there is not committed.  An anonymous volume of the RUN container at
    each one, copied up from the image and removed with the container, does both."""
    from sealpod.engine.container_config import MountSpec

    volumes = config.get("Volumes")
    have = {m.destination.rstrip("/") or "/" for m in taken}
    paths = sorted({"/" + str(p).strip().strip("/") for p in volumes or {}}) if isinstance(volumes, dict) else []
    return [MountSpec("volume", p) for p in paths if p != "/" and p not in have]
