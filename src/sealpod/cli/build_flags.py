"""``build``'s registry, RUN-container, output and image-metadata flags, in Podman 4.3.1's words.

Split from :mod:`sealpod.cli.build`: what these flags mean is read here into the build's
RunSettings, BuildExtras and RegistryFlags; the flags Podman accepts without effect are listed
(and shown in ``--help``) but read by nobody.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sealpod.cli.args import uint
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.build.extras import BuildExtras
    from sealpod.engine.entities import RegistryFlags

#: Value flags Podman 4.3.1 accepts and shows, with no effect on a local build here.
_NOOP_VALUES = (
    ("--cache-from", "remote repository to utilise as potential cache source."),
    ("--cache-to", "remote repository to utilise as potential cache destination."),
    ("--cache-ttl", "only consider cache images under specified duration."),
    ("--cpp-flag", "set additional flag to pass to C preprocessor (cpp)"),
    ("--decryption-key", "key needed to decrypt the image"),
    ("--sign-by", "sign the image using a GPG key with the specified FINGERPRINT"),
    ("--ssh", "SSH agent socket or keys to expose to the build. (format: default|<id>[=<socket>|<key>[,<key>]])"),
    ("--userns-gid-map-group", "name of entries from /etc/subgid to use to set user namespace GID mapping"),
    ("--userns-uid-map-user", "name of entries from /etc/subuid to use to set user namespace UID mapping"),
)
#: Boolean flags Podman 4.3.1 accepts and shows, with no effect here.
_NOOP_BOOLS = (
    ("--all-platforms", "attempt to build for all base image platforms"),
    ("--compress", "this is a legacy option, which has no effect on the image"),
    ("--disable-content-trust", "this is a Docker specific option and is a NOOP"),
    ("--logsplit", "split logfile to different files for each platform"),
    ("--stdin", "pass stdin into containers"),
)
_NAMESPACES = (("--ipc", "ipc", "'private', path of IPC namespace to join, or 'host'"),
               ("--pid", "pid", "private, path of PID namespace to join, or 'host'"),
               ("--uts", "uts", "private, :path of UTS namespace to join, or 'host'"),
               ("--userns", "user", "'container', path of user namespace to join, or 'host'"),
               ("--cgroupns", "cgroup", "'private', or 'host'"))


def add_flags(p: argparse.ArgumentParser) -> None:
    """The flags of this module, Podman's help text each."""
    a = p.add_argument
    a("--annotation", action="append", default=[], help="set metadata for an image (default [])")
    a("--build-context", action="append", default=[],
      help="argument=value to supply additional build context to the builder")
    a("--cert-dir", default="", help="use certificates at the specified path to access the registry")
    a("--cgroup-parent", default="", help="optional parent cgroup for the container")
    a("--cpu-period", type=uint, default=None,
      help="limit the CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=int, default=None, help="limit the CPU CFS (Completely Fair Scheduler) quota")
    a("-c", "--cpu-shares", type=uint, default=None, help="CPU shares (relative weight)")
    a("--cpuset-cpus", default=None, help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", default=None,
      help="memory nodes (MEMs) in which to allow execution (0-3, 0,1). Only effective on NUMA systems.")
    a("--creds", default=None, help="use [username[:password]] for accessing the registry")
    a("-D", "--disable-compression", action="store_true", default=None,
      help="don't compress layers by default (default true)")
    a("--hooks-dir", action="append", default=argparse.SUPPRESS,
      help="set the OCI hooks directory path (may be set multiple times)")  # the global flag's dest: the engine's
    a("--runtime-flag", action="append", default=argparse.SUPPRESS,
      help="add global flags for the container runtime")  # the global flag's dest: RUN's runtime gets them
    a("--http-proxy", action="store_true", default=None,
      help="pass through HTTP Proxy environment variables (default true)")
    for flag, _, text in _NAMESPACES:
        a(flag, default="", help=text)
    a("--manifest", default="",
      help="add the image to the specified manifest list. Creates manifest list if it does not exist")
    a("-m", "--memory", default="", help="memory limit (format: <number>[<unit>], where unit = b, k, m or g)")
    a("--memory-swap", default="", help="swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    a("--omit-history", action="store_true", default=False, help="omit build history information from built image")
    a("--os-feature", action="append", default=[],
      help="set required OS feature for the target image in addition to values from the base image")
    a("--os-version", default="",
      help="set required OS version for the target image instead of the value from the base image")
    a("-o", "--output", default="", help="output destination (format: type=local,dest=path)")
    a("--retry", type=int, default=3,
      help="number of times to retry in case of failure when performing push/pull (default 3)")
    a("--retry-delay", default="2s", help='delay between retries in case of push/pull failures (default "2s")')
    a("--shm-size", default="65536k", help="size of '/dev/shm'. The format is <number><unit>. (default \"65536k\")")
    a("--skip-unused-stages", action="store_true", default=None,
      help="skips stages in multi-stage builds which do not affect the final target (default true)")
    a("--tls-verify", action="store_true", default=None,
      help="require HTTPS and verify certificates when accessing the registry (default true)")
    a("--userns-gid-map", action="append", default=[],
      help="containerGID:hostGID:length GID mapping to use in user namespace")
    a("--userns-uid-map", action="append", default=[],
      help="containerUID:hostUID:length UID mapping to use in user namespace")
    a("--variant", default="", help="override the variant of the specified image")
    for flag, text in _NOOP_VALUES:
        a(flag, action="append", default=[], help=text, dest=f"noop_{flag[2:]}")
    for flag, text in _NOOP_BOOLS:
        a(flag, action="store_true", help=text, dest=f"noop_{flag[2:]}")
    for flag in ("--load", "--push"):  # docker buildx's, accepted as Podman's docker alias does not
        a(flag, action="store_true", help=argparse.SUPPRESS, dest=f"noop_{flag[2:]}")


def registry_flags(args: argparse.Namespace) -> RegistryFlags:
    """--tls-verify, --cert-dir, --creds and --authfile, for the base images' pulls."""
    from sealpod.engine.entities import RegistryFlags

    return RegistryFlags(tls_verify=args.tls_verify, cert_dir=Path(args.cert_dir) if args.cert_dir else None,
                         creds=args.creds or None, auth_file=Path(args.authfile) if args.authfile else None)


def _size(text: str, error: str) -> int:
    """A size (``512m``, 1024-based), refused with ``error`` (Podman's words differ per flag)."""
    from sealpod.cli.container_flags import parse_size

    try:
        return parse_size(text, error)
    except InvalidArgument:
        raise InvalidArgument(f"{error}: invalid size: '{text}'") from None


def _namespace(value: str, kind: str) -> str:
    """'host', 'private' ('container' for the user namespace: see :func:`_id_maps`), or the path of one to join."""
    if kind == "user" and value in ("container", "private"):
        return ""
    if value in ("", "host", "private"):
        return value
    if not os.path.exists(value):
        raise InvalidArgument(f"checking {kind} namespace: stat {value}: no such file or directory")
    return f"ns:{value}"


def run_fields(args: argparse.Namespace) -> dict[str, Any]:
    """RunSettings fields: RUN containers' resources and namespaces, as Buildah sets them."""
    fields: dict[str, Any] = {
        "memory": _size(args.memory, "invalid value for memory") if args.memory else None,
        "memory_swap": (-1 if args.memory_swap == "-1" else _size(args.memory_swap, "invalid value for memory-swap"))
        if args.memory_swap else None,
        "cpu_period": args.cpu_period, "cpu_quota": args.cpu_quota, "cpu_shares": args.cpu_shares,
        "cpuset_cpus": args.cpuset_cpus, "cpuset_mems": args.cpuset_mems,
        "shm_size": _size(args.shm_size, "invalid --shm-size"),
        "cgroup_parent": args.cgroup_parent, "http_proxy": args.http_proxy is not False}
    for flag, kind, _ in _NAMESPACES:
        dest = flag[2:]
        fields[dest] = _namespace(getattr(args, dest), kind)
    fields.update(_id_maps(args))
    return fields


def _id_maps(args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    """--userns-uid-map/--userns-gid-map; ``--userns container`` alone is a user namespace of its own
    mapping every ID to itself, as Buildah makes it for root."""
    def maps(values: list[str]) -> tuple[str, ...]:
        out = []
        for value in values:
            for one in value.split(","):
                parts = one.split(":")
                if len(parts) != 3 or not all(p.isdigit() for p in parts):
                    raise InvalidArgument(f'mapping "{value}" is not in the form containerid:hostid:size[,...]')
                out.append(one)
        return tuple(out)

    uids, gids = maps(args.userns_uid_map), maps(args.userns_gid_map)
    if args.userns in ("container", "private") and not uids and not gids:
        uids = gids = ("0:0:4294967295",)
    return {"uid_maps": uids or gids, "gid_maps": gids or uids}


def extras(args: argparse.Namespace) -> BuildExtras:
    """--annotation, --build-context, --variant, --os-*, --omit-history, --skip-unused-stages, --retry*."""
    from sealpod.build.extras import BuildExtras, parse_retry_delay

    annotations = dict(item.partition("=")[::2] for item in args.annotation)  # a bare KEY: "" (Buildah)
    return BuildExtras(annotations=annotations, contexts=_contexts(args.build_context), variant=args.variant,
                       os_version=args.os_version, os_features=tuple(args.os_feature), omit_history=args.omit_history,
                       skip_unused_stages=args.skip_unused_stages is not False, retries=max(args.retry, 0),
                       retry_delay=parse_retry_delay(args.retry_delay), cache_ttl=_cache_ttl(args))


def _cache_ttl(args: argparse.Namespace) -> float | None:
    """``--cache-ttl DURATION`` (the last one given), a Go duration; 0 (Buildah 1.28) sets no limit."""
    from sealpod.build.instructions import _duration
    from sealpod.errors import BuildError

    values = getattr(args, "noop_cache-ttl")
    if not values:
        return None
    try:
        seconds = _duration(values[-1]) / 1e9 if values[-1] not in ("0", "") else 0.0
    except BuildError as e:
        raise InvalidArgument(f'unable to parse value provided "{values[-1]}" as --cache-ttl: {e.message}') from None
    return seconds or None


def check_keys(args: argparse.Namespace) -> None:
    """--decryption-key files and --ssh sources must exist, as Podman checks before building."""
    for key in getattr(args, "noop_decryption-key"):
        path = key.split(":", 1)[0]
        if not os.path.exists(path):
            raise InvalidArgument(f"unable to obtain decrypt config: invalid decryption keys: Unable to read file: "
                                  f"open {path}: no such file or directory")
    for ssh in args.noop_ssh:
        _, sep, sources = ssh.partition("=")
        if not sep and not os.environ.get("SSH_AUTH_SOCK"):
            raise InvalidArgument("creating build executor: $SSH_AUTH_SOCK not set")
        for source in sources.split(",") if sep else ():
            if not os.path.exists(source):
                raise InvalidArgument(f"creating build executor: stat {source}: no such file or directory")


def _contexts(values: list[str]) -> dict[str, str]:
    """``--build-context NAME=docker-image://REF`` (or container-image://, docker://), or NAME=PATH
    (relative to the current directory), as Buildah reads them."""
    from sealpod.build.extras import IMAGE_SCHEMES

    out: dict[str, str] = {}
    for value in values:
        name, sep, source = value.partition("=")
        if not sep:
            raise InvalidArgument(f'while parsing additional build context: ["{value}"], accepts value in the '
                                  "form of key=value")
        out[name] = source if source.startswith(IMAGE_SCHEMES) else os.path.abspath(source)
    return out
