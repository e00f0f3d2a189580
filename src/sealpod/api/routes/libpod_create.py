"""Podman's SpecGenerator (the body of ``POST /libpod/containers/create``) → :class:`ContainerConfig`.

The remote podman client parses every run/create flag itself and sends the result in this shape,
so each field it fills must reach the spec the local CLI would have built from the same flags:
a field dropped here is a flag silently ignored over ``--remote``.  Go decodes JSON keys case-
insensitively, and podman-py spells some of them differently, so lookups here do too.
"""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.api.routes.container_create import _dict, _entrypoint, _healthcheck, _strs
from sealpod.engine.container_config import ContainerConfig, MountSpec, RestartPolicy
from sealpod.errors import InvalidArgument, SpecRefused

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

#: the scratch tmpfs the client adds for --read-only (read_only_tmpfs); the engine adds them itself
_READ_ONLY_TMPFS = ("/tmp", "/var/tmp", "/run")
_TMPFS_OPTIONS = ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]
#: annotations the client sets for its own bookkeeping: the engine derives them from the spec
_CLIENT_ANNOTATIONS = ("io.kubernetes.cri-o.TTY", "io.podman.annotations.")
#: define.HealthCheckOnFailureAction, in Podman's numbering
_ON_FAILURE = {1: "none", 2: "kill", 3: "restart", 4: "stop"}


def _get(doc: Mapping[str, Any], key: str) -> Any:
    """``doc[key]`` matched case-insensitively, as Go's decoder matches struct fields."""
    if key in doc:
        return doc[key]
    lower = key.lower()
    return next((v for k, v in doc.items() if str(k).lower() == lower), None)


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"decoding request body: {what} must be an integer") from None


def _namespace(body: Mapping[str, Any], key: str) -> str:
    """A ``{"nsmode": ..., "value": ...}`` namespace as the CLI's flag value (``container:ID``, ``ns:PATH``)."""
    ns = _dict(body.get(key), key)
    mode, value = str(ns.get("nsmode") or ""), str(ns.get("value") or "")
    if mode in ("", "default"):
        return ""
    if mode == "path":
        return f"ns:{value}"
    if mode == "container":
        return f"container:{value}"
    return f"{mode}:{value}" if value else mode


def userns_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """SpecGenerator's ``userns`` (``{"nsmode": "keep-id", "value": "uid=1"}``) and ``idmappings``."""
    mode = _namespace(body, "userns")
    maps = _dict(body.get("idmappings"), "idmappings")

    def ranges(key: str) -> tuple[str, ...]:
        try:
            return tuple(f"{int(m['container_id'])}:{int(m['host_id'])}:{int(m['size'])}"
                         for m in maps.get(key) or [] if isinstance(m, dict))
        except (KeyError, TypeError, ValueError):
            raise InvalidArgument(f"decoding request body: idmappings.{key} entries need container_id, "
                                  "host_id and size") from None

    uid_maps, gid_maps = ranges("UIDMap"), ranges("GIDMap")
    if mode == "private" and (uid_maps or gid_maps):
        mode = ""  # the client's spelling of --uidmap/--gidmap: the maps say it all
    if mode.startswith("no-map"):
        mode = "nomap" + mode[len("no-map"):]  # specgen's name of --userns=nomap
    return {"userns": mode, "uid_maps": uid_maps, "gid_maps": gid_maps}


def _secrets(body: Mapping[str, Any]) -> tuple[str, ...]:
    """``secrets`` (mounted files) and ``secret_env`` (ENV -> secret name), as ``--secret`` specs."""
    specs = []
    for raw in body.get("secrets") or []:
        item = {str(k).lower(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
        if not item.get("source"):
            raise InvalidArgument("decoding request body: secrets must be objects with a Source")
        opts = [f"target={item['target']}"] if item.get("target") else []
        opts += [f"mode={int(item['mode']):o}"] if item.get("mode") not in (None, 0, 0o444) else []
        opts += [f"{k}={int(item[k])}" for k in ("uid", "gid") if item.get(k)]
        specs.append(",".join([str(item["source"]), *opts]))
    for env, secret in _dict(body.get("secret_env"), "secret_env").items():
        specs.append(f"{secret},type=env,target={env}")
    return tuple(specs)


def _systemd(body: Mapping[str, Any]) -> dict[str, Any]:
    """``systemd``, ``sdnotifyMode``, checked as the CLI checks them, and the cgroup fields."""
    from sealpod.engine.systemd_mode import check_sdnotify_value, check_systemd_value

    systemd, sdnotify = str(body.get("systemd") or ""), str(body.get("sdnotifyMode") or "")
    cgroups = str(body.get("cgroups_mode") or "")
    if cgroups not in ("", "enabled", "disabled", "no-conmon", "split"):
        raise InvalidArgument(f'running container create option: invalid cgroup mode "{cgroups}": invalid argument')
    return {"systemd": check_systemd_value(systemd) if systemd else "",
            "sdnotify": check_sdnotify_value(sdnotify) if sdnotify else "",
            "cgroup_parent": str(body.get("cgroup_parent") or ""), "cgroupns": _namespace(body, "cgroupns"),
            "cgroups": "" if cgroups == "enabled" else cgroups}


def _mounts(body: Mapping[str, Any], read_only: bool) -> tuple[MountSpec, ...]:
    """``mounts`` (binds, tmpfs, devpts), ``volumes`` (named and anonymous) and ``image_volumes``."""
    found = []
    for m in body.get("mounts") or []:
        m = _dict(m, "mounts")
        opts = tuple(_strs(_get(m, "options")))
        kind, dest = str(_get(m, "type") or "bind"), str(_get(m, "destination") or "")
        if read_only and kind == "tmpfs" and dest in _READ_ONLY_TMPFS and list(opts) == _TMPFS_OPTIONS:
            continue
        if kind not in ("tmpfs", "devpts"):
            kind = "bind"
        found.append(MountSpec(kind, dest, str(_get(m, "source") or ""), opts, "ro" in opts))
    for v in body.get("volumes") or []:
        v = _dict(v, "volumes")
        opts = tuple(_strs(_get(v, "options")))
        found.append(MountSpec("volume", str(_get(v, "dest") or ""), str(_get(v, "name") or ""), opts, "ro" in opts))
    for v in body.get("overlay_volumes") or []:  # -v SRC:DEST:O
        v = _dict(v, "overlay_volumes")
        opts = tuple(_strs(_get(v, "options")))
        found.append(MountSpec("bind", str(_get(v, "destination") or ""), str(_get(v, "source") or ""),
                               opts if "O" in opts else ("O", *opts), "ro" in opts))
    for v in body.get("image_volumes") or []:
        v = _dict(v, "image_volumes")
        found.append(MountSpec("image", str(_get(v, "destination") or ""), str(_get(v, "source") or ""), (),
                               not _get(v, "readwrite")))
    return tuple(found)


def _has_scratch_tmpfs(body: Mapping[str, Any]) -> bool:
    """Whether the client added --read-only's tmpfs mounts: it leaves them out for --read-only-tmpfs=false."""
    return any(isinstance(m, dict) and str(_get(m, "type")) == "tmpfs"
               and str(_get(m, "destination")) in _READ_ONLY_TMPFS for m in body.get("mounts") or [])


def _log(body: Mapping[str, Any]) -> dict[str, Any]:
    """``log_configuration``: driver, path and size are ``--log-opt`` keys on the command line."""
    log = _dict(body.get("log_configuration"), "log_configuration")
    opts = {str(k): str(v) for k, v in _dict(log.get("options"), "log_configuration.options").items()}
    if log.get("path"):
        opts["path"] = str(log["path"])
    size = _int(log.get("size"), "log_configuration.size")
    if size and size > 0:
        opts["max-size"] = str(size)
    return {"log_driver": str(log.get("driver") or ""), "log_opts": opts}


def _rates(body: Mapping[str, Any], key: str, field: str) -> tuple[tuple[str, int], ...]:
    """``{"/dev/sda": {"rate": N}}`` (or ``weight``) → the CLI's (path, value) pairs."""
    return tuple((str(path), int(_int(_dict(v, key).get(field), key) or 0))
                 for path, v in _dict(body.get(key), key).items())


def _resources(body: Mapping[str, Any]) -> dict[str, Any]:
    """``resource_limits`` (an OCI LinuxResources) and the per-device throttles."""
    res = _dict(body.get("resource_limits"), "resource_limits")
    memory, cpu = _dict(res.get("memory"), "memory"), _dict(res.get("cpu"), "cpu")
    pids = _dict(res.get("pids"), "pids")
    pids_limit = _int(pids.get("limit"), "pids.limit")
    swap = _int(memory.get("swap"), "memory.swap")
    weight = _int(_dict(res.get("blockIO"), "blockIO").get("weight"), "blockIO.weight")
    swappiness = _int(memory.get("swappiness"), "memory.swappiness")
    return {
        "memory": _int(memory.get("limit"), "memory.limit") or None, "memory_swap": swap or None,
        "cpu_shares": _int(cpu.get("shares"), "cpu.shares") or None, "cpuset_cpus": str(cpu.get("cpus") or "")
        or None, "cpu_quota": _int(cpu.get("quota"), "cpu.quota") or None,
        "cpu_period": _int(cpu.get("period"), "cpu.period") or None,
        "pids_limit": (-1 if pids_limit <= 0 else pids_limit) if pids_limit is not None else None,
        "blkio_weight": weight or None, "blkio_weight_device": _rates(body, "weightDevice", "weight"),
        "device_read_bps": _rates(body, "throttleReadBpsDevice", "rate"),
        "device_write_bps": _rates(body, "throttleWriteBpsDevice", "rate"),
        "device_read_iops": _rates(body, "throttleReadIOPSDevice", "rate"),
        "device_write_iops": _rates(body, "throttleWriteIOPSDevice", "rate"),
        "memory_reservation": _int(memory.get("reservation"), "memory.reservation") or None,
        "memory_swappiness": swappiness if swappiness is not None and swappiness >= 0 else None,
        "oom_kill_disable": bool(memory.get("disableOOMKiller")), "cpuset_mems": str(cpu.get("mems") or "") or None,
        "cpu_rt_period": _int(cpu.get("realtimePeriod"), "cpu.realtimePeriod"),
        "cpu_rt_runtime": _int(cpu.get("realtimeRuntime"), "cpu.realtimeRuntime"),
    }


def _security(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``--security-opt`` values the client split into SpecGenerator fields."""
    opts = [f"label={o}" for o in _strs(body.get("selinux_opts"))]
    if body.get("apparmor_profile"):
        opts.append(f"apparmor={body['apparmor_profile']}")
    if body.get("seccomp_profile_path"):
        opts.append(f"seccomp={body['seccomp_profile_path']}")
    if body.get("no_new_privileges"):
        opts.append("no-new-privileges")
    opts += [f"mask={p}" for p in _strs(body.get("mask"))] + [f"unmask={p}" for p in _strs(body.get("unmask"))]
    if body.get("procfs_opts"):
        opts.append("proc-opts=" + ",".join(_strs(body["procfs_opts"])))
    return tuple(opts)


def _spec_extras(body: Mapping[str, Any]) -> dict[str, Any]:
    """``seccomp_policy``, ``hostusers`` and ``resource_limits.unified`` (where podman-remote puts
    ``--cgroup-conf``; the top-level ``unified`` map is ignored, as Podman 4.3 ignores it)."""
    unified = {str(k): str(v) for k, v in _dict(_dict(body.get("resource_limits"), "resource_limits")
                                                .get("unified"), "unified").items()}
    if unified:
        from sealpod.engine.systemd_mode import host_cgroup_v2

        if not host_cgroup_v2():
            raise SpecRefused("cannot use --cgroup-conf without cgroup v2")
    policy = str(body.get("seccomp_policy") or "")
    return {"seccomp_policy": "" if policy == "default" else policy, "hostusers": _strs(body.get("hostusers")),
            "cgroup_conf": unified}


def _device_rule(rule: Any) -> str:
    """``{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}`` → ``c 1:3 rwm``."""
    rule = _dict(rule, "device_cgroup_rule")
    major = "*" if rule.get("major") is None else str(rule["major"])
    minor = "*" if rule.get("minor") is None else str(rule["minor"])
    return f"{rule.get('type') or 'a'} {major}:{minor} {rule.get('access') or 'rwm'}"


def _networks(body: Mapping[str, Any]) -> dict[str, Any]:
    """``netns``, ``Networks`` (``default`` holds --ip/--mac-address/--network-alias), ports and DNS."""
    netns = _dict(body.get("netns"), "netns")
    mode = str(netns.get("nsmode") or "")
    network = _namespace(body, "netns")
    fields: dict[str, Any] = {"network": "" if mode in ("", "bridge", "default") else network}
    if mode in ("slirp4netns", "pasta"):  # podman-remote sends --network slirp4netns:cidr=... as network_options
        given = ",".join(_strs(_dict(body.get("network_options"), "network_options").get(mode)))
        fields["network"] = f"{mode}:{given}" if given else mode
    named = {str(k): _dict(v, "Networks") for k, v in _dict(_get(body, "Networks"), "Networks").items()}
    default = named.pop("default", {})
    fields["ip"] = next(iter(_strs(default.get("static_ips"))), "")
    fields["mac_address"] = str(default.get("static_mac") or "")
    fields["network_aliases"] = _strs(default.get("aliases"))
    if named:
        fields["network"] = "bridge"
        fields["networks"] = {name: {k: v for k, v in opts.items() if v and k != "interface_name"}
                              for name, opts in named.items()}
    ports = []
    for p in body.get("portmappings") or []:
        p = _dict(p, "portmappings")
        host_ip, host_port, span = str(p.get("host_ip") or ""), int(p.get("host_port") or 0), int(p.get("range") or 1)
        inner = int(p["container_port"])
        inner_s = f"{inner}-{inner + span - 1}" if span > 1 else str(inner)
        host_s = (f"{host_port}-{host_port + span - 1}" if span > 1 else str(host_port)) if host_port else ""
        if ":" in host_ip:
            host_ip = f"[{host_ip}]"
        prefix = f"{host_ip}:{host_s}:" if host_ip else (f"{host_s}:" if host_s else "")
        ports.append(f"{prefix}{inner_s}/{p.get('protocol') or 'tcp'}")
    fields.update(
        ports=tuple(ports), publish_all=bool(body.get("publish_image_ports")),
        expose=tuple(f"{port}/{proto or 'tcp'}" for port, proto in _dict(body.get("expose"), "expose").items()),
        add_hosts=_strs(body.get("hostadd")),
        dns_servers=(*(("none",) if body.get("use_image_resolve_conf") else ()), *_strs(body.get("dns_server"))),
        dns_search=_strs(body.get("dns_search")), dns_options=_strs(body.get("dns_option")),
        no_hosts=bool(body.get("use_image_hosts")))  # 4.3's name for --no-hosts
    return fields


def _rootfs(body: Mapping[str, Any]) -> str:
    rootfs = str(body.get("rootfs") or "")
    return f"{rootfs}:O" if rootfs and body.get("rootfs_overlay") else rootfs


def _process(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the container runs and as whom: command, environment, user, terminal."""
    env = tuple(f"{k}={v}" for k, v in _dict(body.get("env"), "env").items())
    stop_signal = body.get("stop_signal")
    action = _int(body.get("health_check_on_failure_action"), "health_check_on_failure_action") or 0
    return {
        "command": _strs(body["command"]) if body.get("command") else None,
        "entrypoint": _entrypoint(body.get("entrypoint")), "env": env,
        "unsetenv": _strs(body.get("unsetenv")),
        "unsetenv_all": bool(body.get("unsetenvall") or body.get("unsetenv_all")),
        "env_merge": _strs(body.get("envmerge")), "chroot_dirs": _strs(body.get("chroot_directories")),
        "personality": str(_dict(body.get("personality"), "personality").get("domain") or ""),
        "passwd": body.get("manage_password") is not False, "passwd_entry": str(body.get("passwd_entry") or ""),
        "http_proxy": bool(body.get("httpproxy")), "workdir": str(body.get("work_dir") or ""),
        "user": str(body.get("user") or ""), "group_add": _strs(body.get("groups")),
        "tty": bool(body.get("terminal")), "interactive": bool(body.get("stdin")),
        "stop_signal": str(stop_signal) if stop_signal else "",
        "stop_timeout": _int(body.get("stop_timeout"), "stop_timeout"),
        "timeout": _int(body.get("timeout"), "timeout") or 0, "umask": str(body.get("umask") or ""),
        "init": bool(body.get("init")), "init_path": str(body.get("init_path") or ""),
        "healthcheck": _libpod_healthcheck(body.get("healthconfig")),
        "health_on_failure": _ON_FAILURE.get(action, ""),
        "timezone": str(body.get("timezone") or ""), "oom_score_adj": _int(body.get("oom_score_adj"), "oom_score_adj"),
        "shm_size": _int(body.get("shm_size"), "shm_size") or None,
        "create_command": _strs(body.get("containerCreateCommand")),
    }


#: Podman's warning, which the client prints before the container's output
PORTS_DISCARDED = ("Port mappings have been discarded as one of the Host, Container, Pod, and None network modes "
                   "are in use")


def from_libpod(body: Any) -> tuple[ContainerConfig, list[str]]:
    """``POST /libpod/containers/create``: the SpecGenerator podman-remote and podman-py send, as a
    spec and the warnings for the response (podman-remote prints them, as the local CLI does)."""
    config = _config(body)
    if config.ports and (config.network in ("none", "host") or config.network.startswith(("container:", "ns:"))):
        from sealpod.utils.record import replace

        return replace(config, ports=()), [PORTS_DISCARDED]  # -P alone: kept, and no warning, as in Podman
    return config, []


def _config(body: Any) -> ContainerConfig:
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    image, rootfs = str(body.get("image") or ""), _rootfs(body)
    if not image and not rootfs:
        raise InvalidArgument("no image specified: image name is required")
    read_only = bool(body.get("read_only_filesystem"))
    restart = str(body.get("restart_policy") or "")
    annotations = {str(k): str(v) for k, v in _dict(body.get("annotations"), "annotations").items()
                   if not str(k).startswith(_CLIENT_ANNOTATIONS)}
    return ContainerConfig(
        image=image, rootfs=rootfs, name=str(body.get("name") or ""), remove=bool(body.get("remove")),
        labels={str(k): str(v) for k, v in _dict(body.get("labels"), "labels").items()}, annotations=annotations,
        hostname=str(body.get("hostname") or ""), mounts=_mounts(body, read_only), read_only=read_only,
        read_only_tmpfs=not read_only or _has_scratch_tmpfs(body),
        privileged=bool(body.get("privileged")), cap_add=_strs(body.get("cap_add")),
        cap_drop=_strs(body.get("cap_drop")), security_opts=_security(body),
        restart=RestartPolicy(restart, int(body.get("restart_tries") or 0)), detach=True, pull="never",
        ulimits=tuple(f"{str(r['type']).removeprefix('RLIMIT_').lower()}={_rlimit(r['soft'])}:{_rlimit(r['hard'])}"
                      for r in body.get("r_limits") or []),
        sysctls={str(k): str(v) for k, v in _dict(body.get("sysctl"), "sysctl").items()},
        devices=tuple(str(_get(_dict(d, "devices"), "path") or "") for d in body.get("devices") or []),
        device_cgroup_rules=tuple(_device_rule(r) for r in body.get("device_cgroup_rule") or []),
        ipc=_namespace(body, "ipcns"), pid=_namespace(body, "pidns"), uts=_namespace(body, "utsns"),
        conmon_pidfile=str(body.get("conmon_pid_file") or ""), requires=_strs(body.get("dependencyContainers")),
        secrets=_secrets(body), pod=str(body.get("pod") or ""), image_volume=_image_volume_mode(body),
        volumes_from=_strs(body.get("volumes_from")), **_process(body), **_log(body), **_resources(body),
        **_networks(body), **userns_fields(body), **_systemd(body), **_spec_extras(body))


def _libpod_healthcheck(value: Any) -> dict[str, Any]:
    """podman-remote always sends the interval it wants; one left out is ``--health-interval 0`` (no timer),
    not Docker's default of 30 seconds."""
    check = _healthcheck(value)
    if check.get("Test") and check["Test"] != ["NONE"]:
        check.setdefault("Interval", 0)
    return check


def _rlimit(value: Any) -> int:
    """An rlimit as the client sends it (a uint64: ``-1``, unlimited, arrives as 2**64-1) as the CLI spells it."""
    number = _int(value, "r_limits") or 0
    return -1 if number >= 2**63 else number


def _image_volume_mode(body: Mapping[str, Any]) -> str:
    """SpecGenerator spells the CLI's ``--image-volume bind`` as ``anonymous`` (the remote podman sends it)."""
    mode = str(body.get("image_volume_mode") or "")
    return "bind" if mode == "anonymous" else mode


__all__ = ["from_libpod", "userns_fields"]
