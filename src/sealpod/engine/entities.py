"""The engine's public vocabulary: options going in, reports coming out.

Front-ends (cli, api) fill the options from flags or HTTP and render the reports;
reports carry data, not presentation (no "3 weeks ago" here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

BlobProgress = Callable[[str, int, int], None]
"""(blob digest, bytes done, blob size): for progress bars on a terminal."""


@dataclass(frozen=True)
class RegistryFlags:
    """How to reach registries, as the user said (None: as configured)."""

    tls_verify: bool | None = None
    cert_dir: Path | None = None
    creds: str | None = None  # "user:password"
    auth_file: Path | None = None


@dataclass(frozen=True)
class PullOptions:
    registry: RegistryFlags = field(default_factory=RegistryFlags)
    platform: str | None = None  # os/arch[/variant]
    os: str | None = None
    arch: str | None = None
    variant: str | None = None
    all_tags: bool = False
    progress: BlobProgress | None = None
    signature_policy: Path | None = None  # --signature-policy: policy.json to use instead of the default


@dataclass(frozen=True)
class PushOptions:
    registry: RegistryFlags = field(default_factory=RegistryFlags)
    digest_file: Path | None = None
    progress: BlobProgress | None = None
    sign_by: str | None = None  # GPG key to sign the pushed manifest with (simple signing)
    remove_signatures: bool = False
    compression: str | None = None  # ``--compression-format``: "gzip" or "zstd"; None: layers as stored
    compress: bool = False  # ``--compress``: a dir: destination gets plain-tar layers compressed (gzip)
    sigstore_key: Path | None = None  # ``--sign-by-sigstore-private-key``: refused when used (sigstore_sign)
    sign_passphrase_file: Path | None = None  # its first line unlocks the --sign-by key


@dataclass(frozen=True)
class ImageSummary:
    """One image as ``images`` lists it (Podman's ImageSummary)."""

    id: str
    names: tuple[str, ...]
    repo_digests: tuple[str, ...]
    digest: str
    created: int  # seconds since the epoch
    created_at: str  # RFC 3339
    size: int
    labels: dict[str, str]
    containers: int
    dangling: bool
    read_only: bool = False
    history: tuple[str, ...] = ()  # NamesHistory: every name it had, most recent first
    parent_id: str = ""  # the image it was built on, while that is still here

    def to_json(self) -> dict[str, Any]:
        return {
            "Id": self.id, "ParentId": self.parent_id, "RepoTags": None, "RepoDigests": list(self.repo_digests),
            "Size": self.size, "SharedSize": 0, "VirtualSize": self.size, "Labels": self.labels or None,
            "Containers": self.containers, "Names": list(self.names), "Digest": self.digest,
            "History": list(self.history or self.names), "Created": self.created, "CreatedAt": self.created_at,
        }


@dataclass(frozen=True)
class HistoryEntry:
    id: str  # image ID for the top entry, "<missing>" otherwise
    created: int | None
    created_by: str
    size: int
    comment: str
    tags: tuple[str, ...] = ()
    created_ns: int | None = None  # the config's time to the nanosecond (history --format json); None: none given


@dataclass
class RemoveReport:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    index: str
    name: str
    description: str = ""
    stars: int = 0
    official: str = ""
    automated: str = ""
    tag: str = ""
