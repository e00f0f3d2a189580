"""sealpod's own storage.conf: where images and containers are stored, and with which driver.

The layout is containers-storage.conf(5)'s, so users can copy their settings across,
but the files are sealpod's own (/etc/sealpod, /usr/share/sealpod, ~/.config/sealpod,
or SEALPOD_STORAGE_CONF) so that sealpod never writes into Podman's storage.

Exactly one file is used, as containers/storage does: the one SEALPOD_STORAGE_CONF
names, else (rootless) the user's own, else the administrator's, else the
distribution's.  A rootless user without a file of their own takes only the driver and
``rootless_storage_path`` from the system file: its graph root belongs to root.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from sealpod.config.paths import (
    SYSTEM_DIRS,
    SystemDirs,
    default_graph_root,
    default_run_root,
    rootless_uid,
    system_storage_confs,
    user_storage_conf,
)
from sealpod.config.settings import Record
from sealpod.config.toml import load_toml, load_toml_if_exists, toml_type_name
from sealpod.errors import ConfigError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

WHAT = "storage.conf"
DEFAULT_DRIVER = "overlay"
ENV_VAR = "SEALPOD_STORAGE_CONF"

# Options containers/storage turns into "<driver>.<key>=<value>" driver options; a key
# in [storage.options.<driver>] wins over the same (older) key directly in [storage.options].
_DRIVER_KEYS: dict[str, tuple[str, ...]] = {
    "overlay": (
        "ignore_chown_errors",
        "mount_program",
        "mountopt",
        "size",
        "skip_mount_home",
        "force_mask",
        "inodes",
    ),
    "vfs": ("ignore_chown_errors",),
}
_BOOL_KEYS = frozenset({"ignore_chown_errors", "skip_mount_home"})
AUTO_USERNS_MIN_SIZE = 1024  # containers/storage's defaults for --userns=auto's size (without size=)
AUTO_USERNS_MAX_SIZE = 65536
_UINT32_MAX = 2**32 - 1


def normalize_driver(name: str) -> str:
    """Docker's "overlay2" is our "overlay"."""
    return "overlay" if name == "overlay2" else name


class StorageConf(Record):
    """The storage settings in force.  ``driver_options`` are "<driver>.<key>=<value>" strings,
    the form ``--storage-opt`` and STORAGE_OPTS use, so overriding them is replacing the tuple."""

    driver: str
    graph_root: Path
    run_root: Path
    driver_options: tuple[str, ...] = ()
    additional_image_stores: tuple[Path, ...] = ()
    pull_options: Mapping[str, str] = MappingProxyType({})
    rootless_storage_path: str = ""
    files: tuple[Path, ...] = ()
    auto_userns_min_size: int = AUTO_USERNS_MIN_SIZE
    auto_userns_max_size: int = AUTO_USERNS_MAX_SIZE

    def option(self, key: str) -> str | None:
        """The last value given for a driver option, written "<driver>.<key>" or bare "<key>"."""
        found = None
        for item in self.driver_options:
            name, sep, value = item.partition("=")
            if sep and name.strip() in (key, f"{self.driver}.{key}"):
                found = value.strip()
        return found

    @property
    def mount_program(self) -> str:
        """A FUSE helper (fuse-overlayfs) that mounts instead of the kernel; "" means the kernel."""
        return self.option("mount_program") or ""

    @property
    def mount_opts(self) -> str:
        """Extra comma-separated options for every overlay mount."""
        return self.option("mountopt") or ""

    @property
    def force_mask(self) -> str:
        """ "private", "shared" or an octal mode; "" when not set."""
        return self.option("force_mask") or ""

    @property
    def ignore_chown_errors(self) -> bool:
        """Let a single-id rootless user store images whose files belong to other ids."""
        return (self.option("ignore_chown_errors") or "").lower() == "true"


class _FileSettings(Record):
    """What one storage.conf says; None for what it leaves unsaid."""

    path: Path
    driver: str | None = None
    graph_root: Path | None = None
    run_root: Path | None = None
    rootless_storage_path: str | None = None
    additional_image_stores: tuple[Path, ...] | None = None
    pull_options: dict[str, str] | None = None
    options: Mapping[str, Any] = MappingProxyType({})
    auto_userns_min_size: int | None = None
    auto_userns_max_size: int | None = None


def _fail(path: Path, key: str, message: str) -> ConfigError:
    return ConfigError(f"{WHAT}: {path}: {key}: {message}")


def _get(table: Mapping[str, Any], key: str, kind: type, path: Path, where: str) -> Any:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        want = {"str": "string", "dict": "table", "list": "array", "int": "integer"}.get(kind.__name__, kind.__name__)
        raise _fail(path, f"{where}.{key}", f"expected {want}, got {toml_type_name(value)}")
    return value


def _uint32(options: Mapping[str, Any], key: str, path: Path) -> int | None:
    """An unsigned 32-bit integer option; 0 is unset, as containers/storage reads it."""
    value = _get(options, key, int, path, "storage.options")
    if value is not None and not 0 <= value <= _UINT32_MAX:
        raise _fail(path, f"storage.options.{key}", f"{value} is out of range for uint32")
    return value or None


def _abs_path(value: str | None, path: Path, key: str) -> Path | None:
    if not value:
        return None
    if not value.startswith("/"):
        raise _fail(path, key, f'"{value}" must be an absolute path')
    return Path(value)


def _check_options(options: Mapping[str, Any], path: Path) -> None:
    """Check the driver option values the same way wherever they appear."""
    tables = [("storage.options", options)]
    for driver in _DRIVER_KEYS:
        sub = _get(options, driver, dict, path, "storage.options")
        if sub is not None:
            tables.append((f"storage.options.{driver}", sub))
    for where, table in tables:
        for key in _DRIVER_KEYS["overlay"]:
            value = table.get(key)
            ok = isinstance(value, str) or (key in _BOOL_KEYS and isinstance(value, bool))
            if value is not None and not ok:
                raise _fail(path, f"{where}.{key}", f"expected string, got {toml_type_name(value)}")


def _parse_file(path: Path, doc: Mapping[str, Any]) -> _FileSettings:
    storage = _get(doc, "storage", dict, path, "") or {}
    options = _get(storage, "options", dict, path, "storage") or {}
    _check_options(options, path)
    stores = _get(options, "additionalimagestores", list, path, "storage.options")
    if stores is not None and not all(isinstance(s, str) for s in stores):
        raise _fail(path, "storage.options.additionalimagestores", "expected array of strings")
    pull = _get(options, "pull_options", dict, path, "storage.options")
    if pull is not None and not all(isinstance(v, str) for v in pull.values()):
        raise _fail(path, "storage.options.pull_options", "expected table of strings")
    driver = _get(storage, "driver", str, path, "storage")
    return _FileSettings(
        path=path,
        driver=normalize_driver(driver) if driver else None,
        graph_root=_abs_path(_get(storage, "graphroot", str, path, "storage"), path, "storage.graphroot"),
        run_root=_abs_path(_get(storage, "runroot", str, path, "storage"), path, "storage.runroot"),
        rootless_storage_path=_get(storage, "rootless_storage_path", str, path, "storage"),
        additional_image_stores=None if stores is None else tuple(Path(s) for s in stores),
        pull_options=None if pull is None else dict(pull),
        options=options,
        auto_userns_min_size=_uint32(options, "auto-userns-min-size", path),
        auto_userns_max_size=_uint32(options, "auto-userns-max-size", path),
    )


def driver_options_for(driver: str, options: Mapping[str, Any]) -> tuple[str, ...]:
    """The "<driver>.<key>=<value>" options a file's [storage.options] tables give ``driver``."""
    result = []
    sub = options.get(driver)
    sub = sub if isinstance(sub, dict) else {}
    for key in _DRIVER_KEYS.get(driver, ()):
        value = sub.get(key, options.get(key))
        if value is None or value == "":
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        result.append(f"{driver}.{key}={text}")
    return tuple(result)


def expand_rootless_path(template: str, env: Mapping[str, str], home: Path, uid: int) -> Path:
    """Expand $HOME, $UID and $USER in rootless_storage_path, as containers/storage does."""
    user = env.get("USER", "")
    for name, value in (("$HOME", str(home)), ("$UID", str(uid)), ("$USER", user)):
        template = template.replace(name, value)
    return Path(template)


def _load(path: Path, required: bool) -> _FileSettings | None:
    doc = load_toml(path, what=WHAT) if required else load_toml_if_exists(path, what=WHAT)
    return None if doc is None else _parse_file(path, doc)


def _system_file(system_dirs: SystemDirs) -> _FileSettings | None:
    for path in system_storage_confs(system_dirs):
        found = _load(path, required=False)
        if found is not None:
            return found
    return None


def _apply(base: StorageConf, f: _FileSettings, rootless: bool, expand: Callable[[str], Path]) -> StorageConf:
    driver = f.driver or base.driver
    graph_root = f.graph_root
    if graph_root is None and rootless and f.rootless_storage_path:
        graph_root = expand(f.rootless_storage_path)
    return StorageConf(
        driver=driver,
        graph_root=graph_root or base.graph_root,
        run_root=f.run_root or base.run_root,
        driver_options=driver_options_for(driver, f.options),
        additional_image_stores=base.additional_image_stores
        if f.additional_image_stores is None
        else f.additional_image_stores,
        pull_options=base.pull_options if f.pull_options is None else f.pull_options,
        rootless_storage_path=f.rootless_storage_path or base.rootless_storage_path,
        files=(*base.files, f.path),
        auto_userns_min_size=f.auto_userns_min_size or base.auto_userns_min_size,
        auto_userns_max_size=f.auto_userns_max_size or base.auto_userns_max_size,
    )


def load_storage_conf(
    env: Mapping[str, str],
    home: Path,
    rootless: bool,
    system_dirs: SystemDirs = SYSTEM_DIRS,
    uid: int | None = None,
) -> StorageConf:
    """Choose and read the storage.conf that applies, on top of the built-in defaults."""
    uid = rootless_uid(env) if uid is None else uid

    def expand(template: str) -> Path:
        return expand_rootless_path(template, env, home, uid)

    base = StorageConf(
        DEFAULT_DRIVER, default_graph_root(rootless, env, home), default_run_root(rootless, env, uid)
    )
    explicit = env.get(ENV_VAR, "")
    if not rootless:
        chosen = _load(Path(explicit), required=True) if explicit else _system_file(system_dirs)
        return base if chosen is None else _apply(base, chosen, rootless, expand)

    system = _system_file(system_dirs)
    if system is not None:
        # Only what is meant for rootless users: the system graph root belongs to root.
        inherited = _FileSettings(
            system.path, system.driver, rootless_storage_path=system.rootless_storage_path
        )
        base = _apply(base, inherited, rootless, expand)
    chosen = _load(Path(explicit), required=True) if explicit else _load(user_storage_conf(env, home), False)
    return base if chosen is None else _apply(base, chosen, rootless, expand)
