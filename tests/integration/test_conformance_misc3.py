"""Conformance with Podman's system tests for shell completion, runlabel, renumber, corrupt images,
cgroups and blkio (test/system/600-completion, 037-runlabel, 760-system-renumber, 330-corrupt-images,
420-cgroups, 180-blkio), as Podman 4.3.1 behaves, against the real sealpod command line.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf-misc3"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


def _fails(sp: SealpodRunner, code: int, *args: str) -> str:
    res = sp.run(*args, check=False)
    assert res.returncode == code, res
    assert "Traceback" not in res.stderr
    return res.stdout + res.stderr


# --- 600-completion.bats ------------------------------------------------------------------------

class _Completion:
    """600-completion.bats' check_shell_completion, over sealpod's own help and usage lines."""

    def __init__(self, sp: SealpodRunner, names: dict[str, str]) -> None:
        self.sp = sp
        self.names = names
        self.problems: list[str] = []

    def complete(self, *words: str) -> list[str]:
        res = self.sp.run("__completeNoDesc", *words)
        return (res.stdout + res.stderr).splitlines()

    def commands(self, path: tuple[str, ...]) -> list[str]:
        found, inside = [], False
        for line in self.sp.run("help", *path).stdout.splitlines():
            if line.startswith("Available Commands:"):
                inside = True
            elif line.startswith("Options:"):
                inside = False
            elif inside and line.split():
                found.append(line.split()[0])
        return found

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)

    def end(self, lines: list[str], directive: str, what: str) -> None:
        self.expect(lines[-1] == f"Completion ended with directive: ShellCompDirective{directive}",
                    f"{what}: wants {directive}, got {lines[-1]!r}")

    def nothing(self, lines: list[str], what: str) -> None:
        self.expect(all(line.startswith("[Debug]") for line in lines[:-2]), f"{what}: suggestions {lines[:-2]}")

    def walk(self, path: tuple[str, ...] = ()) -> None:
        for cmd in self.commands(path):
            usage_text = self.sp.run(*path, cmd, "--help").stdout.splitlines()
            usage = usage_text[usage_text.index("Usage:") + 1].strip()
            if usage.endswith("[command]"):
                self.walk((*path, cmd))
                continue
            self.check(path, cmd, usage.removeprefix(" ".join(("sealpod", *path, cmd))).split())

    def check(self, path: tuple[str, ...], cmd: str, args: list[str]) -> None:
        extra: list[str] = []
        what = " ".join((*path, cmd))
        for arg in args:
            if arg == "[options]":
                lines = self.complete(*path, cmd, "--")
                self.expect(lines[0].startswith("--") and len(lines) > 2, f"{what}: no flags")
                self.end(lines, "NoFileComp", f"{what} --")
                continue
            for _ in range(4 if "..." in arg else 1):
                self.check_arg(path, cmd, arg, extra)
                extra.append("arg")
        if not args or "..." not in args[-1]:
            lines = self.complete(*path, cmd, *extra, "")
            self.end(lines, "NoFileComp", f"{what} {extra}: after the last operand")
            self.nothing(lines, f"{what} {extra}: after the last operand")

    def check_arg(self, path: tuple[str, ...], cmd: str, arg: str, extra: list[str]) -> None:
        what, n = f"{' '.join((*path, cmd))} {extra} {arg}", self.names
        words = (*path, cmd, *extra)
        lines = self.complete(*words, "")
        if "CONTAINER" in arg:
            want = n["container"] + (":" if cmd == "cp" else "")
            self.expect(any(line.endswith("-" + want) for line in lines), f"{what}: no container")
        for kind in ("POD", "NETWORK", "VOLUME", "SECRET"):
            if kind in arg:
                self.expect(any(line.endswith(n[kind.lower()]) for line in lines), f"{what}: no {kind}")
                self.end(lines, "NoFileComp", what)
        if "IMAGE" in arg:
            self.expect(f"localhost/{n['image']}" in lines, f"{what}: no localhost/image")
            self.expect(n["image"] in self.complete(*words, n["image"][0]), f"{what}: no short name")
            self.expect(n["image_id"] in self.complete(*words, n["image_id"][:2]), f"{what}: no image id")
        if "REGISTRY" in arg:
            self.end(lines, "NoFileComp", what)
            self.expect(len(lines) > 2, f"{what}: no registries")
        if any(word in arg for word in ("PATH", "CONTEXT", "FILE", "COMMAND", "ARG...", "URI")):
            if cmd == "cp":
                self.end(lines, "NoSpace", what)
            else:
                self.end(lines, "Default", what)
                self.nothing(lines, what)


def _completion_world(sp: SealpodRunner, tmp_path: Path) -> dict[str, str]:
    rand = "c0mpl3t10n"
    sp.run("create", "--name", f"created-{rand}", IMAGE)
    sp.run("run", "-d", "--name", f"running-{rand}", IMAGE, "top")
    sp.run("run", "-d", "--name", f"pause-{rand}", IMAGE, "top")
    sp.run("pause", f"pause-{rand}")
    sp.run("run", "--name", f"exited-{rand}", IMAGE, "echo", "exited")
    sp.run("pod", "create", "--infra=false", "--name", f"created-{rand}p")
    sp.run("tag", IMAGE, f"{rand}i:tag5")
    image_id = sp.run("images", "--format", "{{.ID}}", "--filter", f"reference={rand}i").stdout.split()[0]
    sp.run("network", "create", f"{rand}n")
    sp.run("volume", "create", f"{rand}v")
    (tmp_path / "secret").write_text("s3cret")
    sp.run("secret", "create", f"{rand}s", str(tmp_path / "secret"))
    return {"container": rand, "pod": f"created-{rand}p", "image": f"{rand}i:tag5", "image_id": image_id,
            "network": f"{rand}n", "volume": f"{rand}v", "secret": f"{rand}s"}


def test_shell_completion_like_podman(store: SealpodRunner, tmp_path: Path) -> None:
    names = _completion_world(store, tmp_path)
    try:
        check = _Completion(store, names)
        check.walk()
        assert not check.problems, "\n".join(check.problems)
    finally:
        store.run("rm", "-af", "-t", "0", check=False)
        store.run("pod", "rm", "-af", check=False)
        store.run("untag", IMAGE, f"localhost/{names['image']}", check=False)
        for kind in ("network", "volume", "secret"):
            store.run(kind, "rm", names[kind], check=False)


def test_completion_protocol_like_cobra(store: SealpodRunner) -> None:
    res = store.run("__complete", "ps", "--f")
    assert res.stdout.splitlines() == ["--filter\tfilter output based on conditions given",
                                       "--format\tpretty-print containers to JSON or using a Go template", ":4"]
    assert res.stderr == "Completion ended with directive: ShellCompDirectiveNoFileComp\n"
    assert store.run("__completeNoDesc", "run", "--cgroups", "").stdout.split() == [
        "enabled", "disabled", "no-conmon", "split", ":4"]
    assert store.run("__completeNoDesc", "ps", "--all", "--").stdout.count("--all") == 0
    assert store.run("__completeNoDesc", "nosuch", "").stdout == ":0\n"
    top = store.run("__completeNoDesc", "").stdout.split()
    assert {"run", "container", "help", "volume"} <= set(top) and "__complete" not in top
    assert store.run("__completeNoDesc", "completion", "").stdout.split() == ["bash", "zsh", "fish",
                                                                            "powershell", ":4"]


def test_completion_scripts_call_back(store: SealpodRunner, tmp_path: Path) -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        text = store.run("completion", shell).stdout
        assert "__complete " in text and "__completeNoDesc" not in text, shell
        assert "__completeNoDesc" in store.run("completion", "--no-desc", shell).stdout
    assert store.run("completion", "zsh").stdout.startswith("#compdef sealpod\n")
    out = tmp_path / "_sealpod"
    assert store.run("completion", "bash", "-f", str(out)).stdout == ""
    assert "complete -F _sealpod_completions sealpod" in out.read_text()
    assert _fails(store, 125, "completion") == "Error: accepts 1 arg(s), received 0\n"
    assert _fails(store, 125, "completion", "tcsh") == 'Error: invalid argument "tcsh" for "sealpod completion"\n'
    syntax = subprocess.run(["bash", "-n", str(out)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


# --- 037-runlabel.bats ---------------------------------------------------------------------------

def test_container_runlabel_like_podman(store: SealpodRunner, tmp_path: Path) -> None:
    ctx = tmp_path / "runlabel-test"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(
        f"FROM {IMAGE}\n"
        "LABEL INSTALL podman run -t -i --rm \\${OPT1} --privileged -v /:/host --net=host -e HOMEDIR=\\$HOME "
        "-e NAME=\\${NAME} -e IMAGE=\\${IMAGE} -e CONFDIR=/etc/\\${NAME} \\${IMAGE} \\${OPT2} /bin/install.sh "
        "\\${OPT3}\n"
        'LABEL RUN="docker run --rm --name \\$NAME \\$IMAGE echo ran \\$NAME"\n')
    store.run("build", "-q", "-t", "runlabel_image", str(ctx))
    try:
        home = store.env["HOME"]
        out = store.run("container", "runlabel", "--opt1=r1", "--opt2=r2", "--opt3=r3", "--name", "test1",
                        "--display", "install", "runlabel_image").stdout
        program, _, rest = out.removeprefix("command: ").partition(" ")
        assert program.endswith("sealpod")
        assert rest == (f"run -t -i --rm r1 --privileged -v /:/host --net=host -e HOMEDIR={home} -e NAME=test1 "
                        "-e IMAGE=localhost/runlabel_image:latest -e CONFDIR=/etc/test1 "
                        "localhost/runlabel_image:latest r2 /bin/install.sh r3\n")
        out = store.run("container", "runlabel", "--opt3=r3", "--display", "install", "runlabel_image").stdout
        assert out.endswith(" run -t -i --rm --privileged -v /:/host --net=host -e HOMEDIR=" + home +
                            " -e NAME=runlabel_image -e IMAGE=localhost/runlabel_image:latest "
                            "-e CONFDIR=/etc/runlabel_image localhost/runlabel_image:latest /bin/install.sh r3\n")
        assert _fails(store, 125, "container", "runlabel", "--display", "uninstall", "runlabel_image") == \
            "Error: cannot find the value of label: uninstall in image: runlabel_image\n"
        # without --display the label runs, with the same store (sealpod replaces the docker/podman word);
        # Podman prints no "command:" line then
        res = store.run("container", "runlabel", "run", "runlabel_image")
        assert res.stdout == "ran runlabel_image\n"
    finally:
        store.run("rmi", "-f", "runlabel_image")


# --- 760-system-renumber.bats --------------------------------------------------------------------

def test_system_renumber_basic_with_volume(store: SealpodRunner) -> None:
    assert store.run("volume", "create", "renumbertest").stdout == "renumbertest\n"
    res = store.run("system", "renumber")
    assert (res.stdout, res.returncode) == ("", 0)
    assert store.run("volume", "rm", "renumbertest").stdout == "renumbertest\n"


# --- 330-corrupt-images.bats ---------------------------------------------------------------------

def _corrupt(sp: SealpodRunner, image_id: str, what: str) -> None:
    """The store's equivalents of deleting c/storage's manifest file or config blob."""
    import sqlite3

    db = sqlite3.connect(sp.root / "sealpod.db")
    with db:
        if what == "manifest":
            db.execute("DELETE FROM manifests WHERE image_id=?", (image_id,))
        else:
            db.execute("UPDATE images SET config=? WHERE id=?", (b"{", image_id))
    db.close()


@pytest.mark.parametrize("command", ["rmi -f {id}", "rmi -f {name}", "rmi -f -a", "image prune -a -f",
                                     "system reset -f"])
def test_corrupt_images_recover_like_podman(seeded_registry: RegistryServer, tmp_path: Path, command: str) -> None:
    for what in ("manifest", "config"):
        sp = SealpodRunner(tmp_path / what, search_registries=[seeded_registry.host],
                           insecure_registries=[seeded_registry.host])
        image_id = sp.run("pull", "-q", IMAGE).stdout.split()[-1]
        sp.run("tag", image_id, "quay.io/libpod/alpine:test")
        sp.run("untag", image_id, f"{seeded_registry.host}/{IMAGE}:latest")  # one name, as after Podman's load+tag
        _corrupt(sp, image_id, what)
        out = _fails(sp, 125, "images")
        item = 'locating item named "manifest" for' if what == "manifest" else "decoding configuration of"
        assert re.fullmatch(rf'Error: {item} image with ID "{image_id}" '
                            r"\(consider removing the image to resolve the issue\): .*\n", out), out
        res = sp.run(*command.format(id=image_id, name="quay.io/libpod/alpine:test").split())
        assert re.search(r"Failed to determine parent of image.*ignoring the error", res.stderr), res
        assert sp.run("images", "-a", "--noheading").stdout == ""


# --- 420-cgroups.bats ----------------------------------------------------------------------------

def test_run_preserves_initial_cgroup_manager(store: SealpodRunner) -> None:
    default = store.run("info", "--format", "{{.Host.CgroupManager}}").stdout.strip()
    other = {"systemd": "cgroupfs", "cgroupfs": "systemd"}[default]
    res = store.run(f"--cgroup-manager={other}", "run", "--name", "myc", IMAGE, "true")
    assert res.stdout == ""
    try:
        assert store.run("container", "inspect", "--format", "{{.HostConfig.CgroupManager}}",
                         "myc").stdout == f"{other}\n"
        assert store.run("start", "-a", "myc").stdout == ""
    finally:
        store.run("rm", "myc")


def test_run_cgroups_disabled_needs_a_runtime_without_cgroups(store: SealpodRunner) -> None:
    """Podman's test runs only with crun; with runc, Podman refuses the flag in these words."""
    runtime = store.run("info", "--format", "{{.Host.OCIRuntime.Name}}").stdout.strip()
    if runtime != "runc":
        pytest.skip(f"runtime is {runtime}")
    assert _fails(store, 125, "run", "--rm", "--cgroups=disabled", IMAGE, "true") == \
        "Error: requested OCI runtime runc is not compatible with NoCgroups: invalid argument\n"


def test_run_cgroup_parent_and_cgroupns(store: SealpodRunner) -> None:
    out = store.run("run", "--rm", "--cgroup-parent", "/sealpod_conf_misc3", IMAGE, "cat", "/proc/self/cgroup").stdout
    assert re.search(r"^\d+:pids:/sealpod_conf_misc3/libpod-[0-9a-f]{64}$", out, re.M), out
    private = store.run("run", "--rm", "--cgroupns=private", IMAGE, "cat", "/proc/self/cgroup").stdout
    assert re.search(r"^\d+:pids:/$", private, re.M), private
    store.run("create", "--name", "cgparent", "--cgroup-parent", "/x", "--cgroupns", "private", IMAGE)
    try:
        fmt = "{{.HostConfig.CgroupParent}} {{.HostConfig.CgroupMode}} {{.HostConfig.Cgroups}}"
        assert store.run("inspect", "--format", fmt, "cgparent").stdout == "/x private default\n"
    finally:
        store.run("rm", "cgparent")
    assert "unrecognized namespace mode bogus passed" in _fails(store, 125, "run", "--cgroupns=bogus", IMAGE)


# --- 180-blkio.bats ------------------------------------------------------------------------------

def _loop_device(tmp_path: Path) -> Iterator[tuple[str, str]]:
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(1024 * 1024)
    res = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"no loop device: {res.stderr.strip()}")
    dev = res.stdout.strip()
    try:
        st = Path(dev).stat()
        yield dev, f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def test_run_blkio_device_limits(store: SealpodRunner, tmp_path: Path) -> None:
    """180-blkio.bats writes a BFQ weight (skipped where BFQ is off, as here); the throttles work on v1."""
    for dev, majmin in _loop_device(tmp_path):
        script = ("cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
                  "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device")
        res = store.run("run", "--rm", "--device", f"{dev}:{dev}", "--device-read-bps", f"{dev}:1mb",
                        "--device-write-iops", f"{dev}:100", IMAGE, "sh", "-c", script)
        assert res.stdout.splitlines() == [f"{majmin} 1048576", f"{majmin} 100"]
        weight = Path("/sys/fs/cgroup/blkio/blkio.weight").exists() or \
            Path("/sys/fs/cgroup/blkio/blkio.bfq.weight").exists()
        res = store.run("run", "--rm", "--blkio-weight", "300", IMAGE, "true")
        if not weight:
            assert res.stderr == ("Your kernel does not support Block I/O weight or the cgroup is not mounted. "
                                  "Weight discarded.\n")
    assert "--blkio-weight" in _fails(store, 125, "run", "--blkio-weight", "5", IMAGE, "true")
