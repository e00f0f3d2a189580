"""slirp4netns: the network of a rootless container (outbound traffic, DNS, published ports).

A rootless user cannot make veths or firewall rules on the host, so each container gets its
own network namespace (owned by the user's namespace) with a tap device that slirp4netns
turns into ordinary sockets of the user on the host.  Published ports are slirp4netns's host
forwards, added through its API socket.  slirp4netns outlives the command that started it:
its pid is in the container's network state, and teardown kills it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.errors import CommandFailed, InvalidArgument, NetworkError
from sealpod.network import netns
from sealpod.network.portmap import PortMapping
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

CIDR = "10.0.2.0/24"
GUEST_ADDR = "10.0.2.100"
GATEWAY = "10.0.2.2"
DNS = "10.0.2.3"
MTU = 65520
TAP = "tap0"
PORT_HANDLERS = ("rootlesskit", "slirp4netns")  # both forward through slirp4netns's API here


@dataclass(frozen=True)
class SlirpOptions:
    """``--network slirp4netns:cidr=…,enable_ipv6=…,mtu=…,allow_host_loopback=…,outbound_addr=…``."""

    cidr: str = CIDR
    enable_ipv6: bool = False
    allow_host_loopback: bool = False
    mtu: int = MTU
    outbound_addr: str = ""
    outbound_addr6: str = ""
    port_handler: str = "rootlesskit"
    binary: str = ""  # containers.conf's network_cmd_path (--network-cmd-path); "": slirp4netns from PATH

    @property
    def guest_addr(self) -> str:
        return self._host(100)

    @property
    def gateway(self) -> str:
        return self._host(2)

    @property
    def dns(self) -> str:
        return self._host(3)

    def _host(self, n: int) -> str:
        import ipaddress

        return str(ipaddress.ip_network(self.cidr, strict=False).network_address + n)

    @classmethod
    def parse(cls, text: str) -> SlirpOptions:
        """The options after ``slirp4netns:``, checked with Podman's messages."""
        import ipaddress

        fields: dict[str, Any] = {}
        for item in (i for i in text.split(",") if i):
            key, _, value = item.partition("=")
            if key == "cidr":
                try:
                    net = ipaddress.IPv4Network(value, strict=False)
                except ValueError:
                    raise InvalidArgument(f'invalid cidr "{value}"') from None
                fields["cidr"] = str(net)
            elif key in ("enable_ipv6", "allow_host_loopback"):
                if value not in ("true", "false"):
                    raise InvalidArgument(f'invalid value of {key} for slirp4netns: "{value}"')
                fields[key] = value == "true"
            elif key == "mtu":
                if not value.isdigit():
                    raise InvalidArgument(f'invalid mtu "{value}"')
                fields["mtu"] = int(value)
            elif key in ("outbound_addr", "outbound_addr6"):
                fields[key] = value
            elif key == "port_handler":
                if value not in PORT_HANDLERS:
                    raise InvalidArgument(f'unknown port_handler for slirp4netns: "{value}"')
                fields[key] = value
            else:
                raise InvalidArgument(f'unknown option for slirp4netns: "{item}"')
        return cls(**fields)


def unprivileged_port_start(path: Path = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")) -> int:
    """The lowest port the host lets an ordinary user listen on."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 1024


def check_host_ports(ports: Sequence[PortMapping], start: int | None = None) -> None:
    """Refuse host ports the user may not bind, with the advice Podman gives."""
    start = unprivileged_port_start() if start is None else start
    for m in ports:
        if 0 < m.host_port < start:
            raise NetworkError(
                f"rootlessport cannot expose privileged port {m.host_port}, you can add "
                f"'net.ipv4.ip_unprivileged_port_start={m.host_port}' to /etc/sysctl.conf (currently {start}), "
                f"or choose a larger port number (>= {start}): listen {m.protocol} "
                f"{m.host_ip or '0.0.0.0'}:{m.host_port}: bind: permission denied")


def _wait_ready(read_fd: int, timeout: float) -> bool:
    import select

    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            return os.read(read_fd, 1) == b"1"
    return False


def _option_args(opts: SlirpOptions) -> list[str]:
    args = [f"--mtu={opts.mtu}", f"--cidr={opts.cidr}"]
    args += [] if opts.allow_host_loopback else ["--disable-host-loopback"]
    args += ["--enable-ipv6"] if opts.enable_ipv6 else []
    args += [f"--outbound-addr={opts.outbound_addr}"] if opts.outbound_addr else []
    return args + ([f"--outbound-addr6={opts.outbound_addr6}"] if opts.outbound_addr6 else [])


def start(netns_path: Path, api_socket: Path, log: Path, timeout: float = 10,
          opts: SlirpOptions | None = None) -> int:
    """Run slirp4netns for ``netns_path`` (configured: tap0 up with cidr's .100, lo up); its pid."""
    from sealpod.utils.proc import spawn

    api_socket.unlink(missing_ok=True)
    if opts is not None and opts.enable_ipv6:
        from sealpod.network.netns import set_sysctl

        set_sysctl(netns_path, "net.ipv6.conf.default.accept_dad", "0")
    binary = (opts.binary if opts is not None else "") or "slirp4netns"
    if os.sep in binary and not os.access(binary, os.X_OK):  # Podman's check of a configured path, and its 127
        from sealpod.errors import ExecutableNotFound

        raise ExecutableNotFound(f"checking slirp4netns binary {binary}: fork/exec {binary}: no such file or "
                                 "directory")
    read_fd, write_fd = os.pipe()
    argv = [binary, "--configure", *_option_args(opts or SlirpOptions()),
            f"--ready-fd={write_fd}", f"--api-socket={api_socket.name}", "--netns-type=path", os.fspath(netns_path),
            TAP]
    try:
        with open(log, "ab") as out:  # a relative socket path: a unix socket's path is limited to 107 bytes
            proc = spawn(argv, stdout=out, stderr=out, pass_fds=(write_fd,), start_new_session=True,
                         cwd=api_socket.parent)
        os.close(write_fd)
        write_fd = -1
        if not _wait_ready(read_fd, timeout):
            proc.kill()
            proc.wait()
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise NetworkError(f"setting up slirp4netns: {tail[0] if tail else 'it did not get ready'}")
    except CommandFailed as e:
        raise NetworkError(f"setting up slirp4netns: {e}") from None
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    proc.returncode = 0  # it outlives this command on purpose: no "still running" warning
    return proc.pid


def _api(api_socket: Path, request: dict[str, Any]) -> dict[str, Any]:
    """One request; the socket is reached through its directory's fd (long run roots overflow sun_path)."""
    dir_fd = os.open(api_socket.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(f"/proc/self/fd/{dir_fd}/{api_socket.name}")
            return _exchange(s, request)
    finally:
        os.close(dir_fd)


def _exchange(s: socket.socket, request: dict[str, Any]) -> dict[str, Any]:
    s.sendall(json.dumps(request).encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    answer: dict[str, Any] = json.loads(data or b"{}")
    return answer


def add_ports(api_socket: Path, ports: Sequence[PortMapping], guest_addr: str = GUEST_ADDR) -> None:
    """Forward each published host port to the container's address."""
    for m in ports:
        for i in range(m.range):
            request = {"execute": "add_hostfwd", "arguments": {
                "proto": m.protocol, "host_addr": m.host_ip or "0.0.0.0", "host_port": m.host_port + i,
                "guest_addr": guest_addr, "guest_port": m.container_port + i}}
            answer = _api(api_socket, request)
            if "error" in answer:
                desc = answer["error"].get("desc", answer["error"]) if isinstance(answer["error"], dict) else ""
                raise NetworkError(f"cannot expose port {m.host_port + i}/{m.protocol} with slirp4netns: {desc}")


def setup(netns_path: Path, work_dir: Path, ports: Sequence[PortMapping],
          opts: SlirpOptions | None = None, source: str | None = None) -> dict[str, Any]:
    """A netns with slirp4netns behind it and the ports forwarded; the state teardown needs."""
    opts = opts or SlirpOptions()
    check_host_ports(ports)
    work_dir.mkdir(parents=True, exist_ok=True)
    netns.create(netns_path, source)  # source: the container's own, made by the runtime
    api_socket = work_dir / "slirp.sock"
    pid = 0
    try:
        pid = start(netns_path, api_socket, work_dir / "slirp.log", opts=opts)
        add_ports(api_socket, ports, opts.guest_addr)
    except BaseException:
        teardown({"netns": os.fspath(netns_path), "slirp_pid": pid})
        raise
    prefix = opts.cidr.rpartition("/")[2]
    interface = {"name": TAP, "addresses": [f"{opts.guest_addr}/{prefix}"], "gateways": [opts.gateway],
                 "mac_address": ""}
    return {"mode": "slirp4netns", "netns": os.fspath(netns_path), "slirp_pid": pid,
            "api_socket": os.fspath(api_socket), "ports": [p.to_netavark() for p in ports], "options": {},
            "results": [{"network": "slirp4netns", "interfaces": [interface], "dns_servers": [opts.dns]}]}


def teardown(state: dict[str, Any]) -> None:
    """Stop slirp4netns (it may be gone already) and remove the netns."""
    pid = int(state.get("slirp_pid") or 0)
    if pid > 0 and _is_slirp(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    if state.get("netns"):
        netns.remove(Path(state["netns"]))
    if state.get("api_socket"):
        import shutil

        shutil.rmtree(Path(state["api_socket"]).parent, ignore_errors=True)


def _is_slirp(pid: int) -> bool:
    """Pids get reused: only a process that is slirp4netns is ours to kill."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"slirp4netns")
    except OSError:
        return False
