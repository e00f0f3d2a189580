"""TOML loading shared by every configuration file sealpod reads.

Users mostly meet these errors when they have just edited a file by hand, so each
message names the file and keeps tomllib's "(at line N, column M)".  ``tomllib`` is
imported only when a file really has to be parsed, and a parsed file is remembered (see
:func:`_cached`): tomllib and the parse of the long, comment-filled containers.conf and
registries.conf cost ~4 ms of every command's start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sealpod.errors import ConfigError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def load_toml(path: Path, *, what: str = "") -> dict[str, Any]:
    """Parse one TOML file; any failure (missing, unreadable, malformed) is a ConfigError.

    ``what`` names the kind of file ("containers.conf") and prefixes the message so the
    user knows which configuration is at fault.
    """
    prefix = f"{what}: {path}" if what else str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{prefix}: no such file or directory") from e
    except IsADirectoryError as e:
        raise ConfigError(f"{prefix}: is a directory") from e
    except OSError as e:
        raise ConfigError(f"{prefix}: {e.strerror or e}") from e
    return parse_toml(data, prefix, source=path)


def load_toml_if_exists(path: Path, *, what: str = "") -> dict[str, Any] | None:
    """Like :func:`load_toml`, but a file that does not exist is simply absent (None)."""
    try:
        return load_toml(path, what=what)
    except ConfigError as e:
        if isinstance(e.__cause__, FileNotFoundError):
            return None
        raise


def parse_toml(data: bytes, prefix: str, source: Path | None = None) -> dict[str, Any]:
    """Decode and parse TOML text; ``prefix`` starts the error message.  With ``source`` (the file
    the text came from) the result is remembered for the next command that reads the same text."""
    if source is not None:
        entry = _cache_entry(source)
        doc = _cached(entry, data) if entry is not None else None
        if doc is not None:
            return doc
        doc = _parse(data, prefix)
        if entry is not None:
            _remember(entry, data, doc)
        return doc
    return _parse(data, prefix)


def _parse(data: bytes, prefix: str) -> dict[str, Any]:
    import tomllib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(f"{prefix}: invalid UTF-8 (at line {line})") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{prefix}: {e}") from e


def toml_type_name(value: object) -> str:
    """The TOML name of a parsed value's type, for "expected X, got Y" messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return "datetime"


def _cache_entry(source: Path) -> Path | None:
    """Where the parse of ``source`` is kept: a directory of the user's own (``~/.cache/sealpod``,
    mode 0700), so nobody else can plant a parse; None when there is no usable one."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not base.startswith("/"):
        home = os.environ.get("HOME", "")
        if not home.startswith("/"):
            return None
        base = os.path.join(home, ".cache")
    directory = os.path.join(base, "sealpod", "toml")
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            st = os.stat(directory)
        except OSError:
            return None
    except OSError:
        return None
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    name = os.path.abspath(source).replace("%", "%25").replace("/", "%2F")
    return Path(directory, name + ".json")


def _cached(entry: Path, data: bytes) -> dict[str, Any] | None:
    """The remembered parse, only if it was made of exactly these bytes (no timestamps to race)."""
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            kept = json.loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("text") != data.decode("utf-8", "surrogateescape"):
        return None
    doc = kept.get("doc")
    return doc if isinstance(doc, dict) else None


def _remember(entry: Path, data: bytes, doc: dict[str, Any]) -> None:
    try:  # TOML dates and times have no JSON form: such a file is simply parsed every time
        text = json.dumps({"text": data.decode("utf-8", "surrogateescape"), "doc": doc})
    except (TypeError, ValueError):
        return
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, entry)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
