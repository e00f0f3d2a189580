"""Kubernetes YAML commands: kube generate (generate kube), kube play (play kube), kube down."""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.args import key_values, parse_bool
from sealpod.cli.context import CliContext, Command
from sealpod.errors import InvalidArgument, KubeError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.kube.model import Manifest
    from sealpod.kube.play import DownReport


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    if path.startswith(("http://", "https://")):
        from sealpod.kube.yamlio import fetch

        return fetch(path)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from None


def _manifest(path: str, configmaps: list[str], data: bytes | None = None) -> Manifest:
    """The file at ``path`` (or its ``data``, read already) with the ConfigMaps of ``--configmap``."""
    from sealpod.kube.model import parse_manifest
    from sealpod.kube.yamlio import load_documents

    extra = [doc for item in configmaps for p in item.split(",") if p for doc in load_documents(_read(p))]
    return parse_manifest(load_documents(_read(path) if data is None else data), extra)


def _warn(lines: list[str]) -> None:
    """Once each, in order, in logrus's shape.  A field we ignore and a kind Podman does not know
    are said at the info level only: Podman skips them so ("Kube kind X not supported"), and
    scripts read play's output (its first line is ``Pod:``)."""
    import re

    from sealpod.utils.logrus import info, warning

    for line in dict.fromkeys(lines):
        kind = re.fullmatch(r'kind "(.*)" not supported, ignoring document \d+', line)
        if kind:
            info(f"Kube kind {kind.group(1)} not supported")
        elif line.startswith("field "):
            info(line)
        else:
            warning(line)


# --- generate ---------------------------------------------------------------------------------

def _setup_generate(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="{CONTAINER...|POD...|VOLUME...}")
    p.add_argument("-f", "--filename", help="write output to the specified path")
    p.add_argument("-s", "--service", action="store_true", help="generate YAML for a Kubernetes service object")
    p.add_argument("-t", "--type", default="pod", choices=("pod", "deployment"),
                   help="generate YAML for the given Kubernetes kind")
    p.add_argument("-r", "--replicas", type=int, default=1, help="replicas of a generated Deployment")


def _run_generate(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod import __version__
    from sealpod.kube.generate import generate

    if args.replicas != 1 and args.type != "deployment":
        raise InvalidArgument("--replicas can only be set when --type is deployment")
    text = generate(ctx.engine, args.names, service=args.service, kind=args.type, replicas=args.replicas,
                    version=__version__)
    if args.filename:
        import os

        if os.path.exists(args.filename):
            raise InvalidArgument(f'cannot write to "{args.filename}"; file exists')
        with open(args.filename, "w") as f:
            f.write(text)
        return 0
    sys.stdout.write(text + "\n")  # Podman prints the YAML with a line of its own after it
    return 0


# --- play ---------------------------------------------------------------------------------------

def _setup_play(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="KUBEFILE|-")
    p.add_argument("--start", nargs="?", const=True, default=True, type=parse_bool,
                   help="start the pod after creating it (default true)")
    p.add_argument("--replace", action="store_true", help="delete and recreate pods defined in the YAML file")
    p.add_argument("--down", action="store_true", help="stop and remove the pods defined in the YAML file")
    p.add_argument("--network", action="append", default=[], help="connect pods to network(s) or network mode")
    p.add_argument("--publish", action="append", default=[], help="publish a container's port to the host")
    p.add_argument("--configmap", action="append", default=[], help="YAML file(s) with Kubernetes ConfigMaps")
    p.add_argument("--log-driver", default="", help="logging driver for the containers")
    p.add_argument("--log-opt", action="append", default=[], help="logging driver options")
    p.add_argument("--annotation", action="append", default=[], help="add annotations to pods (key=value)")
    p.add_argument("--no-hosts", action="store_true", help="do not create /etc/hosts within the pod's containers")
    p.add_argument("--userns", default="", help="user namespace to use")
    p.add_argument("--ip", action="append", default=[], help="static IP addresses to assign to the pods")
    p.add_argument("--signature-policy", default=None, help=argparse.SUPPRESS)  # hidden, as in Podman
    p.add_argument("--mac-address", action="append", default=[], help="static MAC addresses to assign to the pods")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress output when pulling images")
    p.add_argument("--authfile", default=None, help="path of the authentication file")
    p.add_argument("--creds", default=None, help="credentials (USERNAME:PASSWORD) for the registry")
    p.add_argument("--cert-dir", default=None, help="directory of TLS certificates and keys")
    p.add_argument("--tls-verify", nargs="?", const=True, default=None, type=parse_bool,
                   help="require HTTPS and verify certificates when contacting registries")
    p.add_argument("--build", nargs="?", const=True, default=None, type=parse_bool,
                   help="build all images in a YAML (given Containerfiles)")
    p.add_argument("--context-dir", default=None,
                   help="path to top level of context directory (default: the current directory)")
    p.add_argument("--seccomp-profile-root", default=None, help="directory path for seccomp profiles")
    p.add_argument("--service-container", nargs="?", const=True, default=False, type=parse_bool,
                   help="starts a service container before all pods")


def _run_play(args: argparse.Namespace, ctx: CliContext) -> int:
    from pathlib import Path

    from sealpod.engine.entities import PullOptions, RegistryFlags
    from sealpod.kube.play import PlayOptions, play
    from sealpod.kube.translate import PlayFlags

    if args.context_dir and args.build is not True:
        raise InvalidArgument("--build must be specified when using --context-dir option")
    if args.authfile:
        import os

        if not os.path.exists(args.authfile):
            raise InvalidArgument(f"stat {args.authfile}: no such file or directory")
    data = _read(args.file)
    manifest = _manifest(args.file, args.configmap, data)
    if args.down:
        return _print_down(ctx, manifest, force=False)
    for value in key_values(args.annotation, "annotation").values():
        if len(value) > 63:
            raise InvalidArgument(f"annotation exceeds maximum size, 63, of kubernetes annotation: {value}")
    flags = PlayFlags(network=tuple(args.network), publish=tuple(args.publish), log_driver=args.log_driver,
                      log_opts=key_values(args.log_opt, "log option"),
                      annotations=key_values(args.annotation, "annotation"), no_hosts=args.no_hosts,
                      userns=args.userns, ips=tuple(args.ip), macs=tuple(args.mac_address),
                      **({"seccomp_root": args.seccomp_profile_root} if args.seccomp_profile_root else {}))
    pull = PullOptions(signature_policy=Path(args.signature_policy) if args.signature_policy else None,
                       registry=RegistryFlags(tls_verify=args.tls_verify, creds=args.creds,
                                              auth_file=Path(args.authfile) if args.authfile else None,
                                              cert_dir=Path(args.cert_dir) if args.cert_dir else None))

    def report(line: str) -> None:
        if not args.quiet:
            sys.stderr.write(line + "\n")

    from sealpod.cli.kube_build import build_images

    build_images(ctx.engine, manifest, build=args.build, registry=pull.registry, report=report,
                 context_dir=Path(args.context_dir) if args.context_dir else None)
    service = ""
    if args.service_container:
        from sealpod.engine.pod_service import service_name

        service = service_name(data)
    result = play(ctx.engine, manifest, PlayOptions(flags=flags, start=args.start, replace=args.replace,
                                                    pull=pull, report=report, service_name=service))
    _warn(result.warnings)
    replaced = result.replaced
    out = [_down_text(replaced, force=False)] if replaced is not None and replaced.removed else []
    if result.volumes:
        out.append("Volumes:\n" + "".join(f"{v}\n" for v in result.volumes))
    for pod in result.pods:
        block = f"Pod:\n{pod.id}\n"
        if pod.containers:
            block += ("Container:\n" if len(pod.containers) == 1 else "Containers:\n")
            block += "".join(f"{c}\n" for c in pod.containers)
        out.append(block + "\n")
    sys.stdout.write("".join(out))
    sys.stdout.flush()
    if result.errors:  # as Podman: each failure on its own line, then how many
        sys.stderr.write("".join(f"{err}\n" for err in result.errors))
        raise KubeError(f"failed to start {len(result.errors)} containers")
    return 0


# --- down ---------------------------------------------------------------------------------------

def _setup_down(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="KUBEFILE|-")
    p.add_argument("--force", action="store_true", help="also remove the volumes of the file's claims")


def _print_down(ctx: CliContext, manifest: Manifest, *, force: bool) -> int:
    from sealpod.kube.play import down

    result = down(ctx.engine, manifest, force=force, missing_ok=force)  # --force: whatever is left
    sys.stdout.write(_down_text(result, force=force))
    return 0


def _down_text(result: DownReport, *, force: bool) -> str:
    text = "Pods stopped:\n" + "".join(f"{p}\n" for p in result.stopped)
    text += "Pods removed:\n" + "".join(f"{p}\n" for p in result.removed)
    if force and result.volumes:
        text += "Volumes removed:\n" + "".join(f"{v}\n" for v in result.volumes)
    return text


def _run_down(args: argparse.Namespace, ctx: CliContext) -> int:
    manifest = _manifest(args.file, [])
    _warn([w for w in manifest.warnings if w.startswith("kind ")])
    return _print_down(ctx, manifest, force=args.force)


COMMANDS: dict[str, Command] = {
    "generate": Command("Generate Kubernetes YAML based on containers, pods or volumes", _setup_generate,
                        _run_generate),
    "play": Command("Play a pod or volume based on Kubernetes YAML", _setup_play, _run_play),
    "down": Command("Remove pods based on Kubernetes YAML", _setup_down, _run_down),
}
