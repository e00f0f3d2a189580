"""Kubernetes YAML routes of libpod: ``GET /libpod/generate/kube``, ``POST /libpod/play/kube`` and
``DELETE /libpod/play/kube`` (also under Podman's newer ``/libpod/kube/...`` paths).  The YAML is
the body both ways; reports are Podman's PlayKubeReport shape."""

from __future__ import annotations

from sealpod.api.http import Request, Response, Router, json_response
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.kube.model import Manifest


def generate(req: Request) -> Response:
    from sealpod import __version__
    from sealpod.errors import SealpodError
    from sealpod.kube.generate import generate as generate_yaml

    kind = req.arg("type") or "pod"
    try:
        text = generate_yaml(req.engine, req.args("names"), service=req.flag("service"), kind=kind,
                             replicas=req.int_arg("replicas", 1) or 1, version=__version__)
    except SealpodError as e:  # podman-remote prints the service's words
        e.args = (f"generating YAML: {e.message}",)
        raise
    return Response(200, text.encode(), content_type="text/vnd.yaml")


def _manifest(req: Request) -> Manifest:
    from sealpod.kube.model import parse_manifest
    from sealpod.kube.yamlio import load_documents

    if not req.body:
        raise InvalidArgument("a Kubernetes YAML body is required")
    return parse_manifest(load_documents(req.body))


def _annotations(req: Request) -> dict[str, str]:
    """podman-remote's --annotation: a JSON object in one ``annotations`` value (its bindings marshal maps)."""
    import json

    from sealpod.errors import InvalidArgument

    raw = req.arg("annotations")
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        raise InvalidArgument("annotations: invalid JSON") from None
    if not isinstance(doc, dict):
        raise InvalidArgument("annotations: expected a JSON object")
    for value in doc.values():  # the CLI's check, made here for remote clients
        if len(str(value)) > 63:
            raise InvalidArgument(f"annotation exceeds maximum size, 63, of kubernetes annotation: {value}")
    return {str(k): str(v) for k, v in doc.items()}


def play(req: Request) -> Response:
    from sealpod.engine.entities import PullOptions, RegistryFlags
    from sealpod.kube.play import PlayOptions
    from sealpod.kube.play import play as play_manifest
    from sealpod.kube.translate import PlayFlags

    manifest = _manifest(req)
    flags = PlayFlags(network=tuple(n for v in req.args("network") for n in v.split(",") if n),
                      publish=tuple(req.args("publishPorts")), log_driver=req.arg("logDriver") or "",
                      no_hosts=req.flag("noHosts"), userns=req.arg("userns") or "",
                      ips=tuple(req.args("staticIPs")), macs=tuple(req.args("staticMACs")),
                      annotations=_annotations(req) or None)
    tls = req.arg("tlsVerify")
    pull = PullOptions(registry=RegistryFlags(tls_verify=None if tls is None else req.flag("tlsVerify")))
    result = play_manifest(req.engine, manifest, PlayOptions(flags=flags, start=req.flag("start", True),
                                                             replace=req.flag("replace"), pull=pull))
    return json_response({
        "Pods": [{"ID": p.id, "Containers": p.containers, "InitContainers": [], "Logs": [], "ContainerErrors": []}
                 for p in result.pods],
        "Volumes": [{"Name": v} for v in result.volumes],
        "Errors": result.errors, "Warnings": manifest.warnings, "ServiceContainerID": "",
    })


def down(req: Request) -> Response:
    from sealpod.kube.play import down as down_manifest

    result = down_manifest(req.engine, _manifest(req), force=req.flag("force"))
    return json_response({
        "StopReport": [{"Id": i, "Err": None} for i in result.stopped],
        "RmReport": [{"Id": i, "Err": None} for i in result.removed],
        "VolumeRmReport": [{"Id": v, "Err": None} for v in result.volumes],
    })


def register(r: Router) -> None:
    for path in ("/generate/kube", "/kube/generate"):
        r.add("GET", path, generate)
    for path in ("/play/kube", "/kube/play"):
        r.add("POST", path, play)
        r.add("DELETE", path, down)
