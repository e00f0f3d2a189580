"""``sealpod build``, the Docker CLI's classic builder and docker-py against ``POST /build``: real
containers for RUN, real commits, the result run."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

CONTAINERFILE = """\
# escape=\\
ARG BASE=sealtest/tiny
FROM {host}/${{BASE}} AS builder
ARG GREETING=hello
RUN echo "$GREETING from builder" > /built.txt \\
 && mkdir -p /out && cp /built.txt /out/
FROM {host}/sealtest/tiny
ARG VERSION
ENV APP_HOME=/app \\
    MODE="two words"
LABEL org.example.version=${{VERSION:-dev}} maintainer="me"
WORKDIR $APP_HOME
COPY --from=builder /out/built.txt ./
COPY file.txt data/
COPY dir /app/dir
COPY *.glob /app/globbed/
COPY --chown=nobody:nobody --chmod=600 owned.txt /app/owned.txt
ADD layer.tar.gz /app/unpacked/
EXPOSE 8080 53/udp
USER nobody
RUN id -u > /tmp/uid && pwd > /tmp/cwd
ENTRYPOINT ["sh", "-c"]
CMD ["echo default command"]
"""


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("build"), seeded_registry.host) as runner:
        yield runner


def _context(base: Path, host: str) -> Path:
    ctx = base / "ctx"
    (ctx / "dir" / "sub").mkdir(parents=True)
    (ctx / "Containerfile").write_text(CONTAINERFILE.format(host=host))
    (ctx / "file.txt").write_text("file\n")
    (ctx / "dir" / "sub" / "deep.txt").write_text("deep\n")
    (ctx / "a.glob").write_text("a\n")
    (ctx / "b.glob").write_text("b\n")
    (ctx / "owned.txt").write_text("secret\n")
    (ctx / "ignored.glob").write_text("never\n")
    (ctx / ".containerignore").write_text("# comment\nignored.*\n**/*.tmp\n")
    (ctx / "dir" / "junk.tmp").write_text("junk\n")
    with tarfile.open(ctx / "layer.tar.gz", "w:gz") as tar:
        data = b"from the tar\n"
        info = tarfile.TarInfo("inner/x.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return ctx


def test_multistage_build_and_run_the_result(bld: SealpodRunner, seeded_registry: RegistryServer) -> None:
    ctx = _context(bld.base, seeded_registry.host)
    res = bld.run("build", "-t", "built", "--build-arg", "VERSION=1.2", "--label", "extra=yes", str(ctx))
    lines = res.stdout.splitlines()
    assert lines[0] == f"[1/2] STEP 1/3: FROM {seeded_registry.host}/${{BASE}} AS builder"
    assert "[2/2] COMMIT built" in lines and "Successfully tagged localhost/built:latest" in lines
    image_id = lines[-1]
    assert len(image_id) == 64 and lines[-3] == f"--> {image_id[:11]}"
    script = ("cat /app/built.txt /app/data/file.txt /app/dir/sub/deep.txt /app/globbed/a.glob /app/globbed/b.glob"
              " /app/unpacked/inner/x.txt; cat /tmp/uid /tmp/cwd; echo $MODE; pwd; id -u;"
              " ls /app/globbed; ls /app/dir/sub; stat -c '%u:%g %a' /app/owned.txt")
    out = bld.run("run", "--rm", "--user", "root", "built", script).stdout
    assert out.splitlines() == ["hello from builder", "file", "deep", "a", "b", "from the tar", "65534", "/app",
                                "two words", "/app", "0", "a.glob", "b.glob", "deep.txt", "65534:65534 600"]
    assert bld.run("run", "--rm", "built").stdout == "default command\n"
    config = json.loads(bld.run("image", "inspect", "built").stdout)[0]["Config"]
    assert config["Labels"] == {"org.sealtest.image": "true",  # the base image's, kept
                                "org.example.version": "1.2", "maintainer": "me", "extra": "yes",
                                "io.buildah.version": "1.28.2"}  # Podman's identity label
    assert set(config["ExposedPorts"]) == {"8080/tcp", "53/udp"}
    assert config["User"] == "nobody" and config["WorkingDir"] == "/app"
    assert "APP_HOME=/app" in config["Env"] and not any(e.startswith("VERSION=") for e in config["Env"])
    names = bld.run("images", "--format", "{{.Repository}}").stdout.split()
    assert names.count("<none>") == 1  # the builder stage; intermediate images stay (the cache) but are hidden
    assert bld.run("ps", "-aq").stdout == ""  # and so are the build's containers


def test_target_stops_at_the_named_stage(bld: SealpodRunner, seeded_registry: RegistryServer) -> None:
    ctx = bld.base / "target"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {seeded_registry.host}/sealtest/tiny AS first\nRUN touch /first\n"
                                    "FROM first\nRUN false\n")
    res = bld.run("build", "-q", "--target", "first", "-t", "first", str(ctx))
    assert len(res.stdout.strip()) == 64
    assert bld.run("run", "--rm", "first", "ls", "/first").stdout == "/first\n"


def test_parallel_builds_do_not_race_for_working_container_names(bld: SealpodRunner,
                                                                   seeded_registry: RegistryServer) -> None:
    """070-build.bats "podman parallel build should not race": 30 builds of one Containerfile at once each
    name a working container after the image; names taken meanwhile are retried until one is free."""
    import subprocess

    ctx = bld.base / "parallel"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(f"FROM {seeded_registry.host}/sealtest/tiny\nRUN echo hi\n")
    names = [f"par{i:02d}" for i in range(30)]
    procs = [subprocess.Popen(bld.argv("build", "--no-cache", "-q", "-t", name, str(ctx)), env=bld.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for name in names]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * len(names), [e for e in errors if e]
    bld.run("rmi", *names)


def test_failing_run_exits_with_its_code(bld: SealpodRunner, seeded_registry: RegistryServer) -> None:
    ctx = bld.base / "fail"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(f"FROM {seeded_registry.host}/sealtest/tiny\nRUN echo before; exit 7\n")
    res = bld.run("build", str(ctx), check=False)
    assert res.returncode == 7
    assert "before\n" in res.stdout
    assert res.stderr.strip() == ('Error: building at STEP "RUN echo before; exit 7": '
                                  "while running runtime: exit status 7")
    assert bld.run("ps", "-aq").stdout == ""


@pytest.mark.parametrize(("text", "words"), [
    ("RUN true\n", "no FROM statement found"),
    ("FROM scratch\nBOGUS x\n", 'Unknown instruction: "BOGUS"'),
    ("FROM scratch\nCOPY ../outside /x\n", "forbidden path outside the build context"),
    ("FROM scratch\nCOPY link /x\n", "forbidden path outside the build context"),
    ("FROM scratch\nCOPY missing /x\n", "no such file or directory"),
])
def test_bad_containerfiles_are_clear_errors(bld: SealpodRunner, text: str, words: str, tmp_path: Path) -> None:
    ctx = tmp_path / "bad"
    ctx.mkdir()
    (ctx / "link").symlink_to("/etc/passwd")
    (ctx / "Containerfile").write_text(text)
    res = bld.run("build", str(ctx), check=False)
    assert res.returncode == 125 and words in res.stderr and "Traceback" not in res.stderr


def test_scratch_image_from_a_tar_context_on_stdin(bld: SealpodRunner) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Containerfile", b"FROM scratch\nCOPY hello /hello\nCMD [\"/hello\"]\n"),
                           ("hello", b"hi\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = bld.base / "ctx.tar"
    path.write_bytes(buf.getvalue())
    image_id = bld.run("build", "-q", "-t", "fromtar", str(path)).stdout.strip()
    config = json.loads(bld.run("image", "inspect", image_id).stdout)[0]
    assert config["Config"]["Cmd"] == ["/hello"] and len(config["RootFS"]["Layers"]) == 1


def _api_context(base: Path) -> Path:
    ctx = base / "apictx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text("FROM sealtest/tiny\nARG WHO=nobody\nCOPY msg /msg\n"
                                    "RUN echo \"built for $WHO\" >> /msg\nCMD [\"cat\", \"/msg\"]\n")
    (ctx / "msg").write_text("message\n")
    return ctx


def test_docker_cli_classic_builder(api: ApiService, tmp_path: Path) -> None:
    ctx = _api_context(tmp_path)
    env_cmd = ["build", "-t", "dockerbuilt", "--build-arg", "WHO=docker", str(ctx)]
    import subprocess

    proc = subprocess.run(["docker", *env_cmd], env={**api.docker_env(), "DOCKER_BUILDKIT": "0"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr + api.log_tail()
    assert "Successfully built" in proc.stdout and "STEP 4/5: RUN" in proc.stdout
    assert api.docker("run", "--rm", "dockerbuilt").stdout == "message\nbuilt for docker\n"


def test_docker_py_build(api: ApiService, tmp_path: Path) -> None:
    import docker

    client = docker.DockerClient(base_url=api.url, timeout=60)
    image, logs = client.images.build(path=str(_api_context(tmp_path)), tag="pybuilt:v1", buildargs={"WHO": "py"})
    assert "pybuilt:v1" in " ".join(image.tags)
    assert client.containers.run("pybuilt:v1", remove=True) == b"message\nbuilt for py\n"
    with pytest.raises(docker.errors.BuildError, match="exit status 1"):
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / "Dockerfile").write_text("FROM sealtest/tiny\nRUN false\n")
        client.images.build(path=str(tmp_path / "bad"))


def test_podman_py_build(api: ApiService, tmp_path: Path) -> None:
    from podman import PodmanClient

    with PodmanClient(base_url=api.url) as client:
        image, logs = client.images.build(path=str(_api_context(tmp_path)), tag="podbuilt", dockerfile="Dockerfile",
                                          buildargs={"WHO": "podman"})
        assert "localhost/podbuilt:latest" in image.tags
        assert any("STEP 1/5: FROM sealtest/tiny" in str(line) for line in logs)
    assert api.docker("run", "--rm", "podbuilt").stdout == "message\nbuilt for podman\n"
