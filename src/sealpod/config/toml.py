"""TOML loading shared by every configuration file sealpod reads.

Users mostly meet these errors when they have just edited a file by hand, so each
message names the file and keeps tomllib's "(at line N, column M)".  ``tomllib`` is
imported only when a file really has to be parsed: most runs find no file at all and
start-up time matters.
"""

from __future__ import annotations

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
    return parse_toml(data, prefix)


def load_toml_if_exists(path: Path, *, what: str = "") -> dict[str, Any] | None:
    """Like :func:`load_toml`, but a file that does not exist is simply absent (None)."""
    try:
        return load_toml(path, what=what)
    except ConfigError as e:
        if isinstance(e.__cause__, FileNotFoundError):
            return None
        raise


def parse_toml(data: bytes, prefix: str) -> dict[str, Any]:
    """Decode and parse TOML text; ``prefix`` starts the error message."""
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
