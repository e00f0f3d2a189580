"""sealpod's storage.conf: which file is used, what rootless users inherit, and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.config.containers_conf import HostFacts
from sealpod.config.loader import Config, GlobalOptions, resolve_config
from sealpod.config.paths import SystemDirs
from sealpod.config.storage_conf import StorageConf, load_storage_conf
from sealpod.errors import ConfigError

UID = 1000


class Machine:
    """A fake machine's configuration directories and home, all under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs = SystemDirs(
            share_containers=root / "usr/share/containers",
            etc_containers=root / "etc/containers",
            share_sealpod=root / "usr/share/sealpod",
            etc_sealpod=root / "etc/sealpod",
        )
        self.home = root / "home"
        self.etc = self.dirs.etc_sealpod / "storage.conf"
        self.share = self.dirs.share_sealpod / "storage.conf"
        self.user = self.home / ".config/sealpod/storage.conf"

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def load(self, rootless: bool = False, env: dict[str, str] | None = None) -> StorageConf:
        return load_storage_conf(env or {}, self.home, rootless, self.dirs, uid=UID)


@pytest.fixture
def m(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_builtin_defaults(m: Machine) -> None:
    root = m.load()
    assert (root.driver, root.graph_root, root.run_root) == (
        "overlay",
        Path("/var/lib/sealpod/storage"),
        Path("/run/sealpod"),
    )
    assert root.files == () and root.driver_options == ()
    rootless = m.load(rootless=True)
    assert rootless.graph_root == m.home / ".local/share/sealpod/storage"
    assert rootless.run_root == Path(f"/tmp/sealpod-{UID}")


def test_etc_wins_over_share_and_they_do_not_merge(m: Machine) -> None:
    m.write(m.share, '[storage]\ndriver = "vfs"\nrunroot = "/share/run"\n')
    assert m.load().driver == "vfs"
    m.write(m.etc, '[storage]\ngraphroot = "/etc/graph"\n')
    conf = m.load()
    assert (conf.driver, conf.graph_root, conf.run_root) == (
        "overlay",
        Path("/etc/graph"),
        Path("/run/sealpod"),
    )
    assert conf.files == (m.etc,)


def test_env_var_wins_and_must_exist(m: Machine, tmp_path: Path) -> None:
    m.write(m.etc, '[storage]\ndriver = "vfs"\n')
    mine = m.write(tmp_path / "mine.conf", '[storage]\ngraphroot = "/mine"\n')
    conf = m.load(env={"SEALPOD_STORAGE_CONF": str(mine)})
    assert (conf.driver, conf.graph_root, conf.files) == ("overlay", Path("/mine"), (mine,))
    with pytest.raises(ConfigError, match="storage.conf: .*nope.conf: no such file or directory"):
        m.load(env={"SEALPOD_STORAGE_CONF": str(tmp_path / "nope.conf")})


def test_rootless_without_own_file_inherits_only_the_driver(m: Machine) -> None:
    m.write(
        m.etc,
        '[storage]\ndriver = "vfs"\ngraphroot = "/var/lib/other"\nrunroot = "/run/other"\n'
        '[storage.options.vfs]\nignore_chown_errors = "true"\n',
    )
    conf = m.load(rootless=True)
    assert conf.driver == "vfs"
    assert conf.graph_root == m.home / ".local/share/sealpod/storage"
    assert conf.run_root == Path(f"/tmp/sealpod-{UID}")
    assert conf.driver_options == ()


def test_rootless_storage_path_is_expanded(m: Machine) -> None:
    m.write(m.etc, '[storage]\nrootless_storage_path = "/srv/$USER/$UID/storage"\n')
    conf = load_storage_conf({"USER": "alice"}, m.home, True, m.dirs, uid=UID)
    assert conf.graph_root == Path(f"/srv/alice/{UID}/storage")
    m.write(m.user, '[storage]\nrootless_storage_path = "$HOME/elsewhere"\n')
    assert m.load(rootless=True).graph_root == m.home / "elsewhere"
    # Root does not use it.
    assert m.load().graph_root == Path("/var/lib/sealpod/storage")


def test_rootless_own_file_is_used_over_inherited_driver(m: Machine) -> None:
    m.write(m.etc, '[storage]\ndriver = "vfs"\n')
    m.write(
        m.user, '[storage]\ngraphroot = "/home/me/graph"\n[storage.options.overlay]\nmountopt = "nodev"\n'
    )
    conf = m.load(rootless=True)
    assert (conf.driver, conf.graph_root) == ("vfs", Path("/home/me/graph"))
    assert conf.files == (m.etc, m.user)
    m.write(m.user, '[storage]\ndriver = "overlay"\n[storage.options.overlay]\nmountopt = "nodev"\n')
    conf = m.load(rootless=True)
    assert (conf.driver, conf.mount_opts) == ("overlay", "nodev")


def test_root_ignores_the_user_file(m: Machine) -> None:
    m.write(m.user, '[storage]\ndriver = "vfs"\n')
    assert m.load().driver == "overlay"


def test_overlay_options(m: Machine) -> None:
    m.write(
        m.etc,
        '[storage]\ndriver = "overlay2"\n'
        '[storage.options]\nmount_program = "/old/fuse"\nadditionalimagestores = ["/ro/store"]\n'
        'pull_options = {enable_partial_images = "true"}\n'
        '[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n'
        'mountopt = "nodev,metacopy=on"\n'
        'force_mask = "shared"\nignore_chown_errors = true\n',
    )
    conf = m.load()
    assert conf.driver == "overlay"
    assert conf.mount_program == "/usr/bin/fuse-overlayfs"
    assert conf.mount_opts == "nodev,metacopy=on"
    assert conf.force_mask == "shared"
    assert conf.ignore_chown_errors is True
    assert "overlay.mountopt=nodev,metacopy=on" in conf.driver_options
    assert conf.additional_image_stores == (Path("/ro/store"),)
    assert conf.pull_options == {"enable_partial_images": "true"}


def test_legacy_options_apply_to_the_driver(m: Machine) -> None:
    m.write(m.etc, '[storage.options]\nmount_program = "/usr/bin/fuse-overlayfs"\n')
    conf = m.load()
    assert conf.driver_options == ("overlay.mount_program=/usr/bin/fuse-overlayfs",)
    assert conf.mount_program == "/usr/bin/fuse-overlayfs"
    assert conf.ignore_chown_errors is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[storage]\ndriver = 3\n", "storage.driver: expected string, got integer"),
        (
            '[storage]\ngraphroot = "relative/path"\n',
            'storage.graphroot: "relative/path" must be an absolute path',
        ),
        ('storage = "x"\n', "storage: expected table, got string"),
        (
            '[storage.options]\nadditionalimagestores = "/x"\n',
            "additionalimagestores: expected array, got string",
        ),
        ("[storage.options.overlay]\nmountopt = 1\n", "storage.options.overlay.mountopt: expected string"),
        ("[storage\n", "(at line 1, column"),
    ],
)
def test_bad_files_name_file_and_key(m: Machine, text: str, expected: str) -> None:
    m.write(m.etc, text)
    with pytest.raises(ConfigError) as info:
        m.load()
    assert str(info.value).startswith(f"storage.conf: {m.etc}: ")
    assert expected in str(info.value)


def resolve(
    m: Machine, opts: GlobalOptions, env: dict[str, str] | None = None, rootless: bool = False
) -> Config:
    host = HostFacts(rootless=rootless, systemd=False)
    return resolve_config(opts, env or {}, m.home, rootless, system_dirs=m.dirs, host=host, uid=UID)


def test_root_and_runroot_flags_move_everything(m: Machine) -> None:
    m.write(m.etc, '[storage]\ngraphroot = "/etc/graph"\nrunroot = "/etc/run"\n')
    config = resolve(m, GlobalOptions(root=Path("/r"), runroot=Path("/rr")))
    assert (config.storage.graph_root, config.storage.run_root) == (Path("/r"), Path("/rr"))
    assert (config.static_dir, config.tmp_dir) == (Path("/r/libpod"), Path("/rr/libpod"))
    plain = resolve(m, GlobalOptions())
    assert (plain.static_dir, plain.tmp_dir) == (Path("/etc/graph/libpod"), Path("/etc/run/libpod"))
    assert plain.rootless is False and plain.log_level == "warn"


def test_storage_driver_and_options_flags(m: Machine) -> None:
    m.write(m.etc, '[storage.options.overlay]\nmountopt = "nodev"\n')
    assert resolve(m, GlobalOptions()).storage.mount_opts == "nodev"
    # Another driver: the file's options were meant for overlay.
    vfs = resolve(m, GlobalOptions(storage_driver="vfs")).storage
    assert (vfs.driver, vfs.driver_options) == ("vfs", ())
    same = resolve(m, GlobalOptions(storage_driver="overlay2")).storage
    assert same.mount_opts == "nodev"
    opts = resolve(m, GlobalOptions(storage_opts=("overlay.mount_program=/f",))).storage
    assert (opts.mount_program, opts.mount_opts) == ("/f", "")
    # --storage-opt "" means no options at all.
    assert resolve(m, GlobalOptions(storage_opts=("",))).storage.driver_options == ()


def test_storage_environment_variables_lose_to_flags(m: Machine) -> None:
    env = {"STORAGE_DRIVER": "vfs", "STORAGE_OPTS": "vfs.ignore_chown_errors=true"}
    from_env = resolve(m, GlobalOptions(), env).storage
    assert (from_env.driver, from_env.ignore_chown_errors) == ("vfs", True)
    flags = resolve(m, GlobalOptions(storage_driver="overlay", storage_opts=()), env).storage
    assert (flags.driver, flags.driver_options) == ("overlay", ())


def test_rootless_resolution(m: Machine) -> None:
    config = resolve(m, GlobalOptions(), {"XDG_DATA_HOME": str(m.root / "data")}, rootless=True)
    assert config.rootless is True
    assert config.storage.graph_root == m.root / "data/sealpod/storage"
    assert config.volume_path == m.root / "data/sealpod/storage/volumes"


def test_config_survives_pickling(m: Machine) -> None:
    import pickle

    m.write(m.etc, '[storage.options]\npull_options = {a = "b"}\n')
    config = resolve(m, GlobalOptions(root=Path("/r")))
    assert pickle.loads(pickle.dumps(config)) == config
    nowhere = SystemDirs(etc_sealpod=m.root / "no", share_sealpod=m.root / "no")
    assert load_storage_conf({}, m.home, False, nowhere).pull_options == {}
