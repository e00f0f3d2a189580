"""netavark (bridges, veths, iptables rules, port forwarding) and, through it, aardvark-dns.

Driven as Podman drives them: one ``setup``/``teardown`` per container with its options as JSON
on stdin; netavark starts aardvark-dns for the first container of a DNS-enabled network, updates
its config for the next ones and stops it after the last.

netavark 1.4 starts aardvark-dns with ``systemd-run --scope`` when ``/run/systemd/system``
exists and ``systemd-run`` is on its PATH.  That directory is left behind on machines where
systemd is not PID 1, and ``systemd-run`` then fails, taking DNS with it.  So unless systemd
really runs the machine, netavark gets a PATH without ``systemd-run`` and starts aardvark-dns
itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from sealpod.errors import CommandFailed, NetworkError
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_SEARCH_DIRS = ("/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman")
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_helper(name: str, dirs: Sequence[str] = ()) -> str:
    """containers.conf's ``helper_binaries_dir`` first, then Podman's usual places, then PATH."""
    for d in (*dirs, *_SEARCH_DIRS):
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if not found:
        raise NetworkError(f"could not find {name} in $PATH or the helper binary directories: "
                           f"install {name}")
    return found


def helper_path(path: str, systemd_running: bool) -> str:
    """``path`` minus the directories holding ``systemd-run`` when systemd does not run the machine,
    plus the sbin directories a user's PATH often lacks (after ``su -``): netavark runs iptables from there."""
    dirs = [d for d in path.split(":") if d]
    dirs += [d for d in ("/usr/local/sbin", "/usr/sbin", "/sbin") if d not in dirs]
    if systemd_running:
        return ":".join(dirs)
    return ":".join(d for d in dirs if not os.path.exists(os.path.join(d, "systemd-run")))


@dataclass(frozen=True)
class Interface:
    """One interface netavark made in the container: ``eth0``, its MAC and addresses (CIDR form)."""

    name: str
    mac_address: str
    addresses: tuple[str, ...] = ()  # 10.88.0.2/16
    gateways: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkResult:
    """netavark's status block for one network."""

    network: str
    interfaces: tuple[Interface, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()


@dataclass
class Netavark:
    binary: str
    aardvark: str
    config_dir: Path  # aardvark-dns keeps its per-network files and PID file here: the run root
    env: Mapping[str, str] = field(default_factory=dict)
    systemd_running: bool = False
    # netavark 1.4 races with itself on shared iptables chains (``CHAIN_USER_ADD failed (File
    # exists)``) and on aardvark's config: every call holds this lock.  Chains are named after the
    # network, and stores with other roots share the default one, so the lock is host-wide.
    lock_path: Path = Path("/run/lock/sealpod-netavark.lock")
    rootless: bool = False
    netns: Path | None = None  # rootless: the namespace netavark runs in (network/rootless_netns.py)

    def _argv(self, verb: str, netns: Path) -> list[str]:
        return [self.binary, "--config", os.fspath(self.config_dir), "--rootless", "true" if self.rootless else "false",
                "--aardvark-binary", self.aardvark, verb, os.fspath(netns)]

    def _environ(self) -> dict[str, str]:
        env = {"PATH": helper_path(self.env.get("PATH") or _DEFAULT_PATH, self.systemd_running)}
        for key in ("NETAVARK_FW", "NETAVARK_DNS_PORT", "RUST_LOG", "TMPDIR"):
            if key in self.env:
                env[key] = self.env[key]
        return env

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        path = self.lock_path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # no /run/lock: fall back to this store's own
            fd = os.open(self.config_dir / "netavark.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _call(self, verb: str, netns: Path, options: dict[str, Any]) -> bytes:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            return self._call_unlocked(verb, netns, options)

    def _call_unlocked(self, verb: str, netns: Path, options: dict[str, Any]) -> bytes:
        from sealpod.utils import proc

        try:
            # aardvark-dns, started by netavark, must not hold our pipes open: its output goes to
            # a file (stdout is read back from it), never to a pipe we would wait on.
            import tempfile

            with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                def call() -> Any:
                    return proc.run(self._argv(verb, netns), input=json.dumps(options).encode(), stdout=out,
                                    stderr=err, env=self._environ(), check=False)

                if self.netns is None:
                    result = call()
                else:
                    from sealpod.network.rootless_netns import call_in

                    result = call_in(self.netns, call)
                out.seek(0)
                err.seek(0)
                stdout, stderr = out.read(), err.read()
        except CommandFailed as e:
            raise NetworkError(f"netavark: {e.stderr or e}") from e
        if result.returncode != 0:
            raise NetworkError(f"netavark: {_error_text(stdout, stderr, result.returncode)}")
        return stdout

    def setup(self, netns: Path, options: dict[str, Any]) -> list[NetworkResult]:
        return parse_status(self._call("setup", netns, options))

    def teardown(self, netns: Path, options: dict[str, Any]) -> None:
        self._call("teardown", netns, options)


def _error_text(stdout: bytes, stderr: bytes, code: int) -> str:
    for blob in (stdout, stderr):
        text = blob.decode(errors="replace").strip()
        if not text:
            continue
        try:
            doc = json.loads(text.splitlines()[-1])
        except ValueError:
            return text.splitlines()[-1]
        if isinstance(doc, dict) and doc.get("error"):
            return str(doc["error"])
    return f"exit status {code}"


def parse_status(stdout: bytes) -> list[NetworkResult]:
    """netavark's ``{network: {interfaces: {eth0: {mac_address, subnets: [{ipnet, gateway}]}},
    dns_server_ips, dns_search_domains}}``."""
    try:
        doc = json.loads(stdout or b"{}")
    except ValueError as e:
        raise NetworkError(f"netavark: unreadable output: {e}") from e
    results = []
    for name, block in sorted(doc.items()):
        ifaces = []
        for ifname, iface in sorted((block.get("interfaces") or {}).items()):
            subnets = iface.get("subnets") or []
            ifaces.append(Interface(ifname, iface.get("mac_address", ""),
                                    tuple(s["ipnet"] for s in subnets if s.get("ipnet")),
                                    tuple(s["gateway"] for s in subnets if s.get("gateway"))))
        results.append(NetworkResult(name, tuple(ifaces), tuple(block.get("dns_server_ips") or ()),
                                     tuple(block.get("dns_search_domains") or ())))
    return results


def build_options(container_id: str, container_name: str, networks: Mapping[str, dict[str, Any]],
                  network_info: Mapping[str, dict[str, Any]], port_mappings: Sequence[dict[str, Any]],
                  dns_servers: Sequence[str] = (), hostname: str = "") -> dict[str, Any]:
    """The JSON netavark reads on stdin; ``networks`` holds each network's ``interface_name``,
    ``static_ips``, ``aliases`` and ``static_mac``, ``network_info`` their definitions."""
    opts: dict[str, Any] = {"container_id": container_id, "container_name": container_name,
                            "networks": dict(networks), "network_info": dict(network_info),
                            "port_mappings": list(port_mappings) or None}
    if dns_servers:
        opts["dns_servers"] = list(dns_servers)
    if hostname:
        opts["container_hostname"] = hostname
    return opts
