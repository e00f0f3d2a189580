"""``inspect``'s HostConfig with every key Podman 4.3.1 shows, in its order and JSON types.

Users template on these keys (``{{.HostConfig.PortBindings}}``) and tools compare them across
engines, so a key Podman always prints is printed here too, zero-valued when sealpod has no such
setting; Go's nil slices and maps stay ``null`` where Podman's JSON says so.
"""

from __future__ import annotations

from sealpod.errors import SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService


def host_config(svc: ContainerService, rec: ContainerRecord, *, log_path: str,
                oci: dict[str, Any], bounding: Sequence[str] = ()) -> dict[str, Any]:
    """The whole HostConfig; ``oci`` the bundle's config.json ({}
    before the first start), whose rlimits are what the container really got, and ``bounding`` the
    process's bounding capabilities, which CapAdd and CapDrop are read from, as Podman does."""
    from sealpod.engine.cgroups import inspect_fields as cgroup_inspect_fields
    from sealpod.engine.container_caps import inspect_cap_changes
    from sealpod.engine.image_volumes import inspect_binds

    cfg, spec = rec.config, rec.spec
    conf = svc.engine.config.containers
    restart = cfg.get("restart") or {}
    cgroups = cgroup_inspect_fields(cfg, cfg.get("cgroup_manager") or conf.engine.cgroup_manager)
    for key in ("BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                "BlkioDeviceWriteIOps"):
        cgroups[key] = cgroups[key] or ([] if _blkio_set(cfg) else None)  # Go's nil slices, unless blkio was set
    modes = _namespace_modes(svc, cfg, spec)
    memory = cfg.get("memory") or 0
    cap_add, cap_drop = inspect_cap_changes(bounding, bool(cfg.get("privileged")))
    scratch = bool(cfg.get("read_only") and cfg.get("read_only_tmpfs", True))  # --read-only's tmpfs
    return {
        "Binds": inspect_binds(svc.engine, rec.id, list(cfg.get("mounts", []))),
        "CgroupManager": cgroups["CgroupManager"], "CgroupMode": modes["CgroupMode"],
        "ContainerIDFile": cfg.get("cidfile") or "", "LogConfig": _log_config(cfg, log_path),
        "NetworkMode": network_mode(svc, cfg), "PortBindings": port_bindings(cfg, spec),
        "RestartPolicy": {"Name": restart.get("name", ""),
                          "MaximumRetryCount": restart.get("max_retries", 0)},
        "AutoRemove": bool(cfg.get("remove")), "VolumeDriver": "", "VolumesFrom": list(cfg.get("volumes_from") or [])
        or None, "CapAdd": cap_add, "CapDrop": cap_drop,
        "Dns": [s for s in cfg.get("dns_servers") or () if s != "none"],  # --dns none: Podman shows []
        "DnsOptions": list(cfg.get("dns_options") or []),
        "DnsSearch": list(cfg.get("dns_search") or []), "ExtraHosts": list(cfg.get("add_hosts") or []),
        "GroupAdd": list(cfg.get("group_add") or []), "IpcMode": modes["IpcMode"], "Cgroup": "",
        "Cgroups": cgroups["Cgroups"], "Links": None, "OomScoreAdj": cfg.get("oom_score_adj") or 0,
        "PidMode": modes["PidMode"], "Privileged": bool(cfg.get("privileged")),
        "PublishAllPorts": False,  # Podman 4.3: -P became port mappings at create
        "ReadonlyRootfs": bool(cfg.get("read_only")),
        "SecurityOpt": list(cfg.get("security_opts") or []),
        "Tmpfs": _tmpfs_options(cfg.get("mounts", []), read_only_tmpfs=scratch),
        "UTSMode": modes["UTSMode"], "UsernsMode": modes["UsernsMode"],
        "ShmSize": cfg.get("shm_size") or 65536000, "Runtime": "oci", "ConsoleSize": [0, 0], "Isolation": "",
        "CpuShares": cfg.get("cpu_shares") or 0, "Memory": memory, "NanoCpus": int((cfg.get("cpus") or 0) * 1e9),
        "CgroupParent": cgroups["CgroupParent"], "BlkioWeight": cgroups["BlkioWeight"],
        **{k: cgroups[k] for k in ("BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                                   "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps")},
        **_cpu_fields(cfg),
        "Devices": devices(cfg.get("devices") or ()), "DiskQuota": 0, "KernelMemory": 0,
        "MemoryReservation": cfg.get("memory_reservation") or 0,
        "MemorySwap": max(cfg.get("memory_swap") or (2 * memory if memory else 0), 0),  # -1 (unlimited): 0
        "MemorySwappiness": _swappiness(cfg),
        "OomKillDisable": bool(cfg.get("oom_kill_disable")),
        **({"Init": True} if cfg.get("init") else {}),  # Go's omitempty
        "PidsLimit": max(cfg["pids_limit"], 0) if cfg.get("pids_limit") is not None else (  # -1 shows as 0
            0 if svc.engine.config.rootless or rec.pod_id and rec.id in svc.engine.pods.infra_ids()  # infra: none
            else conf.containers.pids_limit or 0),
        "Ulimits": ulimits(oci, conf.containers.default_ulimits, cfg.get("ulimits") or ()),
        "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "CgroupConf": dict(cfg.get("cgroup_conf") or {}) or None,
    }


def _blkio_set(cfg: dict[str, Any]) -> bool:
    """Whether any --blkio-weight/--device-* flag was given: Podman's device lists are then empty, not nil."""
    return any(cfg.get(k) for k in ("blkio_weight", "blkio_weight_device", "device_read_bps", "device_write_bps",
                                    "device_read_iops", "device_write_iops"))


def _swappiness(cfg: dict[str, Any]) -> int:
    """The value asked for; else -1 (the kernel's) once any memory limit is set, 0 with none, as Podman."""
    if cfg.get("memory_swappiness") is not None:
        return int(cfg["memory_swappiness"])
    limits = ("memory", "memory_reservation", "memory_swap", "oom_kill_disable", "kernel_memory")
    return -1 if any(cfg.get(k) for k in limits) else 0


def _cpu_fields(cfg: dict[str, Any]) -> dict[str, Any]:
    """--cpus is a CFS quota over a period, as Podman shows both."""
    period, quota = cfg.get("cpu_period") or 0, cfg.get("cpu_quota") or 0
    if cfg.get("cpus"):
        period = period or 100000
        quota = quota or int(cfg["cpus"] * period)
    return {"CpuPeriod": period, "CpuQuota": quota, "CpuRealtimePeriod": cfg.get("cpu_rt_period") or 0,
            "CpuRealtimeRuntime": cfg.get("cpu_rt_runtime") or 0, "CpusetCpus": cfg.get("cpuset_cpus") or "",
            "CpusetMems": cfg.get("cpuset_mems") or ""}


def network_mode(svc: ContainerService, cfg: dict[str, Any]) -> str:
    """Podman's words: ``bridge`` for the default and named networks (``slirp4netns`` rootless)."""
    mode = cfg.get("network") or ""
    if cfg.get("networks") or mode in ("", "bridge", "default", "private"):
        if svc.engine.config.rootless and not cfg.get("networks") and mode in ("", "default", "private"):
            return "slirp4netns"
        return "bridge"
    if mode.startswith("slirp4netns:"):
        return "slirp4netns"
    if mode.startswith("container:"):
        try:
            return "container:" + svc.lookup(mode.split(":", 1)[1]).id
        except SealpodError:
            return mode
    return mode if mode in ("none", "host", "slirp4netns", "pasta") or mode.startswith("ns:") else "bridge"


def port_bindings(cfg: dict[str, Any], spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The -p requests, host ports as chosen at create, and exposed ports (null), as Podman 4.3
    shows them; none at all in a mode that publishes nothing (``--network none``/``host``)."""
    from sealpod.engine.port_alloc import port_map

    return port_map(cfg, spec or {})


def devices(specs: Any) -> list[dict[str, str]]:
    """--device HOST[:CONTAINER][:PERMISSIONS] as Docker's DeviceMapping."""
    out = []
    for text in specs:
        parts = str(text).split(":")
        host = parts[0]
        inner = parts[1] if len(parts) > 1 and parts[1].startswith("/") else host
        out.append({"PathOnHost": host, "PathInContainer": inner, "CgroupPermissions": ""})  # Podman 4.3.1's
    return out


def _int64(value: Any) -> Any:
    return -1 if isinstance(value, int) and value >= 2**63 else value


def ulimits(oci: dict[str, Any], configured: Sequence[str], flags: Sequence[str]) -> list[dict[str, Any]]:
    """The rlimits the runtime was given; before the first start, what was asked for (the flags, else
    containers.conf's) and the defaults the start adds."""
    rlimits = (oci.get("process") or {}).get("rlimits")
    if rlimits:  # RLIM_INFINITY (2^64-1 in the spec) is -1 to Podman's int64 fields
        return [{"Name": r.get("type", ""), "Soft": _int64(r.get("soft", 0)), "Hard": _int64(r.get("hard", 0))}
                for r in rlimits]
    from sealpod.engine.container_rlimits import default_rlimits, requested_ulimits

    found: dict[str, dict[str, Any]] = {}
    for text in requested_ulimits(configured, flags):
        name, _, values = str(text).partition("=")
        soft, _, hard = values.partition(":")
        try:
            lo, hi = int(soft), int(hard or soft)
        except ValueError:
            continue
        key = "RLIMIT_" + name.upper().removeprefix("RLIMIT_")
        found[key] = {"Name": key, "Soft": lo, "Hard": hi}
    for rl in default_rlimits(set(found)):  # as the start will give them on this host
        found[rl.type] = {"Name": rl.type, "Soft": rl.soft, "Hard": rl.hard}
    return list(found.values())


def _namespace_modes(svc: ContainerService, cfg: dict[str, Any], spec: dict[str, Any]) -> dict[str, str]:
    """Podman's IpcMode/PidMode/UTSMode/UsernsMode/CgroupMode: a joined container by its full ID."""
    def mode(value: str, default: str) -> str:
        if value.startswith("container:"):
            try:
                return "container:" + svc.lookup(value.split(":", 1)[1]).id
            except SealpodError:
                return value
        return value or default

    userns = (spec.get("userns") or {}).get("mode", "")
    return {"IpcMode": mode(cfg.get("ipc") or "", "shareable"), "PidMode": mode(cfg.get("pid") or "", "private"),
            "UTSMode": mode(cfg.get("uts") or "", "private"),
            "UsernsMode": "private" if userns and userns not in ("host", "") else "",
            "CgroupMode": mode(cfg.get("cgroupns") or "", "host")}


def _log_config(cfg: dict[str, Any], path: str) -> dict[str, Any]:
    """Podman's shape: no path for the "none" driver, and max-size as a human size ("1.234MB")."""
    driver = cfg.get("log_driver") or "k8s-file"
    opts = cfg.get("log_opts") or {}
    out: dict[str, Any] = {"Type": driver, "Config": opts or None,
                           "Path": "" if driver in ("none", "journald", "passthrough") else path,
                           "Tag": opts.get("tag", "")}
    try:
        size = float(_size_bytes(str(opts["max-size"]))) if opts.get("max-size") else 0.0
    except ValueError:
        size = 0.0
    unit = 0
    while size >= 1000 and unit < 5:  # Go's units.HumanSize: 4 significant digits, decimal units
        size, unit = size / 1000, unit + 1
    out["Size"] = f"{size:.4g}{('B', 'kB', 'MB', 'GB', 'TB', 'PB')[unit]}"
    return out


def _size_bytes(text: str) -> int:
    """Podman's units.FromHumanSize: decimal (1000-based) units."""
    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?", text.strip(), re.I)
    if not m:
        raise ValueError(text)
    return int(float(m.group(1)) * 1000 ** " kmgtp".index(m.group(2).lower() or " "))


_TMPFS_DEFAULTS = (("rprivate", ("private", "shared", "slave", "rshared", "rslave")), ("nosuid", ("suid",)),
                   ("nodev", ("dev",)), ("tmpcopyup", ("notmpcopyup",)))


def _tmpfs_options(mounts: list[dict[str, Any]], *, read_only_tmpfs: bool = False) -> dict[str, str]:
    """HostConfig.Tmpfs as Podman 4.3.1 shows it: the user's options, then rw and the defaults
    they did not override (``rw,rprivate,nosuid,nodev,tmpcopyup``); with --read-only (and
    --read-only-tmpfs, the default) the scratch tmpfs on /run, /tmp and /var/tmp too."""
    out: dict[str, str] = {}
    if read_only_tmpfs:
        out.update({d: "rw,rprivate,nosuid,nodev,tmpcopyup" for d in ("/run", "/tmp", "/var/tmp")})
    for m in mounts:
        if m.get("type") != "tmpfs":
            continue
        opts = list(m.get("options") or ())
        if m.get("read_only") and "ro" not in opts:
            opts.insert(0, "ro")
        if "ro" not in opts and "rw" not in opts:
            opts.append("rw")
        opts += [d for d, others in _TMPFS_DEFAULTS if d not in opts and not any(o in opts for o in others)]
        out[str(m.get("destination", ""))] = ",".join(opts)
    return out
