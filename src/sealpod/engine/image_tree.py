"""Which images descend from which, read from their configs, as Podman's image tree does.

The store keeps no parent pointers: an image is an ancestor of another when its history and
layers are a proper prefix of the other's.  History entries carry creation times, so two
unrelated builds never look related.  ``images`` hides untagged images that have children
(a build's intermediate images); ``image prune`` removes untagged images that have none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from sealpod.storage.records import ImageRecord

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def lineage(config: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """An image config's (history, diff IDs): what its descendants' configs start with."""
    history = [h for h in config.get("history") or [] if isinstance(h, dict)]
    diff_ids = [str(d) for d in (config.get("rootfs") or {}).get("diff_ids") or []]
    return history, diff_ids


def _signature(history: list[dict[str, Any]], diff_ids: list[str]) -> str:
    return hashlib.sha256(json.dumps([history, diff_ids], sort_keys=True).encode()).hexdigest()


def _prefix_signatures(history: list[dict[str, Any]], diff_ids: list[str]) -> Iterable[str]:
    """The signatures of every proper ancestor an image with this lineage can have."""
    layers = 0
    for n in range(len(history)):
        yield _signature(history[:n], diff_ids[:layers])
        if not history[n].get("empty_layer"):
            layers += 1


def _config(image: ImageRecord) -> dict[str, Any]:
    try:
        value = json.loads(image.config)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def with_children(images: Iterable[ImageRecord]) -> set[str]:
    """IDs of the images that some other image descends from."""
    images = list(images)
    own: dict[str, str] = {}
    ancestors: set[str] = set()
    for image in images:
        history, diff_ids = lineage(_config(image))
        if not history:
            continue
        own[image.id] = _signature(history, diff_ids)
        ancestors.update(_prefix_signatures(history, diff_ids))
    return {image_id for image_id, sig in own.items() if sig in ancestors}


def intermediate_ids(images: Iterable[ImageRecord]) -> set[str]:
    """Untagged images with children: what a build leaves behind for its cache."""
    images = list(images)
    parents = with_children(images)
    return {img.id for img in images if not img.names and img.id in parents}


def children_of(parent: dict[str, Any] | None,
                images: Iterable[ImageRecord]) -> list[tuple[ImageRecord, dict[str, Any]]]:
    """Images one history entry below ``parent``'s config (None: scratch), with their configs."""
    history, diff_ids = lineage(parent or {})
    out = []
    for image in images:
        config = _config(image)
        h, d = lineage(config)
        if len(h) == len(history) + 1 and h[:-1] == history and d[:len(diff_ids)] == diff_ids:
            out.append((image, config))
    return out


def parent_of(image: ImageRecord, images: Iterable[ImageRecord]) -> ImageRecord | None:
    """The nearest ancestor of ``image`` among ``images`` (the longest shared lineage), as Podman's parent."""
    history, diff_ids = lineage(_config(image))
    if not history:
        return None
    by_signature: dict[str, ImageRecord] = {}
    for other in images:
        h, d = lineage(_config(other))
        if h and other.id != image.id:
            by_signature.setdefault(_signature(h, d), other)
    for signature in reversed(list(_prefix_signatures(history, diff_ids))):
        if signature in by_signature:
            return by_signature[signature]
    return None


def parents(images: Iterable[ImageRecord]) -> dict[str, str]:
    """Every image's parent ID, as Podman's ``Parent``/``ParentId`` show it: the nearest ancestor that
    ends on the image's top layer (a config-only step) or on the layer below it; one further down
    (its intermediates removed) is no parent."""
    images = list(images)
    lineages = {image.id: lineage(_config(image)) for image in images}
    by_signature: dict[str, str] = {}
    for image in images:
        history, diff_ids = lineages[image.id]
        if history:
            by_signature.setdefault(_signature(history, diff_ids), image.id)
    out: dict[str, str] = {}
    for image in images:
        history, diff_ids = lineages[image.id]
        for signature in reversed(list(_prefix_signatures(history, diff_ids))):
            found = by_signature.get(signature)
            if found and found != image.id:
                if len(lineages[found][1]) >= len(diff_ids) - 1:
                    out[image.id] = found
                break
    return out
