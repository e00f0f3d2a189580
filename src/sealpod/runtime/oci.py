"""The OCI runtime (runc or crun) behind one small Protocol.

Only conmon runs ``create`` and ``exec`` (it must be the parent of the container's stdio); this
module runs the verbs that act on an existing container.  Every call goes through
:mod:`sealpod.utils.proc`, and runtime failures become :class:`~sealpod.errors.OCIRuntimeError`
subclasses worded the way Podman words them, so the CLI's exit codes (126/127) match.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence

from sealpod.errors import CommandFailed, ExecutableNotFound, OCIRuntimeError, PermissionDenied

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from subprocess import Popen
    from typing import Any, Protocol

# What Podman appends to each class of runtime failure (libpod/define errors).
NOT_FOUND_SUFFIX = "OCI runtime attempted to invoke a command that was not found"
PERMISSION_SUFFIX = "OCI permission denied"
GENERIC_SUFFIX = "OCI runtime error"

_PERMISSION_RE = re.compile(r"(?i).*permission denied.*|.*operation not permitted.*")
_NOT_FOUND_RE = re.compile(r"(?i).*executable file not found in.*|.*no such file or directory.*")
_NO_SUCH_CONTAINER_RE = re.compile(r"(?i)container .*(does not exist|not exist)|no such file or directory")


if TYPE_CHECKING:  # the verbs as a type: what an engine may call
    class OCIRuntime(Protocol):
        """The verbs the engine needs from an OCI runtime, for containers that already exist."""

        name: str
        path: str

        def start(self, ctr_id: str) -> None: ...
        def kill(self, ctr_id: str, signal: int, all_procs: bool = False) -> None: ...
        def delete(self, ctr_id: str, force: bool = False) -> None: ...
        def delete_begin(self, ctr_id: str, force: bool = False) -> PendingDelete: ...
        def state(self, ctr_id: str) -> dict[str, Any] | None: ...
        def pause(self, ctr_id: str) -> None: ...
        def resume(self, ctr_id: str) -> None: ...
        def update(self, ctr_id: str, resources: dict[str, Any]) -> None: ...
        def features(self) -> dict[str, Any] | None: ...
        def global_args(self) -> list[str]: ...


def runtime_error(runtime_name: str, message: str) -> OCIRuntimeError:
    """Classify a runtime message the way Podman does, so exit codes and wording agree.

    The match is on the first matching *line* (as Podman's regexps do without (?s)), which keeps
    the message to one line even when the runtime printed several.
    """
    text = message.strip("\n")
    if m := _PERMISSION_RE.search(text):
        return PermissionDenied(f"{runtime_name}: {m.group(0).strip()}: {PERMISSION_SUFFIX}")
    if m := _NOT_FOUND_RE.search(text):
        return ExecutableNotFound(f"{runtime_name}: {m.group(0).strip()}: {NOT_FOUND_SUFFIX}")
    first = next((ln for ln in text.splitlines() if ln.strip()), "unknown error")
    return OCIRuntimeError(f"{runtime_name}: {_strip_json_log(first)}: {GENERIC_SUFFIX}")


def _strip_json_log(line: str) -> str:
    """runc with ``--log-format=json`` may hand back a JSON record; users want its ``msg``."""
    if line.startswith("{"):
        try:
            rec = json.loads(line)
        except ValueError:
            return line
        msg = rec.get("msg") if isinstance(rec, dict) else None
        if isinstance(msg, str):
            return msg
    return line


class PendingDelete:
    """A runtime ``delete`` running in the background; ``wait`` judges its end as ``delete`` does."""

    def __init__(self, runtime_name: str, proc: Popen[bytes], after: Callable[[], None] | None = None) -> None:
        self.runtime_name, self.proc, self.after = runtime_name, proc, after

    def wait(self) -> None:
        _, err = self.proc.communicate()
        if self.after is not None:
            self.after()
        text = (err or b"").decode(errors="replace")
        if self.proc.returncode == 0 or _NO_SUCH_CONTAINER_RE.search(text):
            return
        raise runtime_error(self.runtime_name, text or f"delete exited with {self.proc.returncode}")


class RuncRuntime:
    """runc or crun through its command line; both take the same global flags and verbs."""

    def __init__(self, path: str, root: str | os.PathLike[str], *, extra_args: Sequence[str] = ()) -> None:
        self.path = path
        self.name = os.path.basename(path)
        self.root = os.fspath(root)
        self.extra_args = list(extra_args)

    def global_args(self) -> list[str]:
        """Flags that precede every verb; conmon gets them as ``--runtime-arg``."""
        return ["--root", self.root, *self.extra_args]

    def argv(self, verb: str, *args: str) -> list[str]:
        return [self.path, *self.global_args(), verb, *args]

    # argv builders, pure so that unit tests pin them without root.
    def start_argv(self, ctr_id: str) -> list[str]:
        return self.argv("start", ctr_id)

    def kill_argv(self, ctr_id: str, signal: int, all_procs: bool = False) -> list[str]:
        return self.argv("kill", *(["--all"] if all_procs else []), ctr_id, str(signal))

    def delete_argv(self, ctr_id: str, force: bool = False) -> list[str]:
        return self.argv("delete", *(["--force"] if force else []), ctr_id)

    def state_argv(self, ctr_id: str) -> list[str]:
        return self.argv("state", ctr_id)

    def pause_argv(self, ctr_id: str) -> list[str]:
        return self.argv("pause", ctr_id)

    def resume_argv(self, ctr_id: str) -> list[str]:
        return self.argv("resume", ctr_id)

    def update_argv(self, ctr_id: str) -> list[str]:
        return self.argv("update", "--resources", "-", ctr_id)

    def features_argv(self) -> list[str]:
        return [self.path, "features"]

    def _run(self, argv: list[str], *, input: bytes | None = None) -> bytes:
        try:
            return self.run_raw(argv, input=input)
        except CommandFailed as e:
            raise runtime_error(self.name, e.stderr or str(e)) from e

    def run_raw(self, argv: list[str], *, input: bytes | None = None) -> bytes:
        """Run one runtime command; CommandFailed carries its stderr for the caller to judge."""
        from sealpod.utils.proc import run

        return run(argv, input=input).stdout

    def start(self, ctr_id: str) -> None:
        if self.name == "runc" and not self.extra_args:  # the verb's one step, without its Go start-up
            from sealpod.runtime.exec_fifo import start_through_fifo

            if start_through_fifo(os.path.join(self.root, ctr_id)):
                return
        self._run(self.start_argv(ctr_id))

    def kill(self, ctr_id: str, signal: int, all_procs: bool = False) -> None:
        self._run(self.kill_argv(ctr_id, signal, all_procs))

    def delete(self, ctr_id: str, force: bool = False) -> None:
        """Delete the runtime's record; a container the runtime never knew counts as deleted."""
        try:
            self.run_raw(self.delete_argv(ctr_id, force))
        except CommandFailed as e:
            if _NO_SUCH_CONTAINER_RE.search(e.stderr):
                return
            raise runtime_error(self.name, e.stderr or str(e)) from e

    def delete_begin(self, ctr_id: str, force: bool = False) -> PendingDelete:
        """``delete`` started, not awaited: the caller tears down the rest meanwhile."""
        from subprocess import DEVNULL, PIPE

        from sealpod.utils.proc import spawn

        return PendingDelete(self.name, spawn(self.delete_argv(ctr_id, force), stdout=DEVNULL, stderr=PIPE))

    def state(self, ctr_id: str) -> dict[str, Any] | None:
        """The runtime's state JSON, or None when it does not know the container."""
        try:
            out = self.run_raw(self.state_argv(ctr_id))
        except CommandFailed as e:
            if _NO_SUCH_CONTAINER_RE.search(e.stderr):
                return None
            raise runtime_error(self.name, e.stderr or str(e)) from e
        data = json.loads(out)
        return data if isinstance(data, dict) else None

    def pause(self, ctr_id: str) -> None:
        self._run(self.pause_argv(ctr_id))

    def resume(self, ctr_id: str) -> None:
        self._run(self.resume_argv(ctr_id))

    def update(self, ctr_id: str, resources: dict[str, Any]) -> None:
        """Apply an OCI ``linux.resources`` object to a running container.  A refusal names the command
        as Podman does, with the runtime's own error (its ``level=error`` line) after it."""
        from sealpod.errors import RuntimeUpdateFailed

        try:
            self.run_raw(self.update_argv(ctr_id), input=json.dumps(resources).encode())
        except CommandFailed as e:
            lines = [ln for ln in (e.stderr or "").splitlines() if ln.strip()]
            reason = next((ln for ln in lines if "level=error" in ln), lines[-1] if lines else "")
            m = re.search(r'msg="((?:[^"\\]|\\.)*)"', reason)
            reason = m.group(1).replace('\\"', '"') if m else _strip_json_log(reason)
            raise RuntimeUpdateFailed(f"`{self.path} update --resources=- {ctr_id}` failed: exit status "
                                      f"{e.returncode}" + (f": {reason}" if reason else "")) from e

    def features(self) -> dict[str, Any] | None:
        """The runtime's ``features`` JSON; None for runtimes too old to have the verb."""
        try:
            out = self.run_raw(self.features_argv())
        except CommandFailed:
            return None
        try:
            data = json.loads(out)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
