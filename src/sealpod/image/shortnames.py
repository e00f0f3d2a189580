"""Short-name resolution: which fully qualified names a short name like ``busybox`` means.

Two questions, answered differently, as in Podman (containers/image ``pkg/shortnames``
and containers/common ``libimage``):

* **Pulling** (:func:`resolve_short_name`): an alias wins; otherwise each
  unqualified-search registry in order.  ``short-name-mode`` decides what happens when
  that leaves several candidates (see :func:`resolve_short_name`).
* **Looking up local storage** (:func:`local_candidates`, then
  :func:`matches_short_name`): alias, ``localhost/``, search registries, then any stored
  name that ends in the short name.

Not done yet, with their slots ready: reading and writing the machine-written alias cache
(``$HOME/.cache/containers/short-name-aliases.conf``, ``/var/cache/containers/...`` for
root) — pass its contents as ``alias_cache`` and record ``Resolution.record_alias``
results after a successful pull; and the interactive prompt — ``cli`` passes a ``choose``
callable when stdin and stdout are terminals.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence

from sealpod.config.registries_conf import RegistriesConf
from sealpod.errors import ConfigError, InvalidReference, ShortNameError
from sealpod.image.reference import DEFAULT_TAG, Reference, parse_reference
from sealpod.utils.record import dataclass, replace

LOCALHOST = "localhost"

# Shows the user the candidates and returns the one picked (Podman's prompt).
Chooser = Callable[[Sequence[Reference]], Reference]


class Origin(enum.StrEnum):
    """Where the candidates of a resolution came from."""

    QUALIFIED = "qualified"  # the name had a registry: nothing to resolve
    ALIAS = "alias"  # an [aliases] entry (or the alias cache)
    SEARCH = "search"  # the unqualified-search registries


@dataclass(frozen=True)
class Resolution:
    """The names to try, in order, for one user-given reference.

    ``source`` is the file the alias or search list came from, for Podman's progress
    line (:meth:`describe`).  ``record_alias`` says that the user chose among several
    candidates: after a successful pull the choice belongs in the alias cache.
    """

    candidates: tuple[Reference, ...]
    origin: Origin
    short_name: str = ""
    source: str = ""
    record_alias: bool = False

    def describe(self) -> str | None:
        """Podman's line telling how a short name was resolved; None for qualified names."""
        if self.origin is Origin.ALIAS:
            return f'Resolved "{self.short_name}" as an alias ({self.source})'
        if self.origin is Origin.SEARCH:
            return f'Resolving "{self.short_name}" using unqualified-search registries ({self.source})'
        return None


def resolve_short_name(
    ref: Reference,
    conf: RegistriesConf,
    *,
    alias_cache: Mapping[str, str] | None = None,
    choose: Chooser | None = None,
) -> Resolution:
    """The candidates to pull ``ref`` from.

    A qualified reference resolves to itself.  A short name's alias (the cache first, then
    registries.conf) is used alone; tags and digests typed by the user are carried over.
    Otherwise one candidate per search registry.  With more than one, ``short-name-mode``
    applies: ``disabled`` tries them all; ``enforcing`` and ``permissive`` ask ``choose``
    (given only when a terminal is attached) and keep that single pick; without it,
    ``enforcing`` fails and ``permissive`` tries them all.  A digest makes the tag moot:
    it is dropped, as Podman does.
    """
    if not ref.is_short_name:
        return Resolution((_pullable(ref),), Origin.QUALIFIED)
    short = ref.repository
    alias = _alias_for(short, conf, alias_cache)
    if alias is not None:
        target, source = alias
        return Resolution((_pullable(_carry_over(target, ref)),), Origin.ALIAS, short, source)
    search = conf.unqualified_search_registries
    if not search:
        raise ShortNameError(
            f'short-name "{ref}" did not resolve to an alias and no unqualified-search registries '
            f'are defined in "{conf.search_origin}"'
        )
    candidates = tuple(_pullable(ref.with_registry(registry)) for registry in search)
    resolution = Resolution(candidates, Origin.SEARCH, short, conf.search_origin)
    if len(candidates) == 1 or conf.short_name_mode == "disabled":
        return resolution
    if choose is not None:
        return replace(resolution, candidates=(choose(candidates),), record_alias=True)
    if conf.short_name_mode == "enforcing":
        raise ShortNameError("short-name resolution enforced but cannot prompt without a TTY")
    return resolution


def local_candidates(ref: Reference, conf: RegistriesConf | None = None) -> list[str]:
    """Full names to look up in local storage for ``ref``, in order; the first found wins.

    Podman's rule (libimage, checked against Podman 4.3.1): a qualified name is looked up
    as is; a short name tries its alias, then ``localhost/NAME``, then ``REGISTRY/NAME`` for
    each unqualified-search registry, each with the tag (default ``latest``) or digest
    typed.  If none is stored, any stored name matching by :func:`matches_short_name`
    is taken (podman takes the first it meets).  Names are tried before ID prefixes: an
    image named ``localhost/beef`` is found by ``beef`` even if another's ID starts so.
    """
    if not ref.is_short_name:
        return [str(_pullable(ref))]
    names: list[str] = []
    if conf is not None:
        alias = _alias_for(ref.repository, conf, None)
        if alias is not None:
            names.append(str(_pullable(_carry_over(alias[0], ref))))
    registries = [LOCALHOST, *(conf.unqualified_search_registries if conf else ())]
    for registry in registries:
        name = str(_pullable(ref.with_registry(registry)))
        if name not in names:
            names.append(name)
    return names


def matches_short_name(stored: Reference, ref: Reference) -> bool:
    """Whether a stored image name is what the short name ``ref`` means, as a last resort.

    The stored repository must end with ``/`` + the short name's path at a component
    boundary (``baz`` and ``qux/baz`` match ``quay.io/qux/baz``; ``ux/baz`` does not), and
    the tag (default ``latest``) must be equal; or, when ``ref`` has a digest, the digest
    (pass the image's digest in ``stored.digest``).
    """
    if not ref.is_short_name or stored.is_short_name:
        return False
    if not f"/{stored.name}".endswith(f"/{ref.repository}"):
        return False
    if ref.digest is not None:
        return stored.digest == ref.digest
    return stored.tag == (ref.tag or DEFAULT_TAG)


def _pullable(ref: Reference) -> Reference:
    return ref.strip_tag_if_digested().tagged_or_latest()


def _carry_over(target: Reference, ref: Reference) -> Reference:
    return replace(target, tag=ref.tag, digest=ref.digest)


def _alias_for(
    short: str, conf: RegistriesConf, cache: Mapping[str, str] | None
) -> tuple[Reference, str] | None:
    """The parsed alias for ``short`` and the file it came from; the cache has precedence."""
    if cache is not None and cache.get(short):
        return _parse_alias(cache[short], "short-name-aliases.conf"), "short-name-aliases.conf"
    value = conf.aliases.get(short)
    if not value:
        return None
    source = conf.alias_origins.get(short, conf.search_origin)
    return _parse_alias(value, source), source


def _parse_alias(value: str, source: str) -> Reference:
    """Full grammar check of an alias value (registries_conf could check only its shape)."""
    try:
        target = parse_reference(value)
    except InvalidReference as e:
        raise ConfigError(
            f'loading registries configuration "{source}": validating short-name aliases: '
            f'parsing alias "{value}": {e}'
        ) from e
    if target.is_short_name or target.tag is not None or target.digest is not None:
        raise ConfigError(
            f'loading registries configuration "{source}": validating short-name aliases: '
            f'invalid alias "{value}": must be a registry and repository without tag or digest'
        )
    return target
