"""Template rows for image commands: the field names Podman's ``--format`` offers."""

from __future__ import annotations

from datetime import UTC, datetime

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:  # ps uses the time helpers here and should not load the image entities
    from typing import Any

    from sealpod.engine.entities import HistoryEntry, ImageSummary


def created_since(epoch: float | None, now: float | None = None) -> str:
    from sealpod.cli.formatting import human_duration

    if not epoch:
        return ""
    now = datetime.now(UTC).timestamp() if now is None else now
    return human_duration(max(0.0, now - epoch)) + " ago"


def go_time(epoch: float) -> str:
    """Go's time.Time String() for a UTC time, as Podman prints ``{{.CreatedAt}}``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


class ImageRow:
    """One line of ``images``: one image under one of its names (or ``<none>``)."""

    def __init__(self, image: ImageSummary, name: str | None, *, no_trunc: bool = False) -> None:
        self._image = image
        self._no_trunc = no_trunc
        repo, tag = "<none>", "<none>"
        if name and "@" in name:  # pulled by digest: a repository without a tag
            repo = name.partition("@")[0]
        elif name:
            repo, _, tag = name.rpartition(":")
            if "/" in tag:  # a port, not a tag
                repo, tag = name, "<none>"
        self.Repository = repo
        self.Tag = tag

    @property
    def ID(self) -> str:  # noqa: N802 - Go template field name
        return f"sha256:{self._image.id}" if self._no_trunc else self._image.id[:12]

    @property
    def Id(self) -> str:  # noqa: N802
        return self._image.id

    @property
    def Digest(self) -> str:  # noqa: N802
        return self._image.digest

    @property
    def Digests(self) -> list[str]:  # noqa: N802
        return [d.split("@", 1)[1] for d in self._image.repo_digests]

    @property
    def Created(self) -> str:  # noqa: N802
        return created_since(self._image.created)

    @property
    def CreatedSince(self) -> str:  # noqa: N802
        return created_since(self._image.created)

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return go_time(self._image.created)

    @property
    def CreatedTime(self) -> str:  # noqa: N802
        return go_time(self._image.created)

    @property
    def Size(self) -> str:  # noqa: N802
        from sealpod.cli.formatting import human_size

        return human_size(self._image.size)

    @property
    def VirtualSize(self) -> int:  # noqa: N802 - Podman prints the byte count, not a human size
        return self._image.size

    @property
    def SharedSize(self) -> int:  # noqa: N802
        return 0

    @property
    def ParentId(self) -> str:  # noqa: N802
        return self._image.parent_id

    @property
    def RepoTags(self) -> list[str]:  # noqa: N802 - null in JSON, yet the names in a template, as Podman's
        return list(self._image.names)

    @property
    def IsReadOnly(self) -> bool:  # noqa: N802
        return self._image.read_only

    @property
    def Names(self) -> list[str]:  # noqa: N802
        return list(self._image.names)

    @property
    def History(self) -> str:  # noqa: N802
        return ", ".join(self._image.history or self._image.names)

    @property
    def Labels(self) -> dict[str, str]:  # noqa: N802
        return self._image.labels

    @property
    def Containers(self) -> int:  # noqa: N802
        return self._image.containers

    @property
    def Dangling(self) -> bool:  # noqa: N802
        return self._image.dangling

    @property
    def ReadOnly(self) -> bool:  # noqa: N802
        return self._image.read_only

    @property
    def RepoDigests(self) -> list[str]:  # noqa: N802
        return list(self._image.repo_digests)

    def to_json(self) -> dict[str, Any]:
        return self._image.to_json()


class HistoryRow:
    def __init__(self, entry: HistoryEntry, *, no_trunc: bool, human: bool) -> None:
        self._e = entry
        self._no_trunc = no_trunc
        self._human = human

    @property
    def ID(self) -> str:  # noqa: N802
        if self._e.id == "<missing>" or self._no_trunc:
            return self._e.id
        return self._e.id[:12]

    @property
    def Created(self) -> str:  # noqa: N802
        if self._e.created is None:
            return ""
        return created_since(self._e.created) if self._human else \
            datetime.fromtimestamp(self._e.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def CreatedAt(self) -> str:  # noqa: N802
        return go_time(self._e.created or 0)

    @property
    def CreatedSince(self) -> str:  # noqa: N802
        return created_since(self._e.created)

    @property
    def CreatedBy(self) -> str:  # noqa: N802
        text = self._e.created_by
        if not self._no_trunc and len(text) > 45:
            return text[:42] + "..."
        return text

    @property
    def Size(self) -> str:  # noqa: N802
        from sealpod.cli.formatting import human_size

        return human_size(self._e.size)  # --human=false changes dates only, as in Podman

    @property
    def Comment(self) -> str:  # noqa: N802
        return self._e.comment

    @property
    def Tags(self) -> list[str]:  # noqa: N802
        """Always empty: Podman 4.3.1's CLI report drops the layer's tags (the REST API keeps them)."""
        return []

    def to_json(self) -> dict[str, Any]:
        """Podman's layer report: ``created`` to the nanosecond, empty ``CreatedBy``/``comment`` left out
        (omitempty), no tags, then ``Created`` in whole seconds."""
        from sealpod.utils.timefmt import ZERO_TIME, rfc3339_nano

        ns = self._e.created_ns
        out: dict[str, Any] = {"id": self._e.id, "created": ZERO_TIME if ns is None else rfc3339_nano(ns)}
        if self._e.created_by:
            out["CreatedBy"] = self._e.created_by
        out["size"] = self._e.size
        if self._e.comment:
            out["comment"] = self._e.comment
        out["Created"] = ZERO_TIME if ns is None else rfc3339_nano(ns - ns % 1_000_000_000)
        return out
