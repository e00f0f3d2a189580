"""build_spec / write_spec: each parameter's effect on config.json, and --ulimit parsing and clamping."""

from __future__ import annotations

import json
import logging
import os
import resource
from pathlib import Path
from typing import Any

import pytest

from sealpod.errors import InvalidArgument
from sealpod.runtime.rlimits import Rlimit, clamp_rlimits, host_limit, parse_ulimit, parse_ulimits
from sealpod.runtime.spec import (
    DEFAULT_CAPABILITIES,
    DEFAULT_MASKED_PATHS,
    DEFAULT_READONLY_PATHS,
    Device,
    IdMapping,
    Mount,
    Resources,
    SpecParams,
    build_spec,
    device_from_host,
    host_capabilities,
    parse_device,
    write_spec,
)


def spec(**kw: Any) -> dict[str, Any]:
    kw.setdefault("rootfs", "/rootfs")
    kw.setdefault("args", ("/bin/sh",))
    return build_spec(SpecParams(**kw))


def mounts_by_dest(s: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["destination"]: m for m in s["mounts"]}


def test_defaults_follow_podman() -> None:
    s = spec(env=("PATH=/bin",), hostname="abc")
    assert s["ociVersion"] == "1.0.2-dev"
    assert s["process"]["user"] == {"uid": 0, "gid": 0, "umask": 0o022}
    assert s["process"]["args"] == ["/bin/sh"]
    assert s["process"]["cwd"] == "/"
    caps = s["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == list(DEFAULT_CAPABILITIES)
    assert "inheritable" not in caps and "ambient" not in caps
    assert len(DEFAULT_CAPABILITIES) == 11
    assert s["root"] == {"path": "/rootfs"}
    assert s["hostname"] == "abc"
    assert "terminal" not in s["process"]
    assert [n["type"] for n in s["linux"]["namespaces"]] == ["pid", "network", "ipc", "uts", "mount"]
    assert s["linux"]["maskedPaths"] == list(DEFAULT_MASKED_PATHS)
    assert s["linux"]["readonlyPaths"] == list(DEFAULT_READONLY_PATHS)
    assert s["linux"]["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    assert "seccomp" not in s["linux"]


def test_standard_mounts_and_order() -> None:
    s = spec(shm_size=32 * 1024 * 1024)
    m = mounts_by_dest(s)
    assert m["/proc"]["type"] == "proc"
    assert m["/dev"]["options"] == ["nosuid", "noexec", "strictatime", "mode=755", "size=65536k"]
    assert m["/dev/pts"]["options"] == ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]
    assert m["/dev/shm"]["type"] == "tmpfs" and "size=32768k" in m["/dev/shm"]["options"]
    assert m["/dev/mqueue"]["type"] == "mqueue"
    assert m["/sys"]["type"] == "sysfs" and "ro" in m["/sys"]["options"]
    assert m["/sys/fs/cgroup"]["options"][-1] == "ro"
    dests = [x["destination"] for x in s["mounts"]]
    assert dests.index("/dev") < dests.index("/dev/pts") < dests.index("/sys/fs/cgroup")
    assert dests.index("/sys") < dests.index("/sys/fs/cgroup")


def test_user_mount_replaces_standard_and_sorts_after_parent() -> None:
    shm = Mount("/dev/shm", "bind", "/host/shm", ("bind", "rprivate"))
    data = Mount("/data/sub", "bind", "/host/sub", ("rbind", "ro"))
    parent = Mount("/data", "tmpfs", "tmpfs", ("rw",))
    s = spec(mounts=(shm, data, parent))
    m = mounts_by_dest(s)
    assert m["/dev/shm"] == {"destination": "/dev/shm", "type": "bind", "source": "/host/shm",
                             "options": ["bind", "rprivate"]}
    assert [x["destination"] for x in s["mounts"]].count("/dev/shm") == 1
    dests = [x["destination"] for x in s["mounts"]]
    assert dests.index("/data") < dests.index("/data/sub")


def test_last_user_mount_for_a_destination_wins() -> None:
    s = spec(mounts=(Mount("/x", "tmpfs", "tmpfs"), Mount("/x/", "bind", "/h", ("bind",))))
    xs = [m for m in s["mounts"] if m["destination"].rstrip("/") == "/x"]
    assert len(xs) == 1 and xs[0]["source"] == "/h"


def test_process_options() -> None:
    s = spec(uid=1000, gid=1000, additional_gids=(1000, 27), umask=0o077, terminal=True, cwd="/tmp",
             env=("A=1", "B=2"), no_new_privileges=True, oom_score_adj=100)
    p = s["process"]
    assert p["terminal"] is True
    assert p["user"] == {"uid": 1000, "gid": 1000, "umask": 0o077, "additionalGids": [1000, 27]}
    assert p["env"] == ["A=1", "B=2"] and p["cwd"] == "/tmp"
    assert p["noNewPrivileges"] is True and p["oomScoreAdj"] == 100


def test_non_root_keeps_only_added_capabilities() -> None:
    caps = (*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN")
    s = spec(uid=1000, capabilities=caps, user_capabilities=("CAP_SYS_ADMIN",))
    c = s["process"]["capabilities"]
    assert c["bounding"] == list(caps)
    assert c["effective"] == c["permitted"] == c["inheritable"] == c["ambient"] == ["CAP_SYS_ADMIN"]
    plain = spec(uid=1000)["process"]["capabilities"]
    assert list(plain) == ["bounding"]


def test_init_wraps_args_and_binds_binary() -> None:
    s = spec(args=("/bin/true",), init="/run/podman-init", init_source="/usr/bin/catatonit")
    assert s["process"]["args"] == ["/run/podman-init", "--", "/bin/true"]
    m = mounts_by_dest(s)["/run/podman-init"]
    assert m["source"] == "/usr/bin/catatonit" and "ro" in m["options"]


def test_readonly_rootfs_and_labels() -> None:
    s = spec(readonly_rootfs=True, mount_label="", selinux_label="")
    assert s["root"] == {"path": "/rootfs", "readonly": True}
    assert "selinuxLabel" not in s["process"] and "mountLabel" not in s["linux"]


def test_namespaces_join_by_path_and_host_sharing() -> None:
    ns = {"pid": None, "network": "/run/netns/x", "mount": None, "user": None, "uts": None}
    s = spec(namespaces=ns)
    assert s["linux"]["namespaces"] == [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"},
                                        {"type": "uts"}, {"type": "mount"}, {"type": "user"}]
    m = mounts_by_dest(s)
    assert m["/dev/mqueue"]["type"] == "bind"  # host IPC namespace: share its mqueue


def test_user_namespace_with_host_network_binds_sys() -> None:
    s = spec(namespaces={"pid": None, "mount": None, "user": None, "uts": None, "ipc": None})
    assert mounts_by_dest(s)["/sys"]["type"] == "bind"


def test_hostname_needs_uts_namespace() -> None:
    with pytest.raises(InvalidArgument, match="host UTS namespace"):
        spec(hostname="x", namespaces={"pid": None, "mount": None})
    assert "hostname" not in spec(namespaces={"mount": None})


def test_unknown_namespace_and_empty_args_rejected() -> None:
    with pytest.raises(InvalidArgument):
        spec(namespaces={"bogus": None})
    with pytest.raises(InvalidArgument, match="no command"):
        spec(args=())


def test_id_mappings() -> None:
    s = spec(uid_mappings=(IdMapping(0, 100000, 65536),), gid_mappings=(IdMapping(0, 200000, 1000),))
    assert s["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
    assert s["linux"]["gidMappings"] == [{"containerID": 0, "hostID": 200000, "size": 1000}]


def test_resources() -> None:
    r = Resources(memory=100 << 20, memory_swap=200 << 20, cpu_shares=512, cpu_quota=50000,
                  cpu_period=100000, cpuset_cpus="0", pids_limit=100)
    res = spec(resources=r, cgroups_path="/sealpod/ctr")["linux"]
    assert res["cgroupsPath"] == "/sealpod/ctr"
    assert res["resources"]["memory"] == {"limit": 104857600, "swap": 209715200}
    assert res["resources"]["cpu"] == {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
    assert res["resources"]["pids"] == {"limit": 100}
    assert "memory" not in spec()["linux"]["resources"]


def test_sysctls_annotations_seccomp_rlimits() -> None:
    sc = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}
    s = spec(sysctls={"net.ipv4.ip_forward": "1"}, annotations={"a": "b"}, seccomp=sc,
             rlimits=(Rlimit("RLIMIT_NOFILE", 1024, 2048), Rlimit("RLIMIT_CORE", -1, -1)))
    assert s["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert s["annotations"] == {"a": "b"}
    assert s["linux"]["seccomp"] == sc
    assert s["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024},
        {"type": "RLIMIT_CORE", "hard": 2**64 - 1, "soft": 2**64 - 1},
    ]


def test_mask_and_unmask() -> None:
    s = spec(unmask=("/proc/kcore", "/proc/sys"), mask=("/opt/secret",))
    assert "/proc/kcore" not in s["linux"]["maskedPaths"]
    assert s["linux"]["maskedPaths"][-1] == "/opt/secret"
    assert "/proc/sys" not in s["linux"]["readonlyPaths"]
    s = spec(unmask=("ALL",))
    assert "maskedPaths" not in s["linux"] and "readonlyPaths" not in s["linux"]
    s = spec(unmask=("/proc/*",))
    assert all(not p.startswith("/proc/") for p in s["linux"]["maskedPaths"])


def test_devices() -> None:
    fuse = device_from_host("/dev/null", "/dev/mynull", "rw")
    st = os.stat("/dev/null")
    assert fuse == Device("/dev/mynull", "c", os.major(st.st_rdev), os.minor(st.st_rdev),
                          file_mode=st.st_mode, uid=st.st_uid, gid=st.st_gid, permissions="rw")
    s = spec(devices=(fuse,))
    assert s["linux"]["devices"][0]["path"] == "/dev/mynull"
    assert s["linux"]["resources"]["devices"][1] == {"allow": True, "type": "c", "major": 1, "minor": 3,
                                                     "access": "rw"}
    assert parse_device("/dev/null").path == "/dev/null"
    assert parse_device("/dev/null:r").permissions == "r"
    assert parse_device("/dev/null:/dev/n2:rwm").path == "/dev/n2"
    with pytest.raises(InvalidArgument):
        device_from_host("/etc/hostname")
    with pytest.raises(InvalidArgument):
        device_from_host("/dev/does-not-exist")
    with pytest.raises(InvalidArgument):
        parse_device("/dev/null:/x:q")


def test_privileged() -> None:
    s = spec(privileged=True)  # the engine passes no seccomp profile for --privileged unless one is named
    caps = s["process"]["capabilities"]
    assert caps["bounding"] == list(host_capabilities()) == caps["effective"]
    assert "CAP_SYS_ADMIN" in caps["bounding"] and len(caps["bounding"]) > 11
    assert "seccomp" not in s["linux"]
    assert "maskedPaths" not in s["linux"] and "readonlyPaths" not in s["linux"]
    assert s["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    paths = [d["path"] for d in s["linux"]["devices"]]
    assert "/dev/null" in paths and "/dev/console" not in paths
    assert not any(p.startswith("/dev/pts/") for p in paths)
    m = mounts_by_dest(s)
    assert "rw" in m["/sys"]["options"] and "rw" in m["/sys/fs/cgroup"]["options"]


def test_host_capabilities_follow_bounding_set(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tx\nCapBnd:\t0000000000200001\n")
    assert host_capabilities(status) == ("CAP_CHOWN", "CAP_SYS_ADMIN")


def test_write_spec_is_atomic_and_private(tmp_path: Path) -> None:
    s = spec()
    target = write_spec(tmp_path / "bundle", s)
    assert target == tmp_path / "bundle" / "config.json"
    assert json.loads(target.read_text()) == s
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["config.json"]
    with pytest.raises(TypeError):
        write_spec(tmp_path / "bundle", {"bad": object()})
    assert [p.name for p in target.parent.iterdir()] == ["config.json"]
    assert json.loads(target.read_text()) == s


# --- rlimits ---------------------------------------------------------------------------------

def test_parse_ulimit() -> None:
    assert parse_ulimit("nofile=1024:2048") == Rlimit("RLIMIT_NOFILE", 1024, 2048)
    assert parse_ulimit("nproc=100") == Rlimit("RLIMIT_NPROC", 100, 100)
    assert parse_ulimit("core=-1") == Rlimit("RLIMIT_CORE", -1, -1)
    assert parse_ulimit("core=0:-1") == Rlimit("RLIMIT_CORE", 0, -1)
    assert parse_ulimits(["nofile=1", "nofile=2:3"]) == (Rlimit("RLIMIT_NOFILE", 2, 3),)
    for bad in ("nofile", "bogus=1", "nofile=a", "nofile=10:5", "nofile=-1:5", "nofile=-2"):
        with pytest.raises(InvalidArgument, match="invalid ulimit argument"):
            parse_ulimit(bad)


def test_clamp_rlimits_warns_and_clamps(caplog: pytest.LogCaptureFixture) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_NOFILE is unlimited on this host")
    want = Rlimit("RLIMIT_NOFILE", hard + 100, hard + 1000)
    ok = Rlimit("RLIMIT_NPROC", 10, 20)
    with caplog.at_level(logging.WARNING, logger="sealpod.runtime"):
        out = clamp_rlimits([want, ok], can_raise=False)
    assert out == (Rlimit("RLIMIT_NOFILE", hard, hard), ok)
    assert "RLIMIT_NOFILE" in caplog.text and str(hard) in caplog.text
    assert clamp_rlimits([want], can_raise=True) == (want,)
    lower_soft = clamp_rlimits([Rlimit("RLIMIT_NOFILE", 10, hard + 1)], can_raise=False)
    assert lower_soft == (Rlimit("RLIMIT_NOFILE", 10, hard),)
    unlimited = clamp_rlimits([Rlimit("RLIMIT_NOFILE", -1, -1)], can_raise=False)
    assert unlimited == (Rlimit("RLIMIT_NOFILE", hard, hard),)
    assert host_limit("RLIMIT_NOFILE") == (soft, hard)
