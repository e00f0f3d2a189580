"""Disk usage and removal: ``system df``, ``system prune``, ``rm --depend``, and the API's /system/df."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture
def ctr(tmp_path: Path, seeded_registry: RegistryServer) -> SealpodRunner:
    with store_with_image(tmp_path, seeded_registry.host) as runner:
        yield runner  # type: ignore[misc]


def _cells(line: str) -> list[str]:
    return re.split(r" {2,}", line.strip())


def test_df_summary_verbose_and_formats(ctr: SealpodRunner) -> None:
    ctr.run("volume", "create", "v1")
    ctr.run("volume", "create", "unused")
    ctr.run("run", "--name", "writer", "-v", "v1:/data", IMAGE, "sh", "-c",
            "echo hello > /data/f; head -c 5000 /dev/zero > /blob")
    ctr.run("run", "-d", "--name", "up", IMAGE, "sleep", "1000")
    lines = ctr.run("system", "df").stdout.splitlines()
    assert _cells(lines[0]) == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {c[0]: c[1:] for c in map(_cells, lines[1:])}
    assert rows["Images"][:2] == ["1", "1"] and rows["Images"][3] == "0B (0%)"
    assert rows["Containers"][:2] == ["2", "1"]
    assert rows["Containers"][2].endswith("kB") and rows["Containers"][3].endswith("(100%)")
    assert rows["Local Volumes"] == ["2", "1", "6B", "0B (0%)"]
    docs = json.loads(ctr.run("system", "df", "--format", "json").stdout)
    by_type = {d["Type"]: d for d in docs}
    assert by_type["Containers"]["RawReclaimable"] >= 5000 and by_type["Local Volumes"]["RawSize"] == 6
    assert ctr.run("system", "df", "--format", "{{.Type}}={{.Active}}").stdout == \
        "Images=1\nContainers=1\nLocal Volumes=1\n"
    verbose = ctr.run("system", "df", "-v").stdout
    sections = verbose.split("\n\n")
    assert sections[0] == "Images space usage:"
    assert _cells(sections[1].splitlines()[0]) == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE",
                                                  "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"]
    image_row = _cells(sections[1].splitlines()[1])
    assert image_row[0].endswith(IMAGE) and image_row[1] == "latest" and image_row[-1] == "2"
    assert "Containers space usage:" in verbose and "Local Volumes space usage:" in verbose
    vol_lines = verbose.split("Local Volumes space usage:\n\n")[1].splitlines()
    assert _cells(vol_lines[0]) == ["VOLUME NAME", "LINKS", "SIZE"]
    assert ["v1", "1", "6B"] in [_cells(v) for v in vol_lines] and ["unused", "0", "0B"] in [
        _cells(v) for v in vol_lines]
    ctr_lines = [_cells(v) for v in verbose.split("Containers space usage:\n\n")[1].split("\n\n")[0].splitlines()]
    assert ctr_lines[0] == ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS",
                            "NAMES"]
    writer = next(c for c in ctr_lines if c[-1] == "writer")
    assert writer[3] == "1" and writer[-2] == "exited"
    bad = ctr.run("system", "df", "-v", "--format", "json", check=False)
    assert bad.returncode == 125 and bad.stderr.count("\n") == 1


def test_prune_asks_then_removes_and_reports_space(ctr: SealpodRunner) -> None:
    ctr.run("volume", "create", "orphan")
    ctr.run("run", "--name", "done", "-v", "orphan:/d", IMAGE, "sh", "-c", "echo data > /d/f")
    ctr.run("run", "-d", "--name", "alive", IMAGE, "sleep", "1000")
    declined = ctr.run("system", "prune", "--volumes", input="n\n")
    assert declined.stdout.startswith("WARNING! This command removes:\n\t- all stopped containers\n")
    assert "\t- all volumes not used by at least one container\n" in declined.stdout
    assert declined.stdout.endswith("Are you sure you want to continue? [y/N] ")
    assert "done" in ctr.run("ps", "-a", "--format", "{{.Names}}").stdout
    cid = ctr.run("inspect", "--format", "{{.Id}}", "done").stdout.strip()
    out = ctr.run("system", "prune", "--volumes", input="y\n").stdout
    report = out.split("[y/N] ")[1]
    assert report.startswith(f"Deleted Containers\n{cid}\nDeleted Volumes\norphan\n")
    assert re.search(r"Total reclaimed space: \d+(\.\d+)?[kM]?B\n$", report)
    assert ctr.run("ps", "-a", "--format", "{{.Names}}").stdout == "alive\n"
    assert ctr.run("images", "-q").stdout.strip()  # in use by "alive": kept even by -a
    out = ctr.run("system", "prune", "-a", "-f").stdout
    assert "Deleted Images" not in out and out.endswith("Total reclaimed space: 0B\n")
    ctr.run("rm", "-f", "-t", "0", "alive")
    out = ctr.run("system", "prune", "-af").stdout
    assert out.startswith("Deleted Images\n") and re.search(r"Total reclaimed space: [\d.]+MB\n$", out)
    assert ctr.run("images", "-q").stdout == ""
    ctr.run("pull", "-q", IMAGE)  # the fixture's teardown expects the image


def test_rm_refuses_containers_others_depend_on(ctr: SealpodRunner) -> None:
    base = ctr.run("create", "--name", "base", IMAGE, "sleep", "100").stdout.strip()
    dep1 = ctr.run("create", "--name", "dep1", "--requires", "base", IMAGE, "true").stdout.strip()
    dep2 = ctr.run("create", "--name", "dep2", "--network", "container:base", IMAGE, "true").stdout.strip()
    dep3 = ctr.run("create", "--name", "dep3", "--requires", "dep1", IMAGE, "true").stdout.strip()
    other = ctr.run("create", "--name", "other", IMAGE, "true").stdout.strip()
    for flags in ((), ("-f",)):
        res = ctr.run("rm", *flags, "base", check=False)
        assert res.returncode == 125
        assert res.stderr == (f"Error: container {base} has dependent containers which must be removed before it: "
                              f"{dep1}, {dep2}: container already exists\n")
    res = ctr.run("rm", "--depend", "base")
    removed = res.stdout.split()
    assert sorted(removed) == sorted([base, dep1, dep2, dep3])
    assert removed[-1] == base and removed.index(dep3) < removed.index(dep1)  # dependents first
    assert ctr.run("ps", "-aq", "--no-trunc").stdout.split() == [other]


def test_rm_all_removes_dependents_first(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "db", IMAGE, "sleep", "1000")
    ctr.run("run", "-d", "--name", "app", "--requires", "db", IMAGE, "sleep", "1000")
    ctr.run("rm", "-af", "-t", "0")
    assert ctr.run("ps", "-aq").stdout == ""


def test_api_system_df_has_docker_shape(api: object) -> None:
    from tests.rig.api import ApiService

    assert isinstance(api, ApiService)
    api.runner.run("volume", "create", "apidf")
    out = api.docker("system", "df", "--format", "{{.Type}} {{.TotalCount}}").stdout
    assert "Images 1" in out and "Local Volumes" in out
    verbose = api.docker("system", "df", "-v").stdout
    assert "apidf" in verbose
    api.runner.run("volume", "rm", "apidf")
