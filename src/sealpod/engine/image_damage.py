"""Damaged image records: what Podman reports for them, and how removal still gets rid of them.

A store can lose pieces of an image (a crash mid-write, a hand-edited database, a deleted file);
listing then names the image and says that removing it repairs the store, and ``rmi -f``,
``image prune`` and ``system reset`` remove it with a warning instead of failing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sealpod.storage.records import ImageRecord


def damage(image: ImageRecord) -> str | None:
    """Why the record is unusable, in Podman's words; None when it is whole."""
    from sealpod.errors import StorageError

    if image.manifest_digest and not image.digests:
        return (f'locating item named "manifest" for image with ID "{image.id}" (consider removing the image '
                "to resolve the issue): file does not exist")
    try:
        image.config_doc()
    except StorageError as e:
        return e.message
    return None


def check(image: ImageRecord) -> None:
    """Raise the damage as a StorageError (exit 125), as ``images`` does in Podman."""
    from sealpod.errors import StorageError

    problem = damage(image)
    if problem:
        raise StorageError(problem)


def warn_on_remove(image: ImageRecord) -> None:
    """Podman computes an image's parent before removing it and, for a damaged one, warns and goes on."""
    problem = damage(image)
    if problem:
        from sealpod.utils.logrus import warning

        warning(f"Failed to determine parent of image: {problem}, ignoring the error")
