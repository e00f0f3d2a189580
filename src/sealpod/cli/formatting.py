"""The one place commands turn reports into text: tables, ``--format`` templates and JSON.

It follows Podman 4: ``--format json`` prints an indented JSON array; ``table ...`` prints a
header row and aligns ``\\t``-separated columns with Go's tabwriter (minwidth 12, padding 2);
any other template prints once per row; ``\\t`` and ``\\n`` typed on the command line become tab
and newline.  Headers come from field names (``.CreatedAt`` → ``CREATED AT``) unless the
command overrides them (``.ID`` → ``IMAGE ID``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence

from sealpod.cli.gotemplate import Template, compile_template
from sealpod.errors import TemplateError
from sealpod.utils.units import human_duration

__all__ = ["human_duration", "human_size", "header_for", "is_json", "render", "tabwrite"]

_JSON_FORMAT = re.compile(r"\s*(?:json|\{\{\s*json\s*\.?\s*\}\})\s*")  # {{json.}} and {{json}} too, as Podman
_ACTION = re.compile(r"\{\{.*?\}\}", re.S)
_CLASS_RUNS = re.compile(r"[a-z]+|[A-Z]+|[0-9]+|[^a-zA-Z0-9]+")
_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def is_json(fmt: str | None) -> bool:
    """``--format json`` (and ``{{json .}}``, as in Podman) asks for the JSON array, not a template."""
    return fmt is not None and _JSON_FORMAT.fullmatch(fmt) is not None


def unescape(fmt: str) -> str:
    """Shells pass ``\\t`` literally; Podman turns it (and ``\\n``) into the real character, but only in the
    text between actions: inside ``{{"\\n"}}`` it is a Go string escape, and a raw newline there would
    leave the string unterminated."""
    parts = re.split(r"({{.*?}})", fmt, flags=re.S)
    return "".join(p if i % 2 else p.replace("\\t", "\t").replace("\\n", "\n") for i, p in enumerate(parts))


def split_camel(name: str) -> list[str]:
    """``ImageID`` → ``[Image, ID]``, ``HTTPServer`` → ``[HTTP, Server]``: words of a Go field name."""
    runs = _CLASS_RUNS.findall(name)
    for i in range(len(runs) - 1):
        if runs[i].isupper() and runs[i + 1].islower() and runs[i].isalpha():
            runs[i + 1] = runs[i][-1] + runs[i + 1]
            runs[i] = runs[i][:-1]
    return [r for r in runs if r]


def header_for(name: str, overrides: Mapping[str, str] | None = None) -> str:
    """Column header for a field: the command's override, else its upper-cased words."""
    if overrides and name in overrides:
        return overrides[name].upper()
    return " ".join(split_camel(name)).upper()


class _Headers(Mapping[str, str]):
    """Dot for the header row: every field name maps to its column header."""

    def __init__(self, overrides: Mapping[str, str]) -> None:
        self.overrides = overrides

    def __getitem__(self, key: str) -> str:
        return header_for(key, self.overrides)

    def get(self, key: str, default: object = None) -> str:
        return header_for(key, self.overrides)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(self.overrides)

    def __len__(self) -> int:
        return len(self.overrides)


def render(
    fmt: str | None,
    rows: Sequence[object],
    *,
    default: str,
    headers: Mapping[str, str] | None = None,
    json_rows: Callable[[], object] | None = None,
    name: str = "template",
    json_indent: int | None = 4,
    escape_html: bool = True,
    noheading: bool = False,
    go_type: str = "",
) -> str:
    """Render a command's report; the result ends with a newline unless it is empty.

    ``default`` is the command's own format (usually ``table ...``), used when ``fmt`` is empty.
    ``json_rows`` builds the data for ``--format json`` when it differs from ``rows`` (Podman's
    JSON has other field names than its templates).  ``json_indent``/``escape_html`` follow the
    command's Podman counterpart: ``images`` uses 4 spaces and escapes ``<>&``, ``ps`` 2 spaces.
    ``noheading`` drops a table's header row; the columns are then as wide as the data alone, as
    Podman's tabwriter makes them.  Podman runs the template inside ``{{range .}}``: its errors name
    that wrapped template's columns, and ``go_type`` (its row struct, ``containers.psReporter``).
    """
    fmt = fmt or default
    if is_json(fmt):
        from sealpod.cli.gotemplate.values import go_json

        data = json_rows() if json_rows is not None else list(rows)
        return go_json(data, indent=json_indent, escape_html=escape_html) + "\n"
    if fmt.rstrip() == "table":  # Docker's shorthand for the command's default table
        fmt = default
    fmt = unescape(fmt)
    table = fmt.startswith("table ")
    body = table_columns(fmt.removeprefix("table ")) if table else fmt
    if not body.endswith("\n"):
        body += "\n"
    try:
        tmpl = compile_template(body, name=name)
    except TemplateError:  # worded as Podman's wrapped template fails ("{{.X" meets its {{end}}: a bad character)
        compile_template(_RANGE + body + "{{end}}", name=name)
        raise
    try:
        if not table:
            return "".join(tmpl.execute(row) for row in rows)
        lines = [] if noheading else [render_header(tmpl, headers or {})]
        lines.extend(tmpl.execute(row) for row in rows)
    except TemplateError as e:
        raise TemplateError(_as_ranged(e.message, name, go_type)) from None
    return tabwrite("".join(lines))


_RANGE = "{{range .}}"


def _as_ranged(message: str, name: str, go_type: str) -> str:
    """An execution error of the row template as Podman's ``{{range .}}`` one reads: first-line columns
    shifted by the wrapper, the row's Go type."""
    message = re.sub(rf"^template: {re.escape(name)}:1:(\d+):",
                     lambda m: f"template: {name}:1:{int(m.group(1)) + len(_RANGE)}:", message)
    if go_type:
        message = re.sub(r"in type \w+$", f"in type {go_type}", message)
    return message


def table_columns(body: str) -> str:
    """Podman makes every space between actions of a table format a column break."""
    parts: list[str] = []
    pos = 0
    for m in _ACTION.finditer(body):
        parts.append(body[pos : m.start()].replace(" ", "\t"))
        parts.append(m.group())
        pos = m.end()
    parts.append(body[pos:].replace(" ", "\t"))
    return "".join(parts)


def render_header(tmpl: Template, headers: Mapping[str, str]) -> str:
    """The header row: the template run on header names; actions that fail show their field's header."""
    plain = tmpl.plain_fields()
    if plain is not None:  # what the run below gives for plain fields, without the executor
        return "".join(p if isinstance(p, str) else header_for(p[0], headers) for p in plain)
    return tmpl.execute(_Headers(headers), on_action_error=lambda names: header_for(names[0], headers))


def tabwrite(text: str, *, minwidth: int = 12, padding: int = 2) -> str:
    """Align tab-terminated cells exactly as Go's text/tabwriter does with Podman's settings.

    Like tabwriter, a column is a block of consecutive lines that all have a tab-terminated
    cell at that index; text after a line's last tab is not part of any column and is not padded.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format_block(lines, 0, len(lines), [], out, minwidth, padding)
    return "\n".join(out)


def _format_block(
    lines: list[list[str]],
    line0: int,
    line1: int,
    widths: list[int],
    out: list[str],
    minwidth: int,
    padding: int,
) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write_lines(lines, line0, this, widths, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        widths.append(width)
        _format_block(lines, line0, this, widths, out, minwidth, padding)
        widths.pop()
        line0 = this
    _write_lines(lines, line0, line1, widths, out)


def _write_lines(lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]) -> None:
    for cells in lines[line0:line1]:
        out.append("".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(cells)))


def human_size(size: float, *, precision: int = 3, sep: str = " ") -> str:
    """Decimal size with ``precision`` significant digits, like go-units' HumanSizeWithPrecision.

    Podman's SIZE columns use 3 digits and a space (``1.99 MB``); Docker's omit the space.
    """
    value = float(size)
    unit = 0
    while value >= 1000.0 and unit < len(_SIZE_UNITS) - 1:
        value /= 1000.0
        unit += 1
    return f"{value:.{precision}g}{sep}{_SIZE_UNITS[unit]}"




def inspect_output(docs: Sequence[object], fmt: str | None) -> str:
    """``inspect`` of any object: indented JSON, or the template once per object."""
    if not fmt or is_json(fmt):
        import json

        return json.dumps(docs, indent=5, ensure_ascii=False) + "\n"
    # Podman ranges over the objects: its error columns, parse errors and types ("interface {}") follow
    tmpl = compile_template("{{range .}}" + unescape(fmt).rstrip("\n") + "\n{{end}}", name="inspect")
    try:
        return tmpl.execute([_GoFields.of(d) if isinstance(d, dict) else d for d in docs])
    except TemplateError as e:
        if e.partial:  # written before the failure, as Go's Execute leaves it
            import sys

            sys.stdout.write(e.partial)
            sys.stdout.flush()
        raise TemplateError(f"inspecting object: printing inspect output: {e.message}") from None


class _GoFields(dict[str, object]):
    """An inspect document that also answers to the Go field name where its JSON key differs
    (Podman's structs have ``ID`` with the JSON name ``Id``): ``{{.ID}}`` works as in Podman."""

    _ALIASES = {"ID": "Id"}
    strict_type = ""  # see gotemplate.values.StrictFields: kept from the document wrapped
    known: frozenset[str] = frozenset()

    @classmethod
    def of(cls, doc: dict[str, object]) -> _GoFields:
        out = cls(doc)
        out.strict_type, out.known = getattr(doc, "strict_type", ""), getattr(doc, "known", frozenset())
        return out

    def get(self, key: str, default: object = None) -> object:
        if key not in self and key in self._ALIASES:
            key = self._ALIASES[key]
        value = super().get(key, default)
        if key == "Config" and isinstance(value, dict):
            config = _LowerCamel(value)
            config.strict_type, config.known = getattr(value, "strict_type", ""), getattr(value, "known", frozenset())
            return config
        return value


class _LowerCamel(dict[str, object]):
    """A container's Config, whose Go fields ``SdNotifyMode``/``SdNotifySocket`` have the JSON
    names ``sdNotifyMode``/``sdNotifySocket``: ``{{.Config.SdNotifyMode}}`` works as in Podman."""

    strict_type = ""  # see gotemplate.values.StrictFields: kept from the Config wrapped
    known: frozenset[str] = frozenset()

    def get(self, key: str, default: object = None) -> object:
        if key not in self and key[:1].isupper():
            key = key[:1].lower() + key[1:]
        return super().get(key, default)
