"""``build`` (``image build``, ``buildx build``): a Containerfile into an image, Podman's flags and output."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sealpod.cli.context import CliContext, Command
from sealpod.errors import BuildError, InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import IO, Any

#: What ``--isolation`` may say (Buildah's words; RUN runs the same way under each here).
_ISOLATIONS = ("oci", "chroot", "rootless", "default")


def _setup(p: argparse.ArgumentParser) -> None:
    p.add_argument("context", nargs="?", default=None, metavar="CONTEXT",
                   help="directory, tar file or - (a Containerfile or a tar on standard input)")
    p.add_argument("-t", "--tag", action="append", default=[], help="name and optionally a tag for the image")
    p.add_argument("-f", "--file", action="append", default=[],
                   help="pathname of a Containerfile (- for stdin); several are read one after the other")
    p.add_argument("--build-arg", action="append", default=[], help="argument=value to supply to the builder")
    p.add_argument("--target", default="", help="set the target build stage to build")
    p.add_argument("--no-cache", action="store_true", help="do not use existing cached images")
    p.add_argument("-q", "--quiet", action="store_true", help="refrain from announcing build instructions")
    p.add_argument("--pull", nargs="?", const="always", default="missing",
                   help="pull image policy (always, missing, never, newer)")
    p.add_argument("--pull-always", action="store_const", const="always", dest="pull", help=argparse.SUPPRESS)
    p.add_argument("--pull-never", action="store_const", const="never", dest="pull", help=argparse.SUPPRESS)
    p.add_argument("--label", action="append", default=[], help="set metadata for an image (key=value)")
    p.add_argument("--env", action="append", default=[], help="set environment variable for the image")
    p.add_argument("--unsetenv", action="append", default=[], help="unset environment variable from final image")
    p.add_argument("--from", dest="from_image", default="",
                   help="image name used to replace the value in the first FROM instruction")
    p.add_argument("--iidfile", default="", help="write the image ID to the file")
    p.add_argument("--ignorefile", default="", help="path to an alternate .containerignore file")
    p.add_argument("--logfile", default="", help="log to file instead of stdout/stderr")
    p.add_argument("--authfile", default="", help="path of the authentication file")
    p.add_argument("--jobs", type=int, default=1, help="how many stages to run in parallel")
    p.add_argument("--network", "--net", default="", help="network mode for RUN instructions")
    p.add_argument("--format", default=None, help="format of the built image's manifest and metadata")
    p.add_argument("--rm", action="store_true", default=True, help="remove intermediate containers")
    p.add_argument("--force-rm", action="store_true", help="always remove them")
    p.add_argument("--layers", action="store_true", default=None,
                   help="cache intermediate layers (default: $BUILDAH_LAYERS, else true)")
    p.add_argument("--platform", default="", help="set the OS/ARCH of the built image (the host's only)")
    p.add_argument("--no-hosts", action="store_true", help="do not create /etc/hosts for RUN instructions")
    p.add_argument("-v", "--volume", action="append", default=[], help="bind mount a volume into RUN containers")
    for flag in ("--ulimit", "--cap-add", "--cap-drop", "--security-opt", "--dns", "--dns-search",
                 "--dns-option", "--add-host", "--device"):
        p.add_argument(flag, action="append", default=[], help=f"{flag[2:]} for RUN instructions")
    p.add_argument("--isolation", default="", help="type of process isolation for RUN (oci, chroot, rootless)")
    p.add_argument("--os", dest="os_name", default="", help="set the OS of the image instead of the base image's")
    p.add_argument("--arch", default="", help="set the architecture of the image instead of the base image's")
    p.add_argument("--timestamp", type=int, default=None, help="set the created time to these epoch seconds")
    p.add_argument("--identity-label", nargs="?", const="true", default="true", help="add the identity label")
    p.add_argument("--log-rusage", action="store_true", help="log resource usage at each build step")
    p.add_argument("--secret", action="append", default=[], help="secret file to expose to the build")
    p.add_argument("--squash", action="store_true", help="squash newly built layers into a single new layer")
    p.add_argument("--squash-all", action="store_true", help="squash all layers into a single layer")
    p.add_argument("--signature-policy", type=Path, default=None, help=argparse.SUPPRESS)  # hidden, as in Podman
    from sealpod.cli.build_flags import add_flags

    add_flags(p)


def _bool(value: str, flag: str) -> bool:
    from sealpod.cli.args import flag_bool

    return flag_bool(value, flag)


def _pairs(values: list[str], what: str, from_env: bool = False) -> dict[str, str]:
    """KEY=VALUE flags; with ``from_env`` a bare KEY takes the caller's variable (and is left out without one)."""
    out = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not key:
            raise InvalidArgument(f"invalid {what} {v!r}: expected KEY=VALUE")
        if sep or not from_env:
            out[key] = value
        elif key in os.environ:
            out[key] = os.environ[key]
    return out


def _options(args: argparse.Namespace) -> Any:
    from sealpod.build.builder import BuildOptions, RunSettings
    from sealpod.cli.build_flags import extras, registry_flags, run_fields
    from sealpod.cli.container_flags import _volume

    layers = args.layers if args.layers is not None else _bool(os.environ.get("BUILDAH_LAYERS", "true"),
                                                                 "BUILDAH_LAYERS")
    if args.layers is None and (args.squash or args.squash_all):
        layers = False  # as Podman: a squashed build keeps no intermediate images unless --layers asks
    fmt = args.format if args.format is not None else os.environ.get("BUILDAH_FORMAT", "oci")
    run = RunSettings(ulimits=tuple(args.ulimit), security_opts=tuple(args.security_opt),
                      cap_add=tuple(args.cap_add), cap_drop=tuple(args.cap_drop),
                      mounts=tuple(_volume(v) for v in args.volume), dns_servers=tuple(args.dns),
                      dns_search=tuple(args.dns_search), dns_options=tuple(args.dns_option),
                      add_hosts=tuple(args.add_host), no_hosts=args.no_hosts, devices=tuple(args.device),
                      **run_fields(args))
    return BuildOptions(tags=tuple(args.tag), build_args=_pairs(args.build_arg, "--build-arg", from_env=True),
                        target=args.target, pull=args.pull, labels=_pairs(args.label, "--label"),
                        network=args.network, format=fmt.lower(), quiet=args.quiet, layers=layers,
                        no_cache=args.no_cache, env=tuple(f"{k}={v}" for k, v in
                                                          _pairs(args.env, "--env", from_env=True).items()),
                        unsetenv=tuple(args.unsetenv), from_image=args.from_image, run=run,
                        registry=registry_flags(args), extras=extras(args),
                        signature_policy=args.signature_policy,
                        identity_label=_bool(args.identity_label, "--identity-label"),
                        created=_timestamp(args.timestamp), os_name=args.os_name, arch=args.arch,
                        secrets=_secrets(args.secret), log_rusage=args.log_rusage,
                        squash="all" if args.squash_all else "new" if args.squash else "")


def _timestamp(seconds: int | None) -> str:
    """``--timestamp SECONDS`` as the RFC 3339 time the image config records."""
    import datetime

    if seconds is None:
        return ""
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _secrets(values: list[str]) -> dict[str, str]:
    """``--secret id=ID,src=PATH`` (``type=file``, the only kind): ID -> the host file RUN may mount."""
    out: dict[str, str] = {}
    for value in values:
        fields = dict(f.partition("=")[::2] for f in value.split(","))
        sid, src = fields.get("id", ""), fields.get("src") or fields.get("source") or ""
        if fields.get("type", "file") != "file" or not sid:
            raise InvalidArgument(f'invalid secret "{value}": expected id=ID,src=PATH')
        src = src or sid
        if not os.path.isfile(src):
            raise InvalidArgument(f"stat {src}: no such file or directory")
        out[sid] = os.path.abspath(src)
    return out


def _check(args: argparse.Namespace) -> None:
    from sealpod.build.builder import host_arch

    if args.platform and args.platform.split("/")[:2] != ["linux", host_arch()]:
        raise InvalidArgument(f'--platform "{args.platform}" is not supported: only linux/{host_arch()} builds')
    if args.pull not in ("always", "missing", "never", "newer", "true", "false"):
        raise InvalidArgument(f'unsupported pull policy "{args.pull}"')
    if "-" in args.file and args.context == "-":
        raise InvalidArgument("the Containerfile and the context cannot both come from standard input")
    if args.isolation and args.isolation not in _ISOLATIONS:
        raise InvalidArgument(f'unrecognized isolation type "{args.isolation}"')
    if args.jobs < 0:
        raise InvalidArgument(f"--jobs: invalid value {args.jobs}: must be zero or more")
    if args.authfile and not os.path.exists(args.authfile):
        raise InvalidArgument(f"checking authfile: stat {args.authfile}: no such file or directory")
    from sealpod.cli.build_flags import check_keys

    check_keys(args)


def _open_context(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The context, and the Containerfile's text when standard input gave it (``build -``)."""
    from sealpod.build.context import BuildContext

    if args.context == "-":
        return BuildContext.from_stdin(sys.stdin.buffer.read())
    source = args.context
    if source is None:  # no context: the first Containerfile's directory (Podman), else here
        named = next((f for f in args.file if f != "-" and "://" not in f), None)
        source = os.path.dirname(os.path.abspath(named)) if named and os.path.isfile(named) else "."
    return BuildContext.open(source), None


def _containerfile(args: argparse.Namespace, context: Any, stdin_text: str | None) -> tuple[str, str]:
    """The Containerfile's (path, text): ``-f`` files (read one after the other, each relative to the
    current directory, else to the context), else Containerfile or Dockerfile in the context."""
    from sealpod.build.builder import find_containerfile

    if stdin_text is not None:
        return "-", stdin_text
    if not args.file:
        return find_containerfile(context, None, in_context=False)
    texts: list[str] = []
    first = ""
    for name in args.file:
        if name == "-":
            path, text = "-", sys.stdin.read()
        else:
            path = name if os.path.isfile(name) else os.path.join(str(context.root), name.lstrip("/"))
            if not os.path.isfile(path):
                raise BuildError(f"stat {path}: no such file or directory")
            text = Path(path).read_text(errors="replace")
        first = first or path
        texts.append(text if text.endswith("\n") else text + "\n")
    return first, "".join(texts)


def _run(args: argparse.Namespace, ctx: CliContext) -> int:
    log: IO[bytes] | None = open(args.logfile, "wb") if args.logfile else None  # noqa: SIM115
    out = log or sys.stdout.buffer
    try:
        return _build(args, ctx, out)
    except SealpodError as e:
        if log is None:
            raise
        log.write(f"Error: {e.message}\n".encode())
        return e.exit_code
    finally:
        if log is not None:
            log.close()


def _build(args: argparse.Namespace, ctx: CliContext, out: IO[bytes]) -> int:
    from sealpod.build.builder import Output, run_build
    from sealpod.build.extras import add_to_manifest, export_output, parse_output
    from sealpod.utils.logrus import warning as warn

    _check(args)
    options = _options(args)
    output = parse_output(args.output) if args.output else None
    ctx.engine.oci_runtime()  # as Podman: a missing runtime fails the build before its first step

    def line(text: str) -> None:
        out.write(text.encode() + b"\n")
        out.flush()

    def raw(data: bytes) -> None:
        out.write(data)
        out.flush()

    def err(text: str) -> None:  # pull progress: Podman's goes to stderr (or the --logfile)
        if out is sys.stdout.buffer:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        else:
            line(text)

    def final(image_id: str) -> None:  # -o: the final stage's files too (the image is kept all the same)
        if output is not None:  # after "COMMIT", before "--> ID", as Podman writes `-o -`'s tar
            export_output(ctx.engine, image_id, output, out)

    context, stdin_text = _open_context(args)
    try:
        containerfile = _containerfile(args, context, stdin_text)
        ignorefile = Path(args.ignorefile) if args.ignorefile else None
        image_id = run_build(ctx.engine, context, containerfile, options, Output(line, raw, err, warn, final),
                             ignorefile)
    finally:
        context.close()
    if args.iidfile:
        Path(args.iidfile).write_text(f"sha256:{image_id}")
    line(image_id)
    if args.manifest:
        add_to_manifest(ctx.engine, args.manifest, image_id)
    return 0


COMMANDS: dict[str, Command] = {
    "build": Command("Build an image using instructions from Containerfiles", _setup, _run),
}
