"""The remote client: ``--url``, ``--remote``, ``--connection``, ``CONTAINER_HOST``.

Instead of re-implementing every command over REST, the client forwards its whole command
line to a service's ``POST /sealpod/v1/exec-cli`` (see :mod:`sealpod.api.routes.remote_cli`
for the protocol), which runs it as ``sealpod`` there, with the service's storage; this side
only relays the terminal, stdin, stdout, stderr and the exit status.  ``main`` hands over to
:func:`run_remote` before the command's module is imported, so local start-up pays nothing.

Where the service is (the first that applies): ``--url``, ``--connection NAME``,
``CONTAINER_HOST``, ``CONTAINER_CONNECTION``, the default connection (``active_service`` in
containers.conf), the default socket of ``system service``.  ``ssh://`` addresses are reached
through the OpenSSH client (:mod:`sealpod.cli.ssh_tunnel`).

Files named on the command line are opened by the service.  Over a unix socket (same host,
and the client's working directory is used when it exists there) they just work.  Over
tcp:// and ssh://, ``load -i FILE`` and ``save -o FILE`` are streamed through stdin/stdout by the client;
other local paths (``cp`` host paths, ``--env-file``, ``import FILE``, ``kube play FILE``, a
build context) must exist on the service's machine.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Callable

from sealpod.errors import InvalidArgument, NoSuchConnection, RemoteError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    import socket
    from typing import IO, Any

    from sealpod.cli.ssh_tunnel import Tunnel
    from sealpod.engine.connections import RemoteURI

PATH = "/sealpod/v1/exec-cli"
STDIN, STDOUT, STDERR, EXIT, RESIZE, SIGNAL = 0, 1, 2, 3, 4, 5
SERVED_ENV = "_SEALPOD_SERVED"  # set by the service for the commands it runs for clients
_HEADER = struct.Struct(">BxxxI")

# Global flags that choose storage and runtime: on a service, those are the service's.
STORAGE_FLAGS = {"root": "--root", "runroot": "--runroot", "storage_driver": "--storage-driver",
                 "storage_opt": "--storage-opt", "runtime": "--runtime", "cgroup_manager": "--cgroup-manager",
                 "tmpdir": "--tmpdir", "events_backend": "--events-backend"}
_REMOTE_VALUE_FLAGS = ("--url", "--host", "-H", "--connection", "-c", "--identity")
_REMOTE_BOOL_FLAGS = ("--remote", "-r")
# Commands that read stdin when it is not a terminal, without -i.
_READS_STDIN = frozenset({"load", "image load", "import", "image import", "login", "kube play", "play kube",
                          "secret create", "build", "image build", "cp", "container cp", "volume import"})
_CLIENT_ENV = ("TERM", "COLUMNS", "LINES", "NO_COLOR")


def check_served(parser: argparse.ArgumentParser, client_argv: list[str]) -> None:
    """In a command run for a remote client: refuse the client's storage flags."""
    os.environ.pop(SERVED_ENV, None)  # sealpod processes this command starts are not served ones
    given = parser.parse_args(client_argv)
    for dest, flag in STORAGE_FLAGS.items():
        if hasattr(given, dest):
            raise InvalidArgument(f"the {flag} flag cannot be used with a remote connection: the service decides it")


def served_flag_count(env: dict[str, str] | os._Environ[str]) -> int | None:
    """How many leading words the service put before the client's argv; None: not served."""
    value = env.get(SERVED_ENV)
    if value is None:
        return None
    return int(value) if value.isdigit() else 0


def _strip_remote_flags(before: list[str]) -> tuple[list[str], argparse.Namespace]:
    """The leading global flags to forward, and the remote ones (--url...) parsed."""
    forwarded: list[str] = []
    opts = argparse.Namespace(url=None, connection=None, remote=False, identity=None)
    i = 0
    while i < len(before):
        word = before[i]
        flag, eq, value = word.partition("=")
        if flag in STORAGE_FLAGS.values():
            raise InvalidArgument(f"the {flag} flag cannot be used with a remote connection: the service decides it")
        if flag in _REMOTE_VALUE_FLAGS:
            if not eq:
                i += 1
                value = before[i] if i < len(before) else ""
            dest = {"--connection": "connection", "-c": "connection", "--identity": "identity"}.get(flag, "url")
            setattr(opts, dest, value)
        elif word in _REMOTE_BOOL_FLAGS:
            opts.remote = True
        else:
            forwarded.append(word)
        i += 1
    return forwarded, opts


def resolve_uri(opts: argparse.Namespace, env: dict[str, str] | os._Environ[str]) -> RemoteURI:
    """Where the service is, in the order documented above."""
    return resolve_target(opts, env)[0]


def resolve_target(opts: argparse.Namespace, env: dict[str, str] | os._Environ[str]) -> tuple[RemoteURI, str]:
    """Where the service is, and the ssh identity to reach it with: ``--identity``, else
    ``CONTAINER_SSHKEY``, else the chosen connection's Identity (as Podman's flag defaults)."""
    from sealpod.engine.connections import default_service_uri, merged_connections, parse_uri

    identity = getattr(opts, "identity", None) or env.get("CONTAINER_SSHKEY", "")
    if getattr(opts, "url", None):
        return parse_uri(opts.url), identity
    name = getattr(opts, "connection", None)
    if not name and env.get("CONTAINER_HOST"):
        return parse_uri(env["CONTAINER_HOST"]), identity
    name = name or env.get("CONTAINER_CONNECTION")
    table = merged_connections(env)
    if name:
        conn = table.destinations.get(name)
        if conn is None:
            raise NoSuchConnection(f'failed to resolve active destination: "{name}" service destination not found')
        return parse_uri(conn.uri), identity or conn.identity
    if table.active and table.active in table.destinations:
        conn = table.destinations[table.active]
        return parse_uri(conn.uri), identity or conn.identity
    return parse_uri(default_service_uri(env)), identity


def run_remote(name: str, before: list[str], after: list[str], args: argparse.Namespace | None = None) -> int:
    """Run the command on the service; its exit status is ours."""
    if name == "system service":
        raise InvalidArgument('cannot use command "sealpod system service" with the remote sealpod client')
    forwarded, opts = _strip_remote_flags(before)
    if args is not None:
        for dest in ("url", "connection", "identity"):
            setattr(opts, dest, getattr(opts, dest) or getattr(args, dest, None))
    uri, identity = resolve_target(opts, os.environ)
    if uri.scheme != "ssh":
        return _session(name, forwarded, after, uri, connect(uri))
    from sealpod.cli.ssh_tunnel import Tunnel

    with Tunnel(uri, identity, os.environ) as tunnel:
        return _session(name, forwarded, after, uri, tunnel.connect(), tunnel)


def _session(name: str, forwarded: list[str], after: list[str], uri: RemoteURI, sock: socket.socket,
             tunnel: Tunnel | None = None) -> int:
    """One command on the service over ``sock``; files are streamed unless the service shares our disk."""
    plan = Plan(name, after, uri.scheme != "unix")
    try:
        try:
            rest = handshake(sock, plan.body([*forwarded, *name.split(), *plan.argv]), uri.text)
        except RemoteError as e:
            better = tunnel.explain(e) if tunnel is not None else e
            if better is e:
                raise
            raise better from e
        return Relay(sock, plan).run(rest)
    finally:
        plan.close()
        sock.close()


def _take_option(argv: list[str], names: tuple[str, ...]) -> tuple[list[str], str | None]:
    """Remove ``-o FILE``/``--output=FILE`` from ``argv``; return the rest and FILE."""
    out: list[str] = []
    found = None
    i = 0
    while i < len(argv):
        flag, eq, value = argv[i].partition("=")
        if argv[i] == "--":
            out += argv[i:]
            break
        if flag in names:
            if eq:
                found = value
            elif i + 1 < len(argv):
                found, i = argv[i + 1], i + 1
        else:
            out.append(argv[i])
        i += 1
    return out, found


def _interactive(argv: list[str]) -> bool:
    for word in argv:
        if word == "--":
            return False
        if word in ("-i", "--interactive", "--interactive=true"):
            return True
        if word.startswith("-") and not word.startswith("--") and word[1:].isalpha() and "i" in word:
            return True
    return False


class Plan:
    """What the client relays: terminal or not, stdin or not, and files streamed for tcp:// and ssh://."""

    def __init__(self, name: str, after: list[str], stream_files: bool) -> None:
        self.argv = after
        self.stdin: IO[bytes] | None = None
        self.stdout: IO[bytes] = sys.stdout.buffer
        self._opened: list[IO[bytes]] = []
        if stream_files and name in ("load", "image load"):
            self.argv, path = _take_option(after, ("-i", "--input"))
            if path:
                self.stdin = self._open(path, "rb")
        if stream_files and name in ("save", "image save"):
            self.argv, path = _take_option(after, ("-o", "--output"))
            if path:
                self.stdout = self._open(path, "wb")
        self.tty = self.stdin is None and self.stdout is sys.stdout.buffer and _isatty(0) and _isatty(1)
        if self.stdin is None and (self.tty or _interactive(after) or (name in _READS_STDIN and not _isatty(0))):
            self.stdin = sys.stdin.buffer

    def _open(self, path: str, mode: str) -> IO[bytes]:
        try:
            f: IO[bytes] = open(path, mode)  # noqa: SIM115 - closed by close()
        except OSError as e:
            raise InvalidArgument(f"{path}: {e.strerror or e}") from e
        self._opened.append(f)
        return f

    def body(self, argv: list[str]) -> bytes:
        import json

        rows, cols = terminal_size()
        env = {k: os.environ[k] for k in _CLIENT_ENV if k in os.environ}
        if cols and "COLUMNS" not in env:
            env["COLUMNS"] = str(cols)
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = "/"
        doc = {"argv": argv, "tty": self.tty, "stderr_tty": self.tty and _isatty(2), "stdin": self.stdin is not None,
               "env": env, "size": [rows, cols], "cwd": cwd}
        return json.dumps(doc).encode()

    def close(self) -> None:
        for f in self._opened:
            f.close()


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def terminal_size() -> tuple[int, int]:
    for fd in (1, 0, 2):
        try:
            size = os.get_terminal_size(fd)
            return size.lines, size.columns
        except OSError:
            continue
    return 0, 0


def connect(uri: RemoteURI) -> socket.socket:
    import socket

    try:
        if uri.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(uri.path)
            except OSError:
                sock.close()
                raise
            return sock
        sock = socket.create_connection((uri.host, uri.port), timeout=30)
        sock.settimeout(None)
        return sock
    except OSError as e:
        where = uri.path if uri.scheme == "unix" else f"{uri.host}:{uri.port}"
        sys.stderr.write("Cannot connect to Podman. Please verify your connection to the Linux system using "
                         "`sealpod system connection list`\n")  # Podman's first line, which scripts match
        raise RemoteError(f"unable to connect to sealpod socket: dial {uri.scheme} {where}: connect: "
                          f"{(e.strerror or str(e)).lower()}") from e


def handshake(sock: socket.socket, body: bytes, where: str) -> bytes:
    """Send the request; return what already arrived of the stream once the service said yes."""
    head = (f"POST {PATH} HTTP/1.1\r\nHost: sealpod\r\nUser-Agent: sealpod-remote\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n").encode()
    data = b""
    try:
        sock.sendall(head + body)
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise RemoteError(f"the service at {where} closed the connection")
            data += chunk
    except OSError as e:
        raise RemoteError(f"the service at {where}: {e.strerror or e}") from e
    header, _, rest = data.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    if status in (101, 200):
        return rest
    if status == 404:
        raise RemoteError(f"the service at {where} does not run sealpod commands for remote clients "
                          "(is it a Podman or Docker service?)")
    raise RemoteError(_error_message(sock, header, rest) or f"the service at {where} answered {status}")


def _error_message(sock: socket.socket, header: bytes, rest: bytes) -> str:
    import json

    length = 0
    for line in header.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    try:
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        doc = json.loads(rest[:length] or b"{}")
    except (OSError, ValueError):
        return ""
    return str(doc.get("message", "")) if isinstance(doc, dict) else ""


class Relay:
    """The client's half of a session: frames in, bytes out; stdin, resizes and ^C back."""

    def __init__(self, sock: socket.socket, plan: Plan) -> None:
        import threading

        self.sock = sock
        self.plan = plan
        self.lock = threading.RLock()
        self.interrupts = 0

    def send(self, kind: int, payload: bytes) -> bool:
        try:
            with self.lock:
                self.sock.sendall(_HEADER.pack(kind, len(payload)) + payload)
            return True
        except OSError:
            return False

    def run(self, data: bytes) -> int:
        import threading

        if self.plan.stdin is not None:
            threading.Thread(target=self._pump_stdin, args=(self.plan.stdin,), daemon=True).start()
        restore = self._terminal()
        try:
            return self._receive(data)
        finally:
            restore()

    def _pump_stdin(self, src: IO[bytes]) -> None:
        fd = src.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not self.send(STDIN, data) or not data:
                return

    def _terminal(self) -> Callable[[], None]:
        """Raw mode and SIGWINCH with a terminal; ^C becomes a SIGINT for the remote command without."""
        import signal

        if not self.plan.tty:
            previous = signal.signal(signal.SIGINT, self._on_interrupt)

            def restore_sigint() -> None:
                signal.signal(signal.SIGINT, previous)

            return restore_sigint
        import termios
        import tty

        saved = termios.tcgetattr(0)
        tty.setraw(0, termios.TCSADRAIN)  # keep what was typed already
        old_winch = signal.signal(signal.SIGWINCH, lambda *_: self.send(RESIZE, struct.pack(">HH", *terminal_size())))

        def restore() -> None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
            signal.signal(signal.SIGWINCH, old_winch)

        return restore

    def _on_interrupt(self, signum: int, frame: Any) -> None:
        self.interrupts += 1
        if self.interrupts > 1 or not self.send(SIGNAL, struct.pack(">I", signum)):
            raise KeyboardInterrupt

    def _receive(self, data: bytes) -> int:
        outs = {STDOUT: self.plan.stdout, STDERR: sys.stderr.buffer}
        while True:
            while len(data) >= _HEADER.size:
                kind, size = _HEADER.unpack_from(data)
                if len(data) < _HEADER.size + size:
                    break
                payload, data = data[_HEADER.size:_HEADER.size + size], data[_HEADER.size + size:]
                if kind == EXIT:
                    return int(payload) if payload.strip().isdigit() else 125
                out = outs.get(kind)
                if out is not None:
                    out.write(payload)
                    out.flush()
            try:
                chunk = self.sock.recv(65536)
            except InterruptedError:
                continue
            except OSError as e:
                raise RemoteError(f"lost the connection to the service: {e.strerror or e}") from e
            if not chunk:
                raise RemoteError("the service closed the connection before the command ended")
            data += chunk
