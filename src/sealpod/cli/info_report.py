"""`info`'s report in Podman's three shapes: YAML with every map's keys sorted, JSON in the field order
of Podman's ``define.Info`` structs (engine/info_shape.py), and the value a ``--format`` template sees,
where a struct prints as ``{v1 v2}`` and a map as ``map[k:v]``, and a field a struct lacks is an error
naming its Go type.
"""

from __future__ import annotations

from sealpod.cli.gotemplate.values import GoStruct, NilSlice
from sealpod.engine.info_shape import as_json, struct_fields, struct_path

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

# The Go type each struct's "can't evaluate field" error names.
_TYPES = {
    "": "*define.Info", "host": "*define.HostInfo", "host.conmon": "*define.ConmonInfo",
    "host.cpuUtilization": "*define.CPUUsage", "host.distribution": "define.DistributionInfo",
    "host.idMappings": "define.IDMappings", "host.networkBackendInfo": "types.NetworkInfo",
    "host.networkBackendInfo.dns": "types.DNSNetworkInfo", "host.ociRuntime": "*define.OCIRuntimeInfo",
    "host.remoteSocket": "*define.RemoteSocket", "host.security": "define.SecurityInfo",
    "host.slirp4netns": "define.SlirpInfo", "host.pasta": "define.PastaInfo", "store": "*define.StoreInfo",
    "store.containerStore": "define.ContainerStore", "store.imageStore": "define.ImageStore",
    "plugins": "define.Plugins", "version": "define.Version", "registries.*": "sysregistriesv2.Registry",
}
_ENDPOINT = ("Location", "Insecure", "PullFromMirror")  # embedded in a registry: flat in JSON, {..} printed


def as_yaml(value: Any) -> Any:
    """The document as Podman's YAML writes it (made from its JSON): empty omitempty fields left out,
    every map's keys sorted."""
    return _sorted(as_json(value))


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return value


class InfoStruct(GoStruct):
    """A struct of the report: fields addressed as Podman's templates name them (``.Host.OCIRuntime``,
    ``.Store.GraphRoot``), whatever the case of the JSON key; ``.Host.CgroupsVersion`` is the one
    field whose name differs from its key."""

    strict_type = ""
    json_form: object = None

    def get(self, key: str, default: object = None) -> object:
        key = "cgroupVersion" if key == "CgroupsVersion" else key
        if key in self:
            return self[key]
        found = next((v for k, v in self.items() if k.lower() == key.lower()), _NONE)
        if found is not _NONE:
            return found
        endpoint = dict.get(self, "Endpoint")  # a registry's embedded endpoint: its fields are promoted
        return endpoint.get(key, default) if isinstance(endpoint, InfoStruct) else default


class InfoMap(dict):  # type: ignore[type-arg]
    """A map of the report (``registries``, ``graphStatus``): printed ``map[k:v]``, keys looked up as given
    first, then regardless of case."""

    def get(self, key: str, default: object = None) -> object:
        if key in self:
            return self[key]
        return next((v for k, v in self.items() if k.lower() == key.lower()), default)


_NONE = object()


def as_template_data(value: Any, path: str = "") -> Any:
    """The document as a template sees Podman's ``define.Info``."""
    struct = struct_path(path) if isinstance(value, dict) else None
    if struct is None:
        if isinstance(value, dict):
            return InfoMap({k: as_template_data(v, f"{path}.{k}" if path else k) for k, v in value.items()})
        return NilSlice() if value is None else value  # the report's nulls are all nil slices
    out = InfoStruct()
    for key, _ in struct_fields(struct, value):
        if struct == "registries.*" and key in _ENDPOINT:
            if "Endpoint" not in out:
                out["Endpoint"] = InfoStruct({k: value.get(k, "") for k in _ENDPOINT})
            continue
        out[key] = as_template_data(value[key], f"{path}.{key}" if path else key) if key in value else ""
        if key == "Mirrors":
            out[key] = [InfoStruct({k: m.get(k, "") for k in _ENDPOINT}) for m in value.get(key) or []]
    out.strict_type = _TYPES[struct]  # a name the struct lacks is Go's "can't evaluate field" error
    out.json_form = as_json(value, path)  # {{json .Host}}: the struct as encoding/json writes it
    return out
