"""registries.conf: where short names are searched, and how registries are reached.

The format and discovery are those of containers-registries.conf(5) and
containers-registries.conf.d(5), so that a user's existing files keep working:

* The main file is ``$CONTAINERS_REGISTRIES_CONF`` if set (it must exist), else
  ``$HOME/.config/containers/registries.conf`` if it exists, else
  ``/etc/containers/registries.conf`` (absent is fine: an empty configuration).
* Drop-ins (``*.conf``, lexical order) follow: from ``/etc/containers/registries.conf.d``
  and then ``$HOME/.config/containers/registries.conf.d``; but when the user's own main
  file is used, only the user's drop-in directory.  Podman 4.3 reads the system drop-ins
  even when CONTAINERS_REGISTRIES_CONF names the main file, and so do we.
* Merging: a key set in a later file replaces the earlier value (an explicit empty
  ``unqualified-search-registries`` too); ``[[registry]]`` tables replace those with the
  same prefix and add the others; aliases merge by name and an empty value erases one.
* The deprecated v1 format (``[registries.search|insecure|block]``) is accepted in the
  main file only and is converted to v2 entries; mixing it with ``[[registry]]`` is an
  error, as in Podman.  Unknown keys are ignored silently, as Podman does.

``config`` sits below ``image`` and cannot use its reference parser, so this module
only knows the shape of names (registry part, tag, digest); callers hand it
normalized names (``docker.io/library/busybox:latest``) and re-parse what it returns.
Alias values get their full grammar check when ``sealpod.image.shortnames`` uses them.
The machine-written alias cache (``short-name-aliases.conf``) is not read yet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from sealpod.config.toml import parse_toml, toml_type_name
from sealpod.errors import ConfigError
from sealpod.utils.record import dataclass, field, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

ENV_REGISTRIES_CONF = "CONTAINERS_REGISTRIES_CONF"
SYSTEM_CONTAINERS_DIR = Path("/etc/containers")
USER_CONF = Path(".config/containers/registries.conf")
DROPIN_SUFFIX = ".d"

SHORT_NAME_MODES = ("enforcing", "permissive", "disabled")
DEFAULT_SHORT_NAME_MODE = "permissive"  # containers-registries.conf(5): unset means permissive
PULL_FROM_MIRROR = ("all", "digest-only", "tag-only")

_HOST = r"[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*(?:\.[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*)*"
_DOMAIN_RE = re.compile(rf"(?:{_HOST}|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_HOST_RE = re.compile(_HOST)


@dataclass(frozen=True)
class Mirror:
    """One ``[[registry.mirror]]``: tried before the primary location, in file order."""

    location: str
    insecure: bool = False
    pull_from_mirror: str = "all"


@dataclass(frozen=True)
class RegistryEntry:
    """One ``[[registry]]`` table; ``prefix`` defaults to ``location`` as the man page says."""

    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    mirror_by_digest_only: bool = False
    mirrors: tuple[Mirror, ...] = ()

    @property
    def is_wildcard(self) -> bool:
        return self.prefix.startswith("*.")

    def match_length(self, name: str) -> int:
        """How much of ``name`` the prefix covers, or -1 when it does not apply.

        A prefix must end at a separator of ``name`` ("/", ":" for a tag, "@"); unlike
        containers/image we do not let ``example.com`` match ``example.com:5000``, which
        it documents as unintended.  ``*.example.com`` covers any subdomain's host part.
        """
        if self.is_wildcard:
            host = _host_part(name)
            return len(host) if host.endswith(self.prefix[1:]) else -1
        if name == self.prefix:
            return len(name)
        if not name.startswith(self.prefix) or name[len(self.prefix)] not in "/:@":
            return -1
        if name[len(self.prefix)] == ":" and "/" not in self.prefix:
            return -1  # the colon starts a port: a different registry
        return len(self.prefix)

    def pull_sources(self, name: str) -> list[PullSource]:
        """Where to pull ``name`` from: usable mirrors in order, then the primary location."""
        digested = "@" in name
        sources = []
        for mirror in self.mirrors:
            if self.mirror_by_digest_only and not digested:
                continue
            if mirror.pull_from_mirror == "digest-only" and not digested:
                continue
            if mirror.pull_from_mirror == "tag-only" and digested:
                continue
            sources.append(PullSource(self._rewrite(name, mirror.location), mirror.insecure))
        sources.append(PullSource(self._rewrite(name, self.location), self.insecure))
        return sources

    def _rewrite(self, name: str, location: str) -> str:
        if not location:  # a wildcard prefix without location: the name stays as it is
            return name
        covered = self.match_length(name)
        return _normalize_docker_hub(location + name[covered:])


@dataclass(frozen=True)
class PullSource:
    """A concrete place to pull from: the rewritten name and whether TLS may be skipped.

    The last source of a list is the primary location; any before it are mirrors.
    """

    name: str
    insecure: bool


@dataclass(frozen=True)
class RegistriesConf:
    """The merged registries configuration.

    ``search_origin`` is the file that set ``unqualified-search-registries`` (the main
    file when none did) and ``alias_origins`` the file of each alias: Podman names them
    in its messages ("Resolved "x" as an alias (/etc/...)").
    """

    unqualified_search_registries: tuple[str, ...] = ()
    short_name_mode: str = DEFAULT_SHORT_NAME_MODE
    aliases: Mapping[str, str] = field(default_factory=dict)
    registries: tuple[RegistryEntry, ...] = ()
    search_origin: str = str(SYSTEM_CONTAINERS_DIR / "registries.conf")
    alias_origins: Mapping[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()

    def find(self, name: str) -> RegistryEntry | None:
        """The ``[[registry]]`` whose prefix matches ``name`` longest, if any.

        On a tie (``*.example.com`` and ``www.example.com`` both cover the host
        ``www.example.com``) the exact prefix wins, then the earlier table.
        """
        best: RegistryEntry | None = None
        best_rank = (-1, False)
        for entry in self.registries:
            rank = (entry.match_length(name), not entry.is_wildcard)
            if rank[0] >= 0 and rank > best_rank:
                best, best_rank = entry, rank
        return best

    def is_insecure(self, host: str) -> bool:
        """Whether the registry at ``host[:port]`` may be reached over HTTP or unverified TLS."""
        entry = self.find(host)
        if entry is not None and entry.insecure:
            return True
        mirrors = (m for e in self.registries for m in e.mirrors)
        return any(m.insecure and m.location.split("/")[0] == host for m in mirrors)

    def is_blocked(self, name: str) -> bool:
        entry = self.find(name)
        return entry is not None and entry.blocked

    def pull_sources(self, name: str) -> list[PullSource]:
        """The places to try for ``name`` (normalized, with tag or digest), in order."""
        entry = self.find(name)
        if entry is None:
            return [PullSource(name, False)]
        return entry.pull_sources(name)


def _host_part(name: str) -> str:
    host = name.split("/", 1)[0]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].split("@", 1)[0]


def _normalize_docker_hub(name: str) -> str:
    """Apply Docker Hub's ``library/`` rule to a rewritten name (``docker.io/alpine:3``)."""
    host, sep, rest = name.partition("/")
    if host == "index.docker.io":
        host = "docker.io"
    if host == "docker.io" and sep and "/" not in rest:
        rest = f"library/{rest}"
    return f"{host}{sep}{rest}"


# Discovery ----------------------------------------------------------------------------------


def registries_conf_paths(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    etc_dir: Path | None = None,
) -> tuple[Path, bool, list[Path]]:
    """The main file, whether it must exist, and the drop-in directories, in load order."""
    env = os.environ if env is None else env
    home = _home(env) if home is None else home
    etc_dir = SYSTEM_CONTAINERS_DIR if etc_dir is None else etc_dir
    user_file = home / USER_CONF
    user_dropins = user_file.with_name(user_file.name + DROPIN_SUFFIX)
    system_dropins = etc_dir / ("registries.conf" + DROPIN_SUFFIX)
    explicit = env.get(ENV_REGISTRIES_CONF)
    if explicit:
        return Path(explicit), True, [system_dropins, user_dropins]
    if user_file.exists():
        return user_file, False, [user_dropins]
    return etc_dir / "registries.conf", False, [system_dropins, user_dropins]


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def load_registries_conf(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    etc_dir: Path | None = None,
) -> RegistriesConf:
    """Find, parse, validate and merge every registries.conf file that applies.

    ``env``, ``home`` and ``etc_dir`` (default /etc/containers) stand in for the real
    ones so that tests need not touch the machine's files.
    """
    main, required, dropin_dirs = registries_conf_paths(env, home, etc_dir)
    merged = _Merger(str(main))
    text = _read(main, required, f'loading registries configuration "{main}"')
    if text is not None:
        merged.add(main, _parse_file(main, text, dropin=False))
    for directory in dropin_dirs:
        for path in _dropin_files(directory):
            text = _read(path, True, f'loading drop-in registries configuration "{path}"')
            assert text is not None
            merged.add(path, _parse_file(path, text, dropin=True))
    return merged.result()


def _dropin_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise ConfigError(f'reading registries configuration directory "{directory}": {e.strerror}') from e
    return [p for p in entries if p.name.endswith(".conf") and p.is_file()]


def _read(path: Path, required: bool, prefix: str) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        if not required:
            return None
        raise ConfigError(f"{prefix}: open {path}: no such file or directory") from e
    except OSError as e:
        raise ConfigError(f"{prefix}: open {path}: {(e.strerror or str(e)).lower()}") from e


# Parsing one file ---------------------------------------------------------------------------


@dataclass
class _FileConf:
    """What one file says; None means "not set here" so merging can tell."""

    search: tuple[str, ...] | None = None
    mode: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    registries: list[RegistryEntry] = field(default_factory=list)


class _Fields:
    """Typed access to one TOML table, with messages naming the key and the file."""

    def __init__(self, table: Mapping[str, Any], where: str, prefix: str) -> None:
        self.table, self.where, self.prefix = table, where, prefix

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        value = self.table.get(key, default)
        if value is default or isinstance(value, kind):
            return value
        expected = toml_type_name(kind())
        raise ConfigError(
            f'{self.prefix}: "{self.where}{key}": TOML value has type {toml_type_name(value)}; '
            f"expected {expected}"
        )

    def strings(self, key: str) -> tuple[str, ...] | None:
        values = self.get(key, list)
        if values is None:
            return None
        for value in values:
            if not isinstance(value, str):
                raise ConfigError(f'{self.prefix}: "{self.where}{key}": expected an array of strings')
        return tuple(values)

    def tables(self, key: str) -> list[Mapping[str, Any]]:
        values = self.get(key, list, [])
        if not all(isinstance(v, dict) for v in values):
            raise ConfigError(f'{self.prefix}: "{self.where}{key}": expected an array of tables')
        return list(values)


def _parse_file(path: Path, data: bytes, dropin: bool) -> _FileConf:
    prefix = f'{"loading drop-in" if dropin else "loading"} registries configuration "{path}"'
    top = _Fields(parse_toml(data, prefix, source=path), "", prefix)
    conf = _FileConf()
    conf.search = top.strings("unqualified-search-registries")
    for entry in conf.search or ():
        if not _DOMAIN_RE.fullmatch(entry):
            raise ConfigError(f'{prefix}: Invalid unqualified-search-registries entry "{entry}"')
    conf.mode = top.get("short-name-mode", str)
    if conf.mode and conf.mode not in SHORT_NAME_MODES:
        raise ConfigError(f'{prefix}: invalid short-name mode: "{conf.mode}"')
    for table in top.tables("registry"):
        conf.registries.append(_parse_registry(_Fields(table, "registry.", prefix)))
    v1 = _parse_v1(top.get("registries", dict), prefix)
    if v1 is not None:
        if dropin:
            raise ConfigError(f"{prefix}: registry must be in v2 format but is in v1")
        if conf.registries:
            raise ConfigError(f"{prefix}: mixing sysregistry v1/v2 is not supported")
        conf.search, conf.registries = v1
    aliases = _Fields(top.get("aliases", dict, {}), "aliases.", prefix)
    for name in aliases.table:
        conf.aliases[name] = aliases.get(name, str)
        _check_alias(name, conf.aliases[name], prefix)
    return conf


def _parse_registry(fields: _Fields) -> RegistryEntry:
    prefix = fields.prefix
    location = _parse_location(fields.get("location", str, ""), prefix)
    entry_prefix = _parse_location(fields.get("prefix", str, ""), prefix)
    if not location:
        if not entry_prefix:
            raise ConfigError(f"{prefix}: invalid condition: both location and prefix are unset")
        if not entry_prefix.startswith("*."):
            raise ConfigError(
                f"{prefix}: invalid condition: location is unset and prefix is not in the format: "
                "*.example.com"
            )
    if entry_prefix.startswith("*.") and not _HOST_RE.fullmatch(entry_prefix[2:]):
        raise ConfigError(
            f"{prefix}: Wildcarded prefix should be in the format: *.example.com. "
            f'Current prefix "{entry_prefix}" is incorrectly formatted'
        )
    entry = RegistryEntry(
        prefix=entry_prefix or location,
        location=location,
        insecure=fields.get("insecure", bool, False),
        blocked=fields.get("blocked", bool, False),
        mirror_by_digest_only=fields.get("mirror-by-digest-only", bool, False),
    )
    mirrors = [_parse_mirror(_Fields(t, "registry.mirror.", prefix), entry) for t in fields.tables("mirror")]
    return replace(entry, mirrors=tuple(mirrors))


def _parse_mirror(fields: _Fields, entry: RegistryEntry) -> Mirror:
    prefix = fields.prefix
    location = _parse_location(fields.get("location", str, ""), prefix)
    if not location:
        raise ConfigError(f"{prefix}: invalid condition: mirror location is unset")
    usage = fields.get("pull-from-mirror", str, "")
    if usage and usage not in PULL_FROM_MIRROR:
        raise ConfigError(f'{prefix}: unsupported pull-from-mirror value "{usage}" for mirror "{location}"')
    if usage and entry.mirror_by_digest_only:
        raise ConfigError(
            f"{prefix}: cannot set mirror usage mirror-by-digest-only for the registry "
            f'("{entry.location}") and pull-from-mirror for per-mirror ("{location}") at the same time'
        )
    return Mirror(location, fields.get("insecure", bool, False), usage or "all")


def _parse_location(value: str, prefix: str) -> str:
    if "://" in value:
        raise ConfigError(f"{prefix}: invalid location '{value}': URI schemes are not supported")
    return value.rstrip("/")


def _parse_v1(
    table: Mapping[str, Any] | None, prefix: str
) -> tuple[tuple[str, ...], list[RegistryEntry]] | None:
    """Convert v1 ``[registries.*]`` lists to v2; None when the file has none."""
    if not table:
        return None
    lists: dict[str, tuple[str, ...]] = {}
    for kind in ("search", "insecure", "block"):
        section = _Fields(table, "registries.", prefix).get(kind, dict, {})
        lists[kind] = _Fields(section, f"registries.{kind}.", prefix).strings("registries") or ()
    if not any(lists.values()):
        return None
    hosts = list(dict.fromkeys(lists["search"] + lists["insecure"] + lists["block"]))
    entries = [
        RegistryEntry(prefix=h, location=h, insecure=h in lists["insecure"], blocked=h in lists["block"])
        for h in hosts
    ]
    return lists["search"], entries


def _check_alias(name: str, value: str, prefix: str) -> None:
    """Podman's load-time checks on an ``[aliases]`` entry, as far as shape goes."""
    prefix = f"{prefix}: validating short-name aliases"
    registry, path, tag, digest = _shape(name)
    if path != path.lower():
        raise ConfigError(f'{prefix}: cannot parse short name: "{name}": repository name must be lowercase')
    for present, what in ((registry, "registry"), (tag, "tag"), (digest, "digest")):
        if present:
            raise ConfigError(f'{prefix}: invalid short name "{name}": must not contain {what}')
    if not value:
        return  # erases the alias
    registry, path, tag, digest = _shape(value)
    if path != path.lower():
        raise ConfigError(f'{prefix}: parsing alias "{value}": repository name must be lowercase')
    for present, what in ((tag, "tag"), (digest, "digest")):
        if present:
            raise ConfigError(f'{prefix}: invalid alias "{value}": must not contain {what}')
    if not registry:
        raise ConfigError(f'{prefix}: invalid alias "{value}": must contain registry and repository')


def _shape(name: str) -> tuple[str, str, str, str]:
    """Split a name into (registry, path, tag, digest) by the separators alone."""
    rest, _, digest = name.partition("@")
    first, sep, after = rest.partition("/")
    registry = first if sep and (first == "localhost" or "." in first or ":" in first) else ""
    path = after if registry else rest
    path, _, tag = path.partition(":")
    return registry, path, tag, digest


# Merging ------------------------------------------------------------------------------------


class _Merger:
    """Applies files in load order with the drop-in rules of containers-registries.conf.d(5)."""

    def __init__(self, main: str) -> None:
        self.search: tuple[str, ...] = ()
        self.search_origin = main
        self.mode = ""
        self.aliases: dict[str, str] = {}
        self.alias_origins: dict[str, str] = {}
        self.registries: dict[str, RegistryEntry] = {}
        self.files: list[Path] = []

    def add(self, path: Path, conf: _FileConf) -> None:
        self.files.append(path)
        if conf.search is not None:
            self.search, self.search_origin = conf.search, str(path)
        if conf.mode:
            self.mode = conf.mode
        for name, value in conf.aliases.items():
            if value:
                self.aliases[name], self.alias_origins[name] = value, str(path)
            else:
                self.aliases.pop(name, None)
                self.alias_origins.pop(name, None)
        for entry in conf.registries:
            self.registries[entry.prefix] = entry

    def result(self) -> RegistriesConf:
        return RegistriesConf(
            unqualified_search_registries=self.search,
            short_name_mode=self.mode or DEFAULT_SHORT_NAME_MODE,
            aliases=MappingProxyType(dict(self.aliases)),
            registries=tuple(self.registries.values()),
            search_origin=self.search_origin,
            alias_origins=MappingProxyType(dict(self.alias_origins)),
            files=tuple(self.files),
        )
