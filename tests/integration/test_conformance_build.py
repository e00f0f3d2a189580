"""``sealpod build`` against what Podman's system tests (070-build.bats) and Podman 4.3.1 itself
show: the layer cache (``--> Using cache``), intermediate images, and the cases' errors."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("confbuild"), seeded_registry.host) as runner:
        yield runner


_ctx = build_context


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
    assert len(hits) == 4  # RUN, ENV, COPY, RUN: an image per instruction, as Podman's --layers
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
    assert len(_cache_hits(changed)) == 2  # the first RUN and the ENV only
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


# --- the second half of 070-build.bats --------------------------------------------------------


def _files(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name + "\n")


def test_build_copy_with_ignore(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - COPY with ignore": --ignorefile, then .dockerignore; an
    excluded directory is entered only for a ``!`` pattern that begins with its path (Buildah 3486)."""
    keep = ["test2", "test2.txt", "subdir1/sub1", "subdir1/sub1.txt", "subdir1/sub3", "subdir1/sub3.txt",
            "this-file-does-not-match-anything-in-ignore-file", "comment"]
    drop = ["test1", "test1.txt", "subdir1/sub2", "subdir1/sub2.txt", "subdir2/sub1", "subdir2/sub1.txt",
            "subdir2/sub2", "subdir2/sub2.txt", "subdir2/sub3", "subdir2/sub3.txt"]
    ctx = _ctx(tmp_path, "ign", "FROM sealtest/tiny\nCOPY ./ /newdir/\n")
    _files(ctx, *keep, *drop)
    rules = "# comment\ntest*\n!test2*\nsubdir1\nsubdir2\n!*/sub1*\n!subdir1/sub3*\n"
    for ignorefile in ("ignoreme-x", ".dockerignore"):
        (ctx / ignorefile).write_text(rules)
        flags = ["--ignorefile", str(ctx / ignorefile)] if ignorefile != ".dockerignore" else []
        bld.run("build", "-q", "-t", "ign_test", *flags, str(ctx))
        (ctx / ignorefile).unlink()
        found = set(bld.run("run", "--rm", "ign_test", "find", "/newdir", "-type", "f").stdout.split())
        assert found == {f"/newdir/{f}" for f in [*keep, "Containerfile", ignorefile]}, ignorefile  # as Podman


def test_build_with_ignore_star(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build with ignore '*'" (#9867): the Containerfile is found anyway."""
    ctx = _ctx(tmp_path, "star", "FROM scratch\n", **{".dockerignore": "*\n"})
    bld.run("build", "-t", "build_test", str(ctx))
    (ctx / "Containerfile").rename(ctx / "Dockerfile")
    bld.run("build", "-t", "build_test", str(ctx))
    (ctx / "Dockerfile").rename(ctx / "foofile")
    res = bld.run("build", "-t", "build_test", str(ctx), check=False)
    assert (res.returncode, res.stderr) == (125, f"Error: stat {ctx}/Dockerfile: no such file or directory\n")
    bld.run("build", "-t", "build_test", "-f", str(ctx / "foofile"), str(ctx))


def test_build_stdin_containerfile_or_tar(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - stdin test": ``build -`` reads a Containerfile (empty
    context) or, as Podman also does, a tar context, compressed or not."""
    out = bld.run("build", "-t", "stdin_test", "-", input="FROM  sealtest/tiny\nRUN mkdir /wd\nWORKDIR /wd\n"
                  "RUN /bin/echo random-echo\n").stdout
    assert "COMMIT stdin_test" in out and "STEP 4/4: RUN /bin/echo random-echo\nrandom-echo\n" in out
    assert bld.run("run", "--rm", "stdin_test", "pwd").stdout == "/wd\n"
    res = bld.run("build", "-", input="FROM sealtest/tiny\nCOPY f /f\n", check=False)
    assert res.returncode == 125 and 'copier: stat: "/f": no such file or directory' in res.stderr
    tar_path = tmp_path / "ctx.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        for name, data in (("Containerfile", b"FROM sealtest/tiny\nCOPY f /f\n"), ("f", b"from the tar\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    import subprocess

    with open(tar_path, "rb") as f:
        proc = subprocess.run(bld.argv("build", "-q", "-t", "stdin_tar", "-"), stdin=f, env=bld.env,
                              capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert bld.run("run", "--rm", "stdin_tar", "cat", "/f").stdout == "from the tar\n"


def test_build_does_not_gobble_stdin(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - does not gobble stdin that does not belong to it" (#8092),
    and the whole output, line by line."""
    import shlex
    import subprocess

    ctx = _ctx(tmp_path, "gobble", "FROM sealtest/tiny\nRUN echo xrandom2y\n")
    script = f"echo random3 | (echo random1; {shlex.join(bld.argv('build', '-t', 'gobble', str(ctx)))}; " \
             "sed -e 's/^/a/' -e 's/$/z/')"
    out = subprocess.run(["sh", "-c", script], env=bld.env, capture_output=True, text=True, timeout=120).stdout
    assert re.fullmatch(r"random1\nSTEP 1/2: FROM sealtest/tiny\nSTEP 2/2: RUN echo xrandom2y\nxrandom2y\n"
                        r"COMMIT gobble\n--> [0-9a-f]{11}\nSuccessfully tagged localhost/gobble:latest\n"
                        r"[0-9a-f]{64}\narandom3z\n", out), out


def test_build_layers_flag_and_buildah_layers(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build --layers test": --layers takes Go booleans (1), and
    BUILDAH_LAYERS is the default the flag overrides."""
    ctx = _ctx(tmp_path, "layers", "FROM sealtest/tiny\nRUN echo layers-test-content\n")

    def build(*flags: str, env: str | None = None) -> str:
        if env is not None:
            bld.env["BUILDAH_LAYERS"] = env
        try:
            return bld.run("build", "-t", "layers_test", *flags, str(ctx)).stdout
        finally:
            bld.env.pop("BUILDAH_LAYERS", None)

    assert "Using cache" not in build()
    assert "Using cache" in build() and "Using cache" in build("--layers=true")
    assert "Using cache" not in build("--layers=false")
    assert "Using cache" not in build(env="false")
    assert "Using cache" in build("--layers=1", env="false")
    assert "Using cache" not in build("--layers=false", env="1")


def test_build_copy_from_referencing_the_base_image(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "build with copy-from referencing the base image" (--jobs accepted)."""
    ctx = _ctx(tmp_path, "copyfrom", "FROM sealtest/tiny AS build\nRUN rm -f /etc/group\nUSER 1001\n"
               "COPY --from=sealtest/tiny /etc/group /test/\n")
    bld.run("build", "--jobs", "1", "-t", "derived", str(ctx))
    bld.run("build", "--no-cache", "--jobs", "4", "-t", "derived-mt", str(ctx))
    for image in ("derived", "derived-mt"):
        out = bld.run("run", "--rm", "--user", "0", image, "sh", "-c", "stat -c %u:%g /test/group; ls /etc/group",
                      check=False)
        assert out.stdout.startswith("0:0\n") and "No such file" in out.stderr


def test_build_pull_never_and_bogus_authfile(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build --pull-never" and "podman build --authfile bogus test"."""
    ctx = _ctx(tmp_path, "pullnever", "FROM sealtest/tiny\nRUN echo pull-never-ok\n")
    assert "pull-never-ok" in bld.run("build", "-t", "pn", "--pull-never", str(ctx)).stdout
    (ctx / "Containerfile").write_text("FROM quay.io/libpod/nosuchimage:nosuchtag\nRUN echo x\n")
    res = bld.run("build", "-t", "pn", "--pull-never", str(ctx), check=False)
    assert res.returncode == 125
    assert res.stderr == "Error: creating build container: quay.io/libpod/nosuchimage:nosuchtag: image not known\n"
    res = bld.run("build", "--authfile=/tmp/bogus", "-", input="from scratch\n", check=False)
    assert res.returncode == 125
    assert res.stderr == "Error: checking authfile: stat /tmp/bogus: no such file or directory\n"


def test_build_logfile(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build --logfile test": everything, errors too, goes to the file."""
    ctx = _ctx(tmp_path, "logfile", "FROM sealtest/tiny\n")
    log = tmp_path / "build.log"
    res = bld.run("build", "-t", "logged", "--format=docker", f"--logfile={log}", str(ctx))
    assert res.stdout == res.stderr == "" and "COMMIT logged" in log.read_text()
    res = bld.run("build", f"--logfile={log}", "-", input="FROM sealtest/tiny\nRUN false\n", check=False)
    assert (res.returncode, res.stdout, res.stderr) == (1, "", "")
    assert log.read_text().endswith('Error: building at STEP "RUN false": while running runtime: exit status 1\n')


def test_build_check_seccomp_ulimits(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build check_seccomp_ulimits": RUN gets --ulimit and --security-opt."""
    ctx = _ctx(tmp_path, "seccomp", "FROM sealtest/tiny\nRUN grep Seccomp: /proc/self/status |awk '{ print $1$2 }'\n"
               "RUN grep \"Max open files\" /proc/self/limits |awk '{ print $4\":\"$5 }'\n")
    out = bld.run("build", "--ulimit", "nofile=101:102", "-t", "seccomp", str(ctx)).stdout
    assert "Seccomp:2\n" in out and "101:102\n" in out
    out = bld.run("build", "--no-cache", "-t", "seccomp", "--security-opt", "seccomp=unconfined", str(ctx)).stdout
    assert "Seccomp:0\n" in out


def test_build_copy_hardlinks(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build COPY hardlinks"."""
    ctx = tmp_path / "hardlinks"
    (ctx / "subdir" / "subsubdir").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM sealtest/tiny\nCOPY . /test\n")
    for link in ("hardlink1", "subdir/hardlink2", "subdir/subsubdir/hardlink3"):
        (ctx / link).hardlink_to(ctx / "Dockerfile")
    bld.run("build", "-t", "hardlinks", str(ctx))
    inodes = bld.run("run", "--rm", "hardlinks", "stat", "-c", "%i", "/test/Dockerfile", "/test/hardlink1",
                     "/test/subdir/hardlink2", "/test/subdir/subsubdir/hardlink3").stdout.split()
    assert len(inodes) == 4 and len(set(inodes)) == 1


def test_build_f_test(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build -f test": -f relative to the current directory, else to the
    context; no context: the file's directory; several -f files are read one after the other."""
    ctx = tmp_path / "build-test"
    (ctx / "subdir").mkdir(parents=True)
    (ctx / "Containerfile1").write_text("FROM scratch\ncopy . /tmp\n")
    cf2 = tmp_path / "Containerfile2"
    cf2.write_text("FROM sealtest/tiny\n")
    bld.run("build", "-t", "build_test", "-f", "Containerfile1", str(ctx))
    res = bld.run("build", "-t", "build_test", "-f", "Containerfile2", str(ctx), check=False)
    assert (res.returncode, res.stderr) == (125, f"Error: stat {ctx}/Containerfile2: no such file or directory\n")
    (bld.base / "cwd.Containerfile").write_text("FROM sealtest/tiny\n")  # bld.run's working directory
    bld.run("build", "-t", "build_test", "-f", "cwd.Containerfile", str(ctx))
    bld.run("build", "-t", "build_test", "-f", str(ctx / "Containerfile1"), str(ctx))
    bld.run("build", "-t", "build_test", "-f", str(cf2), str(ctx))
    bld.run("build", "-t", "build_test", "-f", str(ctx / "Containerfile1"))
    bld.run("build", "-t", "build_test", "-f", str(cf2))
    out = bld.run("build", "-t", "build_test", "-f", str(ctx / "Containerfile1"), "-f", str(cf2), str(ctx)).stdout
    # the first file's stage is not needed by the last one: skipped, as Podman's --skip-unused-stages
    assert out.splitlines()[:2] == ["[2/2] STEP 1/1: FROM sealtest/tiny", "[2/2] COMMIT build_test"]
    tiny = bld.run("image", "inspect", "--format", "{{.Id}}", "sealtest/tiny").stdout.strip()
    assert out.splitlines()[-1] == tiny  # FROM alone: the base image itself, newly tagged


def test_build_dockerignore_failure(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build .dockerignore failure test"."""
    ctx = _ctx(tmp_path, "ignfail", "FROM sealtest/tiny\nCOPY ./ ./\nCOPY subdir ./\n",
               **{".dockerignore": "*\nsubdir\n!*/sub1*\n"})
    (ctx / "subdir").mkdir()
    res = bld.run("build", "-t", "build_test", str(ctx), check=False)
    assert res.returncode == 125
    assert res.stderr == (f'Error: building at STEP "COPY subdir ./": no items matching glob "{ctx}/subdir" copied '
                          f"(1 filtered out using {ctx}/.dockerignore): no such file or directory\n")


def test_build_containerignore_over_dockerignore(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build .containerignore and .dockerignore test"."""
    ctx = _ctx(tmp_path, "cign", "FROM sealtest/tiny\nCOPY ./ /tmp/test/\nRUN ls /tmp/test/\n", test1="", test2="",
               **{".containerignore": "test2*\n", ".dockerignore": "test1*\n"})
    out = bld.run("build", "-t", "build_test", str(ctx)).stdout
    assert "\nContainerfile\ntest1\nCOMMIT" in out


def test_build_context_ownership_and_symlink(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build build context ownership" and "... context is a symlink to a directory"."""
    import os

    ctx = _ctx(tmp_path, "owner", "FROM sealtest/tiny\nCOPY empty-file.txt .\nRUN echo 0:0 | tee expected.txt\n"
               'RUN stat -c "%u:%g" empty-file.txt | tee actual.txt\nRUN cmp expected.txt actual.txt\n')
    (ctx / "empty-file.txt").touch()
    os.chown(ctx / "empty-file.txt", 4294967292, 4294967292)
    bld.run("build", "-t", "build_test", str(ctx))
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to("target")
    (tmp_path / "link" / "Dockerfile").write_text("FROM sealtest/tiny\nRUN echo hello\n")
    assert "hello\n" in bld.run("build", "--no-cache", "-t", "build_test", str(tmp_path / "link")).stdout


def test_build_env_unsetenv_from_flags(bld: SealpodRunner, tmp_path: Path) -> None:
    """--env (seen by RUN, set last in the image), --unsetenv and --from, as Podman 4.3.1."""
    ctx = _ctx(tmp_path, "envflags", "FROM nosuch/base\nENV KEEP=1 DROP=2\nRUN echo FOO=$FOO DROP=$DROP\n")
    bld.env["FROM_HOST"] = "host-value"
    try:
        out = bld.run("build", "--from", "sealtest/tiny", "--env", "FOO=bar", "--env", "FROM_HOST",
                      "--unsetenv", "DROP", "-t", "envflags", str(ctx)).stdout
    finally:
        del bld.env["FROM_HOST"]
    assert out.startswith("STEP 1/3: FROM sealtest/tiny\n") and "FOO=bar DROP=2\n" in out
    env = bld.run("image", "inspect", "--format", "{{json .Config.Env}}", "envflags").stdout
    assert json.loads(env)[-3:] == ["KEEP=1", "FOO=bar", "FROM_HOST=host-value"]


def test_build_add_url_from_a_local_server(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman build - URLs" (the ADD half, from a server on 127.0.0.1): the
    download's name, mode 0600, never unpacked; a 404 fails the step as Buildah's does."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    (www / "README.md").write_text("served content\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ctx = _ctx(tmp_path, "addurl", f"FROM sealtest/tiny\nADD {url}/README.md /tmp/\n"
                   f"ADD {url}/README.md /tmp/named\n")
        bld.run("build", "-t", "add_url", str(ctx))
        out = bld.run("run", "--rm", "add_url", "stat", "-c", "%n %a %u", "/tmp/README.md", "/tmp/named").stdout
        assert out == "/tmp/README.md 600 0\n/tmp/named 600 0\n"
        (ctx / "Containerfile").write_text(f"FROM sealtest/tiny\nADD {url}/nope.txt /tmp/\n")
        res = bld.run("build", str(ctx), check=False)
    finally:
        server.shutdown()
    assert res.returncode == 125
    assert res.stderr.endswith(f'reading "{url}/nope.txt": invalid response status 404\n')


def test_buildx_build_is_build(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build.bats "podman buildx - basic test" (the build half): ``buildx build --load``."""
    ctx = _ctx(tmp_path, "buildx", "FROM sealtest/tiny\nRUN echo buildx > /marker\n")
    assert "COMMIT buildx_test" in bld.run("buildx", "build", "--load", "-t", "buildx_test", "--format=docker",
                                           str(ctx)).stdout
    assert bld.run("run", "--rm", "buildx_test", "cat", "/marker").stdout == "buildx\n"
