"""libpod's ``/libpod/manifests`` routes (what podman-py's ``client.manifests`` calls): create, inspect,
exists, modify (add / remove / annotate through one PUT), push and delete."""

from __future__ import annotations

from urllib.parse import unquote_plus

from sealpod.api.http import Request, Response, Router, json_response, no_content
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _name(req: Request, key: str = "name") -> str:
    """podman-py quotes names with ``quote_plus`` (``localhost%2Flist%3Alatest``)."""
    value = req.params[key]
    return unquote_plus(value) if "%" in value else value


def _strings(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise InvalidArgument("expected a list of strings")


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    from sealpod.engine.manifests import parse_annotations

    return parse_annotations(_strings(value))


def create(req: Request) -> Response:
    """``POST /manifests?name=`` and ``POST /manifests/{name}`` (podman-py), with ``images`` and ``all``."""
    from sealpod.engine.manifests import AddOptions

    name = _name(req) if "name" in req.params else req.arg("name") or ""
    if not name:
        raise InvalidArgument("a name for the manifest list is required")
    images = [i for item in req.args("images") for i in item.split(",") if i]
    options = AddOptions(all=req.flag("all"))
    list_id = req.engine.manifests.create(name, images, amend=req.flag("amend"), options=options)
    return json_response({"Id": list_id}, status=201)


def inspect(req: Request) -> Response:
    from sealpod.engine.entities import RegistryFlags

    tls = req.arg("tlsVerify")
    flags = RegistryFlags(tls_verify=None if tls in (None, "") else req.flag("tlsVerify"))
    return json_response(req.engine.manifests.inspect(_name(req), flags))


def exists(req: Request) -> Response:
    return no_content() if req.engine.manifests.exists(_name(req)) else Response(status=404)


def _query_body(req: Request) -> dict[str, Any]:
    """The remote podman 4.3 sends the modification in the query string (its body holds the Go
    struct's field names, which the API does not know)."""
    body: dict[str, Any] = {"images": [i for item in req.args("images") for i in item.split(",") if i],
                            "all": req.flag("all"), "features": req.args("features"),
                            "annotation": req.args("annotation"), "os_features": req.args("os_features")}
    for key in ("operation", "os", "arch", "variant", "os_version"):
        body[key] = req.arg(key) or ""
    return body


def modify(req: Request) -> Response:
    """``PUT /manifests/{name}``: ``operation`` update (add images), remove (digests) or annotate."""
    from sealpod.engine.manifests import AddOptions, AnnotateOptions

    body = _query_body(req) if req.arg("operation") is not None else req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    service, name = req.engine.manifests, _name(req)
    operation = str(body.get("operation") or "update").lower()
    images = _strings(body.get("images"))
    fields = {"os": str(body.get("os") or ""), "arch": str(body.get("arch") or ""),
              "variant": str(body.get("variant") or ""), "os_version": str(body.get("os_version") or ""),
              "features": _strings(body.get("features")), "annotations": _pairs(body.get("annotation"))}
    list_id = service.get(name).image.id
    for image in images:
        if operation in ("update", "add"):
            service.add(name, image, AddOptions(all=bool(body.get("all")), **fields))  # type: ignore[arg-type]
        elif operation == "remove":
            service.remove(name, image)
        elif operation == "annotate":
            service.annotate(name, image, AnnotateOptions(os_features=_strings(body.get("os_features")),
                                                          **fields))  # type: ignore[arg-type]
        else:
            raise InvalidArgument(f'unknown manifest operation "{operation}": use update, remove or annotate')
    return json_response({"Id": list_id, "Images": list(images), "Errors": []})


def push(req: Request) -> Response:
    from sealpod.api.routes.images import _registry_flags
    from sealpod.engine.manifests import ListPushOptions

    destination = _name(req, "destination")
    options = ListPushOptions(all=req.flag("all", True), format=req.arg("format") or None,
                              remove=req.flag("rm"), registry=_registry_flags(req, destination))
    lines: list[str] = []
    digest = req.engine.manifests.push(_name(req), destination, options, lines.append)
    return json_response({"Id": digest, "stream": "\n".join(lines)})


def remove(req: Request) -> Response:
    report = req.engine.manifests.delete([_name(req)])
    if report.errors:
        raise report.errors[0]
    return json_response({"Untagged": report.untagged, "Deleted": report.deleted, "Errors": [], "ExitCode": 0})


def register(r: Router) -> None:
    r.add("POST", "/manifests", create)
    r.add("POST", "/manifests/create", create)
    r.add("GET", "/manifests/{name:path}/json", inspect)
    r.add("GET", "/manifests/{name:path}/exists", exists)
    r.add("POST", "/manifests/{name:path}/registry/{destination:path}", push)
    r.add("PUT", "/manifests/{name:path}", modify)
    r.add("DELETE", "/manifests/{name:path}", remove)
    r.add("POST", "/manifests/{name:path}", create)
