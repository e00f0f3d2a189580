"""The state database under concurrent sealpod processes: a connection that reads while another
process commits must still be able to write ("database is locked" at once, without waiting out the
busy timeout, was what a pod's member syncing its siblings got while conmon's cleanup of another
member committed, in ``pod rm -f -t 0``), and what SQLite still refuses is a one-line error."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sealpod.errors import StorageError
from sealpod.storage.db import Database
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, describe, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture
def sp(tmp_path: Path, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path, seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path)
    with db.write() as conn:
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [(f"k{i}", str(i)) for i in range(5)])
    return db


def test_a_write_inside_a_loop_over_a_query_survives_another_process_committing(tmp_path: Path) -> None:
    """The engine loops over a query's rows and writes in the loop body (a pod's members, synced)."""
    db = _db(tmp_path)
    other = sqlite3.connect(db.path, isolation_level=None)
    for row in db.conn.execute("SELECT key FROM meta WHERE key LIKE 'k%' ORDER BY key"):
        other.execute("INSERT INTO meta VALUES (?, 'other')", (row[0] + "-o",))  # a cleanup commits meanwhile
        with db.write() as conn:
            conn.execute("UPDATE meta SET value='mine' WHERE key=?", (row[0],))
    other.close()
    rows = db.conn.execute("SELECT value FROM meta WHERE key LIKE 'k_' ORDER BY key").fetchall()
    assert [r[0] for r in rows] == ["mine"] * 5
    db.close()


def test_a_cursor_still_reads_as_a_cursor(tmp_path: Path) -> None:
    """Rows read when the statement runs are handed out as sqlite3's cursor hands them out."""
    db = _db(tmp_path)
    cur = db.conn.execute("SELECT key FROM meta WHERE key LIKE 'k%' ORDER BY key")
    assert cur.fetchone()["key"] == "k0"
    assert [r[0] for r in cur.fetchmany(2)] == ["k1", "k2"]
    assert [r[0] for r in cur] == ["k3", "k4"]
    assert cur.fetchone() is None and cur.fetchall() == []
    assert db.conn.execute("UPDATE meta SET value='x' WHERE key LIKE 'k%'").rowcount == 5
    db.close()


def test_a_database_locked_past_the_busy_timeout_is_a_storage_error(tmp_path: Path) -> None:
    """What SQLite refuses in the end is the user's one-line error, naming the database."""
    db = _db(tmp_path)
    db.conn.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer that does not let go (it is not ours: no storage.lock)
    try:
        with pytest.raises(StorageError, match=r"^beginning transaction in database .*sealpod\.db: database is "
                                               r"locked$"), db.write():
            pytest.fail("the transaction must not begin")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with db.write() as conn:  # nothing left half-open by the failure
        conn.execute("UPDATE meta SET value='after' WHERE key='k0'")
    db.close()


def test_an_sqlite_error_outside_a_transaction_is_one_line(sp: SealpodRunner) -> None:
    """An SQLite failure the engine does not expect is no "internal error: OperationalError"."""
    sp.run("volume", "create", "v1")
    with contextlib.closing(sqlite3.connect(sp.root / "sealpod.db", isolation_level=None)) as conn:
        conn.execute("ALTER TABLE volumes RENAME TO volumes_gone")
    res = sp.run("volume", "ls", check=False)
    assert res.returncode == 125, describe(res)
    assert res.stderr == "Error: state database: no such table: volumes\n"


def _blocked_on(lock: Path) -> bool:
    """Whether some process waits for the flock on ``lock`` (a ``->`` line of /proc/locks)."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_pod_members_synced_while_another_process_commits(sp: SealpodRunner) -> None:
    """A pod whose members died unseen (a host crash): the first command to list them records the
    exits, one member at a time under its lock, while other processes (conmon's cleanups) commit."""
    sp.run("pod", "create", "--name", "dbpod")
    for name in ("m1", "m2"):
        sp.run("create", "--pod", "dbpod", "--name", name, IMAGE, "top")
    gone = subprocess.Popen(["true"])  # a PID that no longer runs
    gone.wait()
    with contextlib.closing(sqlite3.connect(sp.root / "sealpod.db", isolation_level=None)) as conn:
        pod_id = conn.execute("SELECT id FROM pods WHERE name='dbpod'").fetchone()[0]
        conn.execute("UPDATE containers SET state='running', pid=?, conmon_pid=? WHERE pod_id=?",
                     (gone.pid, gone.pid, pod_id))
        first = conn.execute("SELECT id FROM containers WHERE pod_id=? ORDER BY created", (pod_id,)).fetchone()[0]
    lock = sp.runroot / "locks" / first
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the first member's sync waits here, its listing of the pod half read
        proc = subprocess.Popen(sp.argv("pod", "inspect", "dbpod"), env=sp.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _blocked_on(lock) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _blocked_on(lock), "pod inspect never waited for the member's lock"
        with contextlib.closing(sqlite3.connect(sp.root / "sealpod.db", isolation_level=None)) as conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('test-other-process', '1')")
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"State": "Exited"' in out or '"State": "Stopped"' in out, out
    states = sp.run("ps", "-a", "--pod", "--format", "{{.Names}} {{.State}}").stdout.split("\n")
    assert all(line.split()[1] in ("exited", "stopped") for line in states if line.strip()), states


def test_pod_rm_while_the_members_cleanups_run(sp: SealpodRunner, tmp_path: Path) -> None:
    """e2e play_kube_test.go: podman play kube with emptyDir volume (its pod rm -f -t 0, repeated)"""
    def cycle(i: int) -> list[str]:
        ctrs = "".join(f"""\
  - name: c{n}
    image: {IMAGE}
    command: [top]
    volumeMounts: [{{name: ed{i}, mountPath: /ed}}]
""" for n in range(3))
        yml = tmp_path / f"pod{i}.yaml"
        yml.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: stress{i}}}\nspec:\n  containers:\n{ctrs}"
                       f"  volumes:\n  - {{name: ed{i}, emptyDir: {{}}}}\n")
        failures = []
        for _ in range(3):
            for args in (("kube", "play", str(yml)), ("pod", "rm", "-f", "-t", "0", f"stress{i}")):
                res = sp.run(*args, check=False)
                if res.returncode != 0:
                    failures.append(describe(res))
        return failures

    with ThreadPoolExecutor(2) as pool:
        failures = [f for found in pool.map(cycle, range(2)) for f in found]
    assert not failures, "\n\n".join(failures)
    assert sp.run("ps", "-aq").stdout == ""
    assert not {"ed0", "ed1"} & set(sp.run("volume", "ls", "-q").stdout.split())


def test_an_init_container_ending_does_not_stop_its_starting_pod(sp: SealpodRunner) -> None:
    """e2e play_kube_test.go: podman play kube test with init containers (exit policy stop, whose cleanup
    stopped the infra while kube play was still to start the others, once it could write the state)"""
    sp.run("pod", "create", "--exit-policy", "stop", "--name", "ipod")
    sp.run("create", "--pod", "ipod", "--init-ctr", "always", "--name", "ictr", IMAGE, "true")
    sp.run("create", "--pod", "ipod", "--name", "mctr", IMAGE, "top")
    sp.run("start", "ictr")
    assert sp.run("wait", "ictr").stdout.strip() == "0"
    infra = sp.run("pod", "inspect", "ipod", "--format", "{{.InfraContainerID}}").stdout.strip()
    deadline = time.monotonic() + 2  # the init container's cleanup, run by conmon, has had its chance
    while time.monotonic() < deadline:
        assert sp.run("inspect", infra, "--format", "{{.State.Status}}").stdout.strip() == "running"
        time.sleep(0.1)
    sp.run("start", "mctr")
    assert sp.run("inspect", "mctr", "--format", "{{.State.Status}}").stdout.strip() == "running"
