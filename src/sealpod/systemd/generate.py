"""``generate systemd``: the views of :mod:`sealpod.systemd.units`, gathered from inspect reports.

Units call sealpod back by the path of the launcher that is running now (as Podman writes its
own binary's path), so they keep working from any working directory and PATH.
"""

from __future__ import annotations

import os
import sys
import time

from sealpod.errors import NotFound, SystemdError
from sealpod.systemd.units import (
    ContainerView,
    Invocation,
    PodView,
    Unit,
    UnitOptions,
    check_options,
    container_unit,
    pod_units,
)

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine


def executable(argv0: str | None = None) -> str:
    """The absolute path of the running sealpod command.

    The sh launcher runs ``python -c`` (argv[0] is then "-c"): its path is the ``sealpod`` next to
    the interpreter, else the one on PATH.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    if argv0 and os.path.isfile(argv0) and not argv0.endswith(".py"):
        return os.path.realpath(argv0)
    beside = os.path.join(os.path.dirname(sys.executable), "sealpod")
    if os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    import shutil

    return shutil.which("sealpod") or "/usr/bin/sealpod"


def timestamp(now: float | None = None) -> str:
    """Go's UnixDate layout, as Podman's header shows it: ``Sat Nov 28 17:25:39 UTC 2026``."""
    t = time.localtime(now)
    return time.strftime("%a %b ", t) + f"{t.tm_mday:>2}" + time.strftime(" %H:%M:%S %Z %Y", t)


def _container_view(doc: dict[str, Any], run_root: str) -> ContainerView:
    cfg = doc.get("Config") or {}
    stop = cfg.get("StopTimeout")
    return ContainerView(id=doc["Id"], name=doc["Name"], create_command=tuple(cfg.get("CreateCommand") or ()),
                         conmon_pidfile=doc.get("ConmonPidFile") or "", run_root=run_root,
                         stop_timeout=10 if stop is None else int(stop), env=tuple(cfg.get("Env") or ()))


def _pod_view(engine: Engine, doc: dict[str, Any], run_root: str) -> PodView:
    infra_id = doc.get("InfraContainerID") or ""
    infra = engine.containers.inspect(infra_id) if infra_id else {}
    members = [engine.containers.inspect(c["Id"]) for c in doc.get("Containers") or () if c["Id"] != infra_id]
    stop = (infra.get("Config") or {}).get("StopTimeout")
    return PodView(id=doc["Id"], name=doc["Name"], infra_id=infra_id, infra_name=infra.get("Name", ""),
                   create_command=tuple(doc.get("CreateCommand") or ()),
                   infra_conmon_pidfile=infra.get("ConmonPidFile") or "", run_root=run_root,
                   stop_timeout=10 if stop is None else int(stop),
                   members=tuple(_container_view(m, run_root) for m in members))


def generate(engine: Engine, name: str, opts: UnitOptions, inv: Invocation) -> list[Unit]:
    """The units of one container, or of one pod and its members (the pod's first)."""
    check_options(opts)
    run_root = os.fspath(engine.config.storage.run_root)
    try:
        doc = engine.containers.inspect(name)
    except NotFound:
        doc = {}
    if doc:
        if opts.new and doc.get("Pod") and _is_infra(engine, doc):
            raise SystemdError(f"{doc['Id']} is an infra container: generate units for its pod instead")
        if not opts.new:
            _warn_restart_policy(doc)
        return [container_unit(_container_view(doc, run_root), opts, inv)]
    try:
        pod = engine.pods.inspect(name)
    except NotFound:
        raise SystemdError(f"{name} does not refer to a container or pod: no pod with name or ID {name} found: "
                           f'no such pod: no container with name or ID "{name}" found: no such container') from None
    return pod_units(_pod_view(engine, pod, run_root), opts, inv)


def _is_infra(engine: Engine, doc: dict[str, Any]) -> bool:
    try:
        return bool(engine.pods.inspect(doc["Pod"]).get("InfraContainerID") == doc["Id"])
    except NotFound:
        return False


def _warn_restart_policy(doc: dict[str, Any]) -> None:
    """A unit that starts an existing container and a restart policy of its own fight at shutdown
    (conmon restarts what systemd stops): Podman warns, and so do we."""
    policy = ((doc.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name") or ""
    if policy and policy != "no":
        from sealpod.utils.logrus import warning

        warning(
            f'Container {doc["Id"]} has restart policy "{policy}" which can lead to issues on shutdown: consider '
            "recreating the container without a restart policy and use systemd's restart mechanism instead")
