"""Podman's own system tests of its systemd integration (250-systemd, 260-sdnotify, 270-socket-activation
and 252-quadlet .bats), case by case, against sealpod.

There is no systemd as PID 1 here: where a BATS case starts a unit with ``systemctl``, the unit's Exec
lines are run by hand, as systemd would run them (specifiers expanded, quoting undone, its
Environment= applied); NOTIFY_SOCKET is a datagram socket of the test's own.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.notify import as_fd3, messages, notify_listener
from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, describe, store_with_image
from tests.rig.wait import wait_for

pytestmark = pytest.mark.integration

IMAGE = "sealtest/tiny"
PROXY_ENV = ("-e", "http_proxy", "-e", "https_proxy", "-e", "no_proxy",
             "-e", "HTTP_PROXY", "-e", "HTTPS_PROXY", "-e", "NO_PROXY")


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("confsd"), seeded_registry.host) as runner:
        yield runner
        runner.run("pod", "rm", "-af", "-t", "0", check=False)


# --- running units by hand ------------------------------------------------------------------------

def unit_values(text: str, key: str) -> list[str]:
    """Every value of ``key`` in a unit, continuation lines joined."""
    out = []
    for line in text.replace("\\\n\t", " ").splitlines():
        k, eq, value = line.partition("=")
        if eq and k == key and not line.startswith("#"):
            out.append(value)
    return out


class Unit:
    """A service unit run by hand: %-specifiers as systemd expands them for ``name``."""

    def __init__(self, sp: SealpodRunner, text: str, name: str, runtime_dir: Path, instance: str = "") -> None:
        self.sp, self.text, self.name, self.rt, self.instance = sp, text, name, runtime_dir, instance
        runtime_dir.mkdir(parents=True, exist_ok=True)

    def expand(self, value: str) -> str:
        table = {"t": str(self.rt), "T": "/tmp", "n": self.name, "N": self.name.removesuffix(".service"),
                 "i": self.instance, "I": self.instance, "%": "%"}
        out, i = "", 0
        while i < len(value):
            if value[i] == "%" and i + 1 < len(value):
                out += table[value[i + 1]]
                i += 2
            else:
                out += value[i]
                i += 1
        return out

    def env(self) -> dict[str, str]:
        env = dict(self.sp.env)
        for value in unit_values(self.text, "Environment"):
            for word in shlex.split(self.expand(value).replace("$$", "$")):
                key, _, val = word.partition("=")
                env[key] = val
        return env

    def run(self, key: str, extra_env: dict[str, str] | None = None,
            log: Path | None = None) -> list[subprocess.CompletedProcess[str]]:
        """Every ``key`` line in order; a line without "-" must succeed, as systemd requires."""
        results = []
        for value in unit_values(self.text, key):
            optional = value.startswith("-")
            argv = shlex.split(self.expand(value.removeprefix("-")).replace("$$", "$"))
            with (log or self.rt / "journal").open("a") as journal:  # detached runs keep no pipe of ours
                res = subprocess.run(argv, env={**self.env(), **(extra_env or {})}, stdout=journal,
                                     stderr=subprocess.STDOUT, text=True, timeout=120, cwd=self.sp.base)
            assert optional or res.returncode == 0, f"{key}={value}:\n{(log or self.rt / 'journal').read_text()}"
            results.append(res)
        return results

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        self.run("ExecStartPre")
        self.run("ExecStart", extra_env)

    def stop(self) -> None:
        self.run("ExecStop")
        self.run("ExecStopPost")


def inspect_format(sp: SealpodRunner, fmt: str, *names: str, kind: str = "container") -> str:
    return sp.run(kind, "inspect", "--format", fmt, *names).stdout.rstrip("\n")


def run_env(sp: SealpodRunner, env: dict[str, str], *args: str, check: bool = True,
            shell_prefix: str = "") -> subprocess.CompletedProcess[str]:
    argv = sp.argv(*args)
    if shell_prefix:
        argv = ["/bin/sh", "-c", f'{shell_prefix} exec "$@"', "sh", *argv]
    res = subprocess.run(argv, env={**sp.env, **env}, cwd=sp.base, capture_output=True, text=True, timeout=120,
                         pass_fds=(3,) if shell_prefix else ())
    assert not check or res.returncode == 0, describe(res)
    return res


# --- 250-systemd.bats -----------------------------------------------------------------------------

def test_generate_systemd_basic(sp: SealpodRunner, tmp_path: Path, seeded_registry: RegistryServer) -> None:
    cid = sp.run("create", "--restart=always", IMAGE).stdout.strip()
    res = sp.run("generate", "systemd", cid)
    # a logrus line, as Podman's: level=warning msg="... policy \"always\" ..."
    assert f'Container {cid} has restart policy \\"always\\" which can lead to issues on shutdown' in res.stderr
    sp.run("rm", "-f", cid)

    full = f"{seeded_registry.host}/{IMAGE}"  # the registry policy needs a fully-qualified name, as $IMAGE is
    sp.run("create", "--pull=always", "--name", "gsbasic", "--label", "io.containers.autoupdate=registry", full,
           "sh", "-c", "trap 'echo Received SIGTERM, finishing; exit' SIGTERM; echo WAITING; "
           "while :; do sleep 0.1; done")
    text = sp.run("generate", "systemd", *PROXY_ENV, "--new", "gsbasic").stdout
    sp.run("rm", "gsbasic")
    unit = Unit(sp, text, "container-gsbasic.service", tmp_path / "rt")
    unit.start()
    wait_for(lambda: "WAITING" in sp.run("logs", "gsbasic").stdout)
    assert inspect_format(sp, "{{.State.Status}}", "gsbasic") == "running"
    unit.stop()
    assert sp.run("container", "exists", "gsbasic", check=False).returncode == 1


def test_generate_systemd_envar(sp: SealpodRunner, tmp_path: Path) -> None:
    run_env(sp, {"FOO": "value", "BAR": "%s"}, "create", "--name", "gsenv", "--env", "FOO", "-e", "BAR",
            "--env", "MYVAR=myval", IMAGE, "sh", "-c", "env && sleep 100")
    text = sp.run("generate", "systemd", *PROXY_ENV, "--new", "gsenv").stdout
    assert "Environment=FOO=value" in text.splitlines() and "Environment=BAR=%%s" in text.splitlines()
    sp.run("rm", "gsenv")
    unit = Unit(sp, text, "container-gsenv.service", tmp_path / "rt")
    unit.start()
    try:
        wait_for(lambda: "MYVAR=myval" in sp.run("logs", "gsenv").stdout)
        logs = sp.run("logs", "gsenv").stdout.splitlines()
        for line in ("FOO=value", "BAR=%s", "MYVAR=myval"):
            assert line in logs
    finally:
        unit.stop()


def test_generate_systemd_restart_policy_and_timeouts(sp: SealpodRunner) -> None:
    sp.run("create", "--restart=always", "--name", "rp1", IMAGE)
    assert "Restart=always" in sp.run("generate", "systemd", "--new", "rp1").stdout.splitlines()
    out = sp.run("generate", "systemd", "--new", "--restart-policy=on-failure", "rp1").stdout.splitlines()
    assert "Restart=on-failure" in out
    sp.run("create", "--restart=unless-stopped", "--name", "rp2", IMAGE)
    assert "Restart=always" in sp.run("generate", "systemd", "--new", "rp2").stdout.splitlines()
    sp.run("create", "--restart=on-failure:42", "--name", "rp3", IMAGE)
    out = sp.run("generate", "systemd", "--new", "rp3").stdout.splitlines()
    assert "Restart=on-failure" in out and "StartLimitBurst=42" in out
    sp.run("rm", "-t", "0", "-f", "rp1", "rp2", "rp3")


def test_pass_listen_environment(sp: SealpodRunner) -> None:
    listen = {"LISTEN_PID": "100", "LISTEN_FDS": "1", "LISTEN_FDNAMES": "listen_fdnames"}
    std = sorted(sp.run("run", "--hostname=host1", "--rm", IMAGE, "env").stdout.split())
    want = sorted([*std, "LISTEN_PID=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=listen_fdnames"])
    assert sorted(run_env(sp, listen, "run", "--hostname=host1", "--rm", IMAGE, "env").stdout.split()) == want
    cid = sp.run("create", "--hostname=host1", "--rm", IMAGE, "env").stdout.strip()
    assert sorted(run_env(sp, listen, "start", "--attach", cid).stdout.split()) == want


def test_generate_systemd_template(sp: SealpodRunner, tmp_path: Path) -> None:
    sp.run("create", "--name", "gstpl", IMAGE, "top")
    text = sp.run("generate", "systemd", "--template", "-n", "gstpl").stdout
    assert text.startswith("# container-gstpl@.service")
    sp.run("rm", "-f", "gstpl")
    unit = Unit(sp, text, "container-gstpl@1.service", tmp_path / "rt", instance="1")
    unit.start()
    assert inspect_format(sp, "{{.State.Status}}", "gstpl-1") == "running"
    # the unit's PODMAN_SYSTEMD_UNIT labels the container (auto-update finds its unit so)
    assert inspect_format(sp, "{{.Config.Labels.PODMAN_SYSTEMD_UNIT}}", "gstpl-1") == "container-gstpl@1.service-1"
    unit.stop()
    assert sp.run("container", "exists", "gstpl-1", check=False).returncode == 1


def test_generate_systemd_template_no_support_for_pod(sp: SealpodRunner) -> None:
    sp.run("pod", "create", "--name", "tplpod")
    sp.run("run", "--pod", "tplpod", "-dt", "--name", "tplpodc", IMAGE, "top")
    res = sp.run("generate", "systemd", "--new", "--template", "-n", "tplpod", check=False)
    assert res.returncode == 125 and "--template is not supported for pods" in res.stderr
    sp.run("rm", "-f", "-t", "0", "tplpodc")
    sp.run("pod", "rm", "-f", "tplpod")


def test_generate_systemd_template_only_used_on_new(sp: SealpodRunner) -> None:
    sp.run("create", "--name", "tplnew", IMAGE, "top")
    res = sp.run("generate", "systemd", "--new=false", "--template", "-n", "tplnew", check=False)
    assert (res.returncode, res.stderr) == (125, "Error: --template cannot be set with --new=false\n")
    sp.run("rm", "tplnew")


def test_cgroupfs_info_shows_no_systemd_warning(sp: SealpodRunner) -> None:
    res = run_env(sp, {"DBUS_SESSION_BUS_ADDRESS": ""}, "--log-level", "warning", "--cgroup-manager=cgroupfs",
                  "info", "-f", "")
    assert (res.stdout, res.stderr) == ("\n", "")


def test_systemd_sets_container_uuid(sp: SealpodRunner) -> None:
    uuid = sp.run("run", "--systemd=always", "--name", "uuidtest", IMAGE, "sh", "-c",
                  "echo $container_uuid").stdout.strip()
    assert uuid == inspect_format(sp, "{{ .ID }}", "uuidtest")[:32]
    sp.run("rm", "uuidtest")


# --- 260-sdnotify.bats ----------------------------------------------------------------------------

def test_sdnotify_ignore(sp: SealpodRunner) -> None:
    with notify_listener(sp.base) as (path, sock):
        env = {"NOTIFY_SOCKET": path}
        cid = run_env(sp, env, "create", "--rm", "--sdnotify=ignore", IMAGE, "sh", "-c",
                      "env | grep NOTIFY_SOCKET").stdout.strip()
        assert inspect_format(sp, "{{.Config.SdNotifyMode}} {{.Config.SdNotifySocket}}", cid) == "ignore "
        res = run_env(sp, env, "start", "--attach", cid, check=False)
        assert (res.returncode, res.stdout) == (1, "")
        assert messages(sock, timeout=1.5) == []


def test_sdnotify_conmon(sp: SealpodRunner) -> None:
    with notify_listener(sp.base) as (path, sock):
        cid = run_env(sp, {"NOTIFY_SOCKET": path}, "run", "-d", "--name", "sdnotify_conmon_c", "--sdnotify=conmon",
                      IMAGE, "sh", "-c", "env | grep NOTIFY_SOCKET; echo READY; sleep 999").stdout.strip()
        try:
            assert inspect_format(sp, "{{.Config.SdNotifyMode}} {{.Config.SdNotifySocket}}", cid) == \
                f"conmon {path}"
            main_pid = inspect_format(sp, "{{.State.ConmonPid}}", "sdnotify_conmon_c")
            wait_for(lambda: sp.run("logs", "sdnotify_conmon_c").stdout == "READY\n")
            assert messages(sock, "READY=1") == [f"MAINPID={main_pid}\nREADY=1"]
            assert os.readlink(f"/proc/{main_pid}/exe").endswith("/conmon")
        finally:
            sp.run("rm", "-f", "-t0", cid)


def test_sdnotify_container(sp: SealpodRunner) -> None:
    with notify_listener(sp.base) as (path, sock):
        cid = run_env(sp, {"NOTIFY_SOCKET": path}, "run", "-d", "--sdnotify=container", IMAGE, "sh", "-c",
                      "echo $NOTIFY_SOCKET; echo READY; sleep 999").stdout.strip()
        try:
            assert inspect_format(sp, "{{.Config.SdNotifyMode}} {{.Config.SdNotifySocket}}", cid) == \
                f"container {path}"
            wait_for(lambda: "READY" in sp.run("logs", cid).stdout)
            assert sp.run("logs", cid).stdout.splitlines()[0] == "/run/notify/notify.sock"
            main_pid = inspect_format(sp, "{{.State.ConmonPid}}", cid)
            assert messages(sock, "MAINPID") == [f"MAINPID={main_pid}"]  # not ready until the container says so
            relay = os.path.join(inspect_format(sp, "{{.StaticDir}}", cid), "notify", "notify.sock")
            short = sp.base / "r"  # a sun_path holds 107 bytes: reach the relay by a link
            short.unlink(missing_ok=True)
            short.symlink_to(relay)
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
                client.sendto(b"READY=1", os.fspath(short))
            assert messages(sock, "READY=1") == ["READY=1"]
        finally:
            sp.run("rm", "-f", "-t0", cid)


# --- 270-socket-activation.bats -------------------------------------------------------------------

def _ping(path: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"GET /libpod/_ping HTTP/1.1\r\nHost: placeholder-hostname\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), head
    return body


@pytest.mark.parametrize("with_container", [False, True], ids=["no-container", "existing-container"])
def test_system_service_socket_activation(sp: SealpodRunner, tmp_path: Path, with_container: bool) -> None:
    cid = sp.run("run", "-d", IMAGE, "sleep", "90").stdout.strip() if with_container else ""
    path = os.fspath(tmp_path / "api.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    with as_fd3(listener):
        argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1; export LISTEN_PID LISTEN_FDS; exec "$@"', "sh",
                *sp.argv("--log-level=info", "system", "service", "-t", "2")]
        proc = subprocess.Popen(argv, env=sp.env, cwd=sp.base, pass_fds=(3,), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    listener.close()  # only the service holds the socket now, as systemd would
    try:
        assert _ping(path) == "OK"
        proc.wait(timeout=30)  # -t 2: idle, the service ends
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if cid:
            sp.run("rm", "-f", "-t", "0", cid)


# --- 252-quadlet.bats (the Podman 4.4/4.5 cases) ---------------------------------------------------

def quadlet(sp: SealpodRunner, unit_dir: Path, out_dir: Path, *files: tuple[str, str]) -> dict[str, str]:
    """Run the generator as systemd does (``QUADLET_UNIT_DIRS``, an output directory): no output allowed."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (unit_dir / name).write_text(textwrap.dedent(text))
    import sys

    res = subprocess.run([sys.executable, "-m", "sealpod.systemd.quadlet", "-no-kmsg-log", os.fspath(out_dir)],
                         env={**sp.env, "QUADLET_UNIT_DIRS": os.fspath(unit_dir)}, capture_output=True, text=True,
                         timeout=60)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", ""), describe(res)
    return {p.name: p.read_text() for p in out_dir.glob("*.service")}


def quadlet_unit(sp: SealpodRunner, units: dict[str, str], name: str, tmp_path: Path) -> Unit:
    """A generated unit whose sealpod calls use this store (as GlobalArgs= would)."""
    text = units[name].replace(" run ", f" --root {sp.root} --runroot {sp.runroot} run ", 1)
    for verb in (" rm ", " volume create ", " network create ", " kube play ", " kube down "):
        text = text.replace(verb, f" --root {sp.root} --runroot {sp.runroot}{verb}")
    return Unit(sp, text, name, tmp_path / "rt")


def test_quadlet_conflict_names(sp: SealpodRunner, tmp_path: Path) -> None:
    import sys

    dir1, dir2 = tmp_path / "d1", tmp_path / "d2"
    for d, image, notify in ((dir1, "this-is-the-one:wewant", "yes"), (dir2, "bad-bad-bad:nonono", "no")):
        d.mkdir()
        (d / "basic.container").write_text(f"[Container]\nImage=quay.io/libpod/{image}\nNotify={notify}\n")
    res = subprocess.run([sys.executable, "-m", "sealpod.systemd.quadlet", "--dryrun"], capture_output=True,
                         text=True, env={**sp.env, "QUADLET_UNIT_DIRS": f"{dir1}:{dir2}"}, timeout=60)
    assert "Notify=yes" in res.stdout and "Notify=no" not in res.stdout


def test_quadlet_envvar_containername_labels(sp: SealpodRunner, tmp_path: Path) -> None:
    units = quadlet(sp, tmp_path / "q", tmp_path / "out", ("envvar.container", """\
        [Container]
        ContainerName=customcontainername
        Image=sealtest/tiny
        Exec=sh -c "echo OUTPUT: \\"$FOOBAR\\" \\"$BAR\\"; sleep 1000"
        Environment="FOOBAR=Foo  Bar" BAR=bar
        Label="foo=foo bar" "key=val"
        Annotation="afoo=afoo bar"
        Annotation="akey=aval"
        """))
    unit = quadlet_unit(sp, units, "envvar.service", tmp_path)
    with notify_listener(tmp_path) as (path, sock):
        unit.start({"NOTIFY_SOCKET": path})
        assert "READY=1" in messages(sock, "READY=1")[-1]
    try:
        assert inspect_format(sp, "{{.State.Status}}", "customcontainername") == "running"
        journal = unit.rt / "journal"  # the unit's output: quadlet's containers pass theirs through, as in 4.4
        wait_for(lambda: "OUTPUT" in journal.read_text())
        assert "OUTPUT: Foo  Bar bar\n" in journal.read_text()
        for fmt, want in (("{{.Config.Labels.foo}}", "foo bar"), ("{{.Config.Labels.key}}", "val"),
                          ("{{.Config.Annotations.afoo}}", "afoo bar"), ("{{.Config.Annotations.akey}}", "aval")):
            assert inspect_format(sp, fmt, "customcontainername") == want, fmt
    finally:
        unit.stop()
    assert sp.run("container", "exists", "customcontainername", check=False).returncode == 1


def test_quadlet_oneshot(sp: SealpodRunner, tmp_path: Path) -> None:
    units = quadlet(sp, tmp_path / "q", tmp_path / "out", ("oneshot.container", """\
        [Container]
        Image=sealtest/tiny
        Exec=echo INITIALIZED

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        """))
    text = units["oneshot.service"]
    assert unit_values(text, "Type") == ["oneshot"] and not unit_values(text, "NotifyAccess")
    unit = quadlet_unit(sp, units, "oneshot.service", tmp_path)
    unit.start()  # the container's whole run: ExecStart returns when it has exited
    assert "INITIALIZED" in (tmp_path / "rt" / "journal").read_text()
    unit.stop()
    assert sp.run("container", "exists", "systemd-oneshot", check=False).returncode == 1
    bad = Path(tmp_path / "bad")
    bad.mkdir()
    (bad / "x.container").write_text("[Container]\nImage=sealtest/tiny\n[Service]\nType=forking\n")
    import sys

    res = subprocess.run([sys.executable, "-m", "sealpod.systemd.quadlet", "-no-kmsg-log", os.fspath(tmp_path / "o2")],
                         env={**sp.env, "QUADLET_UNIT_DIRS": os.fspath(bad)}, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 1 and "invalid service Type 'forking'" in res.stderr


def test_quadlet_volume_and_network_with_labels(sp: SealpodRunner, tmp_path: Path) -> None:
    units = quadlet(sp, tmp_path / "q", tmp_path / "out",
                    ("qlabels.volume", '[Volume]\nLabel=foo=bar other="with space"\n'),
                    ("qlabels.network", '[Network]\nLabel=foo=bar other="with space"\n'))
    for name in ("qlabels-volume.service", "qlabels-network.service"):
        unit = quadlet_unit(sp, units, name, tmp_path)
        unit.start()
        unit.start()  # again, as after a reboot: --ignore keeps what exists
    assert "systemd-qlabels" in sp.run("volume", "ls").stdout
    for kind in ("volume", "network"):
        assert inspect_format(sp, "{{.Labels.foo}}", "systemd-qlabels", kind=kind) == "bar"
        assert inspect_format(sp, "{{.Labels.other}}", "systemd-qlabels", kind=kind) == "with space"
    sp.run("volume", "rm", "systemd-qlabels")
    sp.run("network", "rm", "systemd-qlabels")


def test_quadlet_volume_and_network_dependencies(sp: SealpodRunner, tmp_path: Path) -> None:
    """A container on a (named) quadlet volume and network: its unit requires theirs, and runs on them."""
    units = quadlet(sp, tmp_path / "q", tmp_path / "out",
                    ("dep.volume", "[Volume]\n"), ("named.volume", "[Volume]\nVolumeName=v-named\n"),
                    ("dep.network", "[Network]\n"), ("named.network", "[Network]\nNetworkName=n-named\n"),
                    ("user.container", """\
                        [Container]
                        Image=sealtest/tiny
                        Exec=top
                        Volume=named.volume:/tmp
                        Volume=dep.volume:/data
                        Network=named.network
                        """))
    text = units["user.service"]
    requires = unit_values(text, "Requires")
    assert requires == ["named-volume.service", "dep-volume.service", "named-network.service"]
    assert unit_values(text, "After") == requires
    assert sp.run("volume", "exists", "v-named", check=False).returncode == 1
    assert sp.run("network", "exists", "n-named", check=False).returncode == 1
    for name in ("named-volume.service", "dep-volume.service", "named-network.service", "user.service"):
        quadlet_unit(sp, units, name, tmp_path).start()
    try:
        assert sp.run("volume", "exists", "v-named", check=False).returncode == 0
        assert sp.run("network", "exists", "n-named", check=False).returncode == 0
        assert inspect_format(sp, "{{(index .Mounts 0).Name}}", "systemd-user") in ("v-named", "systemd-dep")
        names = {m["Name"] for m in json.loads(inspect_format(sp, "{{json .Mounts}}", "systemd-user"))}
        assert names == {"v-named", "systemd-dep"}
        assert inspect_format(sp, '{{index .NetworkSettings.Networks "n-named"}}', "systemd-user") != "<nil>"
    finally:
        quadlet_unit(sp, units, "user.service", tmp_path).stop()
    sp.run("volume", "rm", "v-named", "systemd-dep")
    sp.run("network", "rm", "n-named", "systemd-dep", check=False)


def test_quadlet_kube_with_named_network(sp: SealpodRunner, tmp_path: Path) -> None:
    yaml = tmp_path / "basic.yaml"
    yaml.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata:
          labels:
            app: test
          name: qkpod
        spec:
          containers:
          - command:
            - "sh"
            args:
            - "-c"
            - "echo STARTED CONTAINER; top -b"
            image: sealtest/tiny
            name: qkctr
        """))
    units = quadlet(sp, tmp_path / "q", tmp_path / "out", ("kn.network", "[Network]\nNetworkName=n-kube\n"),
                    ("basic.kube", f"[Kube]\nYaml={yaml}\nNetwork=kn.network\n"))
    text = units["basic.service"]
    assert unit_values(text, "Requires") == ["kn-network.service"] == unit_values(text, "After")
    assert "--network n-kube" in unit_values(text, "ExecStart")[0]
    quadlet_unit(sp, units, "kn-network.service", tmp_path).start()
    unit = quadlet_unit(sp, units, "basic.service", tmp_path)
    unit.start()
    try:
        wait_for(lambda: "STARTED CONTAINER" in sp.run("logs", "qkpod-qkctr").stdout)
        assert inspect_format(sp, "{{.State.Status}}", "qkpod-qkctr") == "running"
        assert inspect_format(sp, '{{index .NetworkSettings.Networks "n-kube"}}', "qkpod-qkctr") != "<nil>"
    finally:
        unit.stop()
    assert sp.run("pod", "exists", "qkpod", check=False).returncode == 1
    sp.run("network", "rm", "n-kube")


def test_quadlet_secrets_tmpfs_and_percent_t_volume(sp: SealpodRunner, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-value\n")
    sp.run("secret", "create", "qsecret", str(secret_file))
    content = Path(f"/tmp/quadlet-{os.getpid()}")  # %T is /tmp for system units
    content.mkdir(exist_ok=True)
    (content / "f.txt").write_text("data_in_volume\n")
    units = quadlet(sp, tmp_path / "q", tmp_path / "out", ("misc.container", f"""\
        [Container]
        Image=sealtest/tiny
        Exec=top
        Secret=qsecret,type=env,target=MYSECRET
        Secret=qsecret,type=mount,target=/root/secret
        Tmpfs=/tmpfs1
        Tmpfs=/tmpfs2:ro
        Volume=%T/{content.name}:/test_content:Z
        """))
    unit = quadlet_unit(sp, units, "misc.service", tmp_path)
    unit.start()
    try:
        name = "systemd-misc"
        assert sp.run("exec", name, "sh", "-c", "echo $MYSECRET").stdout == "s3cr3t-value\n"
        assert sp.run("exec", name, "cat", "/root/secret").stdout == "s3cr3t-value\n"
        assert sp.run("exec", name, "cat", "/test_content/f.txt").stdout == "data_in_volume\n"
        assert inspect_format(sp, '{{index .HostConfig.Tmpfs "/tmpfs1"}}', name) == \
            "rw,rprivate,nosuid,nodev,tmpcopyup"  # Podman 4.3.1's (5.x drops "rw")
        assert inspect_format(sp, '{{index .HostConfig.Tmpfs "/tmpfs2"}}', name) == \
            "ro,rprivate,nosuid,nodev,tmpcopyup"
        assert inspect_format(sp, '{{index .HostConfig.Tmpfs "/tmpfs3"}}', name) == ""
    finally:
        unit.stop()
        sp.run("secret", "rm", "qsecret")
        import shutil

        shutil.rmtree(content, ignore_errors=True)


def test_quadlet_userns_in_create_command(sp: SealpodRunner, tmp_path: Path) -> None:
    units = quadlet(sp, tmp_path / "q", tmp_path / "out",
                    ("ns.container", "[Container]\nImage=sealtest/tiny\nExec=top\nUserNS=keep-id:uid=200,gid=210\n"))
    assert " --userns keep-id:uid=200,gid=210 " in unit_values(units["ns.service"], "ExecStart")[0]
