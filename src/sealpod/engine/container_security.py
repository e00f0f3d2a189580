"""``--seccomp-policy=image``: the seccomp profile an image carries in its
``io.containers.seccomp.profile`` label, read and checked when the container is created (so a
missing or bogus one fails create, as in Podman) and kept in the container's record for its starts."""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SECCOMP_LABEL = "io.containers.seccomp.profile"
_ACTIONS = frozenset({"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
                      "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"})


def image_seccomp(policy: str, image_labels: Mapping[str, str]) -> dict[str, Any]:
    """The record's ``seccomp_profile`` (the image's profile, as JSON) under the image policy; else nothing."""
    if policy != "image":
        return {}
    text = image_labels.get(SECCOMP_LABEL)
    if not text:
        raise InvalidArgument("no seccomp policy defined by image")
    import json

    try:
        profile = json.loads(text)
    except ValueError as e:
        raise InvalidArgument(f"loading seccomp profile failed: decoding seccomp profile failed: {e}") from None
    if not isinstance(profile, dict):
        raise InvalidArgument("loading seccomp profile failed: decoding seccomp profile failed: not a JSON object")
    rules = profile.get("syscalls") or []
    actions = [profile.get("defaultAction"), *(r.get("action") if isinstance(r, dict) else None for r in rules)]
    bad = next((a for a in actions if a not in _ACTIONS), "") if isinstance(rules, list) else "syscalls"
    if bad is None or bad:
        raise InvalidArgument(f"loading seccomp profile failed: invalid action: {bad!r}")
    return {"seccomp_profile": profile}
