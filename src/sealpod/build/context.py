"""The build context: a directory, a tar file, or a tar on stdin; and the tars COPY and ADD
send into a container, made from context files only.

No source may leave the context: ``..`` that climbs out, or a symlink whose target lies
outside, is an error, not a silent clamp.  Files the ignore file excludes do not exist.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path

from sealpod.build.ignore import Rule, find_ignore, is_excluded, read_ignore, translate, walk
from sealpod.errors import BuildError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import IO, BinaryIO

_GLOB_CHARS = frozenset("*?[")
_ARCHIVE_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00", b"BZh")  # gzip, zstd, xz, bzip2


@dataclass(frozen=True)
class Ownership:
    """COPY --chown / --chmod, resolved to numbers."""

    uid: int = 0
    gid: int = 0
    mode: int | None = None


class BuildContext:
    """A context directory on disk; a temporary one when the context came as a tar."""

    def __init__(self, root: Path, temporary: bool) -> None:
        self.root = Path(os.path.realpath(root))
        self.temporary = temporary
        self.rules: list[Rule] = []
        self.ignore_file: Path | None = None

    @classmethod
    def open(cls, source: str, stdin: BinaryIO | None = None) -> BuildContext:
        if source == "-" or (os.path.isfile(source) and source != "-"):
            if source == "-" and stdin is None:
                raise BuildError("no build context on standard input")
            with open(source, "rb") if source != "-" else _nullcontext(stdin) as f:
                return cls.from_tar(f)
        if not os.path.isdir(source):
            raise BuildError(f'no such file or directory: the build context "{source}" does not exist')
        return cls(Path(source), temporary=False)

    @classmethod
    def from_stdin(cls, data: bytes) -> tuple[BuildContext, str | None]:
        """``build -``: standard input is a tar (plain or compressed), the context; or else a
        Containerfile, built in an empty context.  Returns the context and that Containerfile."""
        import io
        import tarfile

        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                tar.next()
        except (tarfile.TarError, EOFError, OSError):
            return cls(Path(tempfile.mkdtemp(prefix="sealpod-build-")), temporary=True), data.decode(errors="replace")
        return cls.from_tar(io.BytesIO(data)), None

    @classmethod
    def from_tar(cls, stream: IO[bytes]) -> BuildContext:
        """A context sent as a (possibly gzip-compressed) tar: the API's body, or ``-``."""
        import tarfile

        from sealpod.utils.tarsafe import extract_all

        tmp = Path(tempfile.mkdtemp(prefix="sealpod-build-"))
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                extract_all(tar, tmp, policy="data")
        except (tarfile.TarError, OSError, EOFError) as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(f"reading the build context: {e}") from None
        return cls(tmp, temporary=True)

    def load_ignore(self, containerfile: Path | None, ignorefile: Path | None = None) -> None:
        """The rules of ``--ignorefile``, else of the ignore file beside the Containerfile or in the context."""
        self.ignore_file = ignorefile or find_ignore(self.root, containerfile)
        if self.ignore_file is not None and not self.ignore_file.is_file():
            raise BuildError(f"open {self.ignore_file}: no such file or directory")
        self.rules = read_ignore(self.ignore_file)

    def close(self) -> None:
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- sources ---------------------------------------------------------------------

    def sources(self, pattern: str) -> list[str]:
        """Context-relative paths a COPY/ADD source names (globs expanded), checked."""
        rel = posixpath.normpath(pattern.lstrip("/")) if pattern.strip("/") else "."
        if rel == ".." or rel.startswith("../"):
            raise BuildError(f'forbidden path outside the build context: {pattern}')
        if any(c in _GLOB_CHARS for c in rel):
            regex = translate(rel)
            found = [p for p in walk(str(self.root), self.rules) if regex.match(p)]
            if not found:
                raise BuildError(f'no source files were specified: "{pattern}" matches nothing in the build context')
            return [self._checked(p, pattern) for p in found]
        return [self._checked(rel, pattern)]

    def _checked(self, rel: str, typed: str) -> str:
        path = self.root / rel if rel != "." else self.root
        if rel != "." and os.path.lexists(path) and is_excluded(self.rules, rel):
            raise BuildError(f'no items matching glob "{path}" copied (1 filtered out using {self.ignore_file}): '
                             "no such file or directory")
        if not os.path.lexists(path):
            raise BuildError(f'checking on sources under "{self.root}": copier: stat: "/{rel.lstrip("./")}": '
                             "no such file or directory")
        real = os.path.realpath(path)
        if real != str(self.root) and not real.startswith(str(self.root) + os.sep):
            raise BuildError(f"forbidden path outside the build context: {typed} ({real})")
        return rel

    def is_archive(self, rel: str) -> bool:
        """ADD's rule: a local tar (plain or compressed) is unpacked, anything else copied."""
        path = os.path.realpath(self.root / rel)
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            head = f.read(512)
        return head.startswith(_ARCHIVE_MAGIC) or (len(head) >= 262 and head[257:262] == b"ustar")

    def open_file(self, rel: str) -> BinaryIO:
        return open(os.path.realpath(self.root / rel), "rb")

    def open_archive(self, rel: str) -> BinaryIO:
        """An archive ADD unpacks; xz and bzip2 undone here (the layer extractor reads gzip and zstd)."""
        f = self.open_file(rel)
        head = f.read(6)
        f.seek(0)
        if head.startswith(b"\xfd7zXZ\x00"):
            import lzma

            return lzma.open(f)  # type: ignore[return-value]
        if head.startswith(b"BZh"):
            import bz2

            return bz2.open(f)  # type: ignore[return-value]
        return f

    # --- tars to copy in ---------------------------------------------------------------

    def tar_of(self, items: list[tuple[str, str]], owner: Ownership) -> IO[bytes]:
        """A tar of (context-relative source, name in the tar) pairs: a directory source gives its
        contents under its name (``""`` for the destination itself)."""
        import tarfile

        out = tempfile.TemporaryFile()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel, arcname in items:
                src = os.path.realpath(self.root / rel)
                if os.path.isdir(src):
                    self._add_tree(tar, src, rel, arcname, owner)
                else:
                    _add(tar, src, arcname, owner, follow=True)
        out.seek(0)
        return out

    def digest_of(self, tar: IO[bytes], archives: list[str]) -> str:
        """What a COPY/ADD brings in, for the layer cache: names, modes, owners and contents of
        the tar's members (not their times, as Docker's and Buildah's caches), and the archives' bytes."""
        import hashlib
        import tarfile

        h = hashlib.sha256()
        tar.seek(0)
        with tarfile.open(fileobj=tar, mode="r") as t:
            for m in t:
                h.update(f"{m.name}\0{m.type!r}\0{m.mode}\0{m.uid}\0{m.gid}\0{m.size}\0{m.linkname}\0".encode())
                f = t.extractfile(m) if m.isreg() else None
                if f is not None:
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
        tar.seek(0)
        for rel in archives:
            h.update(f"\0archive\0{rel}\0".encode())
            with self.open_file(rel) as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()

    def _add_tree(self, tar: object, src: str, rel: str, arcname: str, owner: Ownership) -> None:
        prefix = "" if rel == "." else rel
        for sub in walk(src, self.rules, prefix):
            _add(tar, os.path.join(src, sub), posixpath.join(arcname, sub) if arcname else sub, owner, follow=False)


def _add(tar: object, path: str, arcname: str, owner: Ownership, follow: bool) -> None:
    import tarfile

    assert isinstance(tar, tarfile.TarFile)
    info = tar.gettarinfo(os.path.realpath(path) if follow else path, arcname=arcname)
    if info.name.startswith(".wh.") or "/.wh." in info.name:
        raise BuildError(f"{arcname}: whiteout files cannot be copied into an image")
    info.uid, info.gid, info.uname, info.gname = owner.uid, owner.gid, "", ""
    if owner.mode is not None:
        info.mode = owner.mode
    if info.isreg():
        with open(os.path.realpath(path) if follow else path, "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)


class _nullcontext:
    def __init__(self, stream: BinaryIO | None) -> None:
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        assert self.stream is not None
        return self.stream

    def __exit__(self, *_exc: object) -> None:
        return None
