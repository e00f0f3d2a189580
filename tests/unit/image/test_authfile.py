"""auth.json lookups and writes, with every path isolated under tmp_path."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from sealpod.errors import ConfigError, InvalidArgument
from sealpod.image.authfile import (
    auth_file_path,
    find_credentials,
    parse_creds,
    remove_all,
    remove_credentials,
    search_paths,
    split_creds,
    store_credentials,
)
from sealpod.image.registry.auth import Credentials


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def write(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_default_location(tmp_path: Path) -> None:
    assert auth_file_path({"REGISTRY_AUTH_FILE": "/x/a.json", "XDG_RUNTIME_DIR": "/run/user/1"}) == \
        Path("/x/a.json")
    assert auth_file_path({"XDG_RUNTIME_DIR": "/run/user/1"}) == Path("/run/user/1/containers/auth.json")
    assert auth_file_path({}, uid=0) == Path("/run/containers/0/auth.json")


def test_default_location_of_a_user_without_a_runtime_dir() -> None:
    """After `su -` there is no XDG_RUNTIME_DIR: /run/containers/UID is root's to make, so a user's auth
    file goes where its run root goes; inside our user namespace (getuid() 0) it is still the user's."""
    assert auth_file_path({}, uid=1001) == Path("/tmp/sealpod-1001/containers/auth.json")
    inside = {"_CONTAINERS_USERNS_CONFIGURED": "done", "_CONTAINERS_ROOTLESS_UID": "1001"}
    assert auth_file_path(inside) == Path("/tmp/sealpod-1001/containers/auth.json")


def test_search_order(home: Path, tmp_path: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert [p for p, _ in search_paths(env, home)] == [
        tmp_path / "run/containers/auth.json", home / ".config/containers/auth.json",
        home / ".docker/config.json", home / ".dockercfg"]
    env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
    assert search_paths(env, home)[1] == (tmp_path / "cfg/containers/auth.json", False)
    assert search_paths(env, home)[3] == (home / ".dockercfg", True)


def test_most_specific_key_wins(home: Path, tmp_path: Path) -> None:
    auth = write(tmp_path / "auth.json", {"auths": {
        "quay.io": {"auth": b64("reg:1")},
        "quay.io/team": {"auth": b64("ns:2")},
        "quay.io/team/app": {"auth": b64("repo:3")},
    }})
    def find(key: str) -> Credentials | None:
        return find_credentials(key, env={}, home=home, auth_file=auth)

    assert find("quay.io/team/app") == Credentials("repo", "3")
    assert find("quay.io/team/other") == Credentials("ns", "2")
    assert find("quay.io/else/x") == Credentials("reg", "1")
    assert find("quay.io") == Credentials("reg", "1")
    assert find("docker.io/library/busybox") is None


def test_password_may_contain_colons(home: Path, tmp_path: Path) -> None:
    auth = write(tmp_path / "a.json", {"auths": {"r.io": {"auth": b64("u:p:a:ss")}}})
    assert find_credentials("r.io", env={}, home=home, auth_file=auth) == Credentials("u", "p:a:ss")


def test_first_file_with_a_match_wins_then_fallbacks(home: Path, tmp_path: Path) -> None:
    env = {"REGISTRY_AUTH_FILE": str(tmp_path / "primary.json")}
    write(tmp_path / "primary.json", {"auths": {"a.io": {"auth": b64("primary:x")}}})
    write(home / ".config/containers/auth.json", {"auths": {"a.io": {"auth": b64("config:x")},
                                                             "b.io": {"auth": b64("config:y")}}})
    write(home / ".docker/config.json", {"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:z")},
                                                  "c.io": {"identitytoken": "tok"}}})
    write(home / ".dockercfg", {"d.io": {"auth": b64("legacy:w")}})
    assert find_credentials("a.io/x", env=env, home=home) == Credentials("primary", "x")
    assert find_credentials("b.io", env=env, home=home) == Credentials("config", "y")
    assert find_credentials("docker.io/library/alpine", env=env, home=home) == Credentials("hub", "z")
    assert find_credentials("c.io", env=env, home=home) == Credentials("<token>", "tok")
    assert find_credentials("d.io", env=env, home=home) == Credentials("legacy", "w")


def test_missing_files_are_no_credentials(home: Path, tmp_path: Path) -> None:
    assert find_credentials("a.io", env={"XDG_RUNTIME_DIR": str(tmp_path)}, home=home) is None


def test_broken_json_is_a_config_error(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "auth.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="unmarshaling JSON"):
        find_credentials("a.io", env={}, home=home, auth_file=bad)


def test_store_is_atomic_private_and_keeps_other_entries(tmp_path: Path, home: Path) -> None:
    auth = tmp_path / "new/dir/auth.json"
    store_credentials("a.io", Credentials("u", "p"), auth_file=auth)
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    write(auth, {**json.loads(auth.read_text()), "credHelpers": {"x.io": "pass"}})
    store_credentials("b.io/ns/repo", Credentials("v", "q"), auth_file=auth)
    store_credentials("a.io", Credentials("u2", "p2"), auth_file=auth)
    doc = json.loads(auth.read_text())
    assert doc["credHelpers"] == {"x.io": "pass"}
    assert doc["auths"] == {"a.io": {"auth": b64("u2:p2")}, "b.io/ns/repo": {"auth": b64("v:q")}}
    assert find_credentials("b.io/ns/repo", env={}, home=home, auth_file=auth) == Credentials("v", "q")
    assert sorted(p.name for p in auth.parent.iterdir()) == ["auth.json"]  # no temp files left


def test_store_refuses_bad_keys(tmp_path: Path) -> None:
    for key in ("https://a.io", "a.io/repo:tag", "a.io/repo@sha256:00", ""):
        with pytest.raises(InvalidArgument):
            store_credentials(key, Credentials("u", "p"), auth_file=tmp_path / "a.json")


def test_remove(tmp_path: Path, home: Path) -> None:
    auth = tmp_path / "auth.json"
    assert remove_credentials("a.io", auth_file=auth) is False
    store_credentials("a.io", Credentials("u", "p"), auth_file=auth)
    store_credentials("b.io", Credentials("u", "p"), auth_file=auth)
    assert remove_credentials("a.io", auth_file=auth) is True
    assert remove_credentials("a.io", auth_file=auth) is False
    assert find_credentials("b.io", env={}, home=home, auth_file=auth) == Credentials("u", "p")
    remove_all(auth)
    assert json.loads(auth.read_text()) == {"auths": {}}
    remove_all(tmp_path / "absent.json")
    assert not (tmp_path / "absent.json").exists()


def test_creds_flag() -> None:
    assert parse_creds("user:pa:ss") == Credentials("user", "pa:ss")
    assert parse_creds("user:") == Credentials("user", "")
    assert split_creds("user") == ("user", None)
    with pytest.raises(InvalidArgument, match="password"):
        parse_creds("user")
    with pytest.raises(InvalidArgument, match="username can't be empty"):
        parse_creds(":pw")
    with pytest.raises(InvalidArgument, match="can't be empty"):
        parse_creds("")


def test_credentials_repr_hides_the_password() -> None:
    assert "hunter2" not in repr(Credentials("u", "hunter2"))
