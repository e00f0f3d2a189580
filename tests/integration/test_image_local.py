"""Local image commands on pulled images: images, tag/untag, rmi, exists, prune, history, inspect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rig import images as im
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner

pytestmark = pytest.mark.integration

HEADER = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]


@pytest.fixture
def sp(sealpod: SealpodRunner, seeded_registry: RegistryServer, tmp_path: Path) -> SealpodRunner:
    """A runner (empty storage.conf) holding sealtest/tiny and sealtest/multilayer."""
    conf = tmp_path / "storage.conf"
    conf.write_text("")
    sealpod.env["SEALPOD_STORAGE_CONF"] = str(conf)
    for repo in ("sealtest/tiny", "sealtest/multilayer"):
        sealpod.run("pull", "-q", f"{seeded_registry.host}/{repo}")
    return sealpod


@pytest.fixture
def ids(seed_images: im.SeedSet) -> dict[str, str]:
    return {"tiny": seed_images.images["sealtest/tiny:latest"].config.digest.removeprefix("sha256:"),
            "multi": seed_images.images["sealtest/multilayer:latest"].config.digest.removeprefix("sha256:")}


def _cols(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def _names(sp: SealpodRunner, *args: str) -> list[str]:
    return sp.run("images", "--format", "{{.Repository}}:{{.Tag}}", *args).stdout.split()


# --- images ---------------------------------------------------------------------------------

def test_images_table(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str]) -> None:
    lines = sp.run("images").stdout.splitlines()
    assert _cols(lines[0]) == HEADER
    assert lines[0].index("TAG") == lines[1].index("latest")  # columns line up
    rows = {_cols(ln)[0]: _cols(ln) for ln in lines[1:]}
    tiny = rows[f"{seeded_registry.host}/sealtest/tiny"]
    assert tiny[1:3] == ["latest", ids["tiny"][:12]]
    assert tiny[3].endswith("ago") and tiny[4] == "2.04 MB"
    assert len(rows) == 2


def test_images_quiet_notrunc_digests(sp: SealpodRunner, ids: dict[str, str], seed_images: im.SeedSet) -> None:
    assert sorted(sp.run("images", "-q").stdout.split()) == sorted(i[:12] for i in ids.values())
    full = sp.run("images", "-q", "--no-trunc").stdout.split()
    assert sorted(full) == sorted(f"sha256:{i}" for i in ids.values())
    lines = sp.run("images", "--digests").stdout.splitlines()
    assert _cols(lines[0]) == ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
    digest = seed_images.images["sealtest/tiny:latest"].manifest_digest
    assert any(_cols(ln)[2] == digest for ln in lines[1:])


def test_images_formats(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str]) -> None:
    host = seeded_registry.host
    assert sorted(_names(sp)) == [f"{host}/sealtest/multilayer:latest", f"{host}/sealtest/tiny:latest"]
    table = sp.run("images", "--format", "table {{.ID}} {{.Tag}}").stdout.splitlines()
    assert _cols(table[0]) == ["IMAGE ID TAG"] or table[0].split() == ["IMAGE", "ID", "TAG"]
    assert len(table) == 3
    doc = json.loads(sp.run("images", "--format", "json").stdout)
    assert sorted(d["Id"] for d in doc) == sorted(ids.values())
    tiny = next(d for d in doc if d["Id"] == ids["tiny"])
    assert tiny["Names"] == [f"{host}/sealtest/tiny:latest"] and tiny["Labels"] == {"org.sealtest.image": "true"}


def test_images_format_json_dot(sp: SealpodRunner, ids: dict[str, str]) -> None:
    doc = json.loads(sp.run("images", "--format", "{{json .}}").stdout)
    assert sorted(d["Id"] for d in doc) == sorted(ids.values())


def test_images_filters(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    host = seeded_registry.host
    assert _names(sp, "--filter", "reference=*/sealtest/tiny") == [f"{host}/sealtest/tiny:latest"]
    assert _names(sp, "--filter", "label=org.sealtest.image=multilayer") == [f"{host}/sealtest/multilayer:latest"]
    assert sorted(_names(sp, "--filter", "label=org.sealtest.image")) == sorted(_names(sp))
    assert _names(sp, "--filter", "dangling=true") == []
    assert len(_names(sp, "--filter", "dangling=false")) == 2
    assert f"{host}/sealtest/multilayer:latest" not in _names(sp, "--filter", f"before={host}/sealtest/multilayer")
    assert f"{host}/sealtest/tiny:latest" not in _names(sp, "--filter", f"since={host}/sealtest/tiny")
    res = sp.run("images", "--filter", "bogus=1", check=False)
    assert res.returncode == 125 and res.stderr.strip() == 'Error: unsupported image filter "bogus"'


def test_images_sort(sp: SealpodRunner, seeded_registry: RegistryServer) -> None:
    sp.run("tag", f"{seeded_registry.host}/sealtest/tiny", "aaa:zzz")
    repos = sp.run("images", "--sort", "repository", "--format", "{{.Repository}}").stdout.split()
    assert repos == sorted(repos) and repos[0] == f"{seeded_registry.host}/sealtest/multilayer"
    sizes = sp.run("images", "--sort", "size", "--format", "{{.Repository}}").stdout.split()
    assert sizes[-1].endswith("sealtest/multilayer")
    res = sp.run("images", "--sort", "bogus", check=False)
    assert res.returncode == 125 and "Traceback" not in res.stderr


# --- tag, untag, rmi, exists ------------------------------------------------------------------

def test_tag_untag(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str]) -> None:
    tiny = f"{seeded_registry.host}/sealtest/tiny"
    sp.run("tag", tiny, "mytiny", "other:v1", f"{seeded_registry.host}/copy/tiny:x")
    names = _names(sp, "--filter", f"id={ids['tiny']}")
    assert sorted(names) == sorted([f"{tiny}:latest", "localhost/mytiny:latest", "localhost/other:v1",
                                    f"{seeded_registry.host}/copy/tiny:x"])
    assert sp.run("image", "exists", "mytiny").returncode == 0
    assert sp.run("image", "exists", "localhost/other:v1").returncode == 0
    sp.run("untag", tiny, "other:v1")
    assert "localhost/other:v1" not in _names(sp)
    sp.run("untag", ids["tiny"][:8])
    assert _names(sp, "--filter", f"id={ids['tiny']}") == ["<none>:<none>"]
    assert _names(sp, "--filter", "dangling=true") == ["<none>:<none>"]
    res = sp.run("tag", "nope", "x", check=False)
    assert res.returncode == 125 and res.stderr.strip() == "Error: nope: image not known"


def test_exists(sp: SealpodRunner, ids: dict[str, str]) -> None:
    for name in ("sealtest/tiny", ids["tiny"], ids["tiny"][:12], f"sha256:{ids['tiny']}", ids["multi"][:5]):
        assert sp.run("image", "exists", name, check=False).returncode == 0, name
    for name in ("sealtest/nope", "0" * 64, "localhost/tiny"):
        res = sp.run("image", "exists", name, check=False)
        assert (res.returncode, res.stdout, res.stderr) == (1, "", ""), name


def test_rmi_by_name_untags_then_deletes(sp: SealpodRunner, seeded_registry: RegistryServer,
                                        ids: dict[str, str]) -> None:
    tiny = f"{seeded_registry.host}/sealtest/tiny"
    sp.run("tag", tiny, "second")
    res = sp.run("rmi", "second")
    assert res.stdout.splitlines() == ["Untagged: localhost/second:latest"]
    res = sp.run("rmi", tiny)
    assert res.stdout.splitlines() == [f"Untagged: {tiny}:latest", f"Deleted: {ids['tiny']}"]
    assert sp.run("image", "exists", ids["tiny"], check=False).returncode == 1
    # the shared base layer stays: multilayer still uses it
    assert sp.run("image", "exists", ids["multi"], check=False).returncode == 0


def test_rmi_by_id(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str]) -> None:
    sp.run("tag", f"{seeded_registry.host}/sealtest/tiny", "second")
    res = sp.run("rmi", ids["tiny"][:12], check=False)
    assert res.returncode == 125
    assert res.stderr.startswith(f'Error: unable to delete image "{ids["tiny"]}" by ID with more than one tag')
    res = sp.run("rmi", "-f", f"sha256:{ids['tiny']}")
    assert f"Deleted: {ids['tiny']}" in res.stdout.splitlines()
    assert sp.run("rmi", ids["multi"]).stdout.splitlines()[-1] == f"Deleted: {ids['multi']}"
    assert sp.run("images", "-q").stdout == ""
    assert [p for p in (sp.root / "overlay").iterdir() if len(p.name) == 64] == []


def test_rmi_all_missing_ignore(sp: SealpodRunner) -> None:
    res = sp.run("rmi", "nope", check=False)
    assert (res.returncode, res.stderr.strip()) == (1, "Error: nope: image not known")
    res = sp.run("rmi", "-i", "nope")
    assert res.stdout == "" and res.stderr == ""
    res = sp.run("rmi", "-a", "sealtest/tiny", check=False)
    assert res.returncode == 125 and "--all" in res.stderr
    sp.run("rmi", "-a")
    assert sp.run("images", "-q").stdout == ""


def test_prune(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str]) -> None:
    assert sp.run("image", "prune", "-f").stdout == ""
    sp.run("untag", f"{seeded_registry.host}/sealtest/tiny")
    assert sp.run("image", "prune", "-f").stdout.split() == [ids["tiny"]]
    assert sp.run("images", "-q", "--no-trunc").stdout.split() == [f"sha256:{ids['multi']}"]
    assert sp.run("image", "prune", "-a", "-f").stdout.split() == [ids["multi"]]
    assert sp.run("images", "-q").stdout == ""


# --- history, inspect -------------------------------------------------------------------------

def test_history(sp: SealpodRunner, ids: dict[str, str], seed_images: im.SeedSet) -> None:
    lines = sp.run("history", "sealtest/multilayer").stdout.splitlines()
    assert _cols(lines[0]) == ["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    history = seed_images.images["sealtest/multilayer:latest"].config_json["history"]
    assert len(lines) == 1 + len(history)
    assert _cols(lines[1])[0] == ids["multi"][:12] and _cols(lines[2])[0] == "<missing>"
    assert _cols(lines[1])[2] == "LABEL org.sealtest.image=multilayer"
    assert sp.run("history", "-q", "sealtest/multilayer").stdout.split()[0] == ids["multi"][:12]
    assert sp.run("history", "-q", "--no-trunc", "sealtest/multilayer").stdout.split()[0] == ids["multi"]
    doc = json.loads(sp.run("history", "--format", "json", "sealtest/multilayer").stdout)
    assert [d["CreatedBy"] for d in doc] == [h["created_by"] for h in reversed(history)]
    assert doc[0]["id"] == ids["multi"] and doc[-1]["size"] > 2_000_000
    res = sp.run("history", "nope", check=False)
    assert res.returncode == 125 and res.stderr.strip() == "Error: nope: image not known"


def test_inspect(sp: SealpodRunner, seeded_registry: RegistryServer, ids: dict[str, str],
                 seed_images: im.SeedSet) -> None:
    for cmd in (("image", "inspect"), ("inspect",)):
        assert sp.run(*cmd, "--format", "{{.Id}}", "sealtest/tiny").stdout.strip() == ids["tiny"]
    doc = json.loads(sp.run("image", "inspect", ids["multi"][:6], "sealtest/tiny").stdout)
    assert [d["Id"] for d in doc] == [ids["multi"], ids["tiny"]]
    multi = doc[0]
    image = seed_images.images["sealtest/multilayer:latest"]
    assert multi["RootFS"]["Layers"] == image.diff_ids
    assert multi["Digest"] == image.manifest_digest
    assert multi["RepoTags"] == [f"{seeded_registry.host}/sealtest/multilayer:latest"]
    assert multi["Config"]["Env"] == image.config_json["config"]["Env"]
    assert multi["Labels"] == {"org.sealtest.image": "multilayer"}
    res = sp.run("image", "inspect", "nope", check=False)
    assert (res.returncode, res.stdout.strip()) == (125, "[]")
    assert res.stderr.strip() == "Error: inspecting object: nope: image not known"
    res = sp.run("inspect", "nope", check=False)
    assert res.returncode == 125 and res.stderr.strip() == 'Error: inspecting object: no such object: "nope"'
