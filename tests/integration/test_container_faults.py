"""A sealpod command killed at any point leaves a state the next command repairs."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, require_root

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    require_root()
    runner = SealpodRunner(tmp_path_factory.mktemp("faults"), search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
    runner.run("pull", "-q", IMAGE)
    yield runner
    runner.run("rm", "-af", "-t", "0", check=False)


def _mounts(root: Path) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(root) in line]


@pytest.mark.parametrize("verb", ["run-d", "run", "create-start"])
def test_sigkill_at_random_points_is_repaired(ctr: SealpodRunner, verb: str) -> None:
    rng = random.Random(verb)
    for i in range(6):
        name = f"k{verb}{i}"
        argv = {"run-d": ["run", "-d", "--name", name, IMAGE, "sleep", "100"],
                "run": ["run", "--name", name, IMAGE, "sh", "-c", "sleep 0.2"],
                "create-start": ["create", "--name", name, IMAGE, "sleep", "100"]}[verb]
        proc = subprocess.Popen(ctr.argv(*argv), env=ctr.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ps = ctr.run("ps", "-a", "--format", "json")
        assert isinstance(json.loads(ps.stdout), list)
        if verb == "create-start" and ctr.run("container", "exists", name, check=False).returncode == 0:
            ctr.run("start", name)  # a half-created container can still be started
            assert ctr.run("inspect", "--format", "{{.State.Status}}", name).stdout.strip() == "running"
    ctr.run("rm", "-af", "-t", "0")
    assert ctr.run("ps", "-aq").stdout == ""
    assert not _mounts(ctr.root), "\n".join(_mounts(ctr.root))


def test_parallel_rm_f_of_one_container(ctr: SealpodRunner) -> None:
    ctr.run("run", "-d", "--name", "target", IMAGE, "sleep", "100")
    procs = [subprocess.Popen(ctr.argv("rm", "-f", "-t", "0", "target"), env=ctr.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(), p.stderr.read() if p.stderr else "") for p in procs]
    assert any(rc == 0 for rc, _ in results)
    for rc, err in results:
        assert rc in (0, 1, 125) and "Traceback" not in err, err
    assert ctr.run("container", "exists", "target", check=False).returncode == 1
    assert not _mounts(ctr.root)


@pytest.mark.parametrize(("flags", "message"), [
    (("--tmpfs", "relative"), 'Error: invalid container path "relative", must be an absolute path'),
    (("--dns", "bad"), "Error: bad is not an ip address"),
    (("--cap-add", "NOPE"), 'Error: "CAP_NOPE": unknown capability'),
    (("--oom-score-adj", "5000"), "Error: invalid argument: oom_score_adj 5000 must be between -1000 and 1000"),
    (("--log-opt", "max-size=bogus"), "Error: invalid size: 'bogus'"),
    (("--label-file", "/nonexistent-labels"), "Error: unable to process labels: open /nonexistent-labels: "
                                              "no such file or directory"),
])
def test_bad_run_flags_are_refused_before_anything_is_created(ctr: SealpodRunner, flags: tuple[str, ...],
                                                               message: str) -> None:
    before = ctr.run("ps", "-aq").stdout
    bad = ctr.run("run", "--rm", "--network", "none", *flags, IMAGE, "true", check=False)
    assert (bad.returncode, bad.stderr.strip()) == (125, message)
    assert ctr.run("ps", "-aq").stdout == before
