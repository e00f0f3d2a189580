"""``--seccomp-policy=image``: the seccomp profile an image carries in its
``io.containers.seccomp.profile`` label, read and checked when the container is created (so a
missing or bogus one fails create, as in Podman) and kept in the container's record for its starts."""

from __future__ import annotations

from collections.abc import Mapping

from sealpod.errors import SpecRefused

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
        raise SpecRefused("no seccomp policy defined by image")
    profile = _decode_profile(text, "")
    rules = profile.get("syscalls") or []
    actions = [profile.get("defaultAction"), *(r.get("action") if isinstance(r, dict) else None for r in rules)]
    bad = next((a for a in actions if a not in _ACTIONS), "") if isinstance(rules, list) else "syscalls"
    if bad is None or bad:
        raise SpecRefused(f"loading seccomp profile failed: invalid action: {bad!r}")
    return {"seccomp_profile": profile}


#: Where containers-common installs the default profile: containers.conf naming one of these means
#: "the default" (--privileged drops it), any other path is a profile of the user's own (kept).
DEFAULT_PROFILE_PATHS = ("/usr/share/containers/seccomp.json", "/etc/containers/seccomp.json")
SECCOMP_POLICIES = ("default", "image")


def create_seccomp(policy: str, image_labels: Mapping[str, str], security_opts: tuple[str, ...],
                   conf_profile: str) -> dict[str, Any]:
    """What the record keeps of seccomp, decided at create as Podman generates its spec then: the
    image's profile (``--seccomp-policy=image``), or containers.conf's ``seccomp_profile`` when
    no ``--security-opt seccomp=`` names one; a profile that cannot be read fails create."""
    if policy not in ("", *SECCOMP_POLICIES):
        quoted = " ".join(f'"{p}"' for p in SECCOMP_POLICIES)
        raise SpecRefused(f'invalid seccomp policy "{policy}": valid policies are [{quoted}]')
    if policy == "image":
        return image_seccomp(policy, image_labels)
    given = [o.partition("=")[2] for o in security_opts if o.startswith(("seccomp=", "seccomp:"))]
    path = given[-1] if given else conf_profile
    if path and path not in ("unconfined", "default") and (given or path not in DEFAULT_PROFILE_PATHS):
        _check_profile(path)
    if given or not conf_profile or conf_profile in DEFAULT_PROFILE_PATHS:
        return {}
    return {"seccomp_conf": conf_profile}


def _check_profile(path: str) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SpecRefused(f"opening seccomp profile failed: open {path}: {(e.strerror or '').lower()}") from None
    _decode_profile(text, f" ({path})")


def _decode_profile(text: str, where: str) -> dict[str, Any]:
    """A profile's JSON object; ``where`` is Podman's `` (PATH)`` after "loading seccomp profile"."""
    import json

    try:
        profile = json.loads(text)
    except ValueError as e:
        raise SpecRefused(f"loading seccomp profile{where} failed: decoding seccomp profile failed: {e}") from None
    if not isinstance(profile, dict):
        raise SpecRefused(f"loading seccomp profile{where} failed: decoding seccomp profile failed: "
                          "not a JSON object")
    return profile


def seccomp_spec(privileged: bool, mode: str, caps: tuple[str, ...],
                 static: Mapping[str, Any]) -> dict[str, Any] | None:
    """The OCI ``linux.seccomp`` of one start: the image's profile, the one ``--security-opt``
    names, containers.conf's (kept in the record at create), or the default one; none for
    ``unconfined``, and none for ``--privileged`` unless the profile is not the default one."""
    from pathlib import Path

    from sealpod.runtime import seccomp

    if static.get("seccomp_profile") is not None:  # --seccomp-policy=image: the image's own profile, over any other
        return seccomp.to_oci(static["seccomp_profile"], caps)
    if mode in ("default", ""):
        mode = str(static.get("seccomp_conf") or "default")
    if mode == "unconfined" or (privileged and mode in ("default", "", *DEFAULT_PROFILE_PATHS)):
        return None
    path = Path(mode) if mode not in ("default", "") else seccomp.find_profile()
    if path is None:
        return None
    return seccomp.to_oci(seccomp.load_profile(path), caps)
