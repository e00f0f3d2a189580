"""The event log: what the engine did, for ``sealpod events`` and the API's ``/events``.

Podman's file backend is mirrored: one JSON object per line, appended by whichever sealpod process
did the work (there is no daemon to ask).  The log lives under the graph root, so two sealpod
instances with different roots never see each other's events.  ``emit`` runs on every ``run``:
it makes one write under a short flock and must never fail the operation it records.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from sealpod.utils.record import dataclass, field
from sealpod.utils.timefmt import rfc3339_nano

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_state import ContainerRecord

ROTATE_SIZE = 1 << 20  # past this the log becomes events.log.1 (the one old file kept)
FILTER_KEYS = ("type", "event", "status", "container", "image", "volume", "network", "label", "pod")


@dataclass(frozen=True)
class Event:
    """One recorded event; ``time_ns`` is wall-clock nanoseconds since the epoch."""

    type: str
    action: str
    time_ns: int
    id: str = ""
    name: str = ""
    image: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    pod_id: str = ""  # a container event of a pod's member: the pod's ID (Podman's PodID)

    @classmethod
    def from_record(cls, doc: Mapping[str, Any]) -> Event:
        when = doc.get("Time", 0)
        if isinstance(when, str):  # a line written by Podman itself: RFC 3339 with nanoseconds
            when = parse_time(when) or 0
        return cls(type=str(doc.get("Type", "")), action=str(doc.get("Status", "")), time_ns=int(when),
                   id=str(doc.get("ID", "")), name=str(doc.get("Name", "")), image=str(doc.get("Image", "")),
                   attributes={str(k): str(v) for k, v in (doc.get("Attributes") or {}).items()},
                   pod_id=str(doc.get("PodID", "")))

    def to_record(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"Type": self.type, "Status": self.action, "Time": self.time_ns}
        for key, value in (("ID", self.id), ("Name", self.name), ("Image", self.image), ("PodID", self.pod_id)):
            if value:
                doc[key] = value
        if self.attributes:
            doc["Attributes"] = self.attributes
        return doc

    @property
    def labels(self) -> dict[str, str]:
        """Attributes other than the exit code: the container's labels, as Podman shows them."""
        return {k: v for k, v in self.attributes.items() if k != "containerExitCode"}

    def podman_json(self) -> dict[str, Any]:
        """``podman events --format json``: empty fields left out, the exit code promoted."""
        doc: dict[str, Any] = {}
        code = self.attributes.get("containerExitCode")
        if code is not None:
            doc["ContainerExitCode"] = int(code) if code.lstrip("-").isdigit() else code
        for key, value in (("ID", self.id), ("Image", self.image), ("Name", self.name)):
            if value:
                doc[key] = value
        doc.update({"Status": self.action, "Time": rfc3339_nano(self.time_ns), "Type": self.type})
        if self.pod_id:
            doc["PodID"] = self.pod_id
        doc["Attributes"] = self.labels or ({} if self.type == "container" else None)  # Podman: a map for containers
        return doc

    def docker_json(self) -> dict[str, Any]:
        """Docker's ``/events`` message; the legacy ``status``/``id``/``from`` keys too."""
        actor_id = self.id or self.name
        attrs = dict(self.labels)
        if self.image:
            attrs["image"] = self.image
        if self.name:
            attrs["name"] = self.name
        if "containerExitCode" in self.attributes:
            attrs["exitCode"] = self.attributes["containerExitCode"]
        doc: dict[str, Any] = {"status": self.action, "id": actor_id, "from": self.image,
                               "Type": self.type, "Action": self.action,
                               "Actor": {"ID": actor_id, "Attributes": attrs}, "scope": "local",
                               "time": self.time_ns // 1_000_000_000, "timeNano": self.time_ns}
        return doc

    def text(self, *, no_trunc: bool = True) -> str:
        """Podman's default line: ``<time> <type> <action> <id> <name>`` with container details."""
        ident = self.id if no_trunc or len(self.id) != 64 else self.id[:12]
        when = go_time(self.time_ns)
        if self.type in ("container", "pod"):  # Podman prints a pod's events as a container's
            details = [f"image={self.image}", f"name={self.name}"]
            details += [f"pod_id={self.pod_id}"] if self.pod_id else []
            details += [f"{k}={v}" for k, v in sorted(self.labels.items())]
            return f"{when} {self.type} {self.action} {ident} ({', '.join(details)})"
        if self.type == "image":
            return f"{when} {self.type} {self.action} {ident} {self.name}"
        return f"{when} {self.type} {self.action} {self.name or ident}"


def go_time(ns: int) -> str:
    """Go's default ``time.Time`` string in UTC, as Podman's text lines print it."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs))
    tail = f".{frac:09d}".rstrip("0").rstrip(".")
    return f"{base}{tail} +0000 UTC"


def parse_filters(filters: Sequence[str] | Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``key=value`` strings (CLI) or a key -> values mapping (API) into one mapping."""
    from sealpod.errors import InvalidArgument

    out: dict[str, list[str]] = {}
    items: list[tuple[str, str]] = []
    if isinstance(filters, Mapping):
        items = [(k, v) for k, values in filters.items() for v in values]
    else:
        for f in filters:
            key, sep, value = f.partition("=")
            if not sep:
                raise InvalidArgument(f'invalid filter "{f}", must be in key=value form')
            items.append((key, value))
    for key, value in items:
        if key not in FILTER_KEYS:
            raise InvalidArgument(f'"{key}" is an invalid filter')
        out.setdefault("event" if key == "status" else key, []).append(value)
    return out


def _one(ev: Event, key: str, value: str) -> bool:
    if key == "type":
        return ev.type == value
    if key == "event":
        return ev.action == value
    if key == "label":
        k, sep, v = value.partition("=")
        return k in ev.labels and (not sep or ev.labels[k] == v)
    if key == "image":
        return ev.type in ("container", "image") and (
            value in (ev.image, ev.name) or (len(value) >= 3 and ev.id.startswith(value) and ev.type == "image")
            or ev.image.split("/")[-1] in (value, value + ":latest"))
    if ev.type != key:  # container=, volume=, network=, pod= (a pod's own events only, as Podman)
        return False
    return value == ev.name or (bool(ev.id) and ev.id.startswith(value))


def matches(ev: Event, filters: Mapping[str, Sequence[str]]) -> bool:
    """Values of one key are alternatives; different keys must all hold, as in Podman."""
    return all(any(_one(ev, key, v) for v in values) for key, values in filters.items())


def parse_time(text: str | None, *, until: bool = False) -> int | None:
    """``--since``/``--until``: RFC 3339, a Unix time, or a duration from now (back for since, forward for
    until: ``--until 5s`` follows five more seconds, as Podman's); nanoseconds."""
    if not text:
        return None
    from sealpod.engine.container_report import _time_arg

    return _time_arg(text, since=not until)


class EventLog:
    """Append-only JSON lines under ``<graph root>/events``, read back with filters or followed."""

    def __init__(self, engine: Engine) -> None:
        conf = engine.config.containers.engine
        self.dir = Path(engine.config.storage.graph_root) / "events"
        self.path = self.dir / "events.log"
        self.enabled = conf.events_logger != "none"
        self.max_size = 0  # a configured file is trimmed in place past this, as Podman trims it
        if conf.events_logfile_path:
            from sealpod.engine.container_checks import parse_size

            self.path = Path(conf.events_logfile_path)
            self.dir = self.path.parent
            self.max_size = parse_size(conf.events_logfile_max_size) if conf.events_logfile_max_size else 0

    # --- writing ------------------------------------------------------------------

    def emit(self, type: str, action: str, *, id: str = "", name: str = "", image: str = "",
             attributes: Mapping[str, str] | None = None, pod_id: str = "") -> None:
        """Record one event; a full disk or a read-only root loses the event, not the operation."""
        if not self.enabled:
            return
        ev = Event(type, action, time.time_ns(), id, name, image, dict(attributes or {}), pod_id)
        line = (json.dumps(ev.to_record(), separators=(",", ":")) + "\n").encode()
        try:
            self._append(line)
        except OSError:
            pass

    def container(self, rec: ContainerRecord, action: str, **extra: str) -> None:
        """A container event with its image, name and labels (Podman's attributes); none for a build's
        working containers, which Podman leaves to Buildah, whose containers have no events."""
        if rec.config.get("external"):
            return
        labels = rec.spec.get("labels") or rec.config.get("labels") or {}
        self.emit("container", action, id=rec.id, name=rec.name, image=rec.image_name,
                  attributes={**{str(k): str(v) for k, v in labels.items()}, **extra}, pod_id=rec.pod_id or "")

    def _append(self, line: bytes) -> None:
        import fcntl

        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                self.dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                st = os.fstat(fd)
                if st.st_nlink == 0:
                    continue  # rotated away while we waited for the lock: open the new file
                if self.max_size and st.st_size + len(line) > self.max_size:
                    line = self._trim(fd, st.st_size, line) + line
                elif not self.max_size and st.st_size + len(line) > ROTATE_SIZE and st.st_size > 0:
                    os.replace(self.path, self.path.with_name("events.log.1"))
                    continue
                os.write(fd, line)
                return
            finally:
                os.close(fd)

    def _trim(self, fd: int, size: int, line: bytes) -> bytes:
        """Keep the newer half of the file (whole lines) and return the ``log-rotation`` event line
        that must follow it: Podman's rotation of a configured events file, which readers expect."""
        data = os.pread(fd, size, 0)
        start = data.find(b"\n", size // 2) + 1  # the line at the middle is dropped even when whole, as Podman
        os.ftruncate(fd, 0)
        os.write(fd, data[start:] if start > 0 else b"")
        when = json.loads(line).get("Time") if line.startswith(b"{") else None
        ev = Event("system", "log-rotation", when if isinstance(when, int) else time.time_ns(), name=str(self.path))
        return (json.dumps(ev.to_record(), separators=(",", ":")) + "\n").encode()

    def _check_readable(self) -> None:
        if not self.enabled:
            from sealpod.errors import InvalidArgument

            raise InvalidArgument('cannot read events with the "none" backend')

    # --- reading ------------------------------------------------------------------

    def read(self, since: int | None = None, until: int | None = None,
             filters: Mapping[str, Sequence[str]] | None = None) -> list[Event]:
        """Recorded events in the time window (nanoseconds, inclusive), oldest first."""
        self._check_readable()
        return self._read(since, until, filters, None)

    def _read(self, since: int | None, until: int | None, filters: Mapping[str, Sequence[str]] | None,
              limit: int | None) -> list[Event]:
        out: list[Event] = []
        for path in (self.path.with_name("events.log.1"), self.path):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            if path == self.path and limit is not None:
                data = data[:limit]
            out.extend(e for e in _parse(data) if _wanted(e, since, until, filters))
        out.sort(key=lambda e: e.time_ns)
        return out

    def follow(self, since: int | None = None, until: int | None = None,
               filters: Mapping[str, Sequence[str]] | None = None, interval: float = 0.2,
               alive: Callable[[], bool] | None = None) -> Iterator[Event]:
        """Past events in the window, then new ones as they are written, until ``until`` passes
        (or ``alive`` says the reader went away: an API client that hung up)."""
        self._check_readable()
        fh, offset = self._open_at_end()  # first, so nothing written meanwhile is missed or doubled
        try:
            if since is not None:
                yield from self._read(since, until, filters, offset)
            while (until is None or time.time_ns() < until) and (alive is None or alive()):
                fh, chunk = self._poll(fh)
                for ev in _parse(chunk):
                    if _wanted(ev, None, until, filters):
                        yield ev
                if not chunk:
                    time.sleep(interval)
        finally:
            if fh is not None:
                fh.close()

    def _open_at_end(self) -> tuple[Any, int]:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return None, 0
        fh.seek(0, os.SEEK_END)
        return fh, fh.tell()

    def _poll(self, fh: Any) -> tuple[Any, bytes]:
        """New complete lines; switches to the new file after a rotation."""
        if fh is None:
            try:
                fh = open(self.path, "rb")  # noqa: SIM115
            except FileNotFoundError:
                return None, b""
        data = fh.read()
        if not data:
            try:
                if os.stat(self.path).st_ino != os.fstat(fh.fileno()).st_ino:
                    fh.close()
                    return self._poll(None)
            except FileNotFoundError:
                pass
            return fh, b""
        if not data.endswith(b"\n"):  # a line half written: read it whole next time
            keep = data.rfind(b"\n") + 1
            fh.seek(keep - len(data), os.SEEK_CUR)
            data = data[:keep]
        return fh, data


def _parse(data: bytes) -> Iterator[Event]:
    for raw in data.splitlines():
        try:
            doc = json.loads(raw)
        except ValueError:
            continue  # a torn line after a crash: skip it, as Podman does
        if isinstance(doc, dict):
            yield Event.from_record(doc)


def _wanted(ev: Event, since: int | None, until: int | None,
            filters: Mapping[str, Sequence[str]] | None) -> bool:
    if since is not None and ev.time_ns < since:
        return False
    if until is not None and ev.time_ns > until:
        return False
    return not filters or matches(ev, filters)
