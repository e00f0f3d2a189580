"""Commands on existing containers: exec, attach, top, port, rename, init, mount, unmount,
update, container prune, container clone."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sealpod.cli.args import confirm, parse_bool
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_ops import UpdateOptions




def _latest_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest container sealpod is aware of")


def _shift_for_latest(args: argparse.Namespace, first: str | None, rest: list[str]) -> tuple[str | None, list[str]]:
    """With --latest there is no container argument: the first word belongs to the rest."""
    if args.latest and first is not None:
        return None, [first, *rest]
    return first, list(rest)


def _one(args: argparse.Namespace, ctx: CliContext, given: str | None) -> str:
    """The container a single-container command acts on: named, or the latest with ``-l``."""
    if args.latest:
        return ctx.engine.containers.latest().id
    if not given:
        raise InvalidArgument("you must provide at least one name or id")
    return given


def _each(names: list[str], action: Callable[[str], Any], *, show: Callable[[str, Any], str | None]) -> int:
    """Act on each container, print what ``show`` returns; report all errors, raise the last."""
    errors: list[SealpodError] = []
    for name in names:
        try:
            result = action(name)
        except SealpodError as e:
            errors.append(e)
            continue
        line = show(name, result)
        if line is not None:
            sys.stdout.write(line + "\n")
    return fail_with(errors)


# --- exec ----------------------------------------------------------------------------------

def _setup_exec(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("container", metavar="CONTAINER", nargs="?")
    a("command", nargs=argparse.REMAINDER, metavar="COMMAND")
    a("-i", "--interactive", action="store_true", help="keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    a("-d", "--detach", action="store_true", help="run the exec session in detached mode (backgrounded)")
    a("-e", "--env", action="append", default=[], help="set environment variables")
    a("--env-file", action="append", default=[], help="read in a file of environment variables")
    a("-u", "--user", default="", help="sets the username or UID used and optionally the groupname or GID")
    a("-w", "--workdir", default="", help="working directory inside the container")
    a("--privileged", action="store_true", help="give the process extended Linux capabilities")
    a("--detach-keys", default=None, help="select the key sequence for detaching a container")
    a("--preserve-fds", type=int, default=0, help="pass a number of additional file descriptors")
    _latest_flag(p)


def _run_exec(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.container_flags import _env
    from sealpod.engine.container_ops import ExecOptions

    target, command = _shift_for_latest(args, args.container, args.command)
    if target is None and not args.latest:
        raise InvalidArgument("exec requires the name or ID of a container or the --latest flag")
    name = _one(args, ctx, target)
    if not command:
        raise InvalidArgument("must provide a non-empty command to start an exec session: invalid argument")
    if args.preserve_fds > 0:  # now, before this process opens files of its own on those numbers
        from sealpod.cli.args import require_passed_fds
        from sealpod.utils.proc import hold_fds

        require_passed_fds(args.preserve_fds)
        hold_fds(args.preserve_fds)
    opts = ExecOptions(command=tuple(command), interactive=args.interactive, tty=args.tty, detach=args.detach,
                       env=_env(args), user=args.user, workdir=args.workdir, privileged=args.privileged,
                       detach_keys=args.detach_keys, preserve_fds=max(args.preserve_fds, 0))
    ops = ctx.engine.container_ops
    if args.detach:
        sys.stdout.write(ops.exec_detached(name, opts) + "\n")
        return 0
    return ops.exec(name, opts, stdin=sys.stdin.buffer if args.interactive else None, stdout=sys.stdout.buffer,
                    stderr=sys.stderr.buffer)


# --- attach --------------------------------------------------------------------------------

def _setup_attach(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER", nargs="?")
    p.add_argument("--detach-keys", default=None, help="select the key sequence for detaching a container")
    p.add_argument("--no-stdin", action="store_true", help="do not attach STDIN")
    p.add_argument("--sig-proxy", nargs="?", const=True, default=True, type=parse_bool,
                   help="proxy received signals to the process")
    _latest_flag(p)


def _run_attach(args: argparse.Namespace, ctx: CliContext) -> int:
    name = _one(args, ctx, args.container)
    code = ctx.engine.container_ops.attach(name, stdin=None if args.no_stdin else sys.stdin.buffer,
                                           stdout=sys.stdout.buffer, stderr=sys.stderr.buffer,
                                           detach_keys=args.detach_keys, sig_proxy=args.sig_proxy)
    return 0 if code is None else code


# --- top / port ----------------------------------------------------------------------------

def _setup_top(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER", nargs="?")
    p.add_argument("descriptors", nargs=argparse.REMAINDER, metavar="DESCRIPTORS")
    _latest_flag(p)


def _run_top(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import tabwrite
    from sealpod.errors import NoSuchContainer

    target, descriptors = _shift_for_latest(args, args.container, args.descriptors)
    try:
        name = _one(args, ctx, target)
        ctx.engine.containers.lookup(name)
    except NoSuchContainer as e:  # Podman's words for a container it cannot find
        raise NoSuchContainer(f"unable to look up requested container: {e.message}") from None
    rows = ctx.engine.container_ops.top(name, descriptors)
    if rows and all(len(r) == 1 for r in rows):  # the container's own ps(1) output, as it printed it
        sys.stdout.write("".join(r[0] + "\n" for r in rows))
        return 0
    sys.stdout.write(tabwrite("".join("\t".join(r) + "\n" for r in rows)))
    return 0


def _setup_port(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER", nargs="?")
    p.add_argument("port", metavar="PORT", nargs="?")
    p.add_argument("-a", "--all", action="store_true", help="display port information for all containers")
    _latest_flag(p)


def _run_port(args: argparse.Namespace, ctx: CliContext) -> int:
    ops = ctx.engine.container_ops
    if args.all and args.latest:
        raise InvalidArgument("--all and --latest cannot be used together")
    if args.all:
        if args.container:
            raise InvalidArgument("no arguments are needed with --all")
        for rec in ctx.engine.containers.list_containers():
            for mapping in ops.port(rec.id):
                sys.stdout.write(f"{rec.id[:12]}\t{mapping}\n")
        return 0
    if not args.container and not args.latest:
        raise InvalidArgument("you must supply a running container name or id")
    if args.latest and args.container:  # ``port -l PORT``: the one word is the port
        if args.port:
            raise InvalidArgument("`port` accepts at most 2 arguments")
        args.port, args.container = args.container, None
    name = _one(args, ctx, args.container)
    mappings = ops.port(name)
    if args.port:
        wanted = args.port if "/" in args.port else f"{args.port}/tcp"
        found = [m.split(" -> ", 1)[1] for m in mappings if m.split(" -> ", 1)[0] == wanted]
        if not found and mappings:  # one that does not run, or publishes nothing: silence, as Podman's
            raise InvalidArgument(f'failed to find published port "{args.port}"')
        mappings = found
    sys.stdout.write("".join(m + "\n" for m in mappings))
    return 0


# --- rename / init -------------------------------------------------------------------------

def _setup_rename(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("name", metavar="NAME")


def _run_rename(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.engine.container_ops.rename(args.container, args.name)
    return 0


def _setup_init(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="initialize all containers")
    _latest_flag(p)


def _init_one(ctx: CliContext, name: str) -> Any:
    """init never runs the command: a runtime failure (126 or 127 under run) exits 125, as Podman's."""
    try:
        return ctx.engine.container_ops.init(name)
    except SealpodError as e:
        if e.exit_code in (126, 127):
            e.exit_code = 125
        raise


def _run_init(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.all:
        if args.containers:
            raise InvalidArgument("no arguments are needed with --all")
        import contextlib

        from sealpod.errors import ContainerStateInvalid

        def init_any(name: str) -> Any:  # as Podman: --all counts a running container as initialized
            with contextlib.suppress(ContainerStateInvalid):
                _init_one(ctx, name)

        names = [r.id for r in ctx.engine.containers.list_containers()]
        return _each(names, init_any, show=lambda name, _: name)
    else:
        names = [_one(args, ctx, None)] if args.latest else list(args.containers)
        if not names:
            raise InvalidArgument("you must provide at least one name or id")
    return _each(names, lambda name: _init_one(ctx, name), show=lambda name, _: name)


# --- mount / unmount -----------------------------------------------------------------------

def _setup_mount(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="mount all containers")
    p.add_argument("--format", default="", help="print the mounted containers in specified format (json)")
    p.add_argument("--no-trunc", "--notruncate", dest="no_trunc", action="store_true",
                   help="do not truncate output")
    _latest_flag(p)


def _run_mount(args: argparse.Namespace, ctx: CliContext) -> int:
    ops = ctx.engine.container_ops
    names = list(args.containers)
    if args.latest:
        names.append(ctx.engine.containers.latest().id)
    if args.all:
        if names:
            raise InvalidArgument("--all and containers names or IDs cannot be used together")
        for rec in ctx.engine.containers.list_containers():
            ops.mount(rec.id)
    elif names:
        return _each(names, ops.mount, show=lambda _, path: str(path))
    _print_mounts(ctx, args.format, args.no_trunc)
    return 0


def _print_mounts(ctx: CliContext, fmt: str, no_trunc: bool) -> None:
    from sealpod.cli.formatting import is_json

    reports = ctx.engine.container_ops.mounted()
    if is_json(fmt):
        import json

        docs = [{"id": r.id, "Names": list(r.names), "mountpoint": r.mountpoint} for r in reports]
        sys.stdout.write(json.dumps(docs, indent=1) + "\n")
        return
    if fmt:  # Podman 4.3's mount knows only json
        raise InvalidArgument(f'unknown --format argument: "{fmt}"')
    sys.stdout.write("".join(f"{r.id if no_trunc else r.id[:12]}  {r.mountpoint}\n" for r in reports))


def _setup_unmount(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="unmount all of the currently mounted containers")
    p.add_argument("-f", "--force", action="store_true", help="force the complete unmount of the containers")
    _latest_flag(p)


def _run_unmount(args: argparse.Namespace, ctx: CliContext) -> int:
    ops = ctx.engine.container_ops
    if args.all:
        if args.containers:
            raise InvalidArgument("--all and containers names or IDs cannot be used together")
        sys.stdout.write("".join(i + "\n" for i in ops.unmount_all(force=args.force)))
        return 0
    names = [_one(args, ctx, None)] if args.latest else list(args.containers)
    if not names:
        raise InvalidArgument("you must provide at least one name or id")
    return _each(names, lambda n: ops.unmount(n, force=args.force), show=lambda name, _: name)


# --- update / prune / clone ----------------------------------------------------------------

def _resource_flags(p: argparse.ArgumentParser, *, iops: bool = True) -> None:
    """The limits ``update`` and ``container clone`` change (clone has no IOPS flags, as Podman's)."""
    from sealpod.cli.args import uint

    a = p.add_argument
    a("-m", "--memory", default=None, help="memory limit (format: <number>[<unit>])")
    a("--memory-swap", default=None, help="swap limit equal to memory plus swap: '-1' for unlimited swap")
    a("--memory-reservation", default=None, help="memory soft limit (format: <number>[<unit>])")
    a("--cpus", type=float, default=None, help="number of CPUs")
    a("-c", "--cpu-shares", type=int, default=None, help="CPU shares (relative weight)")
    a("--cpu-period", type=int, default=None, help="limit the CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=int, default=None, help="limit the CPU CFS (Completely Fair Scheduler) quota")
    a("--cpuset-cpus", default=None, help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", default=None, help="memory nodes (MEMs) in which to allow execution (0-3, 0,1)")
    a("--pids-limit", type=int, default=None, help="tune container pids limit (set -1 for unlimited)")
    a("--memory-swappiness", type=int, default=None, help="tune the container's memory swappiness (0 to 100)")
    a("--blkio-weight", default=None,
      help="block IO weight (relative weight) accepts a weight value between 10 and 1000")
    a("--blkio-weight-device", action="append", default=[], metavar="DEVICE_NAME:WEIGHT",
      help="block IO weight (relative device weight, format: DEVICE_NAME:WEIGHT)")
    a("--device-read-bps", action="append", default=[],
      help="limit read rate (bytes per second) from a device (e.g. --device-read-bps=/dev/sda:1mb)")
    a("--device-write-bps", action="append", default=[],
      help="limit write rate (bytes per second) to a device (e.g. --device-write-bps=/dev/sda:1mb)")
    if iops:
        a("--device-read-iops", action="append", default=[],
          help="limit read rate (IO per second) from a device (e.g. --device-read-iops=/dev/sda:1000)")
        a("--device-write-iops", action="append", default=[],
          help="limit write rate (IO per second) to a device (e.g. --device-write-iops=/dev/sda:1000)")
    a("--cpu-rt-period", type=uint, default=None, help="limit the CPU real-time period in microseconds")
    a("--cpu-rt-runtime", type=int, default=None, help="limit the CPU real-time runtime in microseconds")


def _resources(args: argparse.Namespace) -> UpdateOptions:
    from sealpod.cli.cgroup_flags import device_limit_fields, update_weight
    from sealpod.cli.container_flags import parse_size
    from sealpod.engine.container_ops import UpdateOptions

    def size(value: str | None, flag: str) -> int | None:
        if value is None:
            return None
        return -1 if value == "-1" else parse_size(value, flag)

    return UpdateOptions(
        memory=size(args.memory, "--memory"), memory_swap=size(args.memory_swap, "--memory-swap"),
        memory_reservation=size(args.memory_reservation, "--memory-reservation"), cpus=args.cpus,
        cpu_shares=args.cpu_shares, cpu_period=args.cpu_period, cpu_quota=args.cpu_quota,
        cpuset_cpus=args.cpuset_cpus, cpuset_mems=args.cpuset_mems, pids_limit=args.pids_limit,
        memory_swappiness=args.memory_swappiness, blkio_weight=update_weight(args.blkio_weight),
        cpu_rt_period=args.cpu_rt_period, cpu_rt_runtime=args.cpu_rt_runtime, **device_limit_fields(args))


def _setup_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER", nargs="?")
    _resource_flags(p)
    _latest_flag(p)


def _run_update(args: argparse.Namespace, ctx: CliContext) -> int:
    rec = ctx.engine.container_ops.update(_one(args, ctx, args.container), _resources(args))
    sys.stdout.write(rec.id + "\n")
    return 0


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="provide filter values (e.g. 'label=<key>=<value>')")


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.force:
        if not confirm("WARNING! This will remove all non running containers.\n", eof_error=True):
            return 0
    removed = ctx.engine.container_ops.prune(args.filter)
    sys.stdout.write("".join(i + "\n" for i in removed))
    return 0


def _setup_clone(p: argparse.ArgumentParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("new_name", metavar="NAME", nargs="?", default="")
    p.add_argument("image", metavar="IMAGE", nargs="?", default="")
    p.add_argument("--name", default="", help="assign a name to the container")
    p.add_argument("--destroy", action="store_true", help="destroy the original container")
    p.add_argument("-f", "--force", action="store_true", help="force the existing container to be destroyed")
    p.add_argument("--run", action="store_true", help="run the new container")
    p.add_argument("--pod", default="", help="run the clone in this pod")
    _resource_flags(p, iops=False)


def _run_clone(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.container_ops import CloneOptions

    if args.name and args.new_name:
        raise InvalidArgument("cannot specify the name both with --name and as an argument")
    opts = CloneOptions(name=args.name or args.new_name, image=args.image, destroy=args.destroy,
                        force=args.force, run=args.run, resources=_resources(args), pod=args.pod)
    rec = ctx.engine.container_ops.clone(args.container, opts)
    sys.stdout.write(rec.id + "\n")
    return 0


COMMANDS: dict[str, Command] = {
    "exec": Command("Run a process in a running container", _setup_exec, _run_exec),
    "attach": Command("Attach to a running container", _setup_attach, _run_attach),
    "top": Command("Display the running processes of a container", _setup_top, _run_top),
    "port": Command("List port mappings or a specific mapping for the container", _setup_port, _run_port),
    "rename": Command("Rename an existing container", _setup_rename, _run_rename),
    "init": Command("Initialize one or more containers", _setup_init, _run_init),
    "mount": Command("Mount a working container's root filesystem", _setup_mount, _run_mount),
    "unmount": Command("Unmount working container's root filesystem", _setup_unmount, _run_unmount),
    "update": Command("Update an existing container", _setup_update, _run_update),
    "prune": Command("Remove all non running containers", _setup_prune, _run_prune),
    "clone": Command("Clone an existing container", _setup_clone, _run_clone),
}
