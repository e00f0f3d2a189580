"""The build flags around the steps themselves, as Podman 4.3.1 (Buildah 1.28) applies them.

Pull retries for FROM and COPY --from images (``--retry``, ``--retry-delay``), extra build
contexts (``--build-context NAME=PATH|docker-image://REF``), what each commit adds to the image
(``--annotation``, ``--variant``, ``--os-version``, ``--os-feature``, ``--omit-history``), and
what happens to the final image afterwards: ``--manifest LIST`` and ``--output``.
"""

from __future__ import annotations

import time

from sealpod.errors import BuildError, NoSuchImage, RegistryError
from sealpod.utils.record import dataclass, field

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO, Any

    from sealpod.build.builder import Builder, _State
    from sealpod.build.containerfile import Stage
    from sealpod.engine import Engine

#: ``--build-context`` sources naming an image rather than a directory.
IMAGE_SCHEMES = ("docker-image://", "container-image://", "docker://")
#: The words of a registry failure worth another try (a refused or dropped connection, a timeout).
_RETRYABLE = ("connect: connection refused", "connection reset by peer", "timed out", "i/o timeout")
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class BuildExtras:
    """The flags of this module (defaults: what a build without them does)."""

    annotations: dict[str, str] = field(default_factory=dict)  # --annotation: the images' manifest annotations
    contexts: dict[str, str] = field(default_factory=dict)  # --build-context: name -> directory or image URL
    variant: str = ""  # --variant: the images' architecture variant
    os_version: str = ""  # --os-version
    os_features: tuple[str, ...] = ()  # --os-feature
    omit_history: bool = False  # --omit-history: no history in the images' configs
    skip_unused_stages: bool = True  # --skip-unused-stages
    retries: int = 3  # --retry: further attempts at a pull that failed to connect
    retry_delay: float = 2.0  # --retry-delay, seconds
    cache_ttl: float | None = None  # --cache-ttl, seconds: only images stored since then are cache hits

    def fresh(self, stored: float) -> bool:
        """Whether an image stored at ``stored`` (epoch seconds) may serve as a cache hit (``--cache-ttl``)."""
        return self.cache_ttl is None or time.time() - stored < self.cache_ttl

    def same_platform(self, cfg: dict[str, Any]) -> bool:
        """Whether a cached image's config says what --variant, --os-version and --os-feature ask."""
        return ((not self.variant or cfg.get("variant") == self.variant)
                and (not self.os_version or cfg.get("os.version") == self.os_version)
                and (not self.os_features or cfg.get("os.features") == list(self.os_features)))

    def image_context(self, name: str) -> str | None:
        """The image ``--build-context NAME=docker-image://REF`` gives ``name``, if it is one."""
        source = self.contexts.get(name) or self.contexts.get(name.lower())
        for scheme in IMAGE_SCHEMES:
            if source is not None and source.startswith(scheme):
                return source[len(scheme):]
        return None

    def directory_context(self, name: str) -> str | None:
        """The directory ``--build-context NAME=PATH`` gives ``name``, if it is one."""
        source = self.contexts.get(name) or self.contexts.get(name.lower())
        if source is None or self.image_context(name) is not None:
            return None
        return source


def base_override(b: Builder, stage: Stage) -> str:
    """The image a stage's FROM really names: ``--from`` (the first stage), or an image build context."""
    from sealpod.build.substitute import expand

    if stage.index == 0 and b.options.from_image:
        return b.options.from_image
    return b.options.extras.image_context(expand(stage.base, b.global_args)) or ""


def go_duration(seconds: float) -> str:
    """Seconds as Go prints a time.Duration: ``2s``, ``1.5s``, ``500ms``, ``1m0s``."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:g}s" if minutes else f"{rest:g}s"


def parse_retry_delay(text: str) -> float:
    """``--retry-delay``: a Go duration; Podman 4.3.1 does not read it, so a bad one keeps the default."""
    from sealpod.build.instructions import _duration

    if not text:
        return 2.0
    try:
        return _duration(text) / 1e9
    except BuildError:
        return 2.0


def pull(b: Builder, name: str) -> str:
    """A base image for the build, pulled as ``--pull`` says; a connection failure is tried again
    ``--retry`` times, ``--retry-delay`` apart, with Podman's warning each time."""
    from sealpod.engine.entities import PullOptions, RegistryFlags

    policy = {"true": "always", "false": "missing"}.get(b.options.pull, b.options.pull)
    said: set[str] = set()

    def report(text: str) -> None:  # Podman's pull progress, on stderr; "Trying to pull" once for all tries
        if not b.options.quiet and not (text.startswith("Trying to pull") and text in said):
            said.add(text)
            b.out.err(text)

    options = PullOptions(registry=b.options.registry or RegistryFlags(), signature_policy=b.options.signature_policy)
    extras = b.options.extras
    attempt = 0
    while True:
        try:
            return b.engine.images.pull_with_policy(name, policy, options, report)[-1]
        except NoSuchImage:
            raise BuildError(f"creating build container: {name}: image not known") from None
        except RegistryError as e:
            if attempt >= extras.retries or not any(w in e.message for w in _RETRYABLE):
                e.args = (f"creating build container: {e.message}",)
                raise
            attempt += 1
            b.out.warn(f"Failed, retrying in {go_duration(extras.retry_delay)} ... ({attempt}/{extras.retries}). "
                       f"Error: {e.message}")
            time.sleep(extras.retry_delay)


def commit_fields(b: Builder, state: _State) -> dict[str, Any]:
    """What a commit of the build adds to CommitOptions: annotations (Buildah's base image ones,
    then ``--annotation``), platform details and ``--omit-history``."""
    extras = b.options.extras
    annotations: dict[str, str] = {}
    if b.options.format == "oci" and state.base_id is not None and state.image_id is not None:
        digest = b.engine.store.get_image(state.image_id).manifest_digest
        annotations[BASE_NAME] = state.base_comment.removeprefix("FROM ")
        if digest:
            annotations[BASE_DIGEST] = digest
    annotations.update(extras.annotations)
    config: dict[str, Any] = {}
    if extras.variant:
        config["variant"] = extras.variant
    if extras.os_version:
        config["os.version"] = extras.os_version
    if extras.os_features:
        config["os.features"] = list(extras.os_features)
    return {"annotations": dict(sorted(annotations.items())), "extra_config": config,
            "omit_history": extras.omit_history}


# --- after the build ------------------------------------------------------------------------


def add_to_manifest(engine: Engine, list_name: str, image_id: str) -> None:
    """``--manifest LIST``: the image joins the list, which is created when there is none by
    that name (a plain image of that name is refused, as Podman)."""
    from sealpod.engine.manifests import AddOptions

    if engine.images.exists(list_name):
        engine.manifests.add(list_name, image_id, AddOptions())
    else:
        engine.manifests.create(list_name, [image_id])


@dataclass(frozen=True)
class OutputSpec:
    """``--output``: a directory (``type=local``) or a tar file (``type=tar``; "" is standard output)."""

    directory: bool
    path: str


def parse_output(text: str) -> OutputSpec:
    """``-o DIR``, ``-o -`` (a tar on standard output) or ``type=local|tar,dest=PATH``, read as
    Buildah 1.28 reads it: key=value pairs only when there is a comma."""
    if text == "-":
        return OutputSpec(False, "")
    if "," not in text:
        return OutputSpec(True, text)
    seen: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise BuildError(f'failed to parse build output: invalid build output options "{text}", '
                             "expected format key=value")
        if key not in ("type", "dest"):
            raise BuildError(f'failed to parse build output: unrecognized key "{key}" in build output option: '
                             f'"{text}"')
        if key in seen:
            raise BuildError(f'failed to parse build output: duplicate "{key}" not supported')
        if key == "type" and value not in ("local", "tar"):
            raise BuildError(f'failed to parse build output: invalid type "{value}" selected for build output '
                             f'options "{text}"')
        seen[key] = value
    if "type" not in seen or "dest" not in seen:
        raise BuildError(f'failed to parse build output: invalid build output option "{text}", accepted keys '
                         "are type and dest must be present")
    if seen["dest"] == "-":
        if seen["type"] == "local":
            raise BuildError(f'failed to parse build output: invalid build output option "{text}", type=local '
                             "and dest=- is not supported")
        return OutputSpec(False, "")
    return OutputSpec(seen["type"] == "local", seen["dest"])


def export_output(engine: Engine, image_id: str, spec: OutputSpec, stdout: IO[bytes]) -> None:
    """The final image's root filesystem, into a directory or a tar (the image is still kept):
    read from a mount of the image, as ``image mount`` makes (and counts) one."""
    import os

    path = os.path.abspath(spec.path)
    image = engine.images.get(image_id)
    mounts = engine.store.image_mounts
    root = str(mounts.mount(image))
    try:
        if spec.directory:
            _copy_tree(root, path)
        elif spec.path:
            try:
                out = open(path, "wb")  # noqa: SIM115
            except OSError as e:
                raise BuildError(f'failed to export build output: failed while creating destination tar at "{path}": '
                                 f"open {path}: {(e.strerror or str(e)).lower()}") from None
            with out:
                _write_tar(root, out)
        else:
            _write_tar(root, stdout)
            stdout.flush()
    finally:
        mounts.unmount(image)


def _write_tar(root: str, out: IO[bytes]) -> None:
    """The image's files as a tar stream, named from the root down (``bin``, ``bin/sh``), owners
    by name and number, as Buildah's ``type=tar`` output: directories without a trailing "/" and
    whole-second times, so that no PAX record is needed for them."""
    import os
    import tarfile

    class Member(tarfile.TarInfo):
        def get_info(self) -> Mapping[str, str | int | bytes | Mapping[str, str]]:
            info = super().get_info()
            if self.type == tarfile.DIRTYPE:  # Python's tarfile always appends "/" to a directory
                return {**info, "name": str(info["name"]).rstrip("/")}
            return info

    def whole_seconds(member: tarfile.TarInfo) -> tarfile.TarInfo:
        member.mtime = int(member.mtime)
        return member

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, tarinfo=Member) as tar:
        for entry in sorted(os.listdir(root)):
            tar.add(os.path.join(root, entry), arcname=entry, filter=whole_seconds)


def _copy_tree(root: str, dest: str) -> None:
    """The image's files into ``dest`` (made 0700 when missing, as Buildah), owners, modes, links
    and device nodes kept: ``cp -a`` of each top-level entry, leaving ``dest``'s own mode alone."""
    import os

    from sealpod.utils.proc import run

    os.makedirs(dest, mode=0o700, exist_ok=True)
    entries = sorted(os.listdir(root))
    if entries:
        run(["cp", "-a", "-t", dest, "--", *(os.path.join(root, e) for e in entries)])
