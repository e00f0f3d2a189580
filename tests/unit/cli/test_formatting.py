# ruff: noqa: E501  (expected strings are pasted whole from Podman output)
"""Report rendering; expected tables were printed by Podman 4.3.1 for the same rows
(`podman --root /tmp/x --runroot /tmp/y images --format ...`)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sealpod.cli.formatting import (
    header_for,
    human_duration,
    human_size,
    is_json,
    render,
    split_camel,
    tabwrite,
)
from sealpod.errors import TemplateError

NAMES = ["localhost/testimg:latest", "localhost/other/verylongname/testimage:v1.2.3"]
ROWS = [
    {"ID": "28b6a10ef49b", "Repository": "localhost/testimg", "Tag": "latest", "CreatedSince": "4 seconds ago",
     "Size": "1.99 MB", "Names": NAMES, "Labels": None, "VirtualSize": 1987655, "ReadOnly": False},
    {"ID": "28b6a10ef49b", "Repository": "localhost/other/verylongname/testimage", "Tag": "v1.2.3",
     "CreatedSince": "4 seconds ago", "Size": "1.99 MB", "Names": NAMES, "Labels": None, "VirtualSize": 1987655,
     "ReadOnly": False},
]  # fmt: skip
HEADERS = {"ID": "IMAGE ID", "ReadOnly": "R/O", "CreatedSince": "CREATED"}
DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"


def images(fmt: str | None, rows: Sequence[object] = ROWS) -> str:
    return render(fmt, rows, default=DEFAULT, headers=HEADERS, name="images")


def test_default_table() -> None:
    assert images(None) == (
        "REPOSITORY                              TAG         IMAGE ID      CREATED        SIZE\n"
        "localhost/testimg                       latest      28b6a10ef49b  4 seconds ago  1.99 MB\n"
        "localhost/other/verylongname/testimage  v1.2.3      28b6a10ef49b  4 seconds ago  1.99 MB\n"
    )
    assert images("") == images(None) == images("table")


def test_empty_table_prints_header_only() -> None:
    assert images(None, []) == "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n"
    assert images("{{.ID}}", []) == ""


def test_spaces_in_table_format_are_columns() -> None:
    assert images("table {{.Repository}} x y {{.Tag}}") == (
        "REPOSITORY                              x           y           TAG\n"
        "localhost/testimg                       x           y           latest\n"
        "localhost/other/verylongname/testimage  x           y           v1.2.3\n"
    )
    assert images("table  {{.Tag}}") == "            TAG\n            latest\n            v1.2.3\n"


def test_single_column_table_and_literal_cells() -> None:
    assert images("table {{.Repository}}") == (
        "REPOSITORY\nlocalhost/testimg\nlocalhost/other/verylongname/testimage\n"
    )
    assert images('table {{.Repository}}\\t{{.Tag}}\\t{{"lit"}}|{{.ID}}') == (
        "REPOSITORY                              TAG         lit|IMAGE ID\n"
        "localhost/testimg                       latest      lit|28b6a10ef49b\n"
        "localhost/other/verylongname/testimage  v1.2.3      lit|28b6a10ef49b\n"
    )


def test_header_derivation_and_functions() -> None:
    # Podman prints "tag" for {{.Tag|lower}} too; where it fails (join on the header string) we show NAMES.
    out = images('table {{.Repository | upper}}\\t{{.Tag|lower}}\\t{{join .Names ","}}\\t{{.Size}}')
    assert out.splitlines()[0] == "REPOSITORY                              tag         NAMES" + " " * 67 + "SIZE"
    assert out.splitlines()[1].startswith("LOCALHOST/TESTIMG                       latest      localhost/testimg:latest,")
    assert images("table {{.ID}}\\t{{.VirtualSize}}\\t{{.ReadOnly}}\\t{{.Labels}}").splitlines() == [
        "IMAGE ID      VIRTUAL SIZE  R/O         LABELS",
        "28b6a10ef49b  1987655       false       <nil>",
        "28b6a10ef49b  1987655       false       <nil>",
    ]


def test_newline_escape_in_table() -> None:
    assert images("table {{.ID}}\\n{{.Tag}}") == "IMAGE ID\nTAG\n28b6a10ef49b\nlatest\n28b6a10ef49b\nv1.2.3\n"


def test_plain_template_per_row_without_header() -> None:
    assert images("{{.Repository}}\\t{{.Tag}}") == "localhost/testimg\tlatest\nlocalhost/other/verylongname/testimage\tv1.2.3\n"
    assert images("{{.ID}}\\x{{.Tag}}\\\\t") == "28b6a10ef49b\\xlatest\\\t\n28b6a10ef49b\\xv1.2.3\\\t\n"
    assert images("{{.Tag}} {{.ID}}") == "latest 28b6a10ef49b\nv1.2.3 28b6a10ef49b\n"
    assert images("table{{.Tag}}") == "tablelatest\ntablev1.2.3\n"
    assert images("{{.Tag}}\n") == "latest\nv1.2.3\n"


def test_json_per_row_and_array() -> None:
    assert images("{{json .Names}}") == '["localhost/testimg:latest","localhost/other/verylongname/testimage:v1.2.3"]\n' * 2
    # Podman 4 treats {{json .}} as --format json: the whole array, not one object per row
    assert images("{{json .}}").startswith("[\n")
    assert images("json", []) == "[]\n"
    out = render("json", [], default=DEFAULT, json_rows=lambda: [{"Id": "x", "Labels": {"a": "<b>&é"}, "N": None}])
    assert out == (
        '[\n    {\n        "Id": "x",\n        "Labels": {\n            "a": "\\u003cb\\u003e\\u0026é"\n'
        '        },\n        "N": null\n    }\n]\n'
    )
    assert render(" json ", [{"A": 1.0}], default=DEFAULT, json_indent=2) == '[\n  {\n    "A": 1\n  }\n]\n'
    assert is_json("json") and is_json("{{json .}}") and is_json("{{ json . }}") and not is_json(None)
    assert not is_json("{{json .Names}}")


def test_template_errors_propagate() -> None:
    """As Podman's, whose row template runs inside ``{{range .}}``: execution errors name that wrapped
    template's columns, and an unclosed action meets its ``{{end}}`` (a bad character)."""
    with pytest.raises(TemplateError, match=r'^template: images:1:17: executing "images" at <\.Foo\.x>'):
        images("{{.Foo.x}}", [{"Foo": "s"}])
    with pytest.raises(TemplateError, match=r"^template: images:1: bad character U\+007B '\{'$"):
        images("{{.Foo")


def test_tabwriter_blocks() -> None:
    # a line without tabs ends the column block, as in Go's tabwriter
    assert tabwrite("a\tb\tc\nlonger-cell\tx\n-\nq\tr\n") == (
        "a            b           c\nlonger-cell  x\n-\nq           r\n"
    )
    assert tabwrite("x\t\ty\n") == "x                       y\n"
    assert tabwrite("é\tz", minwidth=0, padding=1) == "é z"


def test_headers_from_field_names() -> None:
    assert split_camel("ImageID") == ["Image", "ID"]
    assert split_camel("HTTPServer") == ["HTTP", "Server"]
    assert header_for("CreatedAt") == "CREATED AT"
    assert header_for("ExitCode") == "EXIT CODE"
    assert header_for("MountPoint") == "MOUNT POINT"
    assert header_for("ID") == "ID"
    assert header_for("Pod", {"Pod": "Pod ID"}) == "POD ID"


@pytest.mark.parametrize(
    ("size", "want"),
    [(0, "0 B"), (100, "100 B"), (999, "999 B"), (1000, "1 kB"), (1987655, "1.99 MB"), (5370000, "5.37 MB"),
     (999999, "1e+03 kB"), (12_345_678_901, "12.3 GB"), (1e25, "10 YB")],
)  # fmt: skip
def test_human_size(size: float, want: str) -> None:
    assert human_size(size) == want


def test_human_size_docker_style() -> None:
    assert human_size(1987655, precision=4, sep="") == "1.988MB"


@pytest.mark.parametrize(
    ("seconds", "want"),
    [(0, "Less than a second"), (0.9, "Less than a second"), (1, "1 second"), (59, "59 seconds"),
     (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
     (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"),
     (48 * 3600, "2 days"), (13 * 86400, "13 days"), (14 * 86400, "2 weeks"), (59 * 86400, "8 weeks"),
     (60 * 86400, "2 months"), (729 * 86400, "24 months"), (730 * 86400, "2 years"), (-5, "Less than a second")],
)  # fmt: skip
def test_human_duration(seconds: float, want: str) -> None:
    assert human_duration(seconds) == want


def test_noheading_keeps_columns_aligned_to_the_data() -> None:
    rows = [{"Name": "a-long-name", "Size": "1"}, {"Name": "b", "Size": "22"}]
    out = render(None, rows, default="table {{.Name}}\t{{.Size}}", noheading=True)
    assert out == "a-long-name  1\nb            22\n"  # tabwriter widths from the rows alone, no header
    assert render("{{.Name}}", rows, default="table {{.Name}}", noheading=True) == "a-long-name\nb\n"
