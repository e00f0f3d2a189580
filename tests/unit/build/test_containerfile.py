"""The Containerfile parser, variable substitution and ignore patterns: pure logic, real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.build.containerfile import MAX_LINE, parse, parse_instructions
from sealpod.build.context import BuildContext
from sealpod.build.ignore import is_excluded, parse_rules, walk
from sealpod.build.substitute import expand, key_values, split_words
from sealpod.errors import BuildError


def test_continuations_comments_and_forms() -> None:
    text = ("# syntax=docker/dockerfile:1\nFROM a AS Build\n# a comment\nRUN echo a \\\n# inside\n  && echo b\n\n"
            'CMD ["sh", "-c", "x"]\nENTRYPOINT [not json\nCOPY --from=build --chown=1:2 /x /y\n')
    cf = parse(text)
    (stage,) = cf.stages
    assert (stage.base, stage.name) == ("a", "build")
    run, cmd, entry, copy = stage.steps
    assert run.args == "echo a   && echo b" and run.exec_form is None and run.line == 4
    assert cmd.exec_form == ("sh", "-c", "x")
    assert entry.exec_form is None
    assert copy.flags == (("from", "build"), ("chown", "1:2")) and copy.args == "/x /y"


def test_escape_directive_and_global_args() -> None:
    cf = parse("# escape=`\nARG V=1\nFROM img:$V\nRUN dir c:\\ `\n  && echo\n")
    assert [a.args for a in cf.global_args] == ["V=1"]
    assert cf.stages[0].steps[0].args == "dir c:\\   && echo"


@pytest.mark.parametrize(("text", "words"), [
    ("RUN true\n", "no FROM statement found"),
    ("", "no FROM statement found"),
    ("FROM a\nFOO bar\n", 'Unknown instruction: "FOO"'),
    ("ENV A=b\nFROM a\n", "only ARG may precede"),
    ("FROM a b\n", "one or three arguments"),
    ("FROM a AS 1x\n", "invalid name for build stage"),
    ("# escape=x\nFROM a\n", "invalid ESCAPE"),
])
def test_hostile_containerfiles(text: str, words: str) -> None:
    with pytest.raises(BuildError, match=words):
        parse(text)


def test_huge_lines_are_refused() -> None:
    with pytest.raises(BuildError, match="longer than"):
        parse_instructions("FROM a\nRUN " + "x" * (MAX_LINE + 1) + "\n")
    with pytest.raises(BuildError, match="longer than"):
        parse_instructions("FROM a\n" + ("RUN " + "x" * 70000 + " \\\n") * 20 + "\n")


def test_substitution() -> None:
    env = {"A": "1", "E": "", "SP": "a b"}
    assert expand("$A-${A}-${B:-d}-${E:-e}-${E-f}-${A:+p}-${B:+q}", env) == "1-1-d-e--p-"
    assert expand("'$A' \"$A\" \\$A", env) == "$A 1 $A"
    assert split_words('$SP "$SP" x\\ y', env) == ["a", "b", "a b", "x y"]
    assert expand("${A:-${SP}}${B:-${SP}}", env) == "1a b"
    with pytest.raises(BuildError, match="B: must be set"):
        expand("${B:?must be set}", env)
    with pytest.raises(BuildError, match="missing '}'"):
        expand("${A", env)


def test_key_values() -> None:
    assert key_values('A=1 B="two words" C=$A', {"A": "x"}) == [("A", "1"), ("B", "two words"), ("C", "x")]
    assert key_values("A old style $A", {"A": "z"}) == [("A", "old style z")]
    with pytest.raises(BuildError, match="can't find ="):
        key_values("A=1 B", {})


def test_ignore_patterns() -> None:
    rules = parse_rules("# c\n*.log\n!keep.log\n**/tmp\nbuild/\n/abs/x?\n[ab].txt\n")
    assert is_excluded(rules, "x.log") and not is_excluded(rules, "keep.log")
    assert not is_excluded(rules, "sub/x.log")  # * does not cross /
    assert is_excluded(rules, "tmp") and is_excluded(rules, "a/b/tmp/file")
    assert is_excluded(rules, "build/out/bin")
    assert is_excluded(rules, "abs/x1") and not is_excluded(rules, "abs/x12")
    assert is_excluded(rules, "a.txt") and not is_excluded(rules, "c.txt")


def test_walk_respects_rules_and_exceptions(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    for name in ("d/a.txt", "d/e/b.txt", "d/e/keep.md", "top.md"):
        (tmp_path / name).write_text("x")
    rules = parse_rules("d/e\n!d/e/keep.md\n")
    assert walk(str(tmp_path), rules) == ["d", "top.md", "d/a.txt", "d/e/keep.md"]


def test_sources_may_not_leave_the_context(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (tmp_path / "secret").write_text("s")
    (ctx / "out").symlink_to(tmp_path / "secret")
    (ctx / "in").symlink_to("f")
    (ctx / "f").write_text("f")
    (ctx / "g1.txt").write_text("1")
    (ctx / "g2.txt").write_text("2")
    context = BuildContext(ctx, temporary=False)
    for bad in ("../secret", "a/../../secret", "out"):
        with pytest.raises(BuildError, match="outside the build context"):
            context.sources(bad)
    assert context.sources("in") == ["in"]
    assert context.sources("/g*.txt") == ["g1.txt", "g2.txt"]
    with pytest.raises(BuildError, match="no such file"):
        context.sources("missing")
    context.rules = parse_rules("f\n")
    with pytest.raises(BuildError, match="no such file"):
        context.sources("f")
