"""``image mount`` / ``image unmount``: images' trees, read-only, for tools on the host.

Storage counts the mounts (two mounts need two unmounts, unless forced) and keeps them in the
database, so that the command that mounted may exit and a later one lists or unmounts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sealpod.errors import InvalidArgument, RootlessError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from pathlib import Path

    from sealpod.engine import Engine
    from sealpod.storage.records import ImageRecord


@dataclass(frozen=True)
class ImageMountReport:
    """One mounted image, as ``image mount`` lists it (its JSON keys are Podman's)."""

    id: str
    digest: str
    repositories: tuple[str, ...]
    mountpoint: str

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "Names": [self.digest] if self.digest else [],
                "Repositories": list(self.repositories), "mountpoint": self.mountpoint}


class ImageMountService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def _lookup(self, names: Sequence[str], all_images: bool) -> list[ImageRecord]:
        if all_images and names:
            raise InvalidArgument("when using the --all switch, you may not pass any image names or IDs")
        if all_images:
            return [img for img in self.store.list_images() if img.top_layer]
        return [self.engine.images.get(n) for n in names]  # every name is checked before any mount

    def _report(self, image: ImageRecord, path: str) -> ImageMountReport:
        return ImageMountReport(image.id, image.manifest_digest or "", image.names, path)

    def mount(self, names: Sequence[str], *, all_images: bool = False,
              in_userns: bool = True) -> list[ImageMountReport]:
        """Mount each image; ``in_userns`` False: a rootless user who did not ``unshare`` first
        (the mount would be made in, and vanish with, the namespace only this command sees)."""
        images = self._lookup(names, all_images)
        self._check_userns(in_userns)
        mounts = self.store.image_mounts
        return [self._report(img, str(mounts.mount(img))) for img in images]

    def mounted(self, *, in_userns: bool = True) -> list[ImageMountReport]:
        self._check_userns(in_userns)
        by_layer = self.store.image_mounts.mounted()
        return [self._report(img, by_layer[img.top_layer]) for img in self.store.list_images()
                if img.top_layer in by_layer]

    def _check_userns(self, in_userns: bool) -> None:
        if not in_userns and self.store.driver_name != "vfs":
            raise RootlessError('cannot run command "sealpod image mount" in rootless mode, '
                                "must execute `sealpod unshare` first")

    def unmount(self, names: Sequence[str], *, all_images: bool = False, force: bool = False) -> list[str]:
        """One mount less of each (all of them with ``force``); the IDs of the images that were mounted."""
        if not names and not all_images:
            raise InvalidArgument("image name or ID must be specified")
        if all_images:
            by_layer = self.store.image_mounts.mounted()
            if names:
                raise InvalidArgument("when using the --all switch, you may not pass any image names or IDs")
            # every image listed as mounted gives up one mount, as in Podman: images sharing a top layer
            # mounted once each are all unmounted after one `unmount -a`
            images = [img for img in self.store.list_images() if img.top_layer in by_layer]
        else:
            images = self._lookup(names, False)
        done: dict[str, None] = {}
        for img in images:
            if self.store.image_mounts.unmount(img, force=force):
                done[img.id] = None
        return list(done)


def container_image_mount(engine: Engine, userdata: Path, index: int, source: str,
                          read_write: bool) -> tuple[str, ...]:
    """``--mount type=image``: the image's tree, counted as one more ``image mount`` of it, given to
    the container as an overlay the runtime makes (so the host may unmount its copy while the
    container keeps its own, as in Podman).  Read-only has an empty second lower layer; ``rw=true``
    an upper directory in the container's own directory, thrown away with the container's run."""
    import shutil

    image = engine.images.get(source)
    merged = os.fspath(engine.store.image_mounts.mount(image))
    base = userdata / "overlay" / str(index)
    shutil.rmtree(base, ignore_errors=True)
    if not read_write:
        (base / "lower").mkdir(parents=True)
        return (f"lowerdir={merged}:{base / 'lower'}", "ro")
    (base / "upper").mkdir(parents=True)
    (base / "work").mkdir()
    return (f"lowerdir={merged}", f"upperdir={base / 'upper'}", f"workdir={base / 'work'}", "rw")


def release_container_image_mounts(engine: Engine, userdata: Path, mounts: Sequence[dict[str, object]]) -> None:
    """A container's run ended: one mount less of each image it mounted, its overlay directories gone."""
    import shutil

    from sealpod.errors import NoSuchImage, SealpodError

    for m in mounts:
        if m.get("type") != "image":
            continue
        try:
            engine.store.image_mounts.unmount(engine.images.get(str(m.get("source") or "")))
        except (NoSuchImage, SealpodError):
            continue
    shutil.rmtree(userdata / "overlay", ignore_errors=True)
