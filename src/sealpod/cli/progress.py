"""Pull/push progress: plain lines for pipes and logs, one live status line on a terminal."""

from __future__ import annotations

import sys
import threading
import time

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import TextIO


class Progress:
    """Collects per-blob byte counts from several threads and redraws one line at most 10×/s."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._lock = threading.Lock()
        self._drawn = 0.0
        self._dirty = False

    def line(self, text: str) -> None:
        with self._lock:
            if self._dirty:
                self.stream.write("\r\033[K")
                self._dirty = False
            self.stream.write(text + "\n")
            self.stream.flush()

    def blob(self, digest: str, done: int, total: int) -> None:
        if not self.tty:
            return
        with self._lock:
            self._done[digest], self._total[digest] = done, max(total, done)
            now = time.monotonic()
            if now - self._drawn < 0.1 and done < total:
                return
            self._drawn = now
            from sealpod.cli.formatting import human_size

            got, want = sum(self._done.values()), sum(self._total.values())
            finished = sum(1 for d in self._done if self._done[d] >= self._total[d])
            self.stream.write(f"\r\033[KCopying blobs: {human_size(got)} / {human_size(want)} "
                              f"({finished} of {len(self._total)} done)")
            self.stream.flush()
            self._dirty = True

    def finish(self) -> None:
        with self._lock:
            if self._dirty:
                self.stream.write("\n")
                self.stream.flush()
                self._dirty = False
