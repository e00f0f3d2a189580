"""The capabilities a container's process gets: containers.conf's defaults, ``--cap-add`` and
``--cap-drop``, and the ``io.containers.capabilities`` label (the container's or its image's),
which narrows them to the few the image says it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.containers import ContainerService

CAPS_LABEL = "io.containers.capabilities"


def _cap_name(text: str) -> str:
    up = text.strip().upper()
    return up if up.startswith("CAP_") or up == "ALL" else f"CAP_{up}"


def planned_capabilities(svc: ContainerService, cfg: ContainerConfig,
                         labels: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The bounding (and root's effective) set; ``labels`` are the container's merged with its image's."""
    from sealpod.runtime.spec import host_capabilities

    if cfg.privileged:
        return host_capabilities()
    caps = list(dict.fromkeys(_cap_name(c) for c in svc.engine.config.containers.containers.default_capabilities))
    drops = {_cap_name(c) for c in cfg.cap_drop}
    if "ALL" in drops:
        caps = []
    caps = [c for c in caps if c not in drops]
    for add in cfg.cap_add:
        name = _cap_name(add)
        if name == "ALL":  # every capability but those dropped by name, as Podman
            caps = list(dict.fromkeys([*caps, *(c for c in host_capabilities() if c not in drops)]))
        elif name not in caps:
            caps.append(name)
    wanted = (labels if labels is not None else cfg.labels).get(CAPS_LABEL)
    return tuple(required_capabilities(wanted, caps) if wanted else caps)


def required_capabilities(label: str, allowed: Sequence[str]) -> list[str]:
    """Only the label's capabilities (sorted, as Podman lists them) when all of them are allowed
    anyway; one that is not leaves the set as it was, since a label must never grant more."""
    required = sorted({_cap_name(c) for c in label.split(",") if c.strip()})
    if any(c == "ALL" or not c[4:].replace("_", "").isalnum() for c in required):
        raise InvalidArgument(f'capabilities requested by user or image are not valid: "{label}"')
    if not required or any(c not in allowed for c in required):
        return list(allowed)
    return required


# What Podman's inspect measures HostConfig.CapAdd/CapDrop against: the OCI runtime tools' default set,
# not containers.conf's (so a plain container shows AUDIT_WRITE, MKNOD and NET_RAW as dropped).
_INSPECT_BASELINE = ("CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                     "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
                     "CAP_SETUID", "CAP_SYS_CHROOT")


def inspect_cap_changes(bounding: Sequence[str], privileged: bool) -> tuple[list[str], list[str]]:
    """HostConfig's (CapAdd, CapDrop) as Podman derives them from the bounding set the process got:
    added is what exceeds the baseline, dropped what the baseline has and the process lacks.  A
    privileged container's baseline is every capability there is, so one this host cannot grant
    shows as dropped."""
    from sealpod.runtime.spec import ALL_CAPABILITIES

    baseline = set(ALL_CAPABILITIES if privileged else _INSPECT_BASELINE)
    have = set(bounding)
    return sorted(have - baseline), sorted(baseline - have)


def is_root_user(user: str) -> bool:
    """Whether a --user/USER value runs the process as uid 0 (no user: the image's default, root)."""
    name = user.partition(":")[0].strip()
    return name in ("", "0", "root")


def kept_by_user(bounding: Sequence[str], cap_add: Sequence[str]) -> list[str]:
    """A non-root process's effective set: only what ``--cap-add`` named (``all``: everything)."""
    added = {_cap_name(c) for c in cap_add}
    return [c for c in bounding if c in added or "ALL" in added]
