"""systemd unit files as quadlet reads and writes them: ordered sections of ordered key=value
entries (a key may repeat), with systemd's comments, continuation lines and quoting rules."""

from __future__ import annotations

from collections.abc import Iterator

from sealpod.errors import SystemdError
from sealpod.utils.record import dataclass, field


@dataclass
class Section:
    name: str
    entries: list[tuple[str, str]] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        """Every value of a key, in order; an empty assignment resets the list, as in systemd."""
        out: list[str] = []
        for k, v in self.entries:
            if k == key:
                out = [] if v == "" else [*out, v]
        return out

    def last(self, key: str) -> str | None:
        found = self.values(key)
        return found[-1] if found else None

    def add(self, key: str, value: str) -> None:
        self.entries.append((key, value))


@dataclass
class UnitFile:
    sections: list[Section] = field(default_factory=list)

    def section(self, name: str, *, create: bool = True) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        new = Section(name)
        if create:
            self.sections.append(new)
        return new

    def has_section(self, name: str) -> bool:
        return any(s.name == name for s in self.sections)

    def render(self) -> str:
        blocks = []
        for s in self.sections:
            blocks.append("\n".join([f"[{s.name}]", *(f"{k}={v}" for k, v in s.entries)]) + "\n")
        return "\n".join(blocks)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined (systemd puts a space where the newline was)."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if pending and line and line[0] in "#;":  # comments inside a continuation are dropped
            continue
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending, start = "", 0
    if pending:
        yield start, pending.rstrip()


def parse(text: str, source: str = "") -> UnitFile:
    unit = UnitFile()
    current: Section | None = None
    for number, line in _logical_lines(text):
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise SystemdError(f"{source}:{number}: invalid section header {line!r}")
            current = unit.section(line[1:-1])
            continue
        key, eq, value = line.partition("=")
        if not eq or not key.strip():
            raise SystemdError(f"{source}:{number}: expected KEY=VALUE, got {line!r}")
        if current is None:
            raise SystemdError(f"{source}:{number}: assignment outside of a section")
        current.add(key.strip(), value.strip())
    return unit


def split_words(value: str) -> list[str]:
    """A value as systemd splits command lines and lists: whitespace, with "" and '' quoting."""
    import shlex

    try:
        return shlex.split(value, comments=False, posix=True)
    except ValueError as e:
        raise SystemdError(f"invalid quoting in {value!r}: {e}") from None


def quote(word: str) -> str:
    """One word of an Exec line; specifiers (%N) and variables stay as the unit's author wrote them."""
    if word and not any(ch in word for ch in " \t\n\"'\\;"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
