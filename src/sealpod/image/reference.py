"""Image references, parsed the way the containers ecosystem parses them.

The grammar is the one of docker/distribution's ``reference`` package, which Docker,
Podman and every registry agree on::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := host [":" port]          host := domain-name | "[" IPv6 "]"
    domain-name      := domain-component ["." domain-component]*
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := /[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" /[0-9a-fA-F]{32,}/
    algorithm        := /[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*/

A first component is a registry only if it contains "." or ":" or is "localhost";
otherwise the name is a *short name* and :attr:`Reference.registry` stays None until
short-name resolution (``sealpod.image.shortnames``) picks one.  Docker Hub is special:
``index.docker.io`` is spelled ``docker.io`` and its one-component repositories live
under ``library/``.  Podman 4.3 still rejects bracketed IPv6 registries; we accept them
as newer Docker and containers/image do.

Error messages are Podman's words for the same input (checked against Podman 4.3.1).
"""

from __future__ import annotations

import re

from sealpod.errors import InvalidReference
from sealpod.utils.record import dataclass, replace

DOCKER_HUB = "docker.io"
LEGACY_DOCKER_HUB = "index.docker.io"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# Written without nested ambiguous repetition (the grammar's own "[-]*" separator
# can match empty): Python's backtracking engine would otherwise go exponential on
# long hostile input, where Go's RE2 stays linear.  The languages are the same.
_DOMAIN_COMPONENT = r"[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

# Python's alternation and "?" are leftmost-first like Go's regexp, so "busybox" is not
# taken for a domain: the optional domain group backtracks when no "/" follows.
_REFERENCE_RE = re.compile(
    rf"((?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::({_TAG}))?(?:@({_DIGEST}))?"
)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_HEX64_RE = re.compile(r"[a-f0-9]{64}")
_HEX_RE = re.compile(r"[a-f0-9]+")

# Digest algorithms go-digest knows, with the length of their hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

# Transports accepted in front of a reference, as in `podman pull oci:/dir:tag`.
TRANSPORTS = (
    "docker",
    "containers-storage",
    "oci",
    "oci-archive",
    "docker-archive",
    "dir",
    "docker-daemon",
)

ERR_INVALID_FORMAT = "invalid reference format"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_UPPERCASE = "repository name must be lowercase"
ERR_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"


@dataclass(frozen=True)
class Reference:
    """A parsed image reference; build it with :func:`parse_reference`.

    ``repository`` is the path below the registry, already carrying ``library/`` for
    Docker Hub.  ``tag`` and ``digest`` are kept exactly as given (both may be set;
    see :meth:`strip_tag_if_digested` for what Podman pulls then).
    """

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """``registry/repository``, or just the repository for a short name."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def is_short_name(self) -> bool:
        return self.registry is None

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> Reference:
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(ERR_INVALID_FORMAT)
        return replace(self, tag=tag)

    def with_digest(self, digest: str) -> Reference:
        _check_digest(digest)
        return replace(self, digest=digest)

    def with_registry(self, registry: str) -> Reference:
        """Qualify the name with ``registry``, applying Docker Hub's rules and the length limit."""
        if not re.fullmatch(_DOMAIN, registry):
            raise InvalidReference(ERR_INVALID_FORMAT)
        registry, repository = _normalize(registry, self.repository)
        if len(registry) + 1 + len(repository) > NAME_TOTAL_LENGTH_MAX:
            raise InvalidReference(ERR_TOO_LONG)
        return replace(self, registry=registry, repository=repository)

    def tagged_or_latest(self) -> Reference:
        """The reference to pull or look up: a bare name means ``:latest``."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def strip_tag_if_digested(self) -> Reference:
        """Drop the tag when a digest is present: the digest decides, as in Podman and Docker."""
        if self.tag is not None and self.digest is not None:
            return replace(self, tag=None)
        return self

    def familiar(self) -> str:
        """The name as the Docker CLI shows it: ``busybox:1`` rather than ``docker.io/library/busybox:1``."""
        if self.registry != DOCKER_HUB:
            return str(self)
        repository = self.repository.removeprefix("library/")
        if "/" in repository and repository != self.repository:
            repository = self.repository  # "library/a/b" must stay unambiguous
        return str(replace(self, registry=None, repository=repository))


def parse_reference(text: str) -> Reference:
    """Parse ``text`` as ``[registry/]repository[:tag][@digest]``, without a transport prefix.

    The checks run in the order of docker/distribution, so the first problem found is
    the one Podman reports.
    """
    if text == "":
        raise InvalidReference(ERR_NAME_EMPTY)
    match = _REFERENCE_RE.fullmatch(text)
    if match is None:
        if _REFERENCE_RE.fullmatch(text.lower()):
            raise InvalidReference(ERR_UPPERCASE)
        raise InvalidReference(ERR_INVALID_FORMAT)
    name, tag, digest = match.groups()
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(ERR_TOO_LONG)
    if digest is not None:
        _check_digest(digest)
    registry, repository = _split_domain(name)
    if registry is not None:
        registry, repository = _normalize(registry, repository)
        if len(registry) + 1 + len(repository) > NAME_TOTAL_LENGTH_MAX:
            raise InvalidReference(ERR_TOO_LONG)
    return Reference(registry, repository, tag, digest)


def _split_domain(name: str) -> tuple[str | None, str]:
    first, sep, rest = name.partition("/")
    if sep and (first == "localhost" or "." in first or ":" in first):
        return first, rest
    if first != first.lower():
        # The grammar let an upper-case first component through as a domain, but it is
        # not one by Docker's rule: as part of the repository it must be lower case.
        raise InvalidReference(ERR_UPPERCASE)
    return None, name


def _normalize(registry: str, repository: str) -> tuple[str, str]:
    if registry == LEGACY_DOCKER_HUB:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository


def _check_digest(digest: str) -> None:
    """Validate like go-digest: known algorithm, exact length, lower-case hex."""
    if not _DIGEST_RE.fullmatch(digest):
        raise InvalidReference(ERR_INVALID_FORMAT)
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidReference("unsupported digest algorithm")
    if len(encoded) != length:
        raise InvalidReference("invalid checksum digest length")
    if encoded != encoded.lower():
        raise InvalidReference("invalid checksum digest format")


def split_transport(text: str) -> tuple[str | None, str]:
    """Split ``transport:rest`` for the transports sealpod knows; (None, text) otherwise.

    ``docker`` counts only when spelled ``docker://`` (its rest loses the slashes):
    ``docker:5000/img`` is a registry called "docker" on port 5000, which is also how
    Podman ends up reading it.  The rest is returned verbatim; each transport parses its
    own syntax (a path, ``path:tag``, a reference).
    """
    if text.startswith("docker://"):
        return "docker", text[len("docker://") :]
    head, sep, rest = text.partition(":")
    if sep and head in TRANSPORTS and head != "docker":
        return head, rest
    return None, text


def is_full_id(text: str) -> bool:
    """Whether ``text`` is a complete image or layer ID: 64 lower-case hex digits."""
    return _HEX64_RE.fullmatch(text) is not None


def looks_like_id_prefix(text: str) -> bool:
    """Whether ``text`` could abbreviate an ID.

    containers/storage accepts any non-empty hex prefix that is unambiguous (Podman
    finds an image by "9"), but only after trying ``text`` as a name: a local image
    named ``localhost/beef`` wins over an ID starting with "beef".
    """
    return _HEX_RE.fullmatch(text) is not None and len(text) <= 64


def strip_sha256(text: str) -> str:
    """``sha256:<id>`` → ``<id>``; other text is returned unchanged.

    Podman accepts the prefixed form only with a full ID, and says so otherwise.
    """
    if not text.startswith("sha256:"):
        return text
    encoded = text[len("sha256:") :]
    if not is_full_id(encoded):
        raise InvalidReference("invalid format: no 64-byte hexadecimal value")
    return encoded
