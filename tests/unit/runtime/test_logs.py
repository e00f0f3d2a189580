"""k8s-file log reading: parsing, partial lines, tail, since/until, timestamps, follow."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sealpod.runtime.logs import (
    LogEntry,
    follow,
    format_entry,
    format_timestamp,
    parse_record,
    parse_timestamp,
    read_entries,
)

T0 = "2024-01-01T00:00:00.000000000+00:00"
LOG = (
    f"{T0} stdout F one\n"
    "2024-01-01T00:00:01.500000000+00:00 stderr F two\n"
    "2024-01-01T00:00:02.000000001+00:00 stdout P thr\n"
    "2024-01-01T00:00:02.100000000+00:00 stdout P e\n"
    "2024-01-01T00:00:02.200000000+00:00 stdout F e\n"
    "not a record at all\n"
    "2024-01-01T00:00:03.000000000+00:00 stdout F \n"
    "2024-01-01T01:00:04.000000000+01:00 stdout F with spaces  inside\n"
)
S = 1_000_000_000
EPOCH_2024 = 1704067200 * S


def _texts(entries: list[LogEntry]) -> list[bytes]:
    return [e.text for e in entries]


@pytest.mark.parametrize(("ts", "ns"), [
    (T0, EPOCH_2024),
    ("2024-01-01T00:00:00Z", EPOCH_2024),
    ("2024-01-01T00:00:00.5Z", EPOCH_2024 + S // 2),
    ("2024-01-01T02:00:00.000000007+02:00", EPOCH_2024 + 7),
    ("2023-12-31T19:00:00-05:00", EPOCH_2024),
])
def test_parse_timestamp(ts: str, ns: int) -> None:
    assert parse_timestamp(ts) == ns


def test_format_timestamp_is_rfc3339nano_trimmed() -> None:
    assert format_timestamp(EPOCH_2024) == "2024-01-01T00:00:00Z"
    assert format_timestamp(EPOCH_2024 + 995_220_200) == "2024-01-01T00:00:00.9952202Z"
    assert format_timestamp(EPOCH_2024 + 1) == "2024-01-01T00:00:00.000000001Z"


def test_parse_record() -> None:
    rec = parse_record(f"{T0} stderr P a b ".encode())
    assert rec is not None
    assert (rec.stream, rec.partial, rec.text, rec.ns) == ("stderr", True, b"a b ", EPOCH_2024)
    assert parse_record(b"garbage") is None
    assert parse_record(f"{T0} stdin F x".encode()) is None
    assert parse_record(b"yesterday stdout F x") is None


def test_read_joins_partials_and_skips_garbage(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_text(LOG)
    entries = read_entries(log)
    assert _texts(entries) == [b"one\n", b"two\n", b"three\n", b"\n", b"with spaces  inside\n"]
    assert [e.stream for e in entries] == ["stdout", "stderr", "stdout", "stdout", "stdout"]
    assert entries[2].ns == EPOCH_2024 + 2 * S + 1     # stamped with its first fragment
    assert entries[4].ns == EPOCH_2024 + 4 * S         # +01:00 offset honoured


def test_tail_since_until(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_text(LOG)
    assert _texts(read_entries(log, tail=2)) == [b"\n", b"with spaces  inside\n"]
    assert read_entries(log, tail=0) == []
    assert len(read_entries(log, tail=-1)) == 5
    assert len(read_entries(log, tail=100)) == 5
    assert _texts(read_entries(log, since_ns=EPOCH_2024 + S)) == [b"two\n", b"three\n", b"\n",
                                                                  b"with spaces  inside\n"]
    assert _texts(read_entries(log, until_ns=EPOCH_2024 + 3 * S // 2)) == [b"one\n", b"two\n"]
    assert _texts(read_entries(log, since_ns=EPOCH_2024 + S, until_ns=EPOCH_2024 + 3 * S, tail=1)) == [b"\n"]


def test_missing_file_and_unterminated_partial(tmp_path: Path) -> None:
    assert read_entries(tmp_path / "nope.log") == []
    log = tmp_path / "ctr.log"
    log.write_text(f"{T0} stdout F a\n{T0} stdout P no-newline-at-exit\n")
    assert _texts(read_entries(log)) == [b"a\n", b"no-newline-at-exit"]


def test_format_entry(tmp_path: Path) -> None:
    e = LogEntry(T0, EPOCH_2024 + 123, "stdout", b"hi\n")
    assert format_entry(e) == b"hi\n"
    assert format_entry(e, timestamps=True) == b"2024-01-01T00:00:00.000000123Z hi\n"


def test_follow_sees_new_lines_until_stopped(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_text(f"{T0} stdout F old1\n{T0} stdout F old2\n")
    running = threading.Event()
    running.set()

    def writer() -> None:
        with log.open("a") as f:
            for i in range(3):
                time.sleep(0.05)
                f.write(f"{T0} stdout P par")
                f.flush()
                time.sleep(0.05)
                f.write(f"t\n{T0} stdout F {i}\n")
                f.flush()
        running.clear()

    t = threading.Thread(target=writer)
    t.start()
    got = list(follow(log, is_running=running.is_set, tail=1, poll=0.01))
    t.join()
    assert _texts(got) == [b"old2\n", b"part0\n", b"part1\n", b"part2\n"]


def test_follow_restarts_after_truncation(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_text(f"{T0} stdout F before-truncation-long-line\n")
    calls = {"n": 0}

    def is_running() -> bool:
        calls["n"] += 1
        if calls["n"] == 2:
            log.write_text(f"{T0} stdout F after\n")
        return calls["n"] < 4

    got = list(follow(log, is_running=is_running, poll=0.01))
    assert _texts(got) == [b"before-truncation-long-line\n", b"after\n"]


def test_follow_until_and_missing_file(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    assert list(follow(log, is_running=lambda: False)) == []
    log.write_text(f"{T0} stdout F a\n2024-01-01T00:00:09Z stdout F late\n")
    got = list(follow(log, is_running=lambda: True, until_ns=EPOCH_2024 + S, poll=0.01))
    assert _texts(got) == [b"a\n"]


def test_follow_reopens_a_replaced_file(tmp_path: Path) -> None:
    log = tmp_path / "ctr.log"
    log.write_text(f"{T0} stdout F first\n")
    calls = {"n": 0}

    def is_running() -> bool:
        calls["n"] += 1
        if calls["n"] == 2:
            new = tmp_path / "new.log"
            new.write_text(f"{T0} stdout F second\n")
            new.rename(log)
        return calls["n"] < 4

    assert _texts(list(follow(log, is_running=is_running, poll=0.01))) == [b"first\n", b"second\n"]
