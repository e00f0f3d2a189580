"""What Podman 4.3.1 does with a build's working (external) containers beyond ``ps --external``: its
own commands do not find them ("no such container"), ``rm`` does, ``mount``/``diff`` work on their
storage, and they have no events; and the groups an ``exec`` process gets, which Podman looks up
afresh rather than copying the container process's. Against real conmon, runc and overlay mounts."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, build_context, store_with_image

WORKING = "tiny-working-container"
GROUPS_IMAGE = "localhost/groupsimg"
GROUPS_USER_IMAGE = "localhost/groupsuser"
_GROUPS_FILES = ("RUN echo 'daemon:x:2:2:daemon:/sbin:/bin/false' >> /etc/passwd && "
                 "printf 'root:x:0:root\\nbin:x:1:root,daemon\\ndaemon:x:2:root,daemon\\nadm:x:4:root,adm,daemon\\n"
                 "wheel:x:10:root\\nnobody:x:65534:\\n' > /etc/group\n")


@pytest.fixture(scope="module")
def ext(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("external-gaps"), seeded_registry.host) as runner:
        yield runner
        for cid in runner.run("ps", "--external", "-q").stdout.split():
            runner.run("rm", "-f", "-t", "0", cid, check=False)


def _fails(runner: SealpodRunner, *args: str, code: int = 125) -> str:
    res = runner.run(*args, check=False)
    assert res.returncode == code, (args, res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    return res.stderr.strip()


def _building(runner: SealpodRunner, tmp_path: Path, tag: str) -> subprocess.Popen[str]:
    """A build whose RUN sleeps, left running with its working container in place."""
    ctx = build_context(tmp_path, tag, "FROM sealtest/tiny\nRUN sleep 30\n")
    proc = subprocess.Popen(runner.argv("build", "-t", tag, str(ctx)), env=runner.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not runner.run("ps", "--external", "-q").stdout.split():
        assert proc.poll() is None and time.monotonic() < deadline, "the build never reached its RUN"
        time.sleep(0.2)
    return proc


def _stop(runner: SealpodRunner, proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    for cid in runner.run("ps", "--external", "-q").stdout.split():
        runner.run("rm", "-f", "-t", "0", cid, check=False)


def test_podman_commands_do_not_find_working_containers(ext: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 with a `podman build` mid-RUN: inspect, logs, start, stop, exec, ... of the
    working container fail as for an unknown one; rm refuses it without -f (exit 2), rm -f removes it."""
    since = str(int(time.time()) - 1)
    proc = _building(ext, tmp_path, "hidden")
    try:
        cid = ext.run("ps", "--external", "-q", "--no-trunc").stdout.split()[0]
        nosuch = f'no container with name or ID "{WORKING}" found: no such container'
        for verb in (("logs",), ("start",), ("stop",), ("kill",), ("restart",), ("pause",), ("init",),
                     ("wait",), ("port",), ("attach",), ("export",), ("exec",), ("rename",), ("commit",)):
            extra = {"exec": ("true",), "rename": ("other",), "commit": ("img",)}.get(verb[0], ())
            assert _fails(ext, *verb, WORKING, *extra) == f"Error: {nosuch}", verb
        short = cid[:12]
        assert _fails(ext, "logs", short) == f'Error: no container with name or ID "{short}" found: no such container'
        res = ext.run("inspect", WORKING, check=False)
        assert res.returncode == 125 and json.loads(res.stdout) == []
        assert res.stderr.strip() == f'Error: inspecting object: no such object: "{WORKING}"'
        assert _fails(ext, "inspect", cid) == f'Error: inspecting object: no such object: "{cid}"'
        assert _fails(ext, "top", WORKING) == f"Error: unable to look up requested container: {nosuch}"
        assert _fails(ext, "healthcheck", "run", WORKING) == \
            f"Error: unable to look up {WORKING} to perform a health check: {nosuch}"
        assert _fails(ext, "cp", f"{WORKING}:/etc/passwd", str(tmp_path / "x")) == \
            f'Error: container "{WORKING}" does not exist'
        # the name stays taken
        assert "is already in use by " + cid in _fails(ext, "create", "--name", WORKING, "sealtest/tiny", "true")
        # storage-level commands see it, as Podman's (Buildah's) storage does
        assert ext.run("mount", WORKING).stdout.strip().endswith("/merged")
        assert ext.run("diff", WORKING).returncode == 0
        # rm finds it: refused without -f, even with --ignore
        expected = (f'Error: container "{WORKING}" is mounted and cannot be removed without using force: '
                    "container state improper")
        assert _fails(ext, "rm", WORKING, code=2) == expected
        assert _fails(ext, "rm", "--ignore", WORKING, code=2) == expected
        assert ext.run("rm", "-f", "-t", "0", WORKING).stdout.strip() == WORKING
        assert ext.run("ps", "--external", "-q").stdout.strip() == ""
    finally:
        _stop(ext, proc)
    events = ext.run("events", "--since", since, "--stream=false", "--format", "{{.Name}} {{.Status}}").stdout
    assert "working-container" not in events and cid not in events


def test_latest_never_means_a_working_container(ext: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1 --latest with only a build's working container (or none at all): its own words."""
    ext.run("rm", "-a", "-f", "-t", "0")
    proc = _building(ext, tmp_path, "latest")
    try:
        for verb in ("logs", "start", "stop", "kill", "port", "wait", "mount", "init"):
            assert _fails(ext, verb, "-l") == "Error: no such container", verb
        for cmd in (("inspect", "-l"), ("container", "inspect", "-l")):
            res = ext.run(*cmd, check=False)
            assert res.returncode == 125 and json.loads(res.stdout) == []
            assert res.stderr.strip() == "Error: inspecting object: no containers to inspect: no such container"
        assert _fails(ext, "top", "-l") == "Error: unable to look up requested container: no such container"
        assert _fails(ext, "container", "diff", "-l") == "Error: unable to get latest container: no such container"
        assert _fails(ext, "stats", "--no-stream", "-l") == \
            "Error: unable to get list of containers: no such container"
        assert _fails(ext, "rm", "-l", code=1) == "Error: no such container"
    finally:
        _stop(ext, proc)


def test_unknown_object_words(ext: SealpodRunner, tmp_path: Path) -> None:
    """Podman 4.3.1's words for an unknown name: container inspect, inspect --type, cp, top."""
    res = ext.run("container", "inspect", "nosuch", check=False)
    assert res.returncode == 125 and json.loads(res.stdout) == []
    assert res.stderr.strip() == "Error: inspecting object: no such container nosuch"
    for kind, words in (("container", "no such container nosuch"), ("volume", "no such volume nosuch"),
                        ("pod", "no such pod nosuch"),
                        ("network", "network nosuch: unable to find network with name or ID nosuch: "
                                    "network not found")):
        assert _fails(ext, "inspect", "--type", kind, "nosuch") == f"Error: inspecting object: {words}"
    assert _fails(ext, "cp", "nosuch:/etc/passwd", str(tmp_path)) == 'Error: container "nosuch" does not exist'
    assert _fails(ext, "cp", str(tmp_path), "nosuch:/tmp") == 'Error: container "nosuch" does not exist'
    assert _fails(ext, "top", "nosuch") == \
        'Error: unable to look up requested container: no container with name or ID "nosuch" found: no such container'


def test_build_still_reaches_its_containers(ext: SealpodRunner, tmp_path: Path) -> None:
    """A build's RUN, COPY and WORKDIR steps drive their working containers (hidden from everyone
    else) to the end; nothing is left behind, and the build's only event is Podman's "image build"
    named by the image ID (no container events, no tag events)."""
    since = str(int(time.time()) - 1)
    ctx = build_context(tmp_path, "works", "FROM sealtest/tiny\nWORKDIR /w\nCOPY f /w/f\nRUN cat f > g\n"
                                           "RUN test -s /w/g\n", f="hello\n")
    ext.run("build", "-t", "worksimg", "-t", "worksimg:two", str(ctx))
    image_id = ext.run("image", "inspect", "--format", "{{.Id}}", "worksimg").stdout.strip()
    assert ext.run("ps", "-a", "--external", "-q").stdout.strip() == ""
    events = [json.loads(line) for line in ext.run("events", "--since", since, "--stream=false",
                                                    "--format", "json").stdout.splitlines()]
    events = [e for e in events if e["Status"] != "pull"]  # the module's store was filled just before
    assert events == [{"Name": image_id, "Status": "build", "Time": events[0]["Time"], "Type": "image",
                       "Attributes": None}]
    assert ext.run("run", "--rm", "worksimg:two", "cat", "/w/g").stdout == "hello\n"


def test_api_does_not_find_working_containers(api: ApiService, tmp_path: Path) -> None:
    """The REST API (Docker and libpod) answers 404 for a build's working container, as Podman's
    service; exists with external=true finds it."""
    proc = _building(api.runner, tmp_path, "apihidden")
    try:
        for target in (f"/containers/{WORKING}/json", f"/v4.0.0/libpod/containers/{WORKING}/json"):
            status, body = api.request("GET", target)
            assert status == 404, (target, body)
            assert b"no such container" in body
        assert api.request("GET", f"/v4.0.0/libpod/containers/{WORKING}/exists")[0] == 404
        assert api.request("GET", f"/v4.0.0/libpod/containers/{WORKING}/exists?external=true")[0] == 204
    finally:
        _stop(api.runner, proc)


# --- exec's groups ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def groups(ext: SealpodRunner, tmp_path_factory: pytest.TempPathFactory) -> SealpodRunner:
    """Images whose /etc/group lists root and daemon in supplementary groups (busybox's id prints them)."""
    base = tmp_path_factory.mktemp("groups")
    ext.run("build", "-t", GROUPS_IMAGE, str(build_context(base, "plain", f"FROM sealtest/tiny\n{_GROUPS_FILES}")))
    ext.run("build", "-t", GROUPS_USER_IMAGE, str(build_context(base, "user", f"FROM {GROUPS_IMAGE}\nUSER daemon\n")))
    return ext


def _exec_ids(runner: SealpodRunner, run_opts: tuple[str, ...], image: str = GROUPS_IMAGE,
              users: tuple[str, ...] = ()) -> list[str]:
    """``id`` of an exec without --user, then of one per ``users``."""
    cid = runner.run("run", "-d", *run_opts, image, "sleep", "100").stdout.strip()
    try:
        out = [runner.run("exec", cid, "id").stdout.strip()]
        out += [runner.run("exec", "--user", u, cid, "id").stdout.strip() for u in users]
        return out
    finally:
        runner.run("rm", "-f", "-t", "0", cid)


ROOT_GROUPS = "uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),4(adm),10(wheel)"
DAEMON_GROUPS = "uid=2(daemon) gid=2(daemon) groups=1(bin),2(daemon),4(adm)"


def test_exec_groups_root_and_group_add(groups: SealpodRunner) -> None:
    """Podman 4.3.1: exec in a root container has no supplementary group (the container's process
    has root's), --group-add's alone with --group-add (name or number); exec --user looks the
    user up: all its /etc/group memberships, its primary group included, and no --group-add."""
    assert _exec_ids(groups, (), users=("0", "daemon")) == ["uid=0(root) gid=0(root)", ROOT_GROUPS, DAEMON_GROUPS]
    cid = groups.run("run", "-d", GROUPS_IMAGE, "sleep", "100").stdout.strip()
    try:  # the container's own process keeps root's groups
        assert groups.run("exec", cid, "grep", "Groups", "/proc/1/status").stdout.split()[1:] == \
            ["0", "1", "2", "4", "10"]
    finally:
        groups.run("rm", "-f", "-t", "0", cid)
    for added in ("10", "wheel"):
        assert _exec_ids(groups, ("--group-add", added), users=("daemon",)) == \
            ["uid=0(root) gid=0(root) groups=10(wheel)", DAEMON_GROUPS]
    assert _exec_ids(groups, ("--group-add", "keep-groups")) == ["uid=0(root) gid=0(root)"]


def test_exec_groups_numeric_user(groups: SealpodRunner) -> None:
    """Podman 4.3.1: --user N gets a group line naming it (N:x:N:N), which exec's lookup finds;
    --user N:M gets none; a read-only root's copies of the files are not what exec reads."""
    assert _exec_ids(groups, ("--user", "1000"), users=("1000", "0")) == \
        ["uid=1000(1000) gid=0(root) groups=1000(1000)"] * 2 + [ROOT_GROUPS]
    assert _exec_ids(groups, ("--user", "1000:2000"), users=("5:wheel",)) == \
        ["uid=1000(1000) gid=2000(2000)", "uid=5 gid=10(wheel)"]
    assert _exec_ids(groups, ("--user", "1000", "--group-add", "wheel"), users=("1000",)) == \
        ["uid=1000(1000) gid=0(root) groups=10(wheel),1000(1000)", "uid=1000(1000) gid=0(root) groups=1000(1000)"]
    assert _exec_ids(groups, ("--read-only", "--user", "1000")) == ["uid=1000(1000) gid=0(root)"]


def test_exec_groups_named_and_image_user(groups: SealpodRunner) -> None:
    """Podman 4.3.1: a named user (--user or the image's USER) gets its /etc/group memberships in
    exec too, plus --group-add's; USER:GROUP gets that group alone."""
    assert _exec_ids(groups, ("--user", "daemon")) == [DAEMON_GROUPS]
    assert _exec_ids(groups, (), image=GROUPS_USER_IMAGE, users=("0",)) == [DAEMON_GROUPS, ROOT_GROUPS]
    assert _exec_ids(groups, ("--group-add", "wheel"), image=GROUPS_USER_IMAGE) == \
        ["uid=2(daemon) gid=2(daemon) groups=1(bin),2(daemon),4(adm),10(wheel)"]
    assert _exec_ids(groups, ("--user", "daemon:wheel")) == ["uid=2(daemon) gid=10(wheel)"]
    home = groups.run("run", "-d", GROUPS_IMAGE, "sleep", "100").stdout.strip()
    try:  # exec --user sets the user's $HOME
        assert groups.run("exec", "--user", "daemon", home, "sh", "-c", "echo $HOME").stdout.strip() == "/sbin"
    finally:
        groups.run("rm", "-f", "-t", "0", home)
