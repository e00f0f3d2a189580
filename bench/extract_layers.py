"""Measure layer extraction candidates on a synthetic ~100 MB / 20k-file gzip layer.

Usage: .venv/bin/python bench/extract_layers.py [--workdir /tmp/sealpod-bench] [--runs 3]

Why: extraction decides whether ``sealpod pull`` keeps up with Podman's Go code, so the
choice of implementation in ``sealpod.storage.tarlayer`` is made on these numbers, not
on guesses.  The layer is generated once (deterministic) and cached in the workdir.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import shutil
import sys
import tarfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sealpod.storage.tarlayer import WhiteoutFormat, extract_layer  # noqa: E402
from sealpod.utils.compression import decompressed_chunks  # noqa: E402
from sealpod.utils.proc import run  # noqa: E402

WORDS = [b"lib", b"usr", b"share", b"python", b"def ", b"return", b"\n", b"    ", b"import", b"0x1f"]


def _small_payload(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += rng.choice(WORDS) + rng.randbytes(rng.randint(0, 3))
    return bytes(out[:size])


def build_layer(path: Path, files: int = 20_000, big_mb: int = 70) -> None:
    """A layer shaped like a distro image: many small files in many dirs, a few big ones."""
    rng = random.Random(42)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = [f"usr/lib/pkg{i // 20}/sub{i % 20}" for i in range(1000)]
        for d in ["usr", "usr/lib", *sorted({d.rsplit("/", 1)[0] for d in dirs}), *dirs]:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            tar.addfile(info)
        big = 40
        for i in range(files - big):
            data = _small_payload(rng, rng.randint(0, 3000))
            info = tarfile.TarInfo(f"{dirs[i % len(dirs)]}/f{i}.py")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        for i in range(big):
            size = big_mb * 1024 * 1024 // big
            data = (
                (rng.randbytes(size // 3) + _small_payload(rng, size - size // 3))
                if i % 2
                else rng.randbytes(size)
            )
            info = tarfile.TarInfo(f"usr/bin/big{i}")
            info.size, info.mode, info.mtime = len(data), 0o755, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    path.write_bytes(comp.compress(raw.getvalue()) + comp.flush())
    (path.with_name("layer.tar")).write_bytes(raw.getvalue())


def timed(label: str, fn: Callable[[Path], object], work: Path, runs: int, mb: float, nfiles: int) -> float:
    best = float("inf")
    for i in range(runs):
        dest = work / f"out-{i}"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir()
        t0 = time.perf_counter()
        fn(dest)
        best = min(best, time.perf_counter() - t0)
        shutil.rmtree(dest)
    rate = f"{mb / best:7.1f} MB/s  {nfiles / best:8.0f} files/s" if nfiles else f"{mb / best:7.1f} MB/s"
    print(f"{label:<38} {best:6.3f} s  {rate}")
    return best


def decompress_only(layer: Path, runs: int, mb: float) -> None:
    from isal import igzip_threaded, isal_zlib

    def loop(make: Callable[[], object]) -> Callable[[Path], object]:
        def go(_: Path) -> None:
            dec = make()
            with layer.open("rb") as f:
                while chunk := f.read(256 * 1024):
                    dec.decompress(chunk)  # type: ignore[attr-defined]

        return go

    def threaded(_: Path) -> None:
        with igzip_threaded.open(layer, "rb", threads=1) as f:
            while f.read(1 << 20):
                pass

    def ours(_: Path) -> None:
        h = hashlib.sha256()
        with layer.open("rb") as f:
            for chunk in decompressed_chunks(f):
                h.update(chunk)

    def sha(_: Path) -> None:
        hashlib.sha256(layer.with_name("layer.tar").read_bytes()).hexdigest()

    print("-- gzip decompression only (MB of uncompressed output)")
    timed("zlib.decompressobj", loop(lambda: zlib.decompressobj(wbits=31)), layer.parent, runs, mb, 0)
    timed(
        "isal_zlib.decompressobj", loop(lambda: isal_zlib.decompressobj(wbits=31)), layer.parent, runs, mb, 0
    )
    timed("isal igzip_threaded (1 thread)", threaded, layer.parent, runs, mb, 0)
    timed("sha256 alone (in memory)", sha, layer.parent, runs, mb, 0)
    timed("decompressed_chunks + sha256", ours, layer.parent, runs, mb, 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/sealpod-bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    layer = args.workdir / "layer.tar.gz"
    if not layer.exists():
        build_layer(layer)
    mb = layer.with_name("layer.tar").stat().st_size / 1e6
    with tarfile.open(layer.with_name("layer.tar")) as t:
        nfiles = len(t.getmembers())
    print(f"layer: {layer.stat().st_size / 1e6:.1f} MB gzip, {mb:.1f} MB tar, {nfiles} entries")
    decompress_only(layer, args.runs, mb)
    print("-- extraction (gzip layer -> tmpfs)")

    def gnu_tar(d: Path) -> None:
        run(["tar", "-xzf", str(layer), "-C", str(d)])

    def py_tarfile(d: Path) -> None:
        with tarfile.open(layer, "r|gz") as t:
            t.extractall(d, filter="fully_trusted")

    def libarchive(d: Path) -> None:
        import os

        import libarchive as la
        from libarchive import extract as lx

        flags = (
            lx.EXTRACT_SECURE_SYMLINKS
            | lx.EXTRACT_SECURE_NODOTDOT
            | lx.EXTRACT_SECURE_NOABSOLUTEPATHS
            | lx.EXTRACT_PERM
            | lx.EXTRACT_TIME
            | lx.EXTRACT_OWNER
            | lx.EXTRACT_XATTR
        )
        cwd = os.getcwd()
        os.chdir(d)
        try:
            la.extract_file(str(layer), flags)
        finally:
            os.chdir(cwd)

    def sealpod(d: Path) -> None:
        with layer.open("rb") as f:
            extract_layer(f, d, whiteouts=WhiteoutFormat.OVERLAY)

    cands = {
        "gnu tar -xzf": gnu_tar,
        "python tarfile extractall": py_tarfile,
        "libarchive-c extract_file": libarchive,
        "sealpod extract_layer": sealpod,
    }
    for label, fn in cands.items():
        if not args.only or args.only in label:
            timed(label, fn, args.workdir, args.runs, mb, nfiles)


if __name__ == "__main__":
    main()
