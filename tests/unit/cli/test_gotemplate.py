# ruff: noqa: E501  (expected strings are pasted whole from Podman output)
"""Go text/template engine: expected outputs and messages were observed from Podman 4.3.1
(`podman version --format ...`, Go 1.19)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sealpod.cli.gotemplate import compile_template
from sealpod.errors import InvalidArgument, TemplateError

DATA = {"Client": {"Os": "linux", "Version": "4.3.1", "Built": 0, "OsArch": "linux/amd64"}}


def run(text: str, data: object = DATA, name: str = "version") -> str:
    return compile_template(text, name=name).execute(data)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{printf "%v|%q|%x|%5.2f|%-6s|%d|%t" 1.5 "a\\"b" 255 3.14159 "ab" 42 true}}',
         '1.5|"a\\"b"|ff| 3.14|ab    |42|true'),
        ('{{printf "%v %v %v" nil true 3}}', "<nil> true 3"),
        ('{{print 1 2 "a" "b" 3 nil}}', "1 2ab3 <nil>"),
        ('{{println 1 2 "a"}}', "1 2 a\n"),
        ('{{len "héllo"}}', "6"),
        ('{{index "abc" 1}}', "98"),
        ('{{slice "abcdef" 1 3}}', "bc"),
        ("{{html \"<a&b>\\\"x'\"}}", "&lt;a&amp;b&gt;&#34;x&#39;"),
        ("{{js \"<a&b>\\\"x'=\\\\\"}}", "\\u003Ca\\u0026b\\u003E\\\"x\\'\\u003D\\\\"),
        ('{{urlquery "a b&c/d?é"}}', "a+b%26c%2Fd%3F%C3%A9"),
        ('{{eq 1 1 2}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 1.0}} {{ge "b" "a"}}',
         "true true true true true true"),
        ('{{and 1 0 2}} {{or 0 "" "x"}} {{not 0}}', "0 x true"),
        ("{{json .Client}}", '{"Os":"linux","Version":"4.3.1","Built":0,"OsArch":"linux/amd64"}'),
        ('{{.Client.OsArch | printf "%s!"}}', "linux/amd64!"),
        ('{{split "a:b:c" ":"}}', "[a b c]"),
        ('{{title "hello world-foo"}} {{title "hELLO wORLD"}}', "Hello World-Foo HELLO WORLD"),
        ('{{pad "x" 2 3}}|', "  x   |"),
        ('{{truncate "abcdef" 3}}{{truncate "ab" 3}}', "abcab"),
        ('{{json "<&>"}}', '"<&>"'),
        ('{{join (split "a,b" ",") "+"}} {{lower "ÀB"}} {{upper "ab"}}', "a+b àb AB"),
        ('{{printf "%6.2f|%e|%g|%o|%X|%c|%U|%08.3f|%+d|%x" 3.14159 1234.5 0.000012 8 255 65 65 3.14159 5 "hi"}}',
         "  3.14|1.234500e+03|1.2e-05|10|FF|A|U+0041|0003.142|+5|6869"),
        ("{{printf \"%v\" 1e21}} {{1e6}} {{1.0}} {{0x10}} {{1_000}} {{'a'}} {{-3}} {{2.50}}",
         "1e+21 1e+06 1 16 1000 97 -3 2.5"),
        ('{{printf "%s" 3}} {{printf "%d" "x"}} {{printf "%d"}} {{printf "%d %d" 1}} {{printf "x" 1}}',
         "%!s(int=3) %!d(string=x) %!d(MISSING) 1 %!d(MISSING) x%!(EXTRA int=1)"),
        ('{{printf "%v|%g|%v|%v|%v|%.2g|%8.3e|%v" 1234567.0 1234567.0 100000000.0 0.0001 0.00001 1234.5 1234.5 1e20}}',
         "1.234567e+06|1.234567e+06|1e+08|0.0001|1e-05|1.2e+03|1.234e+03|1e+20"),
        ('{{printf "%5d|%-5d|%05d|%x|%q|%v|%s|%d" 42 42 -42 -255 97 "a" (split "a b" " ") (split "a b" " ")}}',
         "   42|42   |-0042|-ff|'a'|a|[a b]|[%!d(string=a) %!d(string=b)]"),
        ('{{printf "%5s|%.2s|%q|%t|%v|%T|%T|%T" "abc" "abcdef" "tab\\there\\x01é" false (split "a" ",") 1 "s" 1.5}}',
         '  abc|ab|"tab\\there\\x01é"|false|[a]|int|string|float64'),
        ('{{printf "%6.2f%%|%x|% d|%+.1f|%#x|%o|%b" 3.14159 "héllo" 5 2.25 255 9 5}}',
         "  3.14%|68c3a96c6c6f| 5|+2.2|0xff|11|101"),
    ],
)  # fmt: skip
def test_functions_match_podman(text: str, want: str) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{{range $i, $v := split "b,a,c" ","}}{{$i}}={{$v}};{{end}}', "0=b;1=a;2=c;"),
        ('{{range split "" ","}}[{{.}}]{{else}}empty{{end}}', "[]"),
        ("{{range .Empty}}x{{else}}empty{{end}}", "empty"),
        ('{{with .Client}}{{.Os}}{{end}}|{{with ""}}x{{else}}none{{end}}', "linux|none"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        ("{{$x := 1}}{{if true}}{{$x := 3}}{{end}}{{$x}}", "1"),
        ('{{define "a"}}A{{.}}{{end}}{{template "a" "z"}}{{block "b" 5}}B{{.}}{{end}}', "AzB5"),
        ("a {{- /* c */ -}} b {{- 1 }} {{2 -}} c", "ab1 2c"),
        ('{{if 0}}a{{else if ""}}b{{else if 3}}c{{else}}d{{end}}', "c"),
        ("{{`raw\\t`}} {{\"esc\\tx\\u00e9\"}}", "raw\\t esc\txé"),
        ('{{.Client.Version | len | printf "%03d"}}', "005"),
        ("{{$x := .Client}}{{$x.Os}} {{(.Client).Os}} {{$.Client.Os}}", "linux linux linux"),
        ('{{range split "a,b,c" ","}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', "a"),
        ('{{range split "a,b,c" ","}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', "ac"),
        ("{{eq .Client.Built 0}}", "true"),
        ("{{.Client | }}", "map[Built:0 Os:linux OsArch:linux/amd64 Version:4.3.1]"),
        ("{{range $k, $v := .M}}{{$k}}={{$v}},{{end}}", "a=1,b=2,"),
        ("{{.M}} {{.Nil}} {{.L}} {{.T}} {{.F}}", "map[a:1 b:2] <nil> [1 x true] true false"),
        ("{{.Missing}} {{.M.zz}} {{.M.zz.yy}}|{{if .M.zz}}y{{else}}n{{end}}", "<no value> <no value> <no value>|n"),
        ('{{index .M "a"}}|{{index .S "zz"}}|{{index .L 1}}', "1||x"),
        ("{{range .L}}{{.}};{{end}}", "1;x;true;"),
        ("{{/* only a comment */}}", ""),
        ("x\n{{- 1}}\n", "x1\n"),
    ],
)
def test_constructs(text: str, want: str) -> None:
    data = {**DATA, "Empty": [], "M": {"b": 2, "a": 1}, "S": {"a": "x"}, "Nil": None, "L": [1, "x", True],
            "T": True, "F": False}  # fmt: skip
    assert run(text, data) == want


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("{{$y}}", 'template: version:1: undefined variable "$y"'),
        ("{{end}}", "template: version:1: unexpected {{end}}"),
        ("{{if 1}}x", "template: version:1: unexpected EOF"),
        ("{{else}}", "template: version:1: unexpected {{else}}"),
        ("{{.Client", "template: version:1: unclosed action"),
        ('{{"abc}}', "template: version:1: unterminated quoted string"),
        ("{{(1}}", "template: version:1: unclosed left paren"),
        ("{{1 | 2}}", "template: version:1: non executable command in pipeline stage 2"),
        ("{{ .A }}{{/* x", "template: version:1: unclosed comment"),
        ("{{break}}", "template: version:1: {{break}} outside {{range}}"),
        ('{{.A"x"}}', "template: version:1: bad character U+0022 '\"'"),
        ("{{}}", "template: version:1: missing value for command"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "template: version:1: expected end; found {{else}}"),
        ("{{range $i, $v, $w := 1}}{{end}}", "template: version:1: too many declarations in range"),
        ("{{$x, $y := 1}}", "template: version:1: too many declarations in command"),
        ("{{template .X}}", 'template: version:1: unexpected ".X" in template clause'),
        ("{{1.X}}", 'template: version:1: bad number syntax: "1.X"'),
        ('{{"a".X}}', 'template: version:1: unexpected . after term "\\"a\\""'),
        ("{{with $x := 1}}{{$x}}{{end}}{{$x}}", 'template: version:1: undefined variable "$x"'),
        ("{{if 1}}a{{else with 2}}b{{end}}", "template: version:1: unexpected <with> in else"),
        ("{{.Repository}", "template: version:1: bad character U+007D '}'"),
        ("{{ } }}", "template: version:1: bad character U+007D '}'"),
        ("{{if}}{{end}}", "template: version:1: missing value for if"),
        ("{{nofunc .X}}", 'template: version:1: function "nofunc" not defined'),
        ("a\nb\n{{end}}", "template: version:3: unexpected {{end}}"),
        ("{{1)}}", 'template: version:1: unexpected ")" in command'),
    ],
)
def test_parse_errors(text: str, msg: str) -> None:
    with pytest.raises(TemplateError) as exc:
        compile_template(text, name="version")
    assert str(exc.value) == msg
    assert isinstance(exc.value, InvalidArgument)


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ('{{and 1 0 2}} {{or 0 "" "x"}} {{not 0}} {{and}}',
         'template: version:1:42: executing "version" at <and>: wrong number of args for and: want at least 1 got 0'),
        ('{{template "nope"}}',
         'template: version:1:11: executing "version" at <{{template "nope"}}>: template "nope" not defined'),
        ("{{range 5}}{{.}}{{end}}", 'template: version:1:8: executing "version" at <5>: range can\'t iterate over 5'),
        ("{{len 3}}", 'template: version:1:2: executing "version" at <len 3>: error calling len: len of type int'),
        ('{{slice "abc" 2 1}}',
         'template: version:1:2: executing "version" at <slice "abc" 2 1>: error calling slice: invalid slice index: 2 > 1'),
        ("{{printf}}",
         'template: version:1:2: executing "version" at <printf>: wrong number of args for printf: want at least 1 got 0'),
        ("{{nil}}", 'template: version:1:2: executing "version" at <nil>: nil is not a command'),
        ('{{eq 1 "a"}}',
         'template: version:1:2: executing "version" at <eq 1 "a">: error calling eq: incompatible types for comparison'),
        ('{{join "a" ","}}',
         'template: version:1:7: executing "version" at <"a">: wrong type for value; expected []string; got string'),
        ("{{.Client.Os.x}}",
         'template: version:1:9: executing "version" at <.Client.Os.x>: can\'t evaluate field x in type string'),
        ("x\n  {{.Client.Os.x}}",
         'template: version:2:11: executing "version" at <.Client.Os.x>: can\'t evaluate field x in type string'),
        ('{{define "d"}}{{len 1}}{{end}}{{template "d"}}',
         'template: version:1:16: executing "d" at <len 1>: error calling len: len of type int'),
    ],
)  # fmt: skip
def test_exec_errors(text: str, msg: str) -> None:
    tmpl = compile_template(text, name="version")
    with pytest.raises(TemplateError) as exc:
        tmpl.execute(DATA)
    assert str(exc.value) == msg


@dataclass
class Port:
    host: int
    container: int


@dataclass
class Row:
    ID: str
    Names: list[str]
    Ports: list[Port] = field(default_factory=list)
    created_at: str = "now"

    def Label(self, key: str) -> str:  # noqa: N802 - a Go-style method, like Docker's .Label
        return {"a": "b"}.get(key, "")


def test_dataclass_rows() -> None:
    row = Row("abc", ["n1", "n2"], [Port(8080, 80)])
    assert run("{{.ID}} {{join .Names \",\"}} {{.Ports}} {{(index .Ports 0).host}}", row) == "abc n1,n2 [{8080 80}] 8080"
    assert run('{{.CreatedAt}} {{.Label "a"}}|{{"a" | .Label}}', row) == "now b|b"
    assert run("{{json .}}", row) == '{"ID":"abc","Names":["n1","n2"],"Ports":[{"host":8080,"container":80}],"created_at":"now"}'
    with pytest.raises(TemplateError, match="can't evaluate field Nope in type Row"):
        run("{{.Nope}}", row)


def test_extra_string_functions() -> None:
    assert run('{{contains "abc" "b"}} {{replace "aaa" "a" "b" 2}} {{replace "aaa" "a" "c"}}') == "true bba ccc"
    assert run('{{trim "  x "}}|{{trimPrefix "sha256:ab" "sha256:"}}|{{trimSuffix "a.tar" ".tar"}}') == "x|ab|a"


def test_template_is_reusable_and_name_defaults() -> None:
    tmpl = compile_template("{{.A}}")
    assert [tmpl.execute({"A": i}) for i in range(3)] == ["0", "1", "2"]
    with pytest.raises(TemplateError, match=r'^template: template:1:4: executing "template" at <\.A\.B>'):
        tmpl_b = compile_template("{{.A.B}}")
        tmpl_b.execute({"A": 1})


def test_action_error_fallback() -> None:
    tmpl = compile_template('{{join .Names ","}}|{{.Tag | lower}}|{{"lit"}}')
    assert tmpl.execute({"Names": "NAMES", "Tag": "TAG"}, on_action_error=lambda n: n[0].upper()) == "NAMES|tag|lit"
