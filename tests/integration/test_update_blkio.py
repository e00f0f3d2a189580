"""``update`` and ``container clone`` with Podman 4.3.1's block-IO and real-time CPU flags
(--blkio-weight-device, --device-read/write-bps, --device-read/write-iops, --cpu-rt-period,
--cpu-rt-runtime): parsed and refused in Podman's words, stored so that inspect shows them, and
put in a running container's cgroup.  The block device is the root filesystem's, as Podman's own
tests use; where the kernel refuses a limit (BFQ weights on a device without BFQ, RT runtime with
no RT budget in the parent), the refusal is checked instead.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
BLKIO = "/sys/fs/cgroup/blkio"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("update-blkio"), seeded_registry.host) as runner:
        yield runner


def _block_device(rdev: int) -> str:
    for entry in sorted(os.scandir("/dev"), key=lambda e: e.name):
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISBLK(st.st_mode) and st.st_rdev == rdev:
            return entry.path
    return ""


@pytest.fixture(scope="module")
def root_dev() -> str:
    """The whole disk under / (blk-throttle takes limits on disks), as /dev/NAME."""
    if not os.path.exists(f"{BLKIO}/blkio.throttle.read_bps_device"):
        pytest.skip("no cgroup v1 blkio throttling on this host")
    dev = os.stat("/").st_dev
    path = _block_device(dev)
    if not path or not os.path.exists(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/queue"):
        pytest.skip("the root filesystem is not on a whole block disk")
    return path


def _majmin(path: str) -> str:
    rdev = os.stat(path).st_rdev
    return f"{os.major(rdev)}:{os.minor(rdev)}"


def _scheduler(path: str) -> str:
    try:
        text = Path(f"/sys/dev/block/{_majmin(path)}/queue/scheduler").read_text()
    except OSError:
        return ""
    return text.partition("[")[2].partition("]")[0]


def _host(ctr: SealpodRunner, name: str) -> dict[str, object]:
    doc = json.loads(ctr.run("inspect", name).stdout)[0]["HostConfig"]
    assert isinstance(doc, dict)
    return doc


def _cgroup(ctr: SealpodRunner, name: str, file: str) -> str:
    return ctr.run("exec", name, "cat", f"/sys/fs/cgroup/{file}").stdout.strip()


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    res = ctr.run(*args, check=False)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    return res.stderr.strip()


def test_help_lists_the_flags(ctr: SealpodRunner) -> None:
    """podman update --help / podman container clone --help: clone has no IOPS flags"""
    update = ctr.run("update", "--help").stdout
    for flag in ("--blkio-weight-device", "--device-read-bps", "--device-write-bps", "--device-read-iops",
                 "--device-write-iops", "--cpu-rt-period uint", "--cpu-rt-runtime int"):
        assert flag in update
    clone = ctr.run("container", "clone", "--help").stdout
    for flag in ("--blkio-weight-device", "--device-read-bps", "--device-write-bps", "--cpu-rt-period",
                 "--cpu-rt-runtime"):
        assert flag in clone
    assert "iops" not in clone
    assert "unknown flag: --device-read-iops" in _fails(ctr, "container", "clone", "--device-read-iops",
                                                          "/dev/null:1", "nosuch")


def test_update_running_container_throttles(ctr: SealpodRunner, root_dev: str) -> None:
    """podman update --device-read-bps/--device-write-bps/--device-read-iops/--device-write-iops on a running
    container: the limits are in its cgroup at once, inspect shows them, and a restart keeps them"""
    majmin = _majmin(root_dev)
    cid = ctr.run("run", "-d", "--name", "thr", IMAGE, "sleep", "600").stdout.strip()
    out = ctr.run("update", "--device-read-bps", f"{root_dev}:1mb", "--device-write-bps", f"{root_dev}:2mb",
                  "--device-read-iops", f"{root_dev}:1000", "--device-write-iops", f"{root_dev}:500", "thr")
    assert out.stdout == cid + "\n"
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.read_bps_device") == f"{majmin} 1048576"
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.write_bps_device") == f"{majmin} 2097152"
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.read_iops_device") == f"{majmin} 1000"
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.write_iops_device") == f"{majmin} 500"
    host = _host(ctr, "thr")
    assert host["BlkioDeviceReadBps"] == [{"Path": root_dev, "Rate": 1048576}]
    assert host["BlkioDeviceWriteBps"] == [{"Path": root_dev, "Rate": 2097152}]
    assert host["BlkioDeviceReadIOps"] == [{"Path": root_dev, "Rate": 1000}]
    assert host["BlkioDeviceWriteIOps"] == [{"Path": root_dev, "Rate": 500}]
    # a later update changes the device it names and leaves the other limits be
    ctr.run("update", "--device-read-bps", f"{root_dev}:3mb", "thr")
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.read_bps_device") == f"{majmin} 3145728"
    host = _host(ctr, "thr")
    assert host["BlkioDeviceReadBps"] == [{"Path": root_dev, "Rate": 3145728}]
    assert host["BlkioDeviceWriteIOps"] == [{"Path": root_dev, "Rate": 500}]
    ctr.run("stop", "-t", "0", "thr")
    ctr.run("start", "thr")
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.read_bps_device") == f"{majmin} 3145728"
    assert _cgroup(ctr, "thr", "blkio/blkio.throttle.write_iops_device") == f"{majmin} 500"
    ctr.run("rm", "-f", "-t", "0", "thr")


def test_update_stopped_container_applies_at_start(ctr: SealpodRunner, root_dev: str) -> None:
    """update of a container that is not running: stored, and its next start puts the limits in place"""
    ctr.run("create", "--name", "later", IMAGE, "sleep", "600")
    ctr.run("update", "--device-write-bps", f"{root_dev}:1mb", "later")
    assert _host(ctr, "later")["BlkioDeviceWriteBps"] == [{"Path": root_dev, "Rate": 1048576}]
    ctr.run("start", "later")
    assert _cgroup(ctr, "later", "blkio/blkio.throttle.write_bps_device") == f"{_majmin(root_dev)} 1048576"
    ctr.run("rm", "-f", "-t", "0", "later")


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--blkio-weight-device", "vda", "bad format: vda"),
    ("--device-read-bps", "vda", "bad format: vda"),
    ("--device-write-iops", "sda1000", "bad format: sda1000"),
    ("--blkio-weight-device", "/tmp:10", "bad format for device path: /tmp:10"),
    ("--device-read-iops", "/tmp:10", "bad format for device path: /tmp:10"),
    ("--blkio-weight-device", "/dev/null:5", "invalid weight for device: /dev/null:5"),
    ("--blkio-weight-device", "/dev/null:1001", "invalid weight for device: /dev/null:1001"),
    ("--blkio-weight-device", "/dev/null:abc", "invalid weight for device: /dev/null:abc"),
    ("--device-write-bps", "/dev/null:1mb:3",
     "invalid rate for device: /dev/null:1mb:3. The correct format is <device-path>:<number>[<unit>]. Number must "
     "be a positive integer. Unit is optional and can be kb, mb, or gb"),
    ("--device-read-iops", "/dev/null:1mb",
     "invalid rate for device: /dev/null:1mb. The correct format is <device-path>:<number>. Number must be a "
     "positive integer"),
    ("--blkio-weight-device", "/dev/nonexist:100",
     "failed to inspect '/dev/nonexist' in --blkio-weight-device: no such file or directory"),
    ("--device-write-iops", "/dev/nonexist:100", "could not parse throttle device at /dev/nonexist: no such file or "
     "directory"),
    ("--blkio-weight", "abc", 'invalid value for blkio-weight: strconv.ParseUint: parsing "abc": invalid syntax'),
    ("--cpu-rt-period", "-5",
     'invalid argument "-5" for "--cpu-rt-period" flag: strconv.ParseUint: parsing "-5": invalid syntax'),
    ("--cpu-rt-runtime", "abc",
     'invalid argument "abc" for "--cpu-rt-runtime" flag: strconv.ParseInt: parsing "abc": invalid syntax'),
])
def test_update_bad_values(ctr: SealpodRunner, flag: str, value: str, message: str) -> None:
    """podman update with malformed blkio/RT values: Podman's messages, exit 125, before the container
    is looked up (the same values on clone too)"""
    err = _fails(ctr, "update", flag, value, "nosuch")
    assert err.splitlines()[0] == f"Error: {message}"
    if "iops" not in flag and "nonexist" not in value:  # clone looks the container up first
        assert _fails(ctr, "container", "clone", flag, value, "nosuch").splitlines()[0] == f"Error: {message}"


def test_create_takes_the_value_after_the_first_colon(ctr: SealpodRunner) -> None:
    """podman create --device-read-bps /dev/X:1mb:3: a bad rate (split at the first colon), not a bad format"""
    err = _fails(ctr, "create", "--device-read-bps", "/dev/null:1mb:3", IMAGE)
    assert err.startswith("Error: invalid rate for device: /dev/null:1mb:3.")
    assert 'parsing "-1"' in _fails(ctr, "create", "--cpu-rt-period", "-1", IMAGE)


def test_update_weight_device(ctr: SealpodRunner, root_dev: str) -> None:
    """podman update --blkio-weight-device: where the device's scheduler has no BFQ the kernel refuses the
    weight (runc's words, exit 125, nothing stored); on a BFQ device it lands in blkio.bfq.weight_device"""
    ctr.run("run", "-d", "--name", "wd", IMAGE, "sleep", "600")
    if _scheduler(root_dev) != "bfq":
        err = _fails(ctr, "update", "--blkio-weight-device", f"{root_dev}:300", "wd")
        assert f'failed to write "{_majmin(root_dev)} 300"' in err and "weight_device" in err
        assert not _host(ctr, "wd")["BlkioWeightDevice"]
    bfq = [f"/dev/{d}" for d in sorted(os.listdir("/sys/block"))
           if os.path.exists(f"/dev/{d}") and _scheduler(f"/dev/{d}") == "bfq"]
    if bfq:
        ctr.run("update", "--blkio-weight-device", f"{bfq[0]}:300", "wd")
        assert f"{_majmin(bfq[0])} 300" in _cgroup(ctr, "wd", "blkio/blkio.bfq.weight_device")
        assert _host(ctr, "wd")["BlkioWeightDevice"] == [{"Path": bfq[0], "Weight": 300}]
    ctr.run("rm", "-f", "-t", "0", "wd")


def test_update_cpu_rt(ctr: SealpodRunner) -> None:
    """podman update --cpu-rt-period reaches cpu.rt_period_us; --cpu-rt-runtime the kernel refuses without an
    RT budget in the parent cgroup: runc's error, exit 125, as Podman reports it"""
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_period_us"):
        pytest.skip("no RT group scheduling (cgroup v1 cpu.rt_period_us) on this host")
    ctr.run("run", "-d", "--name", "rt", IMAGE, "sleep", "600")
    ctr.run("update", "--cpu-rt-period", "500000", "rt")
    assert _cgroup(ctr, "rt", "cpu/cpu.rt_period_us") == "500000"
    assert _host(ctr, "rt")["CpuRealtimePeriod"] == 500000
    res = ctr.run("update", "--cpu-rt-runtime", "100", "rt", check=False)
    if res.returncode == 0:  # the parent has an RT budget here
        assert _host(ctr, "rt")["CpuRealtimeRuntime"] == 100
    else:
        assert res.returncode == 125 and "update --resources" in res.stderr and "failed: exit status 1" in res.stderr
        assert "cpu.rt_runtime_us" in res.stderr and "Traceback" not in res.stderr
        assert _host(ctr, "rt")["CpuRealtimeRuntime"] == 0
    ctr.run("rm", "-f", "-t", "0", "rt")


def test_clone_blkio_and_rt(ctr: SealpodRunner, root_dev: str) -> None:
    """podman container clone --device-read-bps/--device-write-bps/--blkio-weight-device/--cpu-rt-*: the clone
    takes them (a flag replaces that list, the source's other limits stay)"""
    ctr.run("create", "--name", "src", "--device-read-bps", f"{root_dev}:1mb", "--device-read-iops",
            f"{root_dev}:100", "--cpu-rt-period", "1000", IMAGE, "sleep", "600")
    ctr.run("container", "clone", "--device-read-bps", f"{root_dev}:5mb", "--device-write-bps", f"{root_dev}:2mb",
            "--blkio-weight-device", f"{root_dev}:200", "--cpu-rt-runtime", "100", "src", "dst")
    host = _host(ctr, "dst")
    assert host["BlkioDeviceReadBps"] == [{"Path": root_dev, "Rate": 5242880}]
    assert host["BlkioDeviceWriteBps"] == [{"Path": root_dev, "Rate": 2097152}]
    assert host["BlkioDeviceReadIOps"] == [{"Path": root_dev, "Rate": 100}]
    assert host["BlkioWeightDevice"] == [{"Path": root_dev, "Weight": 200}]
    assert (host["CpuRealtimePeriod"], host["CpuRealtimeRuntime"]) == (1000, 100)
    assert _host(ctr, "src")["BlkioDeviceReadBps"] == [{"Path": root_dev, "Rate": 1048576}]
    err = _fails(ctr, "container", "clone", "--device-write-bps", "/dev/nonexist:1", "src", "dst2")
    assert err == "Error: could not parse throttle device at /dev/nonexist: no such file or directory"
    ctr.run("rm", "-f", "src", "dst")


# --- the REST API -----------------------------------------------------------------------------

def _post(api: ApiService, path: str, doc: object) -> tuple[int, object]:
    status, body = api.request("POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    return status, json.loads(body) if body.strip() else None


def test_docker_api_update_blkio(api: ApiService, root_dev: str) -> None:
    """Docker's POST /containers/{id}/update with BlkioDeviceReadBps, BlkioDeviceWriteIOps, CpuRealtimePeriod
    ([{"Path", "Rate"}] as Docker documents them): applied and shown by inspect; wrong types are a 400"""
    api.runner.run("run", "-d", "--name", "apiblk", IMAGE, "sleep", "600")
    status, doc = _post(api, "/v1.41/containers/apiblk/update", {
        "BlkioDeviceReadBps": [{"Path": root_dev, "Rate": 1048576}],
        "BlkioDeviceWriteIOps": [{"Path": root_dev, "Rate": 300}]})
    assert (status, doc) == (200, {"Warnings": []})
    status, info = api.request("GET", "/v1.41/containers/apiblk/json")
    host = json.loads(info)["HostConfig"]
    assert host["BlkioDeviceReadBps"] == [{"Path": root_dev, "Rate": 1048576}]
    assert host["BlkioDeviceWriteIOps"] == [{"Path": root_dev, "Rate": 300}]
    out = api.runner.run("exec", "apiblk", "cat", "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device").stdout
    assert out.strip() == f"{_majmin(root_dev)} 1048576"
    status, doc = _post(api, "/v1.41/containers/apiblk/update",
                        {"BlkioDeviceReadBps": [{"Path": root_dev, "Rate": "fast"}]})
    assert status == 400 and isinstance(doc, dict) and "cannot unmarshal string" in doc["message"]
    status, doc = _post(api, "/v1.41/containers/apiblk/update",
                        {"BlkioDeviceReadBps": [{"Path": "/dev/nonexist", "Rate": 1}]})
    assert status == 400 and isinstance(doc, dict) and "could not parse throttle device" in doc["message"]
    api.runner.run("rm", "-f", "-t", "0", "apiblk")


def test_podman_remote_update_blkio(pr: Remote, root_dev: str) -> None:
    """podman --remote update --device-write-bps --memory: libpod's update takes an OCI resources object
    (devices by major:minor); the container's limits change and inspect shows them by path"""
    pr("run", "-d", "--name", "remblk", pr.image, "sleep", "600")
    assert pr.out("update", "--device-write-bps", f"{root_dev}:2mb", "--memory", "64m", "remblk") == "remblk"
    host = json.loads(pr.out("inspect", "remblk"))[0]["HostConfig"]
    assert host["BlkioDeviceWriteBps"] == [{"Path": root_dev, "Rate": 2097152}]
    assert host["Memory"] == 64 * 1024 * 1024
    out = pr.out("exec", "remblk", "cat", "/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device")
    assert out == f"{_majmin(root_dev)} 2097152"
    pr("rm", "-f", "-t", "0", "remblk")
