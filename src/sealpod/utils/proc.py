"""The one gateway through which sealpod starts external programs.

Every subprocess goes through :func:`run` or :func:`spawn` so that the command line is
logged at debug level, stdin defaults to /dev/null, and a failure becomes a
:class:`~sealpod.errors.CommandFailed` with the tail of stderr instead of a traceback.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence

from sealpod.errors import CommandFailed

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import IO, Any

_DEVNULL = subprocess.DEVNULL


def _prepare(argv: Sequence[str | os.PathLike[str]]) -> list[str]:
    cmd = [os.fspath(a) for a in argv]
    logging = sys.modules.get("logging")  # configured (imported) only when --log-level asks for it
    if logging is not None:
        logging.getLogger("sealpod.proc").debug("+ %s", shlex.join(cmd))
    return cmd


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    check: bool = True,
    input: bytes | None = None,
    stdin: int | IO[Any] | None = _DEVNULL,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a program to completion; raise CommandFailed when it fails and ``check`` is set."""
    cmd = _prepare(argv)
    try:
        proc = subprocess.run(
            cmd,
            input=input,
            stdin=None if input is not None else stdin,
            stdout=stdout,
            stderr=stderr,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as e:
        raise CommandFailed(cmd, 127, f"executable file not found: {e.filename}") from e
    except subprocess.TimeoutExpired as e:
        raise CommandFailed(cmd, -1, f"timed out after {timeout}s") from e
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else ""
        raise CommandFailed(cmd, proc.returncode, err)
    return proc


def spawn(
    argv: Sequence[str | os.PathLike[str]],
    *,
    stdin: int | IO[Any] | None = _DEVNULL,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    pass_fds: Sequence[int] = (),
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a program without waiting for it (conmon, registries in tests, pause process)."""
    cmd = _prepare(argv)
    try:
        return subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            pass_fds=tuple(pass_fds),
            start_new_session=start_new_session,
        )
    except FileNotFoundError as e:
        raise CommandFailed(cmd, 127, f"executable file not found: {e.filename}") from e


def which(name: str) -> str | None:
    """The program ``name`` on PATH, as ``shutil.which`` finds it: importing shutil (with the bz2
    and lzma modules it loads) costs a few ms, and every container start looks up its helpers."""
    if "/" in name:
        return name if os.access(name, os.X_OK) and not os.path.isdir(name) else None
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory or ".", name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def hold_fds(count: int) -> tuple[int, ...]:
    """fds 3..3+count-1, as the caller of ``run --preserve-fds`` left them; a closed one becomes
    /dev/null (inheritable), so that the numbers the container sees are the caller's."""
    fds = tuple(range(3, 3 + count))
    for fd in fds:
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        os.set_inheritable(fd, True)
    return fds
