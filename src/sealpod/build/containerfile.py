"""The Containerfile grammar: parser directives, comments, line continuations, flags and the
JSON (exec) form, as Docker's parser reads them.

Parsing never substitutes variables: which instructions are substituted, and with which
values, is the builder's business (the values change from step to step).
"""

from __future__ import annotations

import json
import re

from sealpod.errors import BuildError
from sealpod.utils.record import dataclass

#: Instructions Docker knows; anything else is an error before anything runs.
KNOWN = frozenset({"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                   "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"})
#: A line longer than this is refused (a hostile or broken file, not a build).
MAX_LINE = 1 << 20
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_FLAG = re.compile(r"^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)")


@dataclass(frozen=True)
class Instruction:
    """One instruction; ``args`` is the text after the flags, continuations joined."""

    cmd: str  # upper case
    args: str
    flags: tuple[tuple[str, str], ...]  # (name, value) of leading --name=value
    exec_form: tuple[str, ...] | None  # the JSON array, when the arguments are one
    line: int
    original: str  # as written, continuations joined: what STEP lines show

    def flag(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.flags:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Stage:
    """A FROM and the instructions after it, up to the next FROM."""

    index: int
    base: str  # FROM's image, not yet substituted
    name: str  # AS name, lower case ("" when none)
    platform: str
    start: Instruction
    steps: tuple[Instruction, ...]


@dataclass(frozen=True)
class Containerfile:
    global_args: tuple[Instruction, ...]  # ARGs before the first FROM
    stages: tuple[Stage, ...]


def parse(text: str) -> Containerfile:
    """Parse a whole file; errors name the line, as Docker's do."""
    instructions = parse_instructions(text)
    if not any(i.cmd == "FROM" for i in instructions):
        raise BuildError("no FROM statement found")
    global_args: list[Instruction] = []
    stages: list[tuple[Instruction, list[Instruction]]] = []
    for ins in instructions:
        if ins.cmd == "FROM":
            stages.append((ins, []))
        elif not stages:
            if ins.cmd != "ARG":
                raise BuildError(f"{ins.cmd} at line {ins.line}: no FROM statement before it "
                                 "(only ARG may precede the first FROM)")
            global_args.append(ins)
        else:
            stages[-1][1].append(ins)
    return Containerfile(tuple(global_args), tuple(_stage(i, start, steps) for i, (start, steps) in enumerate(stages)))


def _stage(index: int, start: Instruction, steps: list[Instruction]) -> Stage:
    words = start.args.split()
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2].lower()
        if not re.fullmatch(r"[a-z][a-z0-9._-]*", name):
            raise BuildError(f'invalid name for build stage: "{words[2]}", name can\'t start with a number '
                             "or contain symbols")
    elif len(words) == 1:
        name = ""
    else:
        raise BuildError(f"FROM at line {start.line} requires either one or three arguments")
    return Stage(index, words[0], name, start.flag("platform") or "", start, tuple(steps))


def parse_instructions(text: str) -> list[Instruction]:
    escape = "\\"
    lines = text.splitlines()
    body_start = 0
    for n, raw in enumerate(lines):  # parser directives: only at the very top
        m = _DIRECTIVE.match(raw.strip())
        if not m:
            break
        body_start = n + 1
        if m.group(1).lower() == "escape":
            if m.group(2) not in ("\\", "`"):
                raise BuildError(f"invalid ESCAPE '{m.group(2)}': must be ` or \\")
            escape = m.group(2)
    out: list[Instruction] = []
    n = body_start
    while n < len(lines):
        while n < len(lines) and lines[n].strip().startswith("#"):
            n += 1  # comments before an instruction: it starts after them
        first = n + 1
        joined, n = _logical_line(lines, n, escape)
        if joined.strip():
            out.append(_instruction(joined.strip(), first))
    return out


def _logical_line(lines: list[str], n: int, escape: str) -> tuple[str, int]:
    """The logical line starting at ``n`` (comment lines skipped, continuations joined)."""
    parts: list[str] = []
    while n < len(lines):
        raw = lines[n]
        n += 1
        if len(raw) > MAX_LINE:
            raise BuildError(f"line {n} is longer than {MAX_LINE} bytes")
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue  # a comment, even inside a continued instruction
        if not parts and not stripped:
            return "", n
        if parts and not stripped:
            continue  # an empty continuation line: Docker skips it
        text = raw.rstrip()
        if text.endswith(escape):
            parts.append(text[:-1])
            if sum(len(p) for p in parts) > MAX_LINE:
                raise BuildError(f"instruction ending at line {n} is longer than {MAX_LINE} bytes")
            continue
        parts.append(text)
        break
    return "".join(parts), n


def _instruction(text: str, line: int) -> Instruction:
    word, *tail = re.split(r"\s+", text, maxsplit=1)
    rest = tail[0] if tail else ""
    cmd = word.upper()
    if cmd not in KNOWN:
        raise BuildError(f'Build error: Unknown instruction: "{cmd}" at line {line}')
    rest = rest.strip()
    flags: list[tuple[str, str]] = []
    if cmd in ("FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"):
        while m := _FLAG.match(rest):
            flags.append((m.group(1), m.group(2) if m.group(2) is not None else "true"))
            rest = rest[m.end():]
    return Instruction(cmd, rest, tuple(flags), _exec_form(rest), line, text)


def _exec_form(rest: str) -> tuple[str, ...] | None:
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None
