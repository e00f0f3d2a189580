"""The container lifecycle: create, start, stop, kill, remove, wait, list, cleanup.

Daemonless as in Podman: ``start`` hands the container to conmon, which outlives this
process and calls ``sealpod container cleanup`` when the container exits.  The database
is the truth for ``ps``; it is reconciled with conmon's exit files whenever a container
is looked at, so a container whose monitor died is reported as exited, never running.
"""

from __future__ import annotations

import contextlib
import os
import signal as signals
import time
from collections.abc import Callable, Iterator, Sequence

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_paths import ContainerPaths
from sealpod.engine.container_state import ContainerDB, ContainerRecord, State, container_lock
from sealpod.errors import Conflict, ContainerStateInvalid, InvalidArgument, NoSuchContainer, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine import Engine
    from sealpod.engine.container_report import ContainerSummary
    from sealpod.engine.entities import PullOptions
    from sealpod.runtime.conmon import ConmonRuntime
    from sealpod.runtime.oci import PendingDelete

RUNNING_STATES = (State.RUNNING, State.PAUSED, State.CREATED, State.STOPPING)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    # /proc/PID/stat alone: it is missing for a gone process, readable for any user's, and says
    # whether the process is a zombie (conmon's children are reaped by conmon; ours by us)
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
        try:
            stat = os.read(fd, 1024)  # ps asks this for every running container: no file object
        finally:
            os.close(fd)
        return stat.rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _uses_volumes(rec: ContainerRecord) -> bool:
    """Whether any volume is mounted (named, anonymous, an image's): without one, the volume
    machinery is not even loaded."""
    return any(m.get("type") in ("volume", "image") for m in rec.config.get("mounts", ()))


def parse_signal(value: str | int) -> int:
    """``TERM``, ``SIGTERM``, ``15`` → 15, as ``kill -s`` and ``--stop-signal`` take them."""
    if isinstance(value, int):
        return value
    raw = value.removeprefix("-")  # Podman strips one dash: ``kill -s -HUP``
    text = raw.upper()
    if text.isdigit():
        num = int(text)
        if num > 64:
            raise InvalidArgument("valid signals are 1 through 64")
        if num > 0:
            return num
    elif text:
        name = text if text.startswith("SIG") else f"SIG{text}"
        if name.startswith("SIGRTMIN+") and name[9:].isdigit():
            return int(signals.SIGRTMIN) + int(name[9:])
        try:
            return int(signals.Signals[name])
        except KeyError:
            pass
    raise InvalidArgument(f"invalid signal: {raw}")


class ContainerService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.db = ContainerDB(self.store.db)
        self._held: set[str] = set()  # container locks this service holds now
        self.builder_view = False  # the builder's calls find its working (external) containers

    # --- plumbing -------------------------------------------------------------------

    def paths(self, ctr_id: str) -> ContainerPaths:
        return ContainerPaths(self.store.graph_root, self.store.run_root, self.store.driver_name, ctr_id)

    def runtime(self, rec: ContainerRecord | None = None) -> ConmonRuntime:
        """The runtime to drive a container with: the one it was created with (``--runtime``), as
        Podman records it per container; without a record, the one in force."""
        return self.engine.oci_runtime(rec.spec.get("oci_runtime") or "" if rec is not None else "")

    @contextlib.contextmanager
    def lock(self, ctr_id: str) -> Iterator[None]:
        """The container's lock; re-entrant for this service object (one per command or API
        request), because flock waits forever on a second descriptor of the same process."""
        if ctr_id in self._held:
            yield
            return
        with container_lock(self.store.run_root, ctr_id):
            self._held.add(ctr_id)
            try:
                yield
            finally:
                self._held.discard(ctr_id)

    def lookup(self, name_or_id: str, *, external: bool = False) -> ContainerRecord:
        """By name or ID; a build's working container only for the builder or with ``external``
        (as Podman, which leaves those to Buildah: "no such container")."""
        rec = self.db.lookup(name_or_id)
        if not (external or self.builder_view) and rec.config.get("external"):
            from sealpod.engine.container_external import not_found

            raise not_found(name_or_id)
        return self.sync(rec)

    def latest(self) -> ContainerRecord:
        records = [r for r in self.db.all() if not r.config.get("external")]  # never a build's working one
        if not records:
            raise NoSuchContainer("no such container")
        return self.sync(max(records, key=lambda r: r.created))

    # --- reconciliation -------------------------------------------------------------

    def sync(self, rec: ContainerRecord, *, locked: bool = False) -> ContainerRecord:
        """Bring a record up to date with conmon's exit file and the processes' liveness.

        ``locked``: the caller holds the container's lock already (flock is not re-entrant
        between two descriptors of one process: taking it again would wait forever).
        """
        if rec.state not in RUNNING_STATES or rec.state == State.CREATED and not rec.conmon_pid:
            return rec
        code = self._exit_code(rec)
        if code is None and (pid_alive(rec.conmon_pid) or pid_alive(rec.pid)):
            return rec
        with contextlib.nullcontext() if locked else self.lock(rec.id):
            try:
                fresh = self.db.get(rec.id)
            except NoSuchContainer:
                return rec
            if fresh.state not in RUNNING_STATES:
                return fresh
            code = self._exit_code(fresh)
            if code is None and (pid_alive(fresh.conmon_pid) or pid_alive(fresh.pid)):
                return fresh
            rec = self.db.update(fresh, state=State.STOPPED, exit_code=code if code is not None else 255,
                                 finished_at=self._exit_time(fresh), pid=0)
            self.engine.events.container(rec, "died", containerExitCode=str(rec.exit_code))  # remote run reads it
            return rec

    def _exit_code(self, rec: ContainerRecord) -> int | None:
        try:
            text = self.paths(rec.id).exit_file.read_text().strip()
        except OSError:
            return None
        try:
            return int(text)
        except ValueError:
            return None

    def _exit_time(self, rec: ContainerRecord) -> float:
        try:
            return self.paths(rec.id).exit_file.stat().st_mtime
        except OSError:
            return time.time()

    # --- create ---------------------------------------------------------------------

    def create_with_image(self, config: ContainerConfig, pull: PullOptions, report: Callable[[str], None], *,
                          replace: bool = False) -> ContainerRecord:
        """``create``/``run``: find the image locally or pull it, as ``--pull`` says."""
        from sealpod.engine import container_create

        return container_create.create_with_image(self, config, pull, report, replace=replace)

    def create(self, config: ContainerConfig, *, image_id: str | None = None,
               replace: bool = False) -> ContainerRecord:
        """Record the container and create its writable layer; nothing runs yet."""
        from sealpod.engine import container_create

        return container_create.create(self, config, image_id=image_id, replace=replace)

    # --- start ----------------------------------------------------------------------

    def init(self, rec: ContainerRecord) -> ContainerRecord:
        """Mount the root, write the bundle and create the runtime container under conmon."""
        from sealpod.engine.container_start import create_in_runtime

        if rec.state in (State.RUNNING, State.PAUSED, State.STOPPING):
            raise ContainerStateInvalid(f"container {rec.id} has already been created in runtime: "
                                        "container state improper")
        if rec.state == State.CREATED:
            return rec
        if not self.store.containers.exists(rec.id):  # `create` was killed before its storage existed
            self.store.containers.delete(rec.id)
            self.store.containers.create(rec.id, rec.image_id)
        if rec.state in (State.STOPPED, State.EXITED) or (self.paths(rec.id).runtime_root / rec.id).exists():
            # leftovers of an earlier run, or of a sealpod killed halfway through a start
            self._release_runtime(rec)
        if rec.pod_id:  # the pod's infra container holds the namespaces this one joins
            self.engine.pods.prepare_member(rec)
        pid, conmon_pid = create_in_runtime(self, rec)
        rec = self.db.update(rec, state=State.CREATED, pid=pid, conmon_pid=conmon_pid, exit_code=None,
                             stopped_by_user=False)
        self.engine.events.container(rec, "init")
        return rec

    def start(self, name_or_id: str) -> ContainerRecord:
        rec = self.lookup(name_or_id)
        for dependency in rec.config.get("requires") or ():  # --requires: those run first
            if self.lookup(dependency).state not in (State.RUNNING, State.PAUSED):
                self.start(dependency)
        try:
            with self.lock(rec.id):
                rec = self.db.get(rec.id)
                if rec.state == State.RUNNING:
                    return rec
                if rec.state == State.PAUSED:
                    raise ContainerStateInvalid(f"cannot start paused container {rec.id}: container state improper")
                rec = self.init(rec)
                return self._start_created(rec)
        except SealpodError as e:  # a --rm container that cannot start is removed, as in Podman
            if rec.config.get("remove") and not isinstance(e, (ContainerStateInvalid, NoSuchContainer)):
                self._remove_quietly(rec.id, volumes=True)
            raise

    def _start_created(self, rec: ContainerRecord) -> ContainerRecord:
        try:
            self.runtime(rec).start(rec.id)
        except SealpodError:
            self._teardown(rec)
            self.db.update(rec, state=State.EXITED, pid=0, finished_at=time.time())
            raise
        self.engine.events.container(rec, "start")
        rec = self.db.update(rec, state=State.RUNNING, started_at=time.time())
        from sealpod.engine.systemd_mode import notify_started

        notify_started(self.paths(rec.id).rundir, rec.conmon_pid)  # --sdnotify=conmon under a Type=notify unit
        if rec.spec.get("healthcheck"):
            self.engine.health.on_start(rec)
        return rec

    # --- stop / kill ----------------------------------------------------------------

    @property
    def _kill_all(self) -> bool:
        """runc finds "all processes" through the container's cgroup; a rootless one has none."""
        return not self.engine.config.rootless

    def stop_signal(self, rec: ContainerRecord) -> int:
        cfg = ContainerConfig.from_json(rec.config)
        return parse_signal(cfg.stop_signal or rec.spec.get("stop_signal") or "SIGTERM")

    def stop(self, name_or_id: str, timeout: int | None = None) -> ContainerRecord:
        rec = self.lookup(name_or_id)
        if rec.state not in (State.RUNNING, State.PAUSED, State.STOPPING):
            return rec  # stopping a stopped container is fine, as in Podman
        cfg = ContainerConfig.from_json(rec.config)
        wait = timeout if timeout is not None else (cfg.stop_timeout if cfg.stop_timeout is not None else
                                                    self.engine.config.containers.engine.stop_timeout)
        with self.lock(rec.id):  # "stopping" is set under the lock, then the wait goes on without it
            rec = self.sync(self.db.get(rec.id), locked=True)
            if rec.state not in (State.RUNNING, State.PAUSED, State.STOPPING):
                return rec
            paused = rec.state == State.PAUSED
            rec = self.db.update(rec, state=State.STOPPING, stopped_by_user=True)
        runtime = self.runtime(rec)
        if paused:
            runtime.resume(rec.id)
        try:
            runtime.kill(rec.id, self.stop_signal(rec))
        except SealpodError:
            pass  # already gone
        if not self._wait_exit(rec, wait):
            if wait > 0:  # Podman says so, unless the user asked for no grace time at all
                from sealpod.utils.logrus import warning

                num = self.stop_signal(rec)
                sig = signals.Signals(num).name if num in set(signals.Signals) else str(num)
                warning(f"StopSignal {sig} failed to stop container {rec.name} in {wait} seconds, resorting to SIGKILL")
            try:
                runtime.kill(rec.id, signals.SIGKILL, all_procs=self._kill_all)
            except SealpodError:
                pass
            self._wait_exit(rec, 10)
        self.engine.events.container(rec, "stop")
        return self.cleanup(rec.id)

    def _wait_exit(self, rec: ContainerRecord, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        delay = 0.001  # conmon writes the exit file about a millisecond after the stdio closes
        while True:
            if self._exit_code(rec) is not None or not (pid_alive(rec.pid) or pid_alive(rec.conmon_pid)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def kill(self, name_or_id: str, signal: str | int = "SIGKILL") -> ContainerRecord:
        rec = self.lookup(name_or_id)
        sig = parse_signal(signal)
        if rec.state not in (State.RUNNING, State.PAUSED, State.STOPPING):
            raise ContainerStateInvalid(f"can only kill running containers. {rec.id} is in state "
                                        f"{rec.state}: container state improper")
        if sig in (signals.SIGKILL, signals.SIGTERM, signals.SIGINT):
            self.db.update(rec, stopped_by_user=True)
        self.runtime(rec).kill(rec.id, sig)
        self.engine.events.container(rec, "kill")
        return rec

    def pause(self, name_or_id: str) -> ContainerRecord:
        rec = self.lookup(name_or_id)
        if rec.state != State.RUNNING:
            raise ContainerStateInvalid(f'"{rec.name}" is not running, can\'t pause: container state improper')
        self.runtime(rec).pause(rec.id)
        self.engine.events.container(rec, "pause")
        return self.db.update(rec, state=State.PAUSED)

    def unpause(self, name_or_id: str) -> ContainerRecord:
        rec = self.lookup(name_or_id)
        if rec.state != State.PAUSED:
            raise ContainerStateInvalid(f'"{rec.name}" is not paused, can\'t unpause: container state improper')
        self.runtime(rec).resume(rec.id)
        self.engine.events.container(rec, "unpause")
        return self.db.update(rec, state=State.RUNNING)

    def restart(self, name_or_id: str, timeout: int | None = None) -> ContainerRecord:
        rec = self.stop(name_or_id, timeout)
        rec = self.start(rec.id)
        self.engine.events.container(rec, "restart")
        return rec

    # --- cleanup / remove -----------------------------------------------------------

    def _release_runtime(self, rec: ContainerRecord) -> None:
        try:
            self.runtime(rec).delete(rec.id, force=True)
        except SealpodError:
            pass
        self.paths(rec.id).exit_file.unlink(missing_ok=True)

    def _teardown(self, rec: ContainerRecord, pending: list[PendingDelete] | None = None) -> None:
        """Release what a run holds: the runtime container, the root mount, volume mounts.

        With ``pending``, the runtime's delete (a Go program's start, ~10 ms) runs while the rest is
        torn down and the caller waits for it later; the root is unmounted only after it when
        processes outside the container's own PID namespace may still hold it."""
        if rec.spec.get("healthcheck"):
            self.engine.health.stop_timer(rec.id)
        if pending is None:
            self._release_runtime_keep_exit(rec)
        else:
            try:
                pending.append(self.runtime(rec).delete_begin(rec.id, force=True))
            except SealpodError:
                pass
        try:
            self.engine.networks.teardown_for(rec)
        except SealpodError:
            pass
        if pending and rec.config.get("pid", "") not in ("", "private"):
            self._await_deletes(pending)
        try:
            self.store.containers.unmount(rec.id)
        except SealpodError:
            pass
        try:
            if _uses_volumes(rec):
                self.engine.volumes.release_for(rec)
        except SealpodError:
            pass
        if rec.pod_id:  # a pod infra container's /dev/shm, mounted on the host for its members
            from sealpod.storage.mount import unmount

            with contextlib.suppress(SealpodError):
                unmount(os.fspath(self.paths(rec.id).rundir / "shm"), detach=True)

    @staticmethod
    def _await_deletes(pending: list[PendingDelete]) -> None:
        while pending:
            with contextlib.suppress(SealpodError):
                pending.pop().wait()

    def _release_runtime_keep_exit(self, rec: ContainerRecord) -> None:
        try:
            self.runtime(rec).delete(rec.id, force=True)
        except SealpodError:
            pass

    def cleanup(self, name_or_id: str, *, remove: bool | None = None) -> ContainerRecord:
        """After the process ended: record the exit, unmount, delete the runtime container,
        apply the restart policy or ``--rm``.  Idempotent: conmon's exit command and the
        foreground ``run`` may both call it."""
        pending: list[PendingDelete] = []
        try:
            return self._cleanup(name_or_id, remove, pending)
        finally:
            self._await_deletes(pending)

    def _cleanup(self, name_or_id: str, remove: bool | None, pending: list[PendingDelete]) -> ContainerRecord:
        rec = self.db.lookup(name_or_id)
        with self.lock(rec.id):
            try:
                rec = self.db.get(rec.id)
            except NoSuchContainer:
                return rec
            if rec.state in RUNNING_STATES and rec.conmon_pid:
                code = self._exit_code(rec)
                if code is None and (pid_alive(rec.pid) or pid_alive(rec.conmon_pid)):
                    return rec  # still running: nothing to clean
                rec = self.db.update(rec, state=State.STOPPED, exit_code=255 if code is None else code,
                                     finished_at=self._exit_time(rec), pid=0)
                self.engine.events.container(rec, "died", containerExitCode=str(rec.exit_code))
            if rec.state == State.STOPPED:
                self._teardown(rec, pending)
                rec = self.db.update(rec, state=State.EXITED, pid=0, conmon_pid=0)
                self.engine.events.container(rec, "cleanup")
        cfg = ContainerConfig.from_json(rec.config)
        if rec.pod_id and rec.state == State.EXITED and not self._should_restart(rec, cfg):
            self.engine.pods.member_exited(rec)  # --exit-policy=stop: the last one out stops the pod
        if (remove if remove is not None else cfg.remove) and rec.state == State.EXITED:
            self.remove(rec.id, force=True, volumes=True)  # --rm takes anonymous volumes too, as Podman
            return rec
        if rec.state == State.EXITED and self._should_restart(rec, cfg):
            # counted and leaving "exited" in one step: nobody sees the old run with the new count
            self.db.update(rec, restart_count=rec.restart_count + 1, state=State.CONFIGURED)
            self._await_deletes(pending)  # the runtime must have forgotten the ID before it is created again
            return self.start(rec.id)
        return rec

    def _should_restart(self, rec: ContainerRecord, cfg: ContainerConfig) -> bool:
        policy = cfg.restart
        if rec.stopped_by_user or policy.name in ("", "no"):
            return False
        if policy.name == "on-failure":
            return (rec.exit_code or 0) != 0 and (policy.max_retries == 0 or rec.restart_count < policy.max_retries)
        return policy.name in ("always", "unless-stopped")

    def dependents(self, ctr_id: str) -> list[str]:
        """IDs of the containers that need this one (``--requires``, its namespaces)."""
        return self.db.dependents(ctr_id)

    def remove_with_dependents(self, name_or_id: str, *, force: bool = False, volumes: bool = False) -> list[str]:
        """``rm --depend``: the container and all that depend on it, dependents first (full IDs)."""
        rec = self.lookup(name_or_id)
        pod_id = self.engine.pods.infra_ids().get(rec.id) if rec.pod_id else None
        if pod_id:  # the pod needs its infra container: as Podman, the pod goes, members first
            pods = self.engine.pods
            members = [i for i in pods.container_ids(pods.lookup(pod_id)) if i != rec.id]
            pods.remove(pod_id, force=force, volumes=volumes)
            return [*members, rec.id]
        order: list[str] = []

        def visit(ctr_id: str, seen: frozenset[str]) -> None:
            for dep in self.dependents(ctr_id):
                if dep not in seen and dep not in order:
                    visit(dep, seen | {dep})
            if ctr_id not in order:
                order.append(ctr_id)

        visit(rec.id, frozenset({rec.id}))
        return [self.remove(ctr_id, force=force, volumes=volumes) for ctr_id in order]

    def remove(self, name_or_id: str, *, force: bool = False, volumes: bool = False) -> str:
        rec = self.lookup(name_or_id, external=True)  # Podman's rm finds a working container
        if rec.config.get("external") and not self.builder_view:
            from sealpod.engine.container_external import refuse_remove, seeing_external

            refuse_remove(rec, name_or_id, force)
            with seeing_external(self):
                return self.remove(rec.id, force=force, volumes=volumes)
        self.engine.pods.check_removable(rec)  # before the dependents: Podman names the pod (infra, service)
        needed_by = self.dependents(rec.id)
        if needed_by:
            from sealpod.errors import ContainerHasDependents

            raise ContainerHasDependents(f"container {rec.id} has dependent containers which must be removed "
                                         f"before it: {', '.join(needed_by)}: container already exists")
        if rec.state in (State.RUNNING, State.PAUSED, State.STOPPING) and not force:
            raise Conflict(f"cannot remove container {rec.id} as it is {rec.state} - running or paused "
                           "containers cannot be removed without force: container state improper")
        if rec.state in (State.RUNNING, State.PAUSED, State.STOPPING):
            self.db.update(rec, stopped_by_user=True)
            try:
                self.runtime(rec).kill(rec.id, signals.SIGKILL, all_procs=self._kill_all)
            except SealpodError:
                pass
            self._wait_exit(rec, 10)
            self.sync(rec)  # its "died" event, with the exit code: podman-remote's run waits for it
        with self.lock(rec.id):
            try:
                rec = self.db.get(rec.id)
            except NoSuchContainer:
                return rec.id
            if rec.state != State.EXITED:  # an exited container was torn down by its cleanup
                self._teardown(rec)
            self.db.update(rec, state=State.REMOVING)
            self.store.containers.delete(rec.id)
            last = self._exit_code(rec)
            self.paths(rec.id).exit_file.unlink(missing_ok=True)
            self._keep_exit_code(rec.id, rec.exit_code if last is None else last)
            import shutil

            shutil.rmtree(self.paths(rec.id).rundir.parent, ignore_errors=True)  # RUNROOT/<driver>-containers/ID
            self.db.delete(rec.id)
            self.engine.events.container(rec, "remove")
            if volumes and _uses_volumes(rec):
                self.engine.volumes.remove_anonymous_of(rec)
        try:
            (self.store.run_root / "locks" / rec.id).unlink(missing_ok=True)
        except OSError:
            pass
        return rec.id

    def _keep_exit_code(self, ctr_id: str, code: int | None) -> None:
        from sealpod.engine.container_wait import keep_exit_code

        keep_exit_code(self, ctr_id, code)

    def removed_exit_code(self, ctr_id: str) -> int | None:
        """The exit code of a container removed in the last minutes (full ID), else None."""
        from sealpod.engine.container_wait import removed_exit_code

        return removed_exit_code(self, ctr_id)

    # --- wait / list ----------------------------------------------------------------

    def wait(self, name_or_id: str, conditions: Sequence[str] = ("stopped",), interval: float = 0.25) -> int:
        """Block until the container reaches a condition; return its exit code (-1 if none)."""
        from sealpod.engine.container_wait import wait

        return wait(self, name_or_id, conditions, interval)

    def list_containers(self, *, external: bool = False) -> list[ContainerRecord]:
        """Every container (a build's working ones only with ``external``, as Podman's own list)."""
        return [self.sync(r) for r in self.db.all() if external or not r.config.get("external")]

    def summaries(self, *, all_containers: bool, filters: Sequence[str] = (), size: bool = False,
                  namespaces: bool = False, external: bool = False) -> list[ContainerSummary]:
        """``ps``: from the database alone, as far as it can answer."""
        from sealpod.engine.container_list import summaries

        return summaries(self, all_containers=all_containers, filters=filters, size=size, namespaces=namespaces,
                         external=external)

    def rw_size(self, ctr_id: str) -> int:
        """Bytes in the container's writable layer (what it changed), as ``ps --size`` reports."""
        from sealpod.engine.container_list import rw_size

        return rw_size(self, ctr_id)

    def network_settings(self, rec: ContainerRecord) -> dict[str, Any]:
        from sealpod.engine.container_report import docker_network_settings

        return docker_network_settings(self, rec)

    def inspect(self, name_or_id: str, *, size: bool = False) -> dict[str, Any]:
        """``size``: with ``SizeRw`` and ``SizeRootFs`` (``inspect --size``), which walk the files."""
        from sealpod.engine.container_report import inspect

        rec = self.lookup(name_or_id)
        doc = inspect(self, rec)
        if size:
            from sealpod.engine.container_list import rw_size

            doc["SizeRw"] = rw_size(self, rec.id)
            doc["SizeRootFs"] = doc["SizeRw"] + (self.store.get_image(rec.image_id).size if rec.image_id else 0)
        return doc

    def logs(self, containers: Sequence[str], *, stdout: BinaryIO, stderr: BinaryIO, follow: bool = False,
             tail: int = -1, since: str | None = None, until: str | None = None, timestamps: bool = False,
             names: bool = False) -> None:
        from sealpod.engine.container_report import logs

        logs(self, containers, stdout=stdout, stderr=stderr, follow=follow, tail=tail, since=since, until=until,
             timestamps=timestamps, names_prefix=names)

    def run_attached(self, name_or_id: str, *, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO,
                     tty: bool, detach_keys: str | None = None) -> int:
        """Start a container with our stdio attached and wait for it; returns its exit code."""
        from sealpod.engine.container_attach import run_attached

        return run_attached(self, name_or_id, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty,
                            detach_keys=detach_keys)

    def signals_forwarded_to(self, ctr_id: str, enabled: bool) -> contextlib.AbstractContextManager[None]:
        """--sig-proxy: signals sent to the attached sealpod go to the container's process."""
        from sealpod.engine.container_attach import signals_forwarded_to

        return signals_forwarded_to(self, ctr_id, enabled)

    def _remove_quietly(self, ctr_id: str, volumes: bool = False) -> None:
        try:
            self.remove(ctr_id, force=True, volumes=volumes)
        except SealpodError:
            pass
