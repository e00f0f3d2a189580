"""Where state and configuration live, for root and rootless users."""

from __future__ import annotations

import os
from pathlib import Path

from sealpod.config.paths import (
    ROOTFUL_GRAPH_ROOT,
    ROOTFUL_RUN_ROOT,
    SystemDirs,
    config_home,
    containers_conf_layers,
    default_graph_root,
    default_run_root,
    is_rootless,
    rootless_uid,
    runtime_dir_usable,
    system_storage_confs,
    user_storage_conf,
)

HOME = Path("/home/alice")


def test_is_rootless_follows_euid() -> None:
    assert is_rootless({}, euid=0) is False
    assert is_rootless({}, euid=1000) is True


def test_is_rootless_inside_our_user_namespace() -> None:
    env = {"_CONTAINERS_USERNS_CONFIGURED": "done", "_CONTAINERS_ROOTLESS_UID": "1000"}
    assert is_rootless(env, euid=0) is True
    assert rootless_uid(env, euid=0) == 1000
    assert rootless_uid({}, euid=1234) == 1234


def test_rootful_state_paths() -> None:
    assert default_graph_root(False, {"XDG_DATA_HOME": "/x"}, HOME) == ROOTFUL_GRAPH_ROOT
    assert ROOTFUL_GRAPH_ROOT == Path("/var/lib/sealpod/storage")
    assert default_run_root(False, {"XDG_RUNTIME_DIR": "/x"}, 0) == ROOTFUL_RUN_ROOT == Path("/run/sealpod")


def test_rootless_graph_root_with_and_without_xdg() -> None:
    assert default_graph_root(True, {}, HOME) == HOME / ".local/share/sealpod/storage"
    assert default_graph_root(True, {"XDG_DATA_HOME": "/data"}, HOME) == Path("/data/sealpod/storage")
    # The XDG spec says relative values are to be ignored.
    assert default_graph_root(True, {"XDG_DATA_HOME": "rel"}, HOME) == HOME / ".local/share/sealpod/storage"


def test_rootless_run_root_uses_a_usable_xdg_runtime_dir(tmp_path: Path) -> None:
    uid = os.getuid()
    assert runtime_dir_usable(tmp_path, uid)
    assert default_run_root(True, {"XDG_RUNTIME_DIR": str(tmp_path)}, uid) == tmp_path / "sealpod"


def test_rootless_run_root_falls_back_to_tmp(tmp_path: Path) -> None:
    uid = os.getuid()
    assert default_run_root(True, {}, 1000) == Path("/tmp/sealpod-1000")
    missing = tmp_path / "missing"
    assert default_run_root(True, {"XDG_RUNTIME_DIR": str(missing)}, uid) == Path(f"/tmp/sealpod-{uid}")
    # Someone else's directory (a stale variable after `su`) is not usable.
    assert default_run_root(True, {"XDG_RUNTIME_DIR": str(tmp_path)}, uid + 1) == Path(
        f"/tmp/sealpod-{uid + 1}"
    )
    afile = tmp_path / "file"
    afile.write_text("")
    assert not runtime_dir_usable(afile, uid)


def test_config_home() -> None:
    assert config_home({}, HOME) == HOME / ".config"
    assert config_home({"XDG_CONFIG_HOME": "/cfg"}, HOME) == Path("/cfg")


def test_containers_conf_layers_rootful_skip_the_user_file() -> None:
    dirs = SystemDirs(share_containers=Path("/s"), etc_containers=Path("/e"))
    layers = containers_conf_layers(False, {}, HOME, dirs)
    assert [(la.file, la.dropin_dir) for la in layers] == [
        (Path("/s/containers.conf"), Path("/s/containers.conf.d")),
        (Path("/e/containers.conf"), Path("/e/containers.conf.d")),
    ]


def test_containers_conf_layers_rootless_add_the_user_file() -> None:
    dirs = SystemDirs(share_containers=Path("/s"), etc_containers=Path("/e"))
    layers = containers_conf_layers(True, {"XDG_CONFIG_HOME": "/cfg"}, HOME, dirs)
    assert layers[-1].file == Path("/cfg/containers/containers.conf")
    assert layers[-1].dropin_dir == Path("/cfg/containers/containers.conf.d")
    assert (
        containers_conf_layers(True, {}, HOME, dirs)[-1].file == HOME / ".config/containers/containers.conf"
    )


def test_containers_conf_env_replaces_and_overrides() -> None:
    env = {"CONTAINERS_CONF": "/only.conf", "CONTAINERS_CONF_OVERRIDE": "/last.conf"}
    layers = containers_conf_layers(True, env, HOME)
    assert [(la.file, la.dropin_dir, la.required) for la in layers] == [
        (Path("/only.conf"), None, True),
        (Path("/last.conf"), None, True),
    ]
    assert layers[0].origin == "CONTAINERS_CONF"


def test_storage_conf_locations() -> None:
    dirs = SystemDirs(share_sealpod=Path("/s"), etc_sealpod=Path("/e"))
    assert system_storage_confs(dirs) == (Path("/e/storage.conf"), Path("/s/storage.conf"))
    assert user_storage_conf({}, HOME) == HOME / ".config/sealpod/storage.conf"
    assert user_storage_conf({"XDG_CONFIG_HOME": "/cfg"}, HOME) == Path("/cfg/sealpod/storage.conf")
