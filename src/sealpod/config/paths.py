"""Where sealpod keeps state and where it looks for configuration, root and rootless.

Everything here is a function of explicit inputs (rootless or not, the environment,
the home directory, the uid) so that tests, and a process that has already entered
its user namespace, get the same answers without touching the real machine.  The
only filesystem question asked is whether ``$XDG_RUNTIME_DIR`` is usable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sealpod.config.settings import Record

# Set by the process that created the user namespace we run in (Podman's names, so a
# `podman unshare` shell is recognised too): inside it euid is 0, but we are rootless.
USERNS_CONFIGURED_ENV = "_CONTAINERS_USERNS_CONFIGURED"
# The real (outer) uid, set alongside USERNS_CONFIGURED_ENV.
ROOTLESS_UID_ENV = "_CONTAINERS_ROOTLESS_UID"

ROOTFUL_GRAPH_ROOT = Path("/var/lib/sealpod/storage")
ROOTFUL_RUN_ROOT = Path("/run/sealpod")


class SystemDirs(Record):
    """The machine-wide configuration directories; tests point these into tmp_path."""

    share_containers: Path = Path("/usr/share/containers")
    etc_containers: Path = Path("/etc/containers")
    share_sealpod: Path = Path("/usr/share/sealpod")
    etc_sealpod: Path = Path("/etc/sealpod")


SYSTEM_DIRS = SystemDirs()


class ConfLayer(Record):
    """One containers.conf location: a main file, then the drop-ins of its ``.d`` directory.

    ``required`` layers come from an environment variable: the user named them, so their
    absence is an error rather than something to skip.
    """

    file: Path
    dropin_dir: Path | None = None
    required: bool = False
    origin: str = ""  # the environment variable that named a required layer


def is_rootless(env: Mapping[str, str] | None = None, euid: int | None = None) -> bool:
    """Whether sealpod runs without real root privileges.

    Inside the user namespace sealpod (or Podman) sets up for a rootless user, euid is
    0 but the process is still unprivileged on the host; the namespace's creator says
    so through USERNS_CONFIGURED_ENV, and that wins.
    """
    env = os.environ if env is None else env
    if env.get(USERNS_CONFIGURED_ENV):
        return True
    return (os.geteuid() if euid is None else euid) != 0


def rootless_uid(env: Mapping[str, str] | None = None, euid: int | None = None) -> int:
    """The user's uid on the host, also from inside our user namespace (where euid is 0)."""
    env = os.environ if env is None else env
    if env.get(USERNS_CONFIGURED_ENV):
        value = env.get(ROOTLESS_UID_ENV, "")
        if value.isdigit():
            return int(value)
    return os.geteuid() if euid is None else euid


def home_dir(env: Mapping[str, str] | None = None) -> Path:
    """$HOME, or the passwd entry when HOME is unset (as under some service managers)."""
    env = os.environ if env is None else env
    home = env.get("HOME")
    if home:
        return Path(home)
    import pwd

    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def _xdg_dir(env: Mapping[str, str], var: str, fallback: Path) -> Path:
    # The XDG spec says relative values are invalid and must be ignored.
    value = env.get(var, "")
    return Path(value) if value.startswith("/") else fallback


def config_home(env: Mapping[str, str], home: Path) -> Path:
    """$XDG_CONFIG_HOME, default ~/.config."""
    return _xdg_dir(env, "XDG_CONFIG_HOME", home / ".config")


def data_home(env: Mapping[str, str], home: Path) -> Path:
    """$XDG_DATA_HOME, default ~/.local/share."""
    return _xdg_dir(env, "XDG_DATA_HOME", home / ".local" / "share")


def default_graph_root(rootless: bool, env: Mapping[str, str], home: Path) -> Path:
    """Where images, layers and the state database live when neither flags nor files say."""
    if not rootless:
        return ROOTFUL_GRAPH_ROOT
    return data_home(env, home) / "sealpod" / "storage"


def runtime_dir_usable(path: Path, uid: int, inside_userns: bool = False) -> bool:
    """Whether a runtime directory can hold our run root: a directory that is ours and writable.

    A stale XDG_RUNTIME_DIR (after `su`, or inherited from another user) points at a
    directory we cannot write; using it would fail much later and less clearly.
    """
    try:
        st = path.stat()
    except OSError:
        return False
    import stat

    # Inside our user namespace the user's own files show as root's (uid 0 is the user there).
    ours = st.st_uid == uid or (inside_userns and st.st_uid == 0)
    return stat.S_ISDIR(st.st_mode) and ours and os.access(path, os.W_OK | os.X_OK)


def default_run_root(rootless: bool, env: Mapping[str, str], uid: int) -> Path:
    """Where per-boot state (mounts, sockets, locks) lives when neither flags nor files say."""
    if not rootless:
        return ROOTFUL_RUN_ROOT
    xdg = env.get("XDG_RUNTIME_DIR", "")
    if xdg.startswith("/") and runtime_dir_usable(Path(xdg), uid, bool(env.get(USERNS_CONFIGURED_ENV))):
        return Path(xdg) / "sealpod"
    return Path(f"/tmp/sealpod-{uid}")


def containers_conf_layers(
    rootless: bool,
    env: Mapping[str, str],
    home: Path,
    system_dirs: SystemDirs = SYSTEM_DIRS,
) -> tuple[ConfLayer, ...]:
    """The containers.conf locations in the order they are read (later ones win).

    As in Podman 4: the distribution file, the administrator's file and its drop-ins,
    then, for rootless users only, the user's file and its drop-ins.  CONTAINERS_CONF
    replaces all of them with one file; CONTAINERS_CONF_OVERRIDE is read last on top.
    The distribution directory's drop-ins are read too (Podman 5 does; 4.3 ignored them).
    """
    layers: list[ConfLayer] = []
    only = env.get("CONTAINERS_CONF", "")
    if only:
        layers.append(ConfLayer(Path(only), required=True, origin="CONTAINERS_CONF"))
    else:
        for base in (system_dirs.share_containers, system_dirs.etc_containers):
            layers.append(ConfLayer(base / "containers.conf", base / "containers.conf.d"))
        if rootless:
            user = config_home(env, home) / "containers"
            layers.append(ConfLayer(user / "containers.conf", user / "containers.conf.d"))
    override = env.get("CONTAINERS_CONF_OVERRIDE", "")
    if override:
        layers.append(ConfLayer(Path(override), required=True, origin="CONTAINERS_CONF_OVERRIDE"))
    return tuple(layers)


def user_storage_conf(env: Mapping[str, str], home: Path) -> Path:
    """A rootless user's own storage.conf."""
    return config_home(env, home) / "sealpod" / "storage.conf"


def system_storage_confs(system_dirs: SystemDirs = SYSTEM_DIRS) -> tuple[Path, Path]:
    """The administrator's then the distribution's storage.conf: the first that exists is used."""
    return (system_dirs.etc_sealpod / "storage.conf", system_dirs.share_sealpod / "storage.conf")
