"""``inspect``: any object by name or ID — containers first, then images, as Podman looks them up."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, InvalidReference, NotFound, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_TYPES = ("all", "container", "image", "pod", "network", "volume")


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--format", help="format the output using a Go template or json")
    p.add_argument("-t", "--type", default="all", choices=_TYPES, help="the type of object to inspect")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("-s", "--size", action="store_true", help="display the total file size")


def _one(ctx: CliContext, name: str, kind: str, size: bool = False) -> dict[str, Any]:
    if kind in ("all", "container"):
        try:
            return ctx.engine.containers.inspect(name, size=size)
        except NotFound:
            if kind == "container":
                raise NotFound(f"no such container {name}") from None
    if kind in ("all", "image"):
        try:
            return ctx.engine.images.inspect(name)
        except InvalidReference:  # not an image's name (upper case: a pod's, a volume's): look further
            if kind == "image":
                raise
        except NotFound:
            if kind == "image":
                raise NotFound(f"inspecting object: {name}: image not known") from None
    if kind in ("all", "volume"):
        try:
            return ctx.engine.volumes.inspect(name)
        except NotFound:
            if kind == "volume":
                raise NotFound(f"no such volume {name}") from None
    if kind in ("all", "pod"):
        try:
            return ctx.engine.pods.inspect(name)
        except NotFound:
            if kind == "pod":
                raise NotFound(f"no such pod {name}") from None
    if kind in ("all", "network"):
        from sealpod.errors import NoSuchNetwork

        try:
            return _NetworkDoc(ctx.engine.networks.inspect(name))
        except NoSuchNetwork:
            if kind == "network":
                raise NotFound(f"network {name}: unable to find network with name or ID {name}: "
                               "network not found") from None
    raise NotFound(f'no such object: "{name}"')


class _NetworkDoc(dict):  # type: ignore[type-arg]
    """A network's inspect document: its templates see Go's field names (``.Driver``), not its JSON's."""


def inspect_each(names: list[str], fetch: Callable[[str], dict[str, Any]], fmt: str | None, *,
                 prefix: str = "", images: bool = False) -> int:
    """Inspect several objects: print what was found (``[]`` when nothing, unless templated),
    then fail with the errors of the rest, as Podman does.  ``images``: an inspect of images only,
    where Podman reads a template's ``.Config.Healthcheck`` as the image's ``.HealthCheck``."""
    from sealpod.cli.formatting import inspect_output

    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in names:
        try:
            docs.append(fetch(name))
        except NotFound as e:
            errors.append(e)
    if docs or not fmt:
        from sealpod.cli.formatting import is_json

        if fmt and docs and all("HostConfig" in d and "State" in d for d in docs):
            fmt = container_aliases(fmt)
        elif fmt and images:
            fmt = fmt.replace(".Config.Healthcheck", ".HealthCheck")
        view = docs if not fmt or is_json(fmt) else [_network_row(d) if isinstance(d, _NetworkDoc) else template_view(d)
                                                     for d in docs]
        sys.stdout.write(inspect_output(view, fmt))
    return fail_inspect(errors, prefix)


def fail_inspect(errors: list[SealpodError], prefix: str) -> int:
    """Podman's inspect reports the second and later misses first, each as ``error <prefix><miss>``,
    then fails with the first one (``Error: <prefix><miss>``)."""
    if prefix and errors:
        sys.stdout.flush()
        for err in errors[1:]:
            sys.stderr.write(f"error {prefix}{str(err).removeprefix(prefix)}\n")
        first = errors[0]
        raise first if str(first).startswith(prefix) else NotFound(f"{prefix}{first}")
    return fail_with(errors)


def no_latest(fmt: str | None) -> int:
    """``inspect --latest`` with no container: Podman's empty list, and its words for it."""
    from sealpod.errors import NoSuchContainer

    def fetch(_name: str) -> dict[str, Any]:
        raise NoSuchContainer("no containers to inspect: no such container")

    return inspect_each([""], fetch, fmt, prefix="inspecting object: ")


def _network_row(doc: dict[str, Any]) -> dict[str, Any]:
    from sealpod.cli.network import _row

    return _row(doc, False)


def container_aliases(fmt: str) -> str:
    """Podman's template words for containers that its JSON spells otherwise: ``.ImageID`` (the
    image), and a mount's ``.Src`` and ``.Dst``."""
    import re

    return re.sub(r"\.(ImageID|Src|Dst)\b", lambda m: {"ImageID": ".Image", "Src": ".Source",
                                                       "Dst": ".Destination"}[m.group(1)], fmt)


# Fields whose Go type is a map or a slice: JSON says null when they are nil, Go's templates print
# ``map[]`` / ``[]``.  By key name, which is unambiguous in Podman's inspect documents.
_NIL_MAPS = frozenset({"Labels", "Annotations", "Volumes", "ExposedPorts", "Tmpfs", "PortBindings", "DriverOpts",
                       "Options", "CgroupConf", "Ports", "Networks", "Sysctls"})
_NIL_SLICES = frozenset({"Cmd", "Links", "VolumesFrom", "Log", "Binds", "EffectiveCaps", "BoundingCaps",
                         "Aliases", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                         "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CreateCommand", "Env", "Shell", "RepoTags",
                         "RepoDigests", "Dependencies", "ExecIDs", "Mounts", "Ulimits", "Devices", "Secrets",
                         "Layers", "Containers", "Names", "CapAdd", "CapDrop", "Dns", "DnsOptions", "DnsSearch",
                         "ExtraHosts", "GroupAdd", "SecurityOpt", "Args"})

# The fields of Podman's inspect structs a template may name although our JSON may omit them when empty;
# any other name is an error, as Go's "can't evaluate field" (a typo is not silently ``<no value>``).
_CONTAINER_FIELDS = frozenset(
    "ID Id Created Path Args State Image ImageDigest ImageName Rootfs Pod ResolvConfPath HostnamePath HostsPath "
    "StaticDir OCIConfigPath OCIRuntime ConmonPidFile PidFile Name RestartCount Driver MountLabel ProcessLabel "
    "AppArmorProfile EffectiveCaps BoundingCaps ExecIDs GraphDriver SizeRw SizeRootFs Mounts Dependencies "
    "NetworkSettings Namespace IsInfra IsService Config HostConfig".split())
# Go field names of the structs a container's inspect nests (Podman 4.3.1's libpod/define): a name that is
# none of these is Go's "can't evaluate field" error, one the JSON left out prints <no value>
_NESTED_FIELDS = {
    "Config": ("*define.InspectContainerConfig", frozenset(
        "Hostname DomainName Domainname User AttachStdin AttachStdout AttachStderr Tty OpenStdin StdinOnce Env Cmd "
        "Image Volumes WorkingDir Entrypoint OnBuild Labels Annotations StopSignal Healthcheck "
        "HealthcheckOnFailureAction CreateCommand Timezone SystemdMode Umask Secrets Timeout StopTimeout Passwd "
        "ChrootDirs SdNotifyMode SdNotifySocket".split())),
    "State": ("*define.InspectContainerState", frozenset(
        "OciVersion Status Running Paused Restarting OOMKilled Dead Pid ConmonPid ExitCode Error StartedAt "
        "FinishedAt Health Healthcheck Checkpointed CgroupPath CheckpointedAt RestoredAt CheckpointLog "
        "CheckpointPath RestoreLog Restored".split())),
    "HostConfig": ("*define.InspectContainerHostConfig", frozenset(
        "Binds CgroupManager CgroupMode ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove "
        "VolumeDriver VolumesFrom CapAdd CapDrop Dns DnsOptions DnsSearch ExtraHosts GroupAdd IpcMode Cgroup "
        "Cgroups Links OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt Tmpfs UTSMode "
        "UsernsMode IDMappings ShmSize Runtime ConsoleSize Isolation CpuShares Memory NanoCpus CgroupParent "
        "BlkioWeight BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps "
        "BlkioDeviceWriteIOps CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus CpusetMems "
        "Devices DiskQuota KernelMemory MemoryReservation MemorySwap MemorySwappiness OomKillDisable Init "
        "PidsLimit Ulimits CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth CgroupConf".split())),
    "NetworkSettings": ("*define.InspectNetworkSettings", frozenset(
        "EndpointID Gateway IPAddress IPPrefixLen SecondaryIPAddresses IPv6Gateway GlobalIPv6Address "
        "GlobalIPv6PrefixLen SecondaryIPv6Addresses MacAddress AdditionalMacAddresses Bridge SandboxID "
        "HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen Ports SandboxKey Networks".split())),
}
_IMAGE_FIELDS = frozenset(
    "ID Id Digest RepoTags RepoDigests Parent Comment Created Config Version Author Architecture Os Size "
    "VirtualSize GraphDriver RootFS Labels Annotations ManifestType User History NamesHistory HealthCheck".split())

# Lists of Go structs, and Go structs (not pointers), that a template prints as ``{v1 v2}``.
_STRUCT_LISTS = frozenset({"Mounts", "Ulimits", "Log", "Devices"})
_STRUCTS = frozenset({"RestartPolicy", "LogConfig", "Health"})


# time.Time fields, which a Go template prints as ``2006-01-02 15:04:05.999999999 -0700 MST``, not as JSON's RFC 3339.
_TIMES = frozenset({("Created", ""), ("StartedAt", "State"), ("FinishedAt", "State")})


def go_time_text(text: str) -> str:
    """An RFC 3339 time as Go's ``time.Time.String()`` writes it (other text unchanged)."""
    import re

    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if m is None:
        return text
    day, clock, frac, zone = m.groups()
    frac = ("." + frac.rstrip("0")) if frac and frac.rstrip("0") else ""
    offset = "+0000 UTC" if zone == "Z" else f"{zone.replace(':', '')} {zone.replace(':', '')}"
    return f"{day} {clock}{frac} {offset}"


def health_struct(doc: dict[str, Any]) -> Any:
    """A healthcheck as Go's struct: ``{Test StartPeriod Interval Timeout Retries}``, durations printed
    as Go's (``30s``) yet nanoseconds in ``json``, which leaves zero fields out."""
    from sealpod.cli.gotemplate.values import GoDuration, NilSlice, OmitEmptyStruct

    return OmitEmptyStruct({"Test": doc.get("Test") or NilSlice(),
                            **{f: GoDuration(int(doc.get(f) or 0)) for f in ("StartPeriod", "Interval", "Timeout")},
                            "Retries": doc.get("Retries", 0)})


def template_view(doc: Any, key: str = "", parent: str = "") -> Any:
    """What a Go template sees of an inspect document: nil maps and slices as Go prints them, the
    fields Podman's JSON omits when empty at their zero values, and ``State.Healthcheck`` (Podman's
    older name) answering like ``State.Health``."""
    from sealpod.cli.gotemplate.values import GoStruct, NilMap, NilSlice, StrictFields

    if isinstance(doc, list):
        items = [template_view(x) for x in doc]
        if key == "Mounts":  # Go's struct has a Name (omitted from JSON when empty) after Type
            items = [{"Type": x.get("Type"), "Name": x.get("Name", ""), **x} if isinstance(x, dict) else x
                     for x in items]
        return [GoStruct(x) if key in _STRUCT_LISTS and isinstance(x, dict) else x for x in items]
    if not isinstance(doc, dict):
        if isinstance(doc, str) and (key, parent) in _TIMES:
            return go_time_text(doc)
        if doc is None and (key in _NIL_MAPS or (key == "Config" and parent == "LogConfig")):
            return NilMap()
        return NilSlice() if doc is None and key in _NIL_SLICES else doc
    out = {k: template_view(v, k, key) for k, v in doc.items()}
    if key in ("Ports", "PortBindings"):  # port -> [struct{HostIp, HostPort}]
        out = {k: [GoStruct(x) if isinstance(x, dict) else x for x in v] if isinstance(v, list) else v
               for k, v in out.items()}
    if key in _STRUCTS:
        return GoStruct(out)
    if key == "Healthcheck" and parent in ("Config", ""):  # Go's struct: {Test StartPeriod Interval Timeout Retries}
        return health_struct(out)
    if key == "" and isinstance(out.get("State"), dict) and "HostConfig" in out:  # a container
        state, cfg = out["State"], out.get("Config") or {}
        state.setdefault("ConmonPid", 0)
        state.setdefault("CgroupPath", "")
        if "Health" in state:
            state.setdefault("Healthcheck", state["Health"])
        if isinstance(out.get("NetworkSettings"), dict):
            out["NetworkSettings"].setdefault("Networks", NilMap())
        out.setdefault("OCIConfigPath", "")
        for name, zero in (("Timezone", ""), ("sdNotifySocket", ""), ("Healthcheck", None), ("Secrets", NilSlice())):
            cfg.setdefault(name, zero)
        if isinstance(out.get("HostConfig"), dict):
            out["HostConfig"].setdefault("Init", False)  # a bool Podman's JSON omits when false
        for name, (go_type, known) in _NESTED_FIELDS.items():
            if isinstance(out.get(name), dict):
                out[name] = StrictFields(out[name], go_type, known)
        return StrictFields(out, "interface {}", _CONTAINER_FIELDS)  # an element of Podman's []interface{}
    if key == "" and "RepoTags" in out and "RootFS" in out:  # an image
        out["HealthCheck"] = out.pop("Healthcheck", None)  # the Go field's name (its JSON key is Healthcheck)
        if isinstance(out.get("Config"), dict):  # the OCI image config's fields
            out["Config"] = StrictFields(out["Config"], "*v1.ImageConfig", frozenset(
                "User ExposedPorts Env Entrypoint Cmd Volumes WorkingDir Labels StopSignal ArgsEscaped".split()))
        return StrictFields(out, "interface {}", _IMAGE_FIELDS)
    return out


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    names = list(args.names)
    if args.latest and args.type == "pod":  # the latest pod, not the latest container
        from sealpod.errors import NoSuchPod

        pods = ctx.engine.pods.list_pods()
        if not pods:
            raise NoSuchPod("no such pod")
        names.append(pods[-1].id)
    elif args.latest:
        from sealpod.errors import NoSuchContainer

        try:
            names.append(ctx.engine.containers.latest().id)
        except NoSuchContainer:
            return no_latest(args.format)
    if not names:
        raise InvalidArgument("inspect requires at least 1 arg(s), only received 0")
    return inspect_each(names, lambda name: _one(ctx, name, args.type, args.size), args.format,
                        prefix="inspecting object: ", images=args.type == "image")


COMMANDS: dict[str, Command] = {"inspect": Command("Display the configuration of object denoted by ID", _setup, _run)}
