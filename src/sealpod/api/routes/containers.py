"""Container routes, Docker compat and libpod: list, create, lifecycle, inspect, logs, attach,
files (archive, export, changes), top, stats, rename, update, prune.

Each handler decodes the request, makes one engine call and shapes the answer as Docker (or, for
``/libpod``, Podman) does.  Docker's wording of ``Status`` ("Up 3 seconds") is rendered here,
because it is presentation, not state.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sealpod.api.http import Request, Response, Router, error_body, json_response, no_content
from sealpod.api.routes import container_create, container_update
from sealpod.api.streams import MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, produced, socket_writers, stdin_of
from sealpod.errors import InvalidArgument, NoSuchContainer, NoSuchImage, NotFound, OCIRuntimeError
from sealpod.utils.timefmt import rfc3339
from sealpod.utils.units import human_duration

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import os
    from typing import Any, BinaryIO


def _image_id(image_id: str) -> str:
    return image_id if not image_id or image_id.startswith("sha256:") else f"sha256:{image_id}"


def docker_status(state: str, exit_code: int | None, started: float, finished: float) -> str:
    now = time.time()
    if state in ("running", "paused"):
        up = f"Up {human_duration(now - started)}"
        return up + " (Paused)" if state == "paused" else up
    if state in ("exited", "stopped"):
        return f"Exited ({exit_code or 0}) {human_duration(now - finished)} ago"
    if state == "removing":
        return "Removal In Progress"
    return "Created"


def _ports(s: Any) -> list[dict[str, Any]]:
    return [{"IP": p.host_ip or "0.0.0.0", "PrivatePort": p.container_port + i, "PublicPort": p.host_port + i,
             "Type": p.protocol} for p in s.ports for i in range(p.range)]


def _ps_entry(req: Request, s: Any) -> dict[str, Any]:
    state = {"stopped": "exited", "configured": "created"}.get(s.state, s.state)
    running = state in ("running", "paused")
    doc: dict[str, Any] = {
        "Id": s.id, "Names": [f"/{s.name}"], "Image": s.image, "ImageID": _image_id(s.image_id),
        "Command": " ".join(s.command), "Created": int(s.created),
        "Ports": _ports(s), "Labels": s.labels or {}, "State": state,
        "Status": docker_status(state, s.exit_code, s.started_at, s.finished_at)
        + (f" ({s.health})" if running and s.health else ""),
        "HostConfig": {"NetworkMode": "bridge"}, "NetworkSettings": {"Networks": {}},
        "Mounts": [{"Destination": m} for m in s.mounts],
    }
    if s.rw_size is not None:
        doc["SizeRw"], doc["SizeRootFs"] = s.rw_size, s.root_size
    return doc


def _libpod_ps_entry(s: Any) -> dict[str, Any]:
    """Podman's ListContainer: ``Created`` is a time (RFC 3339), ports are its PortMapping."""
    doc: dict[str, Any] = s.to_json()
    doc["Created"] = rfc3339(s.created)
    doc["Status"] = s.health  # the client appends it: "Up 3 seconds (healthy)"
    doc["Ports"] = [{"host_ip": p.host_ip, "container_port": p.container_port, "host_port": p.host_port,
                     "range": p.range, "protocol": p.protocol} for p in s.ports] or None
    if s.rw_size is not None:  # ps --size: the client shows "RW (virtual ROOTFS)" from these
        doc["Size"] = {"rootFsSize": s.root_size or 0, "rwSize": s.rw_size}
    return doc


def list_containers(req: Request) -> Response:
    limit = req.int_arg("limit", 0) or req.int_arg("last", 0) or 0  # libpod's --last is "last"
    specs = req.filter_specs()
    # a status filter means all containers, as Podman and Docker list them (podman-remote sends all=false)
    every = req.flag("all") or limit > 0 or any(spec.startswith("status=") for spec in specs)
    summaries = req.engine.containers.summaries(all_containers=every, filters=specs, size=req.flag("size"),
                                                namespaces=req.libpod and req.flag("namespace"),
                                                external=req.libpod and req.flag("external"))
    summaries.sort(key=lambda s: s.created, reverse=True)
    if limit > 0:  # the newest ones
        summaries = summaries[:limit]
    if req.libpod:
        summaries.reverse()  # Podman lists the oldest first
    if req.libpod:
        return json_response([_libpod_ps_entry(s) for s in summaries])
    return json_response([_ps_entry(req, s) for s in summaries])


def create(req: Request) -> Response:
    body = req.json()
    try:
        if req.libpod:
            from sealpod.api.routes.libpod_create import from_libpod

            config, warnings = from_libpod(body)
        else:
            config, warnings = container_create.from_docker(body, req.arg("name") or ""), []
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as e:
        # a field of the wrong JSON type met the translation: the client's mistake, as Go's decoder says
        raise InvalidArgument(f"decoding request body: invalid value: {e}") from None
    from sealpod.engine.container_userns import without_rootless_v1_limits

    config, dropped = without_rootless_v1_limits(req.engine, config)
    warnings = [*warnings, dropped] if dropped else warnings
    try:
        rec = req.engine.containers.create(config)
    except NoSuchImage:
        raise NoSuchImage(f"No such image: {config.image}") from None
    return json_response({"Id": rec.id, "Warnings": warnings}, 201)


def _state(req: Request, name: str) -> str:
    return str(req.engine.containers.lookup(name).state)


def start(req: Request) -> Response:
    if _state(req, req.params["id"]) == "running":
        return Response(304, content_type="")
    req.engine.containers.start(req.params["id"])
    return no_content()


def stop(req: Request) -> Response:
    name = req.params["id"]
    if _state(req, name) not in ("running", "paused"):
        if req.libpod:
            return no_content()
        return Response(304, content_type="")
    req.engine.containers.stop(name, req.int_arg("t", req.int_arg("timeout")))
    return no_content()


def restart(req: Request) -> Response:
    req.engine.containers.restart(req.params["id"], req.int_arg("t", req.int_arg("timeout")))
    return no_content()


def kill(req: Request) -> Response:
    req.engine.containers.kill(req.params["id"], req.arg("signal") or "SIGKILL")
    return no_content()


def pause(req: Request) -> Response:
    req.engine.containers.pause(req.params["id"])
    return no_content()


def unpause(req: Request) -> Response:
    req.engine.containers.unpause(req.params["id"])
    return no_content()


def wait(req: Request) -> Response:
    """The status line goes out at once (the Docker CLI starts the container only after it has
    it); the body when the condition is met."""
    rec = req.engine.containers.lookup(req.params["id"])
    if req.libpod:
        conditions = req.args("condition") or ["stopped"]
        code = req.engine.containers.wait(rec.id, conditions)
        return json_response(code)
    condition = req.arg("condition") or "not-running"
    io_ = req.engine.container_io
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"invalid condition: {condition}")

    def body() -> Iterator[bytes]:
        yield b""
        code = io_.wait(rec.id, condition, after=rec.finished_at)
        yield json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n"

    return Response(200, stream=body())


def remove(req: Request) -> Response:
    name = req.params["id"]
    containers, force, volumes = req.engine.containers, req.flag("force"), req.flag("v")
    if req.libpod:  # podman-remote's rm --depend, --ignore and --volumes travel as these
        volumes = volumes or req.flag("volumes")
        try:
            if req.flag("depend"):
                ids = containers.remove_with_dependents(name, force=force, volumes=volumes)
            else:
                ids = [containers.remove(name, force=force, volumes=volumes)]
        except NoSuchContainer:
            if req.flag("ignore"):
                return json_response([])
            raise
        return json_response([{"Id": i, "RawInput": name if i == ids[-1] else i} for i in ids])
    containers.remove(name, force=force, volumes=volumes)
    return no_content()


def exists(req: Request) -> Response:
    req.engine.containers.lookup(req.params["id"], external=req.flag("external"))  # a build's: with external
    return no_content()


def _signal_name(num: int) -> str:
    import signal

    if signal.SIGRTMIN < num <= signal.SIGRTMAX:
        return f"SIGRTMIN+{num - signal.SIGRTMIN}"
    try:
        return signal.Signals(num).name
    except ValueError:
        return str(num)


def _docker_inspect(req: Request, rec: Any, doc: dict[str, Any]) -> dict[str, Any]:
    cfg, host = dict(doc["Config"]), dict(doc["HostConfig"])
    spec = rec.spec
    cfg["StopSignal"] = _signal_name(cfg.get("StopSignal") or 15)  # Docker's is a string
    cfg.update({"Cmd": spec.get("cmd") or None, "Entrypoint": spec.get("entrypoint") or None,
                "Image": rec.image_name, "ExposedPorts": {  # the published ports too, as Podman's compat shows
                    p: {} for p in sorted({*(spec.get("exposed_ports") or ()), *(host.get("PortBindings") or {})})}
                or None,
                "Labels": spec.get("labels") or {}, "Domainname": "", "StdinOnce": False})
    for key in ("Annotations", "CreateCommand", "Volumes", "OnBuild", "Umask", "Timeout", "Passwd"):
        cfg.pop(key, None)
    rc = rec.config  # Docker's attach flags say how it was run; Podman's are always false
    cfg.update({"AttachStdin": bool(rc.get("interactive")), "AttachStdout": not rc.get("detach"),
                "AttachStderr": not rc.get("detach"), "Timezone": cfg.get("Timezone", ""),
                "sdNotifySocket": cfg.get("sdNotifySocket", "")})
    if "Healthcheck" not in cfg:
        cfg.pop("HealthcheckOnFailureAction", None)
    host["Binds"] = [f"{m['source']}:{m['destination']}" for m in rc.get("mounts", []) if m.get("type") == "bind"]
    for key in ("BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                "BlkioDeviceWriteIOps"):
        host[key] = host.get(key) or []
    for key in ("CgroupConf", "DiskQuota"):  # Podman's own
        host.pop(key, None)
    host["Runtime"] = "runc"
    for key in ("CapAdd", "CapDrop"):  # Docker's names have no CAP_ prefix
        host[key] = [c.removeprefix("CAP_") for c in host.get(key) or ()]
    for key, zero in (("CgroupnsMode", ""), ("DeviceCgroupRules", None), ("DeviceRequests", None),
                      ("KernelMemoryTCP", 0), ("MaskedPaths", None), ("ReadonlyPaths", None)):
        host.setdefault(key, zero)  # Docker's HostConfig keys that Podman's document lacks, as Podman fills them
    if host["RestartPolicy"]["Name"] == "":
        host["RestartPolicy"] = {**host["RestartPolicy"], "Name": "no"}
    if host["LogConfig"]["Type"] == "k8s-file":  # the same line format role; docker-py reads logs only then
        host["LogConfig"] = {**host["LogConfig"], "Type": "json-file"}
    host.setdefault("NetworkMode", "bridge")
    if host["NetworkMode"] in ("private", "", "default"):
        host["NetworkMode"] = "bridge"
    state = {k: v for k, v in doc["State"].items()
             if k not in ("OciVersion", "ConmonPid", "CgroupPath", "CheckpointedAt", "RestoredAt")}
    state["Healthcheck"] = state["Health"] = {**state["Health"], "Log": state["Health"]["Log"] or []} \
        if rec.spec.get("healthcheck") else {"Status": "", "FailingStreak": 0, "Log": None}
    if not rec.spec.get("healthcheck"):
        del state["Health"]
    if state["Status"] in ("configured", "initialized"):  # Docker has no init: both are its created
        state["Status"] = "created"
    return {
        "Id": rec.id, "Created": doc["Created"], "Path": doc["Path"], "Args": doc["Args"], "State": state,
        "Image": _image_id(rec.image_id or ""), "ResolvConfPath": doc["ResolvConfPath"],
        "HostnamePath": doc["HostnamePath"], "HostsPath": doc["HostsPath"], "LogPath": host["LogConfig"]["Path"],
        "Name": f"/{rec.name}", "RestartCount": doc["RestartCount"], "Driver": doc["Driver"],
        "Platform": "linux", "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": None,
        "HostConfig": host, "GraphDriver": doc["GraphDriver"], "Mounts": doc["Mounts"], "Config": cfg,
        "NetworkSettings": req.engine.containers.network_settings(rec),
    }


def inspect(req: Request) -> Response:
    rec = req.engine.containers.lookup(req.params["id"])
    doc = req.engine.containers.inspect(rec.id, size=req.flag("size"))  # inspect --size
    if req.libpod:
        return json_response(doc)
    return json_response(_docker_inspect(req, rec, doc))


def _tail(req: Request) -> int:
    text = req.arg("tail") or "all"
    if text == "all":
        return -1
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f'invalid tail value "{text}"') from None


def _time(req: Request, name: str) -> str | None:
    text = req.arg(name)
    return None if text in (None, "", "0") or (text or "").startswith("0001-01-01T") else text  # Go's zero time


class _Null(io.RawIOBase):
    def write(self, data: Any) -> int:
        return len(data)


def logs(req: Request) -> Response:
    rec = req.engine.containers.lookup(req.params["id"])
    tty = bool(rec.config.get("tty")) and not req.libpod  # libpod's logs are multiplexed even for a tty
    want_out, want_err = req.flag("stdout"), req.flag("stderr")
    if req.libpod and req.arg("stdout") is None and req.arg("stderr") is None:
        want_out = want_err = True
    if not (want_out or want_err):
        raise InvalidArgument("you must choose at least one stream")
    containers = req.engine.containers
    follow, tail, timestamps = req.flag("follow"), _tail(req), req.flag("timestamps")
    since, until = _time(req, "since"), _time(req, "until")
    null_io: Any = _Null()  # a container that keeps no log is an error status, not an empty stream
    try:
        containers.logs([rec.id], stdout=null_io, stderr=null_io, tail=0)
    except InvalidArgument as e:  # Podman's service answers 500 and names the container
        from sealpod.errors import SealpodError

        raise SealpodError(f"failed to obtain logs for Container '{req.params['id']}': {e.message}") from None

    def produce(out: BinaryIO, err: BinaryIO) -> None:
        null: Any = _Null()
        containers.logs([rec.id], stdout=out if want_out else null, stderr=err if want_err else null,
                        follow=follow, tail=tail, since=since, until=until, timestamps=timestamps)

    return Response(200, content_type=RAW_CONTENT_TYPE if tty else MUX_CONTENT_TYPE,
                    stream=produced(produce, tty))


def attach(req: Request) -> Response:
    rec = req.engine.containers.lookup(req.params["id"])
    tty = bool(rec.config.get("tty"))
    want_in, want_out, want_err = req.flag("stdin"), req.flag("stdout"), req.flag("stderr")
    detach_keys = req.arg("detachKeys")
    io_ = req.engine.container_io
    if not req.flag("stream", True):
        return Response(200, content_type=RAW_CONTENT_TYPE if tty else MUX_CONTENT_TYPE)

    if req.libpod and str(rec.state) in ("stopped", "exited"):
        # podman-remote's `start -a` attaches before it starts: Podman prepares an exited container anew
        req.engine.container_ops.init(rec.id)
    try:
        connected = io_.connect(rec.id)  # before the 101: the client may start the container right after
    except OCIRuntimeError:
        if str(rec.state) != "configured":
            raise
        # It cannot even be created in the runtime (no such executable...): the client's start says why,
        # and `docker run` turns that message into its exit code (127, 126). An attach error would hide it.
        return Response(200, content_type=RAW_CONTENT_TYPE if tty else MUX_CONTENT_TYPE, hijack=_hang_up)

    def bridge(sock: Any) -> None:
        out, err = socket_writers(sock, tty)
        null: Any = _Null()
        try:
            io_.attach(rec.id, stdin=stdin_of(sock) if want_in else None, stdout=out if want_out else null,
                       stderr=err if want_err else null, detach_keys=detach_keys, connected=connected)
        except (BrokenPipeError, ConnectionResetError):
            pass

    return Response(200, content_type=RAW_CONTENT_TYPE if tty else MUX_CONTENT_TYPE, hijack=bridge)


def _hang_up(sock: Any) -> None:
    """The hijacked stream of an attach with nothing to stream: closing it ends the client's copy."""


def resize(req: Request) -> Response:
    req.engine.container_io.resize(req.params["id"], req.int_arg("h", 0) or 0, req.int_arg("w", 0) or 0)
    return json_response({}) if req.libpod else Response(200, content_type="text/plain")


def top(req: Request) -> Response:
    args = (req.arg("ps_args") or "").split()
    rows = req.engine.container_ops.top(req.params["id"], args)
    if rows and all(len(r) == 1 for r in rows):  # the container's own ps output: split on blanks
        rows = [r[0].split(None, len(rows[0][0].split()) - 1) for r in rows]
    return json_response({"Titles": rows[0] if rows else [], "Processes": rows[1:]})


def changes(req: Request) -> Response:
    kinds = {"C": 0, "A": 1, "D": 2}
    found = req.engine.container_files.changes(req.params["id"])
    return json_response([{"Path": c.path, "Kind": kinds.get(c.kind, 0)} for c in found] or None)


def export(req: Request) -> Response:
    files = req.engine.container_files
    name = req.engine.containers.lookup(req.params["id"]).id
    return Response(200, content_type="application/x-tar",
                    stream=produced(lambda out, _err: files.export(name, out), False, mux=False))


def _path_stat(req: Request, name: str, path: str, info: os.stat_result | None = None) -> str:
    import stat as st

    io_ = req.engine.container_io
    info = info or io_.stat_path(name, path)
    mode = st.S_IMODE(info.st_mode)
    if st.S_ISDIR(info.st_mode):
        mode |= 1 << 31
    elif st.S_ISLNK(info.st_mode):
        mode |= 1 << 27
    mtime = datetime.fromtimestamp(info.st_mtime, UTC).isoformat().replace("+00:00", "Z")
    target = io_.link_target(name, path) if st.S_ISLNK(info.st_mode) else ""
    doc: dict[str, Any] = {"name": (target or path).rstrip("/").rsplit("/", 1)[-1] or "/", "size": info.st_size,
                           "mode": mode, "mtime": mtime, "linkTarget": target}
    if req.libpod:  # Podman's client copies from linkTarget: a link's resolved path, else the path as given
        doc["isDir"] = st.S_ISDIR(info.st_mode)
        doc["linkTarget"] = target or path
    return base64.b64encode(json.dumps(doc).encode()).decode()


def archive_get(req: Request) -> Response:
    path = req.arg("path")
    if not path:
        raise InvalidArgument("path is required")
    name = req.engine.containers.lookup(req.params["id"]).id
    try:
        headers = {"X-Docker-Container-Path-Stat": _path_stat(req, name, path)}
    except NotFound as e:
        # a dangling symlink: not found, but where it leads goes along (podman-remote's cp creates it)
        link = req.engine.container_io.dangling_link(name, path)
        if link is None:
            raise
        return Response(404, error_body(404, e.message),
                        headers={"X-Docker-Container-Path-Stat": _path_stat(req, name, path, link)})
    if req.method == "HEAD":
        return Response(200, content_type="application/x-tar", headers=headers)
    files = req.engine.container_files
    return Response(200, content_type="application/x-tar", headers=headers,
                    stream=produced(lambda out, _err: files.copy_out(name, path, out=out), False, mux=False))


def archive_put(req: Request) -> Response:
    path = req.arg("path")
    if not path:
        raise InvalidArgument("path is required")
    body = req.body
    if req.libpod and (req.arg("rename") or req.flag("noOverwriteDirNonDir")):
        from sealpod.api.routes.archive_put import parse_rename, rewrite

        body = rewrite(body, parse_rename(req.arg("rename")),
                       _dir_non_dir_check(req, path) if req.flag("noOverwriteDirNonDir") else None)
    req.engine.container_files.copy_in(req.params["id"], path, stream=io.BytesIO(body))
    return Response(200, content_type="")


def _dir_non_dir_check(req: Request, path: str) -> Callable[[str, bool], None]:
    """podman-remote's cp without --overwrite: a file never replaces a directory, nor the reverse."""
    import posixpath
    import stat as st

    from sealpod.errors import NotFound, SealpodError

    def check(name: str, is_dir: bool) -> None:
        dest = posixpath.join(path, name)
        try:
            there = st.S_ISDIR(req.engine.container_io.stat_path(req.params["id"], dest).st_mode)
        except NotFound:
            return
        if there != is_dir:
            raise SealpodError(f'copier: put: error creating "{posixpath.normpath(dest)}": file exists')

    return check


def rename(req: Request) -> Response:
    name = req.arg("name")
    if not name:
        raise InvalidArgument("name is required")
    req.engine.container_ops.rename(req.params["id"], name)
    return no_content()


def prune(req: Request) -> Response:
    removed = req.engine.container_ops.prune(req.filter_specs())
    if req.libpod:
        return json_response([{"Id": i, "Size": 0, "Err": None} for i in removed])
    return json_response({"ContainersDeleted": removed or None, "SpaceReclaimed": 0})


def _cpu(sample: dict[str, Any]) -> dict[str, Any]:
    return {"cpu_usage": {"total_usage": sample["cpu_usage_ns"], "percpu_usage": None,
                          "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "system_cpu_usage": sample["system_cpu_ns"], "online_cpus": sample["online_cpus"],
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def docker_stats(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """Docker's stats document from two engine samples (``precpu`` is the earlier one)."""
    empty_cpu = {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                 "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    blkio = {k: None for k in ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
                               "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
                               "io_time_recursive", "sectors_recursive")}
    return {
        "name": f"/{now['name']}", "id": now["id"], "read": rfc3339(now["read"]),
        "preread": rfc3339(before["read"]) if before else "0001-01-01T00:00:00Z",
        "pids_stats": {"current": now["pids"], **({"limit": now["pids_limit"]} if now["pids_limit"] else {})},
        "blkio_stats": blkio, "num_procs": 0, "storage_stats": {}, "cpu_stats": _cpu(now),
        "precpu_stats": _cpu(before) if before else empty_cpu,
        "memory_stats": {"usage": now["memory_usage"], "stats": now["memory_stat"], "limit": now["memory_limit"]}
        if now["running"] else {},
        "networks": {},
    }


def stats(req: Request) -> Response:
    io_ = req.engine.container_io
    name = req.engine.containers.lookup(req.params["id"]).id
    streaming = req.flag("stream", True)
    one_shot = req.flag("one-shot")

    def samples() -> Iterator[bytes]:
        before = None
        if not one_shot:
            before = io_.stats(name)
            time.sleep(1 if not streaming else 0.1)
        while True:
            try:
                now = io_.stats(name)
            except NoSuchContainer:
                return
            yield json.dumps(docker_stats(now, before)).encode() + b"\n"
            if not streaming or not now["running"]:
                return
            before = now
            time.sleep(1)

    if not streaming:
        return Response(200, b"".join(samples()))
    return Response(200, stream=samples())


def _libpod_stat(st: Any) -> dict[str, Any]:
    """Podman's ContainerStats (define.ContainerStats): numbers only, the remote client formats."""
    s = st.sample
    return {"AvgCPU": st.avg_cpu_percent, "ContainerID": s.id, "Name": s.name, "PerCPU": None,
            "CPU": st.cpu_percent, "CPUNano": s.cpu_ns, "CPUSystemNano": 0, "SystemNano": int(s.at * 1e9),
            "MemUsage": s.mem_usage, "MemLimit": s.mem_limit, "MemPerc": st.mem_percent, "NetInput": s.net_rx,
            "NetOutput": s.net_tx, "BlockInput": s.block_read, "BlockOutput": s.block_write, "PIDs": s.pids,
            "UpTime": s.cpu_ns, "Duration": s.cpu_ns}


def libpod_stats(req: Request) -> Response:
    """``/libpod/containers/stats``: one ``{"Error", "Stats"}`` line per interval (one with stream=false)."""
    from sealpod.engine.container_stats import compute

    if not req.libpod:
        raise NoSuchContainer("page not found")
    stats = req.engine.container_stats
    names = req.args("containers")
    ids = stats.targets(names, all_containers=req.flag("all"))
    streaming, interval = req.flag("stream", True), max(req.int_arg("interval", 5) or 5, 1)

    def reports() -> Iterator[bytes]:
        previous: dict[str, Any] = {}
        while True:
            found = []
            for ctr_id in ids:
                sample = stats.sample(ctr_id)
                if sample is not None:
                    found.append(_libpod_stat(compute(sample, previous.get(ctr_id))))
                    previous[ctr_id] = sample
            yield json.dumps({"Error": None, "Stats": found}).encode() + b"\n"
            if not streaming or (names and not found):
                return
            time.sleep(interval)

    if not streaming:
        return Response(200, b"".join(reports()), content_type="application/json")
    return Response(200, content_type="application/json", stream=reports())


def healthcheck(req: Request) -> Response:
    """``/libpod/containers/{id}/healthcheck``: run the check once; Podman's HealthCheckResults."""
    result = req.engine.health.run(req.params["id"])
    doc = req.engine.health.state(req.engine.containers.lookup(req.params["id"]).id) or {}
    # this check's verdict, not the container's health: a failure in the start period (or short of the
    # retries) is still "unhealthy" to podman-remote, which prints that and exits 1
    status = "healthy" if result.exit_code == 0 else "unhealthy"
    return json_response({"Status": status, "FailingStreak": int(doc.get("FailingStreak", 0)),
                          "Log": doc.get("Log") or None})


def register(r: Router) -> None:
    r.add("GET", "/containers/json", list_containers)
    r.add("GET", "/containers/stats", libpod_stats)
    r.add("POST", "/containers/create", create)
    r.add("POST", "/containers/prune", prune)
    r.add("GET", "/containers/{id}/json", inspect)
    r.add("GET", "/containers/{id}/exists", exists)
    r.add("GET", "/containers/{id}/healthcheck", healthcheck)
    r.add("POST", "/containers/{id}/start", start)
    r.add("POST", "/containers/{id}/stop", stop)
    r.add("POST", "/containers/{id}/restart", restart)
    r.add("POST", "/containers/{id}/kill", kill)
    r.add("POST", "/containers/{id}/pause", pause)
    r.add("POST", "/containers/{id}/unpause", unpause)
    r.add("POST", "/containers/{id}/wait", wait)
    r.add("DELETE", "/containers/{id}", remove)
    r.add("GET", "/containers/{id}/logs", logs)
    r.add("POST", "/containers/{id}/attach", attach)
    r.add("POST", "/containers/{id}/resize", resize)
    r.add("GET", "/containers/{id}/top", top)
    r.add("GET", "/containers/{id}/changes", changes)
    r.add("GET", "/containers/{id}/export", export)
    r.add("GET", "/containers/{id}/archive", archive_get)
    r.add("PUT", "/containers/{id}/archive", archive_put)
    r.add("POST", "/containers/{id}/rename", rename)
    r.add("POST", "/containers/{id}/update", container_update.update)
    r.add("GET", "/containers/{id}/stats", stats)


__all__ = ["docker_status", "human_duration", "register"]
