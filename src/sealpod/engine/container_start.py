"""From a stored container to a created runtime container: mount, bundle, conmon.

This is where configuration turns into runtime parameters (podman's specgen/generate):
containers.conf defaults, the image's facts stored at create time, and the user's flags.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sealpod.engine import container_namespaces as cns
from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_rootfs import ensure_mtab
from sealpod.engine.container_security import seccomp_spec
from sealpod.engine.container_state import ContainerRecord
from sealpod.engine.container_userns import check_user_mapped, id_maps, mount_rootfs, shift_rootfs_once, to_host_id
from sealpod.engine.default_mounts import default_mounts
from sealpod.engine.mount_defaults import (
    bind_options,
    engine_file_options,
    tmpfs_options,
    volume_options,
    wants_containerenv,
)
from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    from typing import Any

    from sealpod.engine.containers import ContainerService
    from sealpod.engine.network_state import NetworkStatus
    from sealpod.runtime.spec import Mount, SpecParams

INIT_PATH_IN_CONTAINER = "/run/podman-init"


def _parse_conf_size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "b": 1}
    text = text.strip().lower().removesuffix("b") or "0"
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


#: Options of -v/--mount that are ours or Podman's, not the bind mount's.
_NOT_BIND_OPTIONS = frozenset({"z", "Z", "U", "O", "rw", "ro", "nocopy", "copy", "idmap", "bind", "rbind"})


def _user_mounts(svc: ContainerService, cfg: ContainerConfig, rec: ContainerRecord | None = None,
                 rootfs: Path | None = None, uid: int = 0, gid: int = 0) -> list[Mount]:
    """Binds, tmpfs and volumes; volumes are mounted (and filled from the image on first use) here."""
    from sealpod.runtime.spec import Mount

    mounts: list[Mount] = []
    for index, m in enumerate(cfg.mounts):
        if m.type == "image":
            from sealpod.engine.image_mounts import container_image_mount

            if rec is not None:
                overlay = container_image_mount(svc.engine, svc.paths(rec.id).userdata, index, m.source,
                                                not m.read_only)
                mounts.append(Mount(m.destination, "overlay", "overlay", overlay))
            continue
        if m.type == "tmpfs":
            owner = (f"uid={uid}", f"gid={gid}") if "U" in m.options else ()  # U: the tmpfs is the user's
            mounts.append(Mount(m.destination, "tmpfs", "tmpfs",
                                tmpfs_options([o for o in m.options if o != "U"]) + owner))
            continue
        if m.type == "devpts":
            mounts.append(Mount(m.destination, "devpts", "devpts", tuple(m.options)))
            continue
        if m.type == "bind":
            source = m.source
        elif rec is not None:
            source = os.fspath(svc.engine.volumes.mount_for(rec, m, rootfs, uid, gid))
        else:
            source = os.fspath(svc.engine.volume_path(m.source or None))
        if m.type == "bind" and not os.path.exists(source):
            raise InvalidArgument(f"statfs {source}: no such file or directory")
        if "U" in m.options and "O" not in m.options and rec is not None:
            from sealpod.engine.mount_options import chown_tree

            chown_tree(source, uid, gid)
        if "O" in m.options and rec is not None:
            from sealpod.engine.mount_options import overlay_volume_options

            mounts.append(Mount(m.destination, "overlay", "overlay", overlay_volume_options(
                svc.paths(rec.id).userdata, index, source, m.options, uid, gid)))
            continue
        # idmap (Podman's idmapped bind) is accepted and the bind made plain, as before: runc 1.1 cannot idmap it
        opts = ["bind" if "bind" in m.options else "rbind"] + [
            o for o in m.options if o not in _NOT_BIND_OPTIONS and not o.startswith(("idmap=", "volume-opt="))]
        opts.append("ro" if m.read_only or "ro" in m.options else "rw")
        if not any(o in opts for o in ("rprivate", "private", "rshared", "shared", "rslave", "slave")):
            opts.append("rprivate")
        opts = bind_options(source, opts) if m.type == "bind" else volume_options(opts)  # Podman's nosuid/nodev
        mounts.append(Mount(m.destination, "bind", source, tuple(opts)))
    return mounts


def _security(cfg: ContainerConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"no_new_privileges": False, "seccomp": "default", "mask": [], "unmask": []}
    for opt in cfg.security_opts:
        key, sep, value = opt.partition("=" if "=" in opt else ":")
        if key == "no-new-privileges":
            out["no_new_privileges"] = value in ("", "true")
        elif key == "seccomp":
            out["seccomp"] = value
        elif key in ("mask", "unmask"):
            out[key] += [p for p in value.split(":") if p]
        elif key == "systempaths" and value == "unconfined":  # Docker's spelling of unmask=ALL
            out["unmask"].append("ALL")
        elif key == "proc-opts":  # the options of /proc's mount, in place of the default ones
            out["proc_opts"] = tuple(o for o in value.split(",") if o)
        elif key in ("label", "apparmor"):
            continue  # no SELinux/AppArmor here: accepted, as Podman accepts them where disabled
        else:
            raise InvalidArgument(f'invalid --security-opt 1: "{opt}"')
    return out


def _hosts_file(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig, hostname: str,
                net: NetworkStatus | None, rootfs: Path | None) -> str:
    """/etc/hosts from containers.conf's base_hosts_file ("" the host's, "image" the image's,
    "none"); host.containers.internal is the configured address, a bridge's gateway, or else the
    host's own address, as in Podman; without networks the container is only 127.0.0.1."""
    from sealpod.runtime import etcfiles

    conf = svc.engine.config.containers.containers
    source = conf.base_hosts_file
    base: str | None = None
    if source == "image":
        base = etcfiles.read_in_root(rootfs, "/etc/hosts") if rootfs is not None else None
    elif source != "none":
        try:
            base = Path(source or "/etc/hosts").read_text()
        except OSError:
            base = None
    gateways = [g for a in (net.attachments if net is not None else ()) for g in a.gateways]
    internal = conf.host_containers_internal_ip
    if not internal:
        if gateways and (net is None or net.mode != "slirp4netns"):
            internal = gateways[0]
        else:
            from sealpod.network.hostaddr import local_ip

            internal = local_ip()
    ips = () if net is not None and net.mode == "host" else ((net.ips if net is not None else ()) or ("127.0.0.1",))
    extra = [etcfiles.parse_add_host(h) for h in cfg.add_hosts]
    return etcfiles.hosts_content([hostname, rec.name], base=base, extra_hosts=extra,
                                  host_containers_internal=internal or None, ips=ips)


def _etc_files(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig, hostname: str,
               net: NetworkStatus | None = None, rootfs: Path | None = None) -> list[Mount]:
    """On a bridge, /etc/hosts names the container by its addresses and resolv.conf asks
    aardvark-dns (on the gateway) first, under the ``dns.podman`` domain, as in Podman."""
    from sealpod.runtime import etcfiles
    from sealpod.runtime.spec import Mount

    userdata = svc.paths(rec.id).userdata
    files: dict[str, str] = {"/etc/hostname": etcfiles.hostname_content(hostname)}
    host_network = net is not None and net.mode == "host"
    shared_hosts = None if cfg.no_hosts else svc.engine.networks.join_shared_hosts(rec, cfg, (hostname, rec.name))
    if not cfg.no_hosts and shared_hosts is None:
        files["/etc/hosts"] = _hosts_file(svc, rec, cfg, hostname, net, rootfs)
    try:
        host_resolv = Path("/etc/resolv.conf").read_text()
    except OSError:
        host_resolv = ""
    # containers.conf's dns_* come first, then the flags' (Podman 4.3 writes both; a "none" in the file as it is)
    conf = svc.engine.config.containers.containers
    servers = (*conf.dns_servers, *cfg.dns_servers)
    dns = net.dns_servers if net is not None and not servers else ()
    searches = (*conf.dns_searches, *cfg.dns_search) or (
        (*net.dns_search, *etcfiles.parse_resolv_conf(host_resolv).searches)
        if net is not None and net.dns_search else ())
    shared_resolv = None
    if cfg.network.startswith("container:"):  # X's own file, as Podman mounts it
        from sealpod.engine.netns_share import shared_resolv_conf

        shared_resolv = shared_resolv_conf(svc, cfg)
    from sealpod.engine.dns_none import uses_image_resolv_conf

    own_resolv = not uses_image_resolv_conf(cfg) and cfg.network != "none"
    if shared_resolv is None and own_resolv:  # --dns none, --network none: the image's file, as in Podman
        files["/etc/resolv.conf"] = etcfiles.resolv_conf_content(
            host_resolv, nameservers=servers, network_nameservers=dns, searches=searches,
            options=(*conf.dns_options, *cfg.dns_options), host_network=host_network)
    if wants_containerenv(cfg):
        files["/run/.containerenv"] = _containerenv(svc, rec, cfg)
    bind = engine_file_options(cfg.read_only)  # ro,nosuid,noexec,nodev in a --read-only container, as Podman's
    mounts = [] if shared_hosts is None else [Mount("/etc/hosts", "bind", os.fspath(shared_hosts), bind)]
    if shared_resolv is not None:
        mounts.append(Mount("/etc/resolv.conf", "bind", os.fspath(shared_resolv), bind))
    uid_maps, gid_maps = id_maps(rec.spec)  # owned by the container's root, as Podman makes them
    for dest, content in files.items():
        path = userdata / os.path.basename(dest)
        path.write_text(content)
        if uid_maps or gid_maps:
            os.chown(path, to_host_id(uid_maps, 0), to_host_id(gid_maps, 0))
        mounts.append(Mount(dest, "bind", os.fspath(path), bind))
    if cfg.timezone:  # a copy, as Podman makes: the host's zone files may change under a running container
        import shutil

        from sealpod.engine.specgen import zoneinfo_path

        shutil.copyfile(zoneinfo_path(cfg.timezone), userdata / "localtime")
        mounts.append(Mount("/etc/localtime", "bind", os.fspath(userdata / "localtime"), bind))
    managed = [m for m in mounts if m.destination in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                                     "/run/.containerenv")]
    for chroot in cfg.chroot_dirs:  # a chroot inside the container sees the same files
        mounts += [Mount(chroot.rstrip("/") + m.destination, m.type, m.source, m.options) for m in managed]
    if cfg.read_only and cfg.read_only_tmpfs:  # Podman's read-only-tmpfs: scratch space where programs expect it
        taken = {m.destination for m in cfg.mounts}
        mounts += [Mount(d, "tmpfs", "tmpfs", ("rw", "rprivate", "nosuid", "nodev", "tmpcopyup"))
                   for d in ("/tmp", "/var/tmp", "/run") if d not in taken]
    return mounts


def _check_workdir(rec: ContainerRecord, cfg: ContainerConfig, rootfs: Path) -> None:
    """A --workdir the user named must exist (in the image or a mount); the image's own is created."""
    wd = cfg.workdir.rstrip("/")
    if not wd or os.path.lexists(os.path.join(rootfs, wd.lstrip("/"))):
        return
    for dest in (m.destination.rstrip("/") for m in cfg.mounts):
        if wd == dest or wd.startswith(dest + "/") or dest.startswith(wd + "/"):
            return  # a mount brings it, or the runtime makes it as a mount's parent
    from sealpod.errors import OCIRuntimeError

    raise OCIRuntimeError(f'workdir "{cfg.workdir}" does not exist on container {rec.id}')


def _containerenv(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig) -> str:
    """Empty, as in Podman, unless the container is privileged: then it may know who runs it.
    The engine is named as Podman's API level, for tools that test ``engine`` for ``podman-``."""
    graph = os.fspath(svc.store.graph_root)
    mounted = any(m.type == "bind" and m.source and (graph == m.source.rstrip("/") or graph.startswith(
        m.source.rstrip("/") + "/")) for m in cfg.mounts)  # tells a tool inside that it sees our storage
    tail = "graphRootMounted=1" if mounted else ""
    if not cfg.privileged:
        return tail
    from sealpod.engine.system import API_VERSION

    return (f'engine="podman-{API_VERSION}"\nname="{rec.name}"\nid="{rec.id}"\n'
            f'image="{rec.image_name}"\nimageid="{rec.image_id or ""}"\n'
            f"rootless={1 if svc.engine.config.rootless else 0}\n{tail}")


def _secrets(svc: ContainerService, rec: ContainerRecord, uses: list[dict[str, Any]], mounts: list[Mount],
             env: list[str]) -> tuple[list[Mount], list[str]]:
    """Each start copies the secrets afresh (a replaced secret reaches the next start), read-only."""
    from sealpod.runtime.spec import Mount

    files, secret_env = svc.engine.secrets.materialise(uses, svc.paths(rec.id).userdata)
    names = {e.partition("=")[0] for e in secret_env}
    env = [e for e in env if e.partition("=")[0] not in names] + secret_env
    return mounts + [Mount(dest, "bind", src, ("rbind", "rprivate", "ro")) for src, dest in files], env


def spec_params(svc: ContainerService, rec: ContainerRecord, rootfs: Path, *,
                notify_socket: str = "") -> SpecParams:
    """``notify_socket``: the host's NOTIFY_SOCKET, given only when the container itself is to use it."""
    from sealpod.engine.cgroups import block_io, cgroups_path, default_memory_swap
    from sealpod.engine.specgen import device_cgroup_rule
    from sealpod.runtime import etcfiles
    from sealpod.runtime.spec import Mount, Resources, SpecParams, parse_devices

    cfg = ContainerConfig.from_json(rec.config)
    static = rec.spec
    conf = svc.engine.config.containers.containers
    user = etcfiles.resolve_user(rootfs, static.get("user", ""))
    groups = etcfiles.resolve_groups(rootfs, cfg.group_add)
    hostname = _hostname(cfg, rec, svc)
    env = list(static.get("env", []))
    if user.name and not any(e.startswith("HOME=") for e in env):  # a uid the image does not know: runc
        env.append(f"HOME={user.home or '/'}")  # takes it from the passwd entry we add, as under Podman
    if not any(e.startswith("HOSTNAME=") for e in env):
        env.append(f"HOSTNAME={hostname}")
    from sealpod.engine.container_caps import planned_capabilities

    caps = planned_capabilities(svc, cfg, static.get("labels"))
    security = _security(cfg)
    from sealpod.engine.container_rlimits import container_rlimits

    limits = container_rlimits(conf.default_ulimits, cfg.ulimits)
    init = None
    init_source = None
    if cfg.init:
        init_source = cfg.init_path or _find_init(conf.init_path)
        init = INIT_PATH_IN_CONTAINER
    net = svc.engine.networks.status_of(rec) or _plain_network(cfg)
    uid_maps, gid_maps = id_maps(static)
    check_user_mapped(uid_maps, gid_maps, user.uid, user.gid)  # runc's own error would not say why
    owner = (to_host_id(uid_maps, user.uid), to_host_id(gid_maps, user.gid))  # a volume's first use chowns to it
    mounts = _etc_files(svc, rec, cfg, hostname, net, rootfs) + _user_mounts(svc, cfg, rec, rootfs, *owner)
    mounts += default_mounts(svc, rec, cfg, mounts)  # mounts.conf: a copy of each host path
    _check_workdir(rec, cfg, rootfs)
    if static.get("secrets"):
        mounts, env = _secrets(svc, rec, static["secrets"], mounts, env)
    from sealpod.engine.container_extras import extra_params, is_cdi_device
    from sealpod.engine.spec_annotations import spec_annotations
    from sealpod.engine.specgen import merge_env

    annotations = spec_annotations(svc, rec)
    extras = extra_params(svc, rec, cfg, rootfs, user, mounts, annotations)
    mounts += extras.pop("mounts")
    env = merge_env(env, extras.pop("env"))
    infra = bool(rec.pod_id) and rec.id in svc.engine.pods.infra_ids()  # Podman's infra: no pids limit, no groups
    resources = Resources(
        memory=cfg.memory, memory_swap=default_memory_swap(cfg.memory, cfg.memory_swap), cpu_shares=cfg.cpu_shares,
        cpu_quota=int(cfg.cpus * 100000) if cfg.cpus else cfg.cpu_quota,
        cpu_period=100000 if cfg.cpus else cfg.cpu_period,
        cpuset_cpus=cfg.cpuset_cpus,
        # --pids-limit -1 (none) is 0 in Podman's spec: runc then leaves pids.max as the parent has it
        pids_limit=max(cfg.pids_limit, 0) if cfg.pids_limit is not None else None if infra else conf.pids_limit or None,
        block_io=block_io(cfg), **extras.pop("resources"))
    rootless = svc.engine.config.rootless
    if rootless:  # no delegated cgroup to put limits in: none asked for (create refuses them), none set
        resources = Resources()
    namespaces = cns.namespaces(cfg, net, svc)
    if static.get("userns"):
        joined = static["userns"].get("join")
        namespaces["user"] = (cns.joined_namespace(svc, joined, "user") if joined
                              else static["userns"].get("path") or None)
    mounts = [*mounts, *cns.shared_shm(svc, rec, cfg, namespaces, mounts)]
    if security.get("proc_opts"):
        mounts.append(Mount("/proc", "proc", "proc", security["proc_opts"]))
    mounts, env, masks = _systemd_and_sockets(svc, rec, cfg, mounts, env, notify_socket)
    return SpecParams(
        rootfs=os.fspath(rootfs), args=tuple(static["command"]), env=tuple(env), cwd=static.get("workdir") or "/",
        uid=user.uid, gid=user.gid,
        additional_gids=() if infra else tuple(dict.fromkeys([user.gid, *user.additional_gids, *groups])),
        umask=int(cfg.umask or conf.umask or "0022", 8), terminal=cfg.tty,
        # a joined UTS namespace (another container's, a pod's) has its name already: Podman sets none
        hostname="" if cfg.uts.startswith("container:") or (cfg.uts == "host" and not cfg.hostname) else hostname,
        readonly_rootfs=cfg.read_only, capabilities=caps,
        user_capabilities=tuple(c for c in caps if cfg.cap_add and (c in (added := {
            a.upper() if a.upper().startswith("CAP_") else f"CAP_{a.upper()}" for a in cfg.cap_add}) or
            "CAP_ALL" in added)),  # --cap-add all: a non-root user keeps every capability too
        privileged=cfg.privileged, no_host_ttys=bool(static.get("systemd")),
        no_new_privileges=security["no_new_privileges"],
        namespaces=namespaces, mounts=tuple(mounts),
        shm_size=0 if cfg.ipc == "none" else cfg.shm_size or cns.conf_shm_size(conf.shm_size or "65536k"),
        mask=(*security["mask"], *masks), unmask=tuple(security["unmask"]), rlimits=limits,
        seccomp=seccomp_spec(cfg.privileged, security["seccomp"], caps, static),
        sysctls=cns.sysctls(cfg, namespaces, rootless, tuple(conf.default_sysctls)),
        annotations=annotations,
        cgroups_path="" if rootless else cgroups_path(cfg, rec.id), resources=resources,
        devices=(*(dev for d in cfg.devices if not is_cdi_device(d) for dev in parse_devices(d)),
                 *extras.pop("devices")), oom_score_adj=cfg.oom_score_adj,
        device_rules=tuple(device_cgroup_rule(r) for r in cfg.device_cgroup_rules),
        init=init, init_source=init_source, console_size=_terminal_size() if cfg.tty else None,
        rootless=rootless, **_spec_id_maps(static, uid_maps, gid_maps), **extras,
    )


def _spec_id_maps(static: dict[str, Any], uid_maps: Sequence[Any], gid_maps: Sequence[Any]) -> dict[str, Any]:
    """The maps for the runtime spec: a namespace joined by path (``--userns ns:PATH``) has its own,
    yet runc refuses a user namespace without any, so it gets a placeholder (as Podman gives it)."""
    if not uid_maps and (static.get("userns") or {}).get("mode") == "ns":
        from sealpod.rootless.idmap import IdMapping

        uid_maps = gid_maps = (IdMapping(0, 0, 1),)
    return {"uid_mappings": tuple(uid_maps), "gid_mappings": tuple(gid_maps)}


def _systemd_and_sockets(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig, mounts: list[Mount],
                         env: list[str], notify_socket: str) -> tuple[list[Mount], list[str], tuple[str, ...]]:
    """Systemd mode's mounts and variables (the user's mounts win), conmon's notify socket for a
    container that talks to systemd itself, and the sockets systemd passed to this process."""
    from sealpod.engine import systemd_mode as sd
    from sealpod.runtime.spec import Mount

    masks: tuple[str, ...] = ()
    if rec.spec.get("systemd"):
        mounts = [*sd.systemd_mounts([m.destination for m in cfg.mounts]), *mounts]
        env = sd.merge_env(env, sd.systemd_env(rec.id))
        masks = sd.systemd_masked_paths()
    if notify_socket:
        notify_dir = svc.paths(rec.id).bundle / "notify"  # conmon makes notify.sock in it
        notify_dir.mkdir(exist_ok=True)
        mounts.append(Mount(sd.NOTIFY_DIR_IN_CONTAINER, "bind", os.fspath(notify_dir), ("bind", "rprivate")))
        env = sd.merge_env(env, [f"NOTIFY_SOCKET={sd.NOTIFY_SOCKET_IN_CONTAINER}"])
    _, listen_env = sd.listen_fds()
    return mounts, sd.merge_env(env, listen_env), masks


def _network_after_create(rec: ContainerRecord, cfg: ContainerConfig) -> bool:
    """A container with a user namespace of its own gets its network namespace from the runtime,
    inside that user namespace, and configured once created (Podman's order): a namespace made
    outside could not be joined by pod members entering the user namespace first, nor managed by
    the container's root."""
    from sealpod.engine.network_flags import network_mode

    uid_maps, gid_maps = id_maps(rec.spec)
    # a joined user namespace (``--userns container:X``, ``ns:PATH``) too: runc enters it before any netns path
    own = bool(uid_maps or gid_maps) or (rec.spec.get("userns") or {}).get("mode") == "ns"
    return own and network_mode(cfg) in ("bridge", "slirp4netns")


def _configure_created_network(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig, rootfs: Path,
                               pid: int) -> None:
    """Bring up the created container's own network namespace, then write the /etc files that name
    its addresses and DNS (bind-mounted already: rewritten in place, before the process starts)."""
    try:
        net = svc.engine.networks.configure_created(rec, pid)
        _etc_files(svc, rec, cfg, _hostname(cfg, rec, svc), net, rootfs)
    except BaseException:
        try:
            svc.runtime(rec).delete(rec.id, force=True)
        except SealpodError:
            pass
        raise


def _hostname(cfg: ContainerConfig, rec: ContainerRecord, svc: ContainerService | None = None) -> str:
    if cfg.uts.startswith("container:") and not cfg.hostname and svc is not None:  # that one's name, as Podman
        try:
            other = svc.lookup(cfg.uts.split(":", 1)[1])
        except SealpodError:
            other = rec
        if other.id != rec.id:
            return _hostname(ContainerConfig.from_json(other.config), other, svc)
    if (cfg.uts == "host" or (cfg.network == "host" and not cfg.uts)) and not cfg.hostname:
        # the host's name (--network host takes it too, as in Podman), which the runtime must not set on the host
        import socket

        return socket.gethostname()
    return cfg.hostname or rec.id[:12]


def _plain_network(cfg: ContainerConfig) -> NetworkStatus:
    """A container whose network was not set up by this start (spec written for inspection)."""
    from sealpod.engine.network_flags import network_mode
    from sealpod.engine.network_state import NetworkStatus

    mode = network_mode(cfg)
    if mode.startswith("ns:"):
        return NetworkStatus("ns", mode[3:])
    return NetworkStatus("host" if mode == "host" else "none")


def _terminal_size() -> tuple[int, int] | None:
    for fd in (1, 0, 2):
        try:
            size = os.get_terminal_size(fd)
        except OSError:
            continue
        return size.lines, size.columns
    return None


def _find_init(configured: str) -> str:
    import shutil

    for candidate in (configured, "/usr/libexec/podman/catatonit", "/usr/bin/catatonit"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("catatonit")
    if not found:
        raise InvalidArgument("container-init binary not found on the host: install catatonit or use --init-path")
    return found


def exit_command(svc: ContainerService, ctr_id: str) -> tuple[str, ...]:
    """How conmon calls us back when the container exits: a small script in the run root.

    A foreground ``run``/``start -a`` cleans up itself and leaves its PID in the container's
    ``attached`` file; the script then skips a second Python process competing for the CPU
    (if that process died, its PID is gone and the cleanup runs as usual).  Python starts
    without site processing (-I -S, ~10 ms less) on our own import path.  Kept in a file, the
    command conmon holds for the container's whole life stays short: conmon's memory is what
    a detached container costs.
    """
    store = svc.store
    script = _cleanup_script(store.run_root)
    return (script, "--root", os.fspath(store.graph_root), "--runroot", os.fspath(store.run_root),
            "--storage-driver", store.driver_name, "container", "cleanup", ctr_id)


def _cleanup_script(run_root: Path) -> str:
    """The exit command's script, written when missing or out of date (another sealpod install)."""
    import shlex

    import sealpod

    site = [p for p in sys.path if p.endswith("site-packages")]
    if not site:
        import sysconfig

        site = [sysconfig.get_paths()["purelib"]]
    paths = [os.path.dirname(os.path.dirname(os.path.abspath(sealpod.__file__))), site[0]]
    boot = f"import sys; sys.path[:0] = {paths!r}; from sealpod.__main__ import leave, main; leave(main(sys.argv[1:]))"
    # the arguments are exit_command's: "$4" is the run root, "$6" the storage driver, the last one the
    # container's ID; the marker is ContainerPaths.rundir / "attached"
    text = ("#!/bin/sh\n# conmon's exit command for sealpod containers: skip when a foreground sealpod cleans up\n"
            'eval "id=\\${$#}"; m="$4/$6-containers/$id/userdata/attached"\n'
            'if [ -f "$m" ] && { read -r pid < "$m"; kill -0 "$pid"; } 2>/dev/null; then exit 0; fi\n'
            f"exec {shlex.quote(sys.executable)} -I -S -c {shlex.quote(boot)} \"$@\"\n")
    path = os.path.join(os.fspath(run_root), "sealpod-cleanup")
    try:
        with open(path) as f:
            if f.read() == text:
                return path
    except OSError:
        pass
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}"  # threads of one API server write it at once
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o700), "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def create_in_runtime(svc: ContainerService, rec: ContainerRecord) -> tuple[int, int]:
    """Mount the root filesystem, write config.json and have conmon create the container."""
    from sealpod.engine import systemd_mode as sd
    from sealpod.runtime.conmon import CreateRequest
    from sealpod.runtime.spec import build_spec, write_spec

    paths = svc.paths(rec.id)
    cfg = ContainerConfig.from_json(rec.config)
    sdnotify = sd.check_sdnotify_value(cfg.sdnotify)
    notify_socket = sd.take_notify_socket()  # no runtime process may see it; conmon relays in container mode
    relay = notify_socket if sdnotify == "container" else ""
    listen_count, _ = sd.listen_fds()
    rootfs = mount_rootfs(svc, rec)
    held: list[socket.socket] = []
    try:
        paths.userdata.mkdir(parents=True, exist_ok=True)
        paths.rundir.mkdir(parents=True, exist_ok=True)
        shift_rootfs_once(svc, rec, rootfs)
        uid_maps, gid_maps = id_maps(rec.spec)
        ensure_mtab(rootfs, (to_host_id(uid_maps, 0), to_host_id(gid_maps, 0)))
        late = _network_after_create(rec, cfg)
        networks = svc.engine.networks  # one service: it hands over the ports its setup reserved
        networks.setup_for(rec, defer=late)
        held = networks.take_held(rec.id)  # published ports, bound: conmon keeps them, as Podman's
        write_spec(paths.bundle, build_spec(spec_params(svc, rec, rootfs, notify_socket=relay)))
        paths.exit_file.unlink(missing_ok=True)
        conf = svc.engine.config.containers.containers
        log_driver = cfg.log_driver or conf.log_driver or "k8s-file"
        max_size = cfg.log_opts.get("max-size")
        req = CreateRequest(
            id=rec.id, name=rec.name, bundle=paths.bundle, log_path=Path(cfg.log_opts.get("path") or paths.log),
            pidfile=paths.pidfile, conmon_pidfile=paths.conmon_pidfile, log_driver=log_driver,
            log_size_max=_parse_conf_size(max_size) if max_size else int(conf.log_size_max or -1),
            terminal=cfg.tty, stdin=cfg.interactive, exit_command=exit_command(svc, rec.id), timeout=cfg.timeout,
            preserve_fds=max(0 if rec.started_at else cfg.preserve_fds, listen_count),  # the creating command's, once
            sdnotify_socket=relay, held_fds=tuple(h.fileno() for h in held))
        pid = svc.runtime(rec).create(req)
        if late:
            _configure_created_network(svc, rec, cfg, rootfs, pid)
    except BaseException:
        for h in held:
            h.close()
        try:
            svc.engine.networks.teardown_for(rec)
        except SealpodError:
            pass
        try:
            svc.store.containers.unmount(rec.id)
            svc.engine.volumes.release_for(rec)
        except SealpodError:
            pass
        raise
    for h in held:  # conmon has its own copies now
        h.close()
    conmon_pid = int(paths.conmon_pidfile.read_text().strip() or 0) if paths.conmon_pidfile.exists() else 0
    for where, value in ((cfg.conmon_pidfile, str(conmon_pid)), (cfg.pidfile, f"{pid}\n")):
        if where:
            try:
                Path(where).write_text(value)
            except OSError as e:  # a SealpodError: run --rm removes the container it made
                raise SealpodError(f"writing pid file {where}: {e.strerror or e}") from None
    sd.remember_notify(paths.rundir, notify_socket, sdnotify)  # conmon mode: READY=1 once started
    if relay:  # the container says READY itself; conmon is the main process either way
        sd.notify(relay, sd.started_message(sdnotify, conmon_pid))
    return pid, conmon_pid
