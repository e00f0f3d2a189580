"""registries.conf discovery, parsing (v1 and v2), drop-in merging and lookups.

Every file lives in tmp_path: ``etc`` stands for /etc/containers and ``home`` for $HOME.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.config.registries_conf import (
    Mirror,
    PullSource,
    RegistriesConf,
    RegistryEntry,
    load_registries_conf,
)
from sealpod.errors import ConfigError

D64 = "sha256:" + "ab" * 32


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    path = tmp_path / "etc"
    path.mkdir()
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(etc: Path, home: Path, env: dict[str, str] | None = None) -> RegistriesConf:
    return load_registries_conf(env=env or {}, home=home, etc_dir=etc)


def load_text(etc: Path, home: Path, text: str) -> RegistriesConf:
    write(etc / "registries.conf", text)
    return load(etc, home)


def test_no_files_at_all(etc: Path, home: Path) -> None:
    conf = load(etc, home)
    assert conf.unqualified_search_registries == ()
    assert conf.short_name_mode == "permissive"
    assert conf.aliases == {}
    assert conf.registries == ()
    assert conf.search_origin == str(etc / "registries.conf")
    assert conf.files == ()


V2 = """
unqualified-search-registries = ["example.com", "quay.io"]
short-name-mode = "enforcing"
credential-helpers = ["containers-auth.json"]
some-future-key = 1

[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar"

[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"

[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true

[[registry]]
location = "registry.com"
mirror-by-digest-only = true

[[registry.mirror]]
location = "mirror.registry.com"

[[registry]]
location = "bad.io"
blocked = true

[[registry]]
location = "localhost:5000"
insecure = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"""


def test_v2_parsing(etc: Path, home: Path) -> None:
    conf = load_text(etc, home, V2)
    assert conf.unqualified_search_registries == ("example.com", "quay.io")
    assert conf.short_name_mode == "enforcing"
    assert conf.aliases == {"fedora": "registry.fedoraproject.org/fedora"}
    assert conf.alias_origins == {"fedora": str(etc / "registries.conf")}
    assert conf.registries[0] == RegistryEntry(
        prefix="example.com/foo",
        location="internal-registry-for-example.com/bar",
        mirrors=(
            Mirror("example-mirror-0.local/mirror-for-foo"),
            Mirror("example-mirror-1.local/mirrors/foo", insecure=True),
        ),
    )
    assert conf.registries[1].prefix == "registry.com"
    assert conf.registries[1].mirror_by_digest_only


def test_pull_sources_man_page_example(etc: Path, home: Path) -> None:
    conf = load_text(etc, home, V2)
    assert conf.pull_sources("example.com/foo/image:latest") == [
        PullSource("example-mirror-0.local/mirror-for-foo/image:latest", False),
        PullSource("example-mirror-1.local/mirrors/foo/image:latest", True),
        PullSource("internal-registry-for-example.com/bar/image:latest", False),
    ]
    # Mirrors belong to their own [[registry]] only; no entry means the name as is.
    assert conf.pull_sources("example.com/other:1") == [PullSource("example.com/other:1", False)]
    assert conf.pull_sources("example.com/foobar:1") == [PullSource("example.com/foobar:1", False)]


def test_mirror_by_digest_only(etc: Path, home: Path) -> None:
    conf = load_text(etc, home, V2)
    assert conf.pull_sources("registry.com/a:1") == [PullSource("registry.com/a:1", False)]
    assert conf.pull_sources(f"registry.com/a@{D64}") == [
        PullSource(f"mirror.registry.com/a@{D64}", False),
        PullSource(f"registry.com/a@{D64}", False),
    ]


def test_pull_from_mirror(etc: Path, home: Path) -> None:
    conf = load_text(
        etc,
        home,
        """
[[registry]]
location = "r.io"
[[registry.mirror]]
location = "digests.io"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tags.io"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.io"
""",
    )
    assert [s.name for s in conf.pull_sources("r.io/a:1")] == ["tags.io/a:1", "all.io/a:1", "r.io/a:1"]
    assert [s.name for s in conf.pull_sources(f"r.io/a@{D64}")] == [
        f"digests.io/a@{D64}",
        f"all.io/a@{D64}",
        f"r.io/a@{D64}",
    ]


def test_docker_hub_rewrites_get_library(etc: Path, home: Path) -> None:
    conf = load_text(
        etc,
        home,
        """
[[registry]]
prefix = "docker.io/library/alpine"
location = "mirror.local/alpine"
[[registry]]
prefix = "example.com"
location = "docker.io"
[[registry.mirror]]
location = "index.docker.io/mirrored"
""",
    )
    assert conf.pull_sources("docker.io/library/alpine:3")[-1].name == "mirror.local/alpine:3"
    assert [s.name for s in conf.pull_sources("example.com/busybox:1")] == [
        "docker.io/mirrored/busybox:1",
        "docker.io/library/busybox:1",
    ]


@pytest.mark.parametrize(
    "name,prefix",
    [
        ("example.com/foo/bar:1", "example.com/foo/bar"),
        ("example.com/foo/baz:1", "example.com/foo"),
        ("example.com/foo", "example.com/foo"),
        (f"example.com/foo@{D64}", "example.com/foo"),
        ("example.com/foobar", "example.com"),
        ("example.com:5000/foo", None),
        ("a.example.com/x", "*.example.com"),
        ("a.b.example.com:5000/x", "*.example.com"),
        ("example.com.evil.io/x", None),
        ("www.example.org/x", "www.example.org"),
        ("other.example.org/x", "*.example.org"),
        ("localhost:5000/x:1", "localhost:5000"),
        ("localhost/x:1", None),
    ],
)
def test_find_longest_prefix(etc: Path, home: Path, name: str, prefix: str | None) -> None:
    conf = load_text(
        etc,
        home,
        """
[[registry]]
location = "example.com"
[[registry]]
location = "example.com/foo"
[[registry]]
prefix = "example.com/foo/bar"
location = "x.io"
[[registry]]
prefix = "*.example.com"
[[registry]]
prefix = "*.example.org"
insecure = true
[[registry]]
location = "www.example.org"
[[registry]]
location = "localhost:5000"
""",
    )
    entry = conf.find(name)
    assert (entry.prefix if entry else None) == prefix


def test_wildcard_rewrite(etc: Path, home: Path) -> None:
    conf = load_text(
        etc,
        home,
        """
[[registry]]
prefix = "*.example.com"
blocked = false
[[registry.mirror]]
location = "mirror.local"
""",
    )
    assert conf.pull_sources("a.example.com/x/y:1") == [
        PullSource("mirror.local/x/y:1", False),
        PullSource("a.example.com/x/y:1", False),
    ]


def test_insecure_and_blocked(etc: Path, home: Path) -> None:
    conf = load_text(etc, home, V2)
    assert conf.is_insecure("localhost:5000")
    assert not conf.is_insecure("localhost")
    assert not conf.is_insecure("registry.com")
    assert conf.is_insecure("example-mirror-1.local")
    assert conf.is_blocked("bad.io/x/y:1")
    assert not conf.is_blocked("bad.iox/y:1")
    assert not conf.is_blocked("quay.io/x:1")


def test_v1_format(etc: Path, home: Path) -> None:
    conf = load_text(
        etc,
        home,
        """
[registries.search]
registries = ['registry1.com', 'registry2.com']
[registries.insecure]
registries = ['registry3.com', 'registry1.com']
[registries.block]
registries = ['registry.untrusted.com']
""",
    )
    assert conf.unqualified_search_registries == ("registry1.com", "registry2.com")
    assert conf.is_insecure("registry1.com")
    assert conf.is_insecure("registry3.com")
    assert not conf.is_insecure("registry2.com")
    assert conf.is_blocked("registry.untrusted.com/a:1")
    assert [e.prefix for e in conf.registries] == [
        "registry1.com",
        "registry2.com",
        "registry3.com",
        "registry.untrusted.com",
    ]


def test_v1_search_wins_over_v2_key(etc: Path, home: Path) -> None:
    conf = load_text(
        etc, home, 'unqualified-search-registries = ["b.io"]\n[registries.search]\nregistries = ["a.io"]\n'
    )
    assert conf.unqualified_search_registries == ("a.io",)


def test_dropins_merge(etc: Path, home: Path) -> None:
    write(
        etc / "registries.conf",
        """
unqualified-search-registries = ["a.io"]
short-name-mode = "enforcing"
[[registry]]
location = "one.io"
insecure = true
[[registry]]
location = "two.io"
[aliases]
"x" = "a.io/x"
"y" = "a.io/y"
""",
    )
    write(etc / "registries.conf.d" / "10-b.conf", '[[registry]]\nlocation = "one.io"\nblocked = true\n')
    write(etc / "registries.conf.d" / "20-c.conf", 'unqualified-search-registries = ["c.io", "d.io"]\n')
    write(etc / "registries.conf.d" / "05-a.conf", '[aliases]\n"y" = ""\n"z" = "z.io/z"\n')
    write(etc / "registries.conf.d" / "30-ignored.txt", "this is not toml [")
    (etc / "registries.conf.d" / "40-dir.conf").mkdir()
    write(home / ".config/containers/registries.conf.d/50-user.conf", '[aliases]\n"x" = "user.io/x"\n')
    conf = load(etc, home)
    assert conf.unqualified_search_registries == ("c.io", "d.io")
    assert conf.search_origin == str(etc / "registries.conf.d" / "20-c.conf")
    assert conf.short_name_mode == "enforcing"
    assert conf.aliases == {"x": "user.io/x", "z": "z.io/z"}
    assert conf.alias_origins["x"] == str(home / ".config/containers/registries.conf.d/50-user.conf")
    one = conf.find("one.io/a")
    assert one is not None and one.blocked and not one.insecure  # replaced as a whole
    assert conf.find("two.io/a") is not None
    assert [p.name for p in conf.files] == [
        "registries.conf",
        "05-a.conf",
        "10-b.conf",
        "20-c.conf",
        "50-user.conf",
    ]


def test_empty_search_list_in_dropin_clears(etc: Path, home: Path) -> None:
    write(etc / "registries.conf", 'unqualified-search-registries = ["a.io"]\n')
    write(etc / "registries.conf.d" / "x.conf", "unqualified-search-registries = []\n")
    assert load(etc, home).unqualified_search_registries == ()


def test_user_file_replaces_system_and_its_dropins(etc: Path, home: Path) -> None:
    write(etc / "registries.conf", 'unqualified-search-registries = ["system.io"]\n')
    write(etc / "registries.conf.d" / "a.conf", '[aliases]\n"x" = "system.io/x"\n')
    user = write(home / ".config/containers/registries.conf", 'unqualified-search-registries = ["user.io"]\n')
    write(home / ".config/containers/registries.conf.d/b.conf", '[aliases]\n"y" = "user.io/y"\n')
    conf = load(etc, home)
    assert conf.unqualified_search_registries == ("user.io",)
    assert conf.search_origin == str(user)
    assert conf.aliases == {"y": "user.io/y"}


def test_env_replaces_main_file_but_keeps_dropins(etc: Path, home: Path, tmp_path: Path) -> None:
    write(etc / "registries.conf", 'unqualified-search-registries = ["system.io"]\n')
    write(etc / "registries.conf.d" / "a.conf", '[aliases]\n"x" = "system.io/x"\n')
    write(home / ".config/containers/registries.conf", 'unqualified-search-registries = ["user.io"]\n')
    mine = write(tmp_path / "mine.conf", 'unqualified-search-registries = ["mine.io"]\n')
    conf = load(etc, home, {"CONTAINERS_REGISTRIES_CONF": str(mine)})
    assert conf.unqualified_search_registries == ("mine.io",)
    assert conf.aliases == {"x": "system.io/x"}


def test_env_file_must_exist(etc: Path, home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.conf"
    with pytest.raises(ConfigError) as info:
        load(etc, home, {"CONTAINERS_REGISTRIES_CONF": str(missing)})
    assert str(info.value) == (
        f'loading registries configuration "{missing}": open {missing}: no such file or directory'
    )


def test_bad_toml_names_file_and_line(etc: Path, home: Path) -> None:
    path = write(
        etc / "registries.conf", 'short-name-mode = "permissive"\nunqualified-search-registries = ["a" "b"]\n'
    )
    with pytest.raises(ConfigError) as info:
        load(etc, home)
    message = str(info.value)
    assert message.startswith(f'loading registries configuration "{path}": ')
    assert "line 2" in message


def test_bad_dropin_is_named_as_dropin(etc: Path, home: Path) -> None:
    path = write(etc / "registries.conf.d" / "a.conf", "[registries.search]\nregistries = ['a.io']\n")
    with pytest.raises(ConfigError) as info:
        load(etc, home)
    assert str(info.value) == (
        f'loading drop-in registries configuration "{path}": registry must be in v2 format but is in v1'
    )


INVALID = [
    ('short-name-mode = "bogus"\n', 'invalid short-name mode: "bogus"'),
    (
        'unqualified-search-registries = ["docker.io/foo"]\n',
        'Invalid unqualified-search-registries entry "docker.io/foo"',
    ),
    (
        'unqualified-search-registries = "x.io"\n',
        '"unqualified-search-registries": TOML value has type string; expected array',
    ),
    (
        '[[registry]]\nlocation = "a.io"\ninsecure = "yes"\n',
        '"registry.insecure": TOML value has type string; expected boolean',
    ),
    (
        '[registries.search]\nregistries = ["a.io"]\n[[registry]]\nlocation = "x.io"\n',
        "mixing sysregistry v1/v2 is not supported",
    ),
    (
        '[[registry]]\nprefix = "*.example.com/foo"\n',
        "Wildcarded prefix should be in the format: *.example.com. "
        'Current prefix "*.example.com/foo" is incorrectly formatted',
    ),
    (
        '[[registry]]\nprefix = "example.com"\n',
        "invalid condition: location is unset and prefix is not in the format: *.example.com",
    ),
    ('[[registry]]\nlocation = ""\n', "invalid condition: both location and prefix are unset"),
    (
        '[[registry]]\nprefix = "example.com"\nlocation = "http://example.com"\n',
        "invalid location 'http://example.com': URI schemes are not supported",
    ),
    (
        '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = ""\n',
        "invalid condition: mirror location is unset",
    ),
    (
        '[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "xx"\n',
        'unsupported pull-from-mirror value "xx" for mirror "m.io"',
    ),
    (
        '[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n'
        '[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "tag-only"\n',
        'cannot set mirror usage mirror-by-digest-only for the registry ("a.io") and pull-from-mirror '
        'for per-mirror ("m.io") at the same time',
    ),
    (
        '[aliases]\n"foo" = "a.io/bar:tag"\n',
        'validating short-name aliases: invalid alias "a.io/bar:tag": must not contain tag',
    ),
    (
        f'[aliases]\n"foo" = "a.io/bar@{D64}"\n',
        f'validating short-name aliases: invalid alias "a.io/bar@{D64}": must not contain digest',
    ),
    (
        '[aliases]\n"foo" = "bar"\n',
        'validating short-name aliases: invalid alias "bar": must contain registry and repository',
    ),
    (
        '[aliases]\n"foo:1" = "a.io/bar"\n',
        'validating short-name aliases: invalid short name "foo:1": must not contain tag',
    ),
    (
        '[aliases]\n"x.io/foo" = "a.io/bar"\n',
        'validating short-name aliases: invalid short name "x.io/foo": must not contain registry',
    ),
    (
        '[aliases]\n"localhost/foo" = "a.io/bar"\n',
        'validating short-name aliases: invalid short name "localhost/foo": must not contain registry',
    ),
    (
        '[aliases]\n"Foo" = "a.io/bar"\n',
        'validating short-name aliases: cannot parse short name: "Foo": repository name must be lowercase',
    ),
    (
        '[aliases]\n"foo" = "a.io/Bar"\n',
        'validating short-name aliases: parsing alias "a.io/Bar": repository name must be lowercase',
    ),
]


@pytest.mark.parametrize("text,detail", INVALID)
def test_invalid_files(etc: Path, home: Path, text: str, detail: str) -> None:
    path = write(etc / "registries.conf", text)
    with pytest.raises(ConfigError) as info:
        load(etc, home)
    assert str(info.value) == f'loading registries configuration "{path}": {detail}'


def test_accepted_oddities(etc: Path, home: Path) -> None:
    conf = load_text(
        etc,
        home,
        """
unqualified-search-registries = ["Foo.io", "localhost", "[::1]:5000"]
[[registry]]
prefix = "example.com/"
location = "example.com/"
[[registry]]
location = "dup.io"
insecure = true
[[registry]]
location = "dup.io"
[aliases]
"gone" = ""
""",
    )
    assert conf.unqualified_search_registries == ("Foo.io", "localhost", "[::1]:5000")
    assert conf.find("example.com/x") == RegistryEntry("example.com", "example.com")
    assert conf.find("dup.io/x") == RegistryEntry("dup.io", "dup.io")
    assert conf.aliases == {}
