"""Hostile or broken layers: pull refuses them (or neutralises them) and nothing leaks out of the store."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig import tarbuild as tb
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration


@pytest.fixture
def sp(sealpod: SealpodRunner, registry: RegistryServer, tmp_path: Path) -> SealpodRunner:
    conf = tmp_path / "storage.conf"
    conf.write_text("")
    sealpod.env["SEALPOD_STORAGE_CONF"] = str(conf)
    return sealpod


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    d = tmp_path / "sentinel"
    d.mkdir()
    (d / "keep").write_text("untouched\n")
    return d


def _raw_tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for ti, data in members:
            ti.mtime = tb.FIXED_MTIME
            if ti.isreg():
                ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"pwned\n",
            mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = kind, link, mode
    if kind == tarfile.DIRTYPE:
        ti.mode = 0o755
    return ti, data


def _image_from_tar(raw: bytes, *, blob: bytes | None = None, diff_id: str | None = None) -> im.BuiltImage:
    """An OCI image of one gzip layer made from ``raw``; ``blob``/``diff_id`` override for broken cases."""
    base = im.build_image([im.Layer([tb.file("/placeholder", b"x")], "gzip")])
    data = blob if blob is not None else tb.gzip_bytes(raw)
    layer = im.Blob(tb.sha256_digest(data), data, im.OCI_LAYER_GZIP)
    config = base.config_json
    config["rootfs"] = {"type": "layers", "diff_ids": [diff_id or tb.sha256_digest(raw)]}
    cfg_bytes = json.dumps(config).encode()
    cfg = im.Blob(tb.sha256_digest(cfg_bytes), cfg_bytes, im.OCI_CONFIG)
    manifest = json.loads(base.manifest)
    manifest["config"] = {"mediaType": im.OCI_CONFIG, "digest": cfg.digest, "size": len(cfg_bytes)}
    manifest["layers"] = [{"mediaType": im.OCI_LAYER_GZIP, "digest": layer.digest, "size": len(data)}]
    mbytes = json.dumps(manifest).encode()
    return im.BuiltImage(mbytes, tb.sha256_digest(mbytes), im.OCI_MANIFEST, cfg, [layer], [diff_id or ""])


def _push(registry: RegistryServer, name: str, image: im.BuiltImage) -> str:
    im.push_image(registry, f"hostile/{name}", "latest", image)
    return f"{registry.host}/hostile/{name}:latest"


def _snapshot(d: Path) -> dict[str, tuple[int, int, bytes | str]]:
    out: dict[str, tuple[int, int, bytes | str]] = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        body: bytes | str = str(p.readlink()) if p.is_symlink() else (p.read_bytes() if p.is_file() else b"")
        out[str(p.relative_to(d))] = (st.st_mode, st.st_size, body)
    return out


def _outside_untouched(sp: SealpodRunner, sentinel: Path, before: dict[str, tuple[int, int, bytes | str]]) -> None:
    assert _snapshot(sentinel) == before
    for stray in ("x", "pwned", "etc"):
        assert not (sp.base / stray).exists(), stray
        assert not (sp.root.parent / stray).exists(), stray
    assert not Path("/x").exists() and not Path("/pwned").exists()


def _pull(sp: SealpodRunner, ref: str) -> subprocess.CompletedProcess[str]:
    return sp.run("pull", "-q", ref, check=False, timeout=60)


def _refused(res: subprocess.CompletedProcess[str], sp: SealpodRunner) -> None:
    assert res.returncode == 125, res
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert sp.run("images", "-q").stdout == ""


def _refused_or_neutralised(res: subprocess.CompletedProcess[str], sp: SealpodRunner) -> None:
    if res.returncode != 0:
        _refused(res, sp)


def _rel(sentinel: Path, sp: SealpodRunner) -> str:
    """A ``../`` path from the layer's extraction dir (deep in the store) to the sentinel's ``x``."""
    return "../" * 20 + str(sentinel / "x").lstrip("/")


CASES: dict[str, Callable[[Path, SealpodRunner], list[tuple[tarfile.TarInfo, bytes]]]] = {
    "dotdot": lambda s, sp: [_member(_rel(s, sp))],
    "absolute": lambda s, sp: [_member(str(s / "x"))],
    "symlink-write": lambda s, sp: [_member("a", tarfile.SYMTYPE, str(s)), _member("a/x")],
    "symlink-dir-then-file": lambda s, sp: [_member("a", tarfile.SYMTYPE, str(s)), _member("a/keep", data=b"bad")],
    "hardlink-outside": lambda s, sp: [_member("h", tarfile.LNKTYPE, str(s / "keep").lstrip("/"))],
    "hardlink-dotdot": lambda s, sp: [_member("h", tarfile.LNKTYPE, "../" * 20 + str(s / "keep").lstrip("/"))],
    "whiteout-dotdot": lambda s, sp: [_member("../" * 20 + str(s / ".wh.keep").lstrip("/"), data=b"")],
    "whiteout-via-symlink": lambda s, sp: [_member("a", tarfile.SYMTYPE, str(s)), _member("a/.wh.keep", data=b"")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_escape_attempts(sp: SealpodRunner, registry: RegistryServer, sentinel: Path, case: str) -> None:
    before = _snapshot(sentinel)
    raw = _raw_tar([_member("etc", tarfile.DIRTYPE), *CASES[case](sentinel, sp)])
    ref = _push(registry, f"{case}-{sentinel.parent.name}", _image_from_tar(raw))
    res = _pull(sp, ref)
    _refused_or_neutralised(res, sp)
    _outside_untouched(sp, sentinel, before)
    if res.returncode == 0:  # neutralised: whatever was kept lies inside the store
        for p in sp.root.rglob("*"):
            if p.is_symlink():
                continue
            assert p.resolve().is_relative_to(sp.root.resolve()) or p.resolve().is_relative_to(sp.runroot)


def test_blob_digest_mismatch(sp: SealpodRunner, registry: RegistryServer, tmp_path: Path) -> None:
    raw = _raw_tar([_member("etc", tarfile.DIRTYPE), _member("etc/mismatch", data=tmp_path.name.encode())])
    good = _image_from_tar(raw)
    ref = _push(registry, f"mismatch-{tmp_path.name}", good)
    # overwrite the blob in the registry's storage with other bytes, keeping its digest path
    digest = good.layers[0].digest.removeprefix("sha256:")
    data = registry.storage_dir / "docker/registry/v2/blobs/sha256" / digest[:2] / digest / "data"
    body = bytearray(data.read_bytes())
    body[len(body) // 2] ^= 0xFF  # same size, other bytes
    data.write_bytes(bytes(body))
    res = _pull(sp, ref)
    _refused(res, sp)
    assert "digest" in res.stderr.lower()


def test_truncated_gzip(sp: SealpodRunner, registry: RegistryServer, tmp_path: Path) -> None:
    raw = _raw_tar([_member("etc", tarfile.DIRTYPE), _member("etc/f", data=bytes(range(256)) * 400)])
    blob = tb.gzip_bytes(raw)
    ref = _push(registry, f"truncated-{tmp_path.name}", _image_from_tar(raw, blob=blob[: len(blob) // 2]))
    _refused(_pull(sp, ref), sp)
    assert [p for p in (sp.root / "overlay").iterdir() if len(p.name) == 64] == []


def test_wrong_diff_id(sp: SealpodRunner, registry: RegistryServer, tmp_path: Path) -> None:
    raw = _raw_tar([_member("etc", tarfile.DIRTYPE), _member("etc/diffid", data=tmp_path.name.encode())])
    ref = _push(registry, f"diffid-{tmp_path.name}", _image_from_tar(raw, diff_id="sha256:" + "0" * 64))
    res = _pull(sp, ref)
    _refused(res, sp)
    assert "sha256:" + "0" * 64 in res.stderr or "diff" in res.stderr.lower()
