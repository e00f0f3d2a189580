"""Exec routes: create a session, start it on a hijacked connection, inspect it, resize it.

Docker splits an exec into "create" (remember what to run) and "start" (run it, streaming);
the engine runs an exec in one call.  The sessions in between live in a registry that belongs
to the service process (made in :func:`register`), not to the engine: they are the API's own
bookkeeping, and a finished session is dropped a few minutes after it ended.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from sealpod.api.http import Request, Response, Router, json_response
from sealpod.api.streams import MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, socket_writers, stdin_of
from sealpod.errors import Conflict, InvalidArgument, NotFound, SealpodError
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

_KEEP_FINISHED = 300.0


@dataclass
class ExecSession:
    id: str
    container_id: str
    command: tuple[str, ...]
    tty: bool
    attach_stdin: bool
    attach_stdout: bool
    attach_stderr: bool
    env: tuple[str, ...] = ()
    user: str = ""
    workdir: str = ""
    privileged: bool = False
    detach_keys: str | None = None
    running: bool = False
    started: bool = False
    detached: bool = False
    exit_code: int | None = None
    ended_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class ExecRegistry:
    """The exec sessions of this service, by ID; safe to use from the service's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, ExecSession] = {}

    def add(self, sess: ExecSession) -> None:
        horizon = time.monotonic() - _KEEP_FINISHED
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.ended_at and s.ended_at < horizon]:
                del self._sessions[key]
            self._sessions[sess.id] = sess

    def get(self, exec_id: str) -> ExecSession:
        with self._lock:
            sess = self._sessions.get(exec_id)
            if sess is None:  # a unique prefix, as Docker accepts
                found = [s for k, s in self._sessions.items() if k.startswith(exec_id)] if len(exec_id) >= 3 else []
                sess = found[0] if len(found) == 1 else None
        if sess is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return sess

    def claim(self, exec_id: str) -> ExecSession:
        """Mark a session started; a session runs once."""
        sess = self.get(exec_id)
        with self._lock:
            if sess.started:
                raise Conflict(f"exec session {sess.id} has already been started: container state improper")
            sess.started = sess.running = True
        return sess

    def finish(self, sess: ExecSession, code: int | None) -> None:
        with self._lock:
            sess.exit_code, sess.running, sess.ended_at = code, False, time.monotonic()


def _options(sess: ExecSession) -> Any:
    from sealpod.engine.container_ops import ExecOptions

    return ExecOptions(command=sess.command, interactive=sess.attach_stdin, tty=sess.tty, env=sess.env,
                       user=sess.user, workdir=sess.workdir, privileged=sess.privileged,
                       detach_keys=sess.detach_keys)


class ExecRoutes:
    def __init__(self) -> None:
        self.registry = ExecRegistry()

    def create(self, req: Request) -> Response:
        from sealpod.engine.names import new_id

        body = req.json()
        if not isinstance(body, dict):
            raise InvalidArgument("decoding request body: expected a JSON object")
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if not cmd:
            raise InvalidArgument("must provide a non-empty command to start an exec session: invalid argument")
        rec = req.engine.containers.lookup(req.params["id"])
        if rec.state != "running":
            raise Conflict(f"container {rec.id} is not running: can only create exec sessions on running "
                           "containers: container state improper")
        env = body.get("Env") or []
        sess = ExecSession(
            id=new_id(), container_id=rec.id, command=tuple(str(c) for c in cmd), tty=bool(body.get("Tty")),
            attach_stdin=bool(body.get("AttachStdin")), attach_stdout=bool(body.get("AttachStdout", True)),
            attach_stderr=bool(body.get("AttachStderr", True)), env=tuple(str(e) for e in env if "=" in str(e)),
            user=str(body.get("User") or ""), workdir=str(body.get("WorkingDir") or ""),
            privileged=bool(body.get("Privileged")), detach_keys=body.get("DetachKeys") or None)
        self.registry.add(sess)
        return json_response({"Id": sess.id}, 201)

    def start(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        if not isinstance(body, dict):
            raise InvalidArgument("decoding request body: expected a JSON object")
        sess = self.registry.get(req.params["id"])
        if body.get("Tty") is not None and not sess.started:
            sess.tty = bool(body["Tty"]) or sess.tty
        ops = req.engine.container_ops
        if body.get("Detach"):
            sess = self.registry.claim(sess.id)
            try:
                sess.extra["engine_id"] = ops.exec_detached(sess.container_id, _options(sess))
            except BaseException:
                self.registry.finish(sess, None)
                raise
            sess.detached = True
            return Response(200, content_type="")
        ops.svc.lookup(sess.container_id)  # 404 before the connection is taken over
        sess = self.registry.claim(sess.id)
        registry = self.registry

        def run(sock: socket.socket) -> None:
            out, err = socket_writers(sock, sess.tty)
            code: int | None = None
            try:
                code = ops.exec(sess.container_id, _options(sess), stdin=stdin_of(sock) if sess.attach_stdin
                                else None, stdout=out if sess.attach_stdout else _discard(),
                                stderr=err if sess.attach_stderr else _discard(), exec_id=sess.id)
            except SealpodError as e:
                code = e.exit_code
                with contextlib.suppress(OSError):
                    err.write(f"{e.message}\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                registry.finish(sess, code)
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        return Response(200, content_type=RAW_CONTENT_TYPE if sess.tty else MUX_CONTENT_TYPE, hijack=run)

    def inspect(self, req: Request) -> Response:
        sess = self.registry.get(req.params["id"])
        if sess.detached and sess.exit_code is None:
            code = req.engine.container_io.exec_exit_code(sess.container_id, sess.extra.get("engine_id", ""))
            if code is not None:
                self.registry.finish(sess, code)
        return json_response({
            "CanRemove": False, "ContainerID": sess.container_id, "DetachKeys": sess.detach_keys or "",
            "ExitCode": sess.exit_code, "ID": sess.id, "OpenStderr": sess.attach_stderr,
            "OpenStdin": sess.attach_stdin, "OpenStdout": sess.attach_stdout, "Running": sess.running,
            "Pid": 0, "ProcessConfig": {"arguments": list(sess.command[1:]), "entrypoint": sess.command[0],
                                        "privileged": sess.privileged, "tty": sess.tty, "user": sess.user},
        })

    def resize(self, req: Request) -> Response:
        sess = self.registry.get(req.params["id"])
        if sess.running and not sess.detached:
            req.engine.container_io.resize(sess.container_id, req.int_arg("h", 0) or 0, req.int_arg("w", 0) or 0,
                                           exec_id=sess.id)
        return Response(201, content_type="")


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _discard() -> Any:
    return _Sink()


def register(r: Router) -> None:
    routes = ExecRoutes()
    r.add("POST", "/containers/{id}/exec", routes.create)
    r.add("POST", "/exec/{id}/start", routes.start)
    r.add("GET", "/exec/{id}/json", routes.inspect)
    r.add("POST", "/exec/{id}/resize", routes.resize)
