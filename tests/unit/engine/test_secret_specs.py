"""``--secret`` parsing and secret names: pure rules, as Podman words their errors."""

from __future__ import annotations

import pytest

from sealpod.engine.secrets import SecretUse, check_name, parse_use
from sealpod.errors import InvalidArgument


def test_defaults_and_targets() -> None:
    assert parse_use("db") == SecretUse("db")
    assert parse_use("db").mount_path == "/run/secrets/db"
    assert parse_use("db,target=pw").mount_path == "/run/secrets/pw"
    assert parse_use("db,target=/etc/pw,uid=5,gid=6,mode=0400") == SecretUse("db", "mount", "/etc/pw", 5, 6, 0o400)
    env = parse_use("db,type=env,target=PASSWORD")
    assert (env.type, env.env_name) == ("env", "PASSWORD")
    assert parse_use("db,type=env").env_name == "db"


@pytest.mark.parametrize(("spec", "message"), [
    ("db,type=file", "type file is invalid: parsing secret"),
    ("db,uid=x", "uid x invalid: parsing secret"),
    ("db,mode=9", "mode 9 invalid: parsing secret"),
    ("db,colour=red", "option colour invalid: parsing secret"),
    ("db,target", "option target must be in form option=value: parsing secret"),
    ("db,type=env,uid=1", "UID, GID, Mode options cannot be set with secret type env: parsing secret"),
    (",type=env", ",type=env: secret name is required: parsing secret"),
])
def test_bad_specs(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_use(spec)
    assert str(err.value) == message


@pytest.mark.parametrize("name", ["a", "db-pass_1.x", "A" * 64])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-a", "a-", "a/b", "A" * 65, "a b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidArgument):
        check_name(name)
