"""Container commands: run, create, start, stop, kill, rm, ps, logs, wait, pause, unpause,
restart, container exists, container inspect, container cleanup."""

from __future__ import annotations

import argparse
import contextlib
import sys

from sealpod.cli.args import read_text_file
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, NoSuchContainer, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from sealpod.engine.container_config import ContainerConfig


def _write_cidfile(config: ContainerConfig, ctr_id: str) -> None:
    if config.cidfile:
        import os

        try:
            fd = os.open(config.cidfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as e:
            raise InvalidArgument(f"container id file exists. Ensure another container is not using it or "
                                  f"delete {config.cidfile}") from e
        with os.fdopen(fd, "w") as f:
            f.write(ctr_id)


def _create(args: argparse.Namespace, ctx: CliContext) -> tuple[ContainerConfig, Any]:
    from sealpod.cli.container_flags import config_from_args
    from sealpod.engine.entities import PullOptions, RegistryFlags
    from sealpod.utils.record import replace

    # Podman keeps the command line (inspect's CreateCommand): generate systemd --new replays it
    config = replace(config_from_args(args), create_command=("sealpod", *sys.argv[1:]))
    from sealpod.engine.container_userns import without_rootless_v1_limits

    config, warning = without_rootless_v1_limits(ctx.engine, config)
    if warning:  # Podman prints create's warnings as plain lines
        sys.stderr.write(warning + "\n")
    if ctx.engine.config.containers.engine.namespace:  # global --namespace: its containers are listed apart
        config = replace(config, namespace=ctx.engine.config.containers.engine.namespace)
    if args.ip6 or "bridge" in config.networks:  # they need the default network's name
        from sealpod.engine.network_flags import place_addresses

        default = ctx.engine.config.containers.network.default_network or "podman"
        config = replace(config, **place_addresses(default, config.network, dict(config.networks), config.ip,
                                                   args.ip6))
    from pathlib import Path

    auth_file = Path(args.authfile) if args.authfile else None  # --authfile is parsed as a string here
    pull = PullOptions(registry=RegistryFlags(tls_verify=args.tls_verify, creds=args.creds,
                                              auth_file=auth_file),
                       platform=args.platform or None, signature_policy=args.signature_policy)

    def report(line: str) -> None:
        if not args.quiet:
            sys.stderr.write(line + "\n")

    if config.cidfile:
        import os

        if os.path.exists(config.cidfile):  # before anything is created, so a failure leaves nothing behind
            raise InvalidArgument(f"container id file exists. Ensure another container is not using it or "
                                  f"delete {config.cidfile}")
        if not os.access(os.path.dirname(os.path.abspath(config.cidfile)), os.W_OK):
            raise InvalidArgument(f"opening cidfile {config.cidfile}")
    rec = ctx.engine.containers.create_with_image(config, pull, report, replace=args.replace)
    _write_cidfile(config, rec.id)
    return config, rec


def _setup_create(p: argparse.ArgumentParser) -> None:
    """run/create's ~150 flags live in container_flags: ps, logs and the others do not load them."""
    from sealpod.cli.container_flags import setup_create

    setup_create(p)


def _setup_run(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.container_flags import setup_create

    setup_create(p, run=True)
    p.add_argument("--rmi", action="store_true", help="remove the container's image when it exits")


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    _, rec = _create(args, ctx)
    sys.stdout.write(rec.id + "\n")
    return 0


def _attach_streams(args: argparse.Namespace) -> set[str]:
    """run's ``-a``: repeatable and comma-separated, any case, as cobra's string slice; checked before the
    container is made, so that nothing is left behind.  With ``-i`` STDIN stays attached (Podman)."""
    words = [w for value in args.attach for w in value.split(",")]
    if not words:
        return {"stdin", "stdout", "stderr"}
    if args.log_driver == "passthrough":
        raise InvalidArgument("cannot specify --attach with --log-driver=passthrough: invalid argument")
    for word in words:
        if word.lower() not in ("stdin", "stdout", "stderr"):
            raise InvalidArgument(f'invalid stream "{word}" for --attach - must be one of stdin, stdout, '
                                  "or stderr: invalid argument")
    return {w.lower() for w in words}


def _run_run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.tty and args.interactive and not sys.stdin.isatty():  # Podman warns, and runs it all the same
        from sealpod.utils.logrus import warning

        warning("The input device is not a TTY. The --tty and --interactive flags might not work properly")
    from sealpod.cli.run_checks import check_authfile

    check_authfile(args.authfile)
    streams = _attach_streams(args)
    config, rec = _create(args, ctx)
    if config.detach:
        try:
            ctx.engine.containers.start(rec.id)
        except SealpodError as e:  # Podman: a container that could not start is an exit 126, and --rm holds
            if config.remove:
                import contextlib

                with contextlib.suppress(SealpodError):
                    ctx.engine.containers.remove(rec.id, force=True, volumes=True)
            if e.exit_code == 125:
                e.exit_code = 126
            raise
        if config.log_driver != "passthrough":  # as Podman: the container's own output goes there instead
            sys.stdout.write(rec.id + "\n")
        return 0
    if not streams & {"stdout", "stderr"}:
        sys.stdout.write(rec.id + "\n")  # Podman 4.3: nothing of the output is shown, the ID is
        sys.stdout.flush()
    import os

    with open(os.devnull, "wb") as null:
        code = ctx.engine.containers.run_attached(
            rec.id, stdin=sys.stdin.buffer if config.interactive else None,
            stdout=sys.stdout.buffer if "stdout" in streams else null,
            stderr=sys.stderr.buffer if "stderr" in streams else null, tty=config.tty, detach_keys=config.detach_keys)
    if getattr(args, "rmi", False) and config.image:  # Podman 4.3: after the run; an image in use stays
        from sealpod.utils.logrus import error

        for err in ctx.engine.images.remove([config.image]).errors:  # logged, as Podman's: the run succeeded
            error(str(err))
    return code


# --- start / stop / kill / restart / pause -------------------------------------------------

def _setup_targets(p: argparse.ArgumentParser, *, all_flag: bool = True, latest: bool = True,
                   filters: tuple[str, ...] = ()) -> None:
    """The ways to name containers; ``filters``: the spellings of the command's --filter, if it has one."""
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    if filters:
        p.add_argument(*filters, dest="filter", action="append", default=[],
                       help="act on the containers that match the filter")
    if all_flag:
        p.add_argument("-a", "--all", action="store_true", help="act on all containers")
    if latest:
        p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("--ignore", "-i", action="store_true", help="ignore errors when a container does not exist")
    p.add_argument("--cidfile", action="append", default=[], help="read the container ID from the file")


def _targets(args: argparse.Namespace, ctx: CliContext, *, states: tuple[str, ...] = ()) -> list[str]:
    names = list(args.containers)
    cidfiles, every = getattr(args, "cidfile", None), getattr(args, "all", False)
    if cidfiles and (every or getattr(args, "latest", False)):  # Podman's refusals, before any file is read
        raise InvalidArgument("--all, --latest, and --cidfile cannot be used together")
    if cidfiles and names:
        raise InvalidArgument("no arguments are needed with --latest or --cidfile")
    for path in getattr(args, "cidfile", []) or []:
        try:
            names.append(read_text_file(path).strip())
        except OSError as e:
            if not getattr(args, "ignore", False):
                reason = (e.strerror or str(e)).lower()
                raise InvalidArgument(f"reading CIDFile: open {path}: {reason}") from e
    if getattr(args, "filter", None):  # the containers that match, whether or not --all is given (Podman)
        if names:
            raise InvalidArgument("--filter takes no arguments")
        from sealpod.engine.container_report import filtered

        svc = ctx.engine.containers
        return [r.id for r in filtered(svc, svc.list_containers(), args.filter) if not states or r.state in states]
    if every:
        if names:
            raise InvalidArgument("no arguments are needed with --all")
        return [r.id for r in ctx.engine.containers.list_containers() if not states or r.state in states]
    if getattr(args, "latest", False):
        return [ctx.engine.containers.latest().id]
    if not names:
        if getattr(args, "ignore", False) and getattr(args, "cidfile", None):
            return []  # every --cidfile was missing, and --ignore forgives that
        raise InvalidArgument("you must provide at least one name or id")
    return names


def _each(args: argparse.Namespace, ctx: CliContext, action: Any, *, print_name: bool = True,
          states: tuple[str, ...] = (), external: bool = False) -> int:
    """``external``: a build's working containers are found too (rm)."""
    errors: list[SealpodError] = []
    names = _targets(args, ctx, states=states)
    if not getattr(args, "ignore", False):  # Podman finds every container first: one unknown name, nothing done
        for name in names:
            ctx.engine.containers.lookup(name, external=external)
    for name in names:
        try:
            action(name)
        except NoSuchContainer as e:
            if getattr(args, "ignore", False):
                continue
            errors.append(e)
            continue
        except SealpodError as e:
            errors.append(e)
            continue
        if print_name:
            sys.stdout.write(name + "\n")
    return fail_with(errors)


def _setup_start(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, all_flag=True)
    p.add_argument("-a", "--attach", action="store_true", help="attach the container's STDOUT and STDERR")
    p.add_argument("--all", dest="all", action="store_true", help="start all containers")
    p.add_argument("-i", "--interactive", action="store_true", help="attach the container's STDIN")
    p.add_argument("--detach-keys", default=None, help="key sequence for detaching a container")
    p.add_argument("--sig-proxy", action="store_true", help="proxy received signals to the process")
    p.add_argument("--filter", "-f", action="append", default=[], help="filter which containers to start")


def _run_start(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.all and args.containers:
        raise InvalidArgument("either start all containers or the container(s) provided in the arguments")
    if args.sig_proxy and not args.attach:
        raise InvalidArgument("you cannot use sig-proxy without --attach: invalid argument")
    if args.filter:
        return _start_filtered(args, ctx)
    if args.attach or args.interactive:
        if len(args.containers) != 1:
            raise InvalidArgument("you cannot start and attach multiple containers at once")
        rec = ctx.engine.containers.lookup(args.containers[0])
        cfg = rec.config
        with _start_failure(rec.id, quoted=False):
            return ctx.engine.containers.run_attached(
                rec.id, stdin=sys.stdin.buffer if args.interactive else None, stdout=sys.stdout.buffer,
                stderr=sys.stderr.buffer,
                tty=bool(cfg.get("tty")), detach_keys=args.detach_keys)

    def start(name: str) -> None:
        with _start_failure(name, ctx=ctx):
            ctx.engine.containers.start(name)

    return _each(args, ctx, start, states=("configured", "created", "stopped", "exited"))


@contextlib.contextmanager
def _start_failure(name: str, *, quoted: bool = True, ctx: CliContext | None = None) -> Iterator[None]:
    """A runtime failure of ``start`` is Podman's exit 125, the container named in its words
    (``start -a`` names the ID bare, plain ``start`` quotes it); ``run`` keeps 126/127."""
    from sealpod.errors import OCIRuntimeError

    ctr_id = name
    if ctx is not None:  # resolved first: a failed --rm container is gone afterwards
        with contextlib.suppress(NoSuchContainer):
            ctr_id = ctx.engine.containers.lookup(name).id
    try:
        yield
    except OCIRuntimeError as e:
        shown = f'"{ctr_id}"' if quoted else ctr_id
        err = OCIRuntimeError(f"unable to start container {shown}: {e}")
        err.exit_code = 125
        raise err from None


def _start_filtered(args: argparse.Namespace, ctx: CliContext) -> int:
    """``start --filter``: among the named containers, or all of them, those that match; Podman
    prints the names as given, or the IDs when it picked the containers itself."""
    from sealpod.engine.container_report import filtered

    svc = ctx.engine.containers
    records = [svc.lookup(n) for n in args.containers] if args.containers else svc.list_containers()
    matched = {r.id for r in filtered(svc, records, args.filter)}
    errors: list[SealpodError] = []
    for shown, rec in zip(args.containers or [r.id for r in records], records, strict=True):
        if rec.id not in matched or rec.state in ("running", "paused"):
            continue
        try:
            svc.start(rec.id)
        except SealpodError as e:
            errors.append(e)
            continue
        sys.stdout.write(shown + "\n")
    return fail_with(errors)


def _setup_stop(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, filters=("-f", "--filter"))
    p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait before killing the container")
    p.add_argument("--timeout", type=int, dest="time", help=argparse.SUPPRESS)  # Podman's hidden alias


def _run_stop(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.errors import ContainerStateInvalid

    def stop(name: str) -> None:
        rec = ctx.engine.containers.lookup(name)
        if rec.state == "paused":  # Podman's stop leaves a paused container alone and fails (Docker's API does not)
            raise ContainerStateInvalid(f"container {rec.id} is running or paused, refusing to clean up: "
                                        "container state improper")
        ctx.engine.containers.stop(name, args.time)

    return _each(args, ctx, stop, states=("running", "paused"))


def _setup_kill(p: argparse.ArgumentParser) -> None:
    _setup_targets(p)
    p.add_argument("-s", "--signal", default="KILL", help="signal to send to the container")


def _run_kill(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.containers import parse_signal

    sig = parse_signal(args.signal)
    return _each(args, ctx, lambda n: ctx.engine.containers.kill(n, sig), states=("running", "paused"))


def _run_restart(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, lambda n: ctx.engine.containers.restart(n, args.time),
                 states=("running", "paused") if args.running else ())  # --running: with --all, those alone


def _run_pause(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, ctx.engine.containers.pause, states=("running",))


def _run_unpause(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, ctx.engine.containers.unpause, states=("paused",))


# --- rm / wait / exists / cleanup ----------------------------------------------------------

def _setup_rm(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, filters=("--filter",))
    p.add_argument("-f", "--force", action="store_true", help="force removal of a running or unusable container")
    p.add_argument("-v", "--volumes", action="store_true", help="remove anonymous volumes of the container")
    p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait for stop before killing")
    p.add_argument("--depend", action="store_true", help="remove the container and all that depend on it")


def _run_rm(args: argparse.Namespace, ctx: CliContext) -> int:
    """Podman's exit codes: 1 when a container did not exist, 2 when one was running or paused."""
    from sealpod.errors import Conflict, ContainerHasDependents

    svc = ctx.engine.containers
    args.ignore = args.ignore or args.force  # as Podman: rm --force does not mind missing containers
    infra: dict[str, str] = {}
    if args.all:  # newest first: a container is always created after those it depends on
        args.containers, args.all = list(reversed(_targets(args, ctx))), False
        if not args.containers:
            return 0
        infra = ctx.engine.pods.infra_ids()  # as Podman, rm -a takes their pods with the infra containers
    if args.depend:  # Podman prints the full ID of every container removed, dependents first
        return _each(args, ctx, lambda n: sys.stdout.write("".join(
            f"{i}\n" for i in svc.remove_with_dependents(n, force=args.force, volumes=args.volumes))),
            print_name=False)
    try:
        return _each(args, ctx, lambda n: ctx.engine.pods.remove(infra[n], force=args.force, volumes=args.volumes)
                     if n in infra else svc.remove(n, force=args.force, volumes=args.volumes), external=True)
    except NoSuchContainer as e:
        e.exit_code = 1
        raise
    except Conflict as e:
        if not isinstance(e, ContainerHasDependents):
            e.exit_code = 2
        raise


def _setup_wait(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, all_flag=False)
    p.add_argument("--condition", action="append", default=[], help="condition to wait on")
    p.add_argument("-i", "--interval", default="250ms", help="time interval to wait before polling for completion")


def _run_wait(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.containers and not args.latest:
        raise InvalidArgument('"podman wait" requires a name, id, or the "--latest" flag')
    interval = _wait_interval(args.interval)
    return _each(args, ctx, lambda n: sys.stdout.write(
        f"{ctx.engine.containers.wait(n, args.condition or ['stopped'], interval)}\n"), print_name=False)


def _wait_interval(text: str) -> float:
    """Podman's ``wait --interval``: a Go duration, a bare integer counting milliseconds."""
    from sealpod.utils.goduration import parse_go_duration

    try:
        return parse_go_duration(text + "ms" if text.isdigit() else text) / 1e9
    except ValueError as e:
        raise InvalidArgument(str(e)) from None


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--external", action="store_true", help="check external containers as well")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        ctx.engine.containers.lookup(args.container, external=args.external)  # a build's: only with --external
    except NoSuchContainer:
        return 1
    return 0


def _setup_cleanup(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="Cleans up all containers")
    p.add_argument("--exec", default=None, help="Clean up the given exec session instead of the container")
    p.add_argument("-l", "--latest", action="store_true", help="Act on the latest container podman is aware of")
    p.add_argument("--rm", action="store_true", help="After cleanup, remove the container entirely")
    p.add_argument("--rmi", action="store_true", help="After cleanup, remove the image entirely")


def _full_id(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _run_cleanup(args: argparse.Namespace, ctx: CliContext) -> int:
    """Podman's report: each container as named (its ID for --all/--latest) once cleaned up; an
    error is logged as it happens, and the last one decides the exit code."""
    from sealpod.engine.container_external import seeing_external
    from sealpod.utils.logrus import error

    if args.exec is not None:
        if args.all:
            raise InvalidArgument("exec and all options conflict")
        if len(args.containers) > 1:
            raise InvalidArgument("cannot use exec option when more than one container is given")
        if args.rmi:
            raise InvalidArgument("exec and rmi options conflict")
    svc = ctx.engine.containers
    errors: list[Exception] = []
    with seeing_external(svc):  # conmon's exit command: a build's RUN containers too
        names = _targets(args, ctx)
        if len(names) > 1:  # Podman finds every container first: one unknown name, nothing done
            for name in names:
                svc.lookup(name, external=True)
        for name in names:
            try:
                rec = svc.cleanup(name, remove=True if args.rm else None)
                if args.rm and rec.state in ("configured", "created"):  # never run: Podman removes it all the same
                    svc.remove(rec.id, volumes=True)
            except NoSuchContainer:
                if args.containers and not _full_id(name):
                    raise
                # removed meanwhile (rm -f, or the foreground run cleaned up first): conmon's exit command
                # names the container by its full ID, and nobody should hear of that race
                continue
            except SealpodError as e:
                error(f"{'Removing' if args.rm else 'Cleaning up'} container: {e}")
                errors.append(e)
                continue
            image = rec.image_name or rec.image_id if args.rmi else None
            failed = ctx.engine.images.remove([image]).errors if image else []
            for err in failed:  # Podman's rmi of the name it was created from: in use, or gone, is an error
                error(f"Removing image: {err}")
            errors += failed
            if not failed:
                sys.stdout.write(name + "\n")
    return fail_with(errors)


# --- logs / inspect ------------------------------------------------------------------------

def _setup_logs(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("-n", "--names", action="store_true", help="output the container name in the log")
    p.add_argument("--since", default=None, help="show logs since TIMESTAMP")
    p.add_argument("--until", default=None, help="show logs until TIMESTAMP")
    p.add_argument("--tail", type=int, default=-1, help="output the specified number of lines at the end")
    p.add_argument("-t", "--timestamps", action="store_true", help="output the timestamps in the log")
    p.add_argument("--color", action="store_true", help="output the containers with different colors")


def _run_logs(args: argparse.Namespace, ctx: CliContext) -> int:
    names = args.containers
    if args.latest:
        names = [ctx.engine.containers.latest().id]
    if not names:
        raise InvalidArgument("`sealpod logs` requires a name or ID, or --latest")
    ctx.engine.containers.logs(names, stdout=sys.stdout.buffer, stderr=sys.stderr.buffer, follow=args.follow,
                               tail=args.tail, since=args.since, until=args.until, timestamps=args.timestamps,
                               names=args.names or len(names) > 1)
    return 0


def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_argument("-f", "--format", help="format the output using a Go template or json")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container")
    p.add_argument("-s", "--size", action="store_true", help="display the total file size")




def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.inspect import inspect_each, no_latest

    names = list(args.names)
    if args.latest:
        try:
            names.append(ctx.engine.containers.latest().id)
        except NoSuchContainer:
            return no_latest(args.format)
    if not names:
        raise InvalidArgument("you must provide at least one name or id")

    def fetch(name: str) -> dict[str, Any]:
        try:
            return ctx.engine.containers.inspect(name, size=args.size)
        except NoSuchContainer:  # Podman's words
            raise NoSuchContainer(f"no such container {name}") from None

    return inspect_each(names, fetch, args.format, prefix="inspecting object: ")


def _plain_targets(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, filters=("-f", "--filter"))


def _setup_restart(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, filters=("-f", "--filter"))
    p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait for stop before killing")
    p.add_argument("--running", action="store_true", help="restart only running containers")


def _setup_ps(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.container_ps import setup_ps

    setup_ps(p)


def _run_ps(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.container_ps import run_ps

    return run_ps(args, ctx)


COMMANDS: dict[str, Command] = {
    "run": Command("Run a command in a new container", _setup_run, _run_run),
    "create": Command("Create but do not start a container", _setup_create, _run_create),
    "start": Command("Start one or more containers", _setup_start, _run_start),
    "stop": Command("Stop one or more containers", _setup_stop, _run_stop),
    "kill": Command("Kill one or more running containers with a specific signal", _setup_kill, _run_kill),
    "restart": Command("Restart one or more containers", _setup_restart, _run_restart),
    "pause": Command("Pause all the processes in one or more containers", _plain_targets, _run_pause),
    "unpause": Command("Unpause the processes in one or more containers", _plain_targets, _run_unpause),
    "rm": Command("Remove one or more containers", _setup_rm, _run_rm),
    "wait": Command("Block on one or more containers", _setup_wait, _run_wait),
    "exists": Command("Check if a container exists in local storage", _setup_exists, _run_exists),
    "cleanup": Command("Clean up network and mountpoints of one or more containers", _setup_cleanup, _run_cleanup),
    "ps": Command("List containers", _setup_ps, _run_ps),
    "logs": Command("Fetch the logs of one or more containers", _setup_logs, _run_logs),
    "inspect": Command("Display the configuration of a container", _setup_inspect, _run_inspect),
}
