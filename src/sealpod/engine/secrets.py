"""Secrets (Podman's ``file`` driver): named blobs that containers get at start, never in images.

The metadata is a row in the graph root's database; the data is a file of its own, mode 0600,
under ``<graph root>/secrets/filedriver``, so it never lands in a container's config, in
``inspect`` output or in a committed image.  A container that asks for a secret gets a copy in its
own userdata directory, bind-mounted read-only (``type=mount``, at ``/run/secrets/NAME`` unless a
target says otherwise), or the value in an environment variable (``type=env``).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sealpod.errors import InvalidArgument, NoSuchSecret, SecretExists
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.storage.db import Database

SECRET_SCHEMA = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    driver   TEXT NOT NULL,
    created  REAL NOT NULL,
    updated  REAL NOT NULL,
    labels   TEXT NOT NULL,   -- JSON object
    options  TEXT NOT NULL    -- JSON object: the driver's options
);
INSERT OR REPLACE INTO meta VALUES ('secret_schema', '1');
"""

_NAME_RE = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62}[a-zA-Z0-9])?")
MAX_SECRET_SIZE = 512 * 1024  # what Podman accepts
DRIVERS = ("file",)


@dataclass(frozen=True)
class Secret:
    id: str
    name: str
    driver: str = "file"
    created: float = 0.0
    updated: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SecretUse:
    """One ``--secret NAME[,type=mount|env][,target=T][,uid=,gid=,mode=]`` of a container."""

    name: str
    type: str = "mount"
    target: str = ""
    uid: int = 0
    gid: int = 0
    mode: int = 0o444

    @property
    def env_name(self) -> str:
        return self.target or self.name

    @property
    def mount_path(self) -> str:
        """Where the file appears in the container: a relative target lands under /run/secrets."""
        target = self.target or self.name
        return target if target.startswith("/") else f"/run/secrets/{target}"


def check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise InvalidArgument("only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character "
                              f"must be [a-zA-Z0-9]: {name}: invalid secret name")
    return name


def _int_option(key: str, value: str, base: int = 10) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise InvalidArgument(f"{key} {value} invalid: parsing secret") from None
    if number < 0:
        raise InvalidArgument(f"{key} {value} invalid: parsing secret")
    return number


def parse_use(spec: str) -> SecretUse:
    """Podman's ``--secret`` syntax; uid/gid/mode only make sense for mounted secrets."""
    first, *opts = spec.split(",")
    values: dict[str, Any] = {}
    if "=" in first:  # the long form: source=NAME anywhere among the options
        opts.insert(0, first)
    else:
        values["name"] = first
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep:
            raise InvalidArgument(f"option {opt} must be in form option=value: parsing secret")
        if key == "source":
            values["name"] = value
        elif key == "type":
            if value not in ("mount", "env"):
                raise InvalidArgument(f"type {value} is invalid: parsing secret")
            values["type"] = value
        elif key == "target":
            values["target"] = value
        elif key in ("uid", "gid"):
            values[key] = _int_option(key, value)
        elif key == "mode":
            values["mode"] = _int_option(key, value, 8)
        else:
            raise InvalidArgument(f"option {key} invalid: parsing secret")
    if not values.get("name"):
        raise InvalidArgument(f"{spec}: secret name is required: parsing secret")
    use = SecretUse(**values)
    if use.type == "env" and any(k in values for k in ("uid", "gid", "mode")):
        raise InvalidArgument("UID, GID, Mode options cannot be set with secret type env: parsing secret")
    return use


def _from_row(row: sqlite3.Row) -> Secret:
    return Secret(id=row["id"], name=row["name"], driver=row["driver"], created=row["created"],
                  updated=row["updated"], labels=json.loads(row["labels"]), options=json.loads(row["options"]))


class SecretService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db: Database = engine.store.db
        self.data_dir = engine.store.graph_root / "secrets" / "filedriver"
        row = None
        try:
            row = self.db.conn.execute("SELECT value FROM meta WHERE key='secret_schema'").fetchone()
        except sqlite3.OperationalError:
            pass
        if row is None or int(row[0]) != SECRET_SCHEMA:
            with self.db.write() as conn:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)

    def all(self) -> list[Secret]:
        return [_from_row(r) for r in self.db.conn.execute("SELECT * FROM secrets ORDER BY created")]

    def lookup(self, name_or_id: str) -> Secret:
        """By exact name, full ID, or a unique ID prefix, as Podman resolves them."""
        from sealpod.engine.names import find_row

        row = find_row(self.db.conn, "secrets", name_or_id, "secret")
        if row is None:
            raise NoSuchSecret(f'no secret with name or id "{name_or_id}": no such secret')
        return _from_row(row)

    def exists(self, name_or_id: str) -> bool:
        try:
            self.lookup(name_or_id)
        except NoSuchSecret:
            return False
        return True

    def create(self, name: str, data: bytes, *, driver: str = "file", driver_opts: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None, replace: bool = False) -> Secret:
        check_name(name)
        if driver not in DRIVERS:
            raise InvalidArgument(f"{driver}: unsupported secret driver (supported: file)")
        if not data:
            raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
        if len(data) >= MAX_SECRET_SIZE:
            raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
        now = time.time()
        options = {"path": os.fspath(self.data_dir), **(driver_opts or {})}
        with self.db.write() as conn:
            old = conn.execute("SELECT * FROM secrets WHERE name=?", (name,)).fetchone()
            if old is not None and not replace:
                raise SecretExists(f"{name}: secret name in use")
            secret = Secret(id=os.urandom(13).hex()[:25], name=name, driver=driver, created=now, updated=now,
                            labels=dict(labels or {}), options=options)
            if old is not None:
                secret = Secret(id=old["id"], name=name, driver=driver, created=old["created"], updated=now,
                                labels=secret.labels, options=options)
            self._write_data(secret.id, data)
            conn.execute("INSERT OR REPLACE INTO secrets VALUES (?,?,?,?,?,?,?)",
                         (secret.id, name, driver, secret.created, secret.updated, json.dumps(secret.labels),
                          json.dumps(options)))
        self.engine.events.emit("secret", "create", id=secret.id, name=name)
        return secret

    def _write_data(self, secret_id: str, data: bytes) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.data_dir / f".{secret_id}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.data_dir / secret_id)

    def data(self, secret: Secret) -> bytes:
        try:
            return (self.data_dir / secret.id).read_bytes()
        except OSError as e:
            raise NoSuchSecret(f'secret "{secret.name}": data is missing: {e.strerror}') from None

    def remove(self, name_or_id: str) -> str:
        secret = self.lookup(name_or_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM secrets WHERE id=?", (secret.id,))
        (self.data_dir / secret.id).unlink(missing_ok=True)
        self.engine.events.emit("secret", "remove", id=secret.id, name=secret.name)
        return secret.id

    def inspect(self, secret: Secret) -> dict[str, Any]:
        from sealpod.utils.timefmt import rfc3339_local as rfc3339

        return {"ID": secret.id, "CreatedAt": rfc3339(secret.created), "UpdatedAt": rfc3339(secret.updated),
                "Spec": {"Name": secret.name, "Driver": {"Name": secret.driver, "Options": dict(secret.options)},
                         "Labels": dict(secret.labels)}}

    def resolve_uses(self, specs: Sequence[str]) -> list[dict[str, Any]]:
        """Check every ``--secret`` of a new container; what its config records (Podman's
        ``Config.Secrets`` shape plus type/target), so a start finds them again by ID."""
        out = []
        for spec in specs:
            use = parse_use(spec)
            secret = self.lookup(use.name)
            out.append({"Name": secret.name, "ID": secret.id, "UID": use.uid, "GID": use.gid, "Mode": use.mode,
                        "Type": use.type, "Target": use.target})
        return out

    def materialise(self, uses: Sequence[Mapping[str, Any]], userdata: Path) -> tuple[list[tuple[str, str]],
                                                                                    list[str]]:
        """At start: (host file, container path) pairs to bind-mount read-only, and KEY=VALUE env."""
        mounts: list[tuple[str, str]] = []
        env: list[str] = []
        secrets_dir = userdata / "secrets"
        for index, raw in enumerate(uses):
            use = SecretUse(name=raw["Name"], type=raw.get("Type", "mount"), target=raw.get("Target", ""),
                            uid=int(raw.get("UID", 0)), gid=int(raw.get("GID", 0)), mode=int(raw.get("Mode", 0o444)))
            try:
                secret = self.lookup(raw.get("ID") or use.name)
            except NoSuchSecret:
                secret = self.lookup(use.name)
            data = self.data(secret)
            if use.type == "env":
                env.append(f"{use.env_name}={data.decode(errors='replace')}")
                continue
            secrets_dir.mkdir(mode=0o700, exist_ok=True)
            path = secrets_dir / f"{index}-{secret.id}"  # one file per use: each has its own owner and mode
            path.unlink(missing_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chown(path, use.uid, use.gid)
            os.chmod(path, use.mode)
            mounts.append((os.fspath(path), use.mount_path))
        return mounts, env
