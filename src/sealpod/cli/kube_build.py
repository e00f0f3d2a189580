"""``kube play --build``: images of the YAML built from directories named after them.

For an image ``quay.io/libpod/userimage`` the directory ``userimage`` of the context directory
(``--context-dir``, else the current directory) holds its Containerfile or Dockerfile, as Podman
looks for it.  Without ``--build`` an image is built only when it is not in local storage yet;
``--build`` rebuilds it every time, ``--build=false`` never builds.  The CLI does this before
playing: the kube package is a client of the engine only, and building belongs to ``build``.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Callable

    from sealpod.engine import Engine
    from sealpod.engine.entities import RegistryFlags
    from sealpod.kube.model import Manifest


def build_dir_name(image: str) -> str:
    """The last path component of the image's repository, without tag or digest."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def _containerfile(directory: Path) -> Path | None:
    for name in ("Containerfile", "Dockerfile"):
        if (directory / name).is_file():
            return directory / name
    return None


def images_of(manifest: Manifest) -> list[str]:
    """Each image the YAML runs, once, in file order."""
    seen = [c.image for wl in manifest.workloads for c in (*wl.pod.init_containers, *wl.pod.containers)]
    return list(dict.fromkeys(seen))


def build_images(engine: Engine, manifest: Manifest, *, build: bool | None, context_dir: Path | None,
                 registry: RegistryFlags, report: Callable[[str], None]) -> list[str]:
    """Build what needs building; returns the image names built."""
    from sealpod.build.builder import BuildOptions, Output, run_build
    from sealpod.build.context import BuildContext

    if build is False:
        return []
    base = context_dir if context_dir is not None else Path(os.getcwd())
    built = []
    for image in images_of(manifest):
        directory = base / build_dir_name(image)
        containerfile = _containerfile(directory)
        if containerfile is None or (build is None and engine.images.exists(image)):
            continue
        context = BuildContext(directory, temporary=False)
        text = containerfile.read_text(errors="replace")
        options = BuildOptions(tags=(image,), registry=registry)
        run_build(engine, context, (str(containerfile), text), options,
                  Output(report, lambda data: report(data.decode(errors="replace").rstrip("\n"))))
        built.append(image)
    return built
