"""The flags of ``run`` and ``create``, declared once, and their translation to a ContainerConfig."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from pathlib import Path

from sealpod.cli.args import add_addressing_flags, key_values, parse_bool, read_text_file
from sealpod.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine.container_config import ContainerConfig, MountSpec

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$", re.I)


def parse_size(text: str, flag: str) -> int:
    """``512m``, ``1g``, ``65536k``, ``1024`` (bytes): 1024-based, as Docker's RAMInBytes."""
    m = _SIZE.match(text.strip())
    if not m:
        raise InvalidArgument(f'invalid size for {flag}: "{text}"')
    unit = " kmgtp".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * (1024 ** unit))


def _add_common(p: argparse.ArgumentParser) -> None:
    a = p.add_argument
    a("image", metavar="IMAGE")
    a("command", nargs=argparse.REMAINDER, metavar="COMMAND")
    a("--name", default="", help="assign a name to the container")
    a("-i", "--interactive", action="store_true", help="keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    a("--rm", action="store_true", help="remove the container when it exits")
    a("-e", "--env", action="append", default=[], help="set environment variables")
    a("--env-file", action="append", default=[], help="read environment variables from a file")
    a("--env-host", action="store_true", help="use all host environment variables in the container")
    a("--http-proxy", nargs="?", const=True, default=None, type=parse_bool,
      help="set proxy environment variables in the container based on the host proxy vars")
    a("--preserve-fds", type=int, default=0, help="pass a number of additional file descriptors into the container")
    a("--timeout", type=int, default=0, help="maximum time a container may run before it is killed (seconds)")
    a("--device-cgroup-rule", action="append", default=[], help="add a rule to the cgroup allowed devices list")
    a("--tz", default="", help="set timezone in container (local: the host's; or a zoneinfo name)")
    a("--unsetenv", action="append", default=[], help="unset a default environment variable (image, containers.conf)")
    a("--unsetenv-all", action="store_true", help="unset all default environment variables")
    a("--kernel-memory", default=None, help=argparse.SUPPRESS)  # accepted, with Podman's warning, and ignored
    a("-w", "--workdir", default="", help="working directory inside the container")
    a("-u", "--user", default="", help="username or UID (format: <name|uid>[:<group|gid>])")
    a("--group-add", action="append", default=[], help="add additional groups to join")
    a("--entrypoint", default=None, help="overwrite the default ENTRYPOINT of the image")
    a("--init", action="store_true", help="run an init inside the container that forwards signals and reaps")
    a("--init-path", default="", help="path to the container-init binary")
    a("-v", "--volume", action="append", default=[], help="bind mount a volume (SRC:DEST[:OPTIONS])")
    a("--mount", action="append", default=[], help="attach a filesystem mount (type=bind|volume|tmpfs,...)")
    a("--tmpfs", action="append", default=[], help="mount a temporary filesystem (DEST[:OPTIONS])")
    a("--image-volume", default="", help="how the image's VOLUMEs are mounted (bind, tmpfs, ignore)")
    a("--volumes-from", action="append", default=[], help="mount volumes from the specified container(s)")
    a("--read-only", action="store_true", help="make the container's root filesystem read-only")
    a("--privileged", action="store_true", help="give extended privileges to the container")
    a("--cap-add", action="append", default=[], help="add capabilities")
    a("--cap-drop", action="append", default=[], help="drop capabilities")
    a("--security-opt", action="append", default=[], help="security options")
    a("--ulimit", action="append", default=[], help="ulimit options (TYPE=SOFT[:HARD])")
    a("--sysctl", action="append", default=[], help="sysctl options")
    a("--device", action="append", default=[], help="add a host device to the container")
    a("-m", "--memory", default=None, help="memory limit (format: <number>[<unit>])")
    a("--memory-swap", default=None, help="swap limit equal to memory plus swap")
    a("--cpus", type=float, default=None, help="number of CPUs")
    a("--cpu-shares", "-c", type=int, default=None, help="CPU shares (relative weight)")
    a("--cpu-period", type=int, default=None, help="limit the CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=int, default=None, help="limit the CPU CFS (Completely Fair Scheduler) quota")
    a("--cpuset-cpus", default=None, help="CPUs in which to allow execution (0-3, 0,1)")
    a("--pids-limit", type=int, default=None, help="tune container pids limit (-1 for unlimited)")
    a("--shm-size", default=None, help="size of /dev/shm")
    a("--restart", default="", help="restart policy (no, on-failure[:max_retries], always, unless-stopped)")
    a("--stop-signal", default="", help="signal to stop a container")
    a("--stop-timeout", type=int, default=None, help="timeout (in seconds) to stop a container")
    a("-l", "--label", action="append", default=[], help="set metadata on the container")
    a("--label-file", action="append", default=[], help="read in a line delimited file of labels")
    a("--annotation", action="append", default=[], help="add an annotation to the container")
    a("-h", "--hostname", default="", help="set the container hostname")
    add_addressing_flags(p, "container", "the container")
    a("--network", "--net", action="append", default=[],
      help="connect the container to a network (bridge, none, host, container:ID, ns:PATH, NAME[:ip=,alias=])")
    a("-p", "--publish", action="append", default=[], help="publish a container's port(s) to the host")
    a("-P", "--publish-all", action="store_true", help="publish all exposed ports to random host ports")
    a("--expose", action="append", default=[], help="expose a port or a range of ports")
    a("--ipc", default="", help="IPC namespace to use")
    a("--pid", default="", help="PID namespace to use")
    a("--uts", default="", help="UTS namespace to use")
    a("--userns", default="", help="user namespace to use (host, keep-id[:uid=,gid=], nomap, auto[:size=], ns:PATH)")
    a("--uidmap", action="append", default=[], help="UID map for the user namespace (CONTAINER:HOST:SIZE)")
    a("--gidmap", action="append", default=[], help="GID map for the user namespace (CONTAINER:HOST:SIZE)")
    a("--subuidname", default="", help="name of the range from /etc/subuid for the user namespace")
    a("--subgidname", default="", help="name of the range from /etc/subgid for the user namespace")
    a("--log-driver", default="", help="logging driver for the container (k8s-file, none, passthrough)")
    a("--log-opt", action="append", default=[], help="logging driver options")
    a("--pull", default="missing", choices=("always", "missing", "never", "newer"), help="pull image policy")
    a("--platform", default="", help="the platform of the image to pull (os/arch[/variant])")
    a("--arch", default="", help="use ARCH instead of the architecture of the machine for choosing images")
    a("--os", default="", help="use OS instead of the running OS for choosing images")
    a("--variant", default="", help="use VARIANT instead of the running architecture variant for choosing images")
    a("--replace", action="store_true", help="replace an existing container of the same name")
    a("--cidfile", default="", help="write the container ID to the file")
    a("--conmon-pidfile", default="", help="path to the file that will receive the PID of conmon")
    a("--pidfile", default="", help="write the container process ID to the file")
    a("--chrootdirs", action="append", default=[], help="chroot directories inside the container")
    a("--systemd", default="", help="run container in systemd mode (true, false, always)")
    a("--sdnotify", default="", help="control sd-notify behavior (container, conmon, ignore)")
    a("--cgroups", default="", choices=("enabled", "disabled", "no-conmon", "split"),
      help="control container cgroup configuration")
    # booleans as cobra's: "--sig-proxy IMAGE" never takes IMAGE as the value ("--sig-proxy=false" does)
    a("--sig-proxy", action="store_true", default=True, help="proxy received signals")
    a("--oom-score-adj", type=int, default=None, help="tune the host's OOM preferences (-1000 to 1000)")
    a("--umask", default="", help="set the umask inside the container")
    a("--requires", action="append", default=[], help="containers to start before this one (comma-separated)")
    a("--pod", default="", help="run the container in a pod (NAME, ID, or new:NAME to create it)")
    a("--pod-id-file", default="", help="read the pod ID from the file")
    from sealpod.cli.health import add_health_flags

    add_health_flags(p)
    from sealpod.cli.cgroup_flags import add_cgroup_flags

    add_cgroup_flags(p)
    from sealpod.cli.resource_flags import add_resource_flags

    add_resource_flags(p)
    a("--secret", action="append", default=[], help="add a secret: NAME[,type=mount|env,target=,uid=,gid=,mode=]")
    a("--tls-verify", action="store_true", default=None, help="verify registries' TLS")
    a("--authfile", default=None, help="path of the authentication file")
    a("--creds", default=None, help="credentials (USERNAME:PASSWORD) for the registry")
    a("--signature-policy", type=Path, default=None, help=argparse.SUPPRESS)  # hidden, as in Podman
    a("-q", "--quiet", action="store_true", help="suppress output information when pulling images")
    a("--rootfs", action="store_true",
      help="the first argument is not an image but the root filesystem of the container (DIR, or DIR:O: an overlay)")




def setup_create(p: argparse.ArgumentParser, *, run: bool = False) -> None:
    """The flags of create; ``run`` adds the two of its own (create refuses them as unknown, as Podman)."""
    _add_common(p)
    # Podman's create mode has both; create keeps --attach's words unread (start -a attaches stdout/stderr)
    p.add_argument("-a", "--attach", action="append", default=[], help="attach to STDIN, STDOUT or STDERR")
    p.add_argument("--disable-content-trust", action="store_true", dest="noop_disable_content_trust",
                   help="This is a Docker specific option and is a NOOP")
    if run:
        p.add_argument("-d", "--detach", action="store_true",
                       help="run the container in the background and print its ID")
        p.add_argument("--detach-keys", default=None, help="override the key sequence for detaching a container")
    else:
        p.set_defaults(detach=False, detach_keys=None)
        p.add_argument("--init-ctr", default="", help="make this a pod init container: always or once")




def _env_file(path: str) -> list[str]:
    try:
        lines = read_text_file(path).splitlines()
    except OSError as e:
        raise InvalidArgument(f"open {path}: {e.strerror.lower() if e.strerror else e}") from e
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _label_files(paths: list[str]) -> list[str]:
    out: list[str] = []
    for path in paths:
        try:
            out.extend(_env_file(path))
        except InvalidArgument as e:
            raise InvalidArgument(f"unable to process labels: {e}") from None
    return out


def _env_item(item: str) -> list[str]:
    """``NAME=VALUE`` as is; ``NAME`` takes the host's value, as Docker does; ``PREFIX*`` takes every
    host variable starting with PREFIX (case-sensitive, the star only at the end), as Podman does."""
    key, sep, _ = item.partition("=")
    if sep:
        return [item]
    if key.endswith("*"):
        return [f"{k}={v}" for k, v in os.environ.items() if k.startswith(key[:-1])]
    return [f"{key}={os.environ[key]}"] if key in os.environ else []


def _env(args: argparse.Namespace) -> tuple[str, ...]:
    out: list[str] = []
    for path in args.env_file:
        for line in _env_file(path):
            out.extend(_env_item(line))
    for item in args.env:
        out.extend(_env_item(item))
    return tuple(out)


def _volume(spec: str) -> MountSpec:
    from sealpod.engine.container_config import MountSpec

    parts = spec.split(":")
    if len(parts) == 1:
        return MountSpec("volume", parts[0])
    if not parts[0]:
        raise InvalidArgument("host directory cannot be empty")
    if not parts[1]:
        raise InvalidArgument("container directory cannot be empty")
    if len(parts) > 3:
        raise InvalidArgument(f'invalid volume specification: "{spec}"')
    src, dest = parts[0], parts[1]
    options = tuple(o for o in (parts[2].split(",") if len(parts) == 3 else []) if o)
    if not dest.startswith("/"):
        raise InvalidArgument(f'invalid container path "{dest}", must be an absolute path')
    kind = "bind" if src.startswith(("/", ".")) else "volume"
    return MountSpec(kind, dest, os.path.abspath(src) if kind == "bind" else src, options, "ro" in options)


def _mount(spec: str) -> MountSpec:
    from sealpod.cli.mount_flags import parse_mount

    return parse_mount(spec)


def _systemd_unit_label(labels: dict[str, str]) -> dict[str, str]:
    """A container created by a systemd unit is labelled with it (PODMAN_SYSTEMD_UNIT, set by
    ``generate systemd``/quadlet units), as Podman's client does: auto-update finds units so."""
    import os

    unit = os.environ.get("PODMAN_SYSTEMD_UNIT")
    return {**labels, "PODMAN_SYSTEMD_UNIT": unit} if unit else labels


def _tmpfs(spec: str) -> MountSpec:
    from sealpod.engine.container_config import MountSpec

    dest, _, opts = spec.partition(":")
    return MountSpec("tmpfs", dest, "tmpfs", tuple(o for o in opts.split(",") if o))


def _restart(text: str) -> Any:
    from sealpod.engine.container_config import RestartPolicy

    name, _, retries = text.partition(":")
    if name not in ("", "no", "on-failure", "always", "unless-stopped"):
        raise InvalidArgument(f'invalid restart policy "{text}"')
    if retries and name != "on-failure":
        raise InvalidArgument("restart policy retries can only be specified with on-failure restart policy")
    try:
        return RestartPolicy(name, int(retries) if retries else 0)
    except ValueError as e:
        raise InvalidArgument(f'invalid restart policy "{text}"') from e


def config_from_args(args: argparse.Namespace) -> ContainerConfig:
    from sealpod.cli.cgroup_flags import cgroup_fields
    from sealpod.cli.health import health_fields
    from sealpod.cli.resource_flags import resource_fields
    from sealpod.engine.container_config import ContainerConfig

    if args.rm and args.restart not in ("", "no", "on-failure"):  # Podman lets a bare on-failure pass
        raise InvalidArgument('the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"')
    _check_conflicts(args)
    from sealpod.cli.run_checks import check_devices, check_pod_userns, check_security_opts, check_sysctls, check_userns

    check_security_opts(args.security_opt)
    check_userns(args.userns, args.uidmap, args.gidmap, args.subuidname, args.subgidname)
    check_pod_userns(args.userns, args.pod)
    check_sysctls(args.sysctl, args.network)
    check_devices(args.device)
    if args.preserve_fds > 0:  # now, before this process opens files of its own on those numbers
        from sealpod.cli.args import require_passed_fds
        from sealpod.utils.proc import hold_fds

        require_passed_fds(args.preserve_fds)
        hold_fds(args.preserve_fds)
    if args.kernel_memory is not None:
        from sealpod.utils.logrus import warning

        warning("The --kernel-memory flag is no longer supported. This flag is a noop.")
    mounts = tuple(dict.fromkeys([_volume(v) for v in args.volume] + [_mount(m) for m in args.mount] +
                                 [_tmpfs(t) for t in args.tmpfs]))  # the same mount twice is one
    entrypoint = None
    if args.entrypoint is not None:
        text = args.entrypoint
        entrypoint = tuple(_json_or_words(text)) if text else ()
    return ContainerConfig(
        image="" if args.rootfs else args.image, command=tuple(args.command) if args.command else None,
        entrypoint=entrypoint,
        name=args.name, env=_env(args), env_host=args.env_host, http_proxy=args.http_proxy, workdir=args.workdir,
        user=args.user,
        group_add=tuple(g for item in args.group_add for g in item.split(",") if g),
        tty=args.tty, interactive=args.interactive, detach=args.detach,
        remove=args.rm, labels=_systemd_unit_label(key_values(_label_files(args.label_file) + list(args.label),
                                                              "label")),
        annotations=key_values(args.annotation, "annotation"),
        hostname=args.hostname, **_network_fields(args), add_hosts=tuple(args.add_host),
        dns_servers=tuple(args.dns), dns_search=tuple(args.dns_search), dns_options=tuple(args.dns_option),
        no_hosts=args.no_hosts, mounts=mounts, **_volume_fields(args), read_only=args.read_only,
        privileged=args.privileged,
        cap_add=tuple(args.cap_add), cap_drop=tuple(args.cap_drop), security_opts=tuple(args.security_opt),
        ulimits=tuple(args.ulimit), sysctls=key_values(args.sysctl, "sysctl"), devices=tuple(args.device),
        memory=parse_size(args.memory, "--memory") if args.memory else None,
        memory_swap=(-1 if args.memory_swap == "-1" else parse_size(args.memory_swap, "--memory-swap"))
        if args.memory_swap else None,
        cpus=args.cpus, cpu_shares=args.cpu_shares, cpuset_cpus=args.cpuset_cpus, pids_limit=args.pids_limit,
        shm_size=parse_size(args.shm_size, "--shm-size") if args.shm_size else None,
        ipc=args.ipc, pid=args.pid, uts=args.uts, init=args.init, init_path=args.init_path,
        restart=_restart(args.restart), stop_signal=args.stop_signal, stop_timeout=args.stop_timeout,
        log_driver=args.log_driver, log_opts=key_values(args.log_opt, "log-opt"), pull=args.pull,
        platform=args.platform, detach_keys=args.detach_keys, sig_proxy=args.sig_proxy, cidfile=args.cidfile,
        conmon_pidfile=args.conmon_pidfile, pidfile=args.pidfile, oom_score_adj=args.oom_score_adj, umask=args.umask,
        requires=tuple(n for item in args.requires for n in item.split(",") if n), **health_fields(args),
        secrets=tuple(args.secret), pod=_pod(args), userns=args.userns, uid_maps=tuple(args.uidmap),
        gid_maps=tuple(args.gidmap), subuidname=args.subuidname, subgidname=args.subgidname,
        unsetenv=tuple(args.unsetenv), unsetenv_all=args.unsetenv_all, cpu_period=args.cpu_period,
        cpu_quota=args.cpu_quota, timezone=args.tz, timeout=args.timeout, chroot_dirs=tuple(args.chrootdirs),
        preserve_fds=args.preserve_fds, device_cgroup_rules=tuple(args.device_cgroup_rule),
        sdnotify=_sdnotify_flag(getattr(args, "sdnotify", "")), cgroups=getattr(args, "cgroups", ""),
        systemd=_systemd_flag(args.systemd), **cgroup_fields(args), **resource_fields(args),
        rootfs=args.image if args.rootfs else "",  # --rootfs: IMAGE names a directory (DIR[:O]), no image
        init_ctr=_init_ctr(args),
    )


def _volume_fields(args: argparse.Namespace) -> dict[str, Any]:
    """``--image-volume`` and ``--volumes-from``, checked now so that a typo fails before any pull."""
    from sealpod.engine.image_volumes import check_mode, check_volumes_from

    specs = tuple(v for v in args.volumes_from if v)  # one container each: options may hold commas (ro,z)
    for spec in specs:
        check_volumes_from(spec)
    return {"image_volume": check_mode(args.image_volume) if args.image_volume else "", "volumes_from": specs}


def _sdnotify_flag(value: str) -> str:
    """``--sdnotify`` checked now, in Podman's words, so that a typo fails before any pull."""
    from sealpod.engine.systemd_mode import check_sdnotify_value

    return check_sdnotify_value(value) if value else ""


def _systemd_flag(value: str) -> str:
    """``--systemd`` checked now, so that a typo fails before any pull."""
    from sealpod.engine.systemd_mode import check_systemd_value

    return check_systemd_value(value) if value else ""


def _check_conflicts(args: argparse.Namespace) -> None:
    """Flags that cannot be set together, in Podman's words; --arch/--os/--variant fold into --platform."""
    for first, second in (("cpu_period", "cpus"), ("cpu_quota", "cpus"), ("no_hosts", "add_host")):
        if getattr(args, first) and getattr(args, second):
            one, two = first.replace("_", "-"), second.replace("_", "-")
            raise InvalidArgument(f"--{one} and --{two} cannot be set together")
    groups = getattr(args, "group_add", None) or []
    if "keep-groups" in groups and len(groups) > 1:
        raise InvalidArgument("the '--group-add keep-groups' option is not allowed with any other --group-add options")
    if args.arch or args.os or args.variant:
        if args.platform:
            raise InvalidArgument("--platform option can not be specified with --arch or --os")
        import platform as host

        machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(host.machine(), host.machine())
        args.platform = "/".join(p for p in (args.os or "linux", args.arch or machine, args.variant) if p)


def _pod(args: argparse.Namespace) -> str:
    if not args.pod_id_file:
        return str(args.pod)
    try:
        return read_text_file(args.pod_id_file).strip()
    except OSError as e:
        raise InvalidArgument(f"reading pod ID file: {(e.strerror or str(e)).lower()}") from e


_NETWORK_MODES = ("", "bridge", "default", "none", "host", "private", "slirp4netns", "pasta")


def _network_fields(args: argparse.Namespace) -> dict[str, Any]:
    """``--network`` (repeatable): one mode, or named networks each with ``:ip=,alias=,mac=``."""
    # NET1,NET2 is two networks (a value with :options keeps its commas for them), as in Podman
    from sealpod.cli.run_checks import check_bridge_addresses

    check_bridge_addresses(args.network, args.ip, getattr(args, "ip6", ""), args.mac_address)
    values = [n for v in args.network if v for n in (v.split(",") if ":" not in v else [v]) if n]
    fields: dict[str, Any] = {
        "network": "", "ports": tuple(args.publish), "publish_all": args.publish_all,
        "expose": tuple(args.expose), "ip": args.ip, "mac_address": args.mac_address,
        "network_aliases": tuple(n for v in args.network_alias for n in v.split(",") if n)}  # a string slice
    if len(values) == 1 and (values[0] in _NETWORK_MODES
                             or values[0].startswith(("container:", "ns:", "slirp4netns:"))):
        fields["network"] = values[0]
    elif values:
        from sealpod.engine.network_flags import parse_network_flag

        for value in values:
            if value in _NETWORK_MODES or value.startswith(("container:", "ns:", "slirp4netns:")):
                raise InvalidArgument(f"--network {value} cannot be combined with other networks")
        fields["network"] = "bridge"
        fields["networks"] = dict(parse_network_flag(v) for v in values)
    mode = fields["network"]
    if fields["ports"] and (mode in ("none", "host") or mode.startswith(("container:", "ns:"))):
        import sys  # Podman 4.3 discards them with this line on stderr, and runs the container

        sys.stderr.write("Port mappings have been discarded as one of the Host, Container, Pod, and None network "
                         "modes are in use\n")
        fields.update(ports=())  # -P alone is kept (its annotation says TRUE) and publishes nothing there
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.network_flags import check_config

    check_config(ContainerConfig(image="", **fields))
    return fields


def _json_or_words(text: str) -> list[str]:
    if text.startswith("["):
        import json

        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return [text] if " " not in text else shlex.split(text)


def _init_ctr(args: argparse.Namespace) -> str:
    value = getattr(args, "init_ctr", "")
    if not value:
        return ""
    from sealpod.cli.pod_flags import init_ctr_flag

    return init_ctr_flag(value, args.pod or args.pod_id_file)
