"""Docker's and Podman's create bodies → :class:`ContainerConfig`, the spec the CLI builds too.

Docker's body is ``Config`` fields at the top level plus ``HostConfig`` and ``NetworkingConfig``,
as the Docker CLI, compose and docker-py send them; libpod's is Podman's SpecGenerator.  Fields
sealpod has no use for are ignored silently, as Podman does; malformed values are 400s.
"""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.engine.container_config import ContainerConfig, MountSpec, RestartPolicy
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_MODES = ("", "default", "bridge", "none", "host", "private", "slirp4netns", "pasta")


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise InvalidArgument(f"expected a list of strings, got {type(value).__name__}")
    return tuple(str(v) for v in value)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what}: expected an object")
    return value


def _positive(value: Any) -> int | None:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid number: {value!r}") from None
    return number if number > 0 else None


def _bind(spec: str) -> MountSpec:
    """``SRC:DEST[:OPTIONS]`` from HostConfig.Binds: an absolute SRC is a host path, else a volume."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 3 or not parts[1].startswith("/"):
        raise InvalidArgument(f'invalid volume specification: "{spec}"')
    src, dest = parts[0], parts[1]
    options = tuple(o for o in (parts[2].split(",") if len(parts) == 3 else []) if o)
    kind = "bind" if src.startswith("/") else "volume"
    return MountSpec(kind, dest, src, options, "ro" in options)


def _mount(doc: Mapping[str, Any]) -> MountSpec:
    """One entry of HostConfig.Mounts (``--mount`` on the Docker CLI)."""
    kind = str(doc.get("Type") or "volume")
    dest = str(doc.get("Target") or doc.get("Destination") or "")
    if kind not in ("bind", "volume", "tmpfs") or not dest.startswith("/"):
        raise InvalidArgument(f"invalid mount: type {kind!r}, target {dest!r}")
    read_only = bool(doc.get("ReadOnly"))
    options: list[str] = ["ro"] if read_only else []
    propagation = _dict(doc.get("BindOptions"), "BindOptions").get("Propagation")
    if propagation:
        options.append(str(propagation))
    if _dict(doc.get("VolumeOptions"), "VolumeOptions").get("NoCopy"):
        options.append("nocopy")
    tmpfs = _dict(doc.get("TmpfsOptions"), "TmpfsOptions")
    if tmpfs.get("SizeBytes"):
        options.append(f"size={int(tmpfs['SizeBytes'])}")
    if tmpfs.get("Mode"):
        options.append(f"mode={int(tmpfs['Mode']):o}")
    src = str(doc.get("Source") or ("tmpfs" if kind == "tmpfs" else ""))
    if kind == "bind" and not src.startswith("/"):
        raise InvalidArgument(f"invalid mount: bind source path {src!r} must be absolute")
    return MountSpec(kind, dest, src, tuple(options), read_only)


def _mounts(host: Mapping[str, Any]) -> tuple[MountSpec, ...]:
    found = [_bind(b) for b in _strs(host.get("Binds"))]
    found += [_mount(_dict(m, "Mounts")) for m in host.get("Mounts") or []]
    for dest, opts in _dict(host.get("Tmpfs"), "Tmpfs").items():
        found.append(MountSpec("tmpfs", dest, "tmpfs", tuple(o for o in str(opts or "").split(",") if o)))
    return tuple(found)


def _ports(host: Mapping[str, Any]) -> tuple[str, ...]:
    """PortBindings ``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`` → ``-p`` specs."""
    specs = []
    for port, bindings in _dict(host.get("PortBindings"), "PortBindings").items():
        for b in bindings or [{}]:
            ip, hport = str((b or {}).get("HostIp") or ""), str((b or {}).get("HostPort") or "")
            hport = "" if hport == "0" else hport  # Docker's "any free port", as "" is
            if ":" in ip:
                ip = f"[{ip}]"
            specs.append(f"{ip}:{hport}:{port}" if ip else (f"{hport}:{port}" if hport else port))
    return tuple(specs)


def _network(host: Mapping[str, Any], networking: Mapping[str, Any]) -> dict[str, Any]:
    """NetworkMode plus NetworkingConfig.EndpointsConfig → network, networks and aliases."""
    mode = str(host.get("NetworkMode") or "")
    endpoints = _dict(networking.get("EndpointsConfig"), "EndpointsConfig")
    fields: dict[str, Any] = {"network": "" if mode in ("default", "bridge") else mode}
    named: dict[str, dict[str, Any]] = {}
    if mode not in _MODES and not mode.startswith(("container:", "ns:")):
        named[mode] = {}
    for name, ep in endpoints.items():
        if name in _MODES and name != "bridge" or name.startswith("container:"):
            continue
        ep = _dict(ep, "EndpointSettings")
        opts: dict[str, Any] = {}
        if ep.get("Aliases"):
            opts["aliases"] = list(_strs(ep["Aliases"]))
        ipam = _dict(ep.get("IPAMConfig"), "IPAMConfig")
        ips = [str(ipam[k]) for k in ("IPv4Address", "IPv6Address") if ipam.get(k)]
        if ips:
            opts["static_ips"] = ips
        if ep.get("MacAddress"):
            opts["static_mac"] = str(ep["MacAddress"]).lower()
        if name == "bridge" and not opts and not named:
            continue  # the default network, nothing special asked
        named[name] = {**named.get(name, {}), **opts}
    if named:
        fields["network"] = "bridge"
        fields["networks"] = named
    return fields


def _resources(host: Mapping[str, Any]) -> dict[str, Any]:
    swap = host.get("MemorySwap")
    nano = host.get("NanoCpus") or 0
    pids = host.get("PidsLimit")
    return {
        "memory": _positive(host.get("Memory")), "memory_swap": -1 if swap == -1 else _positive(swap),
        "cpus": int(nano) / 1e9 if nano else None, "cpu_shares": _positive(host.get("CpuShares")),
        "cpuset_cpus": str(host.get("CpusetCpus")) or None if host.get("CpusetCpus") else None,
        "pids_limit": -1 if pids == -1 else _positive(pids), "shm_size": _positive(host.get("ShmSize")),
        "oom_score_adj": int(str(host["OomScoreAdj"])) if host.get("OomScoreAdj") else None,
    }


def _host_fields(host: Mapping[str, Any]) -> dict[str, Any]:
    restart = _dict(host.get("RestartPolicy"), "RestartPolicy")
    name = str(restart.get("Name") or "no")
    if name not in ("no", "on-failure", "always", "unless-stopped"):
        raise InvalidArgument(f'invalid restart policy "{name}"')
    log = _dict(host.get("LogConfig"), "LogConfig")
    driver = str(log.get("Type") or "")
    ulimits = [f"{u['Name']}={int(u.get('Soft') or 0)}:{int(u.get('Hard') or u.get('Soft') or 0)}"
               for u in (host.get("Ulimits") or []) if isinstance(u, dict) and u.get("Name")]
    devices = [":".join(p for p in (str(d.get("PathOnHost") or ""), str(d.get("PathInContainer") or ""),
                                     str(d.get("CgroupPermissions") or "")) if p)
               for d in (host.get("Devices") or []) if isinstance(d, dict)]
    return {
        "mounts": _mounts(host), "remove": bool(host.get("AutoRemove")), "volumes_from": _strs(host.get("VolumesFrom")),
        "restart": RestartPolicy(name, int(restart.get("MaximumRetryCount") or 0)),
        "privileged": bool(host.get("Privileged")), "read_only": bool(host.get("ReadonlyRootfs")),
        "cap_add": _strs(host.get("CapAdd")), "cap_drop": _strs(host.get("CapDrop")),
        "security_opts": _strs(host.get("SecurityOpt")), "ulimits": tuple(ulimits), "devices": tuple(devices),
        "sysctls": {str(k): str(v) for k, v in _dict(host.get("Sysctls"), "Sysctls").items()},
        "log_driver": "k8s-file" if driver == "json-file" else driver,
        "log_opts": {str(k): str(v) for k, v in _dict(log.get("Config"), "LogConfig.Config").items()},
        "ports": _ports(host), "publish_all": bool(host.get("PublishAllPorts")),
        "add_hosts": _strs(host.get("ExtraHosts")), "dns_servers": _strs(host.get("Dns")),
        "dns_search": _strs(host.get("DnsSearch")), "dns_options": _strs(host.get("DnsOptions")),
        "init": bool(host.get("Init")), "group_add": _strs(host.get("GroupAdd")),
        "ipc": "" if host.get("IpcMode") in (None, "", "private", "shareable") else str(host["IpcMode"]),
        "pid": str(host.get("PidMode") or ""), "uts": str(host.get("UTSMode") or ""), **_resources(host),
        "userns": str(host.get("UsernsMode") or ""),  # Podman's compat API takes its own modes here too
        "cgroup_parent": str(host.get("CgroupParent") or ""),
    }


def _entrypoint(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    words = _strs(value)
    return () if words in ((), ("",)) else words


def from_docker(body: Any, name: str = "") -> ContainerConfig:
    """``POST /containers/create``'s body (and ``?name=``) as a container spec."""
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    image = str(body.get("Image") or "")
    if not image:
        raise InvalidArgument("no image specified: image name is required")
    host = _dict(body.get("HostConfig"), "HostConfig")
    networking = _dict(body.get("NetworkingConfig"), "NetworkingConfig")
    attached = any(body.get(k) for k in ("AttachStdin", "AttachStdout", "AttachStderr"))
    net = _network(host, networking)
    if body.get("MacAddress"):
        net["mac_address"] = str(body["MacAddress"]).lower()
    stop_timeout = body.get("StopTimeout")
    cmd = body.get("Cmd")
    return ContainerConfig(
        image=image, name=name, command=_strs(cmd) if cmd is not None else None,
        entrypoint=_entrypoint(body.get("Entrypoint")), env=tuple(e for e in _strs(body.get("Env")) if "=" in e),
        workdir=str(body.get("WorkingDir") or ""), user=str(body.get("User") or ""), tty=bool(body.get("Tty")),
        interactive=bool(body.get("OpenStdin")), detach=not attached,
        labels={str(k): str(v) for k, v in _dict(body.get("Labels"), "Labels").items()},
        hostname=str(body.get("Hostname") or ""), stop_signal=str(body.get("StopSignal") or ""),
        stop_timeout=int(stop_timeout) if stop_timeout is not None else None,
        expose=tuple(_dict(body.get("ExposedPorts"), "ExposedPorts")), pull="never",
        healthcheck=_healthcheck(body.get("Healthcheck")), **net, **_with_volumes(body, _host_fields(host)))


def _with_volumes(body: Mapping[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``Config.Volumes`` (``docker run -v /path`` sends it there): anonymous volumes where no
    bind or mount of HostConfig already is."""
    taken = {m.destination.rstrip("/") for m in fields["mounts"]}
    extra = [MountSpec("volume", str(p)) for p in _dict(body.get("Volumes"), "Volumes")
             if str(p).startswith("/") and str(p).rstrip("/") not in taken]
    return {**fields, "mounts": (*fields["mounts"], *extra)} if extra else fields


def _healthcheck(value: Any) -> dict[str, Any]:
    """Docker's ``Healthcheck`` (durations in nanoseconds), the shape the engine keeps too."""
    doc = _dict(value, "Healthcheck")
    out: dict[str, Any] = {}
    if doc.get("Test") is not None:
        out["Test"] = list(_strs(doc["Test"]))
    for key in ("Interval", "Timeout", "StartPeriod", "Retries"):
        if doc.get(key):
            try:
                out[key] = int(doc[key])
            except (TypeError, ValueError):
                raise InvalidArgument(f"decoding request body: Healthcheck.{key} must be an integer") from None
    return out


__all__ = ["from_docker"]
