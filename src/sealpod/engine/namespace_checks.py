"""The namespace flags of a new container (--pid, --ipc, --uts, --cgroupns, --userns), checked when
it is created, in Podman 4.3.1's words: a mode it does not know, ``ns:``/``container:`` without a
value, a namespace path that is not there or a container that does not exist fail ``create`` (exit
125) and leave nothing behind, rather than a container that cannot start."""

from __future__ import annotations

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.containers import ContainerService

# the plain modes each flag takes besides ns:PATH, container:ID and pod ("" is the default)
_PLAIN = {
    "pid": ("", "host", "private"),
    "ipc": ("", "host", "private", "shareable", "none"),
    "uts": ("", "host", "private"),
    "cgroupns": ("", "host", "private"),
    "userns": ("", "host", "private", "keep-id", "nomap", "auto"),
}
_PATH_NAMES = {"pid": "PID", "ipc": "IPC", "uts": "UTS", "cgroupns": "cgroup", "userns": "user"}
_SHARE_NAMES = {"cgroupns": "cgroup", "userns": "user"}


def check_namespace_modes(svc: ContainerService, config: ContainerConfig, rootless: bool) -> None:
    """Each namespace flag in turn, as Podman parses then validates them (``pod`` is checked by
    ``pod_inherit.check_pod_namespaces``, after a pod member took its pod's)."""
    if config.userns == "pod" and not config.pod:
        raise InvalidArgument("cannot use pod namespace as container is not joining a pod or pod has no infra "
                              "container: invalid argument")
    for kind in _PLAIN:
        value = str(getattr(config, kind) or "")
        if value and value != "pod":
            _check_one(svc, kind, value, rootless)


def _check_one(svc: ContainerService, kind: str, value: str, rootless: bool) -> None:
    mode, sep, rest = value.partition(":")
    options_allowed = kind == "userns" and mode in ("keep-id", "auto")
    if mode not in ("ns", "container") and (value not in _PLAIN[kind] if not options_allowed else False):
        raise InvalidArgument(f"unrecognized namespace mode {value} passed")
    if kind == "userns" and mode in ("keep-id", "nomap") and not rootless:
        raise InvalidArgument(f"{mode} is only supported in rootless mode")
    if kind == "userns" and value == "private":
        raise InvalidArgument("must provide at least one UID or GID mapping to configure a user namespace")
    if mode == "ns":
        _check_path(kind, rest)
    elif mode == "container":
        _check_container(svc, kind, rest)


def _check_path(kind: str, path: str) -> None:
    import os

    if not path:
        raise InvalidArgument("invalid config provided: namespace mode path requires a value")
    try:
        os.stat(path)
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise InvalidArgument(f"cannot find specified {_PATH_NAMES[kind]} namespace path: stat {path}: "
                              f"{reason}") from None


def _check_container(svc: ContainerService, kind: str, target: str) -> None:
    from sealpod.errors import NoSuchContainer

    if not target:
        raise InvalidArgument("invalid config provided: namespace mode container requires a value")
    try:
        other = svc.lookup(target)
    except NoSuchContainer:
        raise NoSuchContainer(f"looking up container to share {_SHARE_NAMES.get(kind, kind)} namespace with: "
                              f'no container with name or ID "{target}" found: no such container') from None
    if kind == "ipc" and other.config.get("ipc") in ("private", "none"):  # at create, so remote clients exit 125
        raise InvalidArgument(f"joining IPC of container {other.id} is not allowed: non-shareable IPC "
                              "(hint: use IpcMode:shareable for the donor container)")
