"""Reading conmon's k8s-file logs: ``TIMESTAMP STREAM P|F TEXT`` lines.

conmon splits long output and output without a newline into partial (``P``) records; the
record that ends a line is ``F``.  Readers want whole lines, so partial records are joined
into one :class:`LogEntry` stamped with the time of its first fragment.  Timestamps carry
nanoseconds, which :mod:`datetime` cannot hold, so comparisons use integer epoch nanoseconds.
"""

from __future__ import annotations

import calendar
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

_TS_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)$")


@dataclass(frozen=True)
class LogRecord:
    """One line of the file as written."""

    time: str
    ns: int
    stream: str
    partial: bool
    text: bytes


@dataclass(frozen=True)
class LogEntry:
    """One line of container output: partial records joined; ``text`` keeps its newline."""

    time: str
    ns: int
    stream: str
    text: bytes


def parse_timestamp(ts: str) -> int:
    """RFC 3339 with up to nanoseconds → nanoseconds since the epoch."""
    m = _TS_RE.match(ts)
    if not m:
        raise ValueError(f"invalid log timestamp {ts!r}")
    year, mon, day, hh, mm, ss = (int(g) for g in m.groups()[:6])
    frac = int((m.group(7) or "0").ljust(9, "0"))
    secs = calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0))
    zone = m.group(8)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        secs -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return secs * 1_000_000_000 + frac


def format_timestamp(ns: int) -> str:
    """Epoch nanoseconds → Go's RFC3339Nano in UTC (trailing zeros trimmed), as Podman prints."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def parse_record(line: bytes) -> LogRecord | None:
    """Parse one line (without its newline); None for lines that are not k8s-file records."""
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, flag = (p.decode("ascii", "replace") for p in parts[:3])
    if flag not in ("P", "F") or stream not in ("stdout", "stderr"):
        return None
    try:
        ns = parse_timestamp(ts)
    except ValueError:
        return None
    return LogRecord(ts, ns, stream, flag == "P", parts[3] if len(parts) == 4 else b"")


class _Joiner:
    """Joins partial records of each stream into entries."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[LogRecord, bytearray]] = {}

    def feed(self, rec: LogRecord) -> LogEntry | None:
        first, buf = self.pending.get(rec.stream, (rec, bytearray()))
        buf += rec.text
        if rec.partial:
            self.pending[rec.stream] = (first, buf)
            return None
        self.pending.pop(rec.stream, None)
        return LogEntry(first.time, first.ns, rec.stream, bytes(buf) + b"\n")

    def flush(self) -> list[LogEntry]:
        """What remains unterminated (the process ended mid-line), without adding a newline."""
        out = [LogEntry(f.time, f.ns, f.stream, bytes(b)) for f, b in self.pending.values()]
        self.pending.clear()
        return sorted(out, key=lambda e: e.ns)


def _entries(lines: Iterable[bytes], joiner: _Joiner) -> Iterator[LogEntry]:
    for line in lines:
        rec = parse_record(line.rstrip(b"\n"))
        if rec is not None and (entry := joiner.feed(rec)) is not None:
            yield entry


def _in_window(e: LogEntry, since_ns: int | None, until_ns: int | None) -> bool:
    return (since_ns is None or e.ns >= since_ns) and (until_ns is None or e.ns <= until_ns)


def read_entries(path: Path, *, since_ns: int | None = None, until_ns: int | None = None,
                 tail: int | None = None) -> list[LogEntry]:
    """All entries of a log file in the window; ``tail`` keeps the last N (negative: all)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    joiner = _Joiner()
    # records end at "\n" only: a terminal's "\r" is part of the text (splitlines() would eat it)
    entries = [e for e in _entries(data.split(b"\n"), joiner) if _in_window(e, since_ns, until_ns)]
    entries += [e for e in joiner.flush() if _in_window(e, since_ns, until_ns)]
    if tail is not None and tail >= 0:
        return entries[len(entries) - tail:] if tail else []
    return entries


def follow(path: Path, *, is_running: Callable[[], bool], since_ns: int | None = None,
           until_ns: int | None = None, tail: int | None = None, poll: float = 0.1) -> Iterator[LogEntry]:
    """Yield entries as they are written until the container stops (``is_running`` is false).

    The file is re-read from the start when it shrinks or is replaced (``--log-size-max``
    truncation, a reopen).  ``until_ns`` ends following early, as ``podman logs --until`` does.
    """
    joiner = _Joiner()
    backlog: deque[LogEntry] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
    fh, buf = _open(path), b""
    first = flush_tail = True
    while True:
        running = is_running()
        fh, restarted = _reopen_if_replaced(path, fh)
        if restarted:
            buf = b""
        if fh is not None:
            buf += fh.read()
            *lines, buf = buf.split(b"\n")
            for e in _entries(lines, joiner):
                if until_ns is not None and e.ns > until_ns:
                    running = flush_tail = False
                    break
                if _in_window(e, since_ns, until_ns):
                    if first:
                        backlog.append(e)
                    else:
                        yield e
        if first:
            yield from backlog
            first = False
        if not running:
            break
        time.sleep(poll)
    if fh is not None:
        fh.close()
    if flush_tail:
        yield from (e for e in joiner.flush() if _in_window(e, since_ns, until_ns))


def _reopen_if_replaced(path: Path, fh: BinaryIO | None) -> tuple[BinaryIO | None, bool]:
    """Start over when the log was truncated in place or replaced by a new file."""
    if fh is None:
        fh = _open(path)
        return fh, fh is not None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return fh, False
    if st.st_ino != os.fstat(fh.fileno()).st_ino:
        fh.close()
        fh = _open(path)
        return fh, True
    if st.st_size < fh.tell():
        fh.seek(0)
        return fh, True
    return fh, False


def _open(path: Path) -> BinaryIO | None:
    try:
        return open(path, "rb")  # kept open across polls
    except FileNotFoundError:
        return None


def format_entry(entry: LogEntry, *, timestamps: bool = False) -> bytes:
    """The bytes ``podman logs`` prints for an entry."""
    if timestamps:
        return format_timestamp(entry.ns).encode() + b" " + entry.text
    return entry.text
