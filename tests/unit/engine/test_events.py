"""The event log on a real file in a temporary graph root: shapes, filters, rotation, following."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.engine import Engine, GlobalFlags
from sealpod.engine import events as events_mod
from sealpod.engine.events import Event, EventLog, go_time, matches, parse_filters
from sealpod.errors import InvalidArgument
from sealpod.utils.timefmt import rfc3339_nano as rfc3339

T = 1_764_338_400_123_456_700  # 2025-11-28 14:00:00.1234567 UTC


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    eng = Engine.from_flags(GlobalFlags(root=tmp_path / "root", runroot=tmp_path / "run"),
                            env={"HOME": str(tmp_path), "SEALPOD_STORAGE_CONF": os.devnull,
                                 "CONTAINERS_CONF": os.devnull})
    yield eng.events
    eng.close()


CTR = Event("container", "died", T, id="a" * 64, name="web", image="localhost/tiny:latest",
            attributes={"tier": "front", "containerExitCode": "3"})


def test_time_formats_follow_go() -> None:
    assert rfc3339(T) == "2025-11-28T14:00:00.1234567Z"
    assert go_time(T) == "2025-11-28 14:00:00.1234567 +0000 UTC"
    assert go_time(T - 123_456_700) == "2025-11-28 14:00:00 +0000 UTC"


def test_podman_json_and_text_shapes() -> None:
    assert CTR.podman_json() == {"ContainerExitCode": 3, "ID": "a" * 64, "Image": "localhost/tiny:latest",
                                 "Name": "web", "Status": "died", "Time": "2025-11-28T14:00:00.1234567Z",
                                 "Type": "container", "Attributes": {"tier": "front"}}
    assert CTR.text() == (f"2025-11-28 14:00:00.1234567 +0000 UTC container died {'a' * 64} "
                          "(image=localhost/tiny:latest, name=web, tier=front)")
    assert " died aaaaaaaaaaaa (" in CTR.text(no_trunc=False)
    vol = Event("volume", "create", T, name="x")
    assert vol.text().endswith(" volume create x")
    assert vol.podman_json() == {"Name": "x", "Status": "create", "Time": rfc3339(T), "Type": "volume",
                                 "Attributes": None}


def test_docker_shape() -> None:
    doc = CTR.docker_json()
    assert doc["Type"] == "container" and doc["Action"] == doc["status"] == "died"
    assert doc["id"] == doc["Actor"]["ID"] == "a" * 64 and doc["from"] == "localhost/tiny:latest"
    assert doc["Actor"]["Attributes"] == {"tier": "front", "image": "localhost/tiny:latest", "name": "web",
                                          "exitCode": "3"}
    assert doc["scope"] == "local" and doc["time"] == T // 10**9 and doc["timeNano"] == T
    assert Event("volume", "create", T, name="x").docker_json()["Actor"]["ID"] == "x"


@pytest.mark.parametrize(("filters", "hit"), [
    (["type=container"], True), (["type=image"], False), (["event=died"], True), (["status=died"], True),
    (["event=start", "event=died"], True), (["type=container", "event=start"], False),
    (["container=web"], True), (["container=aaaa"], True), (["container=other"], False),
    (["image=localhost/tiny:latest"], True), (["image=tiny"], True), (["label=tier"], True),
    (["label=tier=front"], True), (["label=tier=back"], False), (["volume=web"], False),
])
def test_filters(filters: list[str], hit: bool) -> None:
    assert matches(CTR, parse_filters(filters)) is hit


def test_bad_filters_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match="invalid filter"):
        parse_filters(["bogus=1"])
    with pytest.raises(InvalidArgument, match="key=value"):
        parse_filters(["type"])
    assert parse_filters({"type": ["volume"], "event": ["create"]}) == {"type": ["volume"], "event": ["create"]}


def test_emit_then_read_with_window_and_filters(log: EventLog) -> None:
    log.emit("volume", "create", name="v1")
    mid = time.time_ns()
    log.emit("volume", "remove", name="v1")
    log.emit("image", "tag", id="b" * 64, name="localhost/x:1")
    assert [e.action for e in log.read()] == ["create", "remove", "tag"]
    assert [e.action for e in log.read(since=mid)] == ["remove", "tag"]
    assert [e.action for e in log.read(until=mid)] == ["create"]
    assert [e.name for e in log.read(filters=parse_filters(["type=image"]))] == ["localhost/x:1"]
    lines = log.path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)


def test_torn_lines_are_skipped(log: EventLog) -> None:
    log.emit("volume", "create", name="a")
    with open(log.path, "ab") as f:
        f.write(b'{"Type":"vol\n')
    log.emit("volume", "create", name="b")
    assert [e.name for e in log.read()] == ["a", "b"]


def test_rotation_keeps_one_old_file(log: EventLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_mod, "ROTATE_SIZE", 400)
    for i in range(30):
        log.emit("volume", "create", name=f"v{i}")
    old = log.path.with_name("events.log.1")
    assert old.exists() and log.path.stat().st_size <= 400
    names = [e.name for e in log.read()]
    assert names[-1] == "v29" and names == sorted(names, key=lambda n: int(n[1:]))


def test_emit_never_raises(log: EventLog) -> None:
    log.dir.parent.mkdir(parents=True, exist_ok=True)
    log.dir.write_text("not a directory")
    log.emit("volume", "create", name="lost")  # swallowed: the operation it records must go on


def test_follow_sees_new_events_and_stops_at_until(log: EventLog) -> None:
    log.emit("volume", "create", name="old")
    until = time.time_ns() + int(1.0e9)
    writer = threading.Timer(0.3, lambda: log.emit("volume", "create", name="new"))
    writer.start()
    got = [e.name for e in log.follow(until=until, interval=0.05)]
    writer.join()
    assert got == ["new"]
    assert time.time_ns() >= until


def test_follow_replays_since_then_stops_when_reader_leaves(log: EventLog) -> None:
    start = time.time_ns()
    log.emit("volume", "create", name="past")
    calls = iter([True, True, False])
    got = [e.name for e in log.follow(since=start, interval=0.01, alive=lambda: next(calls))]
    assert got == ["past"]
