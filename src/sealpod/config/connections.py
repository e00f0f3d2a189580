"""Named connections to API services, kept where Podman 4 keeps them.

``system connection add`` writes ``[engine.service_destinations.NAME]`` tables and
``[engine] active_service`` into one containers.conf, so connections made with Podman work
with sealpod and the other way round.  Podman 4.3 picks that file as: ``CONTAINERS_CONF``
when set, else ``$XDG_CONFIG_HOME/containers/containers.conf`` for a rootless user, else
``/etc/containers/containers.conf`` for root.  Unlike Podman, which rewrites the whole file
from its in-memory defaults, sealpod edits only the connection tables and the
``active_service`` line, so the rest of a hand-written file keeps its comments and order.

Nothing here runs unless the user asked for a remote connection: local commands never read
these tables (start-up time).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from sealpod.config.paths import SYSTEM_DIRS, SystemDirs, config_home, home_dir, is_rootless
from sealpod.errors import ConfigError, InvalidArgument
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

SCHEMES = ("unix", "tcp", "ssh")


@dataclass(frozen=True)
class RemoteURI:
    """A parsed service address: ``unix:///path``, ``tcp://host:port`` or ``ssh://[user@]host[:port]/path``."""

    scheme: str
    path: str = ""  # the socket (unix, ssh)
    host: str = ""  # tcp, ssh
    port: int = 0
    user: str = ""
    text: str = ""


@dataclass(frozen=True)
class Connection:
    """One ``[engine.service_destinations.NAME]`` entry, with whether it is the active one."""

    name: str
    uri: str
    identity: str = ""
    is_machine: bool = False
    default: bool = False


@dataclass
class ConnectionTable:
    """The connections of one containers.conf file, as ``system connection`` edits them."""

    active: str = ""
    destinations: dict[str, Connection] = field(default_factory=dict)


def parse_uri(text: str) -> RemoteURI:
    """Check and split a service URI; the error says what a valid one looks like."""
    scheme, sep, rest = text.partition(":")
    if not sep or scheme not in SCHEMES:
        shown = scheme if sep else ""
        raise InvalidArgument(f'unable to create connection. "{shown}" is not a supported schema: use '
                              "unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]/PATH")
    if scheme == "unix":
        path = rest[2:] if rest.startswith("//") else rest
        if not path.startswith("/"):
            raise InvalidArgument(f'invalid URI "{text}": the socket path must be absolute (unix:///PATH)')
        return RemoteURI("unix", path=path, text=text)
    if not rest.startswith("//"):
        raise InvalidArgument(f'invalid URI "{text}": expected {scheme}://HOST')
    authority, slash, path = rest[2:].partition("/")
    user, at, hostport = authority.rpartition("@")
    host, port = _split_host_port(hostport, text)
    if not host:
        raise InvalidArgument(f'invalid URI "{text}": no host')
    if scheme == "tcp":
        if not port:
            raise InvalidArgument(f'invalid URI "{text}": a port is required (tcp://HOST:PORT)')
        return RemoteURI("tcp", host=host, port=port, text=text)
    return RemoteURI("ssh", path=slash + path, host=host, port=port or 22, user=user if at else "", text=text)


def _split_host_port(hostport: str, text: str) -> tuple[str, int]:
    if hostport.startswith("["):  # [v6]:port
        host, _, tail = hostport[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, 0
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidArgument(f'invalid URI "{text}": invalid port "{port_text}"')
    return host, int(port_text)


def writable_conf(env: Mapping[str, str], system_dirs: SystemDirs = SYSTEM_DIRS) -> Path:
    """The containers.conf that ``system connection`` edits (Podman 4.3's choice)."""
    if env.get("CONTAINERS_CONF"):
        return Path(env["CONTAINERS_CONF"])
    if is_rootless(env):
        return config_home(env, home_dir(env)) / "containers" / "containers.conf"
    return system_dirs.etc_containers / "containers.conf"


def merged_connections(env: Mapping[str, str]) -> ConnectionTable:
    """Every connection the configuration defines, merged over all containers.conf files."""
    from sealpod.config.containers_conf import load_containers_conf

    engine = load_containers_conf(env, home_dir(env), is_rootless(env)).engine
    table = ConnectionTable(active=engine.active_service)
    for name, dest in engine.service_destinations.items():
        table.destinations[name] = Connection(name, dest.uri, dest.identity, dest.is_machine,
                                              default=name == engine.active_service)
    return table


def default_service_uri(env: Mapping[str, str]) -> str:
    """Where ``system service`` listens by default, for ``--remote`` without a connection."""
    if is_rootless(env):
        base = env.get("XDG_RUNTIME_DIR") or f"/tmp/sealpod-{os.getuid()}"
        return f"unix://{base}/sealpod/sealpod.sock"
    return "unix:///run/sealpod/sealpod.sock"


def read_table(path: Path) -> ConnectionTable:
    """The connections written in one file (a missing file has none)."""
    doc = _parse(_read_text(path), path)
    engine = doc.get("engine")
    table = ConnectionTable()
    if not isinstance(engine, dict):
        return table
    active = engine.get("active_service", "")
    table.active = active if isinstance(active, str) else ""
    dests = engine.get("service_destinations", {})
    for name, item in (dests.items() if isinstance(dests, dict) else ()):
        if isinstance(item, dict):
            table.destinations[name] = Connection(
                name, str(item.get("uri", "")), str(item.get("identity", "")), bool(item.get("is_machine", False)))
    return table


def update_table(path: Path, change: Callable[[ConnectionTable], None]) -> ConnectionTable:
    """Read the file's connections, let ``change`` edit them, and write the file back."""
    text = _read_text(path)
    table = read_table(path)
    change(table)
    if table.active not in table.destinations:
        table.active = ""
    new_text = render(text, table)
    _check_written(new_text, table, path)
    _write_atomically(path, new_text)
    return table


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"containers.conf: {path}: {getattr(e, 'strerror', None) or e}") from e


def _parse(text: str, path: Path) -> dict[str, Any]:
    from sealpod.config.toml import parse_toml

    return parse_toml(text.encode(), f"containers.conf: {path}")


def _check_written(text: str, table: ConnectionTable, path: Path) -> None:
    """The edit is textual: make sure the result parses to exactly the intended connections."""
    try:
        engine = _parse(text, path).get("engine", {})
    except ConfigError as e:
        raise ConfigError(f"cannot update the connections in {path}: {e}: edit it by hand") from e
    dests = engine.get("service_destinations", {}) if isinstance(engine, dict) else {}
    expected = {n: c.uri for n, c in table.destinations.items()}
    got = {n: d.get("uri") for n, d in dests.items()} if isinstance(dests, dict) else {}
    active = engine.get("active_service", "") if isinstance(engine, dict) else ""
    if got != expected or active != table.active:
        raise ConfigError(f"cannot update the connections in {path}: its layout is not understood: edit it by hand")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"containers.conf: {path}: {e.strerror or e}") from e


# --- the textual edit -------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[(?!\[)\s*(?P<name>[^\]]*?)\s*\]\s*(#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[")
_ACTIVE_LINE = re.compile(r"""^\s*(active_service|"active_service"|'active_service')\s*=""")
_INLINE_DESTS = re.compile(r"""^\s*(service_destinations|"service_destinations")\s*=""")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def split_dotted(name: str) -> tuple[str, ...]:
    """``engine."a.b"`` → (``engine``, ``a.b``): a table header's key parts."""
    parts, buf, quote = [], "", ""
    for ch in name:
        if quote:
            if ch == quote:
                quote = ""
            else:
                buf += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(buf.strip())
            buf = ""
        else:
            buf += ch
    parts.append(buf.strip())
    return tuple(parts)


def _toml_key(name: str) -> str:
    import json

    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _toml_str(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _blocks(text: str) -> list[tuple[tuple[str, ...] | None, list[str]]]:
    """The file cut at table headers: (header key parts, its lines); None for the top and ``[[...]]``."""
    blocks: list[tuple[tuple[str, ...] | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        found = _HEADER.match(line)
        if found:
            blocks.append((split_dotted(found.group("name")), [line]))
        elif _ARRAY_HEADER.match(line):
            blocks.append((None, [line]))
        else:
            blocks[-1][1].append(line)
    return blocks


def _destination_lines(conn: Connection) -> list[str]:
    lines = [f"  [engine.service_destinations.{_toml_key(conn.name)}]", f"    uri = {_toml_str(conn.uri)}"]
    if conn.identity:
        lines.append(f"    identity = {_toml_str(conn.identity)}")
    if conn.is_machine:
        lines.append("    is_machine = true")
    return lines


def render(text: str, table: ConnectionTable) -> str:
    """``text`` with its connection tables and ``active_service`` replaced by ``table``'s."""
    out: list[str] = []
    dest_lines = [line for name in sorted(table.destinations)
                  for line in _destination_lines(table.destinations[name])]
    placed = False
    for parts, lines in _blocks(text):
        if parts is not None and parts[:2] == ("engine", "service_destinations"):
            continue
        if parts == ("engine",):
            body = [ln for ln in lines[1:] if not _ACTIVE_LINE.match(ln) and not _INLINE_DESTS.match(ln)]
            while body and not body[-1].strip():
                body.pop()
            active = [f"  active_service = {_toml_str(table.active)}"] if table.active else []
            out += [lines[0], *active, *body, *dest_lines, ""]
            placed = True
            continue
        out += lines
    if not placed and (table.active or dest_lines):
        while out and not out[-1].strip():
            out.pop()
        if out:
            out.append("")
        out += ["[engine]", *([f"  active_service = {_toml_str(table.active)}"] if table.active else []),
                *dest_lines]
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n" if out else ""
