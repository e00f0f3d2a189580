"""What ``info`` says about the host's helper programs and plugins, as Podman reports them.

Podman names the distribution package of each helper (``conmon_2.1.6+ds1-1_amd64``) so that a bug
report says exactly what is installed; it asks the package manager, which is slow enough that one
``info`` asks it once for all paths.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import CommandFailed, SealpodError
from sealpod.utils.proc import run

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.config.containers_conf import ContainersConf
    from sealpod.config.registries_conf import RegistriesConf

BUILDAH_VERSION = "1.28.2"  # the build engine level Podman 4.3.1 reports; `build` follows it


@functools.lru_cache(maxsize=8)
def packages_of(paths: tuple[str, ...]) -> dict[str, str]:
    """``path -> package_version_arch`` for the paths dpkg (or rpm) knows; one lookup per process."""
    if not paths:
        return {}
    if shutil.which("dpkg"):
        return _dpkg_packages(paths)
    if shutil.which("rpm"):
        return _rpm_packages(paths)
    return {}


def _dpkg_packages(paths: tuple[str, ...]) -> dict[str, str]:
    try:
        out = run(["dpkg", "-S", *paths], check=False, timeout=10).stdout.decode(errors="replace")
    except CommandFailed:
        return {}
    owner: dict[str, str] = {}
    for line in out.splitlines():
        pkg, sep, path = line.partition(": ")
        if sep and path.strip() in paths:
            owner[path.strip()] = pkg.split(",")[0].strip()
    if not owner:
        return {}
    names = sorted(set(owner.values()))
    try:
        res = run(["dpkg-query", "-W", "-f", "${Package}:${Architecture}\t${Package}_${Version}_${Architecture}\n",
                   *names], check=False, timeout=10)
    except CommandFailed:
        return {}
    full: dict[str, str] = {}
    for line in res.stdout.decode(errors="replace").splitlines():
        key, _, nvr = line.partition("\t")
        full[key] = nvr
        full[key.split(":")[0]] = nvr
    return {path: full.get(pkg, pkg) for path, pkg in owner.items()}


def _rpm_packages(paths: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        try:
            res = run(["rpm", "-qf", path], check=False, timeout=10)
        except CommandFailed:
            continue
        if res.returncode == 0:
            found[path] = res.stdout.decode(errors="replace").strip()
    return found


def tool_version(path: str | None, *args: str, one_line: bool = False) -> str:
    """The helper's own ``--version`` text; conmon's two lines read as one in Podman's report."""
    if not path:
        return ""
    try:
        out = run([path, *args], check=False, timeout=10).stdout.decode(errors="replace").strip()
    except CommandFailed:
        return ""
    return ", ".join(line.strip() for line in out.splitlines() if line.strip()) if one_line else out


def _helper(name: str, dirs: Sequence[str]) -> str:
    from sealpod.network.netavark import find_helper

    try:
        return find_helper(name, dirs)
    except SealpodError:
        return ""


def helpers(conf: ContainersConf) -> dict[str, str]:
    """Where the network helpers are: netavark and aardvark-dns among Podman's helper binaries."""
    dirs = tuple(conf.engine.helper_binaries_dir or ())
    return {"netavark": _helper("netavark", dirs), "aardvark-dns": _helper("aardvark-dns", dirs),
            "slirp4netns": conf.engine.network_cmd_path or shutil.which("slirp4netns") or "",
            "pasta": shutil.which("pasta") or ""}


def network_backend_info(backend: str, paths: dict[str, str], packages: dict[str, str]) -> dict[str, Any]:
    """Podman's ``host.networkBackendInfo``: the backend program and its DNS server."""
    binary = paths.get(backend, "")
    dns = paths.get("aardvark-dns", "")
    return {
        "backend": backend, "path": binary, "package": packages.get(binary, ""),
        "version": tool_version(binary, "--version"),
        "dns": {"path": dns, "package": packages.get(dns, ""), "version": tool_version(dns, "--version")},
    }


def plugins(conf: ContainersConf) -> dict[str, Any]:
    """Podman's ``plugins``: volume drivers (local plus containers.conf's), network drivers, log drivers."""
    return {"volume": ["local", *sorted(conf.engine.volume_plugins)], "network": ["bridge", "macvlan"],
            "log": ["k8s-file", "none", "passthrough", "journald"], "authorization": None}


def registries(conf: RegistriesConf) -> dict[str, Any]:
    """Podman's ``registries``: each ``[[registry]]`` by prefix, with the fields of containers/image's
    Registry (its endpoint's flattened in), then ``search``; sorted as Podman's YAML sorts them."""
    out: dict[str, Any] = {}
    for entry in sorted(conf.registries, key=lambda e: e.prefix):
        mirrors = [{"Location": m.location, "Insecure": m.insecure,
                    "PullFromMirror": "" if m.pull_from_mirror == "all" else m.pull_from_mirror}
                   for m in entry.mirrors]
        out[entry.prefix] = {"Blocked": entry.blocked, "Insecure": entry.insecure, "Location": entry.location,
                             "MirrorByDigestOnly": entry.mirror_by_digest_only, "Mirrors": mirrors or None,
                             "Prefix": entry.prefix, "PullFromMirror": ""}
    if conf.unqualified_search_registries:
        out["search"] = list(conf.unqualified_search_registries)
    return out


def cgroup_controllers(version: str) -> list[str]:
    """The controllers this process may use: v2 lists them in one file, v1 mounts one hierarchy each."""
    if version == "v2":
        try:
            return Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
        except OSError:
            return []
    found: list[str] = []
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            for name in line.split(":")[1].split(","):
                if name and not name.startswith("name=") and name not in found:
                    found.append(name)
    except (OSError, IndexError):
        pass
    order = ["cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event",
             "net_prio", "hugetlb", "pids", "rdma", "misc"]
    return sorted(found, key=lambda n: order.index(n) if n in order else len(order))


def uptime() -> str:
    """The host's uptime worded as Podman words it."""
    try:
        seconds = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return ""
    whole = int(seconds)  # Podman truncates to whole seconds and hours, and rounds the minutes
    hours = whole // 3600
    text = f"{hours}h {round((whole % 3600) / 60)}m {whole % 60:.2f}s"
    return text + f" (Approximately {hours / 24:.2f} days)" if hours > 0 else text


def cpu_utilization() -> dict[str, float]:
    """Podman's ``host.cpuUtilization``: shares of user, system and idle time since boot, out of their
    sum (/proc/stat's first line), in percent with two decimals."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        user, system, idle = float(fields[1]), float(fields[3]), float(fields[4])
    except (OSError, ValueError, IndexError):
        return {"userPercent": 0.0, "systemPercent": 0.0, "idlePercent": 0.0}
    total = (user + system + idle) or 1.0
    return {"userPercent": round(user * 100 / total, 2), "systemPercent": round(system * 100 / total, 2),
            "idlePercent": round(idle * 100 / total, 2)}


def extend_host(host: dict[str, Any], conf: ContainersConf, conmon: str, runtime: str) -> dict[str, Any]:
    """``host`` with what Podman adds to it: packages, network helpers, controllers, uptime; keys
    sorted as Podman's report sorts them."""
    found = helpers(conf)
    paths = tuple(sorted({p for p in (conmon, runtime, *found.values()) if p}))
    packages = packages_of(paths)
    backend = conf.network.network_backend or "netavark"
    host["buildahVersion"] = BUILDAH_VERSION
    host["cgroupControllers"] = cgroup_controllers(host.get("cgroupVersion", ""))
    host["conmon"] = {"package": packages.get(conmon, ""), "path": conmon,
                      "version": tool_version(conmon, "--version", one_line=True)}
    oci = dict(host.get("ociRuntime", {}))
    host["ociRuntime"] = {"name": oci.pop("name", ""), "package": packages.get(runtime, ""), **oci}
    host["databaseBackend"] = "sqlite"
    host["linkmode"] = "dynamic"
    host["networkBackendInfo"] = network_backend_info(backend, found, packages)
    host["rootlessNetworkCmd"] = conf.network.default_rootless_network_cmd or "slirp4netns"
    for tool in ("slirp4netns", "pasta"):
        path = found[tool]
        host[tool] = {"executable": path, "package": packages.get(path, ""),
                      "version": tool_version(path, "--version")}
    host["uptime"] = uptime()
    host["cpuUtilization"] = cpu_utilization()
    host.setdefault("idMappings", {"gidmap": None, "uidmap": None})
    return dict(sorted(host.items()))
