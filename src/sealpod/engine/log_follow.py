"""``logs -f`` of several containers: their lines interleaved in the order they are written.

Each log file is followed by a thread of its own (following blocks between polls); the threads only
read files, while whether a container still runs is asked of the state database by the calling
thread alone, as one SQLite connection belongs to one thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sealpod.runtime import logs as logfile
from sealpod.utils.record import dataclass


@dataclass(frozen=True)
class FollowSource:
    key: str  # the container's id
    path: Path
    prefix: bytes


def follow_many(sources: Sequence[FollowSource], *, is_running: Callable[[str], bool],
                write: Callable[[bytes, logfile.LogEntry], None], since_ns: int | None, until_ns: int | None,
                tail: int | None) -> None:
    """Follow every source until each container stopped; ``write`` runs in the calling thread."""
    alive = {s.key: True for s in sources}
    lines: queue.Queue[tuple[bytes, logfile.LogEntry] | None] = queue.Queue()
    failures: list[BaseException] = []

    def pump(source: FollowSource) -> None:
        try:
            for entry in logfile.follow(source.path, is_running=lambda: alive[source.key], since_ns=since_ns,
                                        until_ns=until_ns, tail=tail):
                lines.put((source.prefix, entry))
        except Exception as e:  # noqa: BLE001 - raised again by the caller's thread
            failures.append(e)
        finally:
            lines.put(None)

    for source in sources:
        threading.Thread(target=pump, args=(source,), daemon=True).start()
    pending, next_check = len(sources), 0.0
    while pending:
        if time.monotonic() >= next_check:
            for key in alive:
                alive[key] = alive[key] and is_running(key)
            next_check = time.monotonic() + 0.1
        try:
            item = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is None:
            pending -= 1
        else:
            write(*item)
    if failures:
        raise failures[0]
