"""What the store returns: plain frozen records, never database rows."""

from __future__ import annotations

from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class LayerRecord:
    id: str
    parent: str | None
    diff_id: str
    compressed_digest: str | None
    compressed_size: int | None
    uncompressed_size: int
    media_type: str | None
    created: float


@dataclass(frozen=True)
class ManifestRecord:
    digest: str
    media_type: str
    body: bytes


@dataclass(frozen=True)
class ImageRecord:
    id: str
    names: tuple[str, ...]
    layers: tuple[str, ...]
    config: bytes
    manifest_digest: str | None
    digests: tuple[str, ...]
    created: str | None
    size: int
    stored: float
    names_history: tuple[str, ...] = ()  # every name it had, most recent first

    @property
    def top_layer(self) -> str | None:
        return self.layers[-1] if self.layers else None

    def config_doc(self) -> dict[str, Any]:
        """The parsed image config; a damaged one (a truncated write, a tampered store) is reported as
        Podman reports a damaged image: which image, and that removing it repairs the store."""
        import json

        try:
            doc = json.loads(self.config)
        except ValueError as e:
            from sealpod.errors import StorageError

            raise StorageError(f'decoding configuration of image with ID "{self.id}" (consider removing the image '
                               f"to resolve the issue): {e}") from None
        return doc if isinstance(doc, dict) else {}
