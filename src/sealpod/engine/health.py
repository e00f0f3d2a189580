"""Healthchecks without a daemon: ``healthcheck run`` does one check, a tiny shell loop repeats it.

The check is an ``exec`` in the container; its result goes to a JSON file in the container's
run directory (read-modify-write under an flock, replaced atomically), which ``ps`` and
``inspect`` read.  Nothing of sealpod stays in memory between checks: when a container with a
healthcheck starts, a detached ``sh`` loop (``while sleep N; do sealpod healthcheck run ID``) is
started in its own process group, its PID recorded; the container's teardown kills that group.
The loop also ends by itself once ``healthcheck run`` says the container is gone or stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import ContainerStateInvalid, InvalidArgument, NoSuchContainer, SealpodError
from sealpod.utils.record import dataclass
from sealpod.utils.timefmt import rfc3339

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.storage.records import ImageRecord

SECOND = 1_000_000_000
DEFAULTS = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND, "Retries": 3, "StartPeriod": 0}
ON_FAILURE = ("none", "kill", "restart", "stop")
STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"
_KEEP_LOG = 5
_MAX_OUTPUT = 4096
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_STATE_FILE = "healthcheck.json"
_TIMER_FILE = "healthcheck.timer"


def parse_duration(text: str, flag: str) -> int:
    """Go's ``time.ParseDuration`` (``30s``, ``1m30s``, ``500ms``, ``0``) in nanoseconds."""
    value = text.strip()
    if value in ("0", "disable"):
        return 0
    pos, total = 0, 0.0
    scale = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    while pos < len(value):
        m = _DURATION.match(value, pos)
        if not m:
            raise InvalidArgument(f'invalid duration for {flag}: "{text}"')
        total += float(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    if not value:
        raise InvalidArgument(f'invalid duration for {flag}: "{text}"')
    return int(total)


def parse_test(cmd: str) -> list[str]:
    """``--health-cmd``: a JSON array (``["CMD", ...]``, ``["CMD-SHELL", "..."]``, ``["NONE"]``)
    or a shell command line; ``none`` disables the image's healthcheck."""
    if cmd.strip().lower() == "none":
        return ["NONE"]
    if cmd.lstrip().startswith("["):
        try:
            value = json.loads(cmd)
        except ValueError:
            value = None
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if value[0] in ("CMD", "CMD-SHELL", "NONE"):
                return value
            return ["CMD", *value]
    return ["CMD-SHELL", cmd]


def effective(image_hc: dict[str, Any] | None, user_hc: dict[str, Any]) -> dict[str, Any] | None:
    """The image's HEALTHCHECK with the user's settings over it, defaults filled in; None: no check."""
    merged = {**(image_hc or {}), **{k: v for k, v in user_hc.items() if v is not None}}
    test = merged.get("Test") or []
    if not test or test[0] == "NONE" or (len(test) == 1 and test[0] in ("CMD", "CMD-SHELL")):
        return None
    out: dict[str, Any] = {"Test": list(test)}
    from_image = user_hc.get("Test") is None  # Podman fills only Interval and Timeout into an image's check
    for key, default in DEFAULTS.items():
        if user_hc.get(key) is not None:
            out[key] = user_hc[key]  # 0 given by the user: e.g. no timer for --health-interval 0
        elif from_image and key in ("Retries", "StartPeriod"):
            out[key] = (image_hc or {}).get(key) or 0  # Retries 0: the first failure makes it unhealthy
        else:
            out[key] = (image_hc or {}).get(key) or default  # 0 in an image config means "the default"
    return out


def spec_healthcheck(config: ContainerConfig, image: ImageRecord | None) -> dict[str, Any]:
    """At create: the healthcheck the container will run (stored with its resolved spec)."""
    from sealpod.engine.specgen import image_config

    image_hc = image_config(image).get("Healthcheck")
    if image_hc is None and image is not None:  # older Docker images keep it in container_config only
        legacy = image.config_doc().get("container_config")
        image_hc = legacy.get("Healthcheck") if isinstance(legacy, dict) else None
    hc = effective(image_hc if isinstance(image_hc, dict) else None, config.healthcheck)
    if hc is None and config.health_on_failure not in ("", "none"):
        raise InvalidArgument(f"cannot set on-failure action to {config.health_on_failure} without a health check")
    return {"healthcheck": hc} if hc else {}


def config_report(hc: dict[str, Any] | None) -> dict[str, Any] | None:
    """``Config.Healthcheck`` as inspect shows it: zero durations left out (Go's omitempty)."""
    if hc is None:
        return None
    return {"Test": hc["Test"], **{k: hc[k] for k in ("StartPeriod", "Interval", "Timeout", "Retries") if hc.get(k)}}


@dataclass(frozen=True)
class CheckResult:
    status: str  # the container's health after this check
    exit_code: int  # the check command's


class HealthService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.svc = engine.containers

    def _file(self, ctr_id: str, name: str) -> Path:
        return self.svc.paths(ctr_id).rundir / name

    def state(self, ctr_id: str) -> dict[str, Any] | None:
        """State.Health: Status, FailingStreak and the last results; None before the first start."""
        try:
            doc = json.loads(self._file(ctr_id, _STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def status(self, ctr_id: str) -> str:
        """``ps``: healthy, unhealthy, starting, or "" for a container without a healthcheck."""
        doc = self.state(ctr_id)
        return str(doc.get("Status", "")) if doc else ""

    @contextlib.contextmanager
    def _locked(self, ctr_id: str) -> Iterator[Path]:
        import fcntl

        path = self._file(ctr_id, _STATE_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield path
        finally:
            os.close(fd)

    def _write(self, path: Path, doc: dict[str, Any]) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, path)

    # --- one check ----------------------------------------------------------------------

    def run(self, name_or_id: str) -> CheckResult:
        """``healthcheck run``: exec the check once, record it, act on a new unhealthy status."""
        try:
            rec = self.svc.lookup(name_or_id)
        except NoSuchContainer as e:
            raise NoSuchContainer(f"unable to look up {name_or_id} to perform a health check: {e}") from None
        hc = rec.spec.get("healthcheck")
        if not hc:
            from sealpod.errors import NoHealthCheck

            raise NoHealthCheck(f"container {rec.id} has no defined healthcheck")
        if rec.state != State.RUNNING:
            raise ContainerStateInvalid(f"container {rec.id} is not running")
        started = time.time()
        code, output = self._exec(rec, hc)
        ended = time.time()
        entry = {"Start": rfc3339(started), "End": rfc3339(ended), "ExitCode": code, "Output": output}
        in_start_period = hc.get("StartPeriod", 0) > 0 and (started - rec.started_at) * SECOND < hc["StartPeriod"]
        with self._locked(rec.id) as path:
            doc = self.state(rec.id) or {"Status": STARTING, "FailingStreak": 0, "Log": []}
            before = doc.get("Status")
            if code == 0:
                doc["Status"], doc["FailingStreak"] = HEALTHY, 0
            elif not in_start_period:
                doc["FailingStreak"] = int(doc.get("FailingStreak", 0)) + 1
                if doc["FailingStreak"] >= int(hc.get("Retries", DEFAULTS["Retries"])):
                    doc["Status"] = UNHEALTHY
            doc["Log"] = [*(doc.get("Log") or []), entry][-_KEEP_LOG:]
            self._write(path, doc)
        self.engine.events.container(rec, "health_status", health_status=doc["Status"])
        if doc["Status"] == UNHEALTHY and before != UNHEALTHY:
            self._on_failure(rec)
        return CheckResult(doc["Status"], code)

    def _exec(self, rec: ContainerRecord, hc: dict[str, Any]) -> tuple[int, str]:
        """The check's exit code and output; killed (and failed) when it outlives the timeout."""
        import io
        import threading

        from sealpod.engine.container_ops import ExecOptions
        from sealpod.engine.names import new_id

        test = list(hc["Test"])
        argv = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", " ".join(test[1:])]
        out = io.BytesIO()
        exec_id = new_id()
        pid_file = self.svc.runtime().persist_dir(rec.id) / "exec" / exec_id / "exec_pid"
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)

        timer = threading.Timer((hc.get("Timeout") or DEFAULTS["Timeout"]) / SECOND, kill)
        timer.start()
        try:
            code = self.engine.container_ops.exec(rec.id, ExecOptions(command=tuple(argv)), stdin=None,
                                                  stdout=out, stderr=out, exec_id=exec_id)
        except SealpodError as e:
            code, out = (e.exit_code or 1), io.BytesIO(str(e).encode())
        finally:
            timer.cancel()
        if timed_out.is_set():
            return 1, f"Timed out after {hc.get('Timeout', 0) / SECOND:g}s"
        text = out.getvalue()[:_MAX_OUTPUT].decode(errors="replace").rstrip("\n")
        return code, text

    def _on_failure(self, rec: ContainerRecord) -> None:
        """--health-on-failure, once a container turns unhealthy."""
        action = rec.config.get("health_on_failure") or "none"
        try:
            if action == "kill":
                self.svc.kill(rec.id, signal.SIGKILL)
            elif action == "stop":
                self.svc.stop(rec.id)
            elif action == "restart":
                self.svc.restart(rec.id)
        except SealpodError:
            pass

    # --- the timer ------------------------------------------------------------------------

    def on_start(self, rec: ContainerRecord) -> None:
        """A container started: health is "starting" again, and checks are scheduled."""
        hc = rec.spec.get("healthcheck")
        if not hc:
            return
        with self._locked(rec.id) as path:
            self._write(path, {"Status": STARTING, "FailingStreak": 0, "Log": []})
        interval = int(hc.get("Interval") or 0)
        if interval <= 0 or self._own_timer(rec.id):
            return  # no timer asked; or restarted from inside our own timer, which keeps running
        self.stop_timer(rec.id)
        self._spawn_timer(rec.id, interval)

    def _spawn_timer(self, ctr_id: str, interval: int) -> None:
        import shlex
        import subprocess

        from sealpod.utils.proc import spawn

        check = shlex.join([*self._sealpod_argv(), "healthcheck", "run", ctr_id])
        loop = (f"while sleep {interval / SECOND:g}; do {check} >/dev/null 2>&1; "
                '[ "$?" -ge 125 ] && break; done')
        proc = spawn(["/bin/sh", "-c", f"({loop}) </dev/null >/dev/null 2>&1 & echo $!"],
                     stdout=subprocess.PIPE, env=self.engine.monitor_env(), start_new_session=True)
        pid, _ = proc.communicate()
        self._file(ctr_id, _TIMER_FILE).write_text(pid.decode().strip())

    def _sealpod_argv(self) -> list[str]:
        """This sealpod, on this store, started as fast as Python allows (see exit_command)."""
        import sys
        import sysconfig

        import sealpod

        store = self.svc.store
        site = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
        paths = [os.path.dirname(os.path.dirname(os.path.abspath(sealpod.__file__))), site[0]]
        boot = (f"import sys; sys.path[:0] = {paths!r}; from sealpod.__main__ import leave, main; "
                "leave(main(sys.argv[1:]))")
        return [sys.executable, "-I", "-S", "-c", boot, "--root", os.fspath(store.graph_root), "--runroot",
                os.fspath(store.run_root), "--storage-driver", store.driver_name]

    def _timer_pgid(self, ctr_id: str) -> int | None:
        try:
            return os.getpgid(int(self._file(ctr_id, _TIMER_FILE).read_text().strip()))
        except (OSError, ValueError):
            return None

    def _own_timer(self, ctr_id: str) -> bool:
        pgid = self._timer_pgid(ctr_id)
        return pgid is not None and pgid == os.getpgid(0)

    def stop_timer(self, ctr_id: str) -> None:
        """Kill the check loop (not when this very process is one of its checks: it ends by itself)."""
        pgid = self._timer_pgid(ctr_id)
        if pgid is None or pgid == os.getpgid(0):
            return
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
        self._file(ctr_id, _TIMER_FILE).unlink(missing_ok=True)


__all__ = ["ON_FAILURE", "CheckResult", "HealthService", "config_report", "effective", "parse_duration",
           "parse_test", "spec_healthcheck"]
