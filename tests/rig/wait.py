"""Polling until something holds: containers and services come up asynchronously."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], object], timeout: float = 15.0, interval: float = 0.1) -> None:
    """Return once ``cond()`` is true; AssertionError when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
