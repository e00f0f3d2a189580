"""The cgroup flags of run/create: --cgroup-parent, --cgroupns and the blkio limits.

Declared apart from container_flags so that the table of those flags stays in one place; parsing
checks the ``PATH:VALUE`` shapes now, so a typo fails before any pull.
"""

from __future__ import annotations

import argparse

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RATES = (("device_read_bps", "--device-read-bps", True), ("device_write_bps", "--device-write-bps", True),
          ("device_read_iops", "--device-read-iops", False), ("device_write_iops", "--device-write-iops", False))


def add_cgroup_flags(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("--cgroup-parent", default="", help="optional parent cgroup for the container")
    a("--cgroupns", default="", help="cgroup namespace to use (host, private, ns:PATH, container:ID)")
    a("--blkio-weight", default="", help="block IO weight (relative weight) accepts a weight value between 10 and 1000")
    a("--blkio-weight-device", action="append", default=[],
      help="block IO weight (relative device weight, format: DEVICE_NAME:WEIGHT)")
    a("--device-read-bps", action="append", default=[], help="limit read rate (bytes per second) from a device")
    a("--device-write-bps", action="append", default=[], help="limit write rate (bytes per second) to a device")
    a("--device-read-iops", action="append", default=[], help="limit read rate (IO per second) from a device")
    a("--device-write-iops", action="append", default=[], help="limit write rate (IO per second) to a device")


def _weight(text: str) -> int:
    if not text.isdigit() or not 10 <= int(text) <= 1000:
        raise InvalidArgument(f'invalid argument "{text}" for "--blkio-weight" flag: must be between 10 and 1000')
    return int(text)


_BPS_HINT = ("<device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, "
             "mb, or gb")
_IOPS_HINT = "<device-path>:<number>. Number must be a positive integer"


def _device_pair(item: str) -> tuple[str, str]:
    """``/dev/sda:VALUE`` split, with Podman's complaints about its shape."""
    path, colon, value = item.partition(":")  # at the first colon: "/dev/sda:1:2" has a bad value, as in Podman
    if not colon:
        raise InvalidArgument(f"bad format: {item}")
    if not path.startswith("/dev/"):
        raise InvalidArgument(f"bad format for device path: {item}")
    return path, value


def _pairs(items: list[str], flag: str, size: bool) -> tuple[tuple[str, int], ...]:
    """``/dev/sda:1mb`` -> (path, bytes); ``/dev/sda:100`` -> (path, count)."""
    from sealpod.cli.container_flags import parse_size

    out: dict[str, int] = {}  # one limit a device: the last given wins
    for item in items:
        path, value = _device_pair(item)
        bad = InvalidArgument(f"invalid rate for device: {item}. The correct format is "
                              f"{_BPS_HINT if size else _IOPS_HINT}")
        if size:
            try:
                out[path] = parse_size(value, flag)
            except InvalidArgument:
                raise bad from None
        elif value.isdigit():
            out[path] = int(value)
        else:
            raise bad
    return tuple(out.items())


def _weights(items: list[str]) -> tuple[tuple[str, int], ...]:
    """``--blkio-weight-device /dev/sda:WEIGHT``: 0 (none) or 10 to 1000, as Podman takes it."""
    out: dict[str, int] = {}  # one weight a device: the last given wins
    for item in items:
        path, value = _device_pair(item)
        if not value.isdigit() or 0 < int(value) < 10 or int(value) > 1000:
            raise InvalidArgument(f"invalid weight for device: {item}")
        out[path] = int(value)
    return tuple(out.items())


def device_limit_fields(args: argparse.Namespace) -> dict[str, tuple[tuple[str, int], ...]]:
    """The per-device blkio limits of ``update`` and ``container clone`` (fields of both the container
    config and the update options), checked in Podman's order: weights, then the throttles."""
    out = {"blkio_weight_device": _weights(getattr(args, "blkio_weight_device", []))}
    for dest, flag, size in _RATES:
        out[dest] = _pairs(getattr(args, dest, []), flag, size)
    return out


def update_weight(text: str | None) -> int | None:
    """``update``/``clone --blkio-weight``: any 16-bit number passes here (the kernel judges the range),
    refused in Podman's words otherwise."""
    if text is None:
        return None
    if not text.isdigit():
        raise InvalidArgument(f'invalid value for blkio-weight: strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 0xFFFF:
        raise InvalidArgument(f'invalid value for blkio-weight: strconv.ParseUint: parsing "{text}": '
                              "value out of range")
    return int(text)


def cgroup_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ContainerConfig fields of these flags (create, run and clone share them)."""
    weights = _weights(getattr(args, "blkio_weight_device", []))
    out: dict[str, Any] = {
        "cgroup_parent": getattr(args, "cgroup_parent", ""), "cgroupns": getattr(args, "cgroupns", ""),
        "blkio_weight": _weight(args.blkio_weight) if getattr(args, "blkio_weight", "") else None,
        "blkio_weight_device": weights, "cgroup_manager": getattr(args, "cgroup_manager", None) or ""}
    for dest, flag, size in _RATES:
        out[dest] = _pairs(getattr(args, dest, []), flag, size)
    if out["blkio_weight"] is not None:
        from sealpod.engine.cgroups import WEIGHT_DISCARDED, blkio_weight_supported

        if not blkio_weight_supported():  # Podman's warning; the container still starts
            import sys

            sys.stderr.write(WEIGHT_DISCARDED + "\n")
    if out["cgroupns"] and out["cgroupns"] not in ("host", "private", "pod") and \
            not out["cgroupns"].startswith(("ns:", "container:")):
        raise InvalidArgument(f'unrecognized namespace mode {out["cgroupns"]} passed')
    return out
