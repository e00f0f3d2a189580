"""containers.conf: search order, drop-ins, environment variables, merging and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.config.containers_conf import (
    ContainersConf,
    ContainersSection,
    EngineSection,
    HostFacts,
    NetworkSection,
    SecretsSection,
    SubnetPool,
    load_containers_conf,
    systemd_is_pid1,
)
from sealpod.config.loader import GlobalOptions, resolve_config
from sealpod.config.paths import SystemDirs
from sealpod.config.settings import SETTINGS, Record
from sealpod.errors import ConfigError, InvalidArgument

NO_SYSTEMD = HostFacts(rootless=False, systemd=False)


class Machine:
    """A fake machine's configuration directories and home, all under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.dirs = SystemDirs(
            share_containers=root / "usr/share/containers",
            etc_containers=root / "etc/containers",
            share_sealpod=root / "usr/share/sealpod",
            etc_sealpod=root / "etc/sealpod",
        )
        self.home = root / "home"
        self.user = self.home / ".config/containers"

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def load(self, rootless: bool = False, env: dict[str, str] | None = None) -> ContainersConf:
        return load_containers_conf(env or {}, self.home, rootless, self.dirs, NO_SYSTEMD)


@pytest.fixture
def m(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_defaults_without_any_file(m: Machine) -> None:
    conf = m.load()
    assert conf.files == ()
    assert conf.containers.pids_limit == 2048
    assert conf.containers.shm_size == "65536k"
    assert conf.containers.log_driver == "k8s-file"
    # Podman's built-in 14 (e2e run_test.go "user capabilities test" with CONTAINERS_CONF=/dev/null)
    assert len(conf.containers.default_capabilities) == 14
    assert {"SYS_CHROOT", "NET_RAW", "MKNOD", "AUDIT_WRITE"} <= set(conf.containers.default_capabilities)
    assert conf.engine.stop_timeout == 10
    assert conf.engine.runtime == ""
    assert "/usr/sbin/runc" in conf.engine.runtimes["runc"]
    assert conf.engine.cgroup_manager == "cgroupfs"
    assert conf.engine.events_logger == "file"
    assert conf.network.default_network == "podman"
    assert conf.network.default_subnet == "10.88.0.0/16"
    assert conf.network.default_subnet_pools[0] == SubnetPool("10.89.0.0/16", 24)
    assert conf.network.default_rootless_network_cmd == "slirp4netns"
    assert conf.secrets.driver == "file"


def test_host_dependent_defaults(m: Machine) -> None:
    conf = load_containers_conf({}, m.home, False, m.dirs, HostFacts(rootless=False, systemd=True))
    assert conf.engine.cgroup_manager == "systemd"
    assert conf.engine.events_logger == "journald"


def test_systemd_is_asked_of_pid1(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    assert systemd_is_pid1(tmp_path) is False
    (tmp_path / "1/comm").write_text("systemd\n")
    assert systemd_is_pid1(tmp_path) is True
    (tmp_path / "1/comm").write_text("catatonit\n")
    assert systemd_is_pid1(tmp_path) is False


def test_precedence_share_etc_user(m: Machine) -> None:
    share = m.write(
        m.dirs.share_containers / "containers.conf", "[engine]\nstop_timeout = 1\nnum_locks = 1\n"
    )
    etc = m.write(m.dirs.etc_containers / "containers.conf", "[engine]\nstop_timeout = 2\n")
    user = m.write(m.user / "containers.conf", "[engine]\nstop_timeout = 3\n")
    rootless = m.load(rootless=True)
    assert (rootless.engine.stop_timeout, rootless.engine.num_locks) == (3, 1)
    assert rootless.files == (share, etc, user)
    # Podman 4 reads the user's file for rootless users only.
    rootful = m.load(rootless=False)
    assert rootful.engine.stop_timeout == 2
    assert rootful.files == (share, etc)


def test_user_file_honours_xdg_config_home(m: Machine, tmp_path: Path) -> None:
    m.write(tmp_path / "xdg/containers/containers.conf", "[engine]\nstop_timeout = 7\n")
    assert m.load(rootless=True, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}).engine.stop_timeout == 7


def test_dropins_in_lexical_order_after_their_file(m: Machine) -> None:
    etc = m.dirs.etc_containers
    m.write(etc / "containers.conf", "[engine]\nstop_timeout = 1\nnum_locks = 1\n")
    m.write(etc / "containers.conf.d/20-b.conf", "[engine]\nstop_timeout = 20\n")
    m.write(etc / "containers.conf.d/10-a.conf", "[engine]\nstop_timeout = 10\nnum_locks = 10\n")
    m.write(etc / "containers.conf.d/99-ignored.txt", "[engine]\nstop_timeout = 99\n")
    (etc / "containers.conf.d/50-dir.conf").mkdir()
    m.write(m.user / "containers.conf.d/00-user.conf", "[engine]\nnum_locks = 5\n")
    conf = m.load(rootless=True)
    assert (conf.engine.stop_timeout, conf.engine.num_locks) == (20, 5)
    assert [p.name for p in conf.files] == ["containers.conf", "10-a.conf", "20-b.conf", "00-user.conf"]


def test_dropins_without_main_file(m: Machine) -> None:
    m.write(m.dirs.share_containers / "containers.conf.d/x.conf", '[containers]\ntz = "UTC"\n')
    assert m.load().containers.tz == "UTC"


def test_containers_conf_env_loads_only_that_file(m: Machine, tmp_path: Path) -> None:
    m.write(m.dirs.etc_containers / "containers.conf", "[engine]\nnum_locks = 1\n")
    only = m.write(tmp_path / "only.conf", "[engine]\nstop_timeout = 42\n")
    conf = m.load(env={"CONTAINERS_CONF": str(only)})
    assert (conf.engine.stop_timeout, conf.engine.num_locks) == (42, 2048)
    assert conf.files == (only,)


def test_containers_conf_env_missing_file_is_an_error(m: Machine, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"nope\.conf: no such file or directory \(named by CONTAINERS_CONF\)"
    ):
        m.load(env={"CONTAINERS_CONF": str(tmp_path / "nope.conf")})
    with pytest.raises(ConfigError, match="CONTAINERS_CONF_OVERRIDE"):
        m.load(env={"CONTAINERS_CONF_OVERRIDE": str(tmp_path / "nope.conf")})


def test_override_is_read_last(m: Machine, tmp_path: Path) -> None:
    m.write(m.user / "containers.conf", "[engine]\nstop_timeout = 3\nnum_locks = 3\n")
    m.write(m.user / "containers.conf.d/z.conf", "[engine]\nstop_timeout = 4\n")
    override = m.write(tmp_path / "override.conf", "[engine]\nstop_timeout = 99\n")
    conf = m.load(rootless=True, env={"CONTAINERS_CONF_OVERRIDE": str(override)})
    assert (conf.engine.stop_timeout, conf.engine.num_locks) == (99, 3)
    assert conf.files[-1] == override
    only = m.write(tmp_path / "only.conf", "[engine]\nnum_locks = 8\n")
    conf = m.load(env={"CONTAINERS_CONF": str(only), "CONTAINERS_CONF_OVERRIDE": str(override)})
    assert (conf.engine.stop_timeout, conf.engine.num_locks) == (99, 8)


def test_tables_merge_key_by_key_arrays_are_replaced(m: Machine) -> None:
    m.write(
        m.dirs.share_containers / "containers.conf",
        '[containers]\ndefault_capabilities = ["CHOWN", "KILL"]\nenv = ["A=1"]\n'
        '[engine.runtimes]\nrunc = ["/opt/runc"]\nmyrt = ["/opt/myrt"]\n',
    )
    m.write(
        m.dirs.etc_containers / "containers.conf",
        '[containers]\ndefault_capabilities = ["SETUID"]\n[engine.runtimes]\nrunc = ["/new/runc"]\n',
    )
    conf = m.load()
    assert conf.containers.default_capabilities == ("SETUID",)
    assert conf.containers.env == ("A=1",)
    assert conf.engine.runtimes["runc"] == ("/new/runc",)
    assert conf.engine.runtimes["myrt"] == ("/opt/myrt",)
    assert conf.engine.runtimes["crun"][0] == "/usr/bin/crun"  # built-in entries survive


def test_unknown_keys_are_ignored_but_kept_raw(m: Machine) -> None:
    m.write(
        m.dirs.etc_containers / "containers.conf",
        '[engine]\nfuture_knob = 3\n[machine]\ncpus = 4\n[somebody_else]\nx = "y"\n',
    )
    conf = m.load()
    assert conf.raw["engine"]["future_knob"] == 3
    assert conf.raw["somebody_else"] == {"x": "y"}
    assert conf.is_set("engine", "future_knob") and not conf.is_set("engine", "num_locks")


def test_service_destinations_and_subnet_pools(m: Machine) -> None:
    m.write(
        m.dirs.etc_containers / "containers.conf",
        '[engine]\nactive_service = "prod"\n'
        '[engine.service_destinations.prod]\nuri = "ssh://me@host/run/podman.sock"\nidentity = "/k"\n'
        '[network]\ndefault_subnet_pools = [{base = "10.1.0.0/16", size = 26}]\n',
    )
    conf = m.load()
    assert conf.engine.service_destinations["prod"].uri == "ssh://me@host/run/podman.sock"
    assert conf.engine.service_destinations["prod"].identity == "/k"
    assert conf.network.default_subnet_pools == (SubnetPool("10.1.0.0/16", 26),)


def test_bad_toml_names_file_and_line(m: Machine) -> None:
    bad = m.write(
        m.dirs.etc_containers / "containers.conf", '[engine]\nnum_locks = 4\nevents_logger = "file\n'
    )
    with pytest.raises(ConfigError) as info:
        m.load()
    message = str(info.value)
    assert message.startswith(f"containers.conf: {bad}: ")
    assert "(at line 3, column" in message
    assert "\n" not in message


def test_bad_dropin_is_named(m: Machine) -> None:
    bad = m.write(m.dirs.etc_containers / "containers.conf.d/10-x.conf", "[engine\n")
    with pytest.raises(ConfigError, match=f"^containers.conf: {bad}: .*at line 1"):
        m.load()


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (
            '[containers]\ndefault_capabilities = "CHOWN"\n',
            "containers.default_capabilities",
            "array of strings",
        ),
        ("[containers]\ndns_servers = [1, 2]\n", "containers.dns_servers", "array of strings"),
        ('[containers]\npids_limit = "100"\n', "containers.pids_limit", "expected integer, got string"),
        ("[containers]\nno_hosts = 1\n", "containers.no_hosts", "expected boolean, got integer"),
        ("[engine]\nstop_timeout = true\n", "engine.stop_timeout", "expected integer, got boolean"),
        ('[engine]\nruntimes = { runc = "/x" }\n', "engine.runtimes", "runc: expected array of strings"),
        ('[engine]\ncgroup_manager = "cgroupsv9"\n', "engine.cgroup_manager", 'invalid value "cgroupsv9"'),
        ('engine = "x"\n', "engine", "expected table, got string"),
    ],
)
def test_wrong_types_name_file_and_key(m: Machine, text: str, key: str, expected: str) -> None:
    path = m.write(m.dirs.etc_containers / "containers.conf", text)
    with pytest.raises(ConfigError) as info:
        m.load()
    assert str(info.value).startswith(f"containers.conf: {path}: {key}: ")
    assert expected in str(info.value)


def test_unreadable_file_is_an_error(m: Machine) -> None:
    (m.dirs.etc_containers / "containers.conf").mkdir(parents=True)
    with pytest.raises(ConfigError, match="containers.conf: .*: is a directory"):
        m.load()


def test_invalid_utf8_is_an_error(m: Machine) -> None:
    path = m.dirs.etc_containers / "containers.conf"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"[engine]\n# \xff\n")
    with pytest.raises(ConfigError, match=r"invalid UTF-8 \(at line 2\)"):
        m.load()


def test_settings_table_matches_the_typed_sections() -> None:
    sections: dict[str, type[Record]] = {
        "containers": ContainersSection,
        "engine": EngineSection,
        "network": NetworkSection,
        "secrets": SecretsSection,
    }
    for name, cls in sections.items():
        declared = [s.key for s in SETTINGS if s.section == name]
        assert declared == list(cls._record_fields), name
    assert len({(s.section, s.key) for s in SETTINGS}) == len(SETTINGS)


def test_sections_are_frozen_and_comparable(m: Machine) -> None:
    conf = m.load()
    with pytest.raises(AttributeError):
        conf.engine.runtime = "crun"  # type: ignore[misc]
    changed = conf.engine.replace(runtime="crun")
    assert changed.runtime == "crun" and conf.engine.runtime == ""
    assert changed != conf.engine and conf.engine == m.load().engine


def test_global_options_override_containers_conf(m: Machine) -> None:
    m.write(
        m.dirs.etc_containers / "containers.conf", '[engine]\nruntime = "crun"\nstatic_dir = "/conf/static"\n'
    )
    opts = GlobalOptions(runtime="runc", cgroup_manager="systemd", events_backend="none", conmon="/my/conmon")
    config = resolve_config(opts, {}, m.home, False, system_dirs=m.dirs, host=NO_SYSTEMD)
    assert config.containers.engine.runtime == "runc"
    assert config.containers.engine.cgroup_manager == "systemd"
    assert config.containers.engine.events_logger == "none"
    assert config.containers.engine.conmon_path == ("/my/conmon",)
    assert config.conf_files == (m.dirs.etc_containers / "containers.conf",)
    assert config.static_dir == Path("/conf/static")
    # --root moves every state directory under it, whatever containers.conf says.
    moved = resolve_config(
        GlobalOptions(root=Path("/r")), {}, m.home, False, system_dirs=m.dirs, host=NO_SYSTEMD
    )
    assert (moved.static_dir, moved.volume_path, moved.network_config_dir) == (
        Path("/r/libpod"),
        Path("/r/volumes"),
        Path("/r/networks"),
    )


def test_global_options_are_checked(m: Machine) -> None:
    for opts in (
        GlobalOptions(cgroup_manager="x"),
        GlobalOptions(events_backend="x"),
        GlobalOptions(log_level="x"),
    ):
        with pytest.raises(InvalidArgument, match='invalid .* "x"'):
            resolve_config(opts, {}, m.home, False, system_dirs=m.dirs, host=NO_SYSTEMD)
