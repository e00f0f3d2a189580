"""Seccomp profile conversion: rules picked or dropped by capability, architecture and kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sealpod.errors import ConfigError
from sealpod.runtime.seccomp import default_seccomp, kernel_version, load_profile, native_arch, to_oci
from sealpod.runtime.spec import DEFAULT_CAPABILITIES

PROFILE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "archMap": [
        {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
        {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    ],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
        {"names": ["arm_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        {"names": ["not_on_arm"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
        {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
         "errnoRet": 1, "errno": "EPERM"},
        {"names": ["two_caps"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
        {"names": ["new_call"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5.8"}},
        {"names": ["old_call"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.8"}},
        {"names": ["errno_by_name"], "action": "SCMP_ACT_ERRNO", "errno": "EINVAL"},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": None},
    ],
}


def names(oci: dict[str, Any]) -> list[str]:
    return [n for rule in oci["syscalls"] for n in rule["names"]]


def test_default_caps_on_amd64() -> None:
    oci = to_oci(PROFILE, DEFAULT_CAPABILITIES, arch="amd64", kernel=(6, 1))
    assert oci["defaultAction"] == "SCMP_ACT_ERRNO" and oci["defaultErrnoRet"] == 38
    assert oci["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    n = names(oci)
    assert "arch_prctl" in n and "not_on_arm" in n and "arm_only" not in n
    assert "two_caps" not in n
    mount = [r for r in oci["syscalls"] if r["names"] == ["mount"]]
    assert mount == [{"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    assert oci["syscalls"][0] == {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}
    assert oci["syscalls"][1]["args"] == [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]
    assert {"names": ["errno_by_name"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22} in oci["syscalls"]
    assert {"names": ["socket"], "action": "SCMP_ACT_ALLOW"} in oci["syscalls"]


def test_capability_switches_rules() -> None:
    oci = to_oci(PROFILE, ["CAP_SYS_ADMIN", "bpf"], arch="amd64", kernel=(6, 1))
    mount = [r for r in oci["syscalls"] if r["names"] == ["mount"]]
    assert mount == [{"names": ["mount"], "action": "SCMP_ACT_ALLOW"}]
    assert "two_caps" in names(oci)


def test_arch_and_kernel_selection() -> None:
    oci = to_oci(PROFILE, (), arch="arm64", kernel=(5, 4))
    assert oci["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    n = names(oci)
    assert "arm_only" in n and "arch_prctl" not in n and "not_on_arm" not in n
    assert "new_call" not in n and "old_call" in n
    n = names(to_oci(PROFILE, (), arch="arm64", kernel=(5, 10)))
    assert "new_call" in n and "old_call" not in n
    assert "architectures" not in to_oci(PROFILE, (), arch="riscv64", kernel=(6, 1))  # none: left out, as Podman


def test_explicit_architectures_kept() -> None:
    prof = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}
    assert to_oci(prof, (), arch="arm64") == {"defaultAction": "SCMP_ACT_ALLOW",
                                              "architectures": ["SCMP_ARCH_X86_64"], "syscalls": []}


def test_broken_profiles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        to_oci({"syscalls": []}, ())
    with pytest.raises(ConfigError):
        to_oci({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO", "errno": "EBOGUS",
                                                                 "names": ["x"]}]}, ())
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="decoding seccomp profile"):
        load_profile(bad)
    with pytest.raises(ConfigError, match="opening seccomp profile"):
        load_profile(tmp_path / "missing.json")


def test_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "seccomp.json"
    path.write_text(json.dumps(PROFILE))
    oci = default_seccomp(DEFAULT_CAPABILITIES, path=path)
    assert oci == to_oci(PROFILE, DEFAULT_CAPABILITIES)


def test_installed_profile_converts() -> None:
    path = Path("/usr/share/containers/seccomp.json")
    if not path.exists():
        pytest.skip("containers-common seccomp.json not installed")
    oci = to_oci(load_profile(path), DEFAULT_CAPABILITIES, arch="amd64")
    n = names(oci)
    assert "read" in n and "chroot" in n  # CAP_SYS_CHROOT is a default capability
    assert oci["architectures"][0] == "SCMP_ARCH_X86_64"
    allowed = {x for r in oci["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and "args" not in r for x in r["names"]}
    assert "bpf" not in allowed and "init_module" not in allowed


def test_host_facts() -> None:
    assert native_arch()
    assert kernel_version("6.1.0-13-amd64") == (6, 1)
    assert kernel_version("5") == (5, 0)
    assert kernel_version() >= (3, 0)
