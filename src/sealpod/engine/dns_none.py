"""``--dns none``: the container keeps the image's own /etc/resolv.conf, as Podman 4.3's
UseImageResolvConf does; sealpod records it as the single server ``none``.

A container without a network (``--network none``) gets no resolv.conf of its own either: Podman
bind-mounts one only where the network is enabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from sealpod.engine.container_config import ContainerConfig
from sealpod.errors import InvalidArgument

NONE = "none"


def uses_image_resolv_conf(cfg: ContainerConfig) -> bool:
    """Whether the container's /etc/resolv.conf is left as the image has it."""
    return NONE in cfg.dns_servers


def check_image_resolv_conf(cfg: ContainerConfig) -> None:
    """Search domains or options would have no file to go in: Podman's words for it."""
    for flag, values in (("DNSServer", [s for s in cfg.dns_servers if s != NONE]), ("DNSSearch", cfg.dns_search),
                         ("DNSOption", cfg.dns_options)):
        if values:
            raise InvalidArgument(f"invalid config provided: UseImageResolvConf and {flag} are mutually "
                                  "exclusive options")


def user_servers(servers: Sequence[str]) -> tuple[str, ...]:
    """The DNS servers a user named (``none`` names no server)."""
    return tuple(s for s in servers if s != NONE)
