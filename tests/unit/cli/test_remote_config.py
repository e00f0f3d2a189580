"""Pure logic of the remote client: service URIs, where connections are written, and the
textual edit of containers.conf that keeps the rest of a user's file as it was."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from sealpod.cli.remote import _interactive, _strip_remote_flags, _take_option, resolve_uri
from sealpod.config.connections import (
    Connection,
    ConnectionTable,
    parse_uri,
    read_table,
    render,
    split_dotted,
    update_table,
    writable_conf,
)
from sealpod.config.paths import SystemDirs
from sealpod.errors import ConfigError, InvalidArgument, NoSuchConnection


@pytest.mark.parametrize(("text", "scheme", "path", "host", "port", "user"), [
    ("unix:///run/sealpod/sealpod.sock", "unix", "/run/sealpod/sealpod.sock", "", 0, ""),
    ("unix:/run/x.sock", "unix", "/run/x.sock", "", 0, ""),
    ("tcp://127.0.0.1:8080", "tcp", "", "127.0.0.1", 8080, ""),
    ("tcp://[::1]:2375", "tcp", "", "::1", 2375, ""),
    ("ssh://core@host.example:2222/run/podman/podman.sock", "ssh", "/run/podman/podman.sock", "host.example", 2222,
     "core"),
    ("ssh://host", "ssh", "", "host", 22, ""),
])
def test_parse_uri(text: str, scheme: str, path: str, host: str, port: int, user: str) -> None:
    uri = parse_uri(text)
    assert (uri.scheme, uri.path, uri.host, uri.port, uri.user, uri.text) == (scheme, path, host, port, user, text)


@pytest.mark.parametrize(("text", "words"), [
    ("http://x", '"http" is not a supported schema'),
    ("/run/x.sock", '"" is not a supported schema'),
    ("unix://relative.sock", "must be absolute"),
    ("tcp://localhost", "a port is required"),
    ("tcp://localhost:99999", 'invalid port "99999"'),
    ("tcp://:80", "no host"),
])
def test_parse_uri_errors(text: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        parse_uri(text)


def test_writable_conf_follows_podman() -> None:
    dirs = SystemDirs(etc_containers=Path("/E"))
    assert writable_conf({"CONTAINERS_CONF": "/c.conf"}, dirs) == Path("/c.conf")
    rootless = {"_CONTAINERS_USERNS_CONFIGURED": "1", "HOME": "/h", "XDG_CONFIG_HOME": "/x"}
    assert writable_conf(rootless, dirs) == Path("/x/containers/containers.conf")
    assert writable_conf({"HOME": "/h"}, dirs) in (Path("/E/containers.conf"), Path("/h/.config/containers/"
                                                                                      "containers.conf"))


def test_split_dotted() -> None:
    assert split_dotted('engine.service_destinations."a.b"') == ("engine", "service_destinations", "a.b")
    assert split_dotted(" engine . x ") == ("engine", "x")


def _table(active: str, *conns: Connection) -> ConnectionTable:
    return ConnectionTable(active=active, destinations={c.name: c for c in conns})


def test_render_keeps_the_rest_of_the_file() -> None:
    text = ('# top comment\n[containers]\nlog_size_max = -1\n\n[engine]\n# engine comment\nactive_service = "old"\n'
            'events_logger = "file"\n\n[engine.service_destinations.old]\nuri = "unix:///old.sock"\n\n'
            '[network]\nnetwork_backend = "netavark"\n')
    out = render(text, _table("new", Connection("new", "tcp://h:1", identity="/k"),
                              Connection("my conn", "unix:///s.sock")))
    doc = tomllib.loads(out)
    assert out.startswith("# top comment\n") and "# engine comment" in out
    assert doc["containers"] == {"log_size_max": -1}
    assert doc["network"] == {"network_backend": "netavark"}
    assert doc["engine"]["events_logger"] == "file"
    assert doc["engine"]["active_service"] == "new"
    assert doc["engine"]["service_destinations"] == {"new": {"uri": "tcp://h:1", "identity": "/k"},
                                                     "my conn": {"uri": "unix:///s.sock"}}


def test_render_empty_file_and_back() -> None:
    out = render("", _table("a", Connection("a", "unix:///a.sock")))
    assert tomllib.loads(out) == {"engine": {"active_service": "a",
                                             "service_destinations": {"a": {"uri": "unix:///a.sock"}}}}
    assert render(out, ConnectionTable()) == "[engine]\n"


def test_update_table_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "containers.conf"

    def add(table: ConnectionTable) -> None:
        table.destinations["x"] = Connection("x", "unix:///x.sock")
        table.active = "x"

    update_table(path, add)
    table = read_table(path)
    assert table.active == "x" and table.destinations["x"].uri == "unix:///x.sock"

    def drop(table: ConnectionTable) -> None:
        table.destinations.clear()

    assert update_table(path, drop).active == ""  # the active one is gone: no default left
    assert "active_service" not in path.read_text()


def test_update_refuses_a_layout_it_cannot_edit(tmp_path: Path) -> None:
    path = tmp_path / "containers.conf"
    path.write_text('engine.active_service = "a"\n')  # a dotted key at the top: not ours to rewrite

    def add(table: ConnectionTable) -> None:
        table.destinations["b"] = Connection("b", "unix:///b.sock")
        table.active = "b"

    with pytest.raises(ConfigError, match="edit it by hand"):
        update_table(path, add)
    assert path.read_text() == 'engine.active_service = "a"\n'


def test_strip_remote_flags() -> None:
    forwarded, opts = _strip_remote_flags(["--log-level", "debug", "--url=unix:///a", "-r", "--connection", "c"])
    assert forwarded == ["--log-level", "debug"]
    assert (opts.url, opts.connection, opts.remote) == ("unix:///a", "c", True)
    with pytest.raises(InvalidArgument, match="--root"):
        _strip_remote_flags(["--root", "/x"])


def test_take_option_and_interactive() -> None:
    assert _take_option(["-i", "f.tar", "-q"], ("-i", "--input")) == (["-q"], "f.tar")
    assert _take_option(["--output=o.tar", "img"], ("-o", "--output")) == (["img"], "o.tar")
    assert _take_option(["img", "--", "-o", "x"], ("-o",)) == (["img", "--", "-o", "x"], None)
    assert _interactive(["-it", "img"]) and _interactive(["--interactive", "img"])
    assert not _interactive(["-t", "img"]) and not _interactive(["--", "-i"])


def test_resolve_uri_order(tmp_path: Path) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nactive_service = "b"\n[engine.service_destinations.a]\nuri = "unix:///a.sock"\n'
                    '[engine.service_destinations.b]\nuri = "tcp://h:2"\n')
    env = {"CONTAINERS_CONF": str(conf), "HOME": str(tmp_path)}

    def ns(url: str | None = None, connection: str | None = None) -> argparse.Namespace:
        return argparse.Namespace(url=url, connection=connection, remote=True)

    assert resolve_uri(ns(), env).text == "tcp://h:2"
    assert resolve_uri(ns(connection="a"), env).text == "unix:///a.sock"
    assert resolve_uri(ns(url="unix:///u.sock", connection="a"), env).text == "unix:///u.sock"
    assert resolve_uri(ns(), {**env, "CONTAINER_HOST": "unix:///h.sock"}).text == "unix:///h.sock"
    assert resolve_uri(ns(), {**env, "CONTAINER_CONNECTION": "a"}).text == "unix:///a.sock"
    with pytest.raises(NoSuchConnection):
        resolve_uri(ns(connection="zz"), env)
    conf.write_text("")
    assert resolve_uri(ns(), env).scheme == "unix"  # the service's default socket
