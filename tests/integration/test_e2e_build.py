"""Podman 4.3.1's e2e build_test.go, and the history and intermediate images a build leaves, as Podman
4.3.1 (Buildah 1.28) makes them: against real conmon, runc and overlay mounts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image


@pytest.fixture(scope="module")
def bld(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("e2e-build"), seeded_registry.host) as runner:
        yield runner


def _history(bld: SealpodRunner, image: str) -> list[dict[str, object]]:
    return json.loads(bld.run("image", "inspect", "--format", "{{json .History}}", image).stdout)


def _layers(bld: SealpodRunner, image: str) -> int:
    return len(bld.run("image", "inspect", "--format", "{{.RootFS.Layers}}", image).stdout.split())


def _all_ids(bld: SealpodRunner) -> set[str]:
    return set(bld.run("images", "-a", "-q", "--no-trunc").stdout.replace("sha256:", "").split())


def test_build_history_one_entry_and_one_image_per_instruction(bld: SealpodRunner, tmp_path: Path) -> None:
    """Podman's --layers: LABEL/ENV/WORKDIR/CMD are empty_layer entries, each step an intermediate image."""
    ctx = build_context(tmp_path, "perstep", "FROM sealtest/tiny\nLABEL a=b\nENV X=1\nRUN true\nWORKDIR /w\n"
                                             "COPY f /c\nCMD [\"sh\"]\n", f="data\n")
    base = _history(bld, "sealtest/tiny")
    before = _all_ids(bld)
    out = bld.run("build", "-t", "perstep", str(ctx)).stdout
    steps = re.findall(r"^--> ([0-9a-f]{11})$", out, re.M)
    assert len(steps) == 6  # one image per instruction, the last being the tagged one
    new = _all_ids(bld) - before
    assert len(new) == 6 and {i[:11] for i in new} == set(steps)
    history = _history(bld, "perstep")[len(base):]
    assert [h["created_by"] for h in history] == [
        "/bin/sh -c #(nop) LABEL a=b", "/bin/sh -c #(nop) ENV X=1", "/bin/sh -c true",
        "/bin/sh -c #(nop) WORKDIR /w", history[4]["created_by"], '/bin/sh -c #(nop) CMD ["sh"]']
    assert re.fullmatch(r"/bin/sh -c #\(nop\) COPY file:[0-9a-f]{64} in /c ", str(history[4]["created_by"]))
    assert [bool(h.get("empty_layer")) for h in history] == [True, True, False, True, False, True]
    assert history[0]["comment"].endswith("sealtest/tiny:latest")  # type: ignore[union-attr]
    assert [h["comment"] for h in history[1:]] == [f"FROM {_full(new, s)[:12]}" for s in steps[:5]]
    assert _layers(bld, "perstep") == _layers(bld, "sealtest/tiny") + 2  # RUN true makes a layer, even empty
    labels = json.loads(bld.run("image", "inspect", "--format", "{{json .Config.Labels}}", "perstep").stdout)
    assert labels["a"] == "b" and labels["io.buildah.version"] == "1.28.2"
    # `history` names an entry by the oldest image whose top layer it is, once, as Podman
    ids = [line.split()[0] for line in bld.run("history", "--format", "{{.ID}}", "--no-trunc",
                                                "perstep").stdout.splitlines()]
    assert ids[0] == _full(new, steps[4])  # CMD: the COPY step's image (same top layer, older)
    assert ids[1:4] == ["<missing>", _full(new, steps[2]), "<missing>"]
    # a second build reuses every step
    again = bld.run("build", "-t", "perstep2", str(ctx)).stdout
    assert len(re.findall(r"^--> Using cache [0-9a-f]{64}$", again, re.M)) == 6


def _full(ids: set[str], short: str) -> str:
    return next(i for i in ids if i.startswith(short))


def test_build_layers_false_and_squash_one_new_layer(bld: SealpodRunner, tmp_path: Path) -> None:
    """e2e build_test.go: podman build basic alpine with squash (and --layers=false's single commit)."""
    ctx = build_context(tmp_path, "squash", "FROM sealtest/tiny\nENV A=1\nRUN echo one > /one\n"
                                            "RUN rm /one && echo two > /two\nLABEL l=v\n")
    base_layers, base_history = _layers(bld, "sealtest/tiny"), len(_history(bld, "sealtest/tiny"))
    before = _all_ids(bld)
    out = bld.run("build", "--layers=false", "-t", "flat", str(ctx)).stdout
    assert not re.search(r"^--> [0-9a-f]{11}$", out.split("COMMIT")[0], re.M)  # no image per step
    assert _all_ids(bld) - before == {out.splitlines()[-1]}
    assert _layers(bld, "flat") == base_layers + 1
    history = _history(bld, "flat")[base_history:]
    assert [h["created_by"] for h in history] == ["/bin/sh -c #(nop) ENV A=1", "/bin/sh -c echo one > /one",
                                                 "/bin/sh -c rm /one && echo two > /two", "/bin/sh -c #(nop) LABEL l=v"]
    assert [bool(h.get("empty_layer")) for h in history] == [True, True, True, False]
    assert "comment" not in history[0] and str(history[-1]["comment"]).endswith("sealtest/tiny:latest")
    assert bld.run("run", "--rm", "flat", "sh", "-c", "cat /two; ls /one", check=False).stdout == "two\n"
    bld.run("build", "--squash", "-t", "sq", str(ctx))
    assert _layers(bld, "sq") == base_layers + 1
    out = bld.run("build", "--squash-all", "-t", "sqall", str(ctx)).stdout
    assert _layers(bld, "sqall") == 1 and len(_history(bld, "sqall")) == 4
    assert bld.run("run", "--rm", "sqall", "cat", "/two").stdout == "two\n"
    # --squash-all --layers: the steps come from the cache, the result is still one layer
    bld.run("build", "--squash-all", "--layers", "-t", "sqall2", str(ctx))
    cached = bld.run("build", "--squash-all", "--layers", "-t", "sqall3", str(ctx)).stdout
    assert "Using cache" in cached and _layers(bld, "sqall2") == _layers(bld, "sqall3") == 1


def test_build_run_mount_secret(bld: SealpodRunner, tmp_path: Path) -> None:
    """e2e build_test.go: podman build with a secret from file (and it is not leaked into the image)."""
    ctx = build_context(tmp_path, "secret", "FROM sealtest/tiny\n"
                        "RUN --mount=type=secret,id=mysecret cat /run/secrets/mysecret\n"
                        "RUN --mount=type=secret,id=two,target=/s2 cat /s2\n")
    (tmp_path / "secret.txt").write_text("somesecret\n")
    (tmp_path / "another.txt").write_text("anothersecret\n")
    out = bld.run("build", "-t", "secret-test", "--secret", f"id=mysecret,src={tmp_path}/secret.txt",
                  "--secret", f"id=two,src={tmp_path}/another.txt", str(ctx)).stdout
    assert "somesecret" in out and "anothersecret" in out
    left = bld.run("run", "--rm", "secret-test", "sh", "-c", "ls /run/secrets /s2; cat /run/secrets/*",
                   check=False)
    assert "somesecret" not in left.stdout and "mysecret" not in left.stdout and "anothersecret" not in left.stdout
    history = _history(bld, "secret-test")
    assert history[-2]["created_by"] == "/bin/sh -c --mount=type=secret,id=mysecret cat /run/secrets/mysecret"
    missing = bld.run("build", "--no-cache", str(ctx), check=False)
    assert missing.returncode == 1  # no --secret: nothing mounted, the RUN fails as Podman's
    assert bld.run("build", "--secret", "id=x,src=/no/such", str(ctx), check=False).returncode == 125


def test_build_timestamp_arch_os(bld: SealpodRunner, tmp_path: Path) -> None:
    """e2e build_test.go: podman build --timestamp flag, --arch --os flag, --os windows flag."""
    ctx = build_context(tmp_path, "ts", "FROM sealtest/tiny\nRUN echo hello\n")
    bld.run("build", "-t", "ts", "--timestamp", "0", str(ctx))
    assert bld.run("image", "inspect", "--format", "{{ .Created }}", "ts").stdout == "1970-01-01 00:00:00 +0000 UTC\n"
    scratch = build_context(tmp_path, "scratch", "FROM scratch\n")
    bld.run("build", "-t", "plat", "--arch", "foo", "--os", "bar", str(scratch))
    assert bld.run("image", "inspect", "--format", "{{.Architecture}} {{.Os}}", "plat").stdout == "foo bar\n"
    bld.run("build", "-t", "plat", "--os", "windows", str(scratch))
    arch = bld.run("image", "inspect", "--format", "{{.Architecture}} {{.Os}}", "plat").stdout.split()
    assert arch[1] == "windows" and arch[0] != "foo"


def test_build_isolation_rusage_identity_label(bld: SealpodRunner, tmp_path: Path) -> None:
    """e2e build_test.go: podman build --isolation && --arch, --log-rusage, and check identity."""
    ctx = build_context(tmp_path, "iso", "FROM sealtest/tiny\nLABEL x=y\n")
    for isolation in ("oci", "chroot", "rootless"):
        bld.run("build", "--isolation", isolation, str(ctx))
    bad = bld.run("build", "--isolation", "bogus", str(ctx), check=False)
    assert bad.returncode == 125 and bad.stderr == 'Error: unrecognized isolation type "bogus"\n'
    out = bld.run("build", "--log-rusage", str(build_context(tmp_path, "ru", "FROM scratch\n"))).stdout
    assert "(system)" in out and "(user)" in out and "(elapsed)" in out
    bld.run("build", "--no-cache", "-t", "ident", str(ctx))
    assert "1.28.2" in bld.run("image", "inspect", "--format", "{{ index .Config.Labels }}", "ident").stdout
    bld.run("build", "--identity-label=false", "-t", "noident", str(ctx))
    labels = bld.run("image", "inspect", "--format", "{{ .Config.Labels }}", "noident").stdout
    assert "x:y" in labels and "io.buildah.version" not in labels


def test_build_label_with_quoted_key(bld: SealpodRunner, tmp_path: Path) -> None:
    """LABEL "x y"=z: a quoted key holding a space is the KEY=VALUE form, as Podman reads it."""
    ctx = build_context(tmp_path, "qlabel", 'FROM sealtest/tiny\nLABEL "x y"=z k=v\nENV A B=C\n')
    bld.run("build", "-t", "qlabel", str(ctx))
    labels = json.loads(bld.run("image", "inspect", "--format", "{{json .Config.Labels}}", "qlabel").stdout)
    assert labels["x y"] == "z" and labels["k"] == "v"
    assert "A=B=C" in bld.run("image", "inspect", "--format", "{{.Config.Env}}", "qlabel").stdout
    assert _history(bld, "qlabel")[-2]["created_by"] == '/bin/sh -c #(nop) LABEL "x y"=z k=v'


def test_build_label_flag_adds_label_steps(bld: SealpodRunner, tmp_path: Path) -> None:
    """build --label: one LABEL "k"="v" step (and image) each after the last instruction, as Podman."""
    ctx = build_context(tmp_path, "lflag", "FROM sealtest/tiny\nENV Q=1\n")
    bld.run("build", "--label", "foo=bar", "--label", "a=b", "-t", "lflag", str(ctx))
    history = _history(bld, "lflag")[-3:]
    assert [h["created_by"] for h in history] == ["/bin/sh -c #(nop) ENV Q=1", '/bin/sh -c #(nop) LABEL "foo"="bar"',
                                                 '/bin/sh -c #(nop) LABEL "a"="b"']
    labels = bld.run("image", "inspect", "--format", "{{.Config.Labels}}", "lflag").stdout
    assert "foo:bar" in labels and "a:b" in labels
