"""``leave``: the launchers' fast exit.  It must keep what a normal exit guarantees: buffered
output written, the exit status, atexit callbacks and other threads honoured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(body: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path.insert(0, {str(SRC)!r})\nfrom sealpod.__main__ import leave\n{body}"
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60)


def test_buffered_output_and_status_survive() -> None:
    res = _run("sys.stdout.write('out' * 5000)\nsys.stderr.write('err')\nleave(7)")
    assert (res.returncode, len(res.stdout), res.stderr) == (7, 15000, "err")


def test_none_is_success_and_large_codes_wrap_as_exit_does() -> None:
    assert _run("leave(None)").returncode == 0
    assert _run("leave(256 + 3)").returncode == 3


def test_atexit_callbacks_still_run() -> None:
    res = _run("import atexit\natexit.register(lambda: print('atexit ran'))\nleave(0)")
    assert res.stdout == "atexit ran\n"


def test_logging_handlers_are_flushed() -> None:
    res = _run("import logging\nlogging.basicConfig(format='%(message)s')\nlogging.warning('logged')\nleave(0)")
    assert res.stderr == "logged\n"


def test_a_running_thread_is_waited_for() -> None:
    body = ("import threading, time\n"
            "def late():\n    time.sleep(0.3)\n    print('thread done', flush=True)\n"
            "threading.Thread(target=late).start()\nleave(0)")
    assert _run(body).stdout == "thread done\n"
