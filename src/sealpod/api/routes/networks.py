"""Network routes: Docker's ``/networks`` and libpod's ``/libpod/networks``.

Docker clients name the default network ``bridge`` (compose, testcontainers): on the Docker
API that name means the engine's default network unless a network is really called so.
libpod clients get Podman's network document (netavark's), as ``network inspect`` prints it.
"""

from __future__ import annotations

from sealpod.api.http import Request, Response, Router, json_response, no_content, string_field, string_map
from sealpod.errors import InvalidArgument, NoSuchNetwork

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _name(req: Request, name: str | None = None) -> str:
    name = name if name is not None else req.params["name"]
    if not req.libpod and name == "bridge" and not req.engine.networks.exists("bridge"):
        return str(req.engine.networks.files.default.name)
    return name


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    return body


def _containers(req: Request, name: str) -> dict[str, Any]:
    """Docker's ``Containers`` of a network: the running ones, with their addresses on it."""
    out: dict[str, Any] = {}
    nets = req.engine.networks
    for rec in nets.users(nets.get(name)):
        status = nets.status_of(rec)
        for att in status.attachments if status else ():
            if att.network != name:
                continue
            v4 = [a for a in att.addresses if ":" not in a]
            v6 = [a for a in att.addresses if ":" in a]
            out[rec.id] = {"Name": rec.name, "EndpointID": "", "MacAddress": att.mac_address,
                           "IPv4Address": v4[0] if v4 else "", "IPv6Address": v6[0] if v6 else ""}
    return out


def _docker_doc(req: Request, doc: dict[str, Any], with_containers: bool) -> dict[str, Any]:
    config = [{k: v for k, v in (("Subnet", s["subnet"]), ("Gateway", s.get("gateway", ""))) if v}
              for s in doc.get("subnets") or []]
    options = dict(doc.get("options") or {})
    ipam = dict(doc.get("ipam_options") or {})
    if doc.get("network_interface"):
        options.setdefault("com.docker.network.bridge.name", doc["network_interface"])
    return {
        "Name": doc["name"], "Id": doc["id"], "Created": doc.get("created", ""), "Scope": "local",
        "Driver": doc.get("driver", "bridge"), "EnableIPv6": bool(doc.get("ipv6_enabled")),
        "IPAM": {"Driver": "default" if ipam.get("driver", "host-local") == "host-local" else ipam["driver"],
                 "Options": ipam, "Config": config}, "Internal": bool(doc.get("internal")),
        "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": _containers(req, doc["name"]) if with_containers else {}, "Options": options,
        "Labels": dict(doc.get("labels") or {}),
    }


def list_networks(req: Request) -> Response:
    if req.path.endswith("/json") and not req.libpod:  # Docker: a network named "json"
        req.params["name"] = "json"
        return inspect(req)
    docs = [n.to_json() for n in req.engine.networks.list_networks(req.filter_specs())]
    if req.libpod:
        return json_response(docs)
    return json_response([_docker_doc(req, d, with_containers=False) for d in docs])


def inspect(req: Request) -> Response:
    doc = req.engine.networks.inspect(_name(req))
    return json_response(doc if req.libpod else _docker_doc(req, doc, with_containers=True))


def exists(req: Request) -> Response:
    name = req.params["name"]
    if not req.engine.networks.exists(name):
        raise NoSuchNetwork(f"unable to find network with name or ID {name}: network not found")
    return no_content()


def _docker_create_options(body: dict[str, Any]) -> dict[str, Any]:
    ipam = body.get("IPAM") or {}
    if not isinstance(ipam, dict):
        raise InvalidArgument('decoding request body: json: cannot unmarshal into Go struct field "IPAM"')
    configs = [c for c in ipam.get("Config") or [] if isinstance(c, dict)]
    options = string_map(body.get("Options"), "Options")
    bridge = options.pop("com.docker.network.bridge.name", "")
    driver = string_field(body, "Driver") or "bridge"
    if driver != "bridge":  # a macvlan's parent; Podman's compat API turns DNS on for bridges only
        bridge = options.get("parent", "")
    return {"driver": driver, "disable_dns": driver != "bridge",
            "subnets": tuple(t for c in configs if (t := string_field(c, "Subnet"))),
            "gateways": tuple(t for c in configs if (t := string_field(c, "Gateway"))),
            "ip_ranges": tuple(t for c in configs if (t := string_field(c, "IPRange"))),
            "ipv6": bool(body.get("EnableIPv6")), "internal": bool(body.get("Internal")), "options": options,
            "labels": string_map(body.get("Labels"), "Labels"), "interface_name": bridge}


def _lease_cidr(subnet: dict[str, Any]) -> str:
    """``lease_range`` back to the ``--ip-range`` CIDR podman-remote computed it from (its first address
    after the range's network address, to the range's last)."""
    import ipaddress

    lease = subnet.get("lease_range")
    if not isinstance(lease, dict) or not lease.get("start_ip") or not lease.get("end_ip"):
        return ""
    try:
        start, end = ipaddress.ip_address(str(lease["start_ip"])), ipaddress.ip_address(str(lease["end_ip"]))
        net = ipaddress.ip_network(f"{start}/{start.max_prefixlen}")
        while net.network_address == start and net.prefixlen > 0 or end not in net:
            net = net.supernet()  # the smallest block holding the range and the address before its start
    except ValueError:
        raise InvalidArgument(f"invalid lease range {lease}") from None
    return str(net)


def _libpod_create_options(body: dict[str, Any]) -> dict[str, Any]:
    from sealpod.api.body_types import checked

    body = checked(body, {"name": "string", "driver": "string", "network_interface": "string", "subnets": "[]object",
                          "labels": "map[string]string", "options": "map[string]string", "dns_enabled": "bool",
                          "internal": "bool", "ipv6_enabled": "bool", "ipam_options": "map[string]string"},
                   "Network")
    subnets = [checked(s, {"subnet": "string", "gateway": "string", "lease_range": "object"}, "Subnet")
               for s in body.get("subnets") or []]
    return {"driver": string_field(body, "driver") or "bridge",
            "subnets": tuple(string_field(s, "subnet") for s in subnets),
            "gateways": tuple(t for s in subnets if (t := string_field(s, "gateway"))),
            "ip_ranges": tuple(r for r in (_lease_cidr(s) for s in subnets) if r),
            "ipv6": bool(body.get("ipv6_enabled")), "internal": bool(body.get("internal")),
            "disable_dns": body.get("dns_enabled") is False,
            "options": string_map(body.get("options"), "options"),
            "labels": string_map(body.get("labels"), "labels"),
            "interface_name": str(body.get("network_interface") or ""),
            "ipam_driver": string_map(body.get("ipam_options"), "ipam_options").get("driver", "")}


def create(req: Request) -> Response:
    from sealpod.engine.network_flags import create_options

    body = _body(req)
    name = string_field(body, "name" if req.libpod else "Name") or None
    kwargs = _libpod_create_options(body) if req.libpod else _docker_create_options(body)
    net = req.engine.networks.create(name, create_options(**kwargs))
    if req.libpod:
        return json_response(net.to_json())
    return json_response({"Id": net.id, "Warning": ""}, status=201)


def remove(req: Request) -> Response:
    name = req.engine.networks.remove(_name(req), force=req.flag("force"))
    if req.libpod:
        return json_response([{"Name": name, "Err": None}])
    return no_content()


def prune(req: Request) -> Response:
    removed = req.engine.networks.prune(req.filter_specs())
    if req.libpod:
        return json_response([{"Name": n, "Err": None} for n in removed])
    return json_response({"NetworksDeleted": removed})


def connect(req: Request) -> Response:
    body = _body(req)
    if req.libpod:
        ips = body.get("static_ips") or []
        req.engine.networks.connect(req.params["name"], str(body.get("container") or ""),
                                    aliases=list(body.get("aliases") or []), ip=str(ips[0]) if ips else "",
                                    mac=str(body.get("static_mac") or ""))
        return json_response("OK")
    endpoint = body.get("EndpointConfig") or {}
    ipam = endpoint.get("IPAMConfig") or {}
    req.engine.networks.connect(_name(req), str(body.get("Container") or ""),
                                aliases=list(endpoint.get("Aliases") or []),
                                ip=str(ipam.get("IPv4Address") or ""), mac=str(endpoint.get("MacAddress") or ""))
    return Response(200, b"", content_type="")


def disconnect(req: Request) -> Response:
    body = _body(req)
    container = str(body.get("Container") or body.get("container") or "")
    req.engine.networks.disconnect(_name(req), container, force=bool(body.get("Force") or body.get("force")))
    return json_response("OK") if req.libpod else Response(200, b"", content_type="")


def register(r: Router) -> None:
    r.add("GET", "/networks", list_networks)
    r.add("GET", "/networks/json", list_networks)
    r.add("POST", "/networks/create", create)
    r.add("POST", "/networks/prune", prune)
    r.add("GET", "/networks/{name}/exists", exists)
    r.add("GET", "/networks/{name}/json", inspect)
    r.add("GET", "/networks/{name}", inspect)
    r.add("DELETE", "/networks/{name}", remove)
    r.add("POST", "/networks/{name}/connect", connect)
    r.add("POST", "/networks/{name}/disconnect", disconnect)
