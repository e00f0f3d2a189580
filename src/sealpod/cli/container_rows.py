"""Template rows for ``ps``: the field names Podman's ``--format`` offers for containers."""

from __future__ import annotations

import time

from sealpod.cli.image_rows import created_since, go_time
from sealpod.engine.container_report import ContainerSummary

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


def _status(s: ContainerSummary, now: float) -> str:
    from sealpod.cli.formatting import human_duration

    if s.state == "running":
        up = f"Up {human_duration(max(0.0, now - s.started_at))} ago" if s.started_at else "Up"
        return f"{up} ({s.health})" if s.health else up
    if s.state == "paused":
        return "Paused"
    if s.state in ("exited", "stopped"):
        ago = human_duration(max(0.0, now - s.finished_at)) if s.finished_at else ""
        return f"Exited ({s.exit_code or 0}) {ago} ago" if ago else f"Exited ({s.exit_code or 0})"
    if s.state == "created":  # created in the runtime (`init`), not started: Podman's word
        return "Initialized"
    if s.state == "configured":
        return "Created"
    return s.state.capitalize()


class _Namespaces:
    """``{{.Namespaces.NET}}``: a running container's namespace inodes (empty strings otherwise, as
    Podman's always-present struct gives)."""

    def __init__(self, ns: dict[str, str]) -> None:
        self.Cgroup = ns.get("Cgroup", "")  # noqa: N815 - Go template field names
        self.IPC = ns.get("Ipc", "")
        self.MNT = ns.get("Mnt", "")
        self.NET = ns.get("Net", "")
        self.PIDNS = ns.get("Pidns", "")
        self.User = ns.get("User", "")  # noqa: N815
        self.UTS = ns.get("Uts", "")

    def __str__(self) -> str:
        """``{{.Namespaces}}``: Go prints the struct's values in its field order."""
        return "{" + " ".join((self.MNT, self.Cgroup, self.IPC, self.NET, self.PIDNS, self.UTS, self.User)) + "}"


class ContainerRow:
    def __init__(self, summary: ContainerSummary, *, no_trunc: bool = False) -> None:
        self._s = summary
        self._no_trunc = no_trunc
        self._now = time.time()

    @property
    def ID(self) -> str:  # noqa: N802 - Go template field names
        return self._s.id if self._no_trunc else self._s.id[:12]

    @property
    def Image(self) -> str:  # noqa: N802
        return self._s.image

    @property
    def ImageID(self) -> str:  # noqa: N802
        return self._s.image_id

    @property
    def Command(self) -> str:  # noqa: N802
        text = " ".join(self._s.command)
        return text if self._no_trunc or len(text) <= 20 else text[:17] + "..."

    @property
    def CreatedHuman(self) -> str:  # noqa: N802
        return created_since(self._s.created, self._now)

    @property
    def RunningFor(self) -> str:  # noqa: N802
        return created_since(self._s.created, self._now)

    @property
    def Created(self) -> str:  # noqa: N802
        return created_since(self._s.created, self._now)

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return go_time(self._s.created)

    @property
    def Status(self) -> str:  # noqa: N802
        return _status(self._s, self._now)

    @property
    def State(self) -> str:  # noqa: N802
        return {"stopped": "exited", "configured": "created"}.get(self._s.state, self._s.state)

    @property
    def Names(self) -> str:  # noqa: N802
        return self._s.name

    @property
    def Ports(self) -> str:  # noqa: N802
        return ", ".join(str(p) for p in self._s.ports)

    @property
    def Labels(self) -> dict[str, str]:  # noqa: N802
        return self._s.labels

    @property
    def Mounts(self) -> str:  # noqa: N802
        return ",".join(self._s.mounts)

    @property
    def Pid(self) -> int:  # noqa: N802
        return self._s.pid

    @property
    def ExitCode(self) -> int:  # noqa: N802
        return self._s.exit_code or 0

    @property
    def Exited(self) -> bool:  # noqa: N802
        return self._s.state in ("exited", "stopped")

    @property
    def AutoRemove(self) -> bool:  # noqa: N802
        return self._s.auto_remove

    @property
    def Size(self) -> str:  # noqa: N802
        """Podman's ``0B (virtual 2.04MB)``; empty unless ``--size`` computed it."""
        if self._s.rw_size is None:
            return ""
        from sealpod.cli.formatting import human_size

        return f"{human_size(self._s.rw_size, sep='')} (virtual {human_size(self._s.root_size or 0, sep='')})"

    @property
    def Pod(self) -> str:  # noqa: N802
        return self._s.pod_id if self._no_trunc else self._s.pod_id[:12]

    @property
    def PodName(self) -> str:  # noqa: N802
        return self._s.pod_name

    @property
    def IsInfra(self) -> bool:  # noqa: N802
        return self._s.is_infra

    @property
    def Networks(self) -> str:  # noqa: N802
        return ",".join(self._s.networks)

    @property
    def Namespaces(self) -> _Namespaces:  # noqa: N802
        return _Namespaces(dict(self._s.namespaces))

    @property
    def CgroupNS(self) -> str:  # noqa: N802 - the columns of ps --ns
        return self.Namespaces.Cgroup

    @property
    def IPC(self) -> str:  # noqa: N802
        return self.Namespaces.IPC

    @property
    def MNT(self) -> str:  # noqa: N802
        return self.Namespaces.MNT

    @property
    def NET(self) -> str:  # noqa: N802
        return self.Namespaces.NET

    @property
    def PIDNS(self) -> str:  # noqa: N802
        return self.Namespaces.PIDNS

    @property
    def UserNS(self) -> str:  # noqa: N802
        return self.Namespaces.User

    @property
    def UTS(self) -> str:  # noqa: N802
        return self.Namespaces.UTS

    def Label(self, name: str) -> str:  # noqa: N802 - the Go method {{.Label "key"}}
        return self._s.labels.get(name, "")

    def to_json(self) -> dict[str, Any]:
        doc = self._s.to_json()
        doc["CreatedAt"] = self.CreatedHuman
        doc["Status"] = self.Status
        return doc


_SORT = {
    "created": lambda r: r._s.created, "id": lambda r: r._s.id, "image": lambda r: r._s.image,
    "names": lambda r: r._s.name, "command": lambda r: r._s.command, "status": lambda r: r._s.state,
    "runningfor": lambda r: r._s.created, "size": lambda r: (r._s.root_size or 0, r._s.rw_size or 0),
}


def sort_rows(rows: list[ContainerRow], key: str) -> list[ContainerRow]:
    from sealpod.errors import InvalidArgument

    if key not in _SORT:
        raise InvalidArgument(f"invalid option for --sort, options are: {', '.join(_SORT)}")
    return sorted(rows, key=_SORT[key], reverse=key == "runningfor")  # Podman: oldest first
