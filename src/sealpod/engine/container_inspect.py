"""``container inspect``: Podman 4.3.1's document, key for key and type for type.

Scripts written against Podman index into this document (``--format``, ``jq``), so its key set is
Podman's at every level, keys Podman omits when empty (``omitempty``) are omitted here too, and
Go's nil slices and maps are ``null``.  The Docker and Libpod APIs start from this document.
"""

from __future__ import annotations

import json

from sealpod.engine.container_rootfs import rootfs_of
from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import SealpodError
from sealpod.utils.timefmt import ZERO_TIME, rfc3339

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.containers import ContainerService


def public_state(state: str) -> str:
    """Podman shows a container that never ran as created, one made in the runtime but not
    started (``init``) as initialized, and a stopped one as exited."""
    return {State.STOPPED: "exited", State.CONFIGURED: "created", State.CREATED: "initialized"}.get(State(state), state)


def _oci_config(path: Any) -> dict[str, Any]:
    """The bundle's config.json: what the runtime was really given (absent before the first start)."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def inspect_document(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    from sealpod.engine.container_hostconfig import host_config
    from sealpod.engine.image_volumes import inspect_mounts

    paths = svc.paths(rec.id)
    oci_path = paths.bundle / "config.json"
    oci = _oci_config(oci_path)
    spec = rec.spec
    command = list(spec.get("command") or [])
    if rec.config.get("init"):  # --init: catatonit runs the command, as Podman shows it
        command = ["/run/podman-init", "--", *command]
    mounts = inspect_mounts(svc.engine, rec.id, list(rec.config.get("mounts", [])))
    infra = _infra_id(svc, rec)
    caps = _capabilities(svc, rec, oci)
    doc: dict[str, Any] = {
        "Id": rec.id, "Created": rfc3339(rec.created), "Path": (command or [""])[0],
        "Args": command[1:] if len(command) > 1 else command,  # Podman's: a lone command is also its args
        "State": _state(svc, rec, oci), "Image": rec.image_id or "", "ImageDigest": _image_digest(svc, rec),
        "ImageName": rec.image_name, "Rootfs": rootfs_of(rec), "Pod": rec.pod_id,
        "ResolvConfPath": _existing(paths.userdata / "resolv.conf"),
        "HostnamePath": _existing(paths.userdata / "hostname"), "HostsPath": _existing(paths.userdata / "hosts"),
        "StaticDir": str(paths.userdata),
        **({"OCIConfigPath": str(oci_path)} if oci else {}),
        "OCIRuntime": rec.spec.get("oci_runtime") or svc.engine.system.runtime_path()[0],
        "ConmonPidFile": rec.config.get("conmon_pidfile") or str(paths.conmon_pidfile),
        "PidFile": rec.config.get("pidfile") or str(paths.pidfile), "Name": rec.name, "RestartCount": rec.restart_count,
        "Driver": svc.store.driver_name, "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "",
        **caps, "ExecIDs": _exec_ids(svc, rec), "GraphDriver": _graph_driver(svc, rec),
        "Mounts": mounts,
        "Dependencies": _dependencies(svc, rec, infra),
        "NetworkSettings": podman_network_settings(svc, rec, infra),
        "Namespace": "", "IsInfra": bool(infra) and infra == rec.id, "IsService": _is_service(svc, rec),
        "Config": _config(svc, rec, oci),
        "HostConfig": host_config(svc, rec, log_path=str(paths.log), oci=oci,
                                  bounding=caps["BoundingCaps"] or ()),
    }
    return doc


def _exec_ids(svc: ContainerService, rec: ContainerRecord) -> list[str]:
    """The container's exec sessions still running (a detached ``exec -d`` among them), oldest first."""
    from sealpod.runtime.conmon import read_exit_file

    if rec.state not in (State.RUNNING, State.PAUSED):
        return []
    try:
        entries = list((svc.runtime().persist_dir(rec.id) / "exec").iterdir())
    except OSError:
        return []
    live = [d for d in entries if (d / "exits").is_dir() and read_exit_file(d / "exits" / d.name) is None]
    return [d.name for d in sorted(live, key=lambda d: d.stat().st_mtime)]


def _existing(path: Any) -> str:
    """Podman names these files only once they exist (none before the first start; no resolv.conf
    without a network)."""
    return str(path) if path.exists() else ""


def _state(svc: ContainerService, rec: ContainerRecord, oci: dict[str, Any]) -> dict[str, Any]:
    running = rec.state in (State.RUNNING, State.PAUSED, State.STOPPING)
    health: dict[str, Any] = {"Status": "", "FailingStreak": 0, "Log": None}
    if rec.spec.get("healthcheck"):
        never_ran = {"Status": "starting" if rec.started_at else "", "FailingStreak": 0}  # Podman's "" until a start
        health = dict(svc.engine.health.state(rec.id) or never_ran)
        health["Log"] = health.get("Log") or None  # no result yet: Go's nil slice
    state: dict[str, Any] = {
        "OciVersion": "1.0.2-dev", "Status": public_state(rec.state), "Running": rec.state == State.RUNNING,
        "Paused": rec.state == State.PAUSED, "Restarting": False, "OOMKilled": rec.oom_killed, "Dead": False,
        "Pid": rec.pid if running else 0}
    if running and rec.conmon_pid:
        state["ConmonPid"] = rec.conmon_pid
    state.update({"ExitCode": rec.exit_code or 0, "Error": "", "StartedAt": rfc3339(rec.started_at),
                  "FinishedAt": rfc3339(rec.finished_at), "Health": health})
    cgroup = _cgroup_path(oci) if running else ""
    if cgroup:
        state["CgroupPath"] = cgroup
    state.update({"CheckpointedAt": ZERO_TIME, "RestoredAt": ZERO_TIME})
    return state


def _cgroup_path(oci: dict[str, Any]) -> str:
    """The container's cgroup as a path: systemd's ``slice:prefix:name`` becomes its scope."""
    path = str((oci.get("linux") or {}).get("cgroupsPath") or "")
    if path.count(":") == 2:
        parent, prefix, name = path.split(":")
        return f"/{parent}/{prefix}-{name}.scope"
    return path


def _capabilities(svc: ContainerService, rec: ContainerRecord, oci: dict[str, Any]) -> dict[str, Any]:
    """What the runtime was given; before the first start, what it will be given (a non-root user's
    effective set is only what --cap-add named).  None for an empty set: Go's nil slice."""
    caps = (oci.get("process") or {}).get("capabilities") or {}
    if not caps:
        from sealpod.engine.container_caps import is_root_user, kept_by_user, planned_capabilities
        from sealpod.engine.container_config import ContainerConfig

        try:
            cfg = ContainerConfig.from_json(rec.config)
            wanted = list(planned_capabilities(svc, cfg, rec.spec.get("labels")))
        except (SealpodError, TypeError, ValueError):
            return {"EffectiveCaps": None, "BoundingCaps": None}
        root = is_root_user(str(rec.spec.get("user") or ""))  # --privileged: all bounding, not effective
        caps = {"effective": wanted if root else kept_by_user(wanted, cfg.cap_add), "bounding": wanted}
    return {"EffectiveCaps": sorted(caps.get("effective") or []) or None,
            "BoundingCaps": sorted(caps.get("bounding") or []) or None}


def _graph_driver(svc: ContainerService, rec: ContainerRecord) -> dict[str, Any]:
    upper = svc.store.containers.diff_path(rec.id)
    if svc.store.driver_name != "overlay":
        return {"Name": svc.store.driver_name, "Data": {"UpperDir": str(upper)}}
    data: dict[str, str] = {}
    try:
        layers = svc.store.containers.image_layers(rec.id)
    except SealpodError:
        layers = []
    if layers:
        data["LowerDir"] = ":".join(str(svc.store.layer_diff_path(layer)) for layer in reversed(layers))
    if svc.store.containers.is_mounted(rec.id):
        data["MergedDir"] = str(upper.parent / "merged")
    data.update({"UpperDir": str(upper), "WorkDir": str(upper.parent / "work")})
    return {"Name": svc.store.driver_name, "Data": data}


def _is_service(svc: ContainerService, rec: ContainerRecord) -> bool:
    if rec.pod_id:
        return False
    from sealpod.engine.pod_service import pods_served

    return bool(pods_served(svc.engine, rec.id))


def _infra_id(svc: ContainerService, rec: ContainerRecord) -> str:
    if not rec.pod_id:
        return ""
    try:
        return svc.engine.pods.lookup(rec.pod_id).infra_id
    except SealpodError:
        return ""


def _dependencies(svc: ContainerService, rec: ContainerRecord, infra: str) -> list[str]:
    """Containers that must run first: the pod's infra container and --requires."""
    out = [infra] if infra and infra != rec.id else []
    for name in rec.config.get("requires") or ():
        try:
            dep = svc.lookup(name).id
        except SealpodError:
            continue
        if dep not in out:
            out.append(dep)
    return out


def _image_digest(svc: ContainerService, rec: ContainerRecord) -> str:
    if not rec.image_id:
        return ""
    try:
        return svc.store.get_image(rec.image_id).manifest_digest or ""
    except SealpodError:  # the image was removed (rmi -f): Podman still reports the container
        return ""


def _annotations(rec: ContainerRecord, oci: dict[str, Any], infra: str = "") -> dict[str, str]:
    """The user's annotations and those Podman adds at create (cri-o's sandbox ones name a pod
    member's pod); the runtime's once it ran."""
    from sealpod.engine.spec_annotations import creation_annotations

    cfg = rec.config
    out = creation_annotations(cfg, rec.pod_id, infra, rec.id)  # cri-o's SandboxID: the pod's infra container
    out.update(oci.get("annotations") or {})
    if oci:  # the runtime's spec as Podman writes it at start: when it was created, and its stop signal
        out.setdefault("io.kubernetes.cri-o.Created", rfc3339(rec.created))
        out.setdefault("org.opencontainers.image.stopSignal",
                       str(_signal_number(rec.spec.get("stop_signal") or "SIGTERM")))
    out.update(cfg.get("annotations") or {})
    return dict(sorted(out.items()))


def _signal_number(name: str) -> int:
    """Podman's inspect (and the libpod API's Go struct) carry the stop signal as a number."""
    from sealpod.engine.containers import parse_signal

    try:
        return parse_signal(name)
    except SealpodError:
        return 15


def _config(svc: ContainerService, rec: ContainerRecord, oci: dict[str, Any]) -> dict[str, Any]:
    from sealpod.engine.health import config_report

    cfg, spec = rec.config, rec.spec
    hc = config_report(spec.get("healthcheck"))
    env = (oci.get("process") or {}).get("env")
    out: dict[str, Any] = {
        "Hostname": cfg.get("hostname") or rec.id[:12], "Domainname": "", "User": spec.get("user", ""),
        "AttachStdin": False, "AttachStdout": False, "AttachStderr": False, "Tty": bool(cfg.get("tty")),
        "OpenStdin": bool(cfg.get("interactive")), "StdinOnce": False,
        "Env": list(env) if env else list(spec.get("env", [])), "Cmd": spec.get("cmd") or None,
        "Image": rec.image_name, "Volumes": None, "WorkingDir": spec.get("workdir", "/"),
        "Entrypoint": " ".join(spec.get("entrypoint") or []), "OnBuild": None,
        "Labels": spec.get("labels") or None, "Annotations": _annotations(rec, oci, _infra_id(svc, rec)),
        "StopSignal": _signal_number(spec.get("stop_signal") or "SIGTERM"),
        **({"Healthcheck": hc} if hc is not None else {}),
        "HealthcheckOnFailureAction": cfg.get("health_on_failure") or "none",
        "CreateCommand": list(cfg.get("create_command") or ()) or None,
        **({"Timezone": cfg["timezone"]} if cfg.get("timezone") else {}),
        **({"ChrootDirs": list(cfg["chroot_dirs"])} if cfg.get("chroot_dirs") else {}),
        "Umask": (cfg.get("umask") or "0022").zfill(4), "Timeout": cfg.get("timeout") or 0,
        "StopTimeout": cfg.get("stop_timeout") if cfg.get("stop_timeout") is not None else
        svc.engine.config.containers.engine.stop_timeout,
        "Passwd": True,
        **({"SystemdMode": True} if spec.get("systemd") else {}),
        "sdNotifyMode": cfg.get("sdnotify") or "container",  # Podman's spelling and default
        **({"sdNotifySocket": spec["sdnotify_socket"]} if spec.get("sdnotify_socket") else {}),
        **({"Secrets": [{k: u[k] for k in ("Name", "ID", "UID", "GID", "Mode")} for u in spec["secrets"]]}
           if spec.get("secrets") else {}),
    }
    return out


def podman_network_settings(svc: ContainerService, rec: ContainerRecord, infra: str = "") -> dict[str, Any]:
    """Podman's NetworkSettings (the Docker API keeps its own, :func:`network_settings`): ports as
    requested (no host IP: ""), a pod member's ports are its pod's, no Networks without one."""
    from sealpod.engine.container_report import network_settings

    source = rec
    mode = rec.config.get("network") or ""
    owner = mode.removeprefix("container:") if mode.startswith("container:") else infra
    if owner and owner != rec.id:
        try:
            source = svc.lookup(owner)
        except SealpodError:
            pass
    # in another's network namespace (a pod's infra, --network container:X) it shows that one's
    # networks, aliases included, as Podman
    shared = source is not rec and mode.startswith("container:") and \
        rec.state in ("running", "paused") and source.state in ("running", "paused")
    # stopped: the networks it will share, without addresses, as Podman shows them
    base = network_settings(svc, source, live=shared) if source is not rec and mode.startswith("container:") \
        else network_settings(svc, rec)
    status = svc.engine.networks.status_of(source) if source.state in ("running", "paused") and \
        rec.state in ("running", "paused") else None
    from sealpod.engine.port_alloc import port_map

    # not running: the ports it asks for (host ports chosen at create) and exposed ones, as Podman shows them
    ports = port_map(source.config, source.spec)
    if status is not None:
        ports = {k: v for k, v in ports.items() if v is None}  # exposed: listed without a binding
        for p in status.ports:
            for i in range(p.range):
                key = f"{p.container_port + i}/{p.protocol}"
                ports[key] = [*(ports.get(key) or ()), {"HostIp": p.host_ip, "HostPort": str(p.host_port + i)}]
        ports = dict(sorted(ports.items()))
    ports = {k: v and [{**b, "HostIp": "" if b["HostIp"] == "0.0.0.0" else b["HostIp"]} for b in v]
             for k, v in ports.items()}  # 0.0.0.0 is every address: Podman's ""
    out: dict[str, Any] = {k: base.get(k, "") for k in ("EndpointID", "Gateway", "IPAddress")}
    out.update({"IPPrefixLen": base.get("IPPrefixLen", 0), "IPv6Gateway": base.get("IPv6Gateway", ""),
                "GlobalIPv6Address": base.get("GlobalIPv6Address", ""),
                "GlobalIPv6PrefixLen": base.get("GlobalIPv6PrefixLen", 0), "MacAddress": base.get("MacAddress", ""),
                "Bridge": "",
                "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
                "Ports": ports, "SandboxKey": base.get("SandboxKey", "")})
    networks = {name: _endpoint(doc) for name, doc in (base.get("Networks") or {}).items()}
    if networks:
        out["Networks"] = networks
    return out


def _endpoint(doc: dict[str, Any]) -> dict[str, Any]:
    keys = ("EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway", "GlobalIPv6Address",
            "GlobalIPv6PrefixLen", "MacAddress", "NetworkID")
    extra = {k: doc[k] for k in ("SecondaryIPAddresses", "SecondaryIPv6Addresses") if doc.get(k)}
    return {**{k: doc.get(k) for k in keys}, **extra, "DriverOpts": None, "IPAMConfig": doc.get("IPAMConfig"),
            "Links": doc.get("Links"), "Aliases": doc.get("Aliases")}
