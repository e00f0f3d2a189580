"""Checks of a new container's configuration that Podman makes before anything is created.

They run in the engine, so the CLI, the APIs and kube play refuse the same mistakes with the
same words, instead of letting runc or conmon fail later with a less helpful message.
"""

from __future__ import annotations

import ipaddress
import os
import re

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$", re.I)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_size(text: str) -> int:
    """A size as Podman's options take it (``512``, ``10k``, ``1.5MB``); InvalidArgument otherwise."""
    found = _SIZE.match(text.strip())
    if not found:
        raise InvalidArgument(f"invalid size: '{text}'")
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


def check(config: ContainerConfig) -> None:
    _check_capabilities(config.cap_add, config.cap_drop)
    for server in config.dns_servers:  # before the network mode's conflicts, as Podman parses them first
        if server == "none":  # --dns none: the image's own resolv.conf, no other server
            if len(config.dns_servers) > 1:
                raise InvalidArgument("none is not allowed to be specified with other DNS ip addresses")
            break
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise InvalidArgument(f"{server} is not an ip address") from None
    mode = "none" if config.network == "none" else "container" if config.network.startswith("container:") else ""
    if mode and (config.dns_servers or config.dns_options or config.dns_search):  # no resolv.conf of its own
        raise InvalidArgument(f"conflicting options: dns and the network mode: {mode}")
    if "none" in config.dns_servers:
        from sealpod.engine.dns_none import check_image_resolv_conf

        check_image_resolv_conf(config)
    if mode == "container" and config.add_hosts:  # it shares that container's /etc/hosts
        raise InvalidArgument("cannot set extra host entries when the container is joined to another containers "
                              "network namespace: invalid configuration")
    seen: dict[str, object] = {}
    if config.mounts:
        from sealpod.engine.mount_options import check_mount_options
    for mount in config.mounts:
        check_mount_options(mount)
        if not mount.destination.startswith("/"):
            raise InvalidArgument(f'invalid container path "{mount.destination}", must be an absolute path')
        dest = mount.destination.rstrip("/") or "/"
        if seen.setdefault(dest, mount) != mount:  # the very same mount twice is one mount, as in Podman
            raise InvalidArgument(f"{mount.destination}: duplicate mount destination")
    if "max-size" in config.log_opts:
        parse_size(config.log_opts["max-size"])
    if "io.containers.autoupdate" in config.labels:
        from sealpod.engine.auto_update import check_create

        check_create(config.labels, config.image)
    _check_numbers(config)
    _log_relative_masks(config.security_opts)
    if config.oom_score_adj is not None and not -1000 <= config.oom_score_adj <= 1000:
        raise InvalidArgument(f"invalid argument: oom_score_adj {config.oom_score_adj} must be between -1000 and 1000")
    if config.umask and not (config.umask.isascii() and config.umask.isdigit() and len(config.umask) <= 4
                             and all(c in "01234567" for c in config.umask)):
        raise InvalidArgument(f"running container create option: invalid umask string {config.umask}: "
                              "invalid argument")
    if config.timezone and config.timezone != "local":
        import os

        from sealpod.engine.specgen import zoneinfo_path

        zone = zoneinfo_path(config.timezone)
        if not os.path.normpath(zone).startswith("/usr/share/zoneinfo/"):  # ../ out of the zone database
            raise InvalidArgument("finding timezone for container: time: invalid location name")
        if os.path.isdir(zone):  # a region, not a zone
            raise InvalidArgument("running container create option: invalid timezone: is a directory")


def _check_numbers(config: ContainerConfig) -> None:
    """Values that would only fail at start (or not be storable at all) are refused at create, as Podman
    refuses them while parsing: a --ulimit it cannot parse, a --cpus that is no finite number."""
    import math

    if config.cpus is not None and not math.isfinite(config.cpus):
        raise InvalidArgument(f'invalid argument "{config.cpus}" for "--cpus" flag: the number of CPUs must be '
                              "a finite number")
    if config.ulimits:
        from sealpod.runtime.rlimits import parse_ulimits

        parse_ulimits(config.ulimits)
    if config.detach_keys:
        from sealpod.runtime.attach import parse_detach_keys

        parse_detach_keys(config.detach_keys)


def _log_relative_masks(security_opts: tuple[str, ...]) -> None:
    """A ``--security-opt mask=`` path that is not absolute is skipped (the spec leaves it out), with
    Podman's error line when the container is created; the create itself goes on."""
    for opt in security_opts:
        key, _, value = opt.partition("=" if "=" in opt else ":")
        for path in value.split(":") if key == "mask" else ():
            if path and not path.startswith("/"):
                from sealpod.utils.logrus import error

                error(f'Path "{path}" is not an absolute path, skipping...')


def _check_capabilities(add: tuple[str, ...], drop: tuple[str, ...]) -> None:
    if not add and not drop:
        return  # most containers: no need to load the runtime's tables
    from sealpod.runtime.spec import ALL_CAPABILITIES

    if any(c.upper() == "ALL" for c in add) and any(c.upper() == "ALL" for c in drop):
        raise InvalidArgument("adding all caps and removing all caps not allowed")
    for cap in (*add, *drop):
        name = cap.upper()
        if name == "ALL":
            continue
        if not name.startswith("CAP_"):
            name = f"CAP_{name}"
        if name not in ALL_CAPABILITIES:
            raise InvalidArgument(f'"{name}": unknown capability')


_LOG_DRIVERS = ("k8s-file", "json-file", "journald", "none", "passthrough")
_JOURNAL_SOCKET = "/run/systemd/journal/socket"


def log_driver_of(engine: Engine, config: dict[str, Any]) -> str:
    """The container's log driver: its own, else containers.conf's, else k8s-file."""
    return str(config.get("log_driver") or engine.config.containers.containers.log_driver or "k8s-file")


def check_log_driver(engine: Engine, config: ContainerConfig) -> None:
    """At create, as Podman refuses them: unknown drivers and journald without a journal.  A
    detached passthrough is fine: conmon keeps our stdio for the container (a systemd unit's
    journal, as quadlet's units use it)."""
    driver = log_driver_of(engine, {"log_driver": config.log_driver})
    if driver not in _LOG_DRIVERS:
        raise InvalidArgument("running container create option: invalid log driver: invalid argument")
    if driver == "journald" and not os.path.exists(_JOURNAL_SOCKET):
        raise InvalidArgument(f"failed to initialize journal: {_JOURNAL_SOCKET} does not exist: "
                              "journald is not running (use --log-driver k8s-file)")
