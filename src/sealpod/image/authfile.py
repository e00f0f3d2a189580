"""Registry credentials in auth.json, as containers-auth.json.5 describes them.

Users already have these files from ``podman login`` and ``docker login``, so sealpod reads the
same ones in the same order as containers/image:

1. the auth file: ``--authfile`` / ``REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/
   auth.json``, else ``/run/containers/$UID/auth.json``;
2. ``$XDG_CONFIG_HOME/containers/auth.json`` (``~/.config/containers/auth.json``);
3. ``~/.docker/config.json``, then the legacy ``~/.dockercfg`` (whose top level *is* the map).

Keys are ``registry`` or ``registry/namespace/repo``; the most specific key of the first file
that has one wins. Writes go only to the auth file (1), atomically, mode 0600.
Credential helpers (``credHelpers``, ``credsStore``) are not supported.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path

from sealpod.errors import ConfigError, InvalidArgument
from sealpod.image.registry.auth import IDENTITY_TOKEN_USER, Credentials

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")


def auth_file_path(env: Mapping[str, str], uid: int | None = None) -> Path:
    """Where ``login`` writes and lookups start: the containers-auth.json.5 default."""
    if env.get("REGISTRY_AUTH_FILE"):
        return Path(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "containers/auth.json"
    if uid is None:  # the user's own uid also inside our user namespace, where getuid() says 0
        from sealpod.config.paths import rootless_uid

        uid = rootless_uid(env)
    if uid != 0:  # a user without a runtime dir (after su): Podman's is then /tmp/podman-run-UID, ours this
        return Path(f"/tmp/sealpod-{uid}/containers/auth.json")
    return Path("/run/containers/0/auth.json")


def search_paths(
    env: Mapping[str, str], home: Path, auth_file: Path | None = None
) -> list[tuple[Path, bool]]:
    """Files consulted for credentials, in order, each with whether it has the legacy layout."""
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    paths = [
        (auth_file if auth_file is not None else auth_file_path(env), False),
        (config_home / "containers/auth.json", False),
        (home / ".docker/config.json", False),
        (home / ".dockercfg", True),
    ]
    out: list[tuple[Path, bool]] = []
    for p, legacy in paths:
        if all(p != q for q, _ in out):
            out.append((p, legacy))
    return out


def find_credentials(
    registry_or_repo: str, *, env: Mapping[str, str], home: Path, auth_file: Path | None = None
) -> Credentials | None:
    """Credentials for a registry or repository (``quay.io/ns/repo``, no tag), or None."""
    key = normalize_key(registry_or_repo)
    for path, legacy in search_paths(env, home, auth_file):
        auths = _read_auths(path, legacy)
        entry = _lookup(auths, key)
        if entry is not None:
            creds = _decode_entry(entry, path)
            if creds is not None:
                return creds
    return None


def _lookup(auths: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The most specific entry for ``key``: repo, then its namespaces, then the registry."""
    candidate = key
    while True:
        entry = auths.get(candidate)
        if isinstance(entry, dict):
            return entry
        if "/" not in candidate:
            break
        candidate = candidate.rsplit("/", 1)[0]
    registry = key.split("/", 1)[0]
    for name, entry in auths.items():  # docker-style keys such as "https://index.docker.io/v1/"
        if isinstance(entry, dict) and "/" not in normalize_key(name) and normalize_key(name) == registry:
            return entry
    return None


def _decode_entry(entry: Mapping[str, Any], path: Path) -> Credentials | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials(IDENTITY_TOKEN_USER, token)
    raw = entry.get("auth")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        user, sep, password = base64.b64decode(raw, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise ConfigError(f"decoding credentials in {path}: invalid base64 in \"auth\"") from e
    if not sep:
        raise ConfigError(f"decoding credentials in {path}: \"auth\" is not of the form user:password")
    return Credentials(user, password)


def normalize_key(key: str) -> str:
    """Strip what docker-style keys carry (scheme, ``/v1/``) and fold Docker Hub's aliases."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):].split("/", 1)[0]
            break
    key = key.rstrip("/")
    registry, sep, rest = key.partition("/")
    if registry in _DOCKER_HUB_ALIASES:
        registry = "docker.io"
    return registry + sep + rest


def _read_auths(path: Path, legacy: bool) -> dict[str, Any]:
    doc = _read_json(path)
    auths = doc if legacy else doc.get("auths", {})
    if auths is None:
        return {}
    if not isinstance(auths, dict):  # Go's decoder refuses it, rather than reading no credentials at all
        raise ConfigError(f"unmarshaling JSON at {str(path)!r}: \"auths\" is not a JSON object")
    for key, entry in auths.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"unmarshaling JSON at {str(path)!r}: auths entry {key!r} is not a JSON object")
    return auths


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"reading auth file {path}: {e.strerror}") from e
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ConfigError(f"unmarshaling JSON at {str(path)!r}: {e}") from e
    if not isinstance(doc, dict):
        raise ConfigError(f"unmarshaling JSON at {str(path)!r}: not a JSON object")
    return doc


def validate_key(key: str) -> str:
    """The normalised auth-file key, or InvalidArgument for a reference with a tag or digest."""
    return _validate_key(key)


def _validate_key(key: str) -> str:
    if key.startswith(("http://", "https://")):
        raise InvalidArgument(f"credentials key has https[s]:// prefix: {key}")
    if not key or "@" in key or ":" in key.partition("/")[2]:
        raise InvalidArgument(f'reference "{key}" contains tag or digest')
    return normalize_key(key)


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    """Atomic replace, mode 0600: a crash never leaves a half-written file of secrets."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".auth-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o600)
            json.dump(doc, f, indent="\t")
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_credentials(key: str, creds: Credentials, *, auth_file: Path) -> None:
    """Record credentials for a registry or repository (``podman login``), keeping other entries."""
    key = _validate_key(key)
    doc = _read_json(auth_file)
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        auths = doc["auths"] = {}
    if creds.username == IDENTITY_TOKEN_USER:
        auths[key] = {"identitytoken": creds.password}
    else:
        auths[key] = {"auth": base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()}
    _write_json(auth_file, doc)


def remove_credentials(key: str, *, auth_file: Path) -> bool:
    """Forget one key (``podman logout``); False when it was not there."""
    key = _validate_key(key)
    doc = _read_json(auth_file)
    auths = doc.get("auths")
    if not isinstance(auths, dict) or key not in auths:
        return False
    del auths[key]
    _write_json(auth_file, doc)
    return True


def remove_all(auth_file: Path) -> None:
    """Forget every key (``podman logout --all``); other settings in the file stay."""
    doc = _read_json(auth_file)
    if not doc:
        return
    doc["auths"] = {}
    _write_json(auth_file, doc)


def split_creds(value: str) -> tuple[str, str | None]:
    """``--creds user[:password]`` → (user, password or None when the CLI should prompt)."""
    if not value:
        raise InvalidArgument("credentials can't be empty")
    user, sep, password = value.partition(":")
    if not user:
        raise InvalidArgument("username can't be empty")
    return user, password if sep else None


def parse_creds(value: str) -> Credentials:
    """``--creds user:password`` → Credentials; without a password it is an error (no prompting here)."""
    user, password = split_creds(value)
    if password is None:
        raise InvalidArgument(f"password for {user!r} missing from --creds (expected user:password)")
    return Credentials(user, password)
