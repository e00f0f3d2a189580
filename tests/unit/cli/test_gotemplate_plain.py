"""Templates of text and ``{{.A.B}}`` only skip the parser until something needs it; they must
render, fail and head tables exactly as parsed ones do."""

from __future__ import annotations

import pytest

from sealpod.cli.formatting import render_header
from sealpod.cli.gotemplate import compile_template
from sealpod.errors import TemplateError


class Row:
    ID = "abc"
    Names = "web"

    class Image:
        Name = "busybox"


def test_plain_templates_render_without_a_parse() -> None:
    tmpl = compile_template("{{.ID}}\t{{ .Image.Name }} {{.Names}}\n", name="ps")
    assert tmpl.plain_fields() == [("ID",), "\t", ("Image", "Name"), " ", ("Names",), "\n"]
    assert tmpl.execute(Row()) == "abc\tbusybox web\n"


def test_data_the_fast_path_declines_goes_through_the_parser() -> None:
    tmpl = compile_template("{{.ID}} {{.Names}}\n")
    assert tmpl.execute({"ID": "x", "Names": "y"}) == "x y\n"  # a map: Go's index rules, via the parser


def test_errors_are_worded_as_for_a_parsed_template() -> None:
    plain = compile_template("{{.ID}}|{{.Foo}}", name="ps")
    parsed = compile_template("{{.ID}}|{{.Foo | printf \"%s\"}}", name="ps")
    with pytest.raises(TemplateError) as fast:
        plain.execute(Row())
    with pytest.raises(TemplateError) as slow:
        parsed.execute(Row())
    assert str(fast.value) == 'template: ps:1:10: executing "ps" at <.Foo>: can\'t evaluate field Foo in type Row'
    assert str(slow.value).startswith("template: ps:1:10: executing \"ps\" at <.Foo>: can't evaluate field Foo")


def test_anything_else_is_parsed_at_once() -> None:
    for text, want in (("a {{- .ID -}} b", "aabcb"), ("{{/* c */}}{{.ID}}", "abc"), ("{{.ID}} }}", "abc }}"),
                       ("{{if .ID}}x{{end}}", "x")):
        assert compile_template(text).execute(Row()) == want, text
    assert compile_template("{{json .ID}}").plain_fields() is None
    with pytest.raises(TemplateError):
        compile_template("{{.ID")


def test_table_headers_match_the_executor() -> None:
    headers = {"ID": "CONTAINER ID"}
    plain = compile_template("{{.ID}}\t{{.Image.Name}}\t{{.CreatedAt}}\n")
    parsed = compile_template("{{.ID}}\t{{.Image.Name}}\t{{.CreatedAt}}{{\"\"}}\n")
    assert plain.plain_fields() is not None and parsed.plain_fields() is None
    assert render_header(plain, headers) == render_header(parsed, headers) == "CONTAINER ID\tIMAGE\tCREATED AT\n"
