"""Short-name resolution for pulls and for local lookups, against real registries.conf files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from sealpod.config.registries_conf import RegistriesConf, load_registries_conf
from sealpod.errors import ConfigError, ShortNameError
from sealpod.image.reference import Reference, parse_reference
from sealpod.image.shortnames import (
    Origin,
    local_candidates,
    matches_short_name,
    resolve_short_name,
)

D64 = "sha256:" + "0123456789abcdef" * 4


def conf_from(tmp_path: Path, text: str) -> RegistriesConf:
    path = tmp_path / "registries.conf"
    path.write_text(text)
    return load_registries_conf(
        env={"CONTAINERS_REGISTRIES_CONF": str(path)}, home=tmp_path, etc_dir=tmp_path
    )


@pytest.fixture
def conf(tmp_path: Path) -> RegistriesConf:
    return conf_from(
        tmp_path,
        """
unqualified-search-registries = ["docker.io", "quay.io"]
short-name-mode = "disabled"
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"hub" = "docker.io/alpine"
"deep/name" = "example.com/x/y"
""",
    )


def names(refs: Sequence[Reference]) -> list[str]:
    return [str(r) for r in refs]


@pytest.mark.parametrize(
    "text,origin,expected",
    [
        ("quay.io/a/b", Origin.QUALIFIED, ["quay.io/a/b:latest"]),
        ("docker.io/busybox:1", Origin.QUALIFIED, ["docker.io/library/busybox:1"]),
        (f"quay.io/a/b:1@{D64}", Origin.QUALIFIED, [f"quay.io/a/b@{D64}"]),
        ("fedora", Origin.ALIAS, ["registry.fedoraproject.org/fedora:latest"]),
        ("fedora:39", Origin.ALIAS, ["registry.fedoraproject.org/fedora:39"]),
        (f"fedora@{D64}", Origin.ALIAS, [f"registry.fedoraproject.org/fedora@{D64}"]),
        ("hub:3", Origin.ALIAS, ["docker.io/library/alpine:3"]),
        ("deep/name", Origin.ALIAS, ["example.com/x/y:latest"]),
        ("busybox", Origin.SEARCH, ["docker.io/library/busybox:latest", "quay.io/busybox:latest"]),
        ("foo/bar:2", Origin.SEARCH, ["docker.io/foo/bar:2", "quay.io/foo/bar:2"]),
        (f"foo:1@{D64}", Origin.SEARCH, [f"docker.io/library/foo@{D64}", f"quay.io/foo@{D64}"]),
    ],
)
def test_resolve(conf: RegistriesConf, text: str, origin: Origin, expected: list[str]) -> None:
    resolution = resolve_short_name(parse_reference(text), conf)
    assert resolution.origin == origin
    assert resolution.origin == str(origin)  # plain strings compare too
    assert names(resolution.candidates) == expected
    assert not resolution.record_alias


def test_describe(conf: RegistriesConf, tmp_path: Path) -> None:
    path = tmp_path / "registries.conf"
    alias = resolve_short_name(parse_reference("fedora:39"), conf)
    assert alias.describe() == f'Resolved "fedora" as an alias ({path})'
    search = resolve_short_name(parse_reference("busybox:1"), conf)
    assert search.describe() == f'Resolving "busybox" using unqualified-search registries ({path})'
    assert resolve_short_name(parse_reference("quay.io/a"), conf).describe() is None


def test_alias_in_dropin_is_named(tmp_path: Path) -> None:
    dropin = tmp_path / "registries.conf.d" / "000-shortnames.conf"
    dropin.parent.mkdir()
    dropin.write_text('[aliases]\n"alpine" = "docker.io/library/alpine"\n')
    conf = load_registries_conf(env={}, home=tmp_path / "home", etc_dir=tmp_path)
    resolution = resolve_short_name(parse_reference("alpine"), conf)
    assert resolution.source == str(dropin)
    assert names(resolution.candidates) == ["docker.io/library/alpine:latest"]


def test_alias_cache_has_precedence(conf: RegistriesConf) -> None:
    resolution = resolve_short_name(
        parse_reference("fedora:1"), conf, alias_cache={"fedora": "quay.io/fedora/fedora"}
    )
    assert names(resolution.candidates) == ["quay.io/fedora/fedora:1"]
    assert resolution.origin == Origin.ALIAS


def test_no_search_registries(tmp_path: Path) -> None:
    conf = conf_from(tmp_path, "")
    for text in ("foo", "foo/bar:1", f"foo@{D64}"):
        with pytest.raises(ShortNameError) as info:
            resolve_short_name(parse_reference(text), conf)
        assert str(info.value) == (
            f'short-name "{text}" did not resolve to an alias and no unqualified-search registries '
            f'are defined in "{tmp_path / "registries.conf"}"'
        )


def test_default_location_is_named_when_nothing_set(tmp_path: Path) -> None:
    conf = load_registries_conf(env={}, home=tmp_path, etc_dir=tmp_path / "etc")
    with pytest.raises(ShortNameError, match="are defined in .*/etc/registries.conf"):
        resolve_short_name(parse_reference("foo"), conf)


MANY = 'unqualified-search-registries = ["a.io", "b.io"]\nshort-name-mode = "{mode}"\n'


def test_enforcing_without_terminal_fails(tmp_path: Path) -> None:
    conf = conf_from(tmp_path, MANY.format(mode="enforcing"))
    with pytest.raises(ShortNameError) as info:
        resolve_short_name(parse_reference("foo"), conf)
    assert str(info.value) == "short-name resolution enforced but cannot prompt without a TTY"
    # One search registry is not ambiguous: no prompt needed.
    one = conf_from(tmp_path, 'unqualified-search-registries = ["a.io"]\nshort-name-mode = "enforcing"\n')
    assert names(resolve_short_name(parse_reference("foo"), one).candidates) == ["a.io/foo:latest"]


@pytest.mark.parametrize("mode", ["", "permissive", "disabled"])
def test_without_terminal_all_candidates(tmp_path: Path, mode: str) -> None:
    conf = conf_from(tmp_path, MANY.format(mode=mode))
    assert names(resolve_short_name(parse_reference("foo"), conf).candidates) == [
        "a.io/foo:latest",
        "b.io/foo:latest",
    ]


@pytest.mark.parametrize("mode", ["enforcing", "permissive"])
def test_chooser_picks_one(tmp_path: Path, mode: str) -> None:
    conf = conf_from(tmp_path, MANY.format(mode=mode))
    offered: list[str] = []

    def choose(candidates: Sequence[Reference]) -> Reference:
        offered.extend(str(c) for c in candidates)
        return candidates[1]

    resolution = resolve_short_name(parse_reference("foo:2"), conf, choose=choose)
    assert offered == ["a.io/foo:2", "b.io/foo:2"]
    assert names(resolution.candidates) == ["b.io/foo:2"]
    assert resolution.record_alias


def test_disabled_mode_never_asks(tmp_path: Path) -> None:
    conf = conf_from(tmp_path, MANY.format(mode="disabled"))

    def choose(candidates: Sequence[Reference]) -> Reference:
        raise AssertionError("must not prompt")

    assert len(resolve_short_name(parse_reference("foo"), conf, choose=choose).candidates) == 2


def test_bad_alias_value_is_a_config_error(tmp_path: Path) -> None:
    conf = conf_from(tmp_path, '[aliases]\n"x" = "a.io/-b"\n')
    with pytest.raises(ConfigError) as info:
        resolve_short_name(parse_reference("x"), conf)
    assert str(info.value) == (
        f'loading registries configuration "{tmp_path / "registries.conf"}": validating short-name aliases: '
        'parsing alias "a.io/-b": invalid reference format'
    )


@pytest.mark.parametrize(
    "text,expected",
    [
        ("quay.io/a/b:1", ["quay.io/a/b:1"]),
        ("docker.io/busybox", ["docker.io/library/busybox:latest"]),
        ("ppp", ["localhost/ppp:latest", "docker.io/library/ppp:latest", "quay.io/ppp:latest"]),
        ("ppp:2", ["localhost/ppp:2", "docker.io/library/ppp:2", "quay.io/ppp:2"]),
        (f"ppp:2@{D64}", [f"localhost/ppp@{D64}", f"docker.io/library/ppp@{D64}", f"quay.io/ppp@{D64}"]),
        (
            "fedora",
            [
                "registry.fedoraproject.org/fedora:latest",
                "localhost/fedora:latest",
                "docker.io/library/fedora:latest",
                "quay.io/fedora:latest",
            ],
        ),
    ],
)
def test_local_candidates(conf: RegistriesConf, text: str, expected: list[str]) -> None:
    assert local_candidates(parse_reference(text), conf) == expected


def test_local_candidates_without_conf() -> None:
    assert local_candidates(parse_reference("ppp")) == ["localhost/ppp:latest"]


def test_local_candidates_dedupe(tmp_path: Path) -> None:
    conf = conf_from(tmp_path, 'unqualified-search-registries = ["localhost", "a.io"]\n')
    assert local_candidates(parse_reference("x"), conf) == ["localhost/x:latest", "a.io/x:latest"]


@pytest.mark.parametrize(
    "stored,short,matches",
    [
        ("quay.io/a/b/foo:1", "foo:1", True),
        ("quay.io/a/b/foo:1", "b/foo:1", True),
        ("quay.io/a/b/foo:1", "a/b/foo:1", True),
        ("quay.io/a/b/foo:1", "oo:1", False),
        ("quay.io/a/b/foo:1", "foo", False),
        ("quay.io/a/b/foo:1", "foo:2", False),
        ("example.com/bar:latest", "bar", True),
        ("docker.io/library/baz:2", "baz:2", True),
        ("docker.io/library/baz:2", "library/baz:2", True),
        ("quay.io/qux/baz:3", "ux/baz:3", False),
        (f"quay.io/qux/baz@{D64}", f"baz@{D64}", True),
        (f"quay.io/qux/baz@{D64}", "baz:latest", False),
        ("quay.io/qux/baz:latest", f"baz@{D64}", False),
    ],
)
def test_matches_short_name(stored: str, short: str, matches: bool) -> None:
    assert matches_short_name(parse_reference(stored), parse_reference(short)) is matches


def test_matches_short_name_needs_a_short_name() -> None:
    assert not matches_short_name(parse_reference("quay.io/a/foo:1"), parse_reference("quay.io/a/foo:1"))
