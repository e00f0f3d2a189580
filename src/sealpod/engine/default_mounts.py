"""The mounts.conf mounts (``--default-mounts-file``): a private copy of each host path, bound in.

Podman and Buildah copy the content once, at the container's first start, into its own
directory and bind that copy at the destination, read-write: the container may change its
copy, never the host's.  A destination the user mounts something at keeps the user's mount.
"""

from __future__ import annotations

import os

from sealpod.engine.container_userns import id_maps, to_host_id

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine.container_config import ContainerConfig
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.engine.containers import ContainerService
    from sealpod.runtime.spec import Mount


FIPS_FILE = "/etc/system-fips"


def default_mounts(svc: ContainerService, rec: ContainerRecord, cfg: ContainerConfig,
                   taken: list[Mount]) -> list[Mount]:
    """The mounts.conf entries whose host source exists, as bind mounts of the container's copies;
    and a host in FIPS mode (/etc/system-fips) tells its containers so in /run/secrets, as Podman."""
    have = {"/" + m.destination.strip("/") for m in taken} | {"/" + m.destination.strip("/") for m in cfg.mounts}
    fips = _fips_mounts(have)
    files = [f for f in svc.engine.config.mounts_files if os.path.isfile(f)]
    if not files:  # most hosts have none: nothing more to load on the way to every start
        return fips
    from sealpod.config.mounts_conf import read_mounts_conf

    pairs = read_mounts_conf(files)
    if not pairs:
        return fips
    from sealpod.runtime.spec import Mount

    base = svc.paths(rec.id).userdata / "default-mounts"
    uid_maps, gid_maps = id_maps(rec.spec)
    owner = (to_host_id(uid_maps, 0), to_host_id(gid_maps, 0)) if uid_maps or gid_maps else None
    out: list[Mount] = []
    for src, dest in pairs:
        dest = "/" + dest.strip("/")
        if dest in have or not os.path.exists(src):
            continue
        copy = base / dest.lstrip("/")
        try:
            if not os.path.lexists(copy):
                _copy(src, os.fspath(copy), owner)
        except OSError as e:
            from sealpod.utils.logrus import warning

            warning(f"Failed to mount subscriptions, skipping entry in {src}: {e}")
            continue
        out.append(Mount(dest, "bind", os.fspath(copy), ("rbind", "rprivate", "rw")))
    return out + fips


def _fips_mounts(have: set[str]) -> list[Mount]:
    if not os.path.exists(FIPS_FILE) or "/run/secrets" in have or "/run/secrets/system-fips" in have:
        return []
    from sealpod.runtime.spec import Mount

    return [Mount("/run/secrets/system-fips", "bind", FIPS_FILE, ("rbind", "rprivate", "ro"))]


def _copy(src: str, dest: str, owner: tuple[int, int] | None) -> None:
    """A copy of a file or a tree (links followed), owned by the container's root when it has an id map."""
    import shutil

    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dest, ignore_dangling_symlinks=True)  # a link's target is copied, as Podman
    else:
        shutil.copy2(src, dest)
    if owner is not None:
        os.lchown(dest, *owner)
        for root, dirs, files in os.walk(dest):
            for name in (*dirs, *files):
                os.lchown(os.path.join(root, name), *owner)
