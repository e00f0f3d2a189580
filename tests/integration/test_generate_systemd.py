"""generate systemd end to end: unit text compared with real Podman 4.3.1's (same create commands,
paths and binaries normalised away), checked by ``systemd-analyze verify``, and the Exec lines of
``--new`` units run by hand (there is no systemd as PID 1 here) to show they create, start, stop
and remove what they claim to."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.api import ApiService
from tests.rig.sealpod import SealpodRunner, require_root

IMAGE = "localhost/bb"
PODMAN_FLAGS = ("--runtime", "runc", "--cgroup-manager", "cgroupfs")
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
_GLOBAL = {"--root", "--runroot", "--runtime", "--cgroup-manager", "--ulimit"}


def _image_tar(path: Path) -> Path:
    """A one-layer busybox image as a tarball for ``import``: no registry needed on either side."""
    with tarfile.open(path, "w") as tar:
        tar.add("/bin/busybox", "bin/busybox")
        for applet in ("sh", "sleep", "true"):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(info)
    return path


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealpodRunner]:
    require_root()
    base = tmp_path_factory.mktemp("gensd")
    runner = SealpodRunner(base)
    runner.run("import", "-q", "-c", 'CMD ["/bin/sh"]', str(_image_tar(base / "bb.tar")), IMAGE)
    yield runner
    runner.run("pod", "rm", "-af", "-t", "0", check=False)
    runner.run("rm", "-af", "-t", "0", check=False)


class Podman:
    def __init__(self, base: Path) -> None:
        self.globals = ("--root", str(base / "pm"), "--runroot", str(base / "pmr"), *PODMAN_FLAGS)

    def run(self, *args: str) -> str:
        proc = subprocess.run(["podman", *self.globals, *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"podman {shlex.join(args)}: {proc.stderr}"
        return proc.stdout


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed: nothing to compare with")
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="pm-gs-", dir="/tmp"))  # Podman wants a short run root
    pm = Podman(base)
    pm.run("import", "-q", "-c", 'CMD ["/bin/sh"]', str(_image_tar(base / "bb.tar")), IMAGE)
    yield pm
    for what in (("pod", "rm", "-af", "-t", "0"), ("rm", "-af", "-t", "0"), ("system", "reset", "-f")):
        subprocess.run(["podman", *pm.globals, *what], capture_output=True, timeout=120)
    shutil.rmtree(base, ignore_errors=True)


# --- unit text --------------------------------------------------------------------------------------

def entries(text: str) -> list[tuple[str, str]]:
    """(key, value) of every assignment, continuation lines joined."""
    out = []
    for line in text.replace("\\\n\t", " ").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.append((key, value))
    return out


def values(text: str, key: str) -> list[str]:
    return [v for k, v in entries(text) if k == key]


def normalise(text: str) -> list[str]:
    """What must agree with Podman: every line, with binaries, store paths and store flags taken out."""
    out = []
    for line in text.replace("\\\n\t", " ").splitlines():
        key, eq, value = line.partition("=")
        if not eq:
            out.append(line)
            continue
        if key == "Description":
            value = value.split(" ", 1)[1]  # "Podman x.service" / "sealpod x.service"
        elif key in ("RequiresMountsFor", "PIDFile") and value.startswith("/"):
            value = "PATH"
        elif key.startswith("Exec"):
            words, kept = value.split(), []
            skip = False
            for w in words:
                if skip:
                    skip = False
                elif w in _GLOBAL:
                    skip = True
                else:
                    kept.append("EXE" if w.endswith(("/podman", "/sealpod")) else
                                "INFRA" if re.fullmatch(r"[0-9a-f]{12}-infra", w) else w)
            value = " ".join(kept)
        out.append(f"{key}={value}")
    return out


def _units(output: str) -> dict[str, str]:
    return dict(json.loads(output))


CREATE_CASES = [
    ("plain", ["--name", "c1", "-e", "FOO=bar", "-p", "8080:80", IMAGE, "sleep", "1000"]),
    ("flags", ["--name=c2", "--stop-timeout", "20", "--restart", "always", "--replace", "--sdnotify=container",
               "-t", "-e", "A=b c", "--label", "l=x y", IMAGE, "sleep", "1000"]),
    ("burst", ["--name", "c3", "--restart", "on-failure:3", "-i", "--cgroups=enabled", IMAGE, "sleep", "1000"]),
]


@pytest.mark.parametrize(("case", "create"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
@pytest.mark.parametrize("new", [False, True], ids=["existing", "new"])
def test_container_units_as_podman(sp: SealpodRunner, podman: Podman, case: str, create: list[str],
                                   new: bool) -> None:
    name = next(a.split("=", 1)[1] if "=" in a else create[i + 1] for i, a in enumerate(create)
                if a.startswith("--name"))
    if not sp.run("container", "exists", name, check=False).returncode == 0:
        sp.run("create", *create)
        podman.run("create", *ULIMITS, *create)
    flags = ["--no-header", "-n", "--format", "json", *(["--new"] if new else [])]
    ours = _units(sp.run("generate", "systemd", *flags, name).stdout)
    theirs = _units(podman.run("generate", "systemd", *flags, name))
    assert list(ours) == list(theirs) == [f"container-{name}"]
    assert normalise(ours[f"container-{name}"]) == normalise(theirs[f"container-{name}"])


def test_pod_units_as_podman(sp: SealpodRunner, podman: Podman) -> None:
    for tool in (sp.run, podman.run):
        tool("pod", "create", "--name", "p1", "-p", "9090:90")
        tool("create", *(ULIMITS if tool == podman.run else ()), "--pod", "p1", "--name", "pc1", IMAGE, "sleep", "99")
    for new in ([], ["--new"]):
        flags = ["--no-header", "-n", "--format", "json", *new]
        ours = _units(sp.run("generate", "systemd", *flags, "p1").stdout)
        theirs = _units(podman.run("generate", "systemd", *flags, "p1"))
        assert sorted(ours) == sorted(theirs) == ["container-pc1", "pod-p1"]
        for unit in ours:
            assert normalise(ours[unit]) == normalise(theirs[unit]), unit
    text = sp.run("generate", "systemd", "-n", "p1").stdout
    assert text.index("# pod-p1.service") < text.index("# container-pc1.service")
    assert "BindsTo=pod-p1.service" in text and "Before=container-pc1.service" in text


def test_options_and_header(sp: SealpodRunner) -> None:
    sp.run("create", "--name", "opts", IMAGE, "sleep", "1000")
    text = sp.run("generate", "systemd", "-n", "--restart-policy", "always", "--restart-sec", "5",
                  "--start-timeout", "30", "-t", "3", "--container-prefix", "ctr", "--separator", "_",
                  "--wants", "a.service", "--wants", "b.service", "--after", "c.service", "--requires", "d.service",
                  "-e", "X=1", "-e", "Y=two words", "opts").stdout
    lines = text.splitlines()
    assert lines[0] == "# ctr_opts.service" and lines[1].startswith("# autogenerated by sealpod ")
    for expected in ("Wants=a.service b.service", "After=c.service", "Requires=d.service", "Environment=X=1",
                     'Environment="Y=two words"', "Restart=always", "RestartSec=5", "TimeoutStartSec=30",
                     "TimeoutStopSec=63"):
        assert expected in lines, expected
    assert " ".join(values(text, "ExecStop")[0].split()).endswith("stop -t 3 opts")
    exe = values(text, "ExecStart")[0].split()[0]
    assert Path(exe).is_absolute() and Path(exe).name == "sealpod"
    assert f"--root {sp.root}" in values(text, "ExecStart")[0]  # the store of the generating command
    tmpl = sp.run("generate", "systemd", "--template", "--no-header", "-n", "opts").stdout
    assert tmpl.startswith("# container-opts@.service") and "--name opts-%i" in tmpl.replace("\\\n\t", " ")
    assert "Environment=PODMAN_SYSTEMD_UNIT=%n-%i" in tmpl


def test_errors_as_podman(sp: SealpodRunner) -> None:
    res = sp.run("generate", "systemd", "nosuch", check=False)
    assert res.returncode == 125
    assert res.stderr == ("Error: nosuch does not refer to a container or pod: no pod with name or ID nosuch found: "
                          'no such pod: no container with name or ID "nosuch" found: no such container\n')
    cases = [(["a", "b"], "Error: accepts 1 arg(s), received 2"),
             (["--format", "yaml", "x"], "Error: unknown --format argument: yaml"),
             (["--restart-policy", "bogus", "x"], "Error: bogus is not a valid restart policy")]
    for args, message in cases:
        res = sp.run("generate", "systemd", *args, check=False)
        assert (res.returncode, res.stderr.strip()) == (125, message)
    sp.run("pod", "create", "--name", "tp")
    res = sp.run("generate", "systemd", "--template", "tp", check=False)
    assert res.stderr.strip() == "Error: --template is not supported for pods"
    sp.run("pod", "create", "--infra=false", "--name", "noinfra")
    res = sp.run("generate", "systemd", "noinfra", check=False)
    assert res.stderr.strip() == 'Error: generating systemd unit files: Pod "noinfra" has no infra container'


def test_files_json_and_verify(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("pod", "create", "--name", "vp")
    sp.run("create", "--pod", "vp", "--name", "vpc", IMAGE, "sleep", "99")
    out = tmp_path / "units"
    out.mkdir()
    proc = subprocess.run([*sp.argv("generate", "systemd", "-f", "-n", "--new", "vp")], cwd=out, env=sp.env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(out / "pod-vp.service"), str(out / "container-vpc.service")]
    proc = subprocess.run([*sp.argv("generate", "systemd", "-f", "--format", "json", "vpc")], cwd=out,
                          env=sp.env, capture_output=True, text=True, timeout=60)
    ctr_id = sp.run("inspect", "--format", "{{.Id}}", "vpc").stdout.strip()
    assert json.loads(proc.stdout) == {f"container-{ctr_id}": str(out / f"container-{ctr_id}.service")}
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    files = sorted(str(p) for p in out.iterdir())
    verify = subprocess.run(["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True,
                            timeout=120)
    assert verify.returncode == 0 and not [line for line in verify.stderr.splitlines() if str(out) in line], \
        verify.stderr


# --- running the Exec lines by hand -------------------------------------------------------------------

def exec_argv(value: str, runtime_dir: Path, unit: str) -> list[str]:
    """An Exec line as systemd would run it: its specifiers expanded, its quoting undone."""
    value = value.removeprefix("-").replace("%t", str(runtime_dir)).replace("%n", unit)
    return shlex.split(value.replace("%%", "%").replace("$$", "$"))


def run_line(sp: SealpodRunner, value: str, runtime_dir: Path, unit: str,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    with (runtime_dir / "out.log").open("a") as log:  # detached runs keep no pipe of ours open
        proc = subprocess.run(exec_argv(value, runtime_dir, unit), env={**sp.env, **(env or {})}, stdout=log,
                              stderr=subprocess.STDOUT, text=True, timeout=120)
    assert proc.returncode == 0, f"{value}:\n{(runtime_dir / 'out.log').read_text()}"
    return proc


def test_new_container_unit_runs(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("run", "-d", "--name", "svc", "-e", "GREETING=hi there", IMAGE, "sleep", "1000")
    text = _units(sp.run("generate", "systemd", "--new", "-n", "--format", "json", "svc").stdout)["container-svc"]
    sp.run("rm", "-f", "-t", "0", "svc")
    rt, unit = tmp_path / "rt", "container-svc.service"
    rt.mkdir()
    (rt / f"{unit}.ctr-id").write_text("stale")
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(30)
        for value in values(text, "ExecStartPre"):
            run_line(sp, value, rt, unit)
        assert not (rt / f"{unit}.ctr-id").exists()
        run_line(sp, values(text, "ExecStart")[0], rt, unit, {"NOTIFY_SOCKET": str(sock_path)})
        message = sock.recv(4096).decode()
    ctr_id = (rt / f"{unit}.ctr-id").read_text().strip()
    doc = json.loads(sp.run("inspect", "svc").stdout)[0]
    assert doc["Id"] == ctr_id and doc["State"]["Running"]
    assert "GREETING=hi there" in doc["Config"]["Env"]
    assert "READY=1" in message.splitlines() and f"MAINPID={doc['State']['ConmonPid']}" in message.splitlines()
    run_line(sp, values(text, "ExecStop")[0], rt, unit)
    run_line(sp, values(text, "ExecStopPost")[0], rt, unit)
    assert sp.run("container", "exists", "svc", check=False).returncode == 1
    run_line(sp, values(text, "ExecStopPost")[0], rt, unit)  # --ignore: a second stop is no failure


def test_new_pod_units_run(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("pod", "create", "--name", "np", "--label", "tier=web")
    sp.run("create", "--pod", "np", "--name", "npc", IMAGE, "sleep", "1000")
    units = _units(sp.run("generate", "systemd", "--new", "-n", "--format", "json", "np").stdout)
    sp.run("pod", "rm", "-f", "-t", "0", "np")
    rt = tmp_path / "rt"
    rt.mkdir()
    pod, ctr = units["pod-np"], units["container-npc"]
    for value in [*values(pod, "ExecStartPre"), values(pod, "ExecStart")[0]]:
        run_line(sp, value, rt, "pod-np.service")
    pod_id = (rt / "pod-np.pod-id").read_text().strip()
    infra_pid = int((rt / "pod-np.pid").read_text())  # PIDFile: the infra's conmon
    assert Path(f"/proc/{infra_pid}").exists()
    run_line(sp, values(ctr, "ExecStartPre")[0], rt, "container-npc.service")
    run_line(sp, values(ctr, "ExecStart")[0], rt, "container-npc.service")
    doc = json.loads(sp.run("inspect", "npc").stdout)[0]
    assert doc["Pod"] == pod_id and doc["State"]["Running"]
    assert json.loads(sp.run("pod", "inspect", "np").stdout)["Labels"] == {"tier": "web"}
    for value in (values(ctr, "ExecStop")[0], values(ctr, "ExecStopPost")[0]):
        run_line(sp, value, rt, "container-npc.service")
    for value in (values(pod, "ExecStop")[0], values(pod, "ExecStopPost")[0]):
        run_line(sp, value, rt, "pod-np.service")
    assert sp.run("pod", "exists", "np", check=False).returncode == 1


def test_create_command_recorded(sp: SealpodRunner) -> None:
    sp.run("create", "--name", "cc", IMAGE, "true")
    doc = json.loads(sp.run("inspect", "cc").stdout)[0]
    assert doc["Config"]["CreateCommand"] == ["sealpod", "--root", str(sp.root), "--runroot", str(sp.runroot),
                                              "create", "--name", "cc", IMAGE, "true"]
    sp.run("pod", "create", "--name", "ccp")
    assert json.loads(sp.run("pod", "inspect", "ccp").stdout)["CreateCommand"][-3:] == ["create", "--name", "ccp"]


# --- REST ---------------------------------------------------------------------------------------------

def test_libpod_route(api: ApiService) -> None:
    api.docker("create", "--name", "restgen", "sealtest/tiny", "sleep", "100")
    status, body = api.request("GET", "/v4.3.1/libpod/generate/restgen/systemd?useName=true&noHeader=true"
                                      "&stopTimeout=4&wants=x.service")
    assert status == 200, body
    units = json.loads(body)
    assert list(units) == ["container-restgen"]
    text = units["container-restgen"]
    assert "Wants=x.service" in text and "TimeoutStopSec=64" in text and values(text, "ExecStart")[0].endswith(
        "start restgen")
    status, body = api.request("GET", "/v4.3.1/libpod/generate/restgen/systemd?new=true")
    assert status == 500 and "no create command found" in json.loads(body)["message"]
    status, body = api.request("GET", "/v4.3.1/libpod/generate/nosuch/systemd")
    assert status >= 400 and "does not refer to a container or pod" in json.loads(body)["message"]
    api.docker("rm", "-f", "restgen")
