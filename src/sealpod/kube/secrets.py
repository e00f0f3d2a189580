"""Kubernetes Secrets and Podman's secret store, as ``kube play`` joins them (Podman 4.3's way).

A ``kind: Secret`` document is stored as a secret of that name (replacing one of the name), so that
later files can use it.  A pod's ``secretKeyRef``/``secretRef``/``secret`` volume names a Secret of
its own file or one of the store: a store secret holds either such a document (JSON or YAML) or a
JSON mapping of keys to base64 values (``podman secret create`` of ``{"KEY": "dmFsdWU="}``).
Volume files hold a document's ``data`` values as written (still base64), as Podman 4.3 writes them.
"""

from __future__ import annotations

import base64
import binascii
import json

from sealpod.errors import KubeError, NoSuchSecret
from sealpod.kube.model import DataObject

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping

    from sealpod.engine import Engine
    from sealpod.kube.model import Manifest


def store(engine: Engine, secrets: Mapping[str, DataObject]) -> list[str]:
    """Each Secret of the file into the store, under its name; the IDs, in file order."""
    out = []
    for obj in secrets.values():
        data = json.dumps(obj.doc, sort_keys=True).encode()
        out.append(engine.secrets.create(obj.name, data, replace=True).id)
    return out


def _parse(name: str, raw: bytes) -> dict[str, object]:
    try:
        doc = json.loads(raw)
    except ValueError:
        import yaml

        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError:
            doc = None
    if not isinstance(doc, dict):
        raise KubeError(f"secret {name} is not valid JSON")
    return doc


def _b64(name: str, value: object) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeError(f"secret {name} is not valid JSON: a value is not base64") from None


def _strings(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def from_store(engine: Engine, name: str, *, for_volume: bool = False) -> DataObject | None:
    """The store's secret ``name`` as env values (decoded) or, ``for_volume``, as volume files."""
    try:
        raw = engine.secrets.data(engine.secrets.lookup(name))
    except NoSuchSecret:
        return None
    doc = _parse(name, raw)
    if doc.get("kind") == "Secret" or "data" in doc or "stringData" in doc:
        data = _strings(doc.get("data"))
        if for_volume:
            return DataObject("Secret", name, {k: v.encode() for k, v in data.items()})
        values = {k: _b64(name, v) for k, v in data.items()}
        values.update({k: v.encode() for k, v in _strings(doc.get("stringData")).items()})
        return DataObject("Secret", name, values)
    if for_volume:
        return DataObject("Secret", name, {})
    return DataObject("Secret", name, {str(k): _b64(name, v) for k, v in doc.items()})


def env_secrets(engine: Engine, manifest: Manifest) -> dict[str, DataObject]:
    """The file's Secrets, and those of the store that its containers' env names."""
    out = dict(manifest.secrets)
    for wl in manifest.workloads:
        for c in (*wl.pod.init_containers, *wl.pod.containers):
            names = [e.source_name for e in c.env if e.source == "secret"]
            names += [e.name for e in c.env_from if e.source == "secret"]
            for name in names:
                if name not in out:
                    obj = from_store(engine, name)
                    if obj is not None:
                        out[name] = obj
    return out
