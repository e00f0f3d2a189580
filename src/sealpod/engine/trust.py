"""Image trust: policy.json applied to pulls, signatures made at push, ``image trust`` and ``image sign``.

The pull paths ask :func:`docker_policy` / :func:`local_policy` for the check that
``image.copy`` runs on the top-level manifest before any layer is stored.  Signatures live in
the lookaside storage that registries.d names for the image (Podman's built-in directory if none).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sealpod.errors import InvalidArgument, SealpodError, SignatureError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.config.registries_d import Lookaside
    from sealpod.engine import Engine
    from sealpod.engine.entities import RegistryFlags
    from sealpod.image.policy import Policy, Requirement
    from sealpod.image.reference import Reference

PolicyCheck = Callable[[bytes], None]
TRUST_TYPES = {"accept": "insecureAcceptAnything", "reject": "reject", "signedBy": "signedBy",
               "sigstoreSigned": "sigstoreSigned"}


@dataclass(frozen=True)
class TrustRow:
    """One line of ``image trust show``."""

    transport: str  # "all" for the default, "repository" for a docker scope, else the transport
    name: str
    repo_name: str
    type: str  # accept, reject, signed, sigstoreSigned
    gpg_id: str = ""
    sigstore: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"transport": self.transport, "name": self.name, "repo_name": self.repo_name, "type": self.type}
        if self.gpg_id:
            out["gpg_id"] = self.gpg_id
        if self.sigstore:
            out["sigstore"] = self.sigstore
        return out


def load(engine: Engine, explicit: Path | None) -> Policy:
    from sealpod.image.policy import load_policy, policy_path

    return load_policy(policy_path(explicit, engine.env, engine.home, engine.config.rootless))


def lookaside(engine: Engine, ref: Reference, directory: Path | None = None) -> tuple[Lookaside, str]:
    """registries.d's settings for ``ref`` (from ``directory`` when given) and the built-in default location."""
    from sealpod.config.registries_d import default_lookaside, load_registries_d, registries_d_dir
    from sealpod.image.policy import docker_scopes

    rootless = engine.config.rootless
    conf = load_registries_d(directory or registries_d_dir(engine.env, engine.home, rootless))
    return conf.for_scopes(docker_scopes(str(ref))), default_lookaside(rootless, engine.home)


def docker_policy(engine: Engine, policy: Policy, ref: Reference) -> PolicyCheck:
    """The check for pulling ``ref`` (fully qualified) from a registry."""
    from sealpod.image.policy import docker_scopes
    from sealpod.image.policy_eval import PolicyImage, check

    pulled = ref.strip_tag_if_digested().tagged_or_latest()

    def signatures(digest: str) -> list[bytes]:
        from sealpod.image.signatures import read_signatures

        entry, default = lookaside(engine, pulled)
        return read_signatures(entry.lookaside or default, pulled.repository, digest)

    image = PolicyImage(transport="docker", name=f"docker://{pulled}", scopes=docker_scopes(str(pulled)),
                        docker_reference=str(pulled), signatures=signatures)
    return lambda manifest: check(policy, image, manifest)


def local_policy(policy: Policy, transport: str, rest: str) -> PolicyCheck:
    """The check for dir:, oci:, the archives and docker-daemon: (only dir: can hold signatures)."""
    from sealpod.image.policy import docker_scopes, normalized_reference, path_scopes
    from sealpod.image.policy_eval import PolicyImage, check

    if transport == "docker-daemon":
        ref = str(normalized_reference(rest).strip_tag_if_digested().tagged_or_latest())
        scopes, docker_ref = docker_scopes(ref), ref
    else:
        path, sep, sub = rest.partition(":") if transport != "dir" else (rest, "", "")
        scopes, docker_ref = path_scopes(path, sub or None), None

    def signatures(_digest: str) -> list[bytes]:
        if transport != "dir":
            return []
        from sealpod.image.signatures import read_file_signatures

        return read_file_signatures(Path(rest))

    image = PolicyImage(transport=transport, name=f"{transport}:{rest}", scopes=scopes,
                        docker_reference=docker_ref, signatures=signatures)
    return lambda manifest: check(policy, image, manifest)


def signer(engine: Engine, ref: Reference, key_id: str, passphrase_file: Path | None = None
           ) -> Callable[[bytes], None]:
    """What ``push --sign-by`` runs once the registry has the manifest: sign it for ``ref`` and
    write the signature where registries.d stages signatures for that repository."""
    from sealpod.image.manifest import digest_of
    from sealpod.image.signatures import make_payload, sign, write_signatures

    def run(manifest: bytes) -> None:
        digest = digest_of(manifest)
        sig = sign(make_payload(digest, str(ref)), key_id, engine.env, passphrase_file)
        entry, default = lookaside(engine, ref)
        base = entry.lookaside_staging or entry.lookaside or default
        write_signatures(base, ref.repository, digest, [sig], append=False)

    return run


class TrustService:
    """``image trust show|set`` and ``image sign``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _path(self, explicit: Path | None) -> Path:
        from sealpod.image.policy import policy_path

        return policy_path(explicit, self.engine.env, self.engine.home, self.engine.config.rootless)

    def raw(self, policy_path: Path | None) -> str:
        """The policy file as it is (checked first, as Podman parses it before printing)."""
        path = self._path(policy_path)
        load(self.engine, path)
        return path.read_text()

    def show(self, policy_path: Path | None, registries_d: Path | None = None) -> list[TrustRow]:
        """The policy's rows; ``registries_d`` (``--registrypath``) replaces the registries.d directory."""
        from sealpod.config.registries_d import load_registries_d, registries_d_dir

        policy = load(self.engine, self._path(policy_path))
        conf = load_registries_d(registries_d or registries_d_dir(self.engine.env, self.engine.home,
                                                                  self.engine.config.rootless))
        rows = [row for req in policy.default for row in self._rows("all", "default", req)]
        for transport, scopes in sorted(policy.transports.items()):
            for scope in sorted(scopes):
                kind = "repository" if transport == "docker" else transport
                store = ""
                if transport == "docker" and scope and not scope.startswith("*."):
                    # Podman matches the scope's text, then its parent paths, against registries.d
                    key = scope
                    while key not in conf.scopes and "/" in key:
                        key = key.rpartition("/")[0]
                    store = (conf.scopes.get(key) or conf.default).lookaside
                for req in scopes[scope]:
                    rows.extend(self._rows(kind, scope, req, store))
        return rows

    def _rows(self, transport: str, scope: str, req: Requirement, store: str = "") -> list[TrustRow]:
        from sealpod.image.signatures import key_data_identities, key_identities

        kind = {"insecureAcceptAnything": "accept", "signedBy": "signed"}.get(req.type, req.type)
        name = "* (default)" if transport == "all" else scope
        paths = (req.key_path,) if req.key_path else req.key_paths
        ids = [i for p in paths for i in key_identities(Path(p))] if req.type == "signedBy" else []
        if req.type == "signedBy" and req.key_data:
            ids = key_data_identities(req.key_data)
        return [TrustRow(transport, name, scope, kind, ", ".join(ids), store)]

    def set(self, scope: str, trust_type: str, key_files: list[Path], policy_path: Path | None) -> Path:
        """Add or replace the requirement of ``scope`` ("default" is the default), as Podman does."""
        from sealpod.image.policy import read_policy_document, write_policy_document

        if trust_type not in TRUST_TYPES:
            raise InvalidArgument(f"invalid choice: {trust_type} (choose from 'accept', 'reject', 'signedBy', "
                                  "'sigstoreSigned')")
        if trust_type in ("signedBy", "sigstoreSigned") and not key_files:
            raise InvalidArgument(f"at least one public key must be defined for type '{trust_type}'")
        if trust_type not in ("signedBy", "sigstoreSigned") and key_files:
            raise InvalidArgument(f"{len(key_files)} public keys unexpectedly provided for trust type {trust_type}")
        scope = scope.removeprefix("docker://")
        if scope.startswith("*.") or "://" in scope:
            raise InvalidArgument(f"invalid image uri: {scope}")
        path = self._path(policy_path)
        doc = read_policy_document(path)
        requirements: list[dict[str, Any]] = []
        keys: list[Path | None] = list(key_files) or [None]
        for key in keys:
            req: dict[str, Any] = {"type": TRUST_TYPES[trust_type]}
            if key is not None:
                if trust_type == "signedBy":
                    req["keyType"] = "GPGKeys"
                req["keyPath"] = str(key.absolute())
            requirements.append(req)
        if scope == "default":
            doc["default"] = requirements
        else:
            if not doc.get("default"):
                raise InvalidArgument("default trust policy must be set")
            doc.setdefault("transports", {}).setdefault("docker", {})[scope] = requirements
        write_policy_document(path, doc)
        return path

    def sign(self, names: list[str], key_id: str, directory: Path | None, flags: RegistryFlags,
             all_instances: bool = False) -> list[Path]:
        """Sign images that are in a registry (``docker://`` names); returns the signature directories."""
        from sealpod.engine.image_transfer import _access
        from sealpod.image.reference import split_transport

        access = _access(flags)

        if not key_id:
            raise InvalidArgument("please provide an identity")
        if directory is not None and not directory.is_dir():
            raise SignatureError(f"stat {directory}: no such file or directory")
        out = []
        for name in names:
            transport, rest = split_transport(name)
            if transport != "docker":
                raise InvalidArgument(f'parsing image name: Invalid image name "{name}", unknown transport '
                                      f'"{name.split(":", 1)[0]}"')
            out.extend(self._sign_one(rest.removeprefix("//"), key_id, directory, access, all_instances))
        return out

    def _sign_one(self, name: str, key_id: str, directory: Path | None, access: Any,
                  all_instances: bool) -> list[Path]:
        """Sign the manifest ``name`` has in its registry (with ``-a``, each instance of an index too)."""
        from sealpod.image.manifest import ACCEPT, Index, digest_of, parse
        from sealpod.image.policy import normalized_reference
        from sealpod.image.reference import parse_reference
        from sealpod.image.transports.docker import open_client
        from sealpod.utils.record import replace

        ref = normalized_reference(name).strip_tag_if_digested().tagged_or_latest()
        body, media_type = b"", ""
        # the image is read where a pull would read it (registries.conf mirrors and location), and
        # signed for the name given, as Podman does
        for i, source in enumerate(sources := self.engine.registries.pull_sources(str(ref))):
            src = parse_reference(source.name)
            assert src.registry is not None
            tls = replace(access, tls_verify=False) if source.insecure and access.tls_verify is None else access
            try:
                with open_client(src.registry, tls, self.engine.registries, self.engine.env, self.engine.home,
                                 src.repository) as client:
                    body, media_type, _ = client.get_manifest(src.repository, src.digest or src.tag or "latest", ACCEPT)
                break
            except SealpodError as e:
                if i == len(sources) - 1:
                    raise type(e)(f"getting image source: {e}") from e
        digests = [digest_of(body)]
        parsed = parse(body, media_type)
        if all_instances and isinstance(parsed, Index):
            digests.extend(m.digest for m in parsed.manifests)
        return [self._store_signature(ref, d, key_id, directory) for d in digests]

    def _store_signature(self, ref: Reference, digest: str, key_id: str, directory: Path | None) -> Path:
        from sealpod.image.signatures import make_payload, sign, write_signatures

        try:
            sig = sign(make_payload(digest, str(ref)), key_id, self.engine.env)
        except SignatureError as e:
            raise SignatureError(f"storing signature for {ref}, {digest}: {e}") from e
        if directory is not None:
            base = directory.absolute().as_uri()
        else:
            entry, default = lookaside(self.engine, ref)
            base = entry.lookaside_staging or entry.lookaside or default
        return write_signatures(base, ref.repository, digest, [sig], append=True)

