"""Checks of ``run``/``create`` flags that Podman makes before it creates anything: a bad value
fails with exit 125 and leaves no container behind."""

from __future__ import annotations

from sealpod.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

_SECURITY_KEYS = frozenset({"apparmor", "label", "seccomp", "mask", "unmask", "proc-opts", "no-new-privileges",
                            "systempaths"})


def check_security_opts(opts: list[str] | tuple[str, ...]) -> None:
    """``--security-opt`` values: KEY=VALUE (or the old KEY:VALUE) of a known key, in Podman's words."""
    for opt in opts:
        if opt == "no-new-privileges":
            continue
        key, sep, value = opt.partition("=")
        if not sep:
            key, sep, value = opt.partition(":")
        if not sep:
            raise InvalidArgument(f'invalid --security-opt 1: "{opt}"')
        if key not in _SECURITY_KEYS:
            raise InvalidArgument(f'invalid --security-opt 2: "{opt}"')
        if key == "systempaths" and value != "unconfined":
            raise InvalidArgument(f'invalid systempaths option "{value}", only `unconfined` is supported')


def check_authfile(path: str | Path | None) -> None:
    """``run`` and ``pull`` refuse an --authfile that does not exist, as Podman does, before any pull."""
    import os

    if path and not os.path.exists(path):
        raise InvalidArgument(f"stat {path}: no such file or directory")


def check_sysctls(sysctls: list[str], network: list[str]) -> None:
    """A network sysctl cannot be set in the host's network namespace: Podman refuses it at create."""
    if "host" not in network:
        return
    for item in sysctls:
        if item.strip().startswith("net."):
            raise InvalidArgument(f"sysctl {item} can't be set since Network Namespace set to host: invalid argument")


def check_devices(devices: list[str]) -> None:
    """A host device that does not exist fails create, before a container is made (Podman's stat
    error); CDI names (vendor.com/class=name) are resolved when the container starts."""
    import os

    for flag in devices:
        host = flag.split(":", 1)[0]
        if host.startswith("/") and not os.path.exists(host):
            raise InvalidArgument(f"stat {host}: no such file or directory")


def check_userns(userns: str, uidmap: list[str], gidmap: list[str], subuidname: str, subgidname: str) -> None:
    """``--userns`` (any mode, ``private`` too) cannot be given with the flags that make the maps
    themselves: Podman refuses the pair at create, before the ranges are even looked up."""
    if userns and (uidmap or gidmap or subuidname or subgidname):
        raise InvalidArgument("--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive")


def check_pod_userns(userns: str, pod: str) -> None:
    """A member of an existing pod takes the pod's user namespace: Podman refuses ``--userns`` with
    ``--pod`` before anything is pulled (``--pod new:NAME`` makes the pod with it instead)."""
    if userns and pod and not pod.startswith("new:"):
        raise InvalidArgument("--userns and --pod cannot be set together")


_OWN_NETWORK_MODES = ("none", "host", "private", "slirp4netns", "pasta")


def check_bridge_addresses(network: list[str], ip: str, ip6: str, mac: str) -> None:
    """``--ip``, ``--ip6`` and ``--mac-address`` set an interface of a bridge network: with
    ``--network none/host/private/slirp4netns/pasta/container:/ns:`` Podman refuses each in turn
    (its value checked first), before any image is pulled."""
    import ipaddress

    from sealpod.engine.network_flags import check_mac

    values = [n for v in network if v for n in v.split(",") if n]
    own = len(values) == 1 and (values[0] in _OWN_NETWORK_MODES or values[0].startswith(
        ("container:", "ns:", "slirp4netns:", "pasta:")))
    for flag, address in (("--ip", ip), ("--ip6", ip6)):
        if not address:
            continue
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise InvalidArgument(f'"{address}" is not an ip address') from None
        if own:
            raise InvalidArgument(f"{flag} can only be set when the network mode is bridge: invalid argument")
    if mac and check_mac(mac) and own:
        raise InvalidArgument("--mac-address can only be set when the network mode is bridge: invalid argument")
