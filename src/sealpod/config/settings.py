"""The containers.conf settings sealpod understands, each declared once.

One row per key: its table, its name (also the field name in the typed result), the
parser that checks the TOML type, and Podman 4's default written as it would be in a
containers.conf file.  Loading, defaults, validation and documentation all walk this
table, so adding a key is adding a row here and a field in ``containers_conf.py``.
Keys not listed are ignored, as Podman ignores them, but stay in the raw merged dict.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

from sealpod.config import conf_values as cv
from sealpod.config.toml import toml_type_name

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar, dataclass_transform

    _R = TypeVar("_R", bound="Record")

    @dataclass_transform(frozen_default=True)
    class _Checked:
        """What type checkers see: every Record is a frozen dataclass."""
else:
    class _Checked:
        pass


class SettingTypeError(ValueError):
    """A value that does not fit its setting; the loader adds the file and key to the message."""


class Record(_Checked):
    """A frozen, typed record that mypy checks like a frozen dataclass.

    Not a real @dataclass: generating the methods of every configuration class (one of
    them has 43 fields) costs several milliseconds at each start of the CLI.  Fields are
    the class's own annotations, in order; a default is a class attribute and must be
    immutable (MappingProxyType for a mapping).  ``replace`` and ``as_dict`` stand in
    for dataclasses.replace and dataclasses.asdict.
    """

    _record_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        cls._record_fields = tuple(cls.__dict__.get("__annotations__", {}))

    def __init__(self, *args: Any, **values: Any) -> None:
        names = self._record_fields
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}: too many arguments")
        for name, arg in zip(names, args, strict=False):
            if name in values:
                raise TypeError(f"{type(self).__name__}: {name} given twice")
            values[name] = arg
        for name in names:
            if name in values:
                object.__setattr__(self, name, values.pop(name))
            elif name in type(self).__dict__:
                default = type(self).__dict__[name]
                # A read-only mapping default becomes the instance's own (picklable) dict.
                value = dict(default) if isinstance(default, MappingProxyType) else default
                object.__setattr__(self, name, value)
            else:
                raise TypeError(f"{type(self).__name__}: missing field {name}")
        if values:
            raise TypeError(f"{type(self).__name__}: unknown fields {', '.join(values)}")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"{type(self).__name__}({fields})"

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in declaration order (not recursive)."""
        return {name: getattr(self, name) for name in self._record_fields}

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with some fields changed (the command line overriding the files)."""
        return type(self)(**{**self.as_dict(), **changes})


class HostFacts(Record):
    """What some defaults depend on, detected once by the caller (tests pass their own)."""

    rootless: bool
    systemd: bool  # PID 1 is systemd: cgroups and events can go through it


class SubnetPool(Record):
    """A range `network create` carves subnets of ``size`` bits out of."""

    base: str
    size: int


class Destination(Record):
    """A remote service connection ([engine.service_destinations.NAME])."""

    uri: str
    identity: str = ""
    is_machine: bool = False


class Setting(Record):
    """One containers.conf key.  ``default`` is a TOML-shaped value run through ``parse``.

    ``default_for`` replaces ``default`` where Podman's default depends on the host.
    """

    section: str
    key: str
    parse: Callable[[object], Any]
    default: object = None
    help: str = ""
    default_for: Callable[[HostFacts], object] | None = None

    def default_value(self, host: HostFacts) -> Any:
        return self.parse(self.raw_default(host))

    def raw_default(self, host: HostFacts) -> object:
        """The default as TOML would spell it, before parsing."""
        return self.default_for(host) if self.default_for is not None else self.default

    def value_from(self, given: object, host: HostFacts) -> Any:
        """The value a file gave; a table is laid over the default table, as Podman decodes it."""
        default = self.raw_default(host)
        if isinstance(given, dict) and isinstance(default, dict):
            given = {**default, **given}
        return self.parse(given)


def _expect(value: object, kind: type | tuple[type, ...], name: str) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise SettingTypeError(f"expected {name}, got {toml_type_name(value)}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def parse_str(value: object) -> str:
    _expect(value, str, "string")
    assert isinstance(value, str)
    return value


def parse_int(value: object) -> int:
    _expect(value, int, "integer")
    assert isinstance(value, int)
    return value


def parse_size_str(value: object) -> str:
    """A size given as a string ("1m") or, as Podman also accepts, a number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return parse_str(value)


def parse_bool(value: object) -> bool:
    _expect(value, bool, "boolean")
    return bool(value)


def parse_str_list(value: object) -> tuple[str, ...]:
    _expect(value, (list, tuple), "array of strings")
    assert isinstance(value, list | tuple)
    for item in value:
        if not isinstance(item, str):
            raise SettingTypeError(f"expected array of strings, got array with {toml_type_name(item)}")
    return tuple(value)


def _table(value: object, name: str) -> dict[str, object]:
    _expect(value, dict, name)
    assert isinstance(value, dict)
    return value


def parse_str_table(value: object) -> dict[str, str]:
    """A table of strings, such as [engine.volume_plugins] or [secrets.opts]."""
    table = _table(value, "table of strings")
    for key, item in table.items():
        if not isinstance(item, str):
            raise SettingTypeError(f"{key}: expected string, got {toml_type_name(item)}")
    return {k: str(v) for k, v in table.items()}


def parse_str_list_table(value: object) -> dict[str, tuple[str, ...]]:
    """A table of string arrays, such as [engine.runtimes]."""
    result: dict[str, tuple[str, ...]] = {}
    for key, item in _table(value, "table of arrays").items():
        try:
            result[key] = parse_str_list(item)
        except SettingTypeError as e:
            raise SettingTypeError(f"{key}: {e}") from None
    return result


def parse_subnet_pools(value: object) -> tuple[SubnetPool, ...]:
    _expect(value, (list, tuple), "array of tables")
    assert isinstance(value, list | tuple)
    pools = []
    for item in value:
        table = _table(item, "array of tables")
        base, size = table.get("base"), table.get("size")
        if not isinstance(base, str) or not isinstance(size, int) or isinstance(size, bool):
            raise SettingTypeError('each pool needs "base" (string) and "size" (integer)')
        pools.append(SubnetPool(base, size))
    return tuple(pools)


def parse_destinations(value: object) -> dict[str, Destination]:
    result = {}
    for name, item in _table(value, "table").items():
        table = _table(item, "table")
        try:
            uri = parse_str(table.get("uri", ""))
            identity = parse_str(table.get("identity", ""))
            is_machine = parse_bool(table.get("is_machine", False))
        except SettingTypeError as e:
            raise SettingTypeError(f"{name}: {e}") from None
        result[name] = Destination(uri, identity, is_machine)
    return result


def choice(*allowed: str) -> Callable[[object], str]:
    """A string parser that accepts only ``allowed`` values."""

    def parse(value: object) -> str:
        text = parse_str(value)
        if text not in allowed:
            raise SettingTypeError(f'invalid value "{text}": must be one of {", ".join(allowed)}')
        return text

    return parse


_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _containers(key: str, parse: Callable[[object], Any], default: object, help: str) -> Setting:
    return Setting("containers", key, parse, default, help)


def _engine(key: str, parse: Callable[[object], Any], default: object, help: str) -> Setting:
    return Setting("engine", key, parse, default, help)


def _network(key: str, parse: Callable[[object], Any], default: object, help: str) -> Setting:
    return Setting("network", key, parse, default, help)


CONTAINERS_SETTINGS: tuple[Setting, ...] = (
    _containers("annotations", parse_str_list, [], "key=value annotations added to every container"),
    _containers("apparmor_profile", parse_str, "container-default", "default AppArmor profile"),
    _containers(
        "base_hosts_file", parse_str, "", 'hosts entries base: path, "image", "none" or "" (/etc/hosts)'
    ),
    _containers("cgroupns", parse_str, "private", "default cgroup namespace mode"),
    _containers("cgroups", parse_str, "enabled", "enabled, disabled or no-conmon"),
    _containers(
        "default_capabilities",
        parse_str_list,
        # Podman's built-in set (with no containers.conf at all); the distribution's file narrows it
        # to the 11 without AUDIT_WRITE, MKNOD and NET_RAW
        [
            "AUDIT_WRITE",
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "FSETID",
            "KILL",
            "MKNOD",
            "NET_BIND_SERVICE",
            "NET_RAW",
            "SETFCAP",
            "SETGID",
            "SETPCAP",
            "SETUID",
            "SYS_CHROOT",
        ],
        "capabilities a container gets unless told otherwise",
    ),
    _containers("default_sysctls", parse_str_list, ["net.ipv4.ping_group_range=0 0"], "name=value sysctls"),
    _containers("default_ulimits", cv.parse_ulimits, [], "name=soft:hard ulimits"),
    _containers("devices", cv.parse_devices, [], "host:container:permissions devices"),
    _containers("dns_options", parse_str_list, [], "options for the container's resolv.conf"),
    _containers("dns_searches", parse_str_list, [], "search domains for the container's resolv.conf"),
    _containers("dns_servers", parse_str_list, [], 'nameservers; "none" means no resolv.conf'),
    _containers("env", parse_str_list, [_PATH, "TERM=xterm"], "environment of the container process"),
    _containers("env_host", parse_bool, False, "pass the whole host environment into containers"),
    _containers("host_containers_internal_ip", parse_str, "", "address of host.containers.internal"),
    _containers("http_proxy", parse_bool, True, "pass the host's proxy variables into containers"),
    _containers("init", parse_bool, False, "run an init process in containers by default"),
    _containers("init_path", parse_str, "/usr/libexec/podman/catatonit", "the init binary for --init"),
    _containers("ipcns", parse_str, "shareable", "default IPC namespace mode"),
    _containers("keyring", parse_bool, True, "create a session keyring in containers"),
    _containers("label", parse_bool, True, "SELinux labelling"),
    _containers("log_driver", parse_str, "k8s-file", "k8s-file, journald, none or passthrough"),
    _containers("log_size_max", cv.int_of("int64"), -1, "maximum bytes of a container log; negative: unlimited"),
    _containers("log_tag", parse_str, "", "tag for container log messages"),
    _containers("netns", parse_str, "private", "default network namespace mode"),
    _containers("no_hosts", parse_bool, False, "do not create /etc/hosts in containers"),
    _containers("pidns", parse_str, "private", "default PID namespace mode"),
    _containers("pids_limit", cv.int_of("int64"), 2048, "maximum processes in a container; 0: unlimited"),
    _containers("prepare_volume_on_create", parse_bool, False, "copy image content into volumes at create"),
    _containers("read_only", parse_bool, False, "run containers with a read-only root filesystem"),
    _containers(
        "seccomp_profile", parse_str, "/usr/share/containers/seccomp.json", "default seccomp profile"
    ),
    _containers("shm_size", cv.parse_shm_size, "65536k", "size of /dev/shm"),
    _containers("tz", cv.parse_tz, "", 'container time zone; "local" follows the host'),
    _containers("umask", cv.parse_umask, "0022", "umask of the container process"),
    _containers("userns", parse_str, "host", "default user namespace mode"),
    _containers("userns_size", parse_int, 65536, "ids allocated for userns=auto"),
    _containers("utsns", parse_str, "private", "default UTS namespace mode"),
    _containers("volumes", parse_str_list, [], "host:container:options volumes added to every container"),
)

_RUNTIME_DIRS = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/sbin", "/bin"]

ENGINE_SETTINGS: tuple[Setting, ...] = (
    _engine("active_service", parse_str, "", "service_destinations entry used by --remote"),
    Setting(
        "engine",
        "cgroup_manager",
        choice("systemd", "cgroupfs"),
        help="who manages container cgroups; systemd only when it is PID 1",
        default_for=lambda host: "systemd" if host.systemd else "cgroupfs",
    ),
    _engine("compression_format", parse_str, "gzip", "layer compression when pushing: gzip, zstd, ..."),
    _engine("conmon_env_vars", parse_str_list, [_PATH], "environment given to conmon"),
    _engine(
        "conmon_path",
        parse_str_list,
        [
            "/usr/libexec/podman/conmon",
            "/usr/local/libexec/podman/conmon",
            "/usr/local/lib/podman/conmon",
            "/usr/bin/conmon",
            "/usr/sbin/conmon",
            "/usr/local/bin/conmon",
            "/usr/local/sbin/conmon",
            "/run/current-system/sw/bin/conmon",
        ],
        "where to look for conmon before $PATH",
    ),
    _engine("detach_keys", parse_str, "ctrl-p,ctrl-q", "key sequence that detaches from a container"),
    _engine("enable_port_reservation", parse_bool, True, "conmon holds forwarded host ports open"),
    _engine("env", parse_str_list, [], "environment of the engine itself (not of containers)"),
    _engine("events_logfile_path", parse_str, "", 'events file when events_logger is "file"'),
    _engine("events_logfile_max_size", parse_size_str, "1m", "size at which the events file is rotated"),
    Setting(
        "engine",
        "events_logger",
        choice("file", "journald", "none"),
        help="where events go; the journal only when systemd runs the host",
        default_for=lambda host: "journald" if host.systemd else "file",
    ),
    _engine(
        "helper_binaries_dir",
        parse_str_list,
        ["/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman"],
        "where helper programs (catatonit, netavark, ...) are looked for",
    ),
    _engine("hooks_dir", parse_str_list, ["/usr/share/containers/oci/hooks.d"], "OCI hooks directories"),
    _engine("image_copy_tmp_dir", parse_str, "/var/tmp", "scratch space for image copies"),
    _engine("image_default_format", parse_str, "", "manifest format for push/commit: oci, v2s2, v2s1"),
    _engine("image_default_transport", parse_str, "docker://", "transport of names without one"),
    _engine("image_parallel_copies", parse_int, 0, "layers copied at once; 0: the built-in default"),
    _engine("image_volume_mode", parse_str, "bind", "how image VOLUMEs are handled: bind, tmpfs, ignore"),
    _engine("infra_command", parse_str, "/pause", "command of pod infra containers"),
    _engine("infra_image", parse_str, "", "image of pod infra containers; empty: built-in"),
    _engine("lock_type", parse_str, "shm", "locking mechanism"),
    _engine("multi_image_archive", parse_bool, False, "archives may hold several images"),
    _engine("namespace", parse_str, "", "engine namespace that scopes what is visible"),
    _engine("network_cmd_path", parse_str, "", "path of slirp4netns"),
    _engine("network_cmd_options", parse_str_list, [], "options for slirp4netns"),
    _engine("no_pivot_root", parse_bool, False, "use chroot instead of pivot_root"),
    _engine("num_locks", cv.int_of("uint32"), 2048, "locks available to containers and pods"),
    _engine("pod_exit_policy", parse_str, "continue", "what a pod does when its last container exits"),
    _engine("pull_policy", cv.parse_pull_policy, "missing", "always, missing, never or newer"),
    _engine("remote", parse_bool, False, "talk to a service instead of running locally"),
    _engine("runtime", parse_str, "", 'OCI runtime name or path; "" lets the engine choose'),
    _engine(
        "runtimes",
        parse_str_list_table,
        {
            "crun": [f"{d}/crun" for d in _RUNTIME_DIRS] + ["/run/current-system/sw/bin/crun"],
            "runc": [f"{d}/runc" for d in _RUNTIME_DIRS] + ["/usr/lib/cri-o-runc/sbin/runc"],
            "kata": [f"{d}/kata-runtime" for d in _RUNTIME_DIRS] + ["/usr/bin/kata-qemu", "/usr/bin/kata-fc"],
            "runsc": [f"{d}/runsc" for d in _RUNTIME_DIRS] + ["/run/current-system/sw/bin/runsc"],
            "krun": ["/usr/bin/krun", "/usr/local/bin/krun"],
        },
        "runtime name to the paths where it may be installed",
    ),
    _engine("runtime_supports_json", parse_str_list, ["crun", "runc", "kata", "runsc", "krun"], ""),
    _engine("runtime_supports_kvm", parse_str_list, ["kata", "krun"], ""),
    _engine("runtime_supports_nocgroups", parse_str_list, ["crun", "krun"], ""),
    _engine("service_destinations", parse_destinations, {}, "remote connections by name"),
    _engine("service_timeout", parse_int, 5, "idle seconds before `system service` exits"),
    _engine("static_dir", parse_str, "", "persistent engine files; empty: under the graph root"),
    _engine("stop_timeout", parse_int, 10, "seconds between the stop signal and SIGKILL"),
    _engine("exit_command_delay", parse_int, 300, "seconds before the exec exit command runs"),
    _engine("tmp_dir", cv.parse_abs_path, "", "per-boot engine files; empty: under the run root"),
    _engine("volume_path", parse_str, "", "where named volumes live; empty: under the graph root"),
    _engine("volume_plugins", parse_str_table, {}, "volume plugin name to socket path"),
)

NETWORK_SETTINGS: tuple[Setting, ...] = (
    _network("network_backend", cv.parse_network_backend, "", 'netavark (or "cni", unsupported); "" means netavark'),
    _network(
        "cni_plugin_dirs",
        parse_str_list,
        ["/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin"],
        "ignored: sealpod does not use CNI",
    ),
    _network("default_network", parse_str, "podman", "network containers join by default"),
    _network("default_subnet", cv.parse_subnet, "10.88.0.0/16", "subnet of the default network"),
    _network(
        "default_subnet_pools",
        cv.parse_pools,
        [
            {"base": "10.89.0.0/16", "size": 24},
            {"base": "10.90.0.0/15", "size": 24},
            {"base": "10.92.0.0/14", "size": 24},
            {"base": "10.96.0.0/11", "size": 24},
            {"base": "10.128.0.0/9", "size": 24},
        ],
        "ranges new networks get their subnets from",
    ),
    _network(
        "default_rootless_network_cmd", parse_str, "slirp4netns", "rootless network: slirp4netns, pasta"
    ),
    _network("network_config_dir", parse_str, "", "network definitions; empty: under the graph root"),
    _network("dns_bind_port", cv.int_of("uint16"), 53, "port of aardvark-dns on rootful bridges"),
)

SECRETS_SETTINGS: tuple[Setting, ...] = (
    Setting("secrets", "driver", parse_str, "file", "secret driver: file, pass, shell"),
    Setting("secrets", "opts", parse_str_table, {}, "driver options"),
)

SETTINGS: tuple[Setting, ...] = CONTAINERS_SETTINGS + ENGINE_SETTINGS + NETWORK_SETTINGS + SECRETS_SETTINGS

# Tables Podman reads but sealpod does not use; their contents are not checked.
IGNORED_SECTIONS = frozenset({"machine", "farms", "podmansh"})
