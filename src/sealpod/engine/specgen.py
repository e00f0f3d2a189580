"""Merge what the image says, what containers.conf says and what the user said.

``resolve_static`` runs at create time and stores its answer with the container (so
``ps`` and ``inspect`` show the real command without reading the image again);
``runtime_params`` runs at each start and produces the runtime's parameters.
"""

from __future__ import annotations

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.storage.records import ImageRecord


def image_config(image: ImageRecord | None) -> dict[str, Any]:
    if image is None:
        return {}
    doc = image.config_doc()
    inner = doc.get("config")
    return inner if isinstance(inner, dict) else {}


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def merge_env(*layers: list[str]) -> list[str]:
    """Later layers win per variable; order of first appearance is kept."""
    merged: dict[str, str] = {}
    for layer in layers:
        for item in layer:
            key, sep, value = item.partition("=")
            if key:
                merged[key] = f"{key}={value}" if sep else item
    return list(merged.values())


def _env_merged(env: list[str], merges: tuple[str, ...]) -> list[str]:
    """--env-merge KEY=VALUE: ``${VAR}`` and ``$VAR`` in VALUE are the image's (and defaults') values."""
    import re

    known = dict(e.partition("=")[::2] for e in env)
    pattern = re.compile(r"\$\{(\w+)\}|\$(\w+)")
    return [pattern.sub(lambda m: known.get(m.group(1) or m.group(2), ""), item) for item in merges]


def device_cgroup_rule(text: str) -> dict[str, Any]:
    """``c 7:* rmw`` into an OCI device cgroup rule, with Podman's complaints."""
    parts = text.split()
    if len(parts) != 3:
        raise InvalidArgument(f'invalid device cgroup rule requires type, major:Minor, and access rules: "{text}"')
    kind, numbers, access = parts
    if kind not in ("a", "b", "c"):
        raise InvalidArgument(f"invalid device type in device-access-add: {kind}")
    bad = [ch for ch in access if ch not in "rwm"]
    if bad:
        raise InvalidArgument(f"invalid device access in device-access-add: {bad[0]}")
    rule: dict[str, Any] = {"allow": True, "type": kind, "access": access}
    for key, value in zip(("major", "minor"), numbers.split(":", 1), strict=False):
        if value == "*":
            continue
        if not value.isdigit():
            raise InvalidArgument(f'strconv.ParseUint: parsing "{value}": invalid syntax')
        rule[key] = int(value)
    return rule


def zoneinfo_path(timezone: str) -> str:
    """The host file ``--tz`` copies to the container's /etc/localtime."""
    return "/etc/localtime" if timezone == "local" else f"/usr/share/zoneinfo/{timezone}"


PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ftp_proxy", "FTP_PROXY",
              "no_proxy", "NO_PROXY")


def _host_env(config: ContainerConfig, conf_http_proxy: bool) -> list[str]:
    """What the host's environment gives a new container: all of it (--env-host), or else its proxy
    variables (--http-proxy, on by default), so that programs in it reach the net as the host does."""
    import os

    if config.env_host:
        return [f"{k}={v}" for k, v in os.environ.items()]
    if config.http_proxy is False or (config.http_proxy is None and not conf_http_proxy):
        return []
    return [f"{k}={os.environ[k]}" for k in PROXY_VARS if k in os.environ]


def resolve_static(engine: Engine, config: ContainerConfig, image: ImageRecord | None) -> dict[str, Any]:
    """Command, environment, working directory, user and stop signal of a new container."""
    img = image_config(image)
    entrypoint = list(config.entrypoint) if config.entrypoint is not None else _strings(img.get("Entrypoint"))
    if config.command is not None and (config.command or config.entrypoint is not None):
        cmd = list(config.command)
    elif config.entrypoint is not None:
        cmd = []  # an explicit --entrypoint drops the image's Cmd, as Docker and Podman do
    else:
        cmd = _strings(img.get("Cmd"))
    if not entrypoint and not cmd:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    conf = engine.config.containers.containers
    host_env = _host_env(config, conf.http_proxy)
    defaults = merge_env(list(conf.env), _strings(img.get("Env")), ["container=podman"], host_env)
    if config.unsetenv_all:
        defaults = []
    defaults = [e for e in defaults if e.partition("=")[0] not in config.unsetenv]
    env = merge_env(defaults, list(config.env))
    if config.env_merge:
        env = merge_env(env, _env_merged(env, config.env_merge))
    for rule in config.device_cgroup_rules:
        device_cgroup_rule(rule)
    from sealpod.engine.cgroups import check_block_devices

    check_block_devices(config)
    if config.timezone:
        import os

        zone = zoneinfo_path(config.timezone)
        if not os.path.exists(zone):
            raise InvalidArgument(f"running container create option: stat {zone}: no such file or directory")
    if config.stop_signal:
        from sealpod.engine.containers import parse_signal

        parse_signal(config.stop_signal)  # a bad --stop-signal fails create, not stop
    labels = {**(img.get("Labels") or {}), **config.labels}
    from sealpod.engine.systemd_mode import STOP_SIGNAL, creation_notify_socket, systemd_enabled

    systemd = systemd_enabled(config.systemd, entrypoint + cmd)  # decided once: inspect shows it
    return {
        "systemd": systemd, "sdnotify_socket": creation_notify_socket(config.sdnotify),
        "entrypoint": entrypoint, "cmd": cmd, "env": env,
        "command": cmd if entrypoint == [""] else entrypoint + cmd,  # ENTRYPOINT [""]: none, as Podman runs it
        "workdir": config.workdir or str(img.get("WorkingDir") or "/"),
        "user": config.user or str(img.get("User") or ""),
        "stop_signal": config.stop_signal or (STOP_SIGNAL if systemd else str(img.get("StopSignal") or "SIGTERM")),
        "labels": labels, "exposed_ports": sorted((img.get("ExposedPorts") or {}).keys()),
        **_seccomp(engine, config, img.get("Labels") or {}),  # --seccomp-policy=image, containers.conf's profile
        # checked now (a missing secret fails create, as in Podman); the data is read at each start
        "secrets": engine.secrets.resolve_uses(config.secrets) if config.secrets else [],
        # inspect's OCIRuntime: the runtime as the user named it (a full path stays a path), as Podman
        "oci_runtime": engine.config.containers.engine.runtime or engine.system.runtime_path()[0],
    }


def _seccomp(engine: Engine, config: ContainerConfig, labels: dict[str, str]) -> dict[str, Any]:
    from sealpod.engine.container_security import create_seccomp

    return create_seccomp(config.seccomp_policy, labels, config.security_opts,
                          engine.config.containers.containers.seccomp_profile)
