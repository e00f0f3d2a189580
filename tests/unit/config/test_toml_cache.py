"""The remembered parses of configuration files: used only for the very same bytes, kept only
in a directory of the user's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealpod.config import toml
from sealpod.errors import ConfigError


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "sealpod" / "toml"


def test_a_parse_is_reused_for_the_same_bytes_only(tmp_path: Path, cache_home: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nruntime = "runc"\n')
    assert toml.load_toml(conf) == {"engine": {"runtime": "runc"}}
    entries = list(cache_home.iterdir())
    assert len(entries) == 1 and oct(cache_home.stat().st_mode & 0o777) == "0o700"

    parses: list[bytes] = []
    real_parse = toml._parse

    def counting_parse(data: bytes, prefix: str) -> dict[str, object]:
        parses.append(data)
        return real_parse(data, prefix)

    monkeypatch.setattr(toml, "_parse", counting_parse)
    assert toml.load_toml(conf) == {"engine": {"runtime": "runc"}}
    assert parses == []  # remembered
    conf.write_text('[engine]\nruntime = "crun"\n')  # same size, maybe the same mtime: the bytes decide
    assert toml.load_toml(conf) == {"engine": {"runtime": "crun"}}
    assert len(parses) == 1


def test_errors_are_never_remembered(tmp_path: Path, cache_home: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("[engine\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="bad.conf"):
            toml.load_toml(conf)


def test_values_without_a_json_form_are_parsed_every_time(tmp_path: Path, cache_home: Path) -> None:
    conf = tmp_path / "dated.conf"
    conf.write_text("when = 1979-05-27T07:32:00Z\nn = 1.0\n")
    first = toml.load_toml(conf)
    assert toml.load_toml(conf) == first
    assert not cache_home.exists() or not list(cache_home.iterdir())


def test_numbers_keep_their_types_through_the_cache(tmp_path: Path, cache_home: Path) -> None:
    conf = tmp_path / "n.conf"
    conf.write_text("i = 1\nf = 1.0\nbig = 9223372036854775807\nb = true\nl = [1, 2.5, 'x']\n")
    first = toml.load_toml(conf)
    again = toml.load_toml(conf)
    assert again == first and type(again["i"]) is int and type(again["f"]) is float and again["b"] is True


def test_a_cache_directory_others_can_write_is_not_used(tmp_path: Path, cache_home: Path) -> None:
    cache_home.mkdir(parents=True)
    os.chmod(cache_home, 0o777)
    conf = tmp_path / "c.conf"
    conf.write_text("a = 1\n")
    assert toml.load_toml(conf) == {"a": 1}
    assert list(cache_home.iterdir()) == []


def test_a_planted_entry_for_other_bytes_is_ignored(tmp_path: Path, cache_home: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("a = 1\n")
    toml.load_toml(conf)
    entry = next(cache_home.iterdir())
    entry.write_text('{"text": "a = 2\\n", "doc": {"a": 2}}')
    assert toml.load_toml(conf) == {"a": 1}
