"""Copy an image from any source to any destination: the only code that knows both ends.

Manifest and config are fetched first (small, and they say which layers exist);
then missing layers are transferred in parallel.  Each layer goes to a temp file
while its digest and size are verified, then to the destination.  Any failure aborts
the whole copy with the first error; no image becomes visible unless all went well.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

from sealpod.errors import UnsupportedManifest
from sealpod.image.manifest import (
    MAX_CONFIG_SIZE,
    Descriptor,
    Index,
    Manifest,
    Platform,
    choose_platform,
    digest_of,
    host_platform,
    parse,
    parse_config,
)
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.image.transports.base import ImageDestination, ImageSource

Report = Callable[[str], None]
BlobProgress = Callable[[str, int, int], None]
"""Called with (blob digest, bytes done, blob size) while a blob moves."""


@dataclass(frozen=True)
class CopyOptions:
    platform: Platform | None = None  # None: the host's
    parallel: int = 6
    progress: BlobProgress | None = None
    # policy.json's verdict on the top-level manifest, asked before anything is stored (raises to refuse)
    policy: Callable[[bytes], None] | None = None
    # signs the top-level manifest once the destination has it (``push --sign-by``)
    sign: Callable[[bytes], None] | None = None
    # ``push --compression-format``: layers in another compression are rewritten ("gzip", "zstd")
    compression: str | None = None
    # ``push --compress`` to dir:: only plain-tar layers take ``compression``, compressed ones go as they are
    plain_only: bool = False


def _resolve_manifest(src: ImageSource, platform: Platform | None
                      ) -> tuple[Manifest, bytes, str, tuple[bytes, str] | None]:
    body, media_type = src.get_manifest()
    parsed = parse(body, media_type)
    if isinstance(parsed, Index):
        index = (body, parsed.media_type)
        chosen = choose_platform(parsed, platform or host_platform())
        body, media_type = src.get_manifest(chosen.digest)
        if digest_of(body) != chosen.digest:
            raise UnsupportedManifest(f"manifest {chosen.digest} does not match its digest")
        parsed = parse(body, media_type)
        if not isinstance(parsed, Manifest):
            raise UnsupportedManifest("an image index may not point at another index here")
        return parsed, body, parsed.media_type, index
    return parsed, body, parsed.media_type, None


def _fetch_config(src: ImageSource, desc: Descriptor) -> bytes:
    if desc.size > MAX_CONFIG_SIZE:
        raise UnsupportedManifest(f"config blob {desc.digest} is too large ({desc.size} bytes)")
    buf = io.BytesIO()
    src.get_blob(desc, buf)
    return buf.getvalue()


def _copy_layer(src: ImageSource, dest: ImageDestination, manifest: Manifest, index: int,
                report: Report, progress: BlobProgress | None) -> None:
    desc = manifest.layers[index]
    report(f"Copying blob {desc.digest}")
    step = (lambda done: progress(desc.digest, done, desc.size)) if progress else None
    if dest.has_layer(index):
        if progress:
            progress(desc.digest, desc.size, desc.size)
        return
    local = src.local_blob_path(desc)
    if local is not None:
        dest.put_layer(index, local, step)
        return
    path, f = dest.temp_file()
    try:
        with f:
            src.get_blob(desc, f, step)
        dest.put_layer(index, path)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def copy_image(src: ImageSource, dest: ImageDestination, options: CopyOptions, report: Report) -> str:
    """Copy one image (the platform's instance of an index); return what ``dest.commit`` returns."""
    manifest, body, media_type, index = _resolve_manifest(src, options.platform)
    if options.policy is not None:
        options.policy(index[0] if index else body)
    report("Getting image source signatures")
    if options.compression is not None:
        from sealpod.image.recompress import StagedSource

        staged = StagedSource(src, options.compression, options.plain_only)
        try:
            manifest, body, media_type = staged.stage(manifest, body, media_type, report)
            return _copy_resolved(staged, dest, options, report, manifest, body, media_type, None)
        finally:
            staged.close()
    return _copy_resolved(src, dest, options, report, manifest, body, media_type, index)


def _copy_resolved(src: ImageSource, dest: ImageDestination, options: CopyOptions, report: Report,
                   manifest: Manifest, body: bytes, media_type: str, index: tuple[bytes, str] | None) -> str:
    reused = dest.reuse_image(manifest, body, media_type, index)
    if reused is not None:
        for layer in manifest.layers:  # Podman names each blob it did not need to copy
            report(f"Copying blob {layer.digest} skipped: already exists")
        report(f"Copying config {manifest.config.digest} skipped: already exists")
        report("Writing manifest to image destination")
        return reused
    config = _fetch_config(src, manifest.config)
    diff_ids = parse_config(config).diff_ids
    if len(diff_ids) != len(manifest.layers):
        raise UnsupportedManifest(f"image has {len(manifest.layers)} layers but its config lists "
                                  f"{len(diff_ids)} diff IDs")
    dest.begin(manifest, config, diff_ids)
    from concurrent.futures import ThreadPoolExecutor

    try:
        workers = max(1, min(options.parallel, len(manifest.layers)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer") as pool:
            futures = [pool.submit(_copy_layer, src, dest, manifest, i, report, options.progress)
                       for i in range(len(manifest.layers))]
            for fut in futures:
                fut.result()
        report(f"Copying config {manifest.config.digest}")
        report("Writing manifest to image destination")
        result = dest.commit(body, media_type, index)
    except BaseException:
        dest.abort()
        raise
    if options.sign is not None:
        report("Signing manifest using simple signing")
        options.sign(index[0] if index else body)
    report("Storing signatures")
    return result
