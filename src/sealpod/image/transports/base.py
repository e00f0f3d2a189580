"""The two small interfaces every transport implements; only ``image.copy`` uses both.

A source hands out manifests and blobs.  A destination is told what is coming (the
manifest and config) before any layer, so that it can say which layers it already has
(a registry by digest, local storage by chain ID) and skip their download entirely.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int], None]

TYPE_CHECKING = False  # the interfaces are for type checkers: typing costs ~2 ms of a command's start
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import BinaryIO, Protocol

    from sealpod.image.manifest import Descriptor, Manifest


if TYPE_CHECKING:
    class ImageSource(Protocol):
        def describe(self) -> str:
            """The transport-qualified name, for messages (``docker://host/repo:tag``)."""
            ...

        def get_manifest(self, digest: str | None = None) -> tuple[bytes, str]:
            """The top-level manifest (``None``) or one instance of an index, with its media type."""
            ...

        def get_blob(self, desc: Descriptor, out: BinaryIO, progress: Progress | None = None) -> None:
            """Write the blob to ``out``; raises DigestMismatch if it is not what ``desc`` says."""
            ...

        def local_blob_path(self, desc: Descriptor) -> Path | None:
            """A file already holding the blob, to upload without copying; None if there is none."""
            ...

        def close(self) -> None: ...


    class ImageDestination(Protocol):
        def describe(self) -> str: ...

        def begin(self, manifest: Manifest, config: bytes, diff_ids: Sequence[str]) -> None:
            """Announce the image; called once, before any blob."""
            ...

        def reuse_image(self, manifest: Manifest, body: bytes, media_type: str,
                        index: tuple[bytes, str] | None) -> str | None:
            """If the whole image is already there, record this copy of it and return commit's result.

            Re-pulling a present image then costs one manifest request and no blob at all.
            """
            ...

        def has_layer(self, index: int) -> bool:
            """True when layer ``index`` need not be transferred (present, or mounted from elsewhere)."""
            ...

        def temp_file(self) -> tuple[Path, BinaryIO]:
            """Where a layer blob is downloaded to, ideally on the destination's own filesystem."""
            ...

        def put_layer(self, index: int, blob: Path, progress: Progress | None = None) -> None:
            """Store a verified layer blob (a temp file is removed by the caller afterwards)."""
            ...

        def close(self) -> None: ...

        def commit(self, manifest: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
            """Store config and manifest(s) and make the image visible; return its ID or digest."""
            ...

        def abort(self) -> None:
            """Give up: remove temp files; keep whatever complete layers are reusable."""
            ...
