"""Pure build logic pinned to what Podman 4.3.1 (Buildah 1.28) does: excluded directories and
``!`` patterns, which stages a build needs, and what ``build -`` reads from standard input."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from sealpod.build.builder import needed_stages
from sealpod.build.containerfile import parse
from sealpod.build.context import BuildContext
from sealpod.build.ignore import parse_rules, walk


def test_excluded_directory_entered_only_for_an_exception_naming_it(tmp_path: Path) -> None:
    for name in ("s1/sub1", "s1/sub2", "s1/sub3", "s2/sub1", "s2/sub3"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    rules = parse_rules("s1\ns2\n!*/sub1*\n!s1/sub3*\n")
    # s2 is never entered: "*/sub1*" does not begin with "s2/", so s2/sub1 stays out (Buildah 3486)
    assert walk(str(tmp_path), rules) == ["s1/sub1", "s1/sub3"]


def test_needed_stages_skip_what_the_last_stage_does_not_use() -> None:
    cf = parse("FROM scratch AS unused\nFROM scratch AS base\nFROM scratch AS helper\n"
               "FROM base\nCOPY --from=helper /x /x\nCOPY --from=0 /y /y\n"
               "FROM scratch\nCOPY --from=3 /z /z\n")
    assert needed_stages(list(cf.stages), {}) == {0, 1, 2, 3, 4}
    cf = parse("FROM scratch AS a\nFROM scratch AS b\nFROM a\n")
    assert needed_stages(list(cf.stages), {}) == {0, 2}
    cf = parse("ARG B=b\nFROM scratch AS b\nFROM scratch\nFROM ${B}\n")
    assert needed_stages(list(cf.stages), {"B": "b"}) == {0, 2}


def test_stdin_is_a_tar_context_or_a_containerfile() -> None:
    ctx, text = BuildContext.from_stdin(b"FROM scratch\nCOPY f /f\n")
    try:
        assert text == "FROM scratch\nCOPY f /f\n" and list(ctx.root.iterdir()) == []
    finally:
        ctx.close()
    for mode in ("w", "w:gz", "w:xz"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
            info = tarfile.TarInfo("Containerfile")
            info.size = 13
            tar.addfile(info, io.BytesIO(b"FROM scratch\n"))
        ctx, text = BuildContext.from_stdin(buf.getvalue())
        try:
            assert text is None and (ctx.root / "Containerfile").read_text() == "FROM scratch\n"
        finally:
            ctx.close()
        assert not ctx.root.exists()
