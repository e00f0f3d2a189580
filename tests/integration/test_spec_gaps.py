"""Podman 4.3.1's runtime spec as sealpod must generate it where earlier sessions left gaps:
containers.conf's ``seccomp_profile`` as the default profile, ``--userns=auto`` sized for the
user and the image's users (and a user outside the maps refused in Podman's words), the libpod
create API's ``seccomp_policy``/``hostusers``/``resource_limits.unified``, and ``pod clone``'s flags.
Real conmon, runc and overlay mounts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.podman_remote import Remote
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
NO_MKDIR = {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("spec-gaps"), seeded_registry.host) as runner:
        runner.make_searchable()  # containers with id maps of their own reach their root filesystem
        yield runner
        runner.run("pod", "rm", "-fa", "-t", "0", check=False)


def _run(ctr: SealpodRunner, *args: str) -> str:
    ctr.make_searchable()  # again right before: other pytest sessions reset /tmp/pytest-of-root to 0700
    return ctr.run(*args).stdout


def _fails(ctr: SealpodRunner, *args: str, code: int = 125) -> str:
    ctr.make_searchable()
    out = ctr.run(*args, check=False)
    assert out.returncode == code, out.stderr
    assert "Traceback" not in out.stderr
    return out.stderr


def _conf_profile(ctr: SealpodRunner, value: str) -> None:
    """containers.conf's [containers] seccomp_profile, through CONTAINERS_CONF_OVERRIDE ("" to drop it)."""
    if not value:
        ctr.env.pop("CONTAINERS_CONF_OVERRIDE", None)
        return
    path = ctr.base / "seccomp-override.conf"
    path.write_text(f'[containers]\nseccomp_profile = "{value}"\n')
    ctr.env["CONTAINERS_CONF_OVERRIDE"] = os.fspath(path)


@pytest.fixture
def no_mkdir(ctr: SealpodRunner) -> Iterator[Path]:
    profile = ctr.base / "no-mkdir.json"
    profile.write_text(json.dumps(NO_MKDIR))
    _conf_profile(ctr, os.fspath(profile))
    yield profile
    _conf_profile(ctr, "")


def _needs_containers_subids(ctr: SealpodRunner) -> None:
    if "containers:" not in Path("/etc/subuid").read_text() or "containers:" not in Path("/etc/subgid").read_text():
        pytest.skip("no subordinate ids for the user containers in /etc/subuid and /etc/subgid")
    ctr.make_searchable()  # again: other pytest sessions reset /tmp/pytest-of-root to 0700


def _build(ctr: SealpodRunner, tag: str, *lines: str) -> None:
    ctx = ctr.base / f"ctx-{tag.replace('/', '-').replace(':', '-')}"
    ctx.mkdir(exist_ok=True)
    (ctx / "Containerfile").write_text("\n".join([f"FROM {IMAGE}", *lines]) + "\n")
    ctr.run("build", "-q", "-t", tag, os.fspath(ctx))


# --- containers.conf seccomp_profile -----------------------------------------------------------

def test_conf_seccomp_profile_is_the_default(ctr: SealpodRunner, no_mkdir: Path) -> None:
    """Podman 4.3.1: containers.conf's seccomp_profile is every container's profile unless
    --security-opt seccomp= names another (or unconfined); --privileged keeps a non-default one."""
    out = _fails(ctr, "run", "--rm", IMAGE, "mkdir", "/x", code=1)
    assert "Operation not permitted" in out
    ctr.run("run", "--rm", "--security-opt", "seccomp=unconfined", IMAGE, "mkdir", "/x")
    _fails(ctr, "run", "--rm", "--privileged", IMAGE, "mkdir", "/x", code=1)


def test_conf_seccomp_profile_in_config_json_and_kept_from_create(ctr: SealpodRunner, no_mkdir: Path) -> None:
    """Podman 4.3.1: the profile is written to userdata/config.json as given (no architectures
    added), decided at create (a later containers.conf does not change it), and inspect's
    SecurityOpt stays empty (only --security-opt shows there)."""
    ctr.run("create", "--name", "conf-seccomp", IMAGE, "mkdir", "/x")
    try:
        _conf_profile(ctr, "")
        ctr.run("init", "conf-seccomp")
        path = ctr.run("inspect", "--format", "{{.OCIConfigPath}}", "conf-seccomp").stdout.strip()
        assert path.endswith("/userdata/config.json")
        assert json.loads(Path(path).read_text())["linux"]["seccomp"] == NO_MKDIR
        assert ctr.run("inspect", "--format", "{{.HostConfig.SecurityOpt}}", "conf-seccomp").stdout.strip() == "[]"
        assert ctr.run("start", "-a", "conf-seccomp", check=False).returncode == 1
    finally:
        ctr.run("rm", "-f", "conf-seccomp")


def test_conf_seccomp_unconfined_and_missing_profile(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: seccomp_profile = "unconfined" runs without a filter; a profile that cannot be
    opened (there or in --security-opt) fails create with exit 125; info shows the configured path."""
    try:
        _conf_profile(ctr, "unconfined")
        out = ctr.run("run", "--rm", IMAGE, "grep", "Seccomp:", "/proc/self/status").stdout
        assert out.split() == ["Seccomp:", "0"]
        assert ctr.run("info", "--format", "{{.Host.Security.SECCOMPProfilePath}}").stdout.strip() == "unconfined"
        missing = ctr.base / "missing.json"
        _conf_profile(ctr, os.fspath(missing))
        err = _fails(ctr, "create", IMAGE)
        assert f"Error: opening seccomp profile failed: open {missing}: no such file or directory" in err
        _conf_profile(ctr, "")
        err = _fails(ctr, "create", "--security-opt", f"seccomp={missing}", IMAGE)
        assert f"opening seccomp profile failed: open {missing}: no such file or directory" in err
    finally:
        _conf_profile(ctr, "")
    out = ctr.run("run", "--rm", IMAGE, "grep", "Seccomp:", "/proc/self/status").stdout
    assert out.split() == ["Seccomp:", "2"]


# --- --userns=auto sizes -------------------------------------------------------------------------

def test_userns_auto_size_smaller_than_user_refused_at_start(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --userns=auto:size=500 --user 1000 is created, then refused when the spec is
    made: run exits 126, start 125, naming the maps and the unmapped UID (or GID)."""
    _needs_containers_subids(ctr)
    err = _fails(ctr, "run", "--rm", "--userns=auto:size=500", "--user", "1000", IMAGE, "true", code=126)
    assert "container uses ID mappings ([]specs.LinuxIDMapping{specs.LinuxIDMapping{ContainerID:0x0, HostID:0x" in err
    assert ", Size:0x1f4}}), but doesn't map UID 1000" in err
    err = _fails(ctr, "run", "--rm", "--userns=auto:size=500", "--user", "0:1000", IMAGE, "true", code=126)
    assert "but doesn't map GID 1000" in err
    ctr.run("create", "--name", "small-auto", "--userns=auto:size=500", "--user", "1000", IMAGE, "true")
    try:
        err = _fails(ctr, "start", "small-auto")
        assert "unable to start container" in err and "but doesn't map UID 1000" in err
        assert ctr.run("inspect", "--format", "{{.State.Status}}", "small-auto").stdout.strip() == "created"
    finally:
        ctr.run("rm", "-f", "small-auto")
    out = _run(ctr, "run", "--rm", "--userns=auto:size=500", "--user", "499:499", IMAGE, "id", "-u")
    assert out.strip() == "499"


def test_userns_auto_too_big_for_user_refused_at_create(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --userns=auto (no size) needs the user's id plus one ids; beyond 65536 create fails
    (the sizes shown as Go's %q shows a number: the character of that code point)."""
    _needs_containers_subids(ctr)
    err = _fails(ctr, "run", "--rm", "--userns=auto", "--user", "100000", IMAGE, "true")
    assert ("Error: creating container storage: the container needs a user namespace with size '\U000186a1' "
            "that is bigger than the maximum value allowed with userns=auto '\U00010000'") in err


def test_userns_auto_sized_for_image_users(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: --userns=auto covers the image's /etc/passwd users (their largest uid or gid,
    nobody aside) and its files' owners (largest plus one); a passwd user beyond 65536 fails create."""
    _needs_containers_subids(ctr)
    _build(ctr, "localhost/pw-mid", 'RUN echo "mid:x:3000:3001::/:/bin/sh" >> /etc/passwd')
    out = _run(ctr, "run", "--rm", "--userns=auto", "localhost/pw-mid", "cat", "/proc/self/uid_map")
    assert out.split()[2] == "3001"
    _build(ctr, "localhost/file-owner", "RUN touch /owned && chown 5000:5500 /owned")
    out = _run(ctr, "run", "--rm", "--userns=auto", "localhost/file-owner", "cat", "/proc/self/gid_map")
    assert out.split()[2] == "5501"
    _build(ctr, "localhost/pw-high", 'RUN echo "hi:x:70000:70000::/:/bin/sh" >> /etc/passwd')
    err = _fails(ctr, "create", "--userns=auto", "localhost/pw-high")
    assert "the container needs a user namespace with size '\U00011170' that is bigger than the maximum" in err
    out = _run(ctr, "run", "--rm", "--userns=auto:size=2000", "localhost/pw-mid", "cat", "/proc/self/uid_map")
    assert out.split()[2] == "2000"


# --- libpod create API ---------------------------------------------------------------------------

def _create(api: ApiService, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    status, raw = api.request("POST", "/v4.3.1/libpod/containers/create", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})
    return status, json.loads(raw)


def test_libpod_create_seccomp_policy(api: ApiService) -> None:
    """Podman 4.3.1: SpecGenerator.seccomp_policy is --seccomp-policy: a bad one, or "image" for an
    image without a profile label, is a 500 in Podman's words."""
    status, body = _create(api, {"image": IMAGE, "seccomp_policy": "bogus"})
    assert status == 500
    assert body["message"] == 'invalid seccomp policy "bogus": valid policies are ["default" "image"]'
    status, body = _create(api, {"image": IMAGE, "seccomp_policy": "image"})
    assert (status, body["message"]) == (500, "no seccomp policy defined by image")
    status, body = _create(api, {"image": IMAGE, "seccomp_policy": "default"})
    assert status == 201


def test_libpod_create_unified_on_cgroup_v1(api: ApiService) -> None:
    """Podman 4.3.1: resource_limits.unified (where podman-remote sends --cgroup-conf) is refused on
    cgroup v1 with a 500; the top-level "unified" map is ignored."""
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        pytest.skip("cgroup v2 host: the refusal is cgroup v1's")
    status, body = _create(api, {"image": IMAGE, "resource_limits": {"unified": {"memory.high": "1000000"}}})
    assert (status, body["message"]) == (500, "cannot use --cgroup-conf without cgroup v2")
    status, body = _create(api, {"image": IMAGE, "unified": {"memory.high": "1000000"}})
    assert status == 201
    api.runner.run("rm", "-f", str(body["Id"]))


def test_libpod_create_hostusers(api: ApiService) -> None:
    """Podman 4.3.1: SpecGenerator.hostusers adds the host's accounts the image lacks to its /etc/passwd
    (as NAME:*:UID:GID:GECOS:/:/bin/sh)."""
    status, body = _create(api, {"image": IMAGE, "hostusers": ["news"], "command": ["cat", "/etc/passwd"]})
    assert status == 201
    ctr_id = str(body["Id"])
    try:
        out = api.runner.run("start", "-a", ctr_id).stdout
        assert any(line == "news:*:9:9:news:/:/bin/sh" for line in out.splitlines()), out
    finally:
        api.runner.run("rm", "-f", ctr_id)


def test_remote_seccomp_policy_hostuser_cgroup_conf(pr: Remote) -> None:
    """podman-remote 4.3.1's --seccomp-policy, --hostuser and --cgroup-conf reach the service's create."""
    out = pr("run", "--rm", "--hostuser", "news", pr.image, "grep", "^news:", "/etc/passwd")
    assert out.stdout.strip() == "news:*:9:9:news:/:/bin/sh"
    out = pr("create", "--seccomp-policy", "image", pr.image, check=False)
    assert out.returncode == 125 and "Error: no seccomp policy defined by image" in out.stderr
    if not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        out = pr("create", "--cgroup-conf", "memory.high=1000000", pr.image, check=False)
        assert out.returncode == 125 and "cannot use --cgroup-conf without cgroup v2" in out.stderr


# --- pod clone ---------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", [
    ["--ip6", "fd00::5"], ["--ip", "10.88.0.77"], ["--network", "podman"], ["--share", "net"],
    ["--mac-address", "92:d0:c6:0a:29:33"], ["--network-alias", "x"], ["--dns", "1.1.1.1"],
    ["--add-host", "a:1.2.3.4"], ["--no-hosts"], ["--exit-policy", "stop"], ["--infra-image", "x"],
    ["--replace"], ["--pod-id-file", "/tmp/x"], ["--infra=false"], ["--share-parent=false"],
])
def test_pod_clone_has_no_network_flags(ctr: SealpodRunner, flag: list[str]) -> None:
    """Podman 4.3.1: pod clone has none of pod create's network, sharing or infra-image flags:
    "unknown flag", exit 125."""
    err = _fails(ctr, "pod", "clone", *flag, "nosuchpod")
    assert f"Error: unknown flag: {flag[0].split('=')[0]}" in err


def test_pod_clone_short_publish_unknown_and_help(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: ``-p`` is an unknown shorthand of pod clone; --help lists --infra-conmon-pidfile."""
    assert "Error: unknown shorthand flag: 'p' in -p" in _fails(ctr, "pod", "clone", "-p", "80", "x")
    out = ctr.run("pod", "clone", "--help").stdout
    assert "--infra-conmon-pidfile" in out and "--ip6" not in out and "--network" not in out


def test_pod_clone_keeps_network_settings(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: the clone's infra keeps the source's network and published ports."""
    ctr.run("pod", "create", "--network", "podman", "-p", "18099:80", "--name", "netsrc")
    try:
        ctr.run("pod", "clone", "netsrc", "netclone")
        out = ctr.run("pod", "inspect", "--format", "{{json .InfraConfig}}", "netclone").stdout
        infra = json.loads(out)
        assert infra["Networks"] == ["podman"]
        assert infra["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "18099"}]}
    finally:
        ctr.run("pod", "rm", "-f", "netsrc", "netclone", check=False)
