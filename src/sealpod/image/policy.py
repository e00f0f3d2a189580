"""policy.json (containers-policy.json(5)): which images may be pulled, and who must have signed them.

The file is parsed strictly, as containers/image does, so that a typo refuses every pull
instead of silently accepting everything; error texts are Podman's (``invalid policy in
"PATH": ...``).  Evaluation lives in :mod:`sealpod.image.policy_eval`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sealpod.errors import ConfigError
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

SYSTEM_POLICY = Path("/etc/containers/policy.json")
KEY_TYPES = ("GPGKeys", "SignedByGPGKeys", "X509Certificates", "SignedByX509CAs")
IDENTITY_TYPES = ("matchExact", "matchRepoDigestOrExact", "matchRepository", "exactReference",
                  "exactRepository", "remapIdentity")


class InvalidPolicy(ValueError):
    """A policy document that containers/image would refuse; the message is its wording."""


@dataclass(frozen=True)
class SignedIdentity:
    """How the identity a signature claims must relate to the image being pulled."""

    type: str = "matchRepoDigestOrExact"
    docker_reference: str = ""  # exactReference
    docker_repository: str = ""  # exactRepository
    prefix: str = ""  # remapIdentity
    signed_prefix: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"type": self.type}
        extra = {"dockerReference": self.docker_reference, "dockerRepository": self.docker_repository,
                 "prefix": self.prefix, "signedPrefix": self.signed_prefix}
        out.update({k: v for k, v in extra.items() if v})
        return out


@dataclass(frozen=True)
class Requirement:
    """One entry of a requirement list: ``insecureAcceptAnything``, ``reject``, ``signedBy``,
    ``sigstoreSigned``.  Key material is kept as written; it is read when evaluated."""

    type: str
    key_type: str = ""
    key_path: str = ""
    key_paths: tuple[str, ...] = ()
    key_data: bytes = b""
    signed_identity: SignedIdentity | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw) if self.raw else {"type": self.type}


@dataclass(frozen=True)
class Policy:
    default: tuple[Requirement, ...]
    transports: dict[str, dict[str, tuple[Requirement, ...]]] = field(default_factory=dict)
    path: Path | None = None

    def requirements_for(self, transport: str, scopes: tuple[str, ...]) -> tuple[Requirement, ...]:
        """The most specific scope of ``transport`` that is configured, then its ``""``, then default."""
        table = self.transports.get(transport)
        if table is not None:
            for scope in scopes:
                if scope in table:
                    return table[scope]
            if "" in table:
                return table[""]
        return self.default


def policy_path(explicit: Path | None, env: Mapping[str, str], home: Path, rootless: bool) -> Path:
    """``--signature-policy``, else the user's file (rootless, if present), else the system's."""
    if explicit is not None:
        return explicit
    if rootless:
        base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        user = base / "containers" / "policy.json"
        if user.exists():
            return user
    return SYSTEM_POLICY


def load_policy(path: Path) -> Policy:
    """Read and check ``path``; a missing or malformed file is an error, as in Podman."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"open {path}: {(e.strerror or str(e)).lower()}") from e
    try:
        return parse_policy(data, path)
    except InvalidPolicy as e:
        raise ConfigError(f'invalid policy in "{path}": {e}') from e


def _json_error(e: ValueError, data: bytes) -> str:
    import json

    if isinstance(e, json.JSONDecodeError) and not data[e.pos:].strip():
        return "unexpected end of JSON input"
    return str(e).split(": line ")[0] if isinstance(e, json.JSONDecodeError) else str(e)


def parse_policy(data: bytes, path: Path | None = None) -> Policy:
    """Parse a policy document; raises InvalidPolicy with containers/image's words."""
    import json

    try:
        doc = json.loads(data)
    except ValueError as e:
        raise InvalidPolicy(_json_error(e, data)) from e
    if not isinstance(doc, dict):
        raise InvalidPolicy("json: cannot unmarshal into Go value of type signature.Policy")
    for key in doc:
        if key not in ("default", "transports"):
            raise InvalidPolicy(f'Unknown key "{key}"')
    if "default" not in doc or doc["default"] is None:
        raise InvalidPolicy("Default policy is missing")
    default = _requirements(doc["default"])
    transports: dict[str, dict[str, tuple[Requirement, ...]]] = {}
    raw_transports = doc.get("transports") or {}
    if not isinstance(raw_transports, dict):
        raise InvalidPolicy("transports must be an object")
    for name, scopes in raw_transports.items():
        if not isinstance(scopes, dict):
            raise InvalidPolicy(f'scopes of transport "{name}" must be an object')
        table: dict[str, tuple[Requirement, ...]] = {}
        for scope, reqs in scopes.items():
            if name == "docker":
                check_docker_scope(scope)
            table[scope] = _requirements(reqs)
        transports[name] = table
    return Policy(default=default, transports=transports, path=path)


def check_docker_scope(scope: str) -> None:
    """A docker scope: ``""``, ``*.domain``, or a reference without ``docker://``."""
    from sealpod.errors import InvalidReference
    from sealpod.image.reference import parse_reference

    if scope == "":
        return
    if scope.startswith("*."):
        if "/" in scope or not scope[2:]:
            raise InvalidPolicy(f'Invalid scope "{scope}": a wildcard is only allowed for a whole host name')
        return
    try:
        parse_reference(scope)
    except InvalidReference as e:
        raise InvalidPolicy(f'Invalid scope "{scope}": {e}') from e


def _requirements(value: object) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        raise InvalidPolicy("Policy requirement list must be an array")
    if not value:
        raise InvalidPolicy("Policy requirement list is empty")
    return tuple(_requirement(item) for item in value)


def _fields(raw: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            raise InvalidPolicy(f'Unknown key "{key}"')


def _requirement(raw: object) -> Requirement:
    if not isinstance(raw, dict):
        raise InvalidPolicy("Policy requirement must be an object")
    kind = raw.get("type")
    if kind in ("insecureAcceptAnything", "reject"):
        _fields(raw, ("type",))
        return Requirement(type=kind, raw=dict(raw))
    if kind == "signedBy":
        return _signed_by(raw)
    if kind == "sigstoreSigned":
        _fields(raw, ("type", "keyPath", "keyData", "fulcio", "rekorPublicKeyPath", "rekorPublicKeyData",
                      "signedIdentity"))
        identity = _identity(raw["signedIdentity"]) if "signedIdentity" in raw else None
        return Requirement(type=kind, key_path=str(raw.get("keyPath") or ""), signed_identity=identity,
                           raw=dict(raw))
    raise InvalidPolicy(f'Unknown policy requirement type "{kind if isinstance(kind, str) else ""}"')


def _key_material(raw: dict[str, Any]) -> tuple[str, tuple[str, ...], bytes]:
    import base64
    import binascii

    present = [k for k in ("keyPath", "keyPaths", "keyData") if k in raw]
    if not present:
        raise InvalidPolicy("Exactly one of keyPath, keyPaths and keyData must be specified, none of them present")
    if len(present) > 1:
        raise InvalidPolicy(f"{present[0]} and {present[1]} cannot be used simultaneously")
    if "keyPath" in raw:
        if not isinstance(raw["keyPath"], str):
            raise InvalidPolicy("keyPath must be a string")
        return raw["keyPath"], (), b""
    if "keyPaths" in raw:
        paths = raw["keyPaths"]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) or not paths:
            raise InvalidPolicy("keyPaths must be a non-empty array of strings")
        return "", tuple(paths), b""
    try:
        return "", (), base64.b64decode(str(raw["keyData"]), validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidPolicy("illegal base64 data at input byte 0") from e


def _signed_by(raw: dict[str, Any]) -> Requirement:
    _fields(raw, ("type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"))
    key_type = raw.get("keyType")
    if key_type not in KEY_TYPES:
        raise InvalidPolicy(f'invalid keyType "{key_type if isinstance(key_type, str) else ""}"')
    key_path, key_paths, key_data = _key_material(raw)
    identity = _identity(raw["signedIdentity"]) if "signedIdentity" in raw else SignedIdentity()
    return Requirement(type="signedBy", key_type=key_type, key_path=key_path, key_paths=key_paths,
                       key_data=key_data, signed_identity=identity, raw=dict(raw))


def _identity(raw: object) -> SignedIdentity:
    if not isinstance(raw, dict):
        raise InvalidPolicy("signedIdentity must be an object")
    kind = raw.get("type")
    if kind not in IDENTITY_TYPES:
        raise InvalidPolicy(f'Unknown policy reference match type "{kind if isinstance(kind, str) else ""}"')
    if kind == "exactReference":
        _fields(raw, ("type", "dockerReference"))
        ref = _normalized_ref(raw.get("dockerReference"), "dockerReference")
        if ref.tag is None and ref.digest is None:
            raise InvalidPolicy(f"dockerReference {raw.get('dockerReference')} contains neither a tag nor digest")
        return SignedIdentity(type=kind, docker_reference=str(raw["dockerReference"]))
    if kind == "exactRepository":
        _fields(raw, ("type", "dockerRepository"))
        _normalized_ref(raw.get("dockerRepository"), "dockerRepository")
        return SignedIdentity(type=kind, docker_repository=str(raw["dockerRepository"]))
    if kind == "remapIdentity":
        _fields(raw, ("type", "prefix", "signedPrefix"))
        prefix, signed = raw.get("prefix"), raw.get("signedPrefix")
        for name, value in (("prefix", prefix), ("signedPrefix", signed)):
            if not isinstance(value, str) or not value:
                raise InvalidPolicy(f"{name} must be a non-empty string")
            check_docker_scope(value)
        return SignedIdentity(type=kind, prefix=str(prefix), signed_prefix=str(signed))
    _fields(raw, ("type",))
    return SignedIdentity(type=str(kind))


def _normalized_ref(value: object, what: str) -> Any:
    from sealpod.errors import InvalidReference

    if not isinstance(value, str):
        raise InvalidPolicy(f"{what} must be a string")
    try:
        return normalized_reference(value)
    except InvalidReference as e:
        raise InvalidPolicy(f"{what} {value}: {e}") from e


def normalized_reference(text: str) -> Any:
    """A reference as Docker normalises it: a short name is on docker.io (``library/`` added)."""
    from sealpod.image.reference import parse_reference

    ref = parse_reference(text)
    return ref.with_registry("docker.io") if ref.is_short_name else ref


# --- scopes of the image being evaluated --------------------------------------------------

def docker_scopes(ref_text: str) -> tuple[str, ...]:
    """``host/ns/repo:tag``, ``host/ns/repo``, ``host/ns``, ``host``, then ``*.domain`` wildcards
    of the host without its port: containers/image's PolicyConfigurationNamespaces."""
    ref = normalized_reference(ref_text).strip_tag_if_digested().tagged_or_latest()
    scopes = [str(ref)]
    name = ref.name
    while True:
        scopes.append(name)
        if "/" not in name:
            break
        name = name.rsplit("/", 1)[0]
    host = name.split(":", 1)[0]
    while "." in host:
        host = host.split(".", 1)[1]
        scopes.append(f"*.{host}")
    return tuple(scopes)


def path_scopes(path: str, ref: str | None = None) -> tuple[str, ...]:
    """dir:, oci: and the archives: the path (with ``:ref``), then the path and its parents."""
    resolved = os.path.realpath(path) if os.path.exists(path) else os.path.abspath(path)
    scopes = [f"{resolved}:{ref}" if ref else resolved]
    if ref:
        scopes.append(resolved)
    while True:
        parent = resolved.rsplit("/", 1)[0]
        if not parent or parent == resolved:
            break
        scopes.append(parent)
        resolved = parent
    return tuple(scopes)


# --- writing: ``image trust set`` ---------------------------------------------------------

def read_policy_document(path: Path) -> dict[str, Any]:
    """The raw document ``trust set`` edits (missing: an empty one, as Podman starts from)."""
    import json

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"open {path}: {(e.strerror or str(e)).lower()}") from e
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ConfigError(f'invalid policy in "{path}": {_json_error(e, data)}') from e
    if not isinstance(doc, dict):
        raise ConfigError(f'invalid policy in "{path}": the document is not an object')
    return doc


def write_policy_document(path: Path, doc: Mapping[str, Any]) -> None:
    """Replace the file atomically, indented as Podman writes it."""
    import json

    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(doc, indent=4) + "\n")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"writing {path}: {(e.strerror or str(e)).lower()}") from e
