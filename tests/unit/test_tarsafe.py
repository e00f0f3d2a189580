"""Safe extraction, with PEP 706 filters and with the fallback used on Python < 3.11.4."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from sealpod.utils.tarsafe import extract_all


def _archive(*members: tuple[str, str, str]) -> io.BytesIO:
    """(kind, name, payload): kind file|dir|sym|hard|fifo; payload is content or link target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE}[kind]
            info.linkname = payload
            tar.addfile(info)
    buf.seek(0)
    return buf


@pytest.fixture(params=["filters", "fallback"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no PEP 706 filters")
    return str(request.param)


def _extract(buf: io.BytesIO, dest: Path, policy: str) -> None:
    with tarfile.open(fileobj=buf, mode="r|*") as tar:
        extract_all(tar, dest, policy=policy)  # type: ignore[arg-type]


def test_plain_archive(mode: str, tmp_path: Path) -> None:
    _extract(_archive(("dir", "d", ""), ("file", "d/f", "hi"), ("sym", "d/l", "f"), ("hard", "d/h", "d/f")),
             tmp_path, "data")
    assert (tmp_path / "d" / "f").read_text() == "hi" and (tmp_path / "d" / "l").read_text() == "hi"
    assert (tmp_path / "d" / "h").stat().st_ino == (tmp_path / "d" / "f").stat().st_ino


@pytest.mark.parametrize("members", [
    [("file", "../escape", "x")],
    [("sym", "out", "/etc"), ("file", "out/passwd", "x")],
    [("sym", "up", "../.."), ("file", "up/escape", "x")],
    [("hard", "h", "/etc/passwd")],
    [("fifo", "pipe", "")],
])
def test_hostile_members_refused(mode: str, tmp_path: Path, members: list[tuple[str, str, str]]) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(tarfile.TarError):
        _extract(_archive(*members), dest, "data")
    assert not (tmp_path / "escape").exists()


def test_tar_policy_keeps_absolute_symlinks_but_not_writes_through_them(mode: str, tmp_path: Path) -> None:
    _extract(_archive(("sym", "etc-link", "/etc")), tmp_path, "tar")
    assert (tmp_path / "etc-link").is_symlink()
    with pytest.raises(tarfile.TarError):
        _extract(_archive(("file", "etc-link/sealpod-owned", "x")), tmp_path, "tar")
    assert not Path("/etc/sealpod-owned").exists()
