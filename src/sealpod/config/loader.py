"""Everything configuration decides, in one value: files first, then the command line.

``cli`` (and ``api``) gather the global flags into :class:`GlobalOptions` and call
:func:`resolve_config` once per process; the engine receives the resulting
:class:`Config` and never reads configuration files or flags itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sealpod.config.containers_conf import ContainersConf, HostFacts, load_containers_conf
from sealpod.config.paths import SYSTEM_DIRS, SystemDirs
from sealpod.config.settings import Record
from sealpod.config.storage_conf import StorageConf, load_storage_conf, normalize_driver
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

CGROUP_MANAGERS = ("systemd", "cgroupfs")
EVENTS_BACKENDS = ("file", "journald", "none")
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")


# The global flags that take a value, as the command line spells them: the CLI's splitter, its
# completion and unit generation (which re-reads a recorded command line) must agree on them.
GLOBAL_FLAGS_WITH_VALUE = frozenset({
    "--root", "--runroot", "--storage-driver", "--storage-opt", "--log-level", "--cgroup-manager", "--runtime",
    "--tmpdir", "--volumepath", "--events-backend", "--url", "--connection", "-c", "--context", "--runtime-flag",
    "--host", "-H", "--identity", "--config", "--default-mounts-file", "--hooks-dir", "--network-config-dir",
    "--cni-config-dir", "--namespace", "--conmon", "--network-cmd-path", "--ssh"})


class GlobalOptions(Record):
    """The global flags that change configuration (``--root``, ``--runtime``...); None: not given."""

    root: Path | None = None
    runroot: Path | None = None
    storage_driver: str | None = None
    storage_opts: tuple[str, ...] | None = None
    runtime: str | None = None
    runtime_flags: tuple[str, ...] | None = None
    conmon: str | None = None
    cgroup_manager: str | None = None
    events_backend: str | None = None
    log_level: str | None = None
    tmpdir: Path | None = None
    volumepath: Path | None = None
    network_config_dir: Path | None = None
    network_cmd_path: str | None = None
    hooks_dir: tuple[str, ...] | None = None
    namespace: str | None = None
    default_mounts_file: Path | None = None


class Config(Record):
    """The configuration in force for this process.

    The directories are resolved here, once: ``--root``/``--runroot`` move all of them
    (sealpod keeps *everything* under its graph root and run root, so two instances with
    different roots never meet), then explicit flags, then containers.conf, then the
    defaults under the graph root and run root.  Use these, not ``containers.engine.*_dir``.
    """

    containers: ContainersConf
    storage: StorageConf
    rootless: bool
    conf_files: tuple[Path, ...]
    static_dir: Path
    tmp_dir: Path
    volume_path: Path
    network_config_dir: Path
    log_level: str = "warn"
    runtime_flags: tuple[str, ...] = ()
    mounts_files: tuple[Path, ...] = ()  # mounts.conf files, first wins: content copied into every container


def _check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise InvalidArgument(f'invalid {what} "{value}": must be one of {", ".join(allowed)}')
    return value


def _override_storage(storage: StorageConf, opts: GlobalOptions, env: Mapping[str, str]) -> StorageConf:
    """Flags win over STORAGE_DRIVER/STORAGE_OPTS, which win over storage.conf."""
    driver = opts.storage_driver or env.get("STORAGE_DRIVER") or None
    options: tuple[str, ...] | None = opts.storage_opts
    if options is None and env.get("STORAGE_OPTS"):
        options = tuple(env["STORAGE_OPTS"].split(","))
    changes: dict[str, Any] = {}
    if driver is not None and normalize_driver(driver) != storage.driver:
        # The file's driver options were written for another driver.
        changes.update(driver=normalize_driver(driver), driver_options=())
    if options is not None:
        changes["driver_options"] = tuple(o for o in (s.strip() for s in options) if o)
    if opts.root is not None:
        changes["graph_root"] = opts.root
    if opts.runroot is not None:
        changes["run_root"] = opts.runroot
    return storage.replace(**changes) if changes else storage


def _override_containers(conf: ContainersConf, opts: GlobalOptions) -> ContainersConf:
    engine: dict[str, Any] = {}
    if opts.runtime is not None:
        engine["runtime"] = opts.runtime
    if opts.conmon is not None:
        engine["conmon_path"] = (opts.conmon,)
    if opts.cgroup_manager is not None:
        engine["cgroup_manager"] = _check_choice(opts.cgroup_manager, CGROUP_MANAGERS, "cgroup manager")
    if opts.events_backend is not None:
        engine["events_logger"] = _check_choice(opts.events_backend, EVENTS_BACKENDS, "events backend")
    if opts.network_cmd_path is not None:
        engine["network_cmd_path"] = opts.network_cmd_path
    if opts.hooks_dir is not None:
        engine["hooks_dir"] = opts.hooks_dir
    if opts.namespace is not None:
        engine["namespace"] = opts.namespace
    if not engine:
        return conf
    return conf.replace(engine=conf.engine.replace(**engine))


def _pick_dir(flag: Path | None, moved: Path | None, configured: str, default: Path) -> Path:
    """A state directory: explicit flag, else under a --root/--runroot, else the file, else default."""
    if flag is not None:
        return flag
    if moved is not None:
        return moved
    return Path(configured) if configured else default


def resolve_config(
    opts: GlobalOptions,
    env: Mapping[str, str],
    home: Path,
    rootless: bool,
    *,
    system_dirs: SystemDirs = SYSTEM_DIRS,
    host: HostFacts | None = None,
    uid: int | None = None,
) -> Config:
    """Load containers.conf and storage.conf and apply the global flags on top."""
    log_level = _check_choice(opts.log_level or "warn", LOG_LEVELS, "log level")
    conf = _override_containers(load_containers_conf(env, home, rootless, system_dirs, host), opts)
    storage = _override_storage(load_storage_conf(env, home, rootless, system_dirs, uid), opts, env)
    graph, run = storage.graph_root, storage.run_root
    under_root = (lambda name: graph / name) if opts.root is not None else (lambda name: None)
    under_run = run / "libpod" if opts.runroot is not None else None
    return Config(
        containers=conf,
        storage=storage,
        rootless=rootless,
        conf_files=conf.files,
        static_dir=_pick_dir(None, under_root("libpod"), conf.engine.static_dir, graph / "libpod"),
        tmp_dir=_pick_dir(opts.tmpdir, under_run, conf.engine.tmp_dir, run / "libpod"),
        volume_path=_pick_dir(
            opts.volumepath, under_root("volumes"), conf.engine.volume_path, graph / "volumes"
        ),
        network_config_dir=_pick_dir(
            opts.network_config_dir,
            under_root("networks"),
            conf.network.network_config_dir,
            graph / "networks",
        ),
        log_level=log_level,
        runtime_flags=opts.runtime_flags or (),
        mounts_files=_mounts_files(opts, home, rootless, system_dirs),
    )


def _mounts_files(opts: GlobalOptions, home: Path, rootless: bool, system_dirs: SystemDirs) -> tuple[Path, ...]:
    """``--default-mounts-file`` alone, else the user's (rootless), /etc's and /usr/share's mounts.conf."""
    if opts.default_mounts_file is not None:
        return (opts.default_mounts_file,)
    user = (home / ".config/containers/mounts.conf",) if rootless else ()
    return (*user, system_dirs.etc_containers / "mounts.conf", system_dirs.share_containers / "mounts.conf")
