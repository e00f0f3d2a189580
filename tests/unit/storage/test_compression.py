from __future__ import annotations

import gzip
import io
import os

import pytest
import zstandard

from sealpod.errors import LayerError
from sealpod.utils.compression import (
    MAX_OUT,
    Compression,
    decompressed_chunks,
    detect,
    open_decompressed,
)

PAYLOAD = os.urandom(300_000) + b"text " * 100_000


def inflate(blob: bytes, read_size: int = 4096) -> bytes:
    return b"".join(decompressed_chunks(io.BytesIO(blob), read_size=read_size))


def test_detect_by_magic() -> None:
    assert detect(gzip.compress(b"x")) is Compression.GZIP
    assert detect(zstandard.ZstdCompressor().compress(b"x")) is Compression.ZSTD
    assert detect(b"usr/\0\0\0") is Compression.NONE
    assert detect(b"") is Compression.NONE


@pytest.mark.parametrize("read_size", [1, 7, 4096, 1 << 20])
def test_gzip_roundtrip_any_read_size(read_size: int) -> None:
    assert inflate(gzip.compress(PAYLOAD[:50_000]), read_size) == PAYLOAD[:50_000]


def test_gzip_multi_member_and_zero_padding() -> None:
    blob = gzip.compress(PAYLOAD[:1000]) + gzip.compress(PAYLOAD[1000:]) + b"\0" * 1024
    assert inflate(blob) == PAYLOAD


def test_zstd_multi_frame() -> None:
    c = zstandard.ZstdCompressor()
    blob = c.compress(PAYLOAD[:1000]) + c.compress(PAYLOAD[1000:])
    assert inflate(blob, 333) == PAYLOAD


def test_plain_passes_through() -> None:
    assert inflate(PAYLOAD, 1) == PAYLOAD
    assert inflate(b"") == b""


@pytest.mark.parametrize("cut", [10, 1000, -9, -1])
def test_truncated_gzip_is_an_error(cut: int) -> None:
    blob = gzip.compress(PAYLOAD)
    with pytest.raises(LayerError, match="gzip"):
        inflate(blob[:cut])


def test_truncated_zstd_is_an_error() -> None:
    blob = zstandard.ZstdCompressor().compress(PAYLOAD)
    with pytest.raises(LayerError, match="zstd"):
        inflate(blob[:-5])


def test_corrupt_gzip_is_an_error() -> None:
    blob = bytearray(gzip.compress(PAYLOAD))
    blob[100:110] = b"\xff" * 10
    with pytest.raises(LayerError):
        inflate(bytes(blob))


def test_garbage_after_gzip_member_is_an_error() -> None:
    with pytest.raises(LayerError):
        inflate(gzip.compress(b"abc") + b"\x1f\x8bgarbage-garbage")


def test_gzip_output_per_step_is_bounded() -> None:
    bomb = gzip.compress(b"\0" * (20 * MAX_OUT))
    chunks = list(decompressed_chunks(io.BytesIO(bomb)))
    assert max(map(len, chunks)) <= MAX_OUT
    assert sum(map(len, chunks)) == 20 * MAX_OUT


def test_open_decompressed_file_object() -> None:
    f = open_decompressed(io.BytesIO(gzip.compress(PAYLOAD)))
    assert f.read(10) == PAYLOAD[:10]
    assert f.read() == PAYLOAD[10:]
