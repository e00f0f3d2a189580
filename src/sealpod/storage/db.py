"""The SQLite database of a graph root, and the file lock that serialises its writers.

One database per graph root (``sealpod.db``) holds layer and image metadata here and,
in tables owned by ``engine``, containers and everything else.  SQLite in WAL mode lets
readers (``images``, ``ps``) run without waiting; writers additionally hold an flock on
``storage.lock`` so that a multi-statement change (an image and its names) is atomic
across concurrent ``sealpod`` processes.

Every query's rows are read when it runs (``_Cursor``).  A statement left active (a cursor
iterated while the loop body writes, a ``fetchone`` of a longer result) keeps the connection's
read transaction, and with it a snapshot, open; once another process commits, that connection
can no longer write: SQLite refuses ``BEGIN IMMEDIATE`` at once with "database is locked",
without waiting out the busy timeout (as a pod's member syncing its siblings while conmon's
cleanup of another member commits, in ``pod rm -f``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sealpod.errors import StorageError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    id                TEXT PRIMARY KEY,   -- chain ID (hex)
    parent            TEXT,               -- chain ID of the layer below, NULL for a base layer
    diff_id           TEXT NOT NULL,      -- sha256:<hex> of the uncompressed tar
    compressed_digest TEXT,               -- sha256:<hex> of the blob as pulled, kept in blobs/
    compressed_size   INTEGER,
    uncompressed_size INTEGER NOT NULL,
    media_type        TEXT,
    created           REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    id              TEXT PRIMARY KEY,     -- config digest (hex): the image ID
    top_layer       TEXT,
    layers          TEXT NOT NULL,        -- JSON list of chain IDs, bottom first
    config          BLOB NOT NULL,
    manifest_digest TEXT,                 -- digest of the manifest this image was stored from
    created         TEXT,                 -- from the config, RFC 3339
    size            INTEGER NOT NULL,
    stored          REAL NOT NULL         -- when it entered this store
);
CREATE TABLE IF NOT EXISTS image_names (
    name     TEXT PRIMARY KEY,            -- fully qualified, tagged: docker.io/library/busybox:latest
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_names_by_image ON image_names(image_id);
CREATE TABLE IF NOT EXISTS image_names_history (
    image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    names    TEXT NOT NULL                -- JSON list, most recent first (Podman's NamesHistory)
);
CREATE TABLE IF NOT EXISTS manifests (
    digest     TEXT NOT NULL,             -- sha256:<hex> of body, exactly as pulled
    image_id   TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    body       BLOB NOT NULL,
    PRIMARY KEY (digest, image_id)
);
CREATE TABLE IF NOT EXISTS rw_layers (
    id       TEXT PRIMARY KEY,            -- the container ID
    image_id TEXT,                        -- the image it was created from (keeps it from removal)
    layers   TEXT NOT NULL,               -- comma-separated chain IDs of the image, bottom first
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS manifest_lists (
    image_id TEXT PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,  -- a local list is an image row
    sources  TEXT NOT NULL                -- JSON {instance digest: reference it was added from}
);
CREATE TABLE IF NOT EXISTS layer_mounts (
    layer_id TEXT PRIMARY KEY,            -- the top layer of an image mounted by `image mount`
    path     TEXT NOT NULL,               -- its read-only mount point
    count    INTEGER NOT NULL             -- mounts not yet unmounted
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


class _Cursor(sqlite3.Cursor):
    """A cursor that has all its rows as soon as its statement ran: the statement is done and
    reset at once, so no read transaction outlives the call that made it."""

    _rows: list[Any]
    _next: int

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        super().execute(sql, parameters)
        self._rows = super().fetchall()  # [] for a statement without results
        self._next = 0
        return self

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchmany(self, size: int | None = None) -> list[Any]:
        end = len(self._rows) if size is None else self._next + max(size, 0)
        out = self._rows[self._next:end]
        self._next += len(out)
        return out

    def fetchall(self) -> list[Any]:
        out = self._rows[self._next:]
        self._next = len(self._rows)
        return out

    def __iter__(self) -> _Cursor:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row


class _Connection(sqlite3.Connection):
    """``execute`` gives a ``_Cursor``: what the engine's many one-line queries use."""

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self.cursor(_Cursor).execute(sql, parameters)


class Database:
    """A connection to the graph root's database, plus its writer lock."""

    def __init__(self, graph_root: Path) -> None:
        self.path = graph_root / "sealpod.db"
        self._lock_path = graph_root / "storage.lock"
        try:
            graph_root.mkdir(parents=True, exist_ok=True)
            self.conn: sqlite3.Connection = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                                            check_same_thread=False, factory=_Connection)
        except (OSError, sqlite3.Error) as e:
            raise StorageError(f"opening database {self.path}: {e}") from e
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            with self._flock():
                # executescript commits on its own: it runs outside write()'s transaction.
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
        except sqlite3.DatabaseError as e:
            raise StorageError(f"database {self.path} is unusable: {e}") from e

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        # flock conflicts between separately opened descriptors, so this serialises the
        # threads of one process as well as separate processes.
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """Hold the storage lock and one transaction for a multi-statement change."""
        with self._flock():
            self._run("BEGIN IMMEDIATE", "beginning transaction")
            try:
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # the error that brought us here is the one to tell
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self._run("COMMIT", "committing transaction")

    def _run(self, sql: str, doing: str) -> None:
        """A transaction statement whose failure (locked, disk full, I/O) is the user's one-line error."""
        try:
            self.conn.execute(sql)
        except sqlite3.Error as e:
            if sql == "COMMIT":
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise StorageError(f"{doing} in database {self.path}: {e}") from e

    def close(self) -> None:
        self.conn.close()
