"""``POST /build`` (Docker's classic builder API) and ``POST /libpod/build``: the body is the
context as a tar, progress is a stream of ``{"stream": ...}`` messages.

Docker clients find the image by ``{"aux": {"ID": ...}}`` and ``Successfully built <id12>``;
podman-py by a stream line that is the bare ID: both are sent, in the order each expects.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from sealpod.api.http import Request, Response, Router
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


# buildah's NetworkConfigurationPolicy, as the remote podman sends it (numbers), and Docker's names
_BUILDAH_NETWORK = {"0": "", "1": "none", "2": "", "default": "", "bridge": ""}


def _json_arg(req: Request, name: str) -> dict[str, str]:
    raw = req.arg(name)
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"{name}: invalid JSON") from None
    if isinstance(doc, list):  # libpod sends labels as ["k=v"]
        return dict(str(item).partition("=")[::2] for item in doc)
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{name}: expected a JSON object")
    return {str(k): "" if v is None else str(v) for k, v in doc.items()}


def _options(req: Request) -> Any:
    from sealpod.build.builder import BuildOptions

    pull = req.arg("pull") or ""
    policy = req.arg("pullpolicy") or ("always" if pull.lower() in ("1", "true") else "missing")
    if pull and pull.lower() not in ("1", "true", "0", "false", ""):
        policy = pull  # libpod: the policy's name
    network = req.arg("networkmode") or req.arg("network") or ""
    created = ""
    if req.arg("timestamp"):
        from sealpod.utils.timefmt import rfc3339_seconds

        created = rfc3339_seconds(_number(req, "timestamp") or 0)
    return BuildOptions(tags=tuple(t for t in req.args("t") if t), build_args=_json_arg(req, "buildargs"),
                        target=req.arg("target") or "", pull=policy, labels=_json_arg(req, "labels"),
                        network=_BUILDAH_NETWORK.get(network, network),
                        format=_format(req), quiet=req.flag("q"),
                        layers=req.flag("layers", not req.libpod),  # podman-remote sends layers=1 only when wanted
                        no_cache=req.flag("nocache"), squash="new" if req.flag("squash") else "", run=_run(req),
                        env=_list_arg(req, "setenv"), unsetenv=_list_arg(req, "unsetenv"),
                        from_image=req.arg("from") or "", identity_label=req.flag("identitylabel", True),
                        created=created)


def _number(req: Request, name: str) -> int | None:
    value = req.arg(name) or ""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"{name}: invalid number {value!r}") from None


def _list_arg(req: Request, name: str) -> tuple[str, ...]:
    """A repeatable query value whose each occurrence may be a JSON list (podman-remote marshals its
    string slices so) or one plain word."""
    out: list[str] = []
    for value in req.args(name):
        if value.startswith("["):
            try:
                doc = json.loads(value)
            except ValueError:
                raise InvalidArgument(f"{name}: invalid JSON") from None
            out += [str(x) for x in doc] if isinstance(doc, list) else [value]
        elif value:
            out.append(value)
    return tuple(out)


def _json_list(req: Request, name: str) -> tuple[str, ...]:
    """A query value holding a JSON list of strings (podman-remote's excludes, ulimits, annotations)."""
    raw = req.arg(name)
    if not raw:
        return ()
    try:
        doc = json.loads(raw)
    except ValueError:
        raise InvalidArgument(f"{name}: invalid JSON") from None
    if not isinstance(doc, list):
        raise InvalidArgument(f"{name}: expected a JSON list")
    return tuple(str(x) for x in doc)


def _run(req: Request) -> Any:
    """The RUN containers' resources (memory, memswap, cpu*, shmsize, cgroupparent), as the CLI's flags."""
    from sealpod.build.run_settings import DEFAULT_SHM_SIZE, RunSettings

    def number(name: str) -> int | None:
        return _number(req, name)

    hosts = tuple(h for v in _list_arg(req, "extrahosts") for h in v.split(",") if h)  # Docker's: host:ip,...
    return RunSettings(memory=number("memory") or None, memory_swap=number("memswap") or None,
                       dns_servers=_list_arg(req, "dnsservers"), dns_search=_list_arg(req, "dnssearch"),
                       dns_options=_list_arg(req, "dnsoptions"), add_hosts=hosts,
                       cap_add=_list_arg(req, "addcaps"), cap_drop=_list_arg(req, "dropcaps"),
                       devices=_list_arg(req, "devices"), ulimits=_json_list(req, "ulimits"),
                       security_opts=tuple(f"{k}={req.arg(k)}" for k in ("seccomp", "apparmor") if req.arg(k)),
                       cpu_shares=number("cpushares") or None, cpu_period=number("cpuperiod") or None,
                       cpu_quota=number("cpuquota") or None, cpuset_cpus=req.arg("cpusetcpus") or None,
                       cpuset_mems=req.arg("cpusetmems") or None, shm_size=number("shmsize") or DEFAULT_SHM_SIZE,
                       cgroup_parent=req.arg("cgroupparent") or "", http_proxy=req.flag("httpproxy", True))


def _format(req: Request) -> str:
    """libpod's ``outputformat`` is a manifest media type; Docker's builder makes Docker images."""
    wanted = req.arg("outputformat") or ""
    if not wanted:
        return "oci" if req.libpod else "docker"
    return "docker" if "docker" in wanted else "oci"


def build(req: Request) -> Response:
    from sealpod.api.routes.images import Emit, _streamed
    from sealpod.build.builder import Output, find_containerfile, run_build
    from sealpod.build.context import BuildContext

    options = _options(req)
    names: list[str | None] = [req.arg("dockerfile") or None]
    if names[0] and names[0].startswith("["):  # libpod sends a JSON list of files: read one after the other
        names = [str(n) for n in _json_list(req, "dockerfile")] or [None]

    def work(emit: Emit) -> None:
        out = Output(lambda text: emit({"stream": text + "\n"}),
                     lambda data: emit({"stream": data.decode(errors="replace")}))
        context = BuildContext.from_tar(io.BytesIO(req.body))
        excludes = _json_list(req, "excludes")  # podman-remote's ignore file: Buildah's matching applies here too
        ignore = None
        try:
            if excludes:
                import tempfile

                ignore = tempfile.NamedTemporaryFile("w", prefix="sealpod-excludes-", suffix=".ignore", delete=False)
                ignore.write("\n".join(excludes) + "\n")
                ignore.close()
            found = [find_containerfile(context, name, in_context=True) for name in names]
            containerfile = (found[0][0], "".join(t if t.endswith("\n") else t + "\n" for _, t in found))
            image_id = run_build(req.engine, context, containerfile, options, out,
                                 ignorefile=Path(ignore.name) if ignore else None)
        finally:
            context.close()
            if ignore is not None:
                os.unlink(ignore.name)
        if req.libpod and req.arg("manifest"):  # podman-remote build --manifest
            from sealpod.build.extras import add_to_manifest

            add_to_manifest(req.engine, req.arg("manifest") or "", image_id)
        if req.libpod:  # the remote podman refuses any message but stream and error
            emit({"stream": image_id + "\n"})
            return
        emit({"aux": {"ID": f"sha256:{image_id}"}})
        if options.quiet:
            emit({"stream": f"sha256:{image_id}\n"})
            return
        emit({"stream": f"Successfully built {image_id[:12]}\n"})

    return _streamed(req, work, early_errors=False)


def prune_cache(req: Request) -> Response:
    """``POST /build/prune``: ``docker system prune`` and ``docker builder prune`` call it. Builds
    here keep no cache apart from images, which ``/images/prune`` removes, so nothing is deleted."""
    from sealpod.api.http import json_response

    req.filter_specs()  # a malformed filter is still a 400, as everywhere else
    return json_response({"CachesDeleted": [], "SpaceReclaimed": 0})


def register(r: Router) -> None:
    r.add("POST", "/build", build)
    r.add("POST", "/build/prune", prune_cache)
