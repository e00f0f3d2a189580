"""Conformance with Podman's own system tests for build (070-build), CLI parsing and formats (300-cli-parsing,
600-completion, 610-format), containers.conf (800-config) and namespaces (170-run-userns, 190-run-ipcns),
as Podman 4.3.1 behaves, against real conmon, runc and overlay mounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-build-parsing"), seeded_registry.host) as runner:
        yield runner


_ctx = build_context


# --- 070-build.bats / 125-import.bats ------------------------------------------------------

def test_build_add_file_to_existing_directory_without_slash_copies_into_it(bld: SealpodRunner,
                                                                           tmp_path: Path) -> None:
    """125-import "export, alter tarball, re-import": ADD testfile1 /tmp, then WORKDIR /tmp."""
    ctx = _ctx(tmp_path, "into", f"FROM {IMAGE}\nRUN mkdir /data\nADD testfile1 /tmp\nWORKDIR /tmp\n"
               "COPY testfile1 /data\nCOPY testfile1 /renamed\n", testfile1="hello\n")
    bld.run("build", "-t", "addinto", str(ctx))
    out = bld.run("run", "--rm", "addinto", "sh", "-c",
                  "pwd; cat /tmp/testfile1 /data/testfile1 /renamed; test -d /tmp && test -f /renamed && echo ok")
    assert out.stdout == "/tmp\nhello\nhello\nhello\nok\n"


def test_build_add_archive_to_path_without_slash_unpacks_into_it(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build "podman build - cache (#3920)" (ADD of a local archive): unpacked into the destination, a directory."""
    import tarfile

    ctx = _ctx(tmp_path, "arch", f"FROM {IMAGE}\nADD a.tar /unpacked\n")
    (tmp_path / "member").write_text("inside\n")
    with tarfile.open(ctx / "a.tar", "w") as tar:
        tar.add(tmp_path / "member", arcname="member")
    bld.run("build", "-t", "addarch", str(ctx))
    assert bld.run("run", "--rm", "addarch", "cat", "/unpacked/member").stdout == "inside\n"


def test_build_passes_global_runtime_flags_to_run_steps(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build "podman build - global runtime flags test": runc refuses the flag, the build exits 1."""
    ctx = _ctx(tmp_path, "rtflag", f"FROM {IMAGE}\nRUN echo should-not-run\n")
    out = bld.run("--runtime-flag", "invalidflag", "build", "--no-cache", "-t", "rtflag", str(ctx), check=False)
    assert out.returncode == 1
    assert "invalidflag" in out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1] == \
        'Error: building at STEP "RUN echo should-not-run": while running runtime: exit status 1'


def test_build_run_step_the_runtime_cannot_start_exits_1(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build (Buildah's RUN): a command the runtime cannot exec fails with runc's status, 1."""
    ctx = _ctx(tmp_path, "noexec", f'FROM {IMAGE}\nRUN ["/nonexistent"]\n')
    out = bld.run("build", str(ctx), check=False)
    assert out.returncode == 1
    assert "while running runtime: exit status 1" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("how", ["flag", "containers.conf"])
def test_build_with_unknown_runtime_fails_before_the_first_step(bld: SealpodRunner, tmp_path: Path,
                                                                 how: str) -> None:
    """070-build "podman build - set runtime": Podman's words, exit 125, nothing built."""
    ctx = _ctx(tmp_path, "nort", f"FROM {IMAGE}\nRUN echo\n")
    saved = bld.containers_conf.read_text()
    try:
        if how == "flag":
            out = bld.run("--runtime=idonotexist", "build", str(ctx), check=False)
        else:
            bld.containers_conf.write_text('[engine]\nruntime="idonotexist"\n')
            out = bld.run("build", str(ctx), check=False)
    finally:
        bld.containers_conf.write_text(saved)
    assert out.returncode == 125
    assert out.stderr == 'Error: default OCI runtime "idonotexist" not found: invalid argument\n'
    assert "STEP" not in out.stdout


def test_default_mounts_file_gives_build_and_run_a_copy(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build "podman build - workdir, cmd, env, label" (#8679): --default-mounts-file's secrets in RUN and run."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "secretfile").write_text("shhh\n")
    conf = tmp_path / "mounts.conf"
    conf.write_text(f"# a comment\n{secrets}:/run/secrets\n/no/such/dir:/run/nothing\n")
    ctx = _ctx(tmp_path, "mounts", f"FROM {IMAGE}\nRUN cat /run/secrets/secretfile\n")
    built = bld.run(f"--default-mounts-file={conf}", "build", "--no-cache", "-t", "withsecrets", str(ctx))
    assert "\nshhh\n" in built.stdout
    out = bld.run("--default-mounts-file", str(conf), "run", "--rm", "withsecrets", "sh", "-c",
                  "cat /run/secrets/secretfile; echo changed > /run/secrets/secretfile; "
                  "test -e /run/nothing || echo no")
    assert out.stdout == "shhh\nno\n"
    assert (secrets / "secretfile").read_text() == "shhh\n"  # the container changed its copy only
    plain = bld.run("run", "--rm", "withsecrets", "sh", "-c", "cat /run/secrets/secretfile", check=False)
    assert plain.returncode != 0


def test_rmi_of_a_built_image_removes_its_dangling_intermediates(bld: SealpodRunner, tmp_path: Path) -> None:
    """070-build "podman build check_seccomp_ulimits": rmi takes the build's cache along, as Podman."""
    ctx = _ctx(tmp_path, "chain", f"FROM {IMAGE}\nRUN echo a > /a\nRUN echo b > /b\nRUN echo c > /c\n")
    before = set(bld.run("images", "-aq", "--no-trunc").stdout.split())
    built = bld.run("build", "-q", "-t", "chain1", str(ctx)).stdout.strip()
    bld.run("tag", "chain1", "chain2")
    made = set(bld.run("images", "-aq", "--no-trunc").stdout.split()) - before
    assert len(made) == 3
    out = bld.run("rmi", "chain1").stdout
    assert out == "Untagged: localhost/chain1:latest\n"  # another name keeps it
    out = bld.run("rmi", "chain2").stdout.splitlines()
    assert out[0] == "Untagged: localhost/chain2:latest" and out[1] == f"Deleted: {built}"
    assert {line.removeprefix("Deleted: ") for line in out[1:]} == {m.removeprefix("sha256:") for m in made}
    assert set(bld.run("images", "-aq", "--no-trunc").stdout.split()) == before


# --- 600-completion.bats / 610-format.bats ---------------------------------------------------------

def _complete(runner: SealpodRunner, *words: str) -> tuple[list[str], str]:
    out = runner.run("__completeNoDesc", *words)
    lines = out.stdout.splitlines()
    return lines[:-1], out.stderr.strip().splitlines()[-1].removeprefix("Completion ended with directive: ")


def test_completion_of_paths_inside_the_image_for_run_and_create(bld: SealpodRunner) -> None:
    """600-completion "podman shell completion for paths in container/image": create/run IMAGE <TAB>."""
    for cmd in ("create", "run"):
        names, directive = _complete(bld, cmd, IMAGE, "")
        assert {"/etc/", "/bin/"} <= set(names) and directive == "ShellCompDirectiveNoSpace"
        names, _ = _complete(bld, cmd, IMAGE, "/etc")  # a directory named in full is opened
        assert "/etc/passwd" in names and all(n.startswith("/etc/") for n in names)
        assert _complete(bld, cmd, IMAGE, "/etc/pass") == (["/etc/passwd"], "ShellCompDirectiveDefault")
        names, _ = _complete(bld, cmd, IMAGE, "../../")  # resolved in the image's root, never the host's
        assert "../../etc/" in names and "../../bin/" in names
        assert _complete(bld, cmd, IMAGE, "sh", "/et") == (["/etc/"], "ShellCompDirectiveNoSpace")


def test_completion_of_paths_inside_a_container_for_cp(bld: SealpodRunner) -> None:
    """600-completion "podman shell completion for paths in container/image": cp CTR:<TAB>."""
    bld.run("run", "--name", "cpcomp", IMAGE, "sh", "-c", "touch /tmp/afile /tmp/afile2 && mkdir /emptydir")
    try:
        assert "cpcomp:" in _complete(bld, "cp", "")[0]
        names, directive = _complete(bld, "cp", "cpcomp:")
        assert "cpcomp:/etc/" in names and directive == "ShellCompDirectiveNoSpace"
        assert {"cpcomp:/tmp/afile", "cpcomp:/tmp/afile2"} <= set(_complete(bld, "cp", "cpcomp:/tmp")[0])
        assert _complete(bld, "cp", "cpcomp:/emptydir") == (["cpcomp:/emptydir/"], "ShellCompDirectiveNoSpace")
    finally:
        bld.run("rm", "cpcomp")


def test_completion_of_format_template_fields(bld: SealpodRunner) -> None:
    """610-format "check Go template formatting": --format '{{.<TAB>' offers the command's fields."""
    names, directive = _complete(bld, "ps", "--format", "{{.Na")
    assert names == ["{{.Names}}", "{{.Namespaces."]
    assert directive == "ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp"
    assert _complete(bld, "image", "inspect", "--format=table {{.ID}} {{.Arch")[0] == \
        ["table {{.ID}} {{.Architecture}}"]
    assert _complete(bld, "images", "--format", "") == (["json"], "ShellCompDirectiveNoFileComp")


def test_completion_of_generate_kube_offers_containers_pods_volumes(bld: SealpodRunner) -> None:
    """600-completion "podman shell completion test": generate kube {CONTAINER...|POD...|VOLUME...}."""
    bld.run("create", "--name", "kubecomp", IMAGE)
    bld.run("volume", "create", "kubevol")
    try:
        names, _ = _complete(bld, "generate", "kube", "")
        assert "kubecomp" in names and "kubevol" in names
    finally:
        bld.run("rm", "kubecomp")
        bld.run("volume", "rm", "kubevol")
