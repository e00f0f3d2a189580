"""``info`` and ``version``: what a user or a bug report needs to know about this host."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealpod import __version__
from sealpod.errors import CommandFailed
from sealpod.utils.proc import run

if TYPE_CHECKING:
    from sealpod.engine import Engine

API_VERSION = "4.3.1"  # the Libpod API level we answer to
DOCKER_API_VERSION = "1.44"


def _tool_version(path: str | None, *args: str) -> dict[str, str]:
    if not path:
        return {"path": "", "version": ""}
    try:
        out = run([path, *args], timeout=10).stdout.decode(errors="replace").strip()
    except CommandFailed:
        out = ""
    return {"path": path, "version": out}


def _cgroup_version() -> str:
    return "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"


def _distribution() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip('"')
    except OSError:
        pass
    return {"distribution": fields.get("ID", ""), "version": fields.get("VERSION_ID", ""),
            "codename": fields.get("VERSION_CODENAME", "")}


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return values


class SystemService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def runtime_path(self) -> tuple[str, str | None]:
        """The OCI runtime in force: name and path (crun is refused on hybrid cgroup v1 hosts)."""
        conf = self.engine.config.containers.engine
        wanted = conf.runtime or ("crun" if _cgroup_version() == "v2" and shutil.which("crun") else "runc")
        if "/" in wanted:
            return os.path.basename(wanted), wanted
        for candidate in (conf.runtimes.get(wanted) or ()):
            if os.access(candidate, os.X_OK):
                return wanted, candidate
        return wanted, shutil.which(wanted)

    def version(self) -> dict[str, Any]:
        return self.static_version()

    @staticmethod
    def static_version() -> dict[str, Any]:
        """Needs no storage or configuration: ``version`` must work on a broken setup too."""
        return {
            "APIVersion": API_VERSION, "Version": __version__, "GoVersion": "",
            "PythonVersion": sys.version.split()[0], "GitCommit": "", "BuiltTime": "", "Built": 0,
            "OsArch": f"linux/{_arch()}", "Os": "linux",
        }

    def info(self) -> dict[str, Any]:
        cfg = self.engine.config
        store = self.engine.store
        images = store.list_images()
        name, path = self.runtime_path()
        conmon = next((p for p in cfg.containers.engine.conmon_path if os.access(p, os.X_OK)),
                      shutil.which("conmon"))
        mem = _meminfo()
        try:
            usage = shutil.disk_usage(store.graph_root)
            allocated, used = usage.total, usage.used
        except OSError:
            allocated = used = 0
        host = {
            "arch": _arch(), "cgroupManager": cfg.containers.engine.cgroup_manager,
            "cgroupVersion": _cgroup_version(), "conmon": _tool_version(conmon, "--version"),
            "cpus": os.cpu_count() or 0, "distribution": _distribution(),
            "eventLogger": cfg.containers.engine.events_logger, "hostname": socket.gethostname(),
            "kernel": os.uname().release, "logDriver": cfg.containers.containers.log_driver,
            "memFree": mem.get("MemAvailable", 0), "memTotal": mem.get("MemTotal", 0),
            "networkBackend": cfg.containers.network.network_backend or "netavark",
            "ociRuntime": {"name": name, **_tool_version(path, "--version")}, "os": "linux",
            "security": {"rootless": cfg.rootless,
                         "capabilities": ",".join(cfg.containers.containers.default_capabilities)},
            "swapFree": mem.get("SwapFree", 0), "swapTotal": mem.get("SwapTotal", 0),
        }
        registries_conf = self.engine.registries
        return {
            "host": host,
            "registries": {"search": list(registries_conf.unqualified_search_registries)} if
            registries_conf.unqualified_search_registries else {},
            "store": {
                "configFile": str(cfg.storage.files[0]) if cfg.storage.files else "",
                "containerStore": {"number": 0, "paused": 0, "running": 0, "stopped": 0},
                "graphDriverName": store.driver_name, "graphOptions": {},
                "graphRoot": str(store.graph_root), "graphRootAllocated": allocated,
                "graphRootUsed": used, "graphStatus": dict(store.driver.status()),
                "imageCopyTmpDir": str(store.graph_root / "tmp"), "imageStore": {"number": len(images)},
                "runRoot": str(store.run_root), "volumePath": str(cfg.volume_path),
            },
            "version": self.version(),
        }


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
