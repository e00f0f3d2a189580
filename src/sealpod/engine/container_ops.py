"""Verbs on existing containers: exec, attach, top, port, rename, init, mount, prune, clone, update.

Each verb is a thin layer over :class:`~sealpod.engine.containers.ContainerService`: it looks
the container up, checks its state under the container's lock where the state matters, and
asks the runtime (conmon, runc) or storage to act.  Exec sessions live in the container's run
directory only while they run: attached ones are removed when they end, detached ones the next
time an exec starts (or with the container), so nothing accumulates.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from sealpod.engine.container_config import ContainerConfig
from sealpod.engine.container_state import ContainerRecord, State
from sealpod.errors import (
    Conflict,
    ContainerStateInvalid,
    InvalidArgument,
    NoSuchContainer,
    SealpodError,
)
from sealpod.utils.record import dataclass, replace

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine import Engine
    from sealpod.engine.containers import ContainerService

_ACTIVE = (State.RUNNING, State.PAUSED, State.STOPPING)
_IN_RUNTIME = (State.CREATED, State.RUNNING, State.PAUSED, State.STOPPING)
_USER_MOUNT_MARK = "user-mount"


@dataclass(frozen=True)
class ExecOptions:
    """One ``exec``: what to run and how; empty fields keep the container's own settings."""

    command: tuple[str, ...]
    interactive: bool = False
    tty: bool = False
    detach: bool = False
    env: tuple[str, ...] = ()        # KEY=VALUE, over the container's environment
    user: str = ""
    workdir: str = ""
    privileged: bool = False
    detach_keys: str | None = None
    preserve_fds: int = 0            # fds 3..3+N-1 of the caller reach the process (exec --preserve-fds)


@dataclass(frozen=True)
class UpdateOptions:
    """New cgroup limits; None leaves a limit as it is."""

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    cpus: float | None = None
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    memory_swappiness: int | None = None
    blkio_weight: int | None = None
    # per-device limits, (PATH, VALUE) each; () leaves them as they are
    blkio_weight_device: tuple[tuple[str, int], ...] = ()
    device_read_bps: tuple[tuple[str, int], ...] = ()
    device_write_bps: tuple[tuple[str, int], ...] = ()
    device_read_iops: tuple[tuple[str, int], ...] = ()
    device_write_iops: tuple[tuple[str, int], ...] = ()
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None


@dataclass(frozen=True)
class MountReport:
    """A container whose root filesystem is mounted, as ``mount`` lists it."""

    id: str
    names: tuple[str, ...]
    mountpoint: str


@dataclass(frozen=True)
class CloneOptions:
    name: str = ""
    image: str = ""
    destroy: bool = False
    force: bool = False
    run: bool = False
    resources: UpdateOptions = UpdateOptions()
    pod: str = ""  # the pod the clone joins (its source's pod otherwise)


class ContainerOps:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.svc: ContainerService = engine.containers

    # --- exec -----------------------------------------------------------------------

    def _running(self, name_or_id: str) -> ContainerRecord:
        rec = self.svc.lookup(name_or_id)
        if rec.state != State.RUNNING:
            raise ContainerStateInvalid("can only create exec sessions on running containers: "
                                        "container state improper")
        return rec

    def exec_process(self, rec: ContainerRecord, opts: ExecOptions) -> dict[str, Any]:
        """The container's own process (env, cwd, user, caps, rlimits) with the exec's changes."""
        from sealpod.engine.container_exec_user import exec_user

        bundle = self.svc.paths(rec.id).bundle / "config.json"
        try:
            spec = json.loads(bundle.read_text())
        except (OSError, ValueError) as e:
            raise ContainerStateInvalid(f"container {rec.id} has no runtime configuration: "
                                        "container state improper") from e
        process: dict[str, Any] = dict(spec.get("process") or {})
        process["args"] = list(opts.command)
        env = _merge_env(process.get("env") or [], opts.env)
        rootfs = Path(spec.get("root", {}).get("path") or self.svc.store.containers.mount(rec.id))
        process["user"], home = exec_user(spec, rootfs, self.svc.paths(rec.id).userdata,
                                          str(rec.spec.get("user") or ""), tuple(rec.config.get("group_add") or ()),
                                          opts.user)
        if home is not None and not any(e.startswith("HOME=") for e in opts.env):
            env = _merge_env(env, (f"HOME={home}",))
        process["env"] = env
        if opts.workdir:
            process["cwd"] = opts.workdir
        if opts.privileged:
            from sealpod.runtime.spec import host_capabilities

            caps = list(host_capabilities())
            process["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
            process.pop("selinuxLabel", None)
            process.pop("apparmorProfile", None)
        process["terminal"] = opts.tty
        process.pop("consoleSize", None)
        return process

    def exec(self, name_or_id: str, opts: ExecOptions, *, stdin: BinaryIO | None, stdout: BinaryIO,
             stderr: BinaryIO, exec_id: str | None = None) -> int:
        """Run a process in a running container with our stdio attached; its exit code.

        Detaching (the keys, on a terminal) leaves it running and returns 0, as Podman does.
        """
        from sealpod.engine.names import new_id
        from sealpod.runtime.attach import DEFAULT_DETACH_KEYS, connect, parse_detach_keys, stream

        if not opts.command:
            raise InvalidArgument("must provide a non-empty command to start an exec session")
        keys = DEFAULT_DETACH_KEYS if opts.detach_keys is None else parse_detach_keys(opts.detach_keys)
        rec = self._running(name_or_id)
        self._forget_finished_execs(rec.id)
        runtime = self.svc.runtime(rec)
        sess = runtime.exec(rec.id, self.exec_process(rec, opts), terminal=opts.tty, stdin=opts.interactive,
                            detach=False, exec_id=exec_id or new_id(), name=rec.name,
                            preserve_fds=opts.preserve_fds)
        detached = False
        try:
            assert sess.attach_socket is not None
            sock = connect(sess.attach_socket)
            try:
                sess.start()
            except BaseException:
                sock.close()
                raise
            detached = stream(sock, stdin=stdin if opts.interactive else None, stdout=stdout, stderr=stderr,
                              tty=opts.tty, detach_keys=keys,
                              ctl_path=sess.exec_dir / "ctl" if opts.tty else None)
            return 0 if detached else sess.wait()
        finally:
            sess.close()
            if not detached:
                shutil.rmtree(sess.exec_dir, ignore_errors=True)

    def exec_detached(self, name_or_id: str, opts: ExecOptions) -> str:
        """Start a process in the background; returns the exec session's ID, as Podman prints it."""
        from sealpod.engine.names import new_id

        if not opts.command:
            raise InvalidArgument("must provide a non-empty command to start an exec session")
        rec = self._running(name_or_id)
        self._forget_finished_execs(rec.id)
        exec_id = new_id()
        sess = self.svc.runtime(rec).exec(rec.id, self.exec_process(rec, replace(opts, interactive=False)),
                                       terminal=opts.tty, stdin=False, detach=True, exec_id=exec_id,
                                       name=rec.name, preserve_fds=opts.preserve_fds)
        sess.close()
        return exec_id

    def _forget_finished_execs(self, ctr_id: str) -> None:
        """Drop the directories of detached sessions whose process has ended."""
        from sealpod.runtime.conmon import read_exit_file

        base = self.svc.runtime().persist_dir(ctr_id) / "exec"
        try:
            entries = list(base.iterdir())
        except OSError:
            return
        for d in entries:
            if read_exit_file(d / "exits" / d.name) is not None:
                shutil.rmtree(d, ignore_errors=True)

    # --- attach ---------------------------------------------------------------------

    def attach(self, name_or_id: str, *, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO,
               detach_keys: str | None = None, sig_proxy: bool = True) -> int | None:
        """Attach to a running container; its exit code once it ends, None if the user detached.

        ``stdin`` is only forwarded when the container was created with ``-i``.
        """
        from sealpod.runtime.attach import DEFAULT_DETACH_KEYS, connect, parse_detach_keys, stream

        keys = DEFAULT_DETACH_KEYS if detach_keys is None else parse_detach_keys(detach_keys)
        rec = self.svc.lookup(name_or_id)
        if rec.state not in _ACTIVE:
            raise ContainerStateInvalid("you can only attach to running containers")
        cfg = ContainerConfig.from_json(rec.config)
        runtime = self.svc.runtime()
        sock = connect(runtime.attach_socket_path(rec.id))
        with self.svc.signals_forwarded_to(rec.id, sig_proxy and not cfg.tty):
            detached = stream(sock, stdin=stdin if cfg.interactive else None, stdout=stdout, stderr=stderr,
                              tty=cfg.tty, detach_keys=keys, ctl_path=runtime.ctl_path(rec.id) if cfg.tty else None)
        if detached:
            return None
        return self._exit_after(rec)

    def _exit_after(self, rec: ContainerRecord) -> int:
        """The exit code of a container whose output just ended, after its cleanup."""
        deadline = time.monotonic() + 30
        code = self.svc.runtime().exit_code(rec.id)
        while code is None and time.monotonic() < deadline:
            fresh = self.svc.lookup(rec.id)
            if fresh.state not in _IN_RUNTIME:
                code = fresh.exit_code
                break
            time.sleep(0.02)
            code = self.svc.runtime().exit_code(rec.id)
        try:
            final = self.svc.cleanup(rec.id)
        except NoSuchContainer:
            return code if code is not None else 0
        if code is None:
            code = final.exit_code
        return code if code is not None else 0

    # --- top / port -----------------------------------------------------------------

    def top(self, name_or_id: str, descriptors: Sequence[str] = ()) -> list[list[str]]:
        """The container's processes as rows of ``ps`` descriptors, the header row first.

        Descriptors sealpod does not know (``ps`` options such as ``-ef``) are handed to the
        container's own ``ps``, as Podman does; its output comes back as one-cell rows.
        """
        rec = self.svc.lookup(name_or_id)
        if rec.state not in _ACTIVE:
            raise ContainerStateInvalid("top can only be used on running containers")
        words = [w for d in descriptors for w in d.split(",") if w]
        from sealpod.engine.container_top import parse_descriptors, top_table

        try:
            fields = parse_descriptors(words)
        except InvalidArgument:
            return self._top_in_container(rec, [w for d in descriptors for w in d.split()])  # "ax -o args": 3
        rootfs = self.svc.paths(rec.id).bundle / "rootfs"
        spec = self.svc.paths(rec.id).bundle / "config.json"
        try:
            rootfs = Path(json.loads(spec.read_text())["root"]["path"])
        except (OSError, ValueError, KeyError):
            pass
        return top_table(rec.pid, fields, rootfs)

    def _top_in_container(self, rec: ContainerRecord, words: list[str]) -> list[list[str]]:
        import io

        out, err = io.BytesIO(), io.BytesIO()
        try:
            code = self.exec(rec.id, ExecOptions(command=("ps", *words)), stdin=None, stdout=out, stderr=err)
        except SealpodError as e:
            raise SealpodError(f"executing ps(1) in the container: {e}") from e
        if code != 0:
            text = (err.getvalue() or out.getvalue()).decode(errors="replace").strip().splitlines()
            raise SealpodError(f"executing ps(1) in the container: {text[-1] if text else f'exit status {code}'}")
        ours = " ".join(("ps", *words))  # the ps we ran is not one of the container's processes
        return [[line] for line in out.getvalue().decode(errors="replace").splitlines()
                if not line.rstrip().endswith(ours)]

    def port(self, name_or_id: str) -> list[str]:
        """Published ports as ``80/tcp -> 0.0.0.0:8080``; none until sealpod publishes ports."""
        return self.engine.networks.port_lines(self.svc.lookup(name_or_id))

    # --- rename / init --------------------------------------------------------------

    def rename(self, name_or_id: str, new_name: str) -> ContainerRecord:
        import re
        import sqlite3

        rec = self.svc.lookup(name_or_id)
        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", new_name or ""):
            raise InvalidArgument("names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument")
        if new_name == rec.name:
            return rec
        taken = Conflict(f"renaming container {rec.id}: name {new_name} already in use, cannot rename "
                         f"container {rec.id}: container already exists")
        with self.svc.lock(rec.id):
            rec = self.svc.db.get(rec.id)
            if self.svc.db.name_in_use(new_name):
                raise taken
            try:
                rec = self.svc.db.update(rec, name=new_name, config={**rec.config, "name": new_name})
            except sqlite3.IntegrityError as e:
                raise taken from e
        self.svc.engine.events.container(rec, "rename")  # under the new name, as Podman records it
        return rec

    def init(self, name_or_id: str) -> ContainerRecord:
        """Create the container in the runtime (conmon waiting, process not started)."""
        rec = self.svc.lookup(name_or_id)
        with self.svc.lock(rec.id):
            rec = self.svc.db.get(rec.id)
            if rec.state in _IN_RUNTIME:
                raise ContainerStateInvalid(f"container {rec.id} has already been created in runtime: "
                                            "container state improper")
            return self.svc.init(rec)

    # --- mount / unmount ------------------------------------------------------------

    def _mark(self, ctr_id: str) -> Path:
        return self.svc.paths(ctr_id).rundir / _USER_MOUNT_MARK

    def mount(self, name_or_id: str) -> Path:
        rec = self.svc.lookup(name_or_id, external=True)  # storage-level, as Podman's: a build's too
        with self.svc.lock(rec.id):
            path = self.svc.store.containers.mount(rec.id)
            mark = self._mark(rec.id)
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.touch()
        return path

    def mounted(self) -> list[MountReport]:
        """Containers whose root is mounted: by the user, or because they run."""
        out = []
        layers = self.svc.store.containers
        for rec in self.svc.list_containers():
            vfs = self.svc.store.driver_name == "vfs"
            if vfs and not (self._mark(rec.id).exists() or rec.state in _IN_RUNTIME):
                continue
            if vfs or layers.is_mounted(rec.id):
                out.append(MountReport(rec.id, (rec.name,), os.fspath(layers.mount(rec.id) if vfs else
                                                                      layers.diff_path(rec.id).parent / "merged")))
        return out

    def unmount(self, name_or_id: str, *, force: bool = False) -> bool:
        """Drop the user's mount; True if the root was unmounted (a running container keeps it)."""
        rec = self.svc.lookup(name_or_id, external=True)
        with self.svc.lock(rec.id):
            rec = self.svc.sync(self.svc.db.get(rec.id), locked=True)
            self._mark(rec.id).unlink(missing_ok=True)
            if rec.state in _IN_RUNTIME:
                return False
            was = self.svc.store.driver_name != "vfs" and self.svc.store.containers.is_mounted(rec.id)
            self.svc.store.containers.unmount(rec.id)
            return was or force

    def unmount_all(self, *, force: bool = False) -> list[str]:
        """``unmount --all``: the IDs of the containers actually unmounted."""
        done = []
        for report in self.mounted():
            try:
                if self.unmount(report.id, force=force):
                    done.append(report.id)
            except NoSuchContainer:
                continue
        return done

    # --- prune / clone / update -----------------------------------------------------

    def prune(self, filters: Sequence[str] = ()) -> list[str]:
        """Remove every container that is not running or paused; their IDs."""
        from sealpod.engine.container_report import filtered

        until: float | None = None
        kept: list[str] = []
        for spec in filters:
            key, sep, value = spec.partition("=")
            if not sep:
                raise InvalidArgument(f'invalid filter "{spec}"')
            if key == "until":
                until = _until(value)
            elif key in ("label", "label!"):
                kept.append(spec)
            else:
                raise InvalidArgument(f"{key} is an invalid filter")
        records = [r for r in self.svc.list_containers() if r.state not in _ACTIVE]
        negated = [s.partition("=")[2] for s in kept if s.startswith("label!=")]
        records = filtered(self.svc, records, [s for s in kept if s.startswith("label=")])
        records = [r for r in records if not any(_has_label(r, n) for n in negated)]
        if until is not None:
            records = [r for r in records if r.created < until]
        removed = []
        for rec in reversed(records):  # newest first: dependents go before what they depend on
            try:
                removed.append(self.svc.remove(rec.id, force=True))
            except (NoSuchContainer, Conflict):  # Conflict: a running container depends on it
                continue
        return removed[::-1]

    def clone(self, name_or_id: str, opts: CloneOptions) -> ContainerRecord:
        """A new container with the configuration of an existing one (``-clone`` appended to the name)."""
        from sealpod.engine.container_clone import clone

        return clone(self, name_or_id, opts)

    def update(self, name_or_id: str, opts: UpdateOptions) -> ContainerRecord:
        """Store the new limits; a running container gets them at once through ``runc update`` (and the
        per-device blkio limits, which runc drops from an update, written to its cgroup)."""
        from sealpod.engine.cgroups import BLOCK_LIMITS, apply_block_io, check_device_paths

        check_device_paths(opts.blkio_weight_device, [getattr(opts, f[0]) for f in BLOCK_LIMITS])
        rec = self.svc.lookup(name_or_id)
        with self.svc.lock(rec.id):
            rec = self.svc.sync(self.svc.db.get(rec.id), locked=True)
            cfg = with_resources(ContainerConfig.from_json(rec.config), opts, merge=True)
            if rec.state in _IN_RUNTIME:
                resources = oci_resources(opts)
                if resources:
                    self.svc.runtime(rec).update(rec.id, resources)
                if rec.pid and resources.get("blockIO"):
                    apply_block_io(rec.pid, resources["blockIO"])
            return self.svc.db.update(rec, config=cfg.to_json())


def _merge_env(base: Sequence[str], extra: Sequence[str]) -> list[str]:
    """KEY=VALUE lists: later keys replace earlier ones in place, new keys go last."""
    merged: dict[str, str] = {}
    for item in (*base, *extra):
        key, _, _ = item.partition("=")
        merged[key] = item
    return list(merged.values())


def with_resources(cfg: ContainerConfig, opts: UpdateOptions, *, merge: bool = False) -> ContainerConfig:
    """``cfg`` with the limits ``opts`` gives.  A per-device flag replaces the list it names (clone, as
    Podman's); with ``merge`` (update) it sets its devices and keeps the others, as the cgroup does."""
    changes: dict[str, Any] = {k: getattr(opts, k) for k in ("memory", "memory_swap", "cpus", "cpu_shares",
                                                             "cpuset_cpus", "cpuset_mems", "pids_limit",
                                                             "memory_reservation", "memory_swappiness",
                                                             "blkio_weight", "cpu_rt_period", "cpu_rt_runtime")
                               if getattr(opts, k) is not None}
    for k in ("blkio_weight_device", "device_read_bps", "device_write_bps", "device_read_iops", "device_write_iops"):
        if getattr(opts, k):
            pairs = {**dict(getattr(cfg, k)), **dict(getattr(opts, k))} if merge else dict(getattr(opts, k))
            changes[k] = tuple(pairs.items())
    if opts.cpu_quota is not None and opts.cpus is None:
        changes["cpus"] = opts.cpu_quota / (opts.cpu_period or 100000)
    return replace(cfg, **changes) if changes else cfg


def oci_resources(opts: UpdateOptions) -> dict[str, Any]:
    """The OCI ``linux.resources`` object ``runc update`` takes, with only what was given."""
    out: dict[str, Any] = {}
    memory = {k: v for k, v in (("limit", opts.memory), ("swap", opts.memory_swap),
                                ("reservation", opts.memory_reservation), ("swappiness", opts.memory_swappiness))
              if v is not None}
    if memory:
        out["memory"] = memory
    quota, period = opts.cpu_quota, opts.cpu_period
    if opts.cpus is not None:
        if opts.cpus < 0:
            raise InvalidArgument(f"invalid --cpus {opts.cpus}: must be positive")
        period = period or 100000
        quota = int(opts.cpus * period) if opts.cpus else -1
    cpu = {k: v for k, v in (("shares", opts.cpu_shares), ("quota", quota), ("period", period),
                             ("cpus", opts.cpuset_cpus), ("mems", opts.cpuset_mems),
                             ("realtimePeriod", opts.cpu_rt_period), ("realtimeRuntime", opts.cpu_rt_runtime))
           if v is not None}
    if cpu:
        out["cpu"] = cpu
    if opts.pids_limit is not None:
        out["pids"] = {"limit": opts.pids_limit if opts.pids_limit > 0 else -1}
    from sealpod.engine.cgroups import BLOCK_LIMITS, block_io_devices

    block_io = block_io_devices(opts.blkio_weight_device, {f[0]: getattr(opts, f[0]) for f in BLOCK_LIMITS})
    if opts.blkio_weight is not None:
        block_io["weight"] = opts.blkio_weight
    if block_io:
        out["blockIO"] = block_io
    return out


def _has_label(rec: ContainerRecord, spec: str) -> bool:
    key, has, value = spec.partition("=")
    labels = rec.spec.get("labels") or rec.config.get("labels") or {}
    return key in labels and (not has or labels[key] == value)


def _until(value: str) -> float:
    """``until=`` takes a Unix time, an RFC 3339 date or a duration before now (``10m``, ``2h``)."""
    import re
    from datetime import datetime

    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    m = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)", text)
    if m:
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
        total = sum(float(n) * scale[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text))
        return time.time() - total
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as e:
        raise InvalidArgument(f'invalid filter "until={value}": not a timestamp or duration') from e
