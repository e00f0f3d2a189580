"""Local image operations: list, inspect, tag, untag, remove, prune, history, exists.

Pulling, pushing and registry accounts live in :mod:`sealpod.engine.image_transfer`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sealpod.engine.entities import (
    HistoryEntry,
    ImageSummary,
    PullOptions,
    PushOptions,
    RegistryFlags,
    RemoveReport,
    SearchResult,
)
from sealpod.errors import Conflict, ImageInUse, InvalidArgument, NoSuchImage, SealpodError
from sealpod.storage.records import ImageRecord
from sealpod.utils.timefmt import rfc3339_seconds

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, BinaryIO

    from sealpod.engine import Engine
    from sealpod.engine.image_mounts import ImageMountService
    from sealpod.image.reference import Reference

Report = Callable[[str], None]


def _epoch_ns(created: str | None) -> int | None:
    """A config time in nanoseconds since the epoch, the fraction kept whole as Go keeps it."""
    if not created or not isinstance(created, str):
        return None
    _, dot, tail = created.partition(".")
    frac = "".join(ch for ch in tail[:9] if ch.isdigit()) if dot else ""
    return _epoch(created) * 1_000_000_000 + int(frac.ljust(9, "0")[:9] or 0)


def _epoch(created: str | None) -> int:
    if not created:
        return 0
    try:
        text = created.replace("Z", "+00:00")
        if "." in text:  # Go writes nanoseconds; Python takes up to microseconds
            head, _, tail = text.partition(".")
            frac = "".join(ch for ch in tail if ch.isdigit())
            text = f"{head}.{frac[:6]}{tail[len(frac):]}"
        from datetime import datetime

        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0


def _config(image: ImageRecord) -> dict[str, Any]:
    return image.config_doc()


def _comment(cfg: dict[str, Any]) -> str:
    """Inspect's ``Comment``: a Docker config's own comment, else the oldest history entry's, as Podman."""
    history = cfg.get("history") or [{}]
    return str(cfg.get("comment") or history[0].get("comment") or "")


def _healthcheck(cfg: dict[str, Any], own: Any) -> dict[str, Any] | None:
    """The image's HEALTHCHECK (an older Docker image's is in container_config only), zero fields left out."""
    from sealpod.engine.health import config_report

    if not isinstance(own, dict):
        legacy = cfg.get("container_config")
        own = legacy.get("Healthcheck") if isinstance(legacy, dict) else None
    return config_report(own) if isinstance(own, dict) and own.get("Test") else None


def _annotations(manifest: Any) -> dict[str, str]:
    """The image manifest's annotations (``build --annotation``, Buildah's base image ones)."""
    import json

    if manifest is None or b'"annotations"' not in manifest.body:
        return {}
    found = json.loads(manifest.body).get("annotations")
    return dict(found) if isinstance(found, dict) else {}


def _repository(name: str) -> str:
    """A stored name is normalized: ``repo:tag``, or ``repo@digest`` after a pull by digest."""
    return name.partition("@")[0] if "@" in name else name.rpartition(":")[0]


def repo_digests(image: ImageRecord) -> list[str]:
    repos = list(dict.fromkeys(_repository(n) for n in image.names))
    return [f"{repo}@{d}" for repo in repos for d in image.digests]


class ImageService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    @property
    def mounts(self) -> ImageMountService:
        """``image mount`` / ``image unmount``: read-only trees of images, counted."""
        from sealpod.engine.image_mounts import ImageMountService

        return ImageMountService(self.engine)

    # --- lookup ---------------------------------------------------------------------

    def get(self, name: str) -> ImageRecord:
        from sealpod.engine.image_lookup import require_image
        from sealpod.image.reference import split_transport

        transport, rest = split_transport(name)
        if transport == "containers-storage":
            name = rest[rest.index("]") + 1:] if rest.startswith("[") and "]" in rest else rest
        elif transport not in (None, "docker"):  # oci-archive:FILE etc. are read again, as Podman does
            raise NoSuchImage(f"{name}: image not known")
        return require_image(self.store, name, self._registries_for(name))

    def exists(self, name: str) -> bool:
        from sealpod.engine.image_lookup import find_image

        try:
            return find_image(self.store, name, self._registries_for(name)) is not None
        except SealpodError:
            return False

    def _registries_for(self, name: str) -> Any:
        # registries.conf only matters for short names: skip parsing it otherwise.
        head = name.split("/", 1)[0]
        qualified = "/" in name and ("." in head or ":" in head or head == "localhost")
        return None if qualified else self.engine.registries

    # --- listing --------------------------------------------------------------------

    def summary(self, image: ImageRecord, parent_id: str = "") -> ImageSummary:
        from sealpod.engine.image_damage import check

        check(image)
        cfg = _config(image)
        labels = (cfg.get("config") or {}).get("Labels") or {}
        created = _epoch(image.created)
        return ImageSummary(
            id=image.id, names=image.names, repo_digests=tuple(repo_digests(image)),
            digest=image.manifest_digest or "", created=created, created_at=rfc3339_seconds(created),
            size=image.size, labels=dict(labels), containers=len(self.engine.image_users(image.id)),
            dangling=not image.names, history=image.names_history, parent_id=parent_id,
        )

    def list_images(self, filters: Sequence[str] = (), all_images: bool = True) -> list[ImageSummary]:
        """``all_images=False`` (``images`` without ``-a``) hides a build's intermediate images."""
        from sealpod.engine.image_filters import build_filter
        from sealpod.engine.image_tree import intermediate_ids, parents

        matches = build_filter(filters, self.get)
        images = self.store.list_images()
        hidden = set() if all_images else intermediate_ids(images)
        parent = parents(images)
        return [self.summary(img, parent.get(img.id, "")) for img in images if img.id not in hidden and matches(img)]

    def inspect(self, name: str) -> dict[str, Any]:
        """Podman's ``image inspect`` document."""
        image = self.get(name)
        cfg = _config(image)
        layers = [self.store.get_layer(lay) for lay in image.layers]
        manifest = self.store.image_manifest(image.id, image.manifest_digest)
        inner = dict(cfg.get("config") or {})
        health = _healthcheck(cfg, inner.pop("Healthcheck", None))  # not in the OCI config Podman shows
        return {
            "Id": image.id, "Digest": image.manifest_digest or "", "RepoTags": [n for n in image.names if "@" not in n],
            "RepoDigests": repo_digests(image), "Parent": self.parent_id(image), "Comment": _comment(cfg),
            "Created": image.created or "", "Config": inner, "Version": cfg.get("docker_version", ""),
            "Author": cfg.get("author", ""), "Architecture": cfg.get("architecture", ""),
            "Os": cfg.get("os", ""), "Size": image.size, "VirtualSize": image.size,
            "GraphDriver": self._graph_driver(image), "RootFS": {
                "Type": "layers", "Layers": [lay.diff_id for lay in layers]},
            "Labels": inner.get("Labels") or None, "Annotations": _annotations(manifest),
            "ManifestType": manifest.media_type if manifest else "", "User": inner.get("User", ""),
            "History": cfg.get("history") if "history" in cfg else None,  # none (--omit-history): null
            "NamesHistory": list(image.names_history or image.names),
            **({"Healthcheck": health} if health else {}),
        }

    def parent_id(self, image: ImageRecord) -> str:
        """The image this one was built on, when it is still here (see :func:`image_tree.parents`)."""
        from sealpod.engine.image_tree import parents

        return parents(self.store.list_images()).get(image.id, "")

    def _graph_driver(self, image: ImageRecord) -> dict[str, Any]:
        paths = [str(self.store.layer_diff_path(lay)) for lay in reversed(image.layers)]
        data: dict[str, str] = {}
        if self.store.driver_name == "overlay" and paths:
            data["UpperDir"] = paths[0]
            data["WorkDir"] = paths[0].removesuffix("/diff") + "/work"
            if len(paths) > 1:
                data["LowerDir"] = ":".join(paths[1:])
            merged = self.store.image_mounts.mounted().get(image.top_layer or "")
            if merged:  # while ``image mount`` holds it, as Podman shows
                data["MergedDir"] = merged
        return {"Name": self.store.driver_name, "Data": dict(sorted(data.items()))}  # Go's map order

    def tree(self, name: str, *, whatrequires: bool = False) -> str:
        """``image tree``'s text: the image's layers, or the layers and containers built on it."""
        from sealpod.engine.image_layer_tree import tree_text

        return tree_text(self.engine, name, whatrequires=whatrequires)

    def history(self, name: str) -> list[HistoryEntry]:
        """The image's history, newest first, as Podman shows it: walking down its layers from the top,
        an entry takes the ID of the oldest image whose top layer is the current layer, once.
        An image whose config has no history (``build --omit-history``) has no entries at all."""
        image = self.get(name)
        history = _config(image).get("history") or []
        if not isinstance(history, list) or not history:
            return []
        by_top: dict[str, list[ImageRecord]] = {}
        for img in sorted(self.store.list_images(), key=lambda i: i.stored):
            if img.top_layer:
                by_top.setdefault(img.top_layer, []).append(img)
        used: set[str] = set()
        index = len(image.layers) - 1
        entries: list[HistoryEntry] = []
        for n, item in enumerate(reversed(history)):
            empty = bool(item.get("empty_layer"))
            entry_id, size = image.id if n == 0 else "<missing>", 0
            tags: tuple[str, ...] = ()
            if index >= 0:
                layer = image.layers[index]
                size = 0 if empty else self.store.get_layer(layer).uncompressed_size
                owners = by_top.get(layer) or []
                if owners and owners[0].id not in used:
                    entry_id = owners[0].id
                    used.add(entry_id)
                tags = tuple(n for img in owners for n in img.names)
                if not empty:
                    index -= 1
            entries.append(HistoryEntry(id=entry_id, created=_epoch(item.get("created")),
                                        created_by=str(item.get("created_by", "")), size=size,
                                        comment=str(item.get("comment", "")), tags=tags,
                                        created_ns=_epoch_ns(item.get("created"))))
        return entries

    # --- names ----------------------------------------------------------------------

    @staticmethod
    def _qualify(name: str) -> Reference:
        """A new name for a local image: a short name lives under ``localhost/``."""
        from sealpod.image.reference import parse_reference

        try:
            ref = parse_reference(name)
        except SealpodError as e:
            raise type(e)(f'normalizing name "{name}": {e.message}') from e
        if ref.digest is not None:
            raise InvalidArgument(f'tag by digest not supported: "{name}"')
        if ref.is_short_name:
            ref = ref.with_registry("localhost")
        return ref.tagged_or_latest()

    def tag(self, name: str, new_names: Sequence[str], *, event: bool = True) -> None:
        """``event``: false for a build's names, which Podman records as its one "build" event."""
        image = self.get(name)
        refs = [self._tag_name(n) for n in new_names]
        for typed, ref in zip(new_names, refs, strict=True):
            self.store.add_name(image.id, str(ref))
            if event:
                self.engine.events.emit("image", "tag", id=image.id, name=typed)  # Podman records the name as typed

    def _tag_name(self, name: str) -> Reference:
        """A name for `tag`/`untag`, with Podman's words (its normaliser wraps a bad name's error twice)."""
        try:
            return self._qualify(name)
        except InvalidArgument as e:
            if "tag by digest" in e.message:
                raise InvalidArgument(f"{name}: tag by digest not supported") from e
            raise type(e)(f'normalizing name "{name}": {e.message}') from e
        except SealpodError as e:
            raise type(e)(f'normalizing name "{name}": {e.message}') from e

    def untag(self, name: str, names: Sequence[str]) -> list[str]:
        image = self.get(name)
        if not names:
            removed = list(image.names)
        else:
            removed = []
            for n in names:
                full = self._untag_target(image, n)
                removed.append(full)
        for full in removed:
            self.store.remove_name(full)
            self.engine.events.emit("image", "untag", id=image.id, name=full)
        return removed

    def _untag_name(self, image: ImageRecord, name: str) -> str:
        """Which of the image's names ``name`` (as a container was created with it) stands for: a short
        name matches a name of any registry whose last path component and tag are its own."""
        from sealpod.image.reference import parse_reference

        ref = parse_reference(name).strip_tag_if_digested().tagged_or_latest()
        wanted = [str(ref)] if not ref.is_short_name else [
            n for n in image.names if parse_reference(n).repository.split("/")[-1] == ref.repository
            and parse_reference(n).tag == ref.tag or n == str(ref.with_registry("localhost"))]
        for full in wanted:
            if full in image.names:
                return full
        raise NoSuchImage(f"{ref if ref.digest else name}: tag not known")

    def _untag_target(self, image: ImageRecord, name: str) -> str:
        """The name `untag` removes: ``name`` normalized as Podman does (a short name is localhost/NAME)."""
        from sealpod.image.reference import parse_reference

        try:
            ref = parse_reference(name).strip_tag_if_digested().tagged_or_latest()  # name:tag@digest is name@digest
        except SealpodError as e:
            raise type(e)(f'normalizing name "{name}": normalizing name "{name}": {e.message}') from e
        if ref.is_short_name:  # Podman normalises a short name to localhost/NAME, never searching registries
            ref = ref.with_registry("localhost")
        if str(ref) in image.names:
            return str(ref)
        raise NoSuchImage(f"{ref}: tag not known")

    # --- removal --------------------------------------------------------------------

    def remove(self, names: Sequence[str], *, force: bool = False, all_images: bool = False,
               ignore: bool = False, no_prune: bool = False) -> RemoveReport:
        """``rmi``: untag what was named by name; delete images left without names (and, unless
        ``no_prune``, the parents that leaves dangling)."""
        report = RemoveReport()
        if all_images:
            targets = [(img.id, img) for img in self.store.list_images()]
        else:
            targets = []
            for n in names:
                try:
                    targets.append((n, self.get(n)))
                except NoSuchImage as e:
                    if not (ignore or force):  # --force also forgives a missing image, as Podman's
                        report.errors.append(e)
        for typed, image in targets:
            if image.id in report.deleted:
                continue  # gone already, as the dangling parent of an image removed before it
            try:
                self._remove_one(typed, image, force, all_images, report, no_prune)
            except SealpodError as e:
                report.errors.append(e)
        return report

    def _remove_one(self, typed: str, image: ImageRecord, force: bool, by_all: bool,
                    report: RemoveReport, no_prune: bool = False) -> None:
        image = self.store.get_image(image.id)
        by_id = by_all or image.id.startswith(typed.removeprefix("sha256:"))
        if not by_id and len(image.names) > 1:  # one of several names: only untagged, even when in use
            full = self._matching_name(image, typed)
            self.store.remove_name(full)
            report.untagged.append(full)
            self.engine.events.emit("image", "untag", id=image.id, name=full)
            return
        users = self.engine.image_users(image.id)
        if users and not force:
            user_id = self.engine.containers.lookup(users[0]).id
            raise ImageInUse(f"image used by {user_id}: image is in use by a container: consider "
                             "listing external containers and force-removing image")
        if users:
            self._remove_users(users)
        if by_id and len(image.names) > 1 and not force:
            # Podman's words and Go's formatting; exit 125, not the "in use by a container" 2.
            raise Conflict(f'unable to delete image "{image.id}" by ID with more than one tag '
                           f"([{' '.join(image.names)}]): please force removal")
        report.untagged.extend(image.names)
        event_name = self._removal_event_name(typed, image, by_id, by_all)
        from sealpod.engine.image_damage import warn_on_remove

        warn_on_remove(image)
        self.store.delete_image(image.id)
        report.deleted.append(image.id)
        for full in image.names:  # as Podman: one untag per name, then the removal under the name given
            self.engine.events.emit("image", "untag", id=image.id, name=full)
        self.engine.events.emit("image", "remove", id=image.id, name=event_name)
        if not (by_all or no_prune):
            self._remove_dangling_parents(image, report)

    def _remove_dangling_parents(self, image: ImageRecord, report: RemoveReport) -> None:
        """As Podman: a removed image's parent goes too when that leaves it dangling (untagged, without
        children, unused), and so on up: a build's intermediate images go with the image built."""
        from sealpod.engine.image_tree import parent_of, with_children

        images = self.store.list_images()
        parent = parent_of(image, images)
        while parent is not None and not parent.names and parent.id not in with_children(images) \
                and not self.engine.image_users(parent.id):
            self.store.delete_image(parent.id)
            report.deleted.append(parent.id)
            self.engine.events.emit("image", "remove", id=parent.id, name=parent.id)
            images = self.store.list_images()
            parent = parent_of(parent, images)

    def _remove_users(self, users: Sequence[str]) -> None:
        """``rmi -f``: the containers using the image go first; one in a pod takes its pod along."""
        from sealpod.errors import NotFound

        containers = self.engine.containers
        for name in users:
            try:
                rec = containers.lookup(name)
                if rec.pod_id:
                    self.engine.pods.remove(rec.pod_id, force=True)
                else:
                    containers.remove_with_dependents(rec.id, force=True)
            except NotFound:
                continue  # gone meanwhile (with its pod, or by another command)

    def _removal_event_name(self, typed: str, image: ImageRecord, by_id: bool, by_all: bool) -> str:
        """The name Podman's ``remove`` event carries: none for ``rmi --all``, the ID as typed, else
        the stored name the lookup matched (``alpine`` is recorded as ``quay.io/libpod/alpine:latest``)."""
        if by_all:
            return ""
        if by_id or not image.names:
            return typed
        try:
            return self._matching_name(image, typed)
        except SealpodError:
            return typed

    def _matching_name(self, image: ImageRecord, typed: str) -> str:
        from sealpod.engine.image_lookup import find_image
        from sealpod.image.reference import parse_reference

        found = find_image(self.store, typed, self._registries_for(typed))
        ref = parse_reference(typed).tagged_or_latest()
        for n in image.names:
            if n == str(ref) or (ref.is_short_name and n.endswith("/" + str(ref))):
                return n
        return image.names[0] if found else typed

    def prune(self, *, all_images: bool = False, filters: Sequence[str] = (), external: bool = False) -> list[str]:
        """Remove dangling images (``all_images``: every image not used by a container); again
        while that leaves more (a build's intermediate images, once their last child is gone).
        ``external``: an image used only by a build's working containers goes, and they with it."""
        from sealpod.engine.container_external import remove_users
        from sealpod.engine.image_filters import build_filter
        from sealpod.engine.image_tree import with_children

        matches = build_filter(filters, self.get)
        removed: list[str] = []
        while True:
            images = self.store.list_images()
            parents = set() if all_images else with_children(images)  # Podman: dangling = untagged, no children
            gone = [image.id for image in images
                    if not ((image.names and not all_images) or image.id in parents or not matches(image)
                            or (self.engine.image_users(image.id)
                                and not (external and remove_users(self.engine, image.id))))]
            from sealpod.engine.image_damage import warn_on_remove

            for image_id in gone:
                warn_on_remove(self.store.get_image(image_id))
                self.store.delete_image(image_id)
            removed += gone
            if not gone:
                return removed

    # --- transfer (thin wrappers; see image_transfer) ------------------------------------

    def pull(self, name: str, options: PullOptions, report: Report) -> list[str]:
        from sealpod.engine.image_transfer import pull

        return pull(self.engine, name, options, report)

    def pull_with_policy(self, name: str, policy: str, options: PullOptions, report: Report) -> list[str]:
        """``pull --policy``: always, missing (the default), never, or newer (when the registry's
        digest differs from the local image's); returns the image IDs."""
        from sealpod.engine.image_transfer import remote_digest

        if policy not in ("always", "missing", "never", "newer"):
            raise InvalidArgument(f'unsupported pull policy "{policy}"')
        if policy != "always" and not options.all_tags:
            try:
                local = self.get(name)
            except NoSuchImage:
                if policy == "never":
                    raise NoSuchImage(f"{name}: image not known") from None
            else:
                if policy in ("missing", "never") or remote_digest(self.engine, name, options) in (
                        None, *local.digests):
                    return [local.id]
        return self.pull(name, options, report)

    def push(self, name: str, destination: str | None, options: PushOptions, report: Report) -> str:
        from sealpod.engine.image_transfer import push

        image = self.get(name)
        if self.store.manifest_list_sources(image.id) is not None:  # a list goes with its images, as Podman's
            from sealpod.engine.manifests import ListPushOptions

            lists = self.engine.manifests
            return lists.push(name, destination, ListPushOptions(
                registry=options.registry, digest_file=options.digest_file, progress=options.progress,
                compression=options.compression), report)
        return push(self.engine, image, name, destination, options, report)

    def save(self, names: Sequence[str], *, out: BinaryIO | None = None, directory: Path | None = None,
             fmt: str = "docker-archive", report: Report = lambda _: None, where: str = "",
             uncompressed: bool = False, compress: bool = False) -> None:
        """``where``: the archive's path as the user gave it (for the event), if it is a file;
        ``uncompressed`` (oci formats) and ``compress`` (docker-dir): how layers are written."""
        from sealpod.engine.image_archive import save

        save(self.engine, names, out, directory, fmt, report, uncompressed=uncompressed, compress=compress)
        for name in names:  # Podman names the event after where the archive went
            self.engine.events.emit("image", "save", id=self.get(name).id,
                                    name=where or (str(directory) if directory is not None else name))

    def load_url(self, url: str, report: Report = lambda _: None) -> list[str]:
        """``load -i http(s)://...``: the archive is read as it downloads, as from stdin."""
        import urllib.error
        import urllib.request

        from sealpod.errors import InvalidArgument

        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the user's own URL
                return self.load(response, report)
        except urllib.error.HTTPError as e:
            raise InvalidArgument(f"downloading {url}: {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            why = reason.strerror.lower() if isinstance(reason, OSError) and reason.strerror else str(reason)
            if isinstance(reason, ConnectionRefusedError):
                why = f"connect: {why}"
            raise InvalidArgument(f'downloading {url}: Get "{url}": {why}') from None

    def load(self, src: BinaryIO, report: Report = lambda _: None, signature_policy: Path | None = None) -> list[str]:
        from sealpod.engine.image_archive import load

        loaded = load(self.engine, src, report, signature_policy)
        where = str(getattr(src, "name", "") or "")
        self.engine.events.emit("image", "loadfromarchive", name=where if where and not where.startswith("<")
                                else "/dev/stdin")
        return loaded

    def load_directory(self, path: str, report: Report = lambda _: None) -> list[str]:
        """``load -i DIR``: an OCI layout (named after its path) or a ``dir:`` image (unnamed: its ID
        is what was loaded), as Podman tries its directory transports."""
        from sealpod.engine.image_transports import pull_local
        from sealpod.errors import ImageTransportError

        where = Path(path)
        if (where / "index.json").is_file():
            image_id = pull_local(self.engine, "oci", path, None, None, report, pull_event=False)
            names = [n.removesuffix(":latest") for n in self.store.get_image(image_id).names
                     if n.startswith("localhost/")][:1]
        elif (where / "manifest.json").is_file():
            image_id = pull_local(self.engine, "dir", path, None, None, report, pull_event=False)
            names = []
        else:
            raise ImageTransportError(f"payload does not match any of the supported image formats: oci: open "
                                      f"{path}/index.json: no such file or directory; dir: open "
                                      f"{path}/manifest.json: no such file or directory")
        self.engine.events.emit("image", "loadfromarchive", name=path)
        return names or [f"sha256:{image_id}"]

    def list_tags(self, name: str, options: PullOptions) -> list[tuple[str, str]]:
        from sealpod.engine.image_transfer import list_tags

        return list_tags(self.engine, name, options)

    def login(self, registry: str, username: str, password: str, flags: RegistryFlags) -> Path:
        from sealpod.engine.image_transfer import login

        return login(self.engine, registry, username, password, flags)

    def check_login(self, registry: str, username: str, password: str, flags: RegistryFlags) -> None:
        """Credentials the registry accepts, or an error; nothing is stored (the API's ``/auth``)."""
        from sealpod.engine.image_transfer import check_login

        check_login(self.engine, registry, username, password, flags)

    def logout(self, registry: str | None, flags: RegistryFlags, all_registries: bool) -> Path:
        from sealpod.engine.image_transfer import logout

        return logout(self.engine, registry, flags, all_registries)

    def login_user(self, registry: str, auth_file: Path | None) -> str:
        """The user name stored for ``registry`` (``login --get-login``)."""
        from sealpod.errors import NotFound
        from sealpod.image.authfile import find_credentials

        creds = find_credentials(registry, env=self.engine.env, home=self.engine.home, auth_file=auth_file)
        if creds is None:
            raise NotFound(f"not logged into {registry}")
        return creds.username

    def search(self, term: str, options: PullOptions, limit: int = 25) -> list[SearchResult]:
        from sealpod.engine.image_transfer import search

        return search(self.engine, term, options, limit)
