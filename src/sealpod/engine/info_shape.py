"""The shape of ``info``'s document as Podman's ``define.Info`` gives it: which of its objects are Go
structs and their fields' order, which fields are ``omitempty``.  The CLI's JSON and YAML and the
Libpod API's ``/info`` answer all follow it; templates read the same table (cli/info_report.py).
Fields newer Podman releases added (``databaseBackend``, ``pasta``, ...) keep the place those
releases gave them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# Go field order of each struct, by its path in the report ("registries.*": every registry).  A name
# ending in "?" is omitempty: it is left out of JSON when empty, but still printed by a template.
_STRUCTS = {
    "": ("host", "store", "registries", "plugins", "version"),
    "host": ("arch", "buildahVersion", "cgroupManager", "cgroupVersion", "cgroupControllers", "conmon", "cpus",
             "cpuUtilization", "databaseBackend", "distribution", "eventLogger", "hostname", "idMappings",
             "kernel", "logDriver", "memFree", "memTotal", "networkBackend", "networkBackendInfo", "ociRuntime",
             "os", "remoteSocket", "rootlessNetworkCmd", "serviceIsRemote", "security", "slirp4netns", "pasta",
             "swapFree", "swapTotal", "uptime", "linkmode"),
    "host.conmon": ("package", "path", "version"),
    "host.cpuUtilization": ("userPercent", "systemPercent", "idlePercent"),
    "host.distribution": ("distribution", "variant?", "version", "codename?"),
    "host.idMappings": ("gidmap", "uidmap"),
    "host.networkBackendInfo": ("backend", "version", "package", "path", "dns"),
    "host.networkBackendInfo.dns": ("version", "package", "path"),
    "host.ociRuntime": ("name", "package", "path", "version"),
    "host.remoteSocket": ("path?", "exists?"),
    "host.security": ("apparmorEnabled", "capabilities", "rootless", "seccompEnabled", "seccompProfilePath",
                      "selinuxEnabled"),
    "host.slirp4netns": ("executable", "package", "version"),
    "host.pasta": ("executable", "package", "version"),
    "store": ("configFile", "containerStore", "graphDriverName", "graphOptions", "graphRoot", "graphRootAllocated",
              "graphRootUsed", "graphStatus", "imageCopyTmpDir", "imageStore", "runRoot", "volumePath"),
    "store.containerStore": ("number", "paused", "running", "stopped"),
    "store.imageStore": ("number",),
    "plugins": ("volume", "network", "log", "authorization"),
    "version": ("APIVersion", "Version", "GoVersion", "PythonVersion", "GitCommit", "BuiltTime", "Built", "OsArch",
                "Os"),
    "registries.*": ("Prefix", "Location", "Insecure", "PullFromMirror", "Mirrors", "Blocked",
                     "MirrorByDigestOnly"),
}
_EMPTY: tuple[object, ...] = (None, "", False, 0, [], {})


def struct_path(path: str) -> str | None:
    if path in _STRUCTS:
        return path
    if path.startswith("registries.") and path != "registries.search":
        return "registries.*"
    return None


def struct_fields(path: str, value: dict[str, Any]) -> list[tuple[str, bool]]:
    """(key, omitempty) in Go order; keys the table does not know follow, as the engine gave them."""
    order = [(name.rstrip("?"), name.endswith("?")) for name in _STRUCTS[path]]
    known = {name for name, _ in order}
    return order + [(k, False) for k in value if k not in known]


def as_json(value: Any, path: str = "") -> Any:
    """The document as Podman's encoding/json writes it: struct fields in Go order."""
    struct = struct_path(path) if isinstance(value, dict) else None
    if struct is None:
        if isinstance(value, dict):
            return {k: as_json(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        return value
    out = {}
    for key, omitempty in struct_fields(struct, value):
        if key in value and not (omitempty and value[key] in _EMPTY):
            out[key] = as_json(value[key], f"{path}.{key}" if path else key)
    return out
