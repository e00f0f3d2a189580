"""System routes: _ping, version, info, system/df, events."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator

from sealpod import __version__
from sealpod.api.http import (
    API_VERSION,
    LIBPOD_API_VERSION,
    MIN_API_VERSION,
    Request,
    Response,
    Router,
    json_response,
)

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def ping(req: Request) -> Response:
    headers = {"Builder-Version": "", "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}
    return Response(200, b"OK", content_type="text/plain; charset=utf-8", headers=headers)


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def version(req: Request) -> Response:
    from sealpod.engine.system import SystemService

    # RFC 3339 in UTC, as Podman answers: podman-remote parses it (anything else reads as year 1)
    built = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(SystemService.static_version()["Built"]))
    details = {"APIVersion": LIBPOD_API_VERSION, "Arch": _arch(), "BuildTime": built, "Experimental": "false",
               "GitCommit": "", "GoVersion": f"python{platform.python_version()}", "KernelVersion": os.uname().release,
               "MinAPIVersion": MIN_API_VERSION, "Os": "linux"}
    doc: dict[str, Any] = {
        "Platform": {"Name": "linux/" + _arch() + "/sealpod"},
        # the server's own version, as the local `version` shows it (the infra image is named after it)
        "Components": [{"Name": "Podman Engine", "Version": __version__, "Details": details},
                       *req.engine.system.components()],
        "Version": __version__, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "", "GoVersion": details["GoVersion"], "Os": "linux", "Arch": _arch(),
        "KernelVersion": os.uname().release, "BuildTime": built, "SealpodVersion": __version__,
    }
    return json_response(doc)


def _counts(req: Request) -> dict[str, int]:
    states = [s.state for s in req.engine.containers.summaries(all_containers=True)]
    return {"Containers": len(states), "ContainersRunning": states.count("running"),
            "ContainersPaused": states.count("paused"),
            "ContainersStopped": len(states) - states.count("running") - states.count("paused")}


def info(req: Request) -> Response:
    engine = req.engine
    if req.libpod:
        from sealpod.engine.info_shape import as_json

        return json_response(as_json(engine.system.info()))  # Podman's struct order, as its API answers
    podman = engine.system.info()
    host, store = podman["host"], podman["store"]
    doc = {
        "ID": "", **_counts(req), "Images": store["imageStore"]["number"], "Driver": store["graphDriverName"],
        "DriverStatus": [[k, v] for k, v in store["graphStatus"].items()], "DockerRootDir": store["graphRoot"],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "macvlan"], "Log": ["k8s-file", "none"]},
        "MemoryLimit": True, "SwapLimit": True, "CpuCfsPeriod": True, "CpuCfsQuota": True, "CPUShares": True,
        "CPUSet": True, "PidsLimit": True, "IPv4Forwarding": True, "Debug": False, "NFd": 0,
        "OomKillDisable": False, "NGoroutines": 0, "SystemTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "LoggingDriver": host["logDriver"], "CgroupDriver": host["cgroupManager"],
        "CgroupVersion": host["cgroupVersion"].removeprefix("v"), "KernelVersion": host["kernel"],
        "OperatingSystem": host["distribution"].get("distribution", "linux"), "OSVersion":
        host["distribution"].get("version", ""), "OSType": "linux", "Architecture": os.uname().machine,
        "NCPU": host["cpus"], "MemTotal": host["memTotal"], "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": [], "Mirrors": []},
        "Name": host["hostname"], "Labels": [], "ExperimentalBuild": False, "ServerVersion": LIBPOD_API_VERSION,
        "Runtimes": {host["ociRuntime"]["name"]: {"path": host["ociRuntime"]["path"]}},
        "DefaultRuntime": host["ociRuntime"]["name"], "Swarm": {"LocalNodeState": "inactive"},
        "LiveRestoreEnabled": False, "Isolation": "", "InitBinary": "catatonit", "SecurityOptions": [
            "name=seccomp,profile=default"] + (["name=rootless"] if host["security"]["rootless"] else []),
        "Warnings": [],
    }
    return json_response(doc)


def _repo_tag(name: str) -> tuple[str, str]:
    repo, _, tag = name.rpartition(":")
    return (repo, tag) if repo and "/" not in tag else (name, "<none>")


def _libpod_df(req: Request) -> Response:
    """Podman's SystemDfReport: one image row per name, times in RFC 3339, volumes by name."""
    from sealpod.utils.timefmt import rfc3339_nano as rfc3339

    usage = req.engine.system.df()
    commands = {c.id: list(c.command) for c in req.engine.containers.summaries(all_containers=True)}
    images = [{"Repository": repo, "Tag": tag, "ImageID": i.id, "Created": rfc3339(int(i.created * 1e9)),
               "Size": i.size, "SharedSize": i.shared_size, "UniqueSize": i.unique_size,
               "Containers": i.containers}
              for i in usage.images for repo, tag in [_repo_tag(n) for n in i.names] or [("<none>", "<none>")]]
    containers = [{"ContainerID": c.id, "Image": c.image_id, "Command": commands.get(c.id) or c.command.split(),
                   "LocalVolumes": c.volumes, "Size": c.size, "RWSize": c.size,
                   "Created": rfc3339(int(c.created * 1e9)), "Status": c.status, "Names": c.name}
                  for c in usage.containers]
    volumes = [{"VolumeName": v.name, "Links": v.links, "Size": v.size,
                "ReclaimableSize": 0 if v.links else v.size} for v in usage.volumes]
    return json_response({"Images": images, "Containers": containers, "Volumes": volumes})


def df(req: Request) -> Response:
    if req.libpod:
        return _libpod_df(req)
    images = req.engine.images.list_images()
    containers = req.engine.containers.summaries(all_containers=True)
    usage = req.engine.system.df()
    sizes = {c.id: c.size for c in usage.containers}
    doc = {
        "LayersSize": sum(i.size for i in images),
        "Images": [{"Id": f"sha256:{i.id}", "ParentId": "", "RepoTags": list(i.names), "RepoDigests":
                    list(i.repo_digests), "Created": i.created, "Size": i.size, "SharedSize": 0,
                    "VirtualSize": i.size, "Labels": i.labels or {}, "Containers": i.containers} for i in images],
        "Containers": [{"Id": c.id, "Names": ["/" + c.name], "Image": c.image, "ImageID": c.image_id,
                        "Command": " ".join(c.command), "Created": int(c.created), "State": c.state,
                        "Status": c.state, "SizeRw": sizes.get(c.id, 0), "SizeRootFs": 0, "Labels": c.labels}
                       for c in containers],
        "Volumes": [{"Name": v.name, "Driver": "local", "Labels": {}, "Scope": "local", "Options": {},
                     "UsageData": {"Size": v.size, "RefCount": v.links}} for v in usage.volumes],
        "BuildCache": [],
    }
    return json_response(doc)


def _client_alive(req: Request) -> Callable[[], bool]:
    """False once the client hung up: an unbounded event stream has nothing else to end it."""
    import select
    import socket

    conn = req.conn

    def alive() -> bool:
        if conn is None:
            return True
        try:
            readable, _, _ = select.select([conn], [], [], 0)
            return not readable or conn.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            return False

    return alive


def _event_time(req: Request, name: str) -> int | None:
    from sealpod.engine.events import parse_time

    return parse_time(req.arg(name), until=name == "until")


def _libpod_event(ev: Any) -> dict[str, Any]:
    """Podman's libpod events are Docker's message with its own attributes: the remote client reads
    the exit code, image, name and pod from them (and fails on a non-numeric exit code)."""
    code = ev.attributes.get("containerExitCode", "0")
    attrs = {**ev.labels, "containerExitCode": code if code.lstrip("-").isdigit() else "0", "image": ev.image,
             "name": ev.name, "podId": ev.attributes.get("podId", "")}
    doc: dict[str, Any] = {"status": ev.action}
    if ev.id:
        doc["id"] = ev.id
    if ev.image and ev.type == "container":
        doc["from"] = ev.image
    doc.update({"Type": ev.type, "Action": ev.action, "Actor": {"ID": ev.id, "Attributes": attrs},
                "scope": "local", "time": ev.time_ns // 1_000_000_000, "timeNano": ev.time_ns})
    return doc


def events(req: Request) -> Response:
    """Docker's event stream: past events from ``since``, then live ones; ``until`` ends it."""
    from sealpod.engine.events import parse_filters

    filters = parse_filters(req.filters())
    since, until = _event_time(req, "since"), _event_time(req, "until")
    log = req.engine.events
    libpod, follow, alive = req.libpod, req.flag("stream", True), _client_alive(req)

    def stream() -> Iterator[bytes]:
        source = log.follow(since, until, filters, alive=alive) if follow else iter(log.read(since, until, filters))
        for ev in source:
            yield json.dumps(_libpod_event(ev) if libpod else ev.docker_json()).encode() + b"\n"

    return Response(200, content_type="application/json", stream=stream())


def register(r: Router) -> None:
    for prefix in ("", ):
        r.add("GET", f"{prefix}/_ping", ping)
        r.add("GET", f"{prefix}/version", version)
        r.add("GET", f"{prefix}/info", info)
        r.add("GET", f"{prefix}/system/df", df)
        r.add("GET", f"{prefix}/events", events)
