"""The exec-FIFO start, with a real FIFO and a real writer process standing in for runc's init."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sealpod.runtime.exec_fifo import start_through_fifo


def _state_dir(tmp_path: Path, pid: int, hooks: dict[str, object] | None = None) -> Path:
    if not (tmp_path / "exec.fifo").exists():
        os.mkfifo(tmp_path / "exec.fifo", 0o622)
    (tmp_path / "state.json").write_text(json.dumps({"init_process_pid": pid, "config": {"hooks": hooks or {}}}))
    return tmp_path


def _writer(fifo: Path) -> subprocess.Popen[bytes]:
    """What runc's init does: open the FIFO for writing (blocks until a reader), write "0"."""
    code = f"import os; fd = os.open({str(fifo)!r}, os.O_WRONLY); os.write(fd, b'0'); os.close(fd)"
    return subprocess.Popen([sys.executable, "-c", code])


def test_the_init_byte_is_taken_and_the_fifo_removed(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "exec.fifo", 0o622)  # before the writer, as runc makes it before its init
    writer = _writer(tmp_path / "exec.fifo")
    state = _state_dir(tmp_path, writer.pid)
    assert start_through_fifo(str(state), timeout=10)
    assert writer.wait(timeout=10) == 0
    assert not (state / "exec.fifo").exists()


def test_a_dead_init_leaves_it_to_the_runtime(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state = _state_dir(tmp_path, gone.pid)
    assert not start_through_fifo(str(state), timeout=5)
    assert (state / "exec.fifo").exists()  # untouched: `runc start` judges it


def test_poststart_hooks_leave_it_to_the_runtime(tmp_path: Path) -> None:
    state = _state_dir(tmp_path, os.getpid(), {"poststart": [{"path": "/bin/true"}]})
    assert not start_through_fifo(str(state), timeout=1)


def test_no_fifo_or_no_state_leaves_it_to_the_runtime(tmp_path: Path) -> None:
    assert not start_through_fifo(str(tmp_path), timeout=1)
    (tmp_path / "state.json").write_text(json.dumps({"init_process_pid": os.getpid()}))
    assert not start_through_fifo(str(tmp_path), timeout=1)  # started already: no FIFO
