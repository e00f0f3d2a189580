"""Three gaps to Podman 4.3.1: warnings in logrus's shape (and hidden by ``--log-level error``),
a pod's static IPv6 address in inspect (and the pod's name in DNS, not in the aliases), and
storage.conf's ``auto-userns-min-size`` / ``auto-userns-max-size`` for ``--userns=auto``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import pty
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealpod.config.paths import SystemDirs
from sealpod.config.storage_conf import load_storage_conf
from sealpod.errors import ConfigError
from sealpod.utils import logrus
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"
PIPED = r'time="[0-9T:-]+(Z|[+-]\d\d:\d\d)" level={level} msg={msg}'
KERNEL_MEMORY = "The --kernel-memory flag is no longer supported. This flag is a noop."


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("misc-gaps"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-fa", "-t", "0", check=False)


def _lines(stderr: str, level: str, msg: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if re.fullmatch(PIPED.format(level=level, msg=re.escape(msg)), ln)]


# --- warnings ------------------------------------------------------------------------------------

def test_kernel_memory_warning_is_logrus_shaped_and_filtered_by_log_level(ctr: SealpodRunner) -> None:
    """Podman's ``logrus.Warnf`` for --kernel-memory: a ``level=warning`` line on a pipe; none with
    --log-level error; after the "filtering at log level info" line at info level."""
    out = ctr.run("run", "--rm", "--kernel-memory", "1m", IMAGE, "true")
    assert _lines(out.stderr, "warning", json.dumps(KERNEL_MEMORY)), out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    quiet = ctr.run("--log-level", "error", "run", "--rm", "--kernel-memory", "1m", IMAGE, "true")
    assert quiet.stderr == ""
    info = ctr.run("--log-level", "info", "run", "--rm", "--kernel-memory", "1m", IMAGE, "true").stderr.splitlines()
    assert "level=info" in info[0] and "filtering at log level info" in info[0]
    assert _lines("\n".join(info), "warning", json.dumps(KERNEL_MEMORY)), info


def test_engine_warning_of_stop_timeout_is_logrus_shaped(ctr: SealpodRunner) -> None:
    """Podman: "StopSignal SIGTERM failed to stop container NAME in 1 seconds, resorting to SIGKILL",
    through logrus (it printed bare at the default level); hidden by --log-level error."""
    ctr.run("run", "-d", "--name", "stubborn", IMAGE, "sleep", "100")  # PID 1 ignores SIGTERM
    try:
        out = ctr.run("stop", "-t", "1", "stubborn")
        msg = '"StopSignal SIGTERM failed to stop container stubborn in 1 seconds, resorting to SIGKILL"'
        assert _lines(out.stderr, "warning", msg), out.stderr
        ctr.run("start", "stubborn")
        assert ctr.run("--log-level=error", "stop", "-t", "1", "stubborn").stderr == ""
    finally:
        ctr.run("rm", "-f", "-t", "0", "stubborn")


def test_config_flag_warning_follows_log_level(ctr: SealpodRunner) -> None:
    """Podman warns that --config is ignored, after logging is set up: --log-level error hides it."""
    msg = '"The --config flag is ignored by Podman. Exists for Docker compatibility"'
    assert _lines(ctr.run("--config", "/tmp", "ps", "-q").stderr, "warning", msg)
    assert ctr.run("--log-level", "error", "--config", "/tmp", "ps", "-q").stderr == ""


def test_connection_add_missing_socket_warns_in_podmans_words(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: ``"/path" does not exists`` (sic) as a logrus warning (was a fixed WARN[0000] line)."""
    out = ctr.run("system", "connection", "add", "misc-missing", "unix:///nonexistent/misc.sock")
    try:
        assert _lines(out.stderr, "warning", json.dumps('"/nonexistent/misc.sock" does not exists')), out.stderr
    finally:
        ctr.run("system", "connection", "rm", "misc-missing")


def test_plain_stderr_lines_stay_plain(ctr: SealpodRunner) -> None:
    """Podman prints the discarded-ports notice without logrus: so do we."""
    out = ctr.run("run", "--rm", "--network", "none", "-p", "8080:80", IMAGE, "true")
    assert out.stderr == ("Port mappings have been discarded as one of the Host, Container, Pod, and None network "
                          "modes are in use\n")


def test_network_create_macvlan_flag_is_deprecated(ctr: SealpodRunner) -> None:
    """Podman: hidden --macvlan PARENT warns it is deprecated and makes a macvlan network on PARENT."""
    out = ctr.run("network", "create", "--macvlan", "lo", "--subnet", "10.253.77.0/24", "misc-mv")
    try:
        msg = '"The --macvlan option is deprecated, use `--driver macvlan --opt parent=<device>` instead"'
        assert _lines(out.stderr, "warning", msg), out.stderr
        doc = json.loads(ctr.run("network", "inspect", "misc-mv").stdout)[0]
        assert (doc["driver"], doc["network_interface"]) == ("macvlan", "lo")
    finally:
        ctr.run("network", "rm", "misc-mv", check=False)


def test_warning_on_a_terminal_is_coloured_and_padded(ctr: SealpodRunner) -> None:
    """logrus on a terminal: the level in colour (yellow for warnings), ``[SECONDS]``, the message
    padded to 44 columns and a trailing space."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(ctr.argv("--config", "/tmp", "ps", "-q"), env=ctr.env, cwd=ctr.base,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, timeout=60)
        os.close(follower)
        follower = -1
        text = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert proc.returncode == 0
    line = text.decode().replace("\r\n", "\n")
    assert re.fullmatch(r"\x1b\[33mWARN\x1b\[0m\[\d{4}\] The --config flag is ignored by Podman\. Exists for "
                        r"Docker compatibility \n", line), repr(line)
    short = logrus.line(logrus.INFO, "short", 0.0, tty=True)
    assert short.startswith("\x1b[36mINFO\x1b[0m[") and short.endswith("] short" + " " * 40)


# --- a pod's static IPv6 address -------------------------------------------------------------------

def _netdoc(ctr: SealpodRunner, name: str) -> dict[str, object]:
    return json.loads(ctr.run("inspect", "--format", "{{json .NetworkSettings}}", name).stdout)


def test_pod_with_static_ipv6_shows_it_in_inspect_and_resolves_by_pod_name(ctr: SealpodRunner) -> None:
    """Podman 4.3.1: ``pod create --network N --ip6 ADDR``: inspect of the infra and of a member shows
    the addresses under Networks.N (GlobalIPv6Address, its prefix and gateway), the top-level fields
    stay empty on a network other than the default one, the aliases are the infra's short ID only,
    and the pod's name (not the infra's) resolves on the network."""
    ctr.run("network", "create", "--ipv6", "misc-v6")
    try:
        subnets = json.loads(ctr.run("network", "inspect", "misc-v6").stdout)[0]["subnets"]
        v6 = next(ipaddress.ip_network(s["subnet"]) for s in subnets if ":" in s["subnet"])
        v4 = next(ipaddress.ip_network(s["subnet"]) for s in subnets if ":" not in s["subnet"])
        addr = str(v6.network_address + 5)
        ctr.run("pod", "create", "--name", "misc-p6", "--network", "misc-v6", "--ip6", addr)
        ctr.run("run", "-d", "--pod", "misc-p6", "--name", "misc-p6m", IMAGE, "sleep", "1000")
        infra = ctr.run("pod", "inspect", "--format", "{{.InfraContainerID}}", "misc-p6").stdout.strip()
        for name in (infra, "misc-p6m"):
            doc = _netdoc(ctr, name)
            net = doc["Networks"]["misc-v6"]  # type: ignore[index]
            assert (net["GlobalIPv6Address"], net["GlobalIPv6PrefixLen"]) == (addr, v6.prefixlen), doc
            assert net["IPv6Gateway"] == str(v6.network_address + 1)
            assert ipaddress.ip_address(net["IPAddress"]) in v4 and net["Gateway"] == str(v4.network_address + 1)
            assert net["Aliases"] == [infra[:12]], net
            assert (doc["IPAddress"], doc["GlobalIPv6Address"], doc["Gateway"]) == ("", "", ""), doc
        inside = ctr.run("exec", "misc-p6m", "ip", "-6", "addr", "show", "eth0").stdout
        assert f"inet6 {addr}/{v6.prefixlen}" in inside
        infra_name = ctr.run("inspect", "--format", "{{.Name}}", infra).stdout.strip()

        def lookup(name: str) -> str:
            return ctr.run("run", "--rm", "--network", "misc-v6", IMAGE, "nslookup", name, check=False).stdout

        found = ""
        for _ in range(5):  # aardvark-dns may take a moment on a busy machine
            found = lookup("misc-p6")
            if addr in found:
                break
            time.sleep(1)
        assert addr in found, found
        for name in ("misc-p6m", infra_name):  # netavark knows the infra by the pod's name only
            assert addr not in lookup(name)
    finally:
        ctr.run("pod", "rm", "-f", "-t", "0", "misc-p6", check=False)
        ctr.run("network", "rm", "-f", "misc-v6", check=False)


def test_default_network_fills_the_top_level_fields(ctr: SealpodRunner) -> None:
    """Podman fills NetworkSettings.IPAddress & co. only for a container on the default network alone."""
    ctr.run("run", "-d", "--name", "misc-def", IMAGE, "sleep", "1000")
    ctr.run("network", "create", "misc-other")
    ctr.run("run", "-d", "--name", "misc-oth", "--network", "misc-other", IMAGE, "sleep", "1000")
    try:
        doc = _netdoc(ctr, "misc-def")
        net = doc["Networks"]["podman"]  # type: ignore[index]
        assert doc["IPAddress"] == net["IPAddress"] != "" and doc["Gateway"] == net["Gateway"] != ""
        assert doc["IPPrefixLen"] == net["IPPrefixLen"] == 16 and doc["MacAddress"] == net["MacAddress"]
        other = _netdoc(ctr, "misc-oth")
        assert other["IPAddress"] == "" and other["Networks"]["misc-other"]["IPAddress"] != ""  # type: ignore[index]
        # --network container:X shows X's networks, X's aliases included
        ctr.run("run", "-d", "--name", "misc-join", "--network", "container:misc-oth", IMAGE, "sleep", "1000")
        oth_id = ctr.run("inspect", "--format", "{{.Id}}", "misc-oth").stdout.strip()
        assert _netdoc(ctr, "misc-join")["Networks"] == other["Networks"]
        assert other["Networks"]["misc-other"]["Aliases"] == [oth_id[:12]]  # type: ignore[index]
    finally:
        ctr.run("rm", "-f", "-t", "0", "misc-join", "misc-def", "misc-oth")
        ctr.run("network", "rm", "misc-other")


# --- storage.conf's auto-userns sizes --------------------------------------------------------------

def _needs_containers_subids() -> None:
    if "containers:" not in Path("/etc/subuid").read_text() or "containers:" not in Path("/etc/subgid").read_text():
        pytest.skip("no subordinate ids for the user containers in /etc/subuid and /etc/subgid")


def test_storage_conf_reads_auto_userns_sizes(tmp_path: Path) -> None:
    """containers-storage.conf(5): ``auto-userns-min-size`` / ``auto-userns-max-size`` (uint32,
    defaults 1024 and 65536; 0 is the default); a string or a negative number is refused."""
    conf = tmp_path / "storage.conf"
    env = {"SEALPOD_STORAGE_CONF": str(conf)}
    nowhere = SystemDirs(share_sealpod=tmp_path / "usr", etc_sealpod=tmp_path / "etc")
    conf.write_text("[storage]\ndriver = \"vfs\"\n")
    base = load_storage_conf(env, tmp_path, rootless=False, system_dirs=nowhere)
    assert (base.auto_userns_min_size, base.auto_userns_max_size) == (1024, 65536)
    conf.write_text("[storage.options]\nauto-userns-min-size = 2000\nauto-userns-max-size = 0\n")
    got = load_storage_conf(env, tmp_path, rootless=False, system_dirs=nowhere)
    assert (got.auto_userns_min_size, got.auto_userns_max_size) == (2000, 65536)
    for bad, says in (('"2000"', "expected integer, got string"), ("-5", "-5 is out of range for uint32")):
        conf.write_text(f"[storage.options]\nauto-userns-max-size = {bad}\n")
        with pytest.raises(ConfigError, match=f"auto-userns-max-size: {says}"):
            load_storage_conf(env, tmp_path, rootless=False, system_dirs=nowhere)


def test_userns_auto_takes_sizes_from_storage_conf(ctr: SealpodRunner) -> None:
    """Podman 4.3.1 with auto-userns-min-size=2000 and auto-userns-max-size=3000: --userns=auto gets
    2000 ids, --user 2500 gets 2501, --user 4000 is refused (needs 4001 > 3000), and an explicit
    size= is taken as given even beyond the maximum."""
    _needs_containers_subids()
    conf = Path(ctr.env["SEALPOD_STORAGE_CONF"])
    conf.write_text("[storage.options]\nauto-userns-min-size = 2000\nauto-userns-max-size = 3000\n")
    ctr.make_searchable()
    try:
        def size(*flags: str) -> str:
            return ctr.run("run", "--rm", *flags, IMAGE, "cat", "/proc/self/uid_map").stdout.split()[2]

        assert size("--userns=auto") == "2000"
        assert size("--userns=auto", "--user", "2500") == "2501"
        assert size("--userns=auto:size=5000") == "5000"
        bad = ctr.run("run", "--rm", "--userns=auto", "--user", "4000", IMAGE, "true", check=False)
        assert bad.returncode == 125 and "bigger than the maximum value allowed with userns=auto" in bad.stderr
        assert f"size {chr(39)}{chr(4001)}{chr(39)}" in bad.stderr and f"{chr(39)}{chr(3000)}{chr(39)}" in bad.stderr
        conf.write_text('[storage.options]\nauto-userns-min-size = "x"\n')
        err = ctr.run("run", "--rm", "--userns=auto", IMAGE, "true", check=False)
        assert err.returncode == 125 and "auto-userns-min-size: expected integer, got string" in err.stderr
    finally:
        conf.write_text("")
