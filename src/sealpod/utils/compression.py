"""Detecting and streaming-decompressing layer blobs.

Registries label layers with a media type, but what counts is the content: Docker
and Podman both sniff the magic bytes, and so do we, so a mislabelled blob still
extracts.  Decompression is a generator of chunks rather than a file object because
the tar reader consumes whole chunks and a file-object layer would cost a copy per
read on the hot path of ``pull``.

gzip goes through python-isal (ISA-L's inflate is ~3x faster than zlib's here, see
``bench/extract_layers.py``), falling back to zlib when isal is missing; zstd goes
through ``zstandard``.  Both handle multi-member / multi-frame streams, and both
report a truncated stream, which a plain ``gzip.open`` read loop would not always do.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any, BinaryIO

from sealpod.errors import LayerError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: How much compressed input is read per step; large enough that per-call overhead
#: vanishes, small enough to stay in L2 cache.
READ_SIZE = 256 * 1024
#: Upper bound of what one gzip step may produce.
MAX_OUT = 1024 * 1024
#: Compressed bytes fed to zstd per step (zstd cannot bound its output otherwise).
ZSTD_STEP = 32 * 1024


class Compression(StrEnum):
    """The compressions a layer blob can come in."""

    NONE = "none"  # a plain tar
    GZIP = "gzip"
    ZSTD = "zstd"


#: zlib, isal_zlib and zstandard decompression objects share no declared type; the
#: code below uses ``eof``, ``unused_data``, ``decompress`` and, for gzip, ``unconsumed_tail``.
_Decompressor = Any


def detect(head: bytes) -> Compression:
    """Tell the compression from the first bytes of a blob (at least 4 are needed)."""
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


def _gzip_factory() -> Callable[[], _Decompressor]:
    try:
        from isal import isal_zlib

        return lambda: isal_zlib.decompressobj(wbits=31)
    except ImportError:  # pragma: no cover - isal is a declared dependency
        import zlib

        return lambda: zlib.decompressobj(wbits=31)


def _zstd_factory() -> Callable[[], _Decompressor]:
    import zstandard

    dctx = zstandard.ZstdDecompressor()

    return lambda: dctx.decompressobj()


def _read_head(blob: BinaryIO) -> bytes:
    head = b""
    while len(head) < 4:
        more = blob.read(READ_SIZE)
        if not more:
            break
        head += more
    return head


def decompressed_chunks(blob: BinaryIO, *, read_size: int = READ_SIZE) -> Iterator[bytes]:
    """Yield the uncompressed content of ``blob`` (gzip, zstd or plain) chunk by chunk.

    Raises LayerError when the compressed stream is corrupt or ends early, so a
    truncated download is never mistaken for a short layer.
    """
    head = _read_head(blob)
    kind = detect(head)
    if kind is Compression.NONE:
        if head:
            yield head
        while chunk := blob.read(read_size):
            yield chunk
        return
    factory = _gzip_factory() if kind is Compression.GZIP else _zstd_factory()
    yield from _inflate(blob, head, factory, kind, read_size)


def _inflate(
    blob: BinaryIO, head: bytes, factory: Callable[[], _Decompressor], kind: Compression, read_size: int
) -> Iterator[bytes]:
    """Run one decompressor per member/frame until the input is exhausted.

    Output per step is bounded (``max_length`` for gzip, small input slices for zstd,
    whose decompressobj has no such limit) so a hostile "zip bomb" layer cannot make
    one call return gigabytes.
    """
    dec = factory()
    data = head
    bounded = kind is Compression.GZIP
    while True:
        while data:
            if dec.eof:
                if not data.strip(b"\0"):
                    break  # zero padding after the last member, as some tools write
                dec = factory()
            try:
                if bounded:
                    out = dec.decompress(data, MAX_OUT)
                    rest = dec.unconsumed_tail
                else:
                    out, rest = dec.decompress(data[:ZSTD_STEP]), data[ZSTD_STEP:]
            except Exception as e:  # zlib.error, isal_zlib.error, zstandard.ZstdError
                raise LayerError(f"decompressing {kind} layer: {_one_line(e)}") from e
            if out:
                yield out
            data = dec.unused_data + rest if dec.eof else rest
        data = blob.read(read_size)
        if not data:
            break
    if not dec.eof:
        raise LayerError(f"decompressing {kind} layer: unexpected EOF")


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class ChunkReader(io.RawIOBase):
    """A read-only file object over an iterator of chunks, for callers that need one."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf = memoryview(nxt)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def open_decompressed(blob: BinaryIO) -> io.BufferedReader:
    """Return a buffered file object reading the uncompressed content of ``blob``."""
    return io.BufferedReader(ChunkReader(decompressed_chunks(blob)), buffer_size=READ_SIZE)


def compress_into(chunks: Iterable[bytes], compressor: Any, out: BinaryIO, blob_hash: Any,
                  content_hash: Any = None) -> int:
    """Write ``chunks`` through ``compressor`` (zlib's ``compress``/``flush`` shape) to ``out``,
    hashing the compressed bytes into ``blob_hash`` (the blob's digest) and, if given, the
    uncompressed ones into ``content_hash`` (a layer's diff ID), in the same single pass.
    Returns the compressed size."""
    size = 0
    for chunk in chunks:
        if content_hash is not None:
            content_hash.update(chunk)
        data = compressor.compress(chunk)
        if data:
            out.write(data)
            blob_hash.update(data)
            size += len(data)
    data = compressor.flush()
    out.write(data)
    blob_hash.update(data)
    return size + len(data)
