"""``stats``: real cgroup (v1) counters of containers run by conmon and runc, Podman 4.3's columns."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from sealpod.cli.stats import bytes_size, go_duration, human_size
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
HEADER = ["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS", "CPU TIME",
          "AVG CPU %"]


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("stats"), seeded_registry.host) as runner:
        runner.run("run", "-d", "--name", "busy", "-m", "64m", IMAGE, "sh", "-c", "while :; do :; done")
        runner.run("run", "-d", "--name", "idle", IMAGE, "sleep", "1000")
        runner.run("create", "--name", "never", IMAGE, "true")
        time.sleep(0.5)
        yield runner


def _columns(line: str) -> list[str]:
    """Cells of a tabwriter line: separated by two or more spaces."""
    import re

    return re.split(r" {2,}", line.strip())


def test_no_stream_table_has_podmans_columns_and_live_values(ctr: SealpodRunner) -> None:
    out = ctr.run("stats", "--no-stream").stdout.splitlines()
    assert _columns(out[0]) == HEADER
    rows = {_columns(line)[1]: _columns(line) for line in out[1:]}
    assert set(rows) == {"busy", "idle"}  # running ones only without --all
    busy = rows["busy"]
    assert len(busy[0]) == 12
    assert float(busy[2].rstrip("%")) > 20  # a busy loop: CPU since the start
    usage, limit = busy[3].split(" / ")
    assert limit == "67.11MB"  # -m 64m is the cgroup's limit
    assert usage.endswith(("kB", "MB")) and float(usage[:-2]) > 0
    assert float(busy[4].rstrip("%")) > 0
    assert busy[7] == "1"
    assert busy[8].endswith(("ms", "s")) and busy[8] != "0s"
    assert float(rows["idle"][2].rstrip("%")) < 20


def test_format_template_json_and_no_trunc(ctr: SealpodRunner) -> None:
    cid = ctr.run("inspect", "--format", "{{.Id}}", "busy").stdout.strip()
    line = ctr.run("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.PIDs}} {{.MemUsageBytes}}",
                   "busy").stdout.split()
    assert line[:3] == [cid, "busy", "1"] and line[-1] == "64MiB"
    docs = json.loads(ctr.run("stats", "--no-stream", "--format", "json", "idle").stdout)
    assert list(docs[0]) == ["id", "name", "cpu_time", "cpu_percent", "avg_cpu", "mem_usage", "mem_percent",
                             "net_io", "block_io", "pids"]
    assert docs[0]["name"] == "idle" and docs[0]["pids"] == "1"
    table = ctr.run("stats", "--no-stream", "--format", "table {{.Name}} {{.CPUPerc}}", "idle").stdout.splitlines()
    assert _columns(table[0]) == ["NAME", "CPU %"] and _columns(table[1])[0] == "idle"


def test_all_and_stopped_containers_show_zeros(ctr: SealpodRunner) -> None:
    rows = {_columns(line)[1]: _columns(line) for line in ctr.run("stats", "--no-stream", "-a").stdout.splitlines()[1:]}
    assert set(rows) == {"busy", "idle", "never"}
    assert rows["never"][2:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0", "0s", "0.00%"]
    named = ctr.run("stats", "--no-stream", "never")  # Podman: a stopped container is reported, not an error
    assert named.returncode == 0 and "0B / 0B" in named.stdout


def test_missing_container_is_one_line_error(ctr: SealpodRunner) -> None:
    res = ctr.run("stats", "--no-stream", "nosuch", check=False)
    assert res.returncode == 125
    assert res.stderr == ('Error: unable to get list of containers: unable to look up container nosuch: '
                          'no container with name or ID "nosuch" found: no such container\n')
    assert ctr.run("stats", "-i", "0", "idle", check=False).returncode == 125


def test_streaming_redraws_until_interrupted(ctr: SealpodRunner) -> None:
    proc = subprocess.Popen(ctr.argv("stats", "-i", "1", "busy"), env=ctr.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(3.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    text = out.decode()
    frames = text.split("\033[2J\033[1;1H")
    assert frames[0] == "" and len(frames) >= 3, text  # cleared before each report
    last = [_columns(line) for line in frames[-1].splitlines()]
    assert last[0] == HEADER and last[1][1] == "busy"
    assert float(last[1][2].rstrip("%")) > 20  # CPU over the last interval
    assert b"Traceback" not in err
    no_reset = subprocess.Popen(ctr.argv("stats", "-i", "1", "--no-reset", "idle"), env=ctr.env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    no_reset.send_signal(signal.SIGINT)
    assert b"\033[2J" not in no_reset.communicate(timeout=10)[0]


def test_size_and_duration_units_match_go() -> None:
    assert human_size(376800) == "376.8kB" and human_size(25280000000) == "25.28GB" and human_size(0) == "0B"
    assert bytes_size(253952) == "248KiB" and bytes_size(64 * 1024**2) == "64MiB"
    assert go_duration(0) == "0s" and go_duration(29976220) == "29.97622ms" and go_duration(812) == "812ns"
    assert go_duration(1_500) == "1.5µs" and go_duration(62_500_000_000) == "1m2.5s"
    assert go_duration(3_600_000_000_000) == "1h0m0s"
