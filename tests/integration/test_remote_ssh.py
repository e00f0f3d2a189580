"""The remote client over ssh:// (OpenSSH's client and a real sshd) against a real `sealpod system service`.

The far side is this machine seen through a throw-away sshd on 127.0.0.1: its own host key and
authorized key, its own config (the machine's /etc/ssh is never read), and a private mount
namespace in which /run/sealpod is a directory of the test, holding `sealpod.sock` (a link to the
test service's socket), so that the root default socket and `system connection add`'s discovery
lead to the test service.  The `sealpod` on the far side's PATH is a wrapper running this checkout
on the service's store.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.sealpod import describe, skip_or_fail

SSHD = "/usr/sbin/sshd"
_SCRUBBED = ("CONTAINER_HOST", "CONTAINER_SSHKEY", "CONTAINER_CONNECTION", "SSH_AUTH_SOCK", "TMPDIR")


@dataclass
class FarSide:
    api: ApiService
    base: Path
    port: int
    key: Path
    wrong_key: Path
    host_pub: str
    proc: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return str(self.api.socket_path)

    def url(self, path: str | None = None, port: int | None = None) -> str:
        return f"ssh://root@127.0.0.1:{port or self.port}{self.socket if path is None else path}"

    @property
    def tmpdir(self) -> Path:
        """The client's TMPDIR: where its private tunnel directories go (and must be gone from)."""
        return self.base / "client-tmp"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in self.api.runner.env.items() if k not in _SCRUBBED}
        return {**env, "TMPDIR": str(self.tmpdir), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sealpod-test", "-f", str(path)],
                   check=True, capture_output=True)
    return Path(f"{path}.pub").read_text().strip()


def _write_wrapper(base: Path, api: ApiService) -> Path:
    """The far side's `sealpod`: this checkout, on the service's store and configuration."""
    bindir = base / "bin"
    bindir.mkdir()
    runner = api.runner
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in runner.env.items()
                       if k.startswith(("CONTAINERS_", "SEALPOD_", "XDG_")) or k == "HOME")
    script = bindir / "sealpod"
    script.write_text(f"#!/bin/sh\nexport {exports}\nexec {shlex.quote(sys.executable)} -m sealpod "
                      f"--root {shlex.quote(str(runner.root))} --runroot {shlex.quote(str(runner.runroot))} \"$@\"\n")
    script.chmod(0o755)
    return bindir


def _sshd_config(base: Path, port: int, bindir: Path) -> Path:
    conf = base / "sshd_config"
    conf.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {base / 'host_key'}", f"PidFile {base / 'sshd.pid'}",
        f"AuthorizedKeysFile {base / 'authorized_keys'}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "StrictModes no", "UsePAM no",
        "AllowStreamLocalForwarding yes", "PrintMotd no", "LogLevel VERBOSE",
        f"SetEnv PATH={bindir}:/usr/sbin:/usr/bin:/sbin:/bin", "",
    ]))
    return conf


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited ({proc.returncode}): {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"sshd did not listen in time: {log.read_text()}")


@pytest.fixture(scope="module")
def far(api: ApiService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FarSide]:
    for tool in (SSHD, "ssh", "ssh-keygen", "unshare"):
        if not shutil.which(tool):
            skip_or_fail(f"{tool} is not installed (packages openssh-server, openssh-client)")
    base = tmp_path_factory.mktemp("ssh")
    host_pub = _keygen(base / "host_key")
    user_pub = _keygen(base / "user_key")
    _keygen(base / "wrong_key")
    (base / "authorized_keys").write_text(user_pub + "\n")
    run_dir = base / "far-run"  # the far side's /run/sealpod
    run_dir.mkdir()
    (run_dir / "sealpod.sock").symlink_to(api.socket_path)
    port = _free_port()
    conf = _sshd_config(base, port, _write_wrapper(base, api))
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's compiled-in privilege separation directory
    os.makedirs("/run/sealpod", exist_ok=True)  # the mount point (the machine's own stays untouched)
    log = base / "sshd.log"
    script = f"mount --bind {shlex.quote(str(run_dir))} /run/sealpod && exec {SSHD} -D -e -f {shlex.quote(str(conf))}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
                                stdout=out, stderr=subprocess.STDOUT)
    _wait_for_port(port, proc, log)
    home_ssh = api.runner.home / ".ssh"
    home_ssh.mkdir(mode=0o700, exist_ok=True)
    (home_ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    far = FarSide(api, base, port, base / "user_key", base / "wrong_key", host_pub, proc)
    far.tmpdir.mkdir()
    yield far
    proc.terminate()
    proc.wait(timeout=10)


def sp(far: FarSide, *args: str, env: dict[str, str] | None = None, input: bytes = b"",
       timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`sealpod ARGS` as a client; afterwards no ssh of ours is left, nor a tunnel directory."""
    argv = [sys.executable, "-m", "sealpod", *args]
    raw = subprocess.run(argv, env=env or far.env(), input=input, capture_output=True, timeout=timeout,
                         cwd=far.base)
    res = subprocess.CompletedProcess(argv, raw.returncode, raw.stdout.decode(errors="replace"),
                                      raw.stderr.decode(errors="replace"))
    assert _our_ssh_clients(far) == [], describe(res)
    assert list(far.tmpdir.iterdir()) == [], describe(res)
    return res


def remote(far: FarSide, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return sp(far, "--url", far.url(), "--identity", str(far.key), *args, **kw)  # type: ignore[arg-type]


def _our_ssh_clients(far: FarSide) -> list[str]:
    """ssh clients (not sshd) whose command line names this test's port."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words and os.path.basename(words[0]) == b"ssh" and str(far.port).encode() in words:
            found.append(b" ".join(words).decode(errors="replace"))
    return found


def ok(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 0, describe(res)
    return res.stdout


def one_error(res: subprocess.CompletedProcess[str], *, contains: str) -> str:
    """A failure as the user sees it: exit 125, one `Error:` line (no traceback) that says why."""
    assert res.returncode == 125, describe(res)
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1 and contains in errors[0], describe(res)
    assert "Traceback" not in res.stderr, describe(res)
    return errors[0]


def test_commands_over_ssh(far: FarSide) -> None:
    assert ok(remote(far, "ps", "-a", "--format", "{{.Names}}")) == ""
    assert any(line.endswith("sealtest/tiny:latest")
               for line in ok(remote(far, "images", "--format", "{{.Repository}}:{{.Tag}}")).splitlines())
    assert ok(remote(far, "run", "--rm", "sealtest/tiny", "echo", "over-ssh")) == "over-ssh\n"
    failed = remote(far, "run", "--rm", "sealtest/tiny", "sh", "-c", "echo oops >&2; exit 3")
    assert failed.returncode == 3 and failed.stderr == "oops\n", describe(failed)
    cid = ok(remote(far, "run", "-d", "--name", "sshbox", "sealtest/tiny", "sh", "-c", "echo out1; sleep 60")).strip()
    try:
        assert len(cid) == 64
        deadline = time.monotonic() + 10
        while "out1" not in ok(remote(far, "logs", "sshbox")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ok(remote(far, "logs", "sshbox")) == "out1\n"
        assert ok(remote(far, "ps", "--format", "{{.Names}}")).split() == ["sshbox"]
        assert ok(remote(far, "exec", "-i", "sshbox", "cat", input=b"via-ssh\n")) == "via-ssh\n"
        big = b"y" * 2_000_000  # more than the tunnel's buffers hold
        assert ok(remote(far, "exec", "-i", "sshbox", "wc", "-c", input=big)).strip() == str(len(big))
    finally:
        ok(remote(far, "rm", "-f", "-t", "0", "sshbox"))


def test_container_host_and_container_sshkey(far: FarSide) -> None:
    env = far.env(CONTAINER_HOST=far.url(), CONTAINER_SSHKEY=str(far.key))
    assert "sealtest/tiny" in ok(sp(far, "images", env=env))
    assert "sealtest/tiny" in ok(sp(far, "images", "--url", far.url(), "--identity", str(far.key)))  # flags after
    # without a path, root's default socket over there (/run/sealpod/sealpod.sock: the test service)
    assert "sealtest/tiny" in ok(sp(far, "--url", far.url(path=""), "--identity", str(far.key), "images"))


def test_connection_add_discovers_the_socket(far: FarSide) -> None:
    conf = far.api.runner.containers_conf
    saved = conf.read_text()
    try:
        ok(sp(far, "system", "connection", "add", "--identity", str(far.key), "farbox",
              f"ssh://root@127.0.0.1:{far.port}"))
        dest = tomllib.loads(conf.read_text())["engine"]["service_destinations"]["farbox"]
        assert dest == {"uri": f"ssh://root@127.0.0.1:{far.port}/run/sealpod/sealpod.sock",
                        "identity": str(far.key)}
        assert "sealtest/tiny" in ok(sp(far, "--connection", "farbox", "images"))
        assert ok(sp(far, "--connection", "farbox", "run", "--rm", "sealtest/tiny", "echo", "named")) == "named\n"
        # Podman's short form, with --port and --socket-path: no need to ask the far side
        ok(sp(far, "system", "connection", "add", "--identity", str(far.key), "--port", str(far.port),
              "--socket-path", far.socket, "-d", "short", "root@127.0.0.1"))
        doc = tomllib.loads(conf.read_text())["engine"]
        assert doc["service_destinations"]["short"]["uri"] == f"ssh://root@127.0.0.1:{far.port}{far.socket}"
        assert "sealtest/tiny" in ok(sp(far, "--remote", "images"))  # the default connection now
        refused = sp(far, "system", "connection", "add", "--identity", str(far.wrong_key), "nope",
                     f"ssh://root@127.0.0.1:{far.port}")
        one_error(refused, contains="unable to authenticate")
        assert "nope" not in conf.read_text()
    finally:
        conf.write_text(saved)


def test_connection_errors(far: FarSide) -> None:
    wrong = sp(far, "--url", far.url(), "--identity", str(far.wrong_key), "ps")
    one_error(wrong, contains="unable to authenticate")
    assert wrong.stdout == ""
    one_error(sp(far, "--url", far.url(port=_free_port()), "--identity", str(far.key), "ps"),
              contains="connection refused")
    missing = sp(far, "--url", far.url(path="/run/no/such.sock"), "--identity", str(far.key), "ps")
    one_error(missing, contains="/run/no/such.sock")
    assert missing.stderr.startswith("Cannot connect to Podman."), describe(missing)
    one_error(sp(far, "--url", far.url(), "--identity", str(far.base / "no-key"), "ps"), contains="no-key")


def test_host_keys_trust_on_first_use(far: FarSide, tmp_path: Path) -> None:
    """An unknown host is remembered (as Podman's client does); a changed key is refused."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = far.env(HOME=str(home))
    assert "sealtest/tiny" in ok(sp(far, "--url", far.url(), "--identity", str(far.key), "images", env=env))
    assert far.host_pub.split()[1] in (home / ".ssh" / "known_hosts").read_text()
    other = far.base / "wrong_key.pub"
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{far.port} {other.read_text().strip()}\n")
    one_error(sp(far, "--url", far.url(), "--identity", str(far.key), "images", env=env), contains="key mismatch")


def test_interrupt_reaches_the_remote_command_and_ssh_goes(far: FarSide) -> None:
    import signal

    ok(remote(far, "run", "-d", "--name", "sshticker", "sealtest/tiny", "sh", "-c", "echo tick; sleep 60"))
    argv = [sys.executable, "-m", "sealpod", "--url", far.url(), "--identity", str(far.key), "logs", "-f",
            "sshticker"]
    proc = subprocess.Popen(argv, env=far.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"tick\n"
        os.killpg(proc.pid, signal.SIGINT)  # as ^C on a terminal: to ssh too, which must keep the tunnel
        assert proc.wait(timeout=30) == 130
        assert _our_ssh_clients(far) == [] and list(far.tmpdir.iterdir()) == []
        proc = subprocess.Popen(argv, env=far.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline() == b"tick\n"
        proc.terminate()  # the client alone: it stops its ssh on the way out
        assert proc.wait(timeout=30) == 143
        assert _our_ssh_clients(far) == [] and list(far.tmpdir.iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        ok(remote(far, "rm", "-f", "-t", "0", "sshticker"))
