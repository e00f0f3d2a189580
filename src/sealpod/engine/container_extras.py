"""Parts of a container's runtime spec that come from the rarer flags and settings: memory and
CPU limits beyond the common ones, the execution domain, /etc/passwd entries and OCI hooks.
Kept apart from container_start so that the common path stays short to read."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService
    from sealpod.runtime.etcfiles import ExecUser
    from sealpod.runtime.spec import Mount


def extra_resources(cfg: ContainerConfig) -> dict[str, Any]:
    """The runtime's Resources fields of --memory-reservation, --memory-swappiness, --oom-kill-disable,
    --cpuset-mems, --cpu-rt-* and --cgroup-conf."""
    return {"memory_reservation": cfg.memory_reservation, "memory_swappiness": cfg.memory_swappiness,
            "disable_oom_killer": cfg.oom_kill_disable, "cpuset_mems": cfg.cpuset_mems,
            "cpu_rt_period": cfg.cpu_rt_period, "cpu_rt_runtime": cfg.cpu_rt_runtime, "unified": dict(cfg.cgroup_conf)}


def extra_params(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig, rootfs: Path, user: ExecUser,
                 mounts: list[Mount], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """``resources`` (Resources keywords), ``mounts`` to add, and SpecParams keywords; hooks are matched
    against ``annotations``, the spec's (Podman's own among them), as Podman matches them."""
    from sealpod.engine.container_passwd import passwd_mounts
    from sealpod.engine.oci_hooks import hooks_for

    static = rec.spec
    keep_id_uid = None
    if (static.get("userns") or {}).get("mode") == "keep-id":
        from sealpod.config.paths import rootless_uid

        keep_id_uid = rootless_uid(svc.engine.env)
    added = passwd_mounts(cfg, rootfs, svc.paths(rec.id).userdata, static.get("user", ""), user,
                          static.get("workdir") or "/", keep_id_uid)
    dirs = svc.engine.config.containers.engine.hooks_dir
    hooks = hooks_for(dirs, tuple(static["command"]), cfg.annotations if annotations is None else annotations,
                      any(m.type == "bind" for m in cfg.mounts)) if dirs else {}
    out: dict[str, Any] = {"resources": extra_resources(cfg), "mounts": added, "env": [], "devices": [],
                           "personality": cfg.personality, "hooks": hooks}
    named = [d for d in cfg.devices if is_cdi_device(d)]
    if named:  # CDI devices: their spec's edits join the container's
        from sealpod.engine.cdi import resolve

        edits = resolve(named)
        out.update(env=edits.env, devices=edits.devices, mounts=[*added, *edits.mounts])
        for stage, entries in edits.hooks.items():
            hooks[stage] = (*hooks.get(stage, ()), *entries)
    return out


def is_cdi_device(flag: str) -> bool:
    from sealpod.engine.cdi import is_cdi_device as check

    return check(flag)
