"""The annotations of a container's runtime spec, as Podman 4.3.1 writes them into config.json.

Podman records some create flags as annotations (``io.podman.annotations.*``, cri-o's TTY and,
for a pod member, its sandbox), and adds at each start when the container was created and its
stop signal as a number.  They are not cosmetic: OCI hooks are chosen by matching annotations
(``when.annotations``), and runtimes and tools read them from the spec.  ``inspect`` shows the
same set, from the same functions.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService

#: What Podman's runtimes and tools recognise a libpod container by.
MANAGER = {"io.container.manager": "libpod"}


def _flag(value: Any) -> str:
    return "TRUE" if value else "FALSE"


def creation_annotations(cfg: Mapping[str, Any], pod_id: str, infra_id: str, ctr_id: str) -> dict[str, str]:
    """Those Podman sets at create from the flags (``cfg``: the stored ContainerConfig).

    A pod member names its pod's infra container as cri-o's sandbox; the infra container itself
    (and a pod without one) names none.
    """
    out = {"io.kubernetes.cri-o.ContainerType": "container",
           "io.kubernetes.cri-o.SandboxID": infra_id} if pod_id and infra_id and infra_id != ctr_id else {}
    out |= {"io.kubernetes.cri-o.TTY": "true" if cfg.get("tty") else "false",
            "io.podman.annotations.autoremove": _flag(cfg.get("remove")),
            "io.podman.annotations.init": _flag(cfg.get("init")),
            "io.podman.annotations.privileged": _flag(cfg.get("privileged")),
            "io.podman.annotations.publish-all": _flag(cfg.get("publish_all"))}
    if "keep-groups" in (cfg.get("group_add") or ()):  # crun keeps the caller's groups; runc ignores it
        out["run.oci.keep_original_groups"] = "1"
    return out


def stop_signal_number(name: str) -> int:
    """Podman writes (and inspects) the stop signal as a number; an unknown name is SIGTERM's."""
    from sealpod.engine.containers import parse_signal
    from sealpod.errors import SealpodError

    try:
        return parse_signal(name)
    except SealpodError:
        return 15


def pod_infra_id(svc: ContainerService, rec: ContainerRecord) -> str:
    """The infra container of the container's pod ("" outside a pod, or when the pod has none)."""
    if not rec.pod_id:
        return ""
    from sealpod.errors import SealpodError

    try:
        return svc.engine.pods.lookup(rec.pod_id).infra_id or ""
    except SealpodError:
        return ""


def spec_annotations(svc: ContainerService, rec: ContainerRecord) -> dict[str, str]:
    """config.json's annotations: Podman's own, then the user's (``--annotation`` wins over them),
    sorted by key as Podman's JSON has them."""
    from sealpod.utils.timefmt import rfc3339

    cfg = rec.config
    out = creation_annotations(cfg, rec.pod_id, pod_infra_id(svc, rec), rec.id)
    out["io.kubernetes.cri-o.Created"] = rfc3339(rec.created)
    out["org.opencontainers.image.stopSignal"] = str(stop_signal_number(rec.spec.get("stop_signal") or "SIGTERM"))
    out.update({str(k): str(v) for k, v in (cfg.get("annotations") or {}).items()})
    out.update(MANAGER)
    return dict(sorted(out.items()))
