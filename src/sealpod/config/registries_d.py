"""registries.d (containers-registries.d(5)): where the signatures of an image are read and written.

Every ``*.yaml`` file of the directory is merged: ``default-docker`` applies where no
``docker:`` scope matches; a scope is a host, a repository namespace or a repository.
Podman 4.3 reads ``lookaside``/``lookaside-staging`` and their older names
``sigstore``/``sigstore-staging``; with nothing configured it falls back to a built-in
directory, so signing and verifying work out of the box on one machine.

The caller (``image``) computes the candidate scopes of a reference, most specific first:
this module knows files, not image references.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from sealpod.errors import ConfigError
from sealpod.utils.record import dataclass, field

SYSTEM_DIR = Path("/etc/containers/registries.d")
ENV_OVERRIDE = "SEALPOD_REGISTRIES_D"
"""sealpod's own override of the directory (Podman has none; skopeo has ``--registries.d``)."""


@dataclass(frozen=True)
class Lookaside:
    """One scope's settings; empty strings are "not set"."""

    lookaside: str = ""
    lookaside_staging: str = ""
    use_sigstore_attachments: bool | None = None


@dataclass(frozen=True)
class RegistriesD:
    default: Lookaside = field(default_factory=Lookaside)
    scopes: dict[str, Lookaside] = field(default_factory=dict)
    directory: Path | None = None

    def for_scopes(self, candidates: Sequence[str]) -> Lookaside:
        """The settings of the first candidate scope configured, else ``default-docker``."""
        for scope in candidates:
            if scope in self.scopes:
                return self.scopes[scope]
        return self.default


def registries_d_dir(env: Mapping[str, str], home: Path, rootless: bool) -> Path:
    """Podman's choice: the user's directory when rootless and present, else the system's."""
    if env.get(ENV_OVERRIDE):
        return Path(env[ENV_OVERRIDE])
    if rootless:
        user = home / ".config" / "containers" / "registries.d"
        if user.is_dir():
            return user
    return SYSTEM_DIR


def default_lookaside(rootless: bool, home: Path) -> str:
    """The built-in lookaside of c/image 5.23, used when no scope names one."""
    if rootless:
        return (home / ".local" / "share" / "containers" / "sigstore").as_uri()
    return "file:///var/lib/containers/sigstore"


def _entry(raw: object, where: str) -> Lookaside:
    if raw is None:
        return Lookaside()
    if not isinstance(raw, dict):
        raise ConfigError(f"parsing signature storage configuration {where}: a mapping is expected")

    def text(*keys: str) -> str:
        for key in keys:
            value = raw.get(key)
            if value:
                if not isinstance(value, str):
                    raise ConfigError(f"parsing signature storage configuration {where}: {key} must be a string")
                return value
        return ""

    attach = raw.get("use-sigstore-attachments")
    return Lookaside(lookaside=text("lookaside", "sigstore"),
                     lookaside_staging=text("lookaside-staging", "sigstore-staging"),
                     use_sigstore_attachments=attach if isinstance(attach, bool) else None)


def _merge_file(path: Path, conf: RegistriesD, seen: dict[str, Path]) -> RegistriesD:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"parsing signature storage configuration {path}: {e}".replace("\n", " ")) from e
    if not isinstance(data, dict):
        raise ConfigError(f"parsing signature storage configuration {path}: a mapping is expected")
    default = conf.default
    if "default-docker" in data:
        if "default-docker" in seen:
            raise ConfigError(f'"{path}" contains a default-docker definition, but that was already specified '
                              f'in "{seen["default-docker"]}"')
        seen["default-docker"] = path
        default = _entry(data["default-docker"], str(path))
    scopes = dict(conf.scopes)
    docker = data.get("docker") or {}
    if not isinstance(docker, dict):
        raise ConfigError(f"parsing signature storage configuration {path}: docker must be a mapping")
    for scope, raw in docker.items():
        if scope in seen:
            raise ConfigError(f'"{path}" contains a definition for "{scope}", but that was already specified '
                              f'in "{seen[scope]}"')
        seen[str(scope)] = path
        scopes[str(scope)] = _entry(raw, f"{path} ({scope})")
    return RegistriesD(default=default, scopes=scopes, directory=conf.directory)


def load_registries_d(directory: Path) -> RegistriesD:
    """Merge every ``*.yaml`` of ``directory`` (absent: nothing configured)."""
    conf = RegistriesD(directory=directory)
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".yaml"))
    except FileNotFoundError:
        return conf
    except OSError as e:
        raise ConfigError(f"reading {directory}: {e.strerror or e}") from e
    seen: dict[str, Path] = {}
    for name in names:
        conf = _merge_file(directory / name, conf, seen)
    return conf
