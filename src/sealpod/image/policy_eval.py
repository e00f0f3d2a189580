"""Deciding whether policy.json lets an image in: run before any of its layers is stored.

Every requirement of the list that applies must be met (containers-policy.json(5)); a
``signedBy`` one is met by any single signature that verifies with one of its keys, names
the manifest being pulled and an identity its ``signedIdentity`` accepts.  Refusals are worded
as containers/image words them, after Podman's ``Source image rejected:``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sealpod.errors import PolicyRejected
from sealpod.image.policy import Policy, Requirement, SignedIdentity, normalized_reference
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.image.reference import Reference

REJECTED = "Source image rejected: "


@dataclass(frozen=True)
class PolicyImage:
    """What the policy is asked about: one source image, before it is copied."""

    transport: str  # the policy.json transport name: docker, dir, oci, docker-archive, ...
    name: str  # for messages, with the transport: docker://host/repo:tag
    scopes: tuple[str, ...]  # most specific first
    docker_reference: str | None  # the identity signatures are compared with (None: it has none)
    signatures: Callable[[str], list[bytes]]  # manifest digest -> the stored signatures


def check(policy: Policy, image: PolicyImage, manifest: bytes) -> None:
    """Raise PolicyRejected unless every requirement for ``image`` accepts it."""
    for requirement in policy.requirements_for(image.transport, image.scopes):
        _check_one(requirement, image, manifest)


def _check_one(req: Requirement, image: PolicyImage, manifest: bytes) -> None:
    if req.type == "insecureAcceptAnything":
        return
    if req.type == "reject":
        raise PolicyRejected(f"{REJECTED}Running image {image.name} is rejected by policy.")
    if req.type == "sigstoreSigned":
        raise PolicyRejected(f"{REJECTED}sigstoreSigned requirements are not supported by sealpod (no sigstore "
                             "verifier is installed): use signedBy with GPG keys")
    _check_signed_by(req, image, manifest)


def _manifest_digest(manifest: bytes, algorithm: str = "sha256") -> str:
    import hashlib

    return f"{algorithm}:{hashlib.new(algorithm, manifest).hexdigest()}"


def _check_signed_by(req: Requirement, image: PolicyImage, manifest: bytes) -> None:
    sigs = image.signatures(_manifest_digest(manifest))
    rejections: list[str] = []
    keys: list[bytes] | None = None
    for sig in sigs:
        try:
            if keys is None:
                keys = _keys(req)
            _check_signature(req, keys, sig, image, manifest)
            return
        except PolicyRejected as e:
            rejections.append(str(e).removeprefix(REJECTED))
    if not rejections:
        raise PolicyRejected(f"{REJECTED}A signature was required, but no signature exists")
    if len(rejections) == 1:
        raise PolicyRejected(REJECTED + rejections[0])
    raise PolicyRejected(f"{REJECTED}None of the signatures were accepted, reasons: {'; '.join(rejections)}")


def _keys(req: Requirement) -> list[bytes]:
    if req.key_type != "GPGKeys":
        raise PolicyRejected(f'{REJECTED}Unimplemented "keyType" value "{req.key_type}"')
    if req.key_data:
        return [req.key_data]
    keys = []
    for path in (req.key_path,) if req.key_path else req.key_paths:
        try:
            keys.append(Path(path).read_bytes())
        except OSError as e:
            raise PolicyRejected(f"{REJECTED}open {path}: {(e.strerror or str(e)).lower()}") from e
    return keys


def _check_signature(req: Requirement, keys: list[bytes], sig: bytes, image: PolicyImage, manifest: bytes) -> None:
    from sealpod.image.signatures import parse_payload, verify

    payload, _fingerprint = verify(keys, sig)
    digest, signed_reference = parse_payload(payload)
    algorithm = digest.partition(":")[0]
    if algorithm not in ("sha256", "sha512") or _manifest_digest(manifest, algorithm) != digest:
        raise PolicyRejected(f'{REJECTED}Signature for docker digest "{digest}" does not match')
    if not identity_matches(req.signed_identity or SignedIdentity(), image.docker_reference, signed_reference):
        raise PolicyRejected(f"{REJECTED}Signature for identity {signed_reference} is not accepted")


def _parse(text: str) -> Reference | None:
    from sealpod.errors import InvalidReference

    try:
        return normalized_reference(text)  # type: ignore[no-any-return]
    except InvalidReference:
        return None


def _name_only(ref: Reference) -> bool:
    return ref.tag is None and ref.digest is None


def _repo_digest_or_exact(intended: Reference, signed: Reference) -> bool:
    if _name_only(signed):
        return False
    if intended.digest is not None:
        return signed.name == intended.name
    if intended.tag is not None:
        return str(signed) == str(intended)
    return False


def identity_matches(identity: SignedIdentity, image_reference: str | None, signed_text: str) -> bool:
    """Does the signed ``docker-reference`` fit the image under ``signedIdentity``'s rule?"""
    signed = _parse(signed_text)
    if signed is None:
        return False
    if identity.type == "exactReference":
        wanted = _parse(identity.docker_reference)
        return wanted is not None and not _name_only(signed) and str(signed) == str(wanted)
    if identity.type == "exactRepository":
        wanted = _parse(identity.docker_repository)
        return wanted is not None and signed.name == wanted.name
    intended = _parse(image_reference) if image_reference else None
    if intended is None:
        return False
    intended = intended.strip_tag_if_digested()
    if identity.type == "matchExact":
        return not _name_only(intended) and not _name_only(signed) and str(signed) == str(intended)
    if identity.type == "matchRepository":
        return signed.name == intended.name
    if identity.type == "remapIdentity":
        intended = _remap(intended, identity.prefix, identity.signed_prefix)
        if intended is None:
            return False
    return _repo_digest_or_exact(intended, signed)


def _remap(ref: Reference, prefix: str, signed_prefix: str) -> Reference | None:
    """``ref`` with ``prefix`` (a whole path component) replaced by ``signed_prefix``."""
    name = ref.name
    if name != prefix and not (name.startswith(prefix) and name[len(prefix):len(prefix) + 1] == "/"):
        return ref
    text = signed_prefix + str(ref)[len(prefix):]
    return _parse(text)
