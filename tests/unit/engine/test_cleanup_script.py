"""The exit-command script is written by many threads of one API server at once (16 clients
starting containers): each write must land whole, none may lose its temporary file to another."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from sealpod.engine.container_paths import ContainerPaths
from sealpod.engine.container_start import _cleanup_script


def test_concurrent_writers_of_one_process_all_succeed(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def write() -> None:
        start.wait()
        try:
            _cleanup_script(tmp_path)
        except BaseException as e:  # noqa: BLE001 - collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(os.listdir(tmp_path)) == ["sealpod-cleanup"]
    assert (tmp_path / "sealpod-cleanup").read_text().startswith("#!/bin/sh\n")


def _run_script(script: Path, run_root: Path, ctr_id: str) -> subprocess.CompletedProcess[str]:
    argv = [os.fspath(script), "--root", os.fspath(run_root / "graph"), "--runroot", os.fspath(run_root),
            "--storage-driver", "overlay", "container", "cleanup", ctr_id]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_script_skips_when_a_foreground_run_cleans_up(tmp_path: Path) -> None:
    """The marker a foreground run leaves is where the script looks: while its writer lives, no
    second Python process starts (it would compete with the run's own cleanup for the CPU)."""
    ctr_id = "ab" * 32
    script = Path(_cleanup_script(tmp_path))
    marker = ContainerPaths(tmp_path / "graph", tmp_path, "overlay", ctr_id).rundir / "attached"
    marker.parent.mkdir(parents=True)
    marker.write_text(str(os.getpid()))
    skipped = _run_script(script, tmp_path, ctr_id)
    assert (skipped.returncode, skipped.stderr) == (0, "")
    assert not (tmp_path / "graph").exists()  # sealpod never opened its store
    marker.write_text("999999999")  # the foreground run died: the cleanup runs (and finds nothing to do)
    assert _run_script(script, tmp_path, ctr_id).returncode == 0
    assert (tmp_path / "graph").is_dir()
