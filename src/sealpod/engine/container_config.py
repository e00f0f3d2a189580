"""What a user asked a container to be: the one spec that CLI flags, API bodies and kube
YAML are all translated into, stored with the container as JSON.

Every field has a default that means "not given", so image config and containers.conf
can fill what the user left out (see :mod:`sealpod.engine.specgen`).
"""

from __future__ import annotations

from sealpod.utils import record as dataclasses
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class MountSpec:
    """A bind mount, named volume or tmpfs (from -v, --mount, --tmpfs)."""

    type: str  # bind | volume | tmpfs
    destination: str
    source: str = ""
    options: tuple[str, ...] = ()
    read_only: bool = False


@dataclass(frozen=True)
class RestartPolicy:
    name: str = ""  # "" (none given: Podman's "none") | no | on-failure | always | unless-stopped
    max_retries: int = 0


@dataclass(frozen=True)
class ContainerConfig:
    image: str  # as the user typed it
    command: tuple[str, ...] | None = None  # None: the image's Cmd
    entrypoint: tuple[str, ...] | None = None  # None: the image's Entrypoint; () clears it
    name: str = ""
    env: tuple[str, ...] = ()  # KEY=VALUE from -e/--env-file (merged over image and conf env)
    env_host: bool = False
    http_proxy: bool | None = None  # --http-proxy; None: containers.conf's http_proxy (default true)
    workdir: str = ""
    user: str = ""
    group_add: tuple[str, ...] = ()
    tty: bool = False
    interactive: bool = False
    detach: bool = False
    remove: bool = False  # --rm
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    network: str = ""  # "" default | none | host | private | container:ID | ns:PATH
    add_hosts: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    no_hosts: bool | None = None  # --no-hosts; None: containers.conf's no_hosts (default false)
    mounts: tuple[MountSpec, ...] = ()
    read_only: bool = False
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opts: tuple[str, ...] = ()
    ulimits: tuple[str, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    devices: tuple[str, ...] = ()
    memory: int | None = None
    memory_swap: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None
    shm_size: int | None = None
    ipc: str = ""
    pid: str = ""
    uts: str = ""
    init: bool = False
    init_path: str = ""
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    stop_signal: str = ""
    stop_timeout: int | None = None
    log_driver: str = ""
    log_opts: dict[str, str] = field(default_factory=dict)
    pull: str = "missing"
    platform: str = ""
    detach_keys: str | None = None
    sig_proxy: bool = True
    cidfile: str = ""
    conmon_pidfile: str = ""
    pidfile: str = ""  # --pidfile: where the container process's PID is written at each start
    oom_score_adj: int | None = None
    umask: str = ""
    healthcheck: dict[str, Any] = field(default_factory=dict)  # Docker's shape, only what the user gave
    health_on_failure: str = ""  # none | kill | restart | stop
    secrets: tuple[str, ...] = ()  # --secret specs: NAME[,type=mount|env][,target=][,uid=,gid=,mode=]
    requires: tuple[str, ...] = ()  # containers started before this one (--requires, compose's depends_on)
    ports: tuple[str, ...] = ()  # -p specs as given; parsed (and host ports picked) at start
    publish_all: bool = False  # -P
    expose: tuple[str, ...] = ()
    ip: str = ""
    mac_address: str = ""
    network_aliases: tuple[str, ...] = ()
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> per-network options
    pod: str = ""  # pod name or ID to join (resolved to the pod's ID at create)
    userns: str = ""  # "" (containers.conf) | host | keep-id[:uid=,gid=] | nomap | auto[:size=] | ns:PATH
    uid_maps: tuple[str, ...] = ()  # --uidmap CONTAINER:HOST:SIZE
    gid_maps: tuple[str, ...] = ()  # --gidmap
    subuidname: str = ""  # --subuidname: the /etc/subuid ranges of that name
    subgidname: str = ""
    unsetenv: tuple[str, ...] = ()  # --unsetenv: default variables (image, containers.conf) left out
    unsetenv_all: bool = False  # --unsetenv-all: only what the user set with -e/--env-file
    cpu_period: int | None = None  # --cpu-period (microseconds); --cpus sets both itself
    cpu_quota: int | None = None  # --cpu-quota
    preserve_fds: int = 0  # --preserve-fds: fds 3.. of the creating command reach the container (not stored use)
    timeout: int = 0  # --timeout: seconds the container may run before conmon kills it
    device_cgroup_rules: tuple[str, ...] = ()  # --device-cgroup-rule "TYPE MAJOR:MINOR ACCESS"
    timezone: str = ""  # --tz: "local" (the host's /etc/localtime) or a zoneinfo name
    chroot_dirs: tuple[str, ...] = ()  # --chrootdirs: also get the managed /etc files under these
    create_command: tuple[str, ...] = ()  # the CLI's argv (inspect's CreateCommand, generate systemd --new)
    sdnotify: str = ""  # --sdnotify: conmon | container | ignore ("" is container, as in Podman 4.3.1)
    systemd: str = ""  # --systemd: true | false | always ("" is true: systemd mode when the command is an init)
    cgroups: str = ""  # --cgroups: enabled | disabled | no-conmon | split (accepted; cgroupfs puts conmon apart)
    image_volume: str = ""  # --image-volume: bind | tmpfs | ignore ("" is containers.conf's image_volume_mode)
    volumes_from: tuple[str, ...] = ()  # --volumes-from CTR[:ro|rw|z]: that container's volumes and binds, at create
    cgroup_parent: str = ""  # --cgroup-parent: the cgroup path the container's cgroup goes under
    cgroupns: str = ""  # --cgroupns: host | private | ns:PATH | container:ID ("" is host on v1, private on v2)
    cgroup_manager: str = ""  # the --cgroup-manager it was created with (inspect's HostConfig.CgroupManager)
    blkio_weight: int | None = None  # --blkio-weight (10-1000)
    blkio_weight_device: tuple[tuple[str, int], ...] = ()  # --blkio-weight-device PATH:WEIGHT
    device_read_bps: tuple[tuple[str, int], ...] = ()  # --device-read-bps PATH:BYTES
    device_write_bps: tuple[tuple[str, int], ...] = ()
    device_read_iops: tuple[tuple[str, int], ...] = ()
    device_write_iops: tuple[tuple[str, int], ...] = ()
    rootfs: str = ""  # --rootfs: the root is this directory, not an image ("DIR:O": through an overlay)
    init_ctr: str = ""  # --init-ctr: always | once, a pod's init container (run before the others at pod start)
    memory_reservation: int | None = None  # --memory-reservation: the soft limit, in bytes
    memory_swappiness: int | None = None  # --memory-swappiness 0-100 (cgroups v1)
    oom_kill_disable: bool = False  # --oom-kill-disable
    cpuset_mems: str | None = None  # --cpuset-mems
    cpu_rt_period: int | None = None  # --cpu-rt-period (microseconds, cgroups v1)
    cpu_rt_runtime: int | None = None  # --cpu-rt-runtime
    personality: str = ""  # --personality: LINUX | LINUX32, the process's execution domain
    passwd: bool = True  # --passwd: add the user (and group) to the container's /etc/passwd and /etc/group
    passwd_entry: str = ""  # --passwd-entry: the line to add, with $UID $GID $NAME $HOME $USERNAME expanded
    env_merge: tuple[str, ...] = ()  # --env-merge KEY=VALUE: ${VAR} in VALUE from the image's environment
    read_only_tmpfs: bool = True  # --read-only-tmpfs: with --read-only, tmpfs on /run, /tmp and /var/tmp
    seccomp_policy: str = ""  # --seccomp-policy: "" / default, or image (the profile in the image's label)
    hostusers: tuple[str, ...] = ()  # --hostuser: host accounts added to the container's /etc/passwd
    cgroup_conf: dict[str, str] = field(default_factory=dict)  # --cgroup-conf KEY=VALUE: cgroup v2 files
    namespace: str = ""  # the global --namespace (containers.conf's engine.namespace) it was created in
    external: bool = False  # a build's working container: Podman's storage-only kind (ps --external)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = dataclasses.asdict(self)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ContainerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        values["mounts"] = tuple(MountSpec(**{**m, "options": tuple(m.get("options", ()))})
                                 for m in values.get("mounts", ()))
        values["restart"] = RestartPolicy(**values.get("restart", {}))
        for f in dataclasses.fields(cls):
            if f.name in values and isinstance(values[f.name], list):
                values[f.name] = tuple(values[f.name])
        return cls(**values)
