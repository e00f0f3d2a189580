"""``.containerignore`` / ``.dockerignore``: which context files COPY and ADD never see.

Each line is a Go ``filepath.Match`` pattern over the path relative to the context (``*``,
``?``, ``[...]``, ``\\``), plus ``**`` for any number of directories; ``!`` re-includes; the
last matching line wins; a pattern matching a directory excludes what is under it.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from sealpod.errors import BuildError
from sealpod.utils.record import dataclass

IGNORE_FILES = (".containerignore", ".dockerignore")


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    exclude: bool  # False for "!" lines


def find_ignore(context: Path, containerfile: Path | None = None) -> Path | None:
    """The context's ignore file (``.containerignore`` before ``.dockerignore``); Docker also reads
    ``<Containerfile>.dockerignore`` beside the file."""
    candidates = [Path(f"{containerfile}.containerignore"), Path(f"{containerfile}.dockerignore")] \
        if containerfile else []
    return next((p for p in [*candidates, *(context / name for name in IGNORE_FILES)] if p.is_file()), None)


def read_ignore(path: Path | None) -> list[Rule]:
    return parse_rules(path.read_text(errors="replace")) if path is not None else []


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        if not exclude:
            line = line[1:].strip()
        pattern = posixpath.normpath(line).lstrip("/") or "."
        if pattern == ".":
            continue
        rules.append(Rule(pattern, translate(pattern), exclude))
    return rules


def translate(pattern: str) -> re.Pattern[str]:
    """A Go filepath.Match pattern (``**`` too) as a regular expression over a whole path."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("^", "!") else i + 1)
            if end < 0:
                raise BuildError(f"syntax error in pattern {pattern!r}")
            body = pattern[i + 1:end]
            if body[:1] in ("^", "!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as e:
        raise BuildError(f"syntax error in pattern {pattern!r}: {e}") from None


def is_excluded(rules: list[Rule], rel: str) -> bool:
    """Whether ``rel`` (relative to the context, ``/``-separated) is left out."""
    rel = rel.strip("/")
    parents = []
    head = rel
    while head:
        parents.append(head)
        head = posixpath.dirname(head)
    excluded = False
    for rule in rules:
        if any(rule.regex.match(p) for p in parents):
            excluded = rule.exclude
    return excluded


def walk(root: str, rules: list[Rule], prefix: str = "") -> list[str]:
    """Every path under ``root`` (relative to it) not excluded; directories before their contents.
    ``prefix`` is ``root`` relative to the context, which the rules are written against.

    A directory that is excluded is still entered when a ``!`` rule could bring some of its
    contents back, as Docker does: when the rule's text starts with the directory's path.
    """
    found: list[str] = []
    has_exceptions = any(not r.exclude for r in rules)
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        keep_dirs = []
        for name in sorted(dirnames):
            rel = posixpath.join(rel_dir, name)
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                if not is_excluded(rules, posixpath.join(prefix, rel)):
                    found.append(rel)
                continue
            if is_excluded(rules, posixpath.join(prefix, rel)):
                if has_exceptions and _may_hold_exceptions(rules, posixpath.join(prefix, rel)):
                    keep_dirs.append(name)
                continue
            found.append(rel)
            keep_dirs.append(name)
        dirnames[:] = keep_dirs
        found.extend(rel for rel in (posixpath.join(rel_dir, f) for f in sorted(filenames))
                     if not is_excluded(rules, posixpath.join(prefix, rel)))
    return found


def _may_hold_exceptions(rules: list[Rule], rel_dir: str) -> bool:
    """Docker's (and Buildah's) test for entering an excluded directory: some ``!`` pattern's text
    begins with ``DIR/``; a pattern that starts with a wildcard (``!*/keep``) does not count."""
    return any(not r.exclude and (r.pattern + "/").startswith(rel_dir + "/") for r in rules)
