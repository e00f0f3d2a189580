"""Pod commands: create, ps, inspect, start, stop, restart, kill, pause, unpause, rm, prune, top,
stats, exists, logs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sealpod.cli.args import add_addressing_flags, confirm, key_values
from sealpod.cli.context import CliContext, Command, fail_with
from sealpod.errors import InvalidArgument, NoSuchPod, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.pods import PodSpec


# --- create ---------------------------------------------------------------------------------

def _setup_create(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("name_arg", nargs="?", metavar="NAME", help=argparse.SUPPRESS)
    a("-n", "--name", default="", help="assign a name to the pod")
    a("-p", "--publish", action="append", default=[], help="publish a container's port(s) to the host")
    a("--network", "--net", action="append", default=[], help="connect the pod to a network")
    a("--share", default=None, help="namespaces to share: cgroup, ipc, net, pid, uts or none")
    a("-h", "--hostname", default="", help="set the pod's hostname")
    a("-l", "--label", action="append", default=[], help="set metadata on the pod")
    a("--label-file", action="append", default=[], help="read labels from a file")
    a("--infra", nargs="?", const="true", default=None, help="create an infra container for the pod")
    a("--infra-command", default="", help="the command to run in the infra container")
    a("--infra-image", default="", help="the image of the infra container")
    a("--infra-name", default="", help="the name of the infra container")
    a("--infra-conmon-pidfile", default="", help="path to the file that will receive the PID of conmon")
    a("--pod-id-file", default="", help="write the pod ID to the file")
    a("--userns", default="", help="user namespace to use")
    a("-v", "--volume", action="append", default=[], help="bind mount a volume into every container of the pod")
    a("--exit-policy", default="continue", help="behaviour when the last container exits: continue or stop")
    a("--replace", action="store_true", help="replace an existing pod of the same name")
    add_addressing_flags(p, "pod", "the pod's containers")
    a("--shm-size", default="", help="size of /dev/shm")
    from sealpod.cli.pod_flags import add_infra_flags

    add_infra_flags(p)


def _networks(values: list[str]) -> dict[str, Any]:
    from sealpod.engine.network_flags import parse_network_flag

    values = [v for v in values if v]
    if not values:
        return {}
    if len(values) == 1 and (":" not in values[0] or values[0].startswith(("ns:", "container:", "slirp4netns:"))):
        return {"network": values[0]}
    return {"network": "bridge", "networks": dict(parse_network_flag(v) for v in values)}


def spec_from_args(args: argparse.Namespace) -> PodSpec:
    from sealpod.cli.args import flag_bool
    from sealpod.cli.container_flags import parse_size
    from sealpod.cli.pod_flags import infra_fields, share_parent
    from sealpod.cli.run_checks import check_bridge_addresses
    from sealpod.engine.pods import PodSpec

    check_bridge_addresses(args.network, args.ip, args.ip6, args.mac_address)
    infra = flag_bool(args.infra or "true", "--infra")
    if args.infra is None and args.share is not None and args.share in ("", "none"):
        infra = False  # nothing shared: no infra container, unless --infra asks for one
    if not infra and args.share not in (None, "", "none"):
        raise InvalidArgument(f"cannot set share({args.share}) namespaces without an infra container")
    if args.name and args.name_arg:
        raise InvalidArgument("cannot specify both a pod name (--name) and an argument")
    labels: dict[str, str] = {}
    for path in args.label_file:
        try:
            with open(path) as f:
                lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
        except OSError as e:
            raise InvalidArgument(f"open {path}: {(e.strerror or str(e)).lower()}") from e
        labels.update(key_values(lines, "label"))
    labels.update(key_values(args.label, "label"))
    share = ("ipc", "net", "uts") if args.share is None else tuple(s for s in args.share.split(",") if s) or ("none",)
    if share and share[0].startswith("+"):  # "+pid": the defaults and these
        share = ("ipc", "net", "uts", share[0][1:], *share[1:])
    if args.infra_command and args.infra_command.startswith("["):
        import json

        command = tuple(json.loads(args.infra_command))
    else:
        command = tuple(args.infra_command.split()) if args.infra_command else ()
    return PodSpec(name=args.name or args.name_arg or "", hostname=args.hostname, labels=labels, infra=infra,
                   infra_image=args.infra_image, infra_command=command, infra_name=args.infra_name,
                   share=share, ports=tuple(args.publish), add_hosts=tuple(args.add_host),
                   dns_servers=tuple(args.dns), dns_search=tuple(args.dns_search),
                   dns_options=tuple(args.dns_option), volumes=tuple(args.volume), userns=args.userns,
                   exit_policy=args.exit_policy, pod_id_file=args.pod_id_file, mac_address=args.mac_address,
                   ip=args.ip, network_aliases=tuple(n for v in args.network_alias for n in v.split(",") if n),
                   no_hosts=bool(args.no_hosts),
                   shm_size=parse_size(args.shm_size, "--shm-size") if args.shm_size else None,
                   infra_conmon_pidfile=args.infra_conmon_pidfile, create_command=("sealpod", *sys.argv[1:]),
                   infra_config=infra_fields(args), share_parent=share_parent(args), **_networks(args.network))


def _run_create(args: argparse.Namespace, ctx: CliContext) -> int:
    spec = spec_from_args(args)
    if args.ip6 or "bridge" in spec.networks:  # they need the default network's name
        from sealpod.engine.network_flags import place_addresses
        from sealpod.utils.record import replace

        default = ctx.engine.config.containers.network.default_network or "podman"
        spec = replace(spec, **place_addresses(default, spec.network, dict(spec.networks), spec.ip, args.ip6))
    pods = ctx.engine.pods
    if args.replace and spec.name and pods.exists(spec.name):
        pods.remove(spec.name, force=True)
    sys.stdout.write(pods.create(spec).id + "\n")
    return 0


# --- ps -------------------------------------------------------------------------------------

def _setup_ps(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("-f", "--filter", action="append", default=[], help="filter output based on conditions given")
    a("--format", help="pretty-print pods to JSON or using a Go template")
    a("-q", "--quiet", action="store_true", help="print the numeric IDs of the pods only")
    a("--no-trunc", action="store_true", help="do not truncate pod and container IDs")
    a("--noheading", action="store_true", help="do not print headers")
    a("--ctr-names", action="store_true", help="display the container names")
    a("--ctr-ids", action="store_true", help="display the container UUIDs")
    a("--ctr-status", action="store_true", help="display the container status")
    a("--ns", action="store_true", help="display namespace information of the pod")
    a("--sort", default="created", help="sort output by created, id, name, or number")
    a("-l", "--latest", action="store_true", help="act on the latest pod")


def _run_ps(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import render
    from sealpod.cli.pod_rows import PodRow, default_format, sort_rows

    if args.quiet and args.format:
        raise InvalidArgument("quiet and format cannot be used together")
    pods = ctx.engine.pods.summaries(args.filter)
    if args.latest:
        pods = sorted(pods, key=lambda s: s.created)[-1:]
    rows = sort_rows([PodRow(s, no_trunc=args.no_trunc) for s in pods], args.sort)
    if args.quiet:
        sys.stdout.write("".join(f"{r.Id}\n" for r in rows))  # Podman 4.3 prints whole IDs, --no-trunc or not
        return 0
    default = default_format(args.ctr_names, args.ctr_ids, args.ctr_status, args.ns)
    fmt = args.format or default
    headers = {"ID": "POD ID", "Created": "CREATED", "InfraID": "INFRA ID", "NumberOfContainers": "# OF CONTAINERS",
               "ContainerIds": "IDS", "ContainerNames": "NAMES", "ContainerStatuses": "STATUS",
               "Namespace": "NAMESPACES"}
    sys.stdout.write(render(fmt, rows, default=default, headers=headers, name="ps", go_type="pods.ListPodReporter",
                            json_indent=2, escape_html=False, json_rows=lambda: [r.to_json() for r in rows],
                            noheading=args.noheading))
    return 0


# --- inspect / exists -------------------------------------------------------------------------

def _setup_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("pods", nargs="*", metavar="POD")
    p.add_argument("-f", "--format", help="format the output using a Go template or json")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest pod")


def _run_inspect(args: argparse.Namespace, ctx: CliContext) -> int:
    """Podman's ``pod inspect``: a lone pod found prints as an object, any other count as a list
    (``[]`` when none), then the misses, worded and ordered as its ``inspect``."""
    import json

    from sealpod.cli.inspect import fail_inspect

    names = list(args.pods)
    if args.latest and names:
        raise InvalidArgument("--latest and arguments cannot be used together")
    if args.latest:
        found = ctx.engine.pods.list_pods()
        if not found:
            raise NoSuchPod("no such pod")
        names = [found[-1].id]
    elif not names:
        raise InvalidArgument("no names or ids specified")
    docs: list[dict[str, Any]] = []
    errors: list[SealpodError] = []
    for name in names:
        try:
            docs.append(ctx.engine.pods.inspect(name))
        except NoSuchPod:
            errors.append(NoSuchPod(f"no such pod {name}"))
    from sealpod.cli.formatting import is_json, unescape

    if args.format and not is_json(args.format):
        from sealpod.cli.gotemplate import compile_template

        tmpl = compile_template(unescape(args.format).rstrip("\n") + "\n", name="inspect")
        sys.stdout.write("".join(tmpl.execute(_template_view(d)) for d in docs))
    else:
        sys.stdout.write(json.dumps(docs[0] if len(docs) == 1 else docs, indent=5, ensure_ascii=False) + "\n")
    return fail_inspect(errors, "inspecting object: ")


def _template_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Templates see Podman's Go field names: ``.ID`` where the JSON says ``Id`` (pod and members),
    and Go's values as an inspect template prints them (port bindings as structs, nil maps)."""
    from sealpod.cli.inspect import template_view

    view = {**template_view(doc), "ID": doc.get("Id", "")}
    view["Containers"] = [{**c, "ID": c.get("Id", "")} for c in doc.get("Containers") or []]
    for json_key, go_name in _GO_NAMES.items():  # Podman's lower-case JSON keys, by their Go names
        if json_key in doc:
            view[go_name] = doc[json_key]
        if isinstance(view.get("InfraConfig"), dict) and json_key in view["InfraConfig"]:
            view["InfraConfig"] = {**view["InfraConfig"], go_name: view["InfraConfig"][json_key]}
    return view


_GO_NAMES = {"cpu_period": "CPUPeriod", "cpu_quota": "CPUQuota", "cpu_shares": "CPUShares",
             "cpuset_cpus": "CPUSetCPUs", "cpuset_mems": "CPUSetMems", "mounts": "Mounts", "devices": "Devices",
             "device_read_bps": "BlkioDeviceReadBps", "device_write_bps": "BlkioDeviceWriteBps",
             "volumes_from": "VolumesFrom", "security_opt": "SecurityOpts", "memory_limit": "MemoryLimit",
             "memory_swap": "MemorySwap", "blkio_weight": "BlkioWeight", "blkio_weight_device": "BlkioWeightDevice",
             "pid_ns": "PidNS", "userns": "UserNS", "uts_ns": "UtsNS"}


def _setup_exists(p: argparse.ArgumentParser) -> None:
    p.add_argument("pod", metavar="POD")


def _run_exists(args: argparse.Namespace, ctx: CliContext) -> int:
    return 0 if ctx.engine.pods.exists(args.pod) else 1


# --- lifecycle --------------------------------------------------------------------------------

def _setup_targets(p: argparse.ArgumentParser, *, time_flag: bool = False, id_file: bool = True,
                   ignore: bool = True) -> None:
    """The flags of Podman's pod lifecycle commands: ``--pod-id-file`` and ``--ignore`` only where it has them."""
    p.add_argument("pods", nargs="*", metavar="POD")
    p.add_argument("-a", "--all", action="store_true", help="act on all pods")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest pod")
    if id_file:
        p.add_argument("--pod-id-file", action="append", default=[], help="read the pod ID from the file")
    if time_flag:
        p.add_argument("-t", "--time", type=int, default=None, help="seconds to wait before forcibly stopping")
    if ignore:
        p.add_argument("-i", "--ignore", action="store_true", help="ignore errors when a pod does not exist")


def _check_targets(args: argparse.Namespace) -> None:
    """Podman's checks of --all, --latest, --pod-id-file and names together, in its order and words
    (--latest with names is refused earlier, for every command, by the dispatcher)."""
    every, latest, names = getattr(args, "all", False), getattr(args, "latest", False), getattr(args, "pods", [])
    id_files = getattr(args, "pod_id_file", [])
    if id_files and (every or latest):
        raise InvalidArgument("--all, --latest, and --pod-id-file cannot be used together")
    if every and latest:
        raise InvalidArgument("--all and --latest cannot be used together")
    if every and names:
        raise InvalidArgument("no arguments are needed with --all")
    if id_files and names:
        raise InvalidArgument("no arguments are needed with --latest or --pod-id-file")


def _targets(args: argparse.Namespace, ctx: CliContext) -> list[str]:
    from sealpod.cli.args import read_text_file

    pods = ctx.engine.pods
    names = list(getattr(args, "pods", []))
    for path in getattr(args, "pod_id_file", []):
        try:
            names.append(read_text_file(path).strip())
        except OSError as e:
            raise InvalidArgument(f"reading pod ID file {path}: {(e.strerror or str(e)).lower()}") from e
    if getattr(args, "all", False):  # in the order of Podman's state DB: by ID
        return sorted(p.id for p in pods.list_pods())
    if getattr(args, "latest", False):
        found = pods.list_pods()
        if not found:
            raise NoSuchPod("no such pod")
        return [found[-1].id]
    if not names:
        raise InvalidArgument("you must provide at least one name or id")
    return names


def _resolve(args: argparse.Namespace, ctx: CliContext, act_is_rm: bool) -> list[str]:
    """Every pod named, looked up before any is acted on: Podman acts on none when one is missing
    (and names the first), unless told to ignore missing pods."""
    ids: list[str] = []
    missing: NoSuchPod | None = None
    for name in _targets(args, ctx):
        try:
            ids.append(ctx.engine.pods.lookup(name).id)
        except NoSuchPod as e:
            missing = missing or e
    if missing is not None and not getattr(args, "ignore", False):
        if act_is_rm:  # Podman 4.3: only ``pod rm`` exits 1 for a missing pod; the others 125
            missing.exit_code = 1
        raise missing
    return ids


def _each(args: argparse.Namespace, ctx: CliContext, act: Callable[[str], object], act_is_rm: bool = False) -> int:
    """Act on every pod named, printing each ID (none when ``act`` returns None); Podman goes on
    after a failure."""
    errors: list[SealpodError] = []
    _check_targets(args)
    for name in _resolve(args, ctx, act_is_rm):
        try:
            result = act(name)
            if result is None:
                continue
            pod_id = result if isinstance(result, str) else getattr(result, "id", name)
            sys.stdout.write(f"{pod_id}\n")
            sys.stdout.flush()
        except NoSuchPod as e:
            if getattr(args, "ignore", False):
                continue
            if act_is_rm:  # Podman 4.3: only ``pod rm`` exits 1 for a missing pod; the others 125
                e.exit_code = 1
            errors.append(e)
        except SealpodError as e:
            errors.append(e)
    return fail_with(errors)


def _run_start(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, ctx.engine.pods.start)


def _run_stop(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, lambda n: ctx.engine.pods.stop(n, args.time))


def _run_restart(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, ctx.engine.pods.restart)


def _setup_kill(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, id_file=False, ignore=False)
    p.add_argument("-s", "--signal", default="SIGKILL", help="signal to send to the containers of the pod")


def _run_kill(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.containers import parse_signal

    parse_signal(args.signal)  # a bad signal is refused before any pod is looked up (130-kill.bats)
    return _each(args, ctx, lambda n: ctx.engine.pods.kill(n, args.signal))


def _run_pause(args: argparse.Namespace, ctx: CliContext) -> int:
    return _each(args, ctx, ctx.engine.pods.pause)


def _run_unpause(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.engine.pod_report import summarize

    pods = ctx.engine.pods

    def unpause(pod_id: str) -> object:
        if summarize(pods, pods.lookup(pod_id)).status not in ("Paused", "Degraded"):
            return None  # Podman's CLI leaves a pod with nothing to unpause alone, and does not name it
        return pods.unpause(pod_id)

    return _each(args, ctx, unpause)


def _setup_rm(p: argparse.ArgumentParser) -> None:
    _setup_targets(p, time_flag=True)
    p.add_argument("-f", "--force", action="store_true", help="stop running containers and remove the pod")


def _run_rm(args: argparse.Namespace, ctx: CliContext) -> int:
    _check_targets(args)
    if args.time is not None and not args.force:
        raise InvalidArgument("--force option must be specified to use the --time option")
    if args.force and not args.ignore:  # Podman 4.3: with --force alone, a missing pod cancels it all, silently
        try:
            _resolve(args, ctx, True)
        except NoSuchPod:
            return 0
    args.ignore = args.ignore or args.force
    return _each(args, ctx, lambda n: ctx.engine.pods.remove(n, force=args.force, timeout=args.time), True)


def _setup_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")


def _run_prune(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.force and not confirm("WARNING! This will remove all stopped/exited pods..\n", eof_error=True):
        return 0
    for pod_id in ctx.engine.pods.prune():
        sys.stdout.write(pod_id + "\n")
    return 0


# --- top / stats / logs -----------------------------------------------------------------------

def _setup_top(p: argparse.ArgumentParser) -> None:
    p.add_argument("pod", metavar="POD", nargs="?")
    p.add_argument("descriptors", nargs=argparse.REMAINDER, metavar="DESCRIPTORS")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest pod")


def _run_top(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.formatting import tabwrite

    descriptors = list(args.descriptors)
    if args.latest and args.pod:
        descriptors.insert(0, args.pod)
    try:
        target = _targets(argparse.Namespace(pods=[args.pod] if args.pod and not args.latest else [],
                                             latest=args.latest), ctx)[0]
    except NoSuchPod as e:  # only --latest with no pod gets here
        raise NoSuchPod(f"unable to look up requested container: {e}") from None
    rows = ctx.engine.pods.top(target, descriptors)
    if rows and all(len(r) == 1 for r in rows):
        sys.stdout.write("".join(r[0] + "\n" for r in rows))
        return 0
    sys.stdout.write(tabwrite("".join("\t".join(r) + "\n" for r in rows)))
    return 0


def _setup_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument("pods", nargs="*", metavar="POD")
    p.add_argument("-a", "--all", action="store_true", help="provide stats for all pods")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest pod")
    p.add_argument("--no-stream", action="store_true", help="disable streaming stats and only pull the first result")
    p.add_argument("--no-reset", action="store_true", help="disable resetting the screen between intervals")
    p.add_argument("--format", help="pretty-print container statistics to JSON or using a Go template")


def _run_stats(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.pod_rows import stats
    from sealpod.engine.pod_stats import target_pods

    targets = target_pods(ctx.engine, args.pods, all_pods=args.all, latest=args.latest)
    return stats(ctx, targets, args.format, stream=not args.no_stream, reset=not args.no_reset)


def _setup_logs(p: argparse.ArgumentParser) -> None:
    p.add_argument("pod", metavar="POD", nargs="?")
    p.add_argument("-c", "--container", default="", help="filter logs by container name or ID")
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-l", "--latest", action="store_true", help="act on the latest pod")
    p.add_argument("-n", "--names", action="store_true", help="output the container name in the log")
    p.add_argument("--since", default=None, help="show logs since TIMESTAMP")
    p.add_argument("--until", default=None, help="show logs until TIMESTAMP")
    p.add_argument("-t", "--timestamps", action="store_true", help="output the timestamps in the log")
    p.add_argument("--tail", type=int, default=-1, help="output the specified number of lines at the end")
    p.add_argument("--color", action="store_true", help="output the containers with different colors")


def _run_logs(args: argparse.Namespace, ctx: CliContext) -> int:
    pods = ctx.engine.pods
    target = _targets(argparse.Namespace(pods=[args.pod] if args.pod else [], latest=args.latest), ctx)[0]
    pod = pods.lookup(target)
    ids = [i for i in pods.container_ids(pod) if i != pod.infra_id]
    if args.container:
        wanted = ctx.engine.containers.lookup(args.container)
        if wanted.id not in ids:
            raise InvalidArgument(f"container {args.container} is not in pod {pod.name}")
        ids = [wanted.id]
    sys.stdout.flush()
    ctx.engine.containers.logs(ids, stdout=sys.stdout.buffer, stderr=sys.stderr.buffer, follow=args.follow,
                               tail=args.tail, since=args.since, until=args.until, timestamps=args.timestamps,
                               names=args.names or len(ids) > 1)
    return 0


_PS = Command("List pods", _setup_ps, _run_ps)
_RM = Command("Remove one or more pods", _setup_rm, _run_rm)


def _lifecycle(summary: str, run: Callable[[argparse.Namespace, CliContext], int], *, time_flag: bool = False,
               id_file: bool = False, ignore: bool = False) -> Command:
    return Command(summary, lambda p: _setup_targets(p, time_flag=time_flag, id_file=id_file, ignore=ignore), run)


def _clone_setup(p: argparse.ArgumentParser) -> None:
    from sealpod.cli.pod_clone import setup_clone

    setup_clone(p)


def _clone_run(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.pod_clone import run_clone

    return run_clone(args, ctx)


COMMANDS: dict[str, Command] = {
    "create": Command("Create a new empty pod", _setup_create, _run_create),
    "clone": Command("Clone an existing pod", _clone_setup, _clone_run),
    "ps": _PS, "ls": _PS, "list": _PS,
    "inspect": Command("Display a pod configuration", _setup_inspect, _run_inspect),
    "exists": Command("Check if a pod exists in local storage", _setup_exists, _run_exists),
    "start": _lifecycle("Start one or more pods", _run_start, id_file=True),
    "stop": _lifecycle("Stop one or more pods", _run_stop, time_flag=True, id_file=True, ignore=True),
    "restart": _lifecycle("Restart one or more pods", _run_restart),
    "kill": Command("Send the specified signal or SIGKILL to containers in pod", _setup_kill, _run_kill),
    "pause": _lifecycle("Pause one or more pods", _run_pause),
    "unpause": _lifecycle("Unpause one or more pods", _run_unpause),
    "rm": _RM, "remove": _RM,
    "prune": Command("Remove all stopped pods and their containers", _setup_prune, _run_prune),
    "top": Command("Display the running processes of containers in a pod", _setup_top, _run_top),
    "stats": Command("Display a live stream of resource usage statistics for the containers in one or more pods",
                     _setup_stats, _run_stats),
    "logs": Command("Fetch logs for pod with one or more containers", _setup_logs, _run_logs),
}
