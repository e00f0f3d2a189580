"""A container's files as archives and images: ``cp``, ``diff``, ``export``, ``import``, ``commit``.

Everything that reads or writes inside a container goes through the container's root as
a chroot would see it (:func:`sealpod.storage.tarwriter.resolve_in_root` and the layer
extractor's in-root resolution), so no symlink a container holds can reach host files.
A stopped container is mounted for the operation and unmounted after it, under its lock
so that a concurrent ``start`` cannot have its root unmounted under it.

Committed and imported images are stored like pulled ones: a gzip blob per new layer and
an OCI (or Docker v2s2) manifest, so ``push`` sends them without recompressing anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sealpod.errors import ContainerStateInvalid, InvalidArgument, NoSuchContainer, NotFound, SealpodError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine import Engine
    from sealpod.engine.container_state import ContainerRecord
    from sealpod.storage.changes import Change
    from sealpod.storage.records import ImageRecord

Report = Callable[[str], None]

#: Paths the runtime mounts over; ``diff`` does not list them (Podman's list).
RUNTIME_MOUNTS = frozenset({"/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/proc", "/run",
                            "/run/.containerenv", "/run/secrets", "/sys", "/etc/mtab"})
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: A parent's layer media types, said in the manifest format being written.
_LAYER_TYPES = {
    "oci": {DOCKER_LAYER_GZIP: OCI_LAYER_GZIP, "application/vnd.docker.image.rootfs.diff.tar":
            "application/vnd.oci.image.layer.v1.tar"},
    "docker": {OCI_LAYER_GZIP: DOCKER_LAYER_GZIP},
}


@dataclass(frozen=True)
class CommitOptions:
    changes: Sequence[str] = ()  # Dockerfile-like instructions: "CMD [...]", "ENV K=V"
    message: str = ""
    author: str = ""
    pause: bool = False
    format: str = "oci"  # oci | docker
    config: dict[str, Any] | None = None  # build: the image config to write instead of the container's
    created_by: str = ""  # build: the history entry's instruction
    omit_empty_layer: bool = False  # build: no changes on a parent image: an empty_layer history entry only
    squash: bool = False  # --squash: one layer of the whole root filesystem, no parent layers
    include_volumes: bool = False  # --include-volumes: every volume and bind mount becomes an image VOLUME
    history_comment: str | None = None  # build: the new history entry's comment (None: "FROM <image>")
    created: str = ""  # build --timestamp: the config's and the new history entry's time (RFC 3339)
    os_name: str = ""  # build --os: replaces the parent's
    arch: str = ""  # build --arch: replaces the parent's
    exclude: tuple[str, ...] = ()  # build: RUN --mount points, never committed
    annotations: dict[str, str] | None = None  # build --annotation: the OCI manifest's annotations
    extra_config: dict[str, Any] | None = None  # build --variant, --os-version...: top-level config keys
    omit_history: bool = False  # build --omit-history: no history in the config


@dataclass(frozen=True)
class _NewLayer:
    """A layer blob made by us: gzip on disk, digests known."""

    blob: Path
    digest: str  # of the gzip blob
    size: int
    diff_id: str  # of the uncompressed tar


class ContainerFiles:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # --- the container's root ---------------------------------------------------------

    @contextlib.contextmanager
    def rootfs(self, rec: ContainerRecord) -> Iterator[str]:
        """The container's mounted root; mounted just for the block if it was not."""
        ctrs = self.engine.containers
        if self.store.containers.is_mounted(rec.id):
            yield os.path.realpath(self.store.containers.mount(rec.id))
            return
        with ctrs.lock(rec.id):
            mounted_here = not self.store.containers.is_mounted(rec.id)
            root = self.store.containers.mount(rec.id)
            try:
                yield os.path.realpath(root)
            finally:
                if mounted_here:
                    self.store.containers.unmount(rec.id)

    def _lookup(self, name: str) -> ContainerRecord:
        return self.engine.containers.lookup(name)

    # --- cp ---------------------------------------------------------------------------

    def copy_out(self, name: str, path: str, *, out: BinaryIO | None = None, dest: str | None = None,
                 overwrite: bool = False) -> None:
        """``cp CTR:PATH -`` (a tar on ``out``) or ``cp CTR:PATH HOSTPATH``; a running container's
        side is read in its mount namespace (its tmpfs and other mounts are seen)."""
        from sealpod.engine import container_cp_live as live

        rec = self._lookup(name)
        pid = live.live_pid(rec)
        if pid:
            live.copy_out(rec, pid, name, path, out=out, dest=dest, overwrite=overwrite)
            return
        with self.rootfs(rec) as root:
            src = self._resolve(rec, root, _in_workdir(rec, path))
            if not os.path.lexists(src):
                raise NotFound(f'"{path}" could not be found on container {name}: no such file or directory')
            contents = path.endswith("/.") or path in ("/", ".")
            if out is not None:
                _write_source(src, out, "" if contents else _base(path, "."), contents)
                return
            assert dest is not None
            target_dir, arcname = _host_target(_is_dir(src), path, dest, contents)
            _check_host_overwrite(_is_dir(src), target_dir, arcname, overwrite)
            _pipe_extract(lambda w: _write_source(src, w, arcname, contents and not arcname), target_dir)

    def copy_in(self, name: str, path: str, *, src: str | None = None, stream: BinaryIO | None = None,
                archive: bool = True, overwrite: bool = False) -> None:
        """``cp HOSTPATH CTR:PATH`` or ``cp - CTR:DIR`` (a tar read from ``stream``); a running
        container's side is written in its mount namespace."""
        from sealpod.engine import container_cp_live as live
        from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer

        rec = self._lookup(name)
        pid = live.live_pid(rec)
        if pid:
            live.copy_in(self, rec, pid, name, path, src=src, stream=stream, archive=archive, overwrite=overwrite)
            return
        path = _in_workdir(rec, path)
        with self.rootfs(rec) as root:
            resolved = self._resolve(rec, root, path)
            if stream is not None:
                if not os.path.isdir(resolved):
                    raise InvalidArgument("destination must be a directory when copying from stdin")
                extract_layer(_tar_or_refuse(stream), Path(resolved), whiteouts=WhiteoutFormat.VFS)
                return
            assert src is not None
            if not os.path.lexists(src):
                raise NotFound(f'"{src}" could not be found on the host: no such file or directory')
            owner = self.stored_owner(rec, self._owner(rec, root) if archive else None)
            parent = self._resolve(rec, root, os.path.dirname(path.rstrip("/")) or "/")
            target_dir, arcname = _container_target(root, resolved, parent, path, src, name, overwrite, _is_dir(src))
            contents = src.endswith("/.")
            rel = os.path.relpath(target_dir, root)
            if rel.startswith(".."):  # in a volume or bind mount: its own root
                root, rel = target_dir, "."
            prefix = "" if rel == "." else rel
            full = "/".join(p for p in (prefix, arcname) if p)

            def produce(w: BinaryIO) -> None:
                _write_source(src, w, full, contents and not arcname, owner=owner,
                              refuse_whiteouts=True, root_arcname=prefix)

            _pipe_extract(produce, root)

    def _resolve(self, rec: ContainerRecord, root: str, path: str) -> str:
        """``path`` as the container sees it: inside a volume or bind mount when one covers it, as
        Podman resolves cp paths, else in the root; never outside either.  (A running container's
        tmpfs is not reached: /proc/PID/root cannot be resolved safely from here.)"""
        from sealpod.engine.container_config import ContainerConfig
        from sealpod.storage.tarwriter import resolve_in_root

        norm = os.path.normpath(path)
        covering = [m for m in ContainerConfig.from_json(rec.config).mounts
                    if norm == m.destination.rstrip("/") or norm.startswith(m.destination.rstrip("/") + "/")]
        if not covering:
            return resolve_in_root(root, path)
        mount = max(covering, key=lambda m: len(m.destination.rstrip("/")))
        rest = path[len(mount.destination.rstrip("/")):] if path.startswith(mount.destination.rstrip("/")) \
            else norm[len(mount.destination.rstrip("/")):]
        base = ""
        volume = mount.source or self.engine.volumes.anonymous_at(rec.id, mount.destination) \
            if mount.type == "volume" else ""  # an anonymous one (-v /path, an image VOLUME) by its owner
        if volume:
            base = str(self.engine.volumes.data_dir(volume))
        elif mount.type == "bind":
            base = mount.source
        if not base or not os.path.isdir(base):
            return resolve_in_root(root, path)
        return resolve_in_root(base, rest or "/")

    def copy_between(self, src_name: str, src_path: str, dst_name: str, dst_path: str, *,
                     overwrite: bool = False) -> None:
        """``cp CTR:PATH CTR2:PATH``: through a private host directory, so each side keeps its own
        resolution rules (and locks) exactly as in the one-sided copies."""
        import shutil
        import tempfile

        tmp = tempfile.mkdtemp(prefix="sealpod-cp-", dir=self.engine.config.tmp_dir
                               if os.path.isdir(self.engine.config.tmp_dir) else None)
        try:
            self.copy_out(src_name, src_path, dest=tmp)
            contents = src_path.endswith("/.") or src_path in ("/", ".")
            entries = os.listdir(tmp)
            src = tmp + "/." if contents or len(entries) != 1 else os.path.join(tmp, entries[0])
            self.copy_in(dst_name, dst_path, src=src, archive=False, overwrite=overwrite)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def extract_into(self, name: str, path: str, stream: BinaryIO) -> None:
        """``build``'s COPY/ADD/WORKDIR: unpack a tar at ``path``, making missing directories (0755, root)
        first as Docker does; ``path`` and each directory made are resolved inside the root."""
        from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer
        from sealpod.storage.tarwriter import resolve_in_root

        rec = self._lookup(name)
        with self.rootfs(rec) as root:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                here = resolve_in_root(root, "/" + "/".join(parts[:i]))
                if not os.path.lexists(here):
                    os.mkdir(here, 0o755)
                elif not os.path.isdir(here):
                    raise InvalidArgument(f'"{"/" + "/".join(parts[:i])}" is not a directory in the container')
            extract_layer(stream, Path(resolve_in_root(root, path or "/")), whiteouts=WhiteoutFormat.VFS)

    def is_directory(self, name: str, path: str) -> bool:
        """Whether ``path`` (symlinks followed inside the root) is a directory in the container: ``build``'s
        COPY/ADD to an existing directory named without a trailing slash copies into it, as Buildah."""
        from sealpod.storage.tarwriter import resolve_in_root

        with self.rootfs(self._lookup(name)) as root:
            return os.path.isdir(resolve_in_root(root, path or "/"))

    def _owner(self, rec: ContainerRecord, root: str) -> tuple[int, int]:
        """The container user's uid/gid, looked up in the container's own passwd/group files."""
        user = str(rec.spec.get("user") or "")
        name, _, group = user.partition(":")
        uid = _lookup_id(root, "/etc/passwd", name, 2) if name else 0
        gid_default = _lookup_id(root, "/etc/passwd", name, 3) if name and not name.isdigit() else 0
        gid = _lookup_id(root, "/etc/group", group, 2) if group else gid_default
        return uid, gid

    @staticmethod
    def stored_owner(rec: ContainerRecord, owner: tuple[int, int] | None) -> tuple[int, int] | None:
        """The ids to write for ``owner`` so that the container sees it: files are written from outside its
        user namespace (its upper layer takes our ids as they are), and its own id maps translate them."""
        from sealpod.engine.container_userns import id_maps, to_host_id

        uid_maps, gid_maps = id_maps(rec.spec)
        if owner is None or not uid_maps:
            return owner
        return to_host_id(uid_maps, owner[0]), to_host_id(gid_maps, owner[1])

    # --- diff / export ----------------------------------------------------------------

    def changes(self, name: str, *, containers_only: bool = False) -> list[Change]:
        """``diff``: an image's top layer's changes to its parent (an image wins over a container of
        the same name, as in Podman), or a container's changes to its image."""
        from sealpod.errors import NoSuchImage

        if not containers_only:
            try:
                return self._image_changes(self.engine.images.get(name))
            except NoSuchImage:
                pass
        try:
            rec = self.engine.containers.lookup(name, external=True)  # storage-level: a build's too, as Podman
        except NoSuchContainer:
            if containers_only:
                raise
            rec = None
        if rec is None:
            raise NotFound(f"{name} not found: layer not known")
        found = self._container_changes(rec.id)
        return [c for c in found if c.path not in RUNTIME_MOUNTS]

    def _container_changes(self, ctr_id: str) -> list[Change]:
        from sealpod.storage.changes import overlay_changes, tree_changes

        layers = self.store.containers.image_layers(ctr_id)
        upper = self.store.containers.diff_path(ctr_id)
        if self.store.driver_name == "vfs":
            return tree_changes(upper, self.store.layer_diff_path(layers[-1]) if layers else None)
        return overlay_changes(upper, [self.store.layer_diff_path(lay) for lay in reversed(layers)])

    def _image_changes(self, image: ImageRecord) -> list[Change]:
        from sealpod.storage.changes import overlay_changes, tree_changes

        if not image.layers:
            return []
        top, below = image.layers[-1], list(image.layers[:-1])
        if self.store.driver_name == "vfs":
            return tree_changes(self.store.layer_diff_path(top),
                                self.store.layer_diff_path(below[-1]) if below else None)
        return overlay_changes(self.store.layer_diff_path(top),
                               [self.store.layer_diff_path(lay) for lay in reversed(below)])

    def export(self, name: str, out: BinaryIO) -> None:
        from sealpod.storage.tarwriter import write_tree

        rec = self._lookup(name)
        with self.rootfs(rec) as root:
            write_tree(root, out)

    # --- import / commit --------------------------------------------------------------

    def import_image(self, source: BinaryIO, reference: str | None, *, changes: Sequence[str] = (),
                     message: str = "", report: Report | None = None, os_name: str = "", arch: str = "",
                     variant: str = "") -> str:
        """``import``: a (possibly compressed) tarball becomes a one-layer image; returns its ID.
        ``os_name``, ``arch`` and ``variant`` (``--os``/``--arch``/``--variant``) replace the host's."""
        from sealpod.image.manifest import host_platform

        say = report or (lambda _line: None)
        layer = self._store_blob(source)
        plat = host_platform()
        now = _now()
        config: dict[str, Any] = {
            "created": now, "architecture": arch or plat.architecture, "os": os_name or plat.os,
            "config": _apply_changes({}, changes),
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
            "history": [{"created": now, "created_by": f"/bin/sh -c #(nop) ADD file:{layer.diff_id[7:]} in /",
                         "comment": message or "imported from tarball"}],
        }
        if variant or (plat.variant and not arch):
            config["variant"] = variant or plat.variant
        return self._store_image([], [layer], [], config, reference, "oci", say)

    def commit(self, name: str, reference: str | None, options: CommitOptions,
               report: Report | None = None) -> str:
        """``commit``: the container's image plus one layer of its changes; returns the new image ID."""
        say = report or (lambda _line: None)
        if options.format not in ("oci", "docker"):
            raise InvalidArgument(f"unrecognized image type {options.format!r}")
        rec = self._lookup(name)
        paused = False
        if options.pause and rec.state == "running":
            self.engine.containers.pause(rec.id)
            paused = True
        parent = self.store.get_image(rec.image_id) if rec.image_id else None
        layer: _NewLayer | None = None
        try:
            if options.squash:
                layer = self._squashed_layer(rec)
            elif not (options.omit_empty_layer and not any(
                    c.path not in RUNTIME_MOUNTS for c in self._container_changes(rec.id))):
                from sealpod.engine.commit_config import secret_paths

                layer = self._diff_layer(rec.id, secret_paths(rec) | frozenset(options.exclude))
        finally:
            if paused:
                self.engine.containers.unpause(rec.id)
        from sealpod.engine.commit_config import commit_config

        config = commit_config(rec, parent, layer.diff_id if layer else None, options, _now())
        base_layers = list(parent.layers) if parent and not options.squash else []
        descs = self._parent_descriptors(parent, options.format) if not options.squash else []
        return self._store_image(base_layers, [layer] if layer else [], descs, config, reference, options.format,
                                 say, options.annotations)

    def _squashed_layer(self, rec: ContainerRecord) -> _NewLayer:
        """The container's whole root filesystem as one layer (``commit --squash``)."""
        from sealpod.storage.tarwriter import write_tree

        path, f = self.store.temp_file()
        try:
            with f:
                with self.rootfs(rec) as root:
                    write_tree(root, f)
                f.seek(0)
                return self._store_blob(f)
        finally:
            path.unlink(missing_ok=True)

    def _diff_layer(self, ctr_id: str, skip: frozenset[str] = frozenset()) -> _NewLayer:
        """The container's changes as a layer, less ``skip`` (mount points of its secrets)."""
        from sealpod.storage.tarwriter import write_changes

        changes = [c for c in self._container_changes(ctr_id) if c.path not in skip]
        upper = self.store.containers.diff_path(ctr_id)
        path, f = self.store.temp_file()
        try:
            with f:
                write_changes(upper, changes, f)
                f.seek(0)
                return self._store_blob(f)
        finally:
            path.unlink(missing_ok=True)

    def _parent_descriptors(self, parent: ImageRecord | None, fmt: str) -> list[dict[str, Any]]:
        """The parent's layer descriptors from its stored manifest (so push sends the same blobs)."""
        if parent is None:
            return []
        record = self.store.image_manifest(parent.id, parent.manifest_digest)
        descs: list[dict[str, Any]] = []
        if record is not None:
            descs = list(json.loads(record.body).get("layers") or [])
        if len(descs) == len(parent.layers):
            return [{**d, "mediaType": _LAYER_TYPES.get(fmt, {}).get(d.get("mediaType", ""), d.get("mediaType"))}
                    for d in descs]
        descs = []
        for layer_id in parent.layers:  # no usable manifest: describe what we keep
            found = self.store.layer_blob(layer_id)
            if found is None:
                raise SealpodError(f"image {parent.id[:12]}: layer {layer_id[:12]} has no stored blob to commit on")
            descs.append({"mediaType": found[1].media_type or OCI_LAYER_GZIP,
                          "digest": found[1].compressed_digest, "size": found[0].stat().st_size})
        return descs

    def _store_blob(self, source: BinaryIO) -> _NewLayer:
        """Decompress ``source``, hash it (diff ID) and keep it gzip-compressed as a blob."""
        from sealpod.utils.compression import compress_into, decompressed_chunks

        tmp, out = self.store.temp_file()
        try:
            diff_hash, blob_hash = hashlib.sha256(), hashlib.sha256()
            with out:
                size = compress_into(decompressed_chunks(source), zlib.compressobj(6, zlib.DEFLATED, 31), out,
                                     blob_hash, diff_hash)
            digest = "sha256:" + blob_hash.hexdigest()
            kept = self.store.adopt_blob(digest, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        return _NewLayer(kept, digest, size, "sha256:" + diff_hash.hexdigest())

    def _store_image(self, base_layers: list[str], new: list[_NewLayer], base_descs: list[dict[str, Any]],
                     config: dict[str, Any], reference: str | None, fmt: str, say: Report,
                     annotations: dict[str, str] | None = None) -> str:
        from sealpod.storage.layers import chain_ids
        from sealpod.storage.records import ManifestRecord

        diff_ids = list(config["rootfs"]["diff_ids"])
        chain = chain_ids(diff_ids)
        say("Getting image source signatures")
        layer_type = OCI_LAYER_GZIP if fmt == "oci" else DOCKER_LAYER_GZIP
        for i, layer in enumerate(new, start=len(base_layers)):
            say(f"Copying blob {layer.digest}")
            if not self.store.layer_exists(chain[i]):
                self.store.create_layer(chain[i], chain[i - 1] if i else None, layer.blob, diff_id=layer.diff_id,
                                        compressed_digest=layer.digest, media_type=layer_type)
        body = json.dumps(config, separators=(",", ":")).encode()
        image_id = hashlib.sha256(body).hexdigest()
        say(f"Copying config sha256:{image_id}")
        descs = [*base_descs, *({"mediaType": layer_type, "digest": n.digest, "size": n.size} for n in new)]
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST if fmt == "oci" else DOCKER_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG if fmt == "oci" else DOCKER_CONFIG,
                               "digest": f"sha256:{image_id}", "size": len(body)},
                    "layers": descs}
        if annotations and fmt == "oci":  # a Docker manifest has none
            manifest["annotations"] = annotations
        mbody = json.dumps(manifest, indent=4).encode()
        say("Writing manifest to image destination")
        names = [str(self.engine.images._qualify(reference))] if reference else []  # moves here if taken
        record = ManifestRecord("sha256:" + hashlib.sha256(mbody).hexdigest(), str(manifest["mediaType"]), mbody)
        self.store.create_image(image_id, chain, body, manifests=[record], names=names)
        say("Storing signatures")
        return image_id


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def _tar_or_refuse(stream: BinaryIO) -> BinaryIO:
    """``cp -``: the input must be a tar, compressed or not; anything else is refused up front
    (the stream is read ahead and handed on whole)."""
    import io

    from sealpod.utils.compression import Compression, detect

    head = b""
    while len(head) < 512:
        chunk = stream.read(512 - len(head))
        if not chunk:
            break
        head += chunk
    if detect(head) == Compression.NONE and head[257:262] != b"ustar":
        raise InvalidArgument("source must be a (compressed) tar archive when copying from stdin")

    class _Rejoined(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            nonlocal head
            if head:
                n = min(len(b), len(head))
                b[:n], head = head[:n], head[n:]
                return n
            data = stream.read(len(b))
            b[:len(data)] = data
            return len(data)

    return io.BufferedReader(_Rejoined())


def _in_workdir(rec: ContainerRecord, path: str) -> str:
    """A relative container path is relative to the container's working directory, as in Podman."""
    if path.startswith("/"):
        return path
    workdir = str(rec.spec.get("workdir") or rec.config.get("workdir") or "/")
    return workdir.rstrip("/") + "/" + path


def _base(path: str, default: str) -> str:
    base = os.path.basename(path.rstrip("/"))
    return base if base not in ("", ".", "..") else default


def _lookup_id(root: str, file: str, name: str, field: int) -> int:
    from sealpod.storage.tarwriter import resolve_in_root

    if name.isdigit():
        return int(name)
    try:
        with open(resolve_in_root(root, file), errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) > field and parts[0] == name and parts[field].isdigit():
                    return int(parts[field])
    except OSError:
        pass
    from sealpod.errors import NoSuchUser

    raise NoSuchUser(f"unable to find user {name}: no matching entries in passwd file")


def _write_source(src: str, out: BinaryIO, arcname: str, contents: bool, *,
                  owner: tuple[int, int] | None = None, refuse_whiteouts: bool = False,
                  root_arcname: str = "", skip: frozenset[str] = frozenset()) -> None:
    """A tar of ``src`` (a directory's contents when ``contents``) under ``arcname``; the absolute
    paths in ``skip`` (a running container's /proc, /sys, /dev) are left out with all below them."""
    from sealpod.storage.tarwriter import TarWriter, write_tree

    if os.path.isdir(src) and not os.path.islink(src):
        top = root_arcname if contents else arcname

        def exclude(name: str) -> bool:
            rel = name[len(top):].lstrip("/") if top else name
            return os.path.normpath(os.path.join(src, rel)) in skip

        if contents:
            write_tree(src, out, arcname=root_arcname, owner=owner, refuse_whiteouts=refuse_whiteouts,
                       exclude=exclude if skip else None)
        else:
            write_tree(src, out, arcname=arcname, include_root=True, owner=owner,
                       refuse_whiteouts=refuse_whiteouts, exclude=exclude if skip else None)
        return
    writer = TarWriter(out, owner=owner, refuse_whiteouts=refuse_whiteouts)
    fd = os.open(os.path.dirname(src) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        writer.add_entry(fd, os.path.basename(src), arcname)
    finally:
        os.close(fd)
    writer.close()


def _pipe_extract(produce: Callable[[BinaryIO], None], dest: str | os.PathLike[str]) -> None:
    """Stream a tar from ``produce`` (in a thread) into the safe extractor at ``dest``."""
    from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer

    rfd, wfd = os.pipe()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            with open(wfd, "wb") as w:
                produce(w)
        except BrokenPipeError:
            pass
        except BaseException as e:  # reported by the caller
            failure.append(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        with open(rfd, "rb") as r:
            try:
                extract_layer(r, Path(dest), whiteouts=WhiteoutFormat.VFS)
            except SealpodError:
                if not failure:
                    thread.join()
                if failure:
                    raise failure[0] from None
                raise
    finally:
        thread.join()
    if failure:
        raise failure[0]


def _is_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _host_target(is_dir: bool, typed: str, dest: str, contents: bool) -> tuple[str, str]:
    """Where on the host a copy lands: (directory to extract into, top-level name in it)."""
    if os.path.isdir(dest):
        return dest, "" if contents and is_dir else _base(typed, "root")
    if dest.endswith("/") and not is_dir:
        raise NotFound(f'"{dest}" could not be found on the host: no such file or directory')
    parent = os.path.dirname(dest.rstrip("/")) or "."
    if not os.path.isdir(parent):
        raise NotFound(f'"{parent}" could not be found on the host: no such file or directory')
    if os.path.exists(dest) and not os.path.isfile(dest):
        raise InvalidArgument(f'invalid destination: "{dest}" must be a directory or a regular file')
    if os.path.exists(dest) and is_dir:
        raise InvalidArgument("destination must be a directory when copying a directory")
    return parent, os.path.basename(dest.rstrip("/"))


def _check_host_overwrite(src_is_dir: bool, target_dir: str, arcname: str, overwrite: bool) -> None:
    """A file may not silently replace a directory on the host, nor the reverse (Podman's words)."""
    existing = os.path.join(target_dir, arcname)
    if not arcname or not os.path.lexists(existing):
        return
    ex_dir = os.path.isdir(existing) and not os.path.islink(existing)
    if ex_dir == src_is_dir:
        return
    if not overwrite:
        verb = "mkdir" if src_is_dir else "open"
        raise ContainerStateInvalid(f'copying to host: copier: put: error creating "/{arcname}": '
                                    f"{verb} /{arcname}: file exists")
    if ex_dir:
        import shutil

        shutil.rmtree(existing)
    else:
        os.unlink(existing)


def _container_target(root: str, resolved: str, parent: str, typed: str, src: str, name: str,
                      overwrite: bool, src_is_dir: bool) -> tuple[str, str]:
    """Where in the container a host file lands: (resolved directory on disk, name in it)."""
    contents = src.endswith("/.")
    if os.path.isdir(resolved):
        if contents and src_is_dir:
            return resolved, ""
        target, arcname = resolved, _base(src, "root")
    else:
        if typed.endswith("/"):
            raise NotFound(f'"{typed}" could not be found on container {name}: no such file or directory')
        if not os.path.isdir(parent):
            raise NotFound(f'"{os.path.dirname(typed)}" could not be found on container {name}: '
                           "no such file or directory")
        target, arcname = parent, os.path.basename(typed.rstrip("/"))
        if not src_is_dir and os.path.islink(os.path.join(target, arcname)) \
                and os.path.isdir(os.path.dirname(resolved)):
            target, arcname = os.path.split(resolved)  # a dangling symlink: its target is made, as in Podman
    existing = os.path.join(target, arcname)
    if not overwrite and os.path.lexists(existing):
        ex_dir = os.path.isdir(existing) and not os.path.islink(existing)
        if ex_dir != src_is_dir:
            if not os.path.isdir(resolved):  # the destination named is itself the file in the way
                raise InvalidArgument("destination must be a directory when copying a directory")
            inside = "/" + os.path.relpath(existing, root)
            verb = "mkdir" if src_is_dir else "open"
            raise ContainerStateInvalid(f'copying to container: copier: put: error creating "{inside}": '
                                        f"{verb} {inside}: file exists")
    return target, arcname


def _apply_changes(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    from sealpod.engine.image_changes import apply_changes

    return apply_changes(config, changes)
