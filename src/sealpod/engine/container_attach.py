"""``run`` and ``start -a`` with our stdio attached, and ``--sig-proxy``.

The attach socket is connected before the process starts, so no output is lost; signals sent
to the attached sealpod are passed on to the container's process while it runs.
"""

from __future__ import annotations

import contextlib
import os
import signal as signals
from collections.abc import Iterator

from sealpod.errors import SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import BinaryIO

    from sealpod.engine.containers import ContainerService

# what --sig-proxy never forwards: job control, and what cannot be caught
_NOT_FORWARDED = {signals.SIGCHLD, signals.SIGPIPE, signals.SIGURG, signals.SIGWINCH, signals.SIGKILL,
                  signals.SIGSTOP}


def run_attached(svc: ContainerService, name_or_id: str, *, stdin: BinaryIO | None, stdout: BinaryIO,
                 stderr: BinaryIO, tty: bool, detach_keys: str | None = None) -> int:
    """Start a container with our stdio attached and wait for it; returns its exit code."""
    from sealpod.runtime.attach import DEFAULT_DETACH_KEYS, connect, parse_detach_keys, stream

    rec = svc.lookup(name_or_id)
    if rec.config.get("log_driver") == "passthrough":
        return svc.engine.container_io.run_passthrough(rec.id)
    keys = DEFAULT_DETACH_KEYS if detach_keys is None else parse_detach_keys(detach_keys)
    try:
        with svc.lock(rec.id):
            rec = svc.init(svc.db.get(rec.id))
            marker = svc.paths(rec.id).rundir / "attached"
            marker.write_text(str(os.getpid()))
            sock = connect(svc.runtime().attach_socket_path(rec.id), accepted_by=rec.conmon_pid)
            rec = svc._start_created(rec)
    except SealpodError:
        if rec.config.get("remove"):
            svc._remove_quietly(rec.id, volumes=True)
        raise
    proxy = bool(rec.config.get("sig_proxy", True)) and not tty
    with signals_forwarded_to(svc, rec.id, proxy):
        detached = stream(sock, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty, detach_keys=keys,
                          ctl_path=svc.runtime().ctl_path(rec.id) if tty else None)
    if detached:
        marker.unlink(missing_ok=True)  # conmon's exit command cleans up after us now
        return 0
    svc._wait_exit(rec, 365 * 86400)
    code = svc._exit_code(rec)
    final = svc.cleanup(rec.id)
    marker.unlink(missing_ok=True)
    return code if code is not None else (final.exit_code if final.exit_code is not None else 125)


@contextlib.contextmanager
def signals_forwarded_to(svc: ContainerService, ctr_id: str, enabled: bool) -> Iterator[None]:
    """Every signal that can be caught goes to the container's process, as Podman's proxy does."""
    if not enabled:
        yield
        return
    wanted = [s for s in signals.valid_signals() if s not in _NOT_FORWARDED]
    runtime = svc.runtime(svc.db.get(ctr_id))

    def forward(sig: int, _frame: object) -> None:
        try:
            runtime.kill(ctr_id, sig)
        except SealpodError:
            pass

    previous = {sig: signals.signal(sig, forward) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signals.signal(sig, handler)


__all__ = ["run_attached", "signals_forwarded_to"]
