"""ssh:// connections, carried by the OpenSSH client (sealpod never speaks ssh itself).

For one remote command, ``ssh -N -L LOCAL:REMOTE`` forwards the service's unix socket on the far
host to a socket in a private (0700) directory here; the client then speaks to that socket exactly
as it does to a ``unix://`` one, and stops ssh and removes the directory when the command ends.
A stdio bridge (``ssh -W``) would spare the local socket, but OpenSSH's ``-W`` only reaches TCP
ports, and a ``dial-stdio`` helper would have to exist on the far side.

Policy, as Podman 4.3's built-in client has it: ``BatchMode`` (a password or passphrase prompt
would hang a script: keys come from ``--identity``, ``CONTAINER_SSHKEY``, the connection's
Identity, the agent or ssh's defaults), and trust on first use: an unknown host key is added to
known_hosts, a changed one is refused.  Podman reads ``$HOME/.ssh/known_hosts``; OpenSSH reads the
passwd entry's home, so that file is named explicitly when ``$HOME`` points elsewhere.
ssh's own diagnostics are kept in a file and shown only, reworded as Podman words them, when
something fails.
"""

from __future__ import annotations

import os
import sys

from sealpod.errors import CommandFailed, InvalidArgument, RemoteError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    import subprocess
    from collections.abc import Mapping
    from typing import Any

    from sealpod.engine.connections import RemoteURI

CONNECT_TIMEOUT = 30  # seconds for ssh to reach the host and log in
ROOT_SOCKET = "/run/sealpod/sealpod.sock"  # `sealpod system service`'s default for root
SOCKET_QUERY = "sealpod info --format '{{.Host.RemoteSocket.Path}}'"
_CANNOT_CONNECT = ("Cannot connect to Podman. Please verify your connection to the Linux system using "
                   "`sealpod system connection list`\n")  # Podman's first line, which scripts match


def ssh_argv(uri: RemoteURI, identity: str, env: Mapping[str, str]) -> list[str]:
    """The ssh command line up to the host (options, then ``--``, then the host)."""
    argv = ["ssh",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=accept-new",
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
            "-o", "ControlPath=none",  # a shared master would outlive the command
            "-a", "-x", "-T"]  # fmt: skip
    known_hosts = _known_hosts(env)
    if known_hosts:
        argv += ["-o", f'UserKnownHostsFile="{known_hosts}"']
    if identity:
        argv += ["-i", identity, "-o", "IdentitiesOnly=yes"]
    if uri.port and uri.port != 22:
        argv += ["-p", str(uri.port)]
    if uri.user:
        argv += ["-l", uri.user]
    return [*argv, "--", uri.host]


def _known_hosts(env: Mapping[str, str]) -> str:
    """``$HOME/.ssh/known_hosts`` when ``$HOME`` is not the home OpenSSH would use anyway."""
    import pwd

    home = env.get("HOME", "")
    try:
        own = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        own = ""
    if not home or os.path.realpath(home) == os.path.realpath(own or "/"):
        return ""
    return os.path.join(home, ".ssh", "known_hosts")


def check_identity(identity: str) -> str:
    """The identity file as ssh should get it; a missing one is named now rather than left to
    ssh's warning and a later "unable to authenticate"."""
    if not identity:
        return ""
    path = os.path.abspath(os.path.expanduser(identity))
    if not os.path.isfile(path):
        raise InvalidArgument(f"failed to parse identity {identity!r}: open {path}: no such file or directory")
    return path


def ssh_failure(uri: RemoteURI, log: str) -> RemoteError:
    """ssh's diagnostics (exit status 255) as one line, in the words of Podman's own client."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip() and not ln.startswith(("Warning:", "debug"))]
    text = "\n".join(lines)
    where = f"{uri.host}:{uri.port or 22}"
    if "Permission denied" in text:
        methods = text.split("Permission denied (", 1)[1].split(")", 1)[0].replace(",", " ")
        return RemoteError(f"failed to connect: ssh: handshake failed: ssh: unable to authenticate, attempted "
                           f"methods [none {methods}], no supported methods remain")
    if "IDENTIFICATION HAS CHANGED" in text or ("key for" in text and "has changed" in text):
        return RemoteError("failed to connect: ssh: handshake failed: knownhosts: key mismatch")
    if "Host key verification failed" in text:
        return RemoteError("failed to connect: ssh: handshake failed: knownhosts: key is unknown")
    if "Could not resolve hostname" in text:
        return RemoteError(f"failed to connect: dial tcp: lookup {uri.host}: no such host")
    for reason in ("Connection refused", "Connection timed out", "No route to host", "Network is unreachable"):
        if reason in text:
            return RemoteError(f"failed to connect: dial tcp {where}: connect: {reason.lower()}")
    detail = lines[-1] if lines else "ssh exited without saying why"
    return RemoteError(f"failed to connect: ssh: {detail}")


def run_on_host(uri: RemoteURI, identity: str, env: Mapping[str, str], command: str,
                timeout: float = 2 * CONNECT_TIMEOUT) -> str:
    """Run one shell command on the far host; its stdout (errors as RemoteError)."""
    from sealpod.utils.proc import run

    try:
        res = run([*ssh_argv(uri, identity, env), command], check=False, env=env, timeout=timeout)
    except CommandFailed as e:
        if e.returncode == 127:
            raise RemoteError("failed to connect: the ssh client is not installed (package openssh-client)") from e
        raise RemoteError(f"failed to connect: ssh to {uri.host}: {e.stderr or e}") from e
    err = res.stderr.decode(errors="replace")
    if res.returncode == 255:
        raise ssh_failure(uri, err)
    if res.returncode != 0:
        last = [ln for ln in err.splitlines() if ln.strip()]
        raise RemoteError(f"{command.split()[0]} on {uri.host} failed (exit status {res.returncode})"
                          + (f": {last[-1].strip()}" if last else ""))
    return res.stdout.decode(errors="replace")


def remote_socket(uri: RemoteURI, identity: str, env: Mapping[str, str]) -> str:
    """The service socket sealpod uses by default on the far host, as its ``info`` reports it
    (Podman's ``system connection add`` asks ``podman info`` the same question)."""
    out = run_on_host(uri, identity, env, SOCKET_QUERY)
    path = out.strip().splitlines()[-1].strip() if out.strip() else ""
    path = path.removeprefix("unix://")
    if not path.startswith("/"):
        raise RemoteError(f"sealpod on {uri.host} did not report its socket path (got {out.strip()!r}): "
                          "give it with --socket-path")
    return path


def default_socket(uri: RemoteURI, identity: str, env: Mapping[str, str]) -> str:
    """For ``ssh://host`` without a path: root's service socket is known; another user's depends
    on that user's runtime directory over there, so the far side is asked."""
    if uri.user == "root" or (not uri.user and os.geteuid() == 0):
        return ROOT_SOCKET
    return remote_socket(uri, identity, env)


class Tunnel:
    """One ``ssh -N -L`` forwarding, for the life of one remote command."""

    def __init__(self, uri: RemoteURI, identity: str, env: Mapping[str, str]) -> None:
        import tempfile

        self.uri = uri
        self.identity = check_identity(identity)
        self.env = env
        self.remote = uri.path if uri.path.startswith("/") and uri.path != "/" else ""
        self.dir = tempfile.mkdtemp(prefix="sealpod-ssh-")  # 0700: the socket is for this user only
        self.local = os.path.join(self.dir, "s.sock")
        self.log_path = os.path.join(self.dir, "ssh.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self._handlers: dict[int, Any] = {}

    def __enter__(self) -> Tunnel:
        """Being terminated or hung up on ends the command as an exception would, so that ssh is
        stopped and the directory removed (only SIGKILL leaves them behind)."""
        import signal

        def leave(signum: int, frame: object) -> None:
            raise SystemExit(128 + signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._handlers[sig] = signal.signal(sig, leave)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> socket.socket:
        """Start ssh, wait for the forwarded socket, and connect to it."""
        import socket

        if not self.remote:
            self.remote = default_socket(self.uri, self.identity, self.env)
        self._start()
        self._wait()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.local)
        except OSError as e:
            sock.close()
            raise RemoteError(f"unable to connect to sealpod socket: ssh tunnel {self.local}: "
                              f"{(e.strerror or str(e)).lower()}") from e
        return sock

    def _start(self) -> None:
        import signal

        from sealpod.utils.proc import spawn

        argv = ssh_argv(self.uri, self.identity, self.env)
        host = argv[-2:]  # "--", host
        argv = [*argv[:-2], "-N",
                "-o", "ExitOnForwardFailure=yes",
                "-o", "StreamLocalBindUnlink=yes",
                "-o", "StreamLocalBindMask=0177",
                "-L", f"{self.local}:{self.remote}",
                *host]  # fmt: skip
        # ^C is the remote command's (the relay forwards it): ssh keeps the tunnel up meanwhile.
        # ssh leaves an inherited SIG_IGN in place, so ignoring it across the fork is enough.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with open(self.log_path, "wb") as log:
                self.proc = spawn(argv, stdout=log, stderr=log, env=self.env)
        except CommandFailed as e:
            raise RemoteError("failed to connect: the ssh client is not installed (package openssh-client)") from e
        finally:
            signal.signal(signal.SIGINT, previous)

    def _wait(self) -> None:
        import time

        assert self.proc is not None
        deadline = time.monotonic() + 2 * CONNECT_TIMEOUT + 5
        delay = 0.005
        while not os.path.exists(self.local):
            if self.proc.poll() is not None:
                raise ssh_failure(self.uri, self.log())
            if time.monotonic() > deadline:
                raise RemoteError(f"failed to connect: ssh to {self.uri.host}: timed out after "
                                  f"{int(2 * CONNECT_TIMEOUT + 5)}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def explain(self, error: RemoteError) -> RemoteError:
        """Why the service hung up right away: a failed channel (no socket there) or ssh gone."""
        import time

        for _ in range(20):  # ssh logs the refusal as it closes our end: give it a moment to land
            log = self.log()
            if "open failed" in log:
                reason = log.split("open failed:", 1)[1].strip().splitlines()[0].removeprefix("connect failed: ")
                sys.stderr.write(_CANNOT_CONNECT)
                return RemoteError(f"unable to connect to sealpod socket: ssh: rejected: connect failed ({reason}): "
                                   f"is the service listening on {self.remote} on {self.uri.host}?")
            if self.proc is not None and self.proc.poll() is not None:
                return ssh_failure(self.uri, log)
            time.sleep(0.025)
        return error

    def close(self) -> None:
        """Stop ssh and remove the private directory (with the socket and ssh's log)."""
        import shutil
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._handlers:
            import signal

            for sig, handler in self._handlers.items():
                signal.signal(sig, handler)
            self._handlers.clear()
