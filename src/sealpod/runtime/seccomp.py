"""Seccomp profiles: the containers/Docker JSON format turned into the OCI ``linux.seccomp`` object.

The profile on disk (``/usr/share/containers/seccomp.json``) is written for every machine: it
carries rules that apply only to some architectures, kernels or capability sets.  The runtime
wants only the rules for *this* container, so the conversion resolves ``includes``/``excludes``
against the container's capabilities and the host's architecture and kernel, once, at create.
"""

from __future__ import annotations

import errno as errno_mod
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from sealpod.errors import ConfigError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PROFILE_PATHS = (Path("/usr/share/containers/seccomp.json"), Path("/etc/containers/seccomp.json"))

# uname machine -> Go's GOARCH name, which the profile's ``arches`` lists use.
_MACHINE_TO_GOARCH = {
    "x86_64": "amd64", "amd64": "amd64", "i386": "386", "i686": "386", "aarch64": "arm64",
    "arm64": "arm64", "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "ppc64": "ppc64",
    "s390x": "s390x", "mips64": "mips64", "mips64el": "mips64le", "riscv64": "riscv64",
}

# Go arch -> libseccomp architecture token.
GOARCH_TO_SCMP = {
    "amd64": "SCMP_ARCH_X86_64", "386": "SCMP_ARCH_X86", "x86": "SCMP_ARCH_X86",
    "x32": "SCMP_ARCH_X32", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE", "ppc64": "SCMP_ARCH_PPC64", "s390x": "SCMP_ARCH_S390X",
    "s390": "SCMP_ARCH_S390", "mips64": "SCMP_ARCH_MIPS64", "mips64le": "SCMP_ARCH_MIPSEL64",
    "riscv64": "SCMP_ARCH_RISCV64",
}

# Keys of the top-level profile that the OCI object carries over unchanged when present.
_PASSTHROUGH = ("listenerPath", "listenerMetadata", "flags")


def native_arch() -> str:
    """This host's architecture in Go's spelling (``amd64``), as profiles name architectures."""
    machine = os.uname().machine.lower()
    return _MACHINE_TO_GOARCH.get(machine, machine)


def kernel_version(release: str | None = None) -> tuple[int, int]:
    """Major and minor of the running kernel (or of ``release``), for ``minKernel`` rules."""
    rel = release if release is not None else os.uname().release
    return _version(rel)


def _version(text: str) -> tuple[int, int]:
    nums: list[int] = []
    for part in text.split(".")[:2]:
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        nums.append(int(digits) if digits else 0)
    while len(nums) < 2:
        nums.append(0)
    return nums[0], nums[1]


def find_profile() -> Path | None:
    """The default profile, /etc overriding /usr/share as containers-common installs them."""
    for path in reversed(DEFAULT_PROFILE_PATHS):
        if path.is_file():
            return path
    return None


def load_profile(path: Path) -> dict[str, Any]:
    """Read a profile file; a broken one is a configuration error, not a crash."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"opening seccomp profile failed: {path}: {e.strerror}") from None
    except ValueError as e:
        raise ConfigError(f"decoding seccomp profile failed: {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"decoding seccomp profile failed: {path}: not a JSON object")
    return data


def _norm_cap(cap: str) -> str:
    c = cap.strip().upper()
    return c if c.startswith("CAP_") else "CAP_" + c


def _architectures(profile: Mapping[str, Any], arch: str) -> list[str]:
    if profile.get("architectures"):
        return list(profile["architectures"])
    scmp = GOARCH_TO_SCMP.get(arch)
    for entry in profile.get("archMap") or ():
        if entry.get("architecture") == scmp:
            return [entry["architecture"], *(entry.get("subArchitectures") or ())]
    return []


def _rule_applies(rule: Mapping[str, Any], caps: frozenset[str], arch: str, kernel: tuple[int, int]) -> bool:
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    if arch in (exc.get("arches") or ()):
        return False
    if any(_norm_cap(c) in caps for c in exc.get("caps") or ()):
        return False
    if exc.get("minKernel") and kernel >= _version(exc["minKernel"]):
        return False
    if inc.get("arches") and arch not in inc["arches"]:
        return False
    if not all(_norm_cap(c) in caps for c in inc.get("caps") or ()):
        return False
    return not (inc.get("minKernel") and kernel < _version(inc["minKernel"]))


def _errno_ret(rule: Mapping[str, Any]) -> int | None:
    if rule.get("errnoRet") is not None:
        return int(rule["errnoRet"])
    name = rule.get("errno")
    if name:
        value = getattr(errno_mod, str(name), None)
        if not isinstance(value, int):
            raise ConfigError(f"seccomp profile: unknown errno {name!r}")
        return value
    return None


def _convert_args(args: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for a in args:
        arg: dict[str, Any] = {"index": int(a["index"]), "value": int(a.get("value", 0))}
        if a.get("valueTwo"):
            arg["valueTwo"] = int(a["valueTwo"])
        arg["op"] = a["op"]
        out.append(arg)
    return out


def _convert_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    if rule.get("name") and rule.get("names"):
        raise ConfigError("seccomp profile: use either 'name' or 'names', not both")
    names = list(rule.get("names") or ([rule["name"]] if rule.get("name") else []))
    out: dict[str, Any] = {"names": names, "action": rule["action"]}
    ret = _errno_ret(rule)
    if ret is not None:
        out["errnoRet"] = ret
    args = _convert_args(rule.get("args") or ())
    if args:
        out["args"] = args
    return out


def to_oci(
    profile: Mapping[str, Any],
    capabilities: Iterable[str],
    *,
    arch: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Resolve a profile for one container: its capability set, this architecture and kernel.

    ``arch`` is a Go architecture name (``amd64``), defaulting to the host's.
    """
    arch = arch or native_arch()
    kernel = kernel or kernel_version()
    caps = frozenset(_norm_cap(c) for c in capabilities)
    if "defaultAction" not in profile:
        raise ConfigError("seccomp profile: missing defaultAction")
    out: dict[str, Any] = {"defaultAction": profile["defaultAction"]}
    default_ret = _errno_ret({"errnoRet": profile.get("defaultErrnoRet"), "errno": profile.get("defaultErrno")})
    if default_ret is not None:
        out["defaultErrnoRet"] = default_ret
    arches = _architectures(profile, arch)
    if arches:  # a profile naming none leaves the key out, as Podman writes it
        out["architectures"] = arches
    for key in _PASSTHROUGH:
        if profile.get(key):
            out[key] = profile[key]
    out["syscalls"] = [
        _convert_rule(rule) for rule in profile.get("syscalls") or ()
        if _rule_applies(rule, caps, arch, kernel)
    ]
    return out


def default_seccomp(capabilities: Iterable[str], *, path: Path | None = None) -> dict[str, Any] | None:
    """The converted default profile, or None (unconfined) when no profile file is installed."""
    path = path or find_profile()
    if path is None:
        return None
    return to_oci(load_profile(path), capabilities)
