"""containers.conf as Podman 4 reads it, merged into one typed, frozen value.

Users keep their existing containers.conf files when they switch to sealpod, so the
search order, the merge rules and the defaults are Podman's: later files override
earlier ones key by key inside tables, while arrays are replaced as a whole.  What the
keys mean and their defaults are declared once, in :mod:`sealpod.config.settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sealpod.config.paths import SYSTEM_DIRS, ConfLayer, SystemDirs, containers_conf_layers
from sealpod.config.settings import (
    SETTINGS,
    Destination,
    HostFacts,
    Record,
    Setting,
    SettingTypeError,
    SubnetPool,
)
from sealpod.config.toml import load_toml, toml_type_name
from sealpod.errors import ConfigError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ContainersConf",
    "ContainersSection",
    "Destination",
    "EngineSection",
    "HostFacts",
    "NetworkSection",
    "SecretsSection",
    "SubnetPool",
    "containers_conf_files",
    "load_containers_conf",
    "systemd_is_pid1",
]

WHAT = "containers.conf"


class ContainersSection(Record):
    """[containers]: defaults for the containers sealpod creates."""

    annotations: tuple[str, ...]
    apparmor_profile: str
    base_hosts_file: str
    cgroupns: str
    cgroups: str
    default_capabilities: tuple[str, ...]
    default_sysctls: tuple[str, ...]
    default_ulimits: tuple[str, ...]
    devices: tuple[str, ...]
    dns_options: tuple[str, ...]
    dns_searches: tuple[str, ...]
    dns_servers: tuple[str, ...]
    env: tuple[str, ...]
    env_host: bool
    host_containers_internal_ip: str
    http_proxy: bool
    init: bool
    init_path: str
    ipcns: str
    keyring: bool
    label: bool
    log_driver: str
    log_size_max: int
    log_tag: str
    netns: str
    no_hosts: bool
    pidns: str
    pids_limit: int
    prepare_volume_on_create: bool
    read_only: bool
    seccomp_profile: str
    shm_size: str
    tz: str
    umask: str
    userns: str
    userns_size: int
    utsns: str
    volumes: tuple[str, ...]


class EngineSection(Record):
    """[engine]: how the engine itself runs (runtime, conmon, events, locations)."""

    active_service: str
    cgroup_manager: str
    compression_format: str
    conmon_env_vars: tuple[str, ...]
    conmon_path: tuple[str, ...]
    detach_keys: str
    enable_port_reservation: bool
    env: tuple[str, ...]
    events_logfile_path: str
    events_logfile_max_size: str
    events_logger: str
    helper_binaries_dir: tuple[str, ...]
    hooks_dir: tuple[str, ...]
    image_copy_tmp_dir: str
    image_default_format: str
    image_default_transport: str
    image_parallel_copies: int
    image_volume_mode: str
    infra_command: str
    infra_image: str
    lock_type: str
    multi_image_archive: bool
    namespace: str
    network_cmd_path: str
    network_cmd_options: tuple[str, ...]
    no_pivot_root: bool
    num_locks: int
    pod_exit_policy: str
    pull_policy: str
    remote: bool
    runtime: str
    runtimes: dict[str, tuple[str, ...]]
    runtime_supports_json: tuple[str, ...]
    runtime_supports_kvm: tuple[str, ...]
    runtime_supports_nocgroups: tuple[str, ...]
    service_destinations: dict[str, Destination]
    service_timeout: int
    static_dir: str
    stop_timeout: int
    exit_command_delay: int
    tmp_dir: str
    volume_path: str
    volume_plugins: dict[str, str]


class NetworkSection(Record):
    """[network]: the network backend and the default network."""

    network_backend: str
    cni_plugin_dirs: tuple[str, ...]
    default_network: str
    default_subnet: str
    default_subnet_pools: tuple[SubnetPool, ...]
    default_rootless_network_cmd: str
    network_config_dir: str
    dns_bind_port: int


class SecretsSection(Record):
    """[secrets]: the secret driver."""

    driver: str
    opts: dict[str, str]


class ContainersConf(Record):
    """The merged containers.conf.  ``raw`` keeps every key read, known or not, for later use."""

    containers: ContainersSection
    engine: EngineSection
    network: NetworkSection
    secrets: SecretsSection
    raw: dict[str, Any]
    files: tuple[Path, ...] = ()

    def is_set(self, section: str, key: str) -> bool:
        """Whether some file set this key, as opposed to it holding the built-in default."""
        table = self.raw.get(section)
        return isinstance(table, dict) and key in table


_SECTION_CLASSES: dict[str, type[Record]] = {
    "containers": ContainersSection,
    "engine": EngineSection,
    "network": NetworkSection,
    "secrets": SecretsSection,
}


def systemd_is_pid1(proc: Path = Path("/proc")) -> bool:
    """Whether systemd runs this machine, asked of PID 1 itself.

    ``/run/systemd/system`` is not trusted: packages and tests leave it behind on
    machines (and in containers) where systemd is not running.
    """
    try:
        return (proc / "1" / "comm").read_text().strip() == "systemd"
    except OSError:
        return False


def _dropins(directory: Path) -> list[Path]:
    """The ``*.conf`` files of a drop-in directory, in lexical order; none if it is missing."""
    try:
        with os.scandir(directory) as it:
            names = [e.name for e in it if e.name.endswith(".conf") and not e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as e:
        raise ConfigError(f"{WHAT}: {directory}: {e.strerror or e}") from e
    return [directory / name for name in sorted(names)]


def containers_conf_files(layers: tuple[ConfLayer, ...]) -> list[tuple[Path, ConfLayer]]:
    """Expand the layers into the candidate files in reading order (missing ones included)."""
    files: list[tuple[Path, ConfLayer]] = []
    for layer in layers:
        files.append((layer.file, layer))
        if layer.dropin_dir is not None:
            files.extend((p, layer) for p in _dropins(layer.dropin_dir))
    return files


def _read_layer_file(path: Path, layer: ConfLayer) -> dict[str, Any] | None:
    try:
        return load_toml(path, what=WHAT)
    except ConfigError as e:
        if not isinstance(e.__cause__, FileNotFoundError):
            raise
        if layer.required and path == layer.file:
            raise ConfigError(f"{WHAT}: {path}: no such file or directory (named by {layer.origin})") from e
        return None


def _check_value(setting: Setting, value: object, path: Path) -> None:
    try:
        setting.parse(value)
    except SettingTypeError as e:
        raise ConfigError(f"{WHAT}: {path}: {setting.section}.{setting.key}: {e}") from None


def validate(doc: Mapping[str, Any], path: Path) -> None:
    """Check the types of every known key of one file, so errors name the file at fault."""
    for section in _SECTION_CLASSES:
        table = doc.get(section)
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{WHAT}: {path}: {section}: expected table, got {toml_type_name(table)}")
    for setting in SETTINGS:
        table = doc.get(setting.section)
        if isinstance(table, dict) and setting.key in table:
            _check_value(setting, table[setting.key], path)


def merge(into: dict[str, Any], doc: Mapping[str, Any]) -> None:
    """Overlay ``doc`` on ``into``: tables merge key by key, anything else (arrays too) replaces."""
    for key, value in doc.items():
        old = into.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merge(old, value)
        elif isinstance(value, dict):
            fresh: dict[str, Any] = {}
            merge(fresh, value)
            into[key] = fresh
        else:
            into[key] = value


def build(raw: dict[str, Any], host: HostFacts, files: tuple[Path, ...] = ()) -> ContainersConf:
    """Turn a merged (already validated) document into the typed value, defaults filled in."""
    values: dict[str, dict[str, Any]] = {name: {} for name in _SECTION_CLASSES}
    for setting in SETTINGS:
        table = raw.get(setting.section)
        if isinstance(table, dict) and setting.key in table:
            value = setting.value_from(table[setting.key], host)
        else:
            value = setting.default_value(host)
        values[setting.section][setting.key] = value
    sections: dict[str, Any] = {name: cls(**values[name]) for name, cls in _SECTION_CLASSES.items()}
    return ContainersConf(raw=raw, files=files, **sections)


def load_containers_conf(
    env: Mapping[str, str],
    home: Path,
    rootless: bool,
    system_dirs: SystemDirs = SYSTEM_DIRS,
    host: HostFacts | None = None,
) -> ContainersConf:
    """Find, read, check and merge every containers.conf that applies, in Podman's order.

    ``host`` carries what host-dependent defaults need; it is detected when not given.
    A missing file is skipped, an unreadable or malformed one is a ConfigError.
    """
    if host is None:
        host = HostFacts(rootless=rootless, systemd=systemd_is_pid1())
    merged: dict[str, Any] = {}
    loaded: list[Path] = []
    for path, layer in containers_conf_files(containers_conf_layers(rootless, env, home, system_dirs)):
        doc = _read_layer_file(path, layer)
        if doc is None:
            continue
        validate(doc, path)
        merge(merged, doc)
        loaded.append(path)
    return build(merged, host, tuple(loaded))
