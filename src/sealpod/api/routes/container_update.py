"""``POST /containers/{id}/update``: new cgroup limits for a container.

Docker's body is a ``Resources`` object in its own names (``Memory``, ``BlkioDeviceReadBps`` as
``[{"Path", "Rate"}]``...), answered with ``{"Warnings": []}``; libpod's (what podman-remote sends)
is an OCI ``linux.resources`` object (``memory.limit``, ``blockIO.throttleReadBpsDevice`` as
``[{"major", "minor", "rate"}]``...), answered 201 with the container's ID.  Both become one
:class:`~sealpod.engine.container_ops.UpdateOptions`.
"""

from __future__ import annotations

from sealpod.api.http import Request, Response, json_response, string_field
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_ops import UpdateOptions

#: Docker's per-device fields: (body key, UpdateOptions field, value key).
_DOCKER_DEVICES = (("BlkioWeightDevice", "blkio_weight_device", "Weight"),
                   ("BlkioDeviceReadBps", "device_read_bps", "Rate"),
                   ("BlkioDeviceWriteBps", "device_write_bps", "Rate"),
                   ("BlkioDeviceReadIOps", "device_read_iops", "Rate"),
                   ("BlkioDeviceWriteIOps", "device_write_iops", "Rate"))
#: The same in an OCI ``blockIO`` object.
_OCI_DEVICES = (("weightDevice", "blkio_weight_device", "weight"),
                ("throttleReadBpsDevice", "device_read_bps", "rate"),
                ("throttleWriteBpsDevice", "device_write_bps", "rate"),
                ("throttleReadIOPSDevice", "device_read_iops", "rate"),
                ("throttleWriteIOPSDevice", "device_write_iops", "rate"))


def update(req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("decoding request body: expected a JSON object")
    opts = _libpod_options(body) if req.libpod else _docker_options(body)
    rec = req.engine.container_ops.update(req.params["id"], opts)
    if req.libpod:
        return json_response(rec.id, status=201)
    return json_response({"Warnings": []})


def _int(doc: dict[str, Any], key: str, *, unsigned: bool = False, go_type: str = "int64") -> int | None:
    """An integer field (absent or null: None), refused in the words of Go's decoder otherwise."""
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        kind = {str: "string", float: "number", bool: "bool", list: "array", dict: "object"}.get(type(value), "value")
        raise InvalidArgument(f"decoding request body: json: cannot unmarshal {kind} into field {key} of type "
                              f"{'u' + go_type if unsigned else go_type}")
    if unsigned and value < 0:
        raise InvalidArgument(f"decoding request body: json: cannot unmarshal number {value} into field {key} "
                              f"of type u{go_type}")
    return value


def _docker_options(body: dict[str, Any]) -> UpdateOptions:
    from sealpod.engine.container_ops import UpdateOptions

    for key in ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuQuota", "PidsLimit",
                "CpuRealtimeRuntime"):  # Go's decoder refuses other types; runc would be handed them otherwise
        _int(body, key)
    for key in ("CpuShares", "CpuPeriod", "CpuRealtimePeriod"):
        _int(body, key, unsigned=True)
    weight = _int(body, "BlkioWeight", unsigned=True, go_type="int16")
    for key in ("CpusetCpus", "CpusetMems"):
        string_field(body, key)
    devices = {field: _docker_devices(body, key, value_key) for key, field, value_key in _DOCKER_DEVICES}
    nano = body.get("NanoCpus") or 0
    return UpdateOptions(
        memory=body.get("Memory") or None, memory_swap=body.get("MemorySwap") or None,
        memory_reservation=body.get("MemoryReservation") or None, cpus=nano / 1e9 if nano else None,
        cpu_shares=body.get("CpuShares") or None, cpu_period=body.get("CpuPeriod") or None,
        cpu_quota=body.get("CpuQuota") or None, cpuset_cpus=body.get("CpusetCpus") or None,
        cpuset_mems=body.get("CpusetMems") or None, pids_limit=body.get("PidsLimit") or None,
        blkio_weight=weight or None, cpu_rt_period=body.get("CpuRealtimePeriod") or None,
        cpu_rt_runtime=body.get("CpuRealtimeRuntime") or None, **_devices(devices))


def _devices(fields: dict[str, tuple[tuple[str, int], ...]]) -> dict[str, Any]:
    """The per-device keyword arguments of UpdateOptions (typed loosely for ``**``)."""
    return dict(fields)


def _docker_devices(body: dict[str, Any], key: str, value_key: str) -> tuple[tuple[str, int], ...]:
    """``[{"Path": "/dev/sda", "Rate": 1048576}, ...]`` (``Weight`` for weights) as (path, value) pairs."""
    items = body.get(key)
    if items is None:
        return ()
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidArgument(f"decoding request body: json: cannot unmarshal {type(items).__name__} into field "
                              f"{key} of type []*blkiodev")
    out: dict[str, int] = {}
    for item in items:
        path = string_field(item, "Path")
        value = _int(item, value_key, unsigned=True, go_type="int16" if value_key == "Weight" else "int64") or 0
        if not path:
            raise InvalidArgument(f"{key}: a device needs a Path")
        if value_key == "Weight" and (0 < value < 10 or value > 1000):
            raise InvalidArgument(f"invalid weight for device: {path}:{value}")
        out[path] = value
    return tuple(out.items())


def _libpod_options(body: dict[str, Any]) -> UpdateOptions:
    from sealpod.engine.container_ops import UpdateOptions

    memory, cpu, pids, block = (_object(body, k) for k in ("memory", "cpu", "pids", "blockIO"))
    quota = _int(cpu, "quota")
    period = _int(cpu, "period", unsigned=True)
    devices = {field: _oci_devices(block, key, value_key) for key, field, value_key in _OCI_DEVICES}
    return UpdateOptions(
        memory=_int(memory, "limit"), memory_swap=_int(memory, "swap"), memory_reservation=_int(memory, "reservation"),
        memory_swappiness=_int(memory, "swappiness", unsigned=True),
        cpu_shares=_int(cpu, "shares", unsigned=True), cpu_quota=quota, cpu_period=period,
        cpuset_cpus=string_field(cpu, "cpus") or None, cpuset_mems=string_field(cpu, "mems") or None,
        cpu_rt_period=_int(cpu, "realtimePeriod", unsigned=True), cpu_rt_runtime=_int(cpu, "realtimeRuntime"),
        pids_limit=_int(pids, "limit"), blkio_weight=_int(block, "weight", unsigned=True, go_type="int16"),
        **_devices(devices))


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"decode(): json: cannot unmarshal {type(value).__name__} into field {key}")
    return value


def _oci_devices(block: dict[str, Any], key: str, value_key: str) -> tuple[tuple[str, int], ...]:
    """``[{"major": 8, "minor": 0, "rate": N}, ...]``: the devices by number, stored by their /dev path."""
    from sealpod.engine.cgroups import device_path

    items = block.get(key)
    if items is None:
        return ()
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidArgument(f"decode(): json: cannot unmarshal {type(items).__name__} into field {key}")
    out: dict[str, int] = {}
    for item in items:
        major, minor = _int(item, "major") or 0, _int(item, "minor") or 0
        out[device_path(major, minor)] = _int(item, value_key, unsigned=True) or 0
    return tuple(out.items())
