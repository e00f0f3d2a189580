"""``build --log-rusage``: what each step cost, in Buildah's line
(``200ms(system) 221ms(user) 657ms(elapsed) 0B input 90.11kB output``)."""

from __future__ import annotations

import resource
import time


def _duration(seconds: float) -> str:
    """A Go duration rounded to the millisecond: ``0s``, ``62ms``, ``1.5s``, ``2m3.25s``."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, rest = divmod(ms, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{minutes}m{secs}" if minutes else secs


def _size(count: float) -> str:
    """go-units' HumanSize: decimal units, four significant digits."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while count >= 1000 and i < len(units) - 1:
        count /= 1000
        i += 1
    return f"{count:.4g}{units[i]}"


class Meter:
    """Resource use of this process and its children since the last ``lap``."""

    def __init__(self) -> None:
        self._mark = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float, int, int]:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return (own.ru_stime + kids.ru_stime, own.ru_utime + kids.ru_utime, time.monotonic(),
                own.ru_inblock + kids.ru_inblock, own.ru_oublock + kids.ru_oublock)

    def lap(self) -> str:
        now = self._now()
        sys_t, user_t, wall, blocks_in, blocks_out = (a - b for a, b in zip(now, self._mark, strict=True))
        self._mark = now
        return (f"{_duration(sys_t)}(system) {_duration(user_t)}(user) {_duration(wall)}(elapsed) "
                f"{_size(blocks_in * 512)} input {_size(blocks_out * 512)} output")
