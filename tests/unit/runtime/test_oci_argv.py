"""Command lines for runc and conmon, runtime error classification, detach-key parsing: pure, no root."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealpod.errors import ExecutableNotFound, InvalidArgument, OCIRuntimeError, PermissionDenied
from sealpod.runtime.attach import _DetachMatcher, parse_detach_keys
from sealpod.runtime.conmon import ConmonRuntime, CreateRequest, ExecRequest, RuntimePaths
from sealpod.runtime.oci import RuncRuntime, runtime_error

RT = RuncRuntime("/usr/sbin/runc", "/run/sp/runc")


def test_runc_verbs() -> None:
    base = ["/usr/sbin/runc", "--root", "/run/sp/runc"]
    assert RT.start_argv("c1") == [*base, "start", "c1"]
    assert RT.kill_argv("c1", 15) == [*base, "kill", "c1", "15"]
    assert RT.kill_argv("c1", 9, all_procs=True) == [*base, "kill", "--all", "c1", "9"]
    assert RT.delete_argv("c1") == [*base, "delete", "c1"]
    assert RT.delete_argv("c1", force=True) == [*base, "delete", "--force", "c1"]
    assert RT.state_argv("c1") == [*base, "state", "c1"]
    assert RT.pause_argv("c1") == [*base, "pause", "c1"]
    assert RT.resume_argv("c1") == [*base, "resume", "c1"]
    assert RT.update_argv("c1") == [*base, "update", "--resources", "-", "c1"]
    assert RT.features_argv() == ["/usr/sbin/runc", "features"]
    assert RT.name == "runc"


def test_extra_global_args_follow_root() -> None:
    rt = RuncRuntime("/usr/bin/crun", "/r", extra_args=["--systemd-cgroup"])
    assert rt.start_argv("x") == ["/usr/bin/crun", "--root", "/r", "--systemd-cgroup", "start", "x"]


NOT_FOUND = ('runc create failed: unable to start container process: exec: "nosuch": executable file not '
             "found in $PATH")


@pytest.mark.parametrize(("msg", "cls", "code", "text"), [
    (NOT_FOUND + "\n", ExecutableNotFound, 127,
     f"runc: {NOT_FOUND}: OCI runtime attempted to invoke a command that was not found"),
    ("exec: /x: no such file or directory", ExecutableNotFound, 127,
     "runc: exec: /x: no such file or directory: "
     "OCI runtime attempted to invoke a command that was not found"),
    ("exec: /etc: permission denied", PermissionDenied, 126,
     "runc: exec: /etc: permission denied: OCI permission denied"),
    ("error setting rlimit type 7: operation not permitted", PermissionDenied, 126,
     "runc: error setting rlimit type 7: operation not permitted: OCI permission denied"),
    ("something odd\nsecond line", OCIRuntimeError, 126, "runc: something odd: OCI runtime error"),
    ('{"level":"error","msg":"boom","time":"x"}', OCIRuntimeError, 126, "runc: boom: OCI runtime error"),
])
def test_runtime_errors_are_classified_like_podman(msg: str, cls: type[OCIRuntimeError], code: int,
                                                   text: str) -> None:
    err = runtime_error("runc", msg)
    assert type(err) is cls
    assert err.exit_code == code
    assert str(err) == text


PATHS = RuntimePaths(runtime="/usr/sbin/runc", runtime_root=Path("/run/sp/runc"), conmon="/usr/bin/conmon",
                     exit_dir=Path("/run/sp/exits"), socket_dir=Path("/run/sp/socket"),
                     persist_dir_base=Path("/run/sp/persist"))


def _pairs(argv: list[str]) -> list[tuple[str, str]]:
    return list(zip(argv, argv[1:], strict=False))


def test_conmon_create_argv() -> None:
    b = Path("/var/lib/sp/c1/userdata")
    req = CreateRequest(id="c1", name="web", bundle=b, log_path=b / "ctr.log", pidfile=b / "pidfile",
                        conmon_pidfile=b / "conmon.pid", terminal=True, stdin=True, log_size_max=1000,
                        exit_command=("/usr/bin/sealpod", "--root", "/r", "container", "cleanup", "c1"))
    argv = ConmonRuntime(PATHS, log_level="debug").conmon_argv(req)
    assert argv[:3] == ["/usr/bin/conmon", "--api-version", "1"]
    pairs = _pairs(argv)
    for pair in [("-c", "c1"), ("-u", "c1"), ("-r", "/usr/sbin/runc"), ("-b", str(b)),
                 ("-p", f"{b}/pidfile"), ("-n", "web"), ("--exit-dir", "/run/sp/exits"),
                 ("-l", f"k8s-file:{b}/ctr.log"),
                 ("--log-level", "debug"), ("--conmon-pidfile", f"{b}/conmon.pid"),
                 ("--log-size-max", "1000"),
                 ("--exit-command", "/usr/bin/sealpod")]:
        assert pair in pairs, pair
    assert {"--full-attach", "-t", "-i"} <= set(argv)
    assert "--persist-dir" not in argv  # kept in conmon's memory for nothing: the exit code is in the exit dir
    runtime_args = [a.removeprefix("--runtime-arg=") for a in argv if a.startswith("--runtime-arg=")]
    assert runtime_args == ["--root", "/run/sp/runc", "--log-format=json", "--log", f"{b}/oci-log"]
    exit_args = [v for k, v in pairs if k == "--exit-command-arg"]
    assert exit_args == ["--root", "/r", "container", "cleanup", "c1"]
    assert "--no-pivot" not in argv and "-e" not in argv


def test_conmon_create_argv_defaults() -> None:
    b = Path("/b")
    req = CreateRequest(id="c2", name="", bundle=b, log_path=b / "l", pidfile=b / "p",
                        conmon_pidfile=b / "cp", log_driver="none", no_pivot=True)
    argv = ConmonRuntime(PATHS).conmon_argv(req)
    pairs = _pairs(argv)
    assert ("-n", "c2") in pairs and ("-l", "none:") in pairs and ("--log-level", "error") in pairs
    assert "--no-pivot" in argv
    assert not {"-t", "-i", "--exit-command", "--log-size-max"} & set(argv)


@pytest.mark.parametrize("detach", [True, False])
def test_conmon_exec_argv(detach: bool) -> None:
    d = Path("/run/sp/persist/c1/exec/e1")
    req = ExecRequest(ctr_id="c1", exec_id="e1", exec_dir=d, process={"args": ["ls"]}, terminal=True,
                      detach=detach)
    argv = ConmonRuntime(PATHS).exec_argv(req, d / "process.json")
    pairs = _pairs(argv)
    for pair in [("-c", "c1"), ("-u", "e1"), ("-b", str(d)), ("--exit-dir", f"{d}/exits"),
                 ("--persist-dir", str(d)), ("--exec-process-spec", f"{d}/process.json"),
                 ("-l", f"k8s-file:{d}/exec_log"), ("-p", f"{d}/exec_pid")]:
        assert pair in pairs, pair
    assert "-e" in argv and "-t" in argv and "-i" not in argv
    assert ("--exec-attach" in argv) is not detach


@pytest.mark.parametrize(("spec", "keys"), [
    ("ctrl-p,ctrl-q", b"\x10\x11"), ("", b""), ("a,ctrl-@,ctrl-_", b"a\x00\x1f"), ("ctrl-A", b"\x01"),
])
def test_parse_detach_keys(spec: str, keys: bytes) -> None:
    assert parse_detach_keys(spec) == keys


@pytest.mark.parametrize("spec", ["ctrl-", "ctrl-1", "shift-a", "ab"])
def test_parse_detach_keys_rejects(spec: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_detach_keys(spec)


def test_detach_matcher_holds_back_prefixes() -> None:
    m = _DetachMatcher(b"\x10\x11")
    assert m.feed(b"ab\x10") == (b"ab", False)
    assert m.feed(b"c") == (b"\x10c", False)
    assert m.feed(b"\x10\x10") == (b"\x10", False)
    assert m.feed(b"\x11rest") == (b"", True)
    assert _DetachMatcher(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
