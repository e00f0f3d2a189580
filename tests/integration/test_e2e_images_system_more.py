"""Podman 4.3.1's e2e tests of image and system commands (test/e2e/{tag,untag,history,tree,info,wait,
system_df,system_reset,prune}_test.go) as sealpod must pass them, and the details they showed when run
beside the real Podman: words of errors, JSON shapes, template printing and counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-imgsys"), seeded_registry.host) as runner:
        yield runner


def _out(sp: SealpodRunner, *args: str) -> str:
    return sp.run(*args).stdout.strip()


def _fails(sp: SealpodRunner, *args: str, code: int = 125) -> str:
    res = sp.run(*args, check=False)
    assert res.returncode == code, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    return res.stderr.strip()


def _child(sp: SealpodRunner, base: str, name: str) -> str:
    """An image one layer above ``base`` (a committed container), its container gone again."""
    sp.run("run", "--name", f"mk-{name}", base, "touch", f"/{name}")
    image_id = _out(sp, "commit", "-q", f"mk-{name}", name)
    sp.run("rm", f"mk-{name}")
    return image_id


# --- tag_test.go / untag_test.go ------------------------------------------------------------------

def test_untag_normalizes_short_names_to_localhost(sp: SealpodRunner) -> None:
    """e2e untag_test.go: podman tag/untag - tag normalization (a short name is localhost/NAME:latest,
    never some other registry's repository of that name; errors name the normalized reference)"""
    full = _out(sp, "image", "inspect", "--format", "{{index .RepoTags 0}}", IMAGE)
    sp.run("tag", IMAGE, "image")
    assert _fails(sp, "untag", IMAGE, "tiny") == "Error: localhost/tiny:latest: tag not known"
    assert full in _out(sp, "image", "inspect", "--format", "{{.RepoTags}}", IMAGE)
    assert _fails(sp, "untag", IMAGE, "reg.io/nosuch") == "Error: reg.io/nosuch:latest: tag not known"
    assert _fails(sp, "untag", IMAGE, "nosuch:tag") == "Error: localhost/nosuch:tag: tag not known"
    sp.run("untag", IMAGE, "image")
    assert sp.run("image", "exists", "localhost/image:latest", check=False).returncode == 1


def test_tag_and_untag_bad_names_in_podmans_words(sp: SealpodRunner) -> None:
    """e2e tag_test.go: podman tag shortname (bad names and missing operands, as Podman words them)"""
    assert _fails(sp, "tag", IMAGE, "Bad:Tag:x") == \
        'Error: normalizing name "Bad:Tag:x": normalizing name "Bad:Tag:x": invalid reference format'
    assert _fails(sp, "untag", IMAGE, "UPPER") == \
        'Error: normalizing name "UPPER": normalizing name "UPPER": repository name must be lowercase'
    digest = "sha256:" + "a" * 64
    assert _fails(sp, "tag", IMAGE, f"x@{digest}") == f"Error: x@{digest}: tag by digest not supported"
    assert _fails(sp, "tag") == "Error: requires at least 2 arg(s), only received 0"
    assert _fails(sp, "tag", IMAGE) == "Error: requires at least 2 arg(s), only received 1"
    assert _fails(sp, "untag") == "Error: requires at least 1 arg(s), only received 0"
    assert _fails(sp, "image", "tree") == "Error: accepts 1 arg(s), received 0"
    assert _fails(sp, "push") == "Error: accepts between 1 and 2 arg(s), received 0"


# --- history_test.go -------------------------------------------------------------------------------

def test_history_json_is_podmans_layer_report(sp: SealpodRunner) -> None:
    """e2e history_test.go: podman history with json flag (one compact line; created to the
    nanosecond, Created in seconds; empty comment left out; no tags)"""
    out = sp.run("history", "--format=json", IMAGE).stdout
    assert out.count("\n") == 1 and out.startswith('[{"id":')
    entries = json.loads(out)
    config = json.loads(_out(sp, "image", "inspect", "--format", "{{json .History}}", IMAGE))
    for entry, item in zip(entries, reversed(config), strict=True):
        assert list(entry)[:2] == ["id", "created"] and list(entry)[-1] == "Created"
        assert "tags" not in entry and ("comment" in entry) == bool(item.get("comment"))
        assert entry["Created"] == re.sub(r"\.\d+", "", entry["created"])
        assert entry["created"][:19] == item["created"][:19]
    assert sp.run("history", "--format", "{{json .}}", IMAGE).stdout == out
    assert set(_out(sp, "history", "--format", "{{.Tags}}", IMAGE).splitlines()) == {"[]"}
    ids = _out(sp, "history", "--no-trunc", "--format", "{{.ID}}", IMAGE).splitlines()
    assert len(ids[0]) == 64
    assert _fails(sp, "history") == "Error: accepts 1 arg(s), received 0"


# --- tree_test.go ----------------------------------------------------------------------------------

def test_image_tree_whatrequires_goes_linear_for_only_children(sp: SealpodRunner) -> None:
    """e2e tree_test.go: podman image tree (--whatrequires: a layer that is its parent's only child
    continues the line; layers with siblings open branches, as libimage draws them)"""
    base = _child(sp, IMAGE, "treebase")
    _child(sp, "treebase", "treemid")
    _child(sp, "treemid", "treetop")
    lines = _out(sp, "image", "tree", "--whatrequires", "treebase").splitlines()
    assert lines[0] == f"Image ID: {base[:12]}" and lines[3] == "Image Layers"
    assert [line[:4] for line in lines[4:]] == ["├── ", "├── ", "└── "]
    assert "localhost/treetop:latest" in lines[-1]
    _child(sp, "treebase", "treeside")  # treemid now has a sibling: it branches, treetop under it
    lines = _out(sp, "image", "tree", "--whatrequires", "treebase").splitlines()[4:]
    assert [line[:8] for line in lines] == ["├── ID: ", "├── ID: ", "│   └── ", "└── ID: "]
    assert "treemid" in lines[1] and "treetop" in lines[2] and "treeside" in lines[3]
    lines = _out(sp, "image", "tree", "--whatrequires", "treemid").splitlines()[4:]
    assert [line[:8] for line in lines] == ["└── ID: ", "    └── "]
    sp.run("rmi", "treetop", "treeside", "treemid", "treebase")


# --- info_test.go ----------------------------------------------------------------------------------

def test_info_format_json_forms(sp: SealpodRunner) -> None:
    """e2e info_test.go: podman info --format json"""
    for form in ("json", " json", "json ", "  json   ", "{{json .}}", "{{ json .}}", "{{json .   }}",
                 "  {{  json .    }}   ", "{{json }}"):
        json.loads(sp.run("info", "--format", form).stdout)
    assert _fails(sp, "info", "--format", "{{json .") == 'Error: template: info:1: illegal number syntax: "."'
    assert sp.run("info", "--format", "json . }}").stdout == "json . }}\n"


def test_info_json_in_podmans_field_order(sp: SealpodRunner) -> None:
    """e2e info_test.go: podman info --format GO template (the JSON beneath: Podman's struct order,
    registries by prefix, an absent remote socket's `exists` left out, CPU utilization)"""
    doc = json.loads(sp.run("info", "--format", "json").stdout)
    assert list(doc) == ["host", "store", "registries", "plugins", "version"]
    host = list(doc["host"])
    assert host[:6] == ["arch", "buildahVersion", "cgroupManager", "cgroupVersion", "cgroupControllers", "conmon"]
    assert host[-1] == "linkmode" and host.index("remoteSocket") < host.index("serviceIsRemote")
    assert "exists" not in doc["host"]["remoteSocket"]
    assert list(doc["host"]["cpuUtilization"]) == ["userPercent", "systemPercent", "idlePercent"]
    assert list(doc["plugins"]) == ["volume", "network", "log", "authorization"]
    registry = next(v for k, v in doc["registries"].items() if k != "search")
    assert list(registry) == ["Prefix", "Location", "Insecure", "PullFromMirror", "Mirrors", "Blocked",
                              "MirrorByDigestOnly"]
    assert registry["Insecure"] is True and registry["Mirrors"] is None


def test_info_templates_print_structs_as_go_does(sp: SealpodRunner) -> None:
    """e2e info_test.go: podman info --format GO template plugins (and registries, the remote socket:
    Go structs print as {v1 v2}, and a field a struct lacks is Go's error)"""
    assert _out(sp, "info", "--format", "{{.Plugins}}") == \
        "{[local] [bridge macvlan] [k8s-file none passthrough journald] []}"
    socket = _out(sp, "info", "--format", "{{.Host.RemoteSocket.Path}}")
    assert _out(sp, "info", "--format", "{{.Host.RemoteSocket}}") == f"{{{socket} false}}"
    assert _out(sp, "info", "--format", "{{json .Host.RemoteSocket}}") == f'{{"path":"{socket}"}}'
    assert _out(sp, "info", "--format", "{{.Host.ServiceIsRemote}}") == "false"
    assert _out(sp, "info", "--format", "{{.Host.IDMappings}}") == "{[] []}"
    registries = _out(sp, "info", "--format", "{{.Registries}}")
    assert re.fullmatch(r"map\[(\S+):\{\1 \{\1 true \} \[\] false false\} search:\[\S+\]\]", registries)
    host = next(iter(json.loads(sp.run("info", "--format", "json").stdout)["registries"]))
    assert _out(sp, "info", "--format", f'{{{{(index .Registries "{host}").Location}}}}') == host
    assert _fails(sp, "info", "--format", "{{.Host.Nope}}") == \
        'Error: template: info:1:7: executing "info" at <.Host.Nope>: can\'t evaluate field Nope in type ' \
        "*define.HostInfo"
    assert _fails(sp, "info", "--format", "{{.Plugins.X}}").startswith(
        'Error: template: info:1:10: executing "info" at <.Plugins.X>: can\'t evaluate field X in type define.Plugins')


def test_info_yaml_sorted_as_podmans(sp: SealpodRunner) -> None:
    """e2e info_test.go: check RemoteSocket (the YAML report: every map sorted, Podman's uptime
    words, an empty line at the end)"""
    out = sp.run("info").stdout
    assert out.endswith("\n\n")
    top = [line.rstrip(":") for line in out.splitlines() if line and not line.startswith(" ")]
    assert top == ["host", "plugins", "registries", "store", "version"]
    plugins = out.split("plugins:\n", 1)[1].split("registries:", 1)[0]
    assert [line.strip().rstrip(":") for line in plugins.splitlines() if not line.strip().startswith("-")] == \
        ["authorization: null", "log", "network", "volume"]
    uptime = re.search(r"\n  uptime: (.*)\n", out)
    assert uptime and re.fullmatch(r"\d+h \d+m \d+\.00s( \(Approximately \d+\.\d\d days\))?", uptime.group(1))


# --- wait_test.go ----------------------------------------------------------------------------------

def test_wait_flags_in_podmans_words(sp: SealpodRunner) -> None:
    """e2e wait_test.go: podman container wait on container with bogus --interval"""
    cid = _out(sp, "run", "-d", IMAGE, "true")
    assert _out(sp, "container", "wait", "-i", "5000", cid) == "0"
    assert _out(sp, "container", "wait", "--interval", "1s", cid) == "0"
    assert _fails(sp, "container", "wait", "--interval", "100days", cid) == \
        'Error: time: unknown unit "days" in duration "100days"'
    assert _fails(sp, "wait", "-i", "1.5", cid) == 'Error: time: missing unit in duration "1.5"'
    assert _fails(sp, "wait") == 'Error: "podman wait" requires a name, id, or the "--latest" flag'
    assert _fails(sp, "wait", "--condition", "bogus", cid) == "Error: unknown container state: bogus: invalid argument"
    assert _fails(sp, "wait", "1234") == 'Error: no container with name or ID "1234" found: no such container'
    sp.run("rm", cid)


# --- system_df_test.go -----------------------------------------------------------------------------

def test_system_df_counts_an_image_once_per_name(sp: SealpodRunner) -> None:
    """e2e system_df_test.go: podman system df (images counted per name, as `images` lists them;
    `{{ json . }}` is a template run on each summary row, raw sizes)"""
    sp.run("tag", IMAGE, "dfcount:one", "dfcount:two")
    rows = _out(sp, "images", "-a", "--format", "{{.ID}}").splitlines()
    summary = _out(sp, "system", "df").splitlines()
    assert summary[1].split()[:3] == ["Images", str(len(rows)), "0"]
    cid = _out(sp, "create", "dfcount:one")
    assert _out(sp, "system", "df").splitlines()[1].split()[2] == str(len(rows))  # every name of the image is used
    lines = [json.loads(line) for line in _out(sp, "system", "df", "--format", "{{ json . }}").splitlines()]
    assert [list(doc) for doc in lines] == [["Type", "Total", "Active", "Size", "Reclaimable"]] * 3
    assert lines[0]["Type"] == "Images" and lines[0]["Total"] == len(rows) and isinstance(lines[0]["Size"], int)
    sp.run("rm", cid)
    sp.run("untag", IMAGE, "dfcount:one", "dfcount:two")


def test_system_df_verbose_shared_and_unique(sp: SealpodRunner) -> None:
    """e2e system_df_test.go: podman system df image with no tag (and -v's shared and unique sizes:
    an image others are built on shares all of it, a child shares its parent's size)"""
    child = _child(sp, IMAGE, "dfchild")
    verbose = sp.run("system", "df", "-v").stdout.split("\n\n")[1].splitlines()
    cells = {line.split()[2]: re.split(r"\s{2,}", line) for line in verbose[1:]}
    base_id = _out(sp, "image", "inspect", "--format", "{{.ID}}", IMAGE)[:12]
    base, mine = cells[base_id], cells[child[:12]]
    assert base[5] == base[4] and base[6] == "0B"
    assert mine[5] == base[4] and mine[6] != "0B"
    cid = _out(sp, "create", "dfchild")
    sp.run("untag", "dfchild")
    assert sp.run("system", "df").returncode == 0
    sp.run("rm", cid)
    sp.run("rmi", child)


# --- prune_test.go ---------------------------------------------------------------------------------

def test_system_prune_filters_reach_networks_and_images(sp: SealpodRunner) -> None:
    """e2e prune_test.go: podman system prune networks (label!= keeps the labelled network; images
    take label!= too; a filter no prune knows stops everything before anything goes)"""
    sp.run("network", "create", "prunekeep", "--label", "foo")
    sp.run("network", "create", "prunego")
    assert _fails(sp, "system", "prune", "-f", "--filter", "bogus=1") == "Error: bogus is an invalid filter"
    assert _out(sp, "network", "ls", "-q", "--filter", "name=^prune").split() == ["prunego", "prunekeep"]
    out = _out(sp, "system", "prune", "-f", "--filter", "label!=foo")
    assert "prunego" in out and out.endswith("Total reclaimed space: 0B")
    assert _out(sp, "network", "ls", "-q", "--filter", "name=^prune") == "prunekeep"
    assert _out(sp, "image", "prune", "-f", "--filter", "label!=foo") == ""
    assert _out(sp, "images", "-q", "--filter", "label!=org.sealtest.nosuch")
    sp.run("network", "rm", "prunekeep")


def test_image_prune_removes_dangling_only(sp: SealpodRunner) -> None:
    """e2e prune_test.go: podman image prune - remove only dangling images"""
    assert _out(sp, "image", "prune", "-f") == ""
    child = _child(sp, IMAGE, "danglingchild")
    sp.run("untag", "danglingchild")
    assert "<none>" in _out(sp, "images", "-a")
    assert _out(sp, "image", "prune", "-f") == child
    assert "<none>" not in _out(sp, "images", "-a")


# --- system_reset_test.go --------------------------------------------------------------------------

def test_system_reset_prompt_and_reset(sealpod: SealpodRunner, tmp_path: Path) -> None:
    """e2e system_reset_test.go: podman system reset (the prompt names what goes, the store's two
    directories included; declining keeps everything)"""
    sealpod.run("volume", "create", "data")
    declined = sealpod.run("system", "reset", input="n\n")
    assert declined.stdout == (
        "WARNING! This will remove:\n        - all containers\n        - all pods\n        - all images\n"
        "        - all networks\n        - all build cache\n        - all machines\n        - all volumes\n"
        f'        - the graphRoot directory: "{sealpod.root}"\n'
        f'        - the runRoot directory: "{sealpod.runroot}"\n'
        "Are you sure you want to continue? [y/N] ")
    assert _out(sealpod, "volume", "ls", "-q") == "data"
    sealpod.run("system", "reset", "-f")
    assert _out(sealpod, "volume", "ls", "-q") == ""
    assert _out(sealpod, "network", "ls", "-q") == "podman"


def test_libpod_info_answers_in_podmans_field_order(api: ApiService) -> None:
    """e2e info_test.go: check RemoteSocket (through the Libpod API, as podman-remote reads it: the
    same struct order and registries as the CLI's JSON)"""
    status, body = api.request("GET", "/v4.3.1/libpod/info")
    assert status == 200
    doc = json.loads(body)
    assert list(doc) == ["host", "store", "registries", "plugins", "version"]
    assert list(doc["host"])[:3] == ["arch", "buildahVersion", "cgroupManager"]
    assert "search" in doc["registries"] and len(doc["registries"]) >= 2
