"""conmon's first process is waited for through a pidfd: prompt when it exits, bounded when not."""

from __future__ import annotations

import sys
import time

import pytest

from sealpod.runtime.conmon import _wait_child
from sealpod.utils.proc import spawn


def test_returns_exit_status_as_soon_as_child_exits() -> None:
    proc = spawn([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert _wait_child(proc, 10.0) == 3


def test_times_out_on_a_child_that_stays() -> None:
    proc = spawn(["sleep", "5"])
    try:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            _wait_child(proc, 0.2)
        assert time.monotonic() - t0 < 2
    finally:
        proc.kill()
        proc.wait()
