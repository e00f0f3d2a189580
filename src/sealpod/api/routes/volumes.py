"""Volume routes: Docker's ``/volumes`` and libpod's ``/libpod/volumes``.

Docker clients get Docker's volume document (``CreatedAt``, ``Driver``, ``Labels``,
``Mountpoint``, ``Name``, ``Options``, ``Scope``); libpod clients get Podman's inspect
document as ``volume inspect`` prints it.
"""

from __future__ import annotations

from sealpod.api.http import Request, Response, Router, json_response, no_content, string_field, string_map
from sealpod.errors import InvalidArgument, NoSuchVolume

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_DOCKER_KEYS = ("CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope")


def _shape(req: Request, doc: dict[str, Any]) -> dict[str, Any]:
    if req.libpod:
        return doc
    out = {k: doc.get(k) for k in _DOCKER_KEYS}
    if isinstance(out["CreatedAt"], str):  # Docker's (and Podman's compat) RFC 3339 has whole seconds
        import re

        out["CreatedAt"] = re.sub(r"\.\d+(?=Z$|[+-]\d\d:\d\d$)", "", out["CreatedAt"])
    out["Labels"] = out["Labels"] or {}
    out["Options"] = out["Options"] or {}
    return out


def list_volumes(req: Request) -> Response:
    if req.path.endswith("/json") and not req.libpod:  # Docker: a volume named "json"
        req.params["name"] = "json"
        return inspect(req)
    volumes = req.engine.volumes.list_volumes(req.filter_specs())
    docs = [_shape(req, req.engine.volumes.inspect_doc(v)) for v in volumes]
    if req.libpod:
        return json_response(docs)
    return json_response({"Volumes": docs, "Warnings": []})


def create(req: Request) -> Response:
    """Docker answers a create of an existing name with that volume; libpod says it exists."""
    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    labels = string_map(body.get("Labels") if body.get("Labels") is not None else body.get("Label"), "Labels")
    options = string_map(body.get("DriverOpts") if body.get("DriverOpts") is not None else body.get("Options"),
                       "DriverOpts")
    ignore = not req.libpod or bool(body.get("IgnoreIfExists"))
    vol = req.engine.volumes.create(string_field(body, "Name") or None, driver=string_field(body, "Driver") or "local",
                                    options=options, labels=labels, ignore=ignore)
    return json_response(_shape(req, req.engine.volumes.inspect_doc(vol)), status=201)


def inspect(req: Request) -> Response:
    return json_response(_shape(req, req.engine.volumes.inspect(req.params["name"])))


def exists(req: Request) -> Response:
    name = req.params["name"]
    if not req.engine.volumes.exists(name):
        raise NoSuchVolume(f'no volume with name "{name}" found: no such volume')
    return no_content()


def remove(req: Request) -> Response:
    req.engine.volumes.remove(req.params["name"], force=req.flag("force"))
    return no_content()


def prune(req: Request) -> Response:
    """Every volume no container uses, as Podman prunes; Docker's ``all`` filter is accepted and implied."""
    specs = [s for s in req.filter_specs() if not s.startswith("all=")]
    removed = req.engine.volumes.prune(specs)
    if req.libpod:
        return json_response([{"Id": name, "Size": 0, "Err": None} for name in removed])
    return json_response({"VolumesDeleted": removed or None, "SpaceReclaimed": 0})


def register(r: Router) -> None:
    r.add("GET", "/volumes", list_volumes)
    r.add("GET", "/volumes/json", list_volumes)
    r.add("POST", "/volumes/create", create)
    r.add("POST", "/volumes/prune", prune)
    r.add("GET", "/volumes/{name}/json", inspect)
    r.add("GET", "/volumes/{name}/exists", exists)
    r.add("GET", "/volumes/{name}", inspect)
    r.add("DELETE", "/volumes/{name}", remove)
