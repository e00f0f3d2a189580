"""The mounts a container gets besides its own ``-v``/``--mount``/``--tmpfs``: ``--volumes-from``
and the image's ``VOLUME`` paths (``--image-volume``), resolved once at create as Podman does.

They are folded into the container's stored mounts, so start, ``inspect``, ``rm -v``, ``cp`` and
``volume ls`` treat them like any other mount.  Precedence is Podman's: the user's own mounts win
over ``--volumes-from``, which wins over image volumes, each by exact destination.  In ``bind``
mode an image volume is an anonymous volume owned by the container (copied up from the image on
first start, removed by ``rm -v``/``--rm``); in ``tmpfs`` mode a tmpfs filled from the image.
"""

from __future__ import annotations

import posixpath

from sealpod.errors import InvalidArgument, NoSuchContainer

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any

    from sealpod.engine import Engine
    from sealpod.engine.container_config import ContainerConfig, MountSpec
    from sealpod.storage.records import ImageRecord

MODES = ("bind", "tmpfs", "ignore")
# what Podman mounts an image volume with, and shows in inspect (before "rbind")
VOLUME_OPTIONS = ("nodev", "exec", "nosuid")
TMPFS_OPTIONS = ("rw", "rprivate", "nosuid", "nodev", "tmpcopyup")
_FROM_OPTIONS = ("z", "ro", "rw")


def check_mode(mode: str) -> str:
    """``--image-volume``/``image_volume_mode``, in Podman's words when it is none of the three."""
    if mode not in MODES:
        raise InvalidArgument(f'invalid image volume mode "{mode}" required value: bind, tmpfs, ignore')
    return mode


def check_volumes_from(spec: str) -> tuple[str, tuple[str, ...]]:
    """``CTR[:OPTIONS]`` into the container and its options; bad options fail before any pull."""
    name, _, opts = spec.partition(":")
    options = tuple(o for o in opts.split(",") if o)
    seen: set[str] = set()
    for option in options:  # in order, as Podman: the first offending option names the error
        if option not in _FROM_OPTIONS:
            raise InvalidArgument(f'invalid option "{option}" specified - volumes from another container '
                                  "can only use z,ro,rw options")
        kind = "z" if option == "z" else "rw"
        if kind in seen:
            raise InvalidArgument("cannot set :z more than once in mount options" if kind == "z"
                                  else "cannot set ro or rw options more than once")
        seen.add(kind)
    return name, options


def volume_paths(image: ImageRecord | None) -> list[str]:
    """The image's ``Config.Volumes`` as clean absolute paths, in a stable order."""
    from sealpod.engine.specgen import image_config

    volumes = image_config(image).get("Volumes")
    if not isinstance(volumes, dict):
        return []
    return sorted({_clean(str(p)) for p in volumes if str(p).strip()})


def _clean(path: str) -> str:
    """An absolute, normalised path ("//x" and "x/" are "/x": normpath alone keeps a leading "//")."""
    return posixpath.normpath("/" + path.strip().lstrip("/"))


def _dest(m: MountSpec) -> str:
    return _clean(m.destination)


def with_extra_mounts(engine: Engine, config: ContainerConfig, image: ImageRecord | None) -> ContainerConfig:
    """``config`` with its ``--volumes-from`` and image volume mounts added (the user's mounts first)."""
    from sealpod.utils import record

    mode = check_mode(config.image_volume or engine.config.containers.engine.image_volume_mode or "bind")
    mounts = list(config.mounts)
    taken = {_dest(m) for m in mounts}
    for spec in config.volumes_from:
        for m in _mounts_from(engine, spec):
            if _dest(m) not in taken:
                mounts.append(m)
                taken.add(_dest(m))
    if mode != "ignore":
        for path in volume_paths(image):
            if path not in taken:
                mounts.append(_image_mount(mode, path))
                taken.add(path)
    if len(mounts) == len(config.mounts):
        return config
    return record.replace(config, mounts=tuple(mounts))


def _image_mount(mode: str, path: str) -> MountSpec:
    from sealpod.engine.container_config import MountSpec

    if mode == "tmpfs":
        return MountSpec("tmpfs", path, "tmpfs", TMPFS_OPTIONS)
    return MountSpec("volume", path, "", VOLUME_OPTIONS)


def _mounts_from(engine: Engine, spec: str) -> list[MountSpec]:
    """Another container's volumes and bind mounts, at the same places; ``ro``/``rw`` override
    their mode.  Its anonymous volumes are named here, so they are shared, not made anew."""
    from sealpod.engine.container_config import MountSpec

    name, options = check_volumes_from(spec)
    try:
        rec = engine.containers.lookup(name)
    except NoSuchContainer as e:
        raise NoSuchContainer(f'looking up container "{name}" for volumes-from: {e}') from None
    out: list[MountSpec] = []
    for doc in rec.config.get("mounts", ()):
        m = _spec(doc)
        if m.type not in ("volume", "bind"):
            continue
        source = m.source or (engine.volumes.anonymous_at(rec.id, m.destination) or "")
        if m.type == "volume" and not source:
            continue  # not made yet (cannot happen after create): nothing to share
        read_only = m.read_only if not ({"ro", "rw"} & set(options)) else "ro" in options
        opts = tuple(o for o in m.options if o not in ("ro", "rw")) + (("ro",) if read_only else ())
        out.append(MountSpec(m.type, m.destination, source, opts, read_only))
    return out


def _spec(doc: dict[str, Any]) -> MountSpec:
    from sealpod.engine.container_config import MountSpec

    return MountSpec(**{**doc, "options": tuple(doc.get("options", ()))})


def inspect_mounts(engine: Engine, ctr_id: str, mounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``inspect``'s ``Mounts`` as Podman 4 shows them: a volume by its name (anonymous ones too)
    and its data directory; tmpfs and overlay (``:O``) mounts are not listed."""
    return [doc for doc, _ in _listed(engine, ctr_id, mounts)]


def inspect_binds(engine: Engine, ctr_id: str, mounts: list[dict[str, Any]]) -> list[str]:
    """HostConfig's ``Binds``: each listed bind and volume (by name) with the options Podman keeps."""
    return [f"{doc['Name'] if doc['Type'] == 'volume' else doc['Source']}:{doc['Destination']}:{','.join(opts)}"
            for doc, opts in _listed(engine, ctr_id, mounts) if doc["Type"] in ("bind", "volume")]


def _listed(engine: Engine, ctr_id: str, mounts: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Each listed mount's inspect document with its full option list (ro/rw and propagation included)."""
    from sealpod.engine.mount_defaults import PROPAGATIONS, stored_options

    out: list[tuple[dict[str, Any], list[str]]] = []
    for m in mounts:
        kind = m.get("type")
        if kind == "tmpfs" or "O" in (m.get("options") or ()):
            continue
        doc: dict[str, Any] = {"Type": kind}
        if kind == "volume":
            name = m.get("source") or engine.volumes.anonymous_at(ctr_id, m.get("destination", "")) or ""
            doc.update(Name=name, Source=str(engine.volumes.data_dir(name)) if name else "")
        else:
            doc["Source"] = m.get("source")
        if kind == "image":  # Podman's words for an image mount: no options, no propagation
            doc.update(Destination=m.get("destination"), Driver="", Mode="", Options=None,
                       RW=not m.get("read_only"), Propagation="")
            out.append((doc, []))
            continue
        stored = stored_options(str(kind), str(m.get("source") or ""), m.get("options") or (), bool(m.get("read_only")))
        doc.update(Destination=m.get("destination"), Driver="local" if kind == "volume" else "",
                   Mode=next((o for o in stored if o in ("z", "Z")), ""),  # the relabel option, as Podman shows it
                   Options=[o for o in stored if o not in ("ro", "rw", "z", "Z") and o not in PROPAGATIONS],
                   RW=not m.get("read_only"), Propagation=next((o for o in stored if o in PROPAGATIONS), "rprivate"))
        out.append((doc, stored))
    rank = {"volume": 0, "image": 2}  # Podman lists named (and anonymous) volumes, then binds, then image mounts
    return sorted(out, key=lambda d: rank.get(str(d[0].get("Type")), 1))
