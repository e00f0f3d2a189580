"""The mount and security parts of the OCI spec (config.json) as Podman 4.3.1 writes them, and what
the container then sees: volume and bind options, the engine's own files under --read-only,
/run/.containerenv, the root's propagation, masked paths and a non-root user's capabilities.
"""

from __future__ import annotations

import ctypes
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("spec-mounts"), seeded_registry.host) as runner:
        yield runner


@pytest.fixture(scope="module")
def nosuid_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tmpfs mounted nosuid,nodev,noexec: a bind of it must keep those flags."""
    path = tmp_path_factory.mktemp("nosuid-fs")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0x2 | 0x4 | 0x8, b"size=1m") != 0:
        pytest.skip(f"cannot mount a tmpfs here: {os.strerror(ctypes.get_errno())}")
    try:
        yield path
    finally:
        libc.umount2(os.fsencode(path), 2)


def _spec(ctr: SealpodRunner, name: str, *flags: str) -> dict[str, Any]:
    """Create and init a container, and return the config.json its runtime got."""
    ctr.run("create", "--name", name, *flags, IMAGE, "true")
    ctr.run("init", name)
    cid = ctr.run("inspect", "--format", "{{.ID}}", name).stdout.strip()
    found = [p for base in (ctr.root, ctr.runroot) for p in base.glob(f"**/{cid}/userdata/config.json")]
    assert found, f"no config.json for {cid}"
    doc: dict[str, Any] = json.loads(found[0].read_text())
    ctr.run("rm", "-f", name)
    return doc


def _mount(spec: dict[str, Any], dest: str) -> dict[str, Any]:
    found = [m for m in spec["mounts"] if m["destination"] == dest]
    assert len(found) == 1, f"{dest}: {found}"
    return found[0]


def _mountinfo(ctr: SealpodRunner, dest: str, *flags: str) -> set[str]:
    """The per-mount options the container sees at ``dest`` (from /proc/self/mounts)."""
    out = ctr.run("run", "--rm", *flags, IMAGE, "sh", "-c", f"grep ' {dest} ' /proc/self/mounts").stdout
    return set(out.split()[3].split(","))


def test_named_and_anonymous_volumes_are_nosuid_nodev(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: a named volume is bound nosuid,nodev (unless suid/dev is asked), ro or rw as given."""
    assert {"nosuid", "nodev", "rbind", "rw"} <= set(_mount(_spec(ctr, "v1", "-v", "pv1:/data"), "/data")["options"])
    assert {"nosuid", "nodev", "ro"} <= set(_mount(_spec(ctr, "v2", "-v", "pv1:/data:ro"), "/data")["options"])
    assert {"nosuid", "nodev"} <= set(_mount(_spec(ctr, "v3", "--mount", "type=volume,dst=/data"), "/data")["options"])
    opts = set(_mount(_spec(ctr, "v4", "-v", "pv1:/data:suid,dev,exec"), "/data")["options"])
    assert not opts & {"nosuid", "nodev", "noexec"}
    seen = _mountinfo(ctr, "/data", "-v", "pv1:/data")
    assert {"nosuid", "nodev"} <= seen and "noexec" not in seen


def test_volume_options_in_inspect(ctr: SealpodRunner) -> None:
    """Podman 4.3.1 inspect: Binds keep the user's options first, then rw, rprivate, nosuid, nodev, rbind;
    Mounts show the relabel option as Mode and the propagation apart."""
    ctr.run("create", "--name", "vi", "-v", "pv2:/data:z", IMAGE, "true")
    binds = json.loads(ctr.run("inspect", "--format", "{{json .HostConfig.Binds}}", "vi").stdout)
    assert binds == ["pv2:/data:z,rw,rprivate,nosuid,nodev,rbind"]
    mount = json.loads(ctr.run("inspect", "--format", "{{json .Mounts}}", "vi").stdout)[0]
    assert (mount["Mode"], mount["Options"], mount["Propagation"]) == ("z", ["nosuid", "nodev", "rbind"], "rprivate")
    ctr.run("rm", "vi")


def test_bind_keeps_its_filesystems_nosuid_nodev_noexec(ctr: SealpodRunner, nosuid_dir: Path) -> None:
    """Podman 4.3.1: a bind mount inherits nosuid/nodev/noexec from its source's filesystem, so that
    :ro (a remount) does not lift them; an explicit exec/suid/dev wins."""
    opts = _mount(_spec(ctr, "b1", "-v", f"{nosuid_dir}:/data:ro"), "/data")["options"]
    assert {"nosuid", "nodev", "noexec", "ro", "rbind", "rprivate"} <= set(opts)
    opts = _mount(_spec(ctr, "b2", "-v", f"{nosuid_dir}:/data:exec"), "/data")["options"]
    assert "noexec" not in opts and {"exec", "nosuid", "nodev"} <= set(opts)
    assert {"ro", "nosuid", "nodev", "noexec"} <= _mountinfo(ctr, "/data", "-v", f"{nosuid_dir}:/data:ro")
    ctr.run("create", "--name", "bi", "-v", f"{nosuid_dir}:/data:ro,exec", IMAGE, "true")
    binds = json.loads(ctr.run("inspect", "--format", "{{json .HostConfig.Binds}}", "bi").stdout)
    assert binds == [f"{nosuid_dir}:/data:ro,exec,rprivate,nosuid,nodev,rbind"]
    ctr.run("rm", "bi")


def test_plain_bind_on_an_ordinary_filesystem_gets_no_extra_flags(ctr: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1: -v /host:/data on a suid/dev/exec filesystem is just rbind,rw,rprivate."""
    opts = set(_mount(_spec(ctr, "b3", "-v", f"{tmp_path}:/data"), "/data")["options"])
    assert opts == {"rbind", "rw", "rprivate"}


@pytest.mark.parametrize(("option", "expected"), [("rshared", "shared"), ("shared", "shared"),
                                                  ("rslave", "rslave"), ("slave", "rslave")])
def test_shared_or_slave_bind_sets_rootfs_propagation(ctr: SealpodRunner, tmp_path: Path, option: str,
                                                      expected: str) -> None:
    """Podman 4.3.1: a (r)shared bind makes the root shared, a (r)slave one rslave; else none is set."""
    spec = _spec(ctr, f"p-{option}", "-v", f"{tmp_path}:/data:{option}")
    assert spec["linux"]["rootfsPropagation"] == expected


def test_no_rootfs_propagation_without_shared_mounts(ctr: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 leaves linux.rootfsPropagation out for private mounts."""
    assert "rootfsPropagation" not in _spec(ctr, "p-none", "-v", f"{tmp_path}:/data")["linux"]


def test_engine_files_are_plain_binds_and_containerenv_writable(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: /etc/hosts, /etc/hostname, /etc/resolv.conf and /run/.containerenv are bind,rprivate
    (the container may write its .containerenv too)."""
    spec = _spec(ctr, "f1")
    for dest in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv"):
        assert _mount(spec, dest)["options"] == ["bind", "rprivate"]
    ctr.run("run", "--rm", IMAGE, "sh", "-c", "echo x >> /run/.containerenv")


def test_read_only_makes_engine_files_read_only(ctr: SealpodRunner) -> None:
    """Podman 4.3.1 --read-only: the engine's bind-mounted files get ro,nosuid,noexec,nodev; with
    --read-only-tmpfs=false /run is no tmpfs and .containerenv is bound (read-only) too."""
    spec = _spec(ctr, "f2", "--read-only", "--read-only-tmpfs=false", "--tz", "UTC")
    assert spec["root"]["readonly"] is True
    for dest in ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv", "/etc/localtime"):
        assert set(_mount(spec, dest)["options"]) == {"bind", "rprivate", "ro", "nosuid", "noexec", "nodev"}
    assert {"ro", "nosuid", "nodev", "noexec"} <= _mountinfo(ctr, "/etc/hosts", "--read-only")
    out = ctr.run("run", "--rm", "--read-only", IMAGE, "sh", "-c", "echo x >> /etc/hosts", check=False)
    assert out.returncode != 0 and "Read-only file system" in out.stderr


def test_containerenv_left_to_a_run_tmpfs(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: with a mount at /run (--tmpfs /run, --read-only's tmpfs) no .containerenv is bound."""
    for flags in (["--tmpfs", "/run"], ["--read-only"], ["--mount", "type=tmpfs,dst=/run"]):
        dests = [m["destination"] for m in _spec(ctr, "ce", *flags)["mounts"]]
        assert "/run/.containerenv" not in dests and "/run" in dests


def test_privileged_non_root_user_gets_no_effective_capabilities(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --privileged --user 1000 has every capability in the bounding set only;
    --cap-add still grants the named ones to the user."""
    caps = _spec(ctr, "c1", "--privileged", "--user", "1000")["process"]["capabilities"]
    assert len(caps["bounding"]) > 30 and not caps.get("effective") and not caps.get("permitted")
    caps = _spec(ctr, "c2", "--privileged", "--user", "1000", "--cap-add", "NET_ADMIN")["process"]["capabilities"]
    assert all(caps[k] == ["CAP_NET_ADMIN"] for k in ("effective", "permitted", "inheritable", "ambient"))
    status = ctr.run("run", "--rm", "--privileged", "--user", "1000", IMAGE, "grep", "CapEff", "/proc/self/status")
    assert status.stdout.split()[1] == "0000000000000000"
    ctr.run("create", "--name", "c3", "--privileged", "--user", "1000", IMAGE, "true")
    assert ctr.run("inspect", "--format", "{{.EffectiveCaps}}", "c3").stdout.strip() == "[]"
    ctr.run("rm", "c3")


def test_root_keeps_all_capabilities_when_privileged(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --privileged as root: bounding, effective and permitted all hold every capability."""
    caps = _spec(ctr, "c4", "--privileged")["process"]["capabilities"]
    assert caps["effective"] == caps["bounding"] == caps["permitted"] and len(caps["bounding"]) > 30


def test_adding_and_dropping_all_caps_is_refused(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --cap-drop ALL --cap-add ALL fails create with its message, exit 125."""
    out = ctr.run("create", "--cap-drop", "all", "--cap-add", "ALL", IMAGE, "true", check=False)
    assert out.returncode == 125
    assert out.stderr.strip() == "Error: adding all caps and removing all caps not allowed"


def test_relative_mask_path_is_skipped_with_an_error_line(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: a mask path that is not absolute is logged and skipped; the rest is masked."""
    ctr.run("rm", "-f", "mk")
    out = ctr.run("create", "--name", "mk", "--security-opt", "mask=/x:unmask=/proc/acpi", IMAGE, "true")
    assert 'level=error msg="Path \\"unmask=/proc/acpi\\" is not an absolute path, skipping..."' in out.stderr
    ctr.run("rm", "mk")
    masked = _spec(ctr, "mk", "--security-opt", "mask=/x:unmask=/proc/acpi")["linux"]["maskedPaths"]
    assert "/x" in masked and "/proc/acpi" in masked and not any(not p.startswith("/") for p in masked)


@pytest.mark.parametrize("kind", ["volume,src=ro-vol", "tmpfs"])
def test_readonly_key_only_for_bind_mounts(ctr: SealpodRunner, kind: str) -> None:
    """Podman 4.3.1: --mount type=volume/tmpfs take ro, not readonly ("readonly: invalid mount option")."""
    out = ctr.run("create", "--mount", f"type={kind},dst=/d,readonly", IMAGE, "true", check=False)
    assert (out.returncode, out.stderr.strip()) == (125, "Error: readonly: invalid mount option")
    cid = ctr.run("create", "--mount", f"type={kind},dst=/d,ro=true", IMAGE, "true").stdout.strip()
    ctr.run("rm", cid)


def test_overlay_volume_is_not_listed_in_inspect(ctr: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 inspect lists no Mounts and no Binds for a -v SRC:DEST:O overlay."""
    ctr.run("create", "--name", "ov", "-v", f"{tmp_path}:/data:O", IMAGE, "true")
    out = ctr.run("inspect", "--format", "{{json .Mounts}} {{json .HostConfig.Binds}}", "ov").stdout.split()
    assert out == ["[]", "[]"]
    ctr.run("rm", "ov")
