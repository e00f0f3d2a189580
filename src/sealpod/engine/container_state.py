"""Containers in the state database, and the per-container lock.

The database answers ``ps`` alone (no runtime calls); every state transition holds the
container's lock (an flock in the run root) so that parallel ``stop``/``rm -f``/cleanup
of one container serialise, while different containers never wait for each other.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from sealpod.errors import Conflict, NoSuchContainer
from sealpod.storage.db import Database
from sealpod.utils.record import dataclass, field, fields, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

ENGINE_SCHEMA = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    image_id      TEXT,
    image_name    TEXT,
    created       REAL NOT NULL,
    config        TEXT NOT NULL,         -- ContainerConfig as JSON
    spec          TEXT,                  -- resolved runtime facts (command, env...) as JSON
    state         TEXT NOT NULL,
    pid           INTEGER NOT NULL DEFAULT 0,
    conmon_pid    INTEGER NOT NULL DEFAULT 0,
    exit_code     INTEGER,
    started_at    REAL NOT NULL DEFAULT 0,
    finished_at   REAL NOT NULL DEFAULT 0,
    restart_count INTEGER NOT NULL DEFAULT 0,
    oom_killed    INTEGER NOT NULL DEFAULT 0,
    stopped_by_user INTEGER NOT NULL DEFAULT 0,
    pod_id        TEXT NOT NULL DEFAULT ''  -- the pod this container belongs to ('' if none)
);
INSERT OR REPLACE INTO meta VALUES ('engine_schema', '2');
"""


class State(enum.StrEnum):
    """Podman's container states."""

    CONFIGURED = "configured"  # in the database, no runtime container yet
    CREATED = "created"  # runtime container created (conmon up), process not started
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # stop sent its signal and waits for the process to end, without the lock
    STOPPED = "stopped"  # process ended, runtime container still there
    EXITED = "exited"  # process ended and cleaned up
    REMOVING = "removing"


@dataclass(frozen=True)
class ContainerRecord:
    id: str
    name: str
    image_id: str | None
    image_name: str
    created: float
    config: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)
    state: str = State.CONFIGURED
    pid: int = 0
    conmon_pid: int = 0
    exit_code: int | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    restart_count: int = 0
    oom_killed: bool = False
    stopped_by_user: bool = False
    pod_id: str = ""


_COLUMNS = tuple(f.name for f in fields(ContainerRecord))


def _to_row(rec: ContainerRecord) -> tuple[Any, ...]:
    values = []
    for name in _COLUMNS:
        v = getattr(rec, name)
        values.append(_dump(v) if name in ("config", "spec") else v)
    return tuple(values)


def _dump(value: Any) -> str:
    """JSON for the state DB; NaN or Infinity (``--cpus nan``, an API body) would make SQLite's JSON
    functions fail on every later listing, so such a value is refused before anything is stored."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        from sealpod.errors import InvalidArgument

        raise InvalidArgument("invalid container configuration: NaN and infinite numbers are not allowed") from None


def _from_row(row: sqlite3.Row) -> ContainerRecord:
    d = dict(row)
    d["config"] = json.loads(d["config"])
    d["spec"] = json.loads(d["spec"] or "{}")
    d["oom_killed"] = bool(d["oom_killed"])
    d["stopped_by_user"] = bool(d["stopped_by_user"])
    return ContainerRecord(**d)


class ContainerDB:
    def __init__(self, db: Database) -> None:
        self.db = db
        row = None
        try:
            row = db.conn.execute("SELECT value FROM meta WHERE key='engine_schema'").fetchone()
        except sqlite3.OperationalError:
            pass
        if row is None or int(row[0]) != ENGINE_SCHEMA:
            with db.write() as conn:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                columns = {r[1] for r in conn.execute("PRAGMA table_info(containers)")}
                if "pod_id" not in columns:  # a database from before pods
                    conn.execute("ALTER TABLE containers ADD COLUMN pod_id TEXT NOT NULL DEFAULT ''")

    def add(self, rec: ContainerRecord) -> None:
        marks = ",".join("?" * len(_COLUMNS))
        try:
            with self.db.write() as conn:
                conn.execute(f"INSERT INTO containers ({','.join(_COLUMNS)}) VALUES ({marks})", _to_row(rec))
        except sqlite3.IntegrityError as e:
            row = self.db.conn.execute("SELECT id FROM containers WHERE name=?", (rec.name,)).fetchone()
            holder = row[0] if row is not None else "another container"
            raise Conflict(f'creating container storage: the container name "{rec.name}" is already in use by '
                           f"{holder}. You have to remove that container to be able to reuse that name: that name "
                           "is already in use") from e

    def get(self, ctr_id: str) -> ContainerRecord:
        row = self.db.conn.execute("SELECT * FROM containers WHERE id=?", (ctr_id,)).fetchone()
        if row is None:
            raise NoSuchContainer(f"no container with ID {ctr_id} found in database: no such container")
        return _from_row(row)

    def lookup(self, name_or_id: str) -> ContainerRecord:
        """By exact name, full ID, or unambiguous ID prefix — Podman's order."""
        from sealpod.engine.names import find_row

        row = find_row(self.db.conn, "containers", name_or_id, "container")
        if row is not None:
            return _from_row(row)
        raise NoSuchContainer(f"no container with name or ID \"{name_or_id}\" found: no such container")

    def all(self) -> list[ContainerRecord]:
        return [_from_row(r) for r in self.db.conn.execute("SELECT * FROM containers ORDER BY created")]

    def ps_rows(self) -> list[sqlite3.Row]:
        """Only what ``ps`` shows, the JSON picked apart by SQLite: listing many containers
        should not decode every container's whole configuration."""
        return self.db.conn.execute(
            "SELECT id, name, image_id, image_name, created, state, pid, conmon_pid, exit_code, started_at, "
            "finished_at, json_extract(spec, '$.command') AS command, json_extract(spec, '$.labels') AS labels, "
            "json_extract(config, '$.remove') AS remove, json_extract(config, '$.mounts') AS mounts, pod_id, "
            "json_extract(config, '$.network') AS network, json_extract(config, '$.networks') AS networks "
            "FROM containers ORDER BY created").fetchall()

    def ps_extras(self) -> dict[str, tuple[bool, bool]]:
        """Running containers → (may have published ports, has a healthcheck): which of them
        ``ps`` must read network or health state files for."""
        rows = self.db.conn.execute(
            "SELECT id, (json_extract(config, '$.ports') NOT IN ('[]', '') OR json_extract(config, '$.publish_all') "
            "OR json_extract(config, '$.network') LIKE 'container:%' OR pod_id != '') AS ports, "
            "json_extract(spec, '$.healthcheck') IS NOT NULL AS health "
            "FROM containers WHERE state IN ('running', 'paused')").fetchall()
        return {r[0]: (bool(r[1]), bool(r[2])) for r in rows}

    def update(self, rec: ContainerRecord, **changes: Any) -> ContainerRecord:
        new = replace(rec, **changes)
        sets = ",".join(f"{k}=?" for k in changes)
        values = [_dump(v) if k in ("config", "spec") else v for k, v in changes.items()]
        with self.db.write() as conn:
            if conn.execute(f"UPDATE containers SET {sets} WHERE id=?", (*values, rec.id)).rowcount == 0:
                raise NoSuchContainer(f"no container with ID {rec.id} found in database: no such container")
        return new

    def delete(self, ctr_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM containers WHERE id=?", (ctr_id,))

    def dependents(self, ctr_id: str) -> list[str]:
        """IDs of the containers that need this one: ``--requires`` it, or join its namespaces
        (``--network container:X``, ``--ipc``, ``--pid``, ``--uts``).  SQLite picks the candidates,
        so removing many containers does not decode every configuration each time."""
        rows = self.db.conn.execute(
            "SELECT id, json_extract(config, '$.requires'), json_extract(config, '$.network'), "
            "json_extract(config, '$.ipc'), json_extract(config, '$.pid'), json_extract(config, '$.uts') "
            "FROM containers WHERE id != ? AND (json_array_length(config, '$.requires') > 0 "
            "OR config LIKE '%\"container:%') ORDER BY created", (ctr_id,)).fetchall()
        found = []
        for row in rows:
            refs = list(json.loads(row[1]) if row[1] else [])
            refs += [v.removeprefix("container:") for v in row[2:] if isinstance(v, str) and v.startswith("container:")]
            for ref in refs:
                try:
                    if self.lookup(ref).id == ctr_id:
                        found.append(row[0])
                        break
                except NoSuchContainer:
                    continue
        return found

    def name_in_use(self, name: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM containers WHERE name=?", (name,)).fetchone() is not None

    def users_of_image(self, image_id: str) -> list[str]:
        rows = self.db.conn.execute("SELECT name FROM containers WHERE image_id=?", (image_id,))
        return [str(r[0]) for r in rows]


@contextlib.contextmanager
def container_lock(run_root: Path, ctr_id: str) -> Iterator[None]:
    """Exclusive lock on one container across processes (and threads: flock is per open file)."""
    locks = run_root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks / ctr_id, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def now() -> float:
    return time.time()
