"""The exit-command script is written by many threads of one API server at once (16 clients
starting containers): each write must land whole, none may lose its temporary file to another."""

from __future__ import annotations

import os
import threading
from pathlib import Path

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
