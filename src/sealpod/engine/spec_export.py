"""``generate spec``: a container or pod described as the Libpod API's create body (Podman's
"specgen" JSON), so that it can be posted to ``/libpod/containers/create`` or
``/libpod/pods/create`` to make a copy.

Only what was set appears (Podman's ``omitempty``), under the specgen key names; the copy is named
``NAME-clone`` unless the caller keeps the name.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.pods import PodRecord

CPU_PERIOD = 100000  # microseconds: the period --cpus is expressed in
_IDMAPPINGS = {"HostUIDMapping": True, "HostGIDMapping": True, "UIDMap": None, "GIDMap": None, "AutoUserNs": False,
               "AutoUserNsOpts": {"Size": 0, "InitialSize": 0, "PasswdFile": "", "GroupFile": "",
                                  "AdditionalUIDMappings": None, "AdditionalGIDMappings": None}}


def generate_spec(engine: Engine, name_or_id: str, *, rename: bool = True) -> dict[str, Any]:
    """The specgen of the container, else of the pod, ``name_or_id`` names."""
    from sealpod.errors import NoSuchContainer, NoSuchPod, NotFound

    try:
        return container_spec(engine.containers.lookup(name_or_id), rename=rename)
    except NoSuchContainer:
        pass
    try:
        return pod_spec(engine.pods.lookup(name_or_id), rename=rename)
    except NoSuchPod:
        raise NotFound(f"could not find a pod or container with the id {name_or_id}") from None


def _ns(mode: str, default: str = "default") -> dict[str, str]:
    """specgen's namespace shape: ``{"nsmode": "host"}`` or ``{"nsmode": "path", "value": ...}``."""
    if not mode:
        return {"nsmode": default}
    kind, sep, value = mode.partition(":")
    if kind == "ns":
        return {"nsmode": "path", "value": value}
    if sep and kind == "container":
        return {"nsmode": "container", "value": value}
    return {"nsmode": kind}


def _limits(cfg: dict[str, Any]) -> dict[str, Any]:
    """``resource_limits`` of the OCI runtime spec, from the container's resource flags."""
    limits: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}]}
    cpu: dict[str, Any] = {}
    if cfg.get("cpus"):
        cpu = {"quota": int(float(cfg["cpus"]) * CPU_PERIOD), "period": CPU_PERIOD}
    for key in ("cpu_quota", "cpu_period"):
        if cfg.get(key):
            cpu[key.removeprefix("cpu_")] = cfg[key]
    if cfg.get("cpu_shares"):
        cpu["shares"] = cfg["cpu_shares"]
    if cfg.get("cpuset_cpus"):
        cpu["cpus"] = cfg["cpuset_cpus"]
    if cpu:
        limits["cpu"] = cpu
    memory = {k: cfg[f] for k, f in (("limit", "memory"), ("swap", "memory_swap"),
                                     ("reservation", "memory_reservation"), ("swappiness", "memory_swappiness"))
              if cfg.get(f) is not None}
    if memory:
        limits["memory"] = memory
    limits["pids"] = {"limit": cfg.get("pids_limit") or 2048}
    return limits


def _env(items: list[str]) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in items)


def container_spec(rec: ContainerRecord, *, rename: bool = True) -> dict[str, Any]:
    cfg, spec = rec.config, rec.spec
    out: dict[str, Any] = {"name": f"{rec.name}-clone" if rename else rec.name}
    if spec.get("entrypoint"):
        out["entrypoint"] = list(spec["entrypoint"])
    if spec.get("cmd"):
        out["command"] = list(spec["cmd"])
    out["env"] = _env(list(spec.get("env") or cfg.get("env") or ()))
    for key, value in (("labels", cfg.get("labels")), ("annotations", cfg.get("annotations")),
                       ("hostname", cfg.get("hostname")), ("user", cfg.get("user")),
                       ("work_dir", cfg.get("workdir"))):
        if value:
            out[key] = value
    out["sdnotifyMode"] = cfg.get("sdnotify") or "container"
    out["pidns"] = _ns(cfg.get("pid") or "")
    out["utsns"] = _ns(cfg.get("uts") or "", "private")
    if cfg.get("create_command"):
        out["containerCreateCommand"] = list(cfg["create_command"])
    if rec.pod_id:
        out["pod"] = rec.pod_id
    out.update({"init_container_type": cfg.get("init_ctr") or "", "image": rec.image_id or cfg.get("image", ""),
                "ipcns": _ns(cfg.get("ipc") or ""), "shm_size": cfg.get("shm_size") or 65536000})
    if cfg.get("privileged"):
        out["privileged"] = True
    if cfg.get("cap_add"):
        out["cap_add"] = list(cfg["cap_add"])
    if cfg.get("cap_drop"):
        out["cap_drop"] = list(cfg["cap_drop"])
    out["userns"] = _ns(cfg.get("userns") or "")
    out["idmappings"] = _IDMAPPINGS
    out["umask"] = cfg.get("umask") or "0022"
    out["cgroupns"] = _ns(cfg.get("cgroupns") or "")
    out["netns"] = _ns(cfg.get("network") or "", "bridge")
    if cfg.get("ports"):
        out["portmappings"] = list(cfg["ports"])
    out["use_image_hosts"] = bool(cfg.get("no_hosts"))
    out["resource_limits"] = _limits(cfg)
    return out


def pod_spec(pod: PodRecord, *, rename: bool = True) -> dict[str, Any]:
    spec = pod.spec
    infra = spec.get("infra_config") or {}
    out: dict[str, Any] = {"name": f"{pod.name}-clone" if rename else pod.name}
    if pod.labels:
        out["labels"] = dict(pod.labels)
    if spec.get("infra_image"):
        out["infra_image"] = spec["infra_image"]
    out.update({"pidns": _ns(str(infra.get("pid") or "")), "userns": _ns(str(spec.get("userns") or "")),
                "utsns": _ns(str(infra.get("uts") or ""), "private"),
                "netns": _ns(str(spec.get("network") or ""), "bridge"),
                "shared_namespaces": list(pod.share)})
    out["resource_limits"] = _limits(infra)
    out["shm_size"] = spec.get("shm_size") or 65536000
    out["idmappings"] = _IDMAPPINGS
    return out
