"""``sealpod build`` against what Podman's system tests (070-build.bats) and Podman 4.3.1 itself
show: the layer cache (``--> Using cache``), intermediate images, and the cases' errors."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("confbuild"), seeded_registry.host) as runner:
        yield runner


def _ctx(base: Path, name: str, containerfile: str, **files: str) -> Path:
    ctx = base / name
    ctx.mkdir()
    (ctx / "Containerfile").write_text(containerfile)
    for fname, text in files.items():
        (ctx / fname).write_text(text)
    return ctx


def _ids(bld: SealpodRunner, *flags: str) -> set[str]:
    return {i.removeprefix("sha256:") for i in bld.run("images", "-q", "--no-trunc", *flags).stdout.split()}


def _cache_hits(output: str) -> list[str]:
    return re.findall(r"^--> Using cache ([0-9a-f]{64})$", output, re.M)


def test_build_layer_cache_like_podman(bld: SealpodRunner, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "cache", "FROM sealtest/tiny\nRUN echo hi > /x\nENV A=1\nCOPY f /f\nRUN touch /y\n",
               f="data\n")
    first = bld.run("build", "-t", "cached1", str(ctx)).stdout
    assert _cache_hits(first) == []
    second = bld.run("build", "-t", "cached2", str(ctx)).stdout
    hits = _cache_hits(second)
    assert len(hits) == 3  # RUN, COPY, RUN; ENV changes only the config the next commit writes
    assert second.splitlines()[-1] == first.splitlines()[-1] == hits[-1]  # the same image, tagged again
    assert "Successfully tagged localhost/cached2:latest" in second
    # intermediate images stay for the cache, hidden from `images` without -a
    plain, every = _ids(bld), _ids(bld, "-a")
    assert all(h not in plain for h in hits[:-1]) and all(h in every for h in hits)
    assert bld.run("images", "--format", "{{.ID}}", "--filter", "dangling=true").stdout == ""
    # --no-cache builds anew; a changed COPY source invalidates that step and what follows
    assert _cache_hits(bld.run("build", "--no-cache", "-t", "cached3", str(ctx)).stdout) == []
    (ctx / "f").write_text("changed\n")
    changed = bld.run("build", "-t", "cached4", str(ctx)).stdout
    assert len(_cache_hits(changed)) == 1  # the first RUN only
    assert bld.run("run", "--rm", "cached4", "cat", "/f").stdout == "changed\n"
    # --layers=false: no cache, no intermediate images left
    before = _ids(bld, "-a")
    out = bld.run("build", "--layers=false", "-t", "nolayers", str(ctx)).stdout
    assert _cache_hits(out) == []
    assert _ids(bld, "-a") - before == {out.splitlines()[-1]}


def test_build_cache_3920_changed_tarball_is_not_cached(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - cache (#3920)": ADD of an xz tarball whose content changed."""
    ctx = _ctx(tmp_path, "c3920", "FROM sealtest/tiny\nADD myfile.tar.xz /\n")

    def tarball(files: dict[str, bytes]) -> None:
        with tarfile.open(ctx / "myfile.tar.xz", "w:xz") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    tarball({"subtest/myfile1": b"This is the ORIGINAL file\n"})
    out = bld.run("build", "-t", "build_test", str(ctx)).stdout
    assert "COMMIT" in out and "Using cache" not in out
    assert bld.run("run", "--rm", "build_test", "cat", "/subtest/myfile1").stdout == "This is the ORIGINAL file\n"
    tarball({"subtest/myfile1": b"This is the ORIGINAL file\n", "subtest/myfile2": b"This is a NEW file\n"})
    out = bld.run("build", "-t", "build_test", str(ctx)).stdout
    assert "COMMIT" in out and "Using cache" not in out
    assert bld.run("run", "--rm", "build_test", "cat", "/subtest/myfile2").stdout == "This is a NEW file\n"


def test_image_prune_removes_intermediate_images(bld: SealpodRunner, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "prune", "FROM sealtest/tiny\nRUN echo one > /one\nRUN echo two > /two\n"
               "LABEL prunetest=yes\n")
    bld.run("image", "prune", "-f")  # what other tests left dangling
    image_id = bld.run("build", "-q", "-t", "prunable", str(ctx)).stdout.strip()
    all_before = _ids(bld, "-a")
    bld.run("image", "prune", "-f")  # intermediates with a tagged child are not dangling
    assert _ids(bld, "-a") == all_before
    bld.run("untag", "prunable")
    removed = bld.run("image", "prune", "-f").stdout.split()
    assert image_id in removed and len(removed) == 3  # the image, then its two intermediates
    assert _ids(bld, "-a") == all_before - set(removed)


def test_build_urls_copy_is_an_error(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - URLs" (the COPY half: ADD needs the internet)."""
    ctx = _ctx(tmp_path, "urls", "FROM sealtest/tiny\nCOPY https://example.com/README.md /tmp/\n")
    res = bld.run("build", "-t", "copy_url", str(ctx), check=False)
    assert res.returncode == 125
    assert re.search(r"building at STEP .*: source can't be a URL for COPY", res.stderr), res.stderr


def test_build_workdir_cmd_env_label_build_args(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - workdir, cmd, env, label": build args explicit and from the
    environment, a WORKDIR that does not exist, ENV, LABEL and CMD in the image config."""
    ctx = _ctx(tmp_path, "wcel", "FROM sealtest/tiny\nARG arg_explicit\nARG arg_implicit\nLABEL lbl=val\n"
               "WORKDIR /nosuchdir\nENV MYENV1=one\nENV MYENV2 two words\n"
               "RUN echo explicit-build-arg=$arg_explicit\nRUN echo implicit-build-arg=$arg_implicit\n"
               'CMD ["/bin/sh","-c","pwd; echo $MYENV2"]\n')
    bld.env["arg_explicit"] = "OVERRIDDEN BY THE COMMAND LINE"
    bld.env["arg_implicit"] = "implicit_value"
    try:
        out = bld.run("build", "--build-arg", "arg_explicit=explicit_value", "--build-arg", "arg_implicit",
                      "-t", "wcel", "-f", str(ctx / "Containerfile"), str(ctx)).stdout
    finally:
        del bld.env["arg_explicit"], bld.env["arg_implicit"]
    assert "explicit-build-arg=explicit_value\n" in out and "implicit-build-arg=implicit_value\n" in out
    assert bld.run("run", "--rm", "wcel").stdout == "/nosuchdir\ntwo words\n"
    assert bld.run("run", "--rm", "wcel", "pwd").stdout == "/nosuchdir\n"
    fmt = "{{.Config.WorkingDir}}|{{index .Config.Labels \"lbl\"}}|{{index .Config.Env 1}}|{{index .Config.Cmd 0}}"
    assert bld.run("image", "inspect", "--format", fmt, "wcel").stdout == "/nosuchdir|val|MYENV1=one|/bin/sh\n"
