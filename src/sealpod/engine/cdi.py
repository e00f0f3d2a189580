"""Container Device Interface: ``--device vendor.com/class=name`` names a device that a CDI spec
file (JSON or YAML, in /etc/cdi or /var/run/cdi) describes as edits to the container: device
nodes, mounts, environment variables and hooks.  The spec's own ``containerEdits`` apply with
any of its devices, then the device's."""

from __future__ import annotations

import os
import re

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from sealpod.runtime.spec import Device, Mount

SPEC_DIRS = ("/etc/cdi", "/var/run/cdi")  # the later directory wins for a kind both define
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*=[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def is_cdi_device(flag: str) -> bool:
    """``vendor.com/class=name``, as opposed to a host path (``/dev/x[:/dev/y][:rwm]``)."""
    return not flag.startswith("/") and bool(_NAME.match(flag))


class CdiEdits:
    """What the named devices add to a container."""

    def __init__(self) -> None:
        self.env: list[str] = []
        self.devices: list[Device] = []
        self.mounts: list[Mount] = []
        self.hooks: dict[str, list[dict[str, Any]]] = {}


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    if path.endswith(".json"):
        import json

        doc = json.loads(text)
    else:
        import yaml

        doc = yaml.safe_load(text)
    return doc if isinstance(doc, dict) else None


def _specs(dirs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Spec documents by kind."""
    out: dict[str, dict[str, Any]] = {}
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".json", ".yaml", ".yml")):
                continue
            try:
                doc = _load(os.path.join(d, name))
            except ValueError:
                continue  # a broken spec names no device: it is reported as unresolvable
            if doc and isinstance(doc.get("kind"), str):
                out[doc["kind"]] = doc
    return out


def _device_node(node: dict[str, Any]) -> Device:
    from sealpod.runtime.spec import Device, device_from_host

    path = str(node["path"])
    host = str(node.get("hostPath") or path)
    perms = str(node.get("permissions") or "rwm")
    if "major" not in node:
        return device_from_host(host, path, perms)
    dev = Device(path, str(node.get("type") or "c"), int(node["major"]), int(node.get("minor") or 0),
                 file_mode=node.get("fileMode"), uid=node.get("uid"), gid=node.get("gid"), permissions=perms)
    return dev


def _apply(edits: CdiEdits, ce: dict[str, Any]) -> None:
    from sealpod.runtime.spec import Mount

    edits.env += [str(e) for e in ce.get("env") or ()]
    edits.devices += [_device_node(n) for n in ce.get("deviceNodes") or ()]
    for m in ce.get("mounts") or ():
        options = tuple(str(o) for o in m.get("options") or ("rbind", "rprivate"))
        kind = str(m.get("type") or "bind")
        edits.mounts.append(Mount(str(m["containerPath"]), kind, str(m["hostPath"]), options))
    for h in ce.get("hooks") or ():
        entry = {k: h[k] for k in ("path", "args", "env", "timeout") if k in h}
        edits.hooks.setdefault(str(h.get("hookName")), []).append(entry)


def resolve(names: Sequence[str], dirs: Sequence[str] = SPEC_DIRS) -> CdiEdits:
    """The edits of the named devices; one that no spec defines fails the start, in Podman's words."""
    specs = _specs(dirs)
    edits = CdiEdits()
    missing = []
    applied: set[str] = set()
    for name in names:
        kind, _, device = name.partition("=")
        spec = specs.get(kind)
        found = next((d for d in (spec or {}).get("devices") or () if d.get("name") == device), None)
        if spec is None or found is None:
            missing.append(name)
            continue
        if kind not in applied:
            applied.add(kind)
            _apply(edits, spec.get("containerEdits") or {})
        _apply(edits, found.get("containerEdits") or {})
    if missing:
        raise InvalidArgument(f"setting up CDI devices: unresolvable CDI devices {', '.join(missing)}")
    return edits
