"""``--filter`` for images, as Podman parses and applies it."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Sequence

from sealpod.errors import InvalidArgument
from sealpod.image.reference import parse_reference
from sealpod.storage.records import ImageRecord

ImagePredicate = Callable[[ImageRecord], bool]
Resolver = Callable[[str], ImageRecord]

_KEYS = ("after", "before", "containers", "dangling", "digest", "id", "intermediate", "label", "label!", "manifest",
         "readonly", "reference", "since", "until")


def _labels(image: ImageRecord) -> dict[str, str]:
    try:
        labels = (json.loads(image.config).get("config") or {}).get("Labels") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _bool(key: str, value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise InvalidArgument(f'invalid filter "{key}={value}": must be true or false')


def _reference_matches(image: ImageRecord, pattern: str) -> bool:
    for name in image.names:
        ref = parse_reference(name)
        candidates = {name, ref.name, ref.familiar(), ref.familiar().rsplit(":", 1)[0],
                      ref.repository, f"{ref.repository}:{ref.tag}", ref.name.rsplit("/", 1)[-1],
                      f"{ref.name.rsplit('/', 1)[-1]}:{ref.tag}"}
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            return True
    return False


def _created_at(img: ImageRecord) -> float:
    """The config's ``created`` to the microsecond (images built in one second still sort); the time it
    was stored for an image without one."""
    from datetime import datetime

    text = (img.created or "").replace("Z", "+00:00")
    if "." in text:  # Go writes nanoseconds; Python reads up to microseconds
        head, _, tail = text.partition(".")
        frac = "".join(ch for ch in tail if ch.isdigit())
        text = f"{head}.{frac[:6]}{tail[len(frac):]}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return img.stored


def _one(key: str, value: str, resolve: Resolver) -> ImagePredicate:
    if key == "dangling":
        want = _bool(key, value)
        return lambda img: (not img.names) == want
    if key == "label":
        k, has_value, v = value.partition("=")
        return lambda img: k in _labels(img) and (not has_value or _labels(img)[k] == v)
    if key == "label!":  # no such label (with that value, when one is given)
        k, has_value, v = value.partition("=")
        return lambda img: not (k in _labels(img) and (not has_value or _labels(img)[k] == v))
    if key == "reference":
        return lambda img: _reference_matches(img, value)
    if key in ("before", "since", "after"):
        pivot_img = resolve(value)
        pivot = _created_at(pivot_img)  # the image's creation time, not when it was pulled, as Podman
        if key == "before":
            return lambda img: _created_at(img) < pivot and img.id != pivot_img.id
        return lambda img: _created_at(img) > pivot and img.id != pivot_img.id
    if key == "id":
        return lambda img: img.id.startswith(value.removeprefix("sha256:"))
    if key == "digest":
        return lambda img: value in img.digests
    if key == "readonly":
        want = _bool(key, value)
        return lambda img: want is False
    if key == "intermediate":
        want = _bool(key, value)
        return lambda img: want is False
    if key == "manifest":
        want = _bool(key, value)
        return lambda img: want is False
    if key == "until":  # created before: a Go duration ago, Unix seconds or an RFC 3339 time
        import time

        from sealpod.engine.images import _epoch
        from sealpod.engine.volumes import parse_until

        try:
            limit = parse_until(value, time.time())
        except InvalidArgument:
            raise InvalidArgument(f'failed to parse value as time or duration: "{value}"') from None
        return lambda img: _epoch(img.created) < limit
    raise InvalidArgument(f'unsupported image filter "{key}"')


def _containers_filter(want: bool, containers: Callable[[ImageRecord], int] | None) -> ImagePredicate:
    count = containers or (lambda img: 0)
    return lambda img: (count(img) > 0) == want


def build_filter(filters: Sequence[str], resolve: Resolver,
                 containers: Callable[[ImageRecord], int] | None = None) -> ImagePredicate:
    """AND across keys, OR among values of one key (``label`` is AND), as Podman does."""
    by_key: dict[str, list[ImagePredicate]] = {}
    for spec in filters:
        key, sep, value = spec.partition("=")
        if not sep:
            raise InvalidArgument(f'invalid image filter "{spec}": must be in the format "filter=value"')
        if key == "containers":
            by_key.setdefault(key, []).append(_containers_filter(_bool(key, value), containers))
            continue
        if key not in _KEYS:
            raise InvalidArgument(f'unsupported image filter "{key}"')
        by_key.setdefault(key, []).append(_one(key, value, resolve))

    def matches(image: ImageRecord) -> bool:
        for key, preds in by_key.items():
            combine = all if key in ("label", "label!") else any
            if not combine(p(image) for p in preds):
                return False
        return True

    return matches
