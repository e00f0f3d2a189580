"""Secret routes: libpod's ``/libpod/secrets`` (raw data in the body, name in the query, as
podman-py sends it) and Docker's swarm-style ``/secrets`` (JSON with base64 ``Data``)."""

from __future__ import annotations

import base64
import binascii
import json

from sealpod.api.http import Request, Response, Router, json_response, no_content
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _doc(req: Request, doc: dict[str, Any]) -> dict[str, Any]:
    if req.libpod:
        return doc
    return {"ID": doc["ID"], "Version": {"Index": 1}, "CreatedAt": doc["CreatedAt"], "UpdatedAt": doc["UpdatedAt"],
            "Spec": {"Name": doc["Spec"]["Name"], "Labels": doc["Spec"]["Labels"],
                     "Driver": doc["Spec"]["Driver"]}}


def _labels(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidArgument("labels must be a JSON object of strings") from None
    if not isinstance(value, dict):
        raise InvalidArgument("labels must be a JSON object of strings")
    return {str(k): str(v) for k, v in value.items()}


def create(req: Request) -> Response:
    service = req.engine.secrets
    if req.libpod:
        name = req.arg("name") or ""
        secret = service.create(name, req.body, driver=req.arg("driver") or "file",
                                labels=_labels(req.arg("labels")), replace=req.flag("replace"))
        return json_response({"ID": secret.id})
    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    try:
        data = base64.b64decode(str(body.get("Data") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("Data must be base64 encoded") from None
    driver = body.get("Driver") or {}
    secret = service.create(str(body.get("Name") or ""), data,
                            driver=str(driver.get("Name") or "file") if isinstance(driver, dict) else "file",
                            labels=_labels(body.get("Labels")))
    return json_response({"ID": secret.id}, status=201)


def list_secrets(req: Request) -> Response:
    service = req.engine.secrets
    filters = req.filters()
    docs = []
    for secret in service.all():
        if filters.get("name") and not any(n in secret.name for n in filters["name"]):
            continue
        if filters.get("id") and not any(secret.id.startswith(i) for i in filters["id"]):
            continue
        docs.append(_doc(req, service.inspect(secret)))
    return json_response(docs)


def inspect(req: Request) -> Response:
    service = req.engine.secrets
    return json_response(_doc(req, service.inspect(service.lookup(req.params["name"]))))


def exists(req: Request) -> Response:
    return no_content() if req.engine.secrets.exists(req.params["name"]) else Response(status=404)


def remove(req: Request) -> Response:
    service = req.engine.secrets
    if req.flag("all"):
        for secret in service.all():
            service.remove(secret.id)
    else:
        service.remove(req.params["name"])
    return no_content()


def register(r: Router) -> None:
    r.add("POST", "/secrets/create", create)
    r.add("GET", "/secrets/json", list_secrets)
    r.add("GET", "/secrets", list_secrets)
    r.add("GET", "/secrets/{name}/json", inspect)
    r.add("GET", "/secrets/{name}/exists", exists)
    r.add("GET", "/secrets/{name}", inspect)
    r.add("DELETE", "/secrets/{name}", remove)
