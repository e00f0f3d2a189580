"""The pure decisions of systemd mode, sd_notify and socket activation."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sealpod.engine import systemd_mode as sd
from sealpod.errors import InvalidArgument


@pytest.mark.parametrize(("value", "command", "expected"), [
    ("", ["/sbin/init"], True),
    ("true", ["/usr/sbin/init"], True),
    ("true", ["/usr/local/sbin/init"], True),
    ("true", ["/usr/lib/systemd/systemd", "--log-level=debug"], True),
    ("true", ["systemd"], True),
    ("true", ["/bin/init"], False),
    ("true", ["/usr/bin/systemd-notify"], False),
    ("true", [], False),
    ("false", ["/sbin/init"], False),
    ("always", ["sh"], True),
    ("ALWAYS", ["sh"], True),
])
def test_systemd_enabled(value: str, command: list[str], expected: bool) -> None:
    assert sd.systemd_enabled(value, command) is expected


def test_bad_values_are_refused_in_podmans_words() -> None:
    with pytest.raises(InvalidArgument, match='must be one of "true, false, always"'):
        sd.check_systemd_value("yes")
    with pytest.raises(InvalidArgument, match='invalid sdnotify value "x": must be container, conmon or ignore'):
        sd.check_sdnotify_value("x")
    assert sd.check_sdnotify_value("") == "container"  # Podman 4.3.1's default


def test_systemd_mounts_leave_the_users_destinations() -> None:
    dests = [m.destination for m in sd.systemd_mounts(["/tmp/", "/run/lock"], cgroup_v2=True)]
    assert dests == ["/run", "/var/log/journal", "/sys/fs/cgroup"]
    assert sd.systemd_masked_paths(cgroup_v2=True) == ()
    assert sd.systemd_masked_paths(cgroup_v2=False) == ("/sys/fs/cgroup/systemd/release_agent",)


def test_listen_fds_only_for_this_process() -> None:
    env = {"LISTEN_FDS": "2", "LISTEN_PID": "42", "LISTEN_FDNAMES": "a:b"}
    assert sd.listen_fds(env, pid=42) == (2, ["LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=a:b"])
    # another process's: the variables pass (as in Podman), our fds do not
    assert sd.listen_fds(env, pid=43) == (0, ["LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=a:b"])
    assert sd.listen_fds({"LISTEN_FDS": "x", "LISTEN_PID": "42"}, pid=42) == (0, [])
    assert sd.listen_fds({"LISTEN_FDS": "0", "LISTEN_PID": "42"}, pid=42) == (0, [])


def test_started_messages() -> None:
    assert sd.started_message("conmon", 7) == "MAINPID=7\nREADY=1"
    assert sd.started_message("container", 7) == "MAINPID=7"
    assert sd.started_message("ignore", 7) == ""


def test_take_notify_socket_removes_it() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "A": "1"}
    assert sd.take_notify_socket(env) == "/run/x"
    assert env == {"A": "1"}
    assert sd.take_notify_socket(env) == ""


def test_conmon_mode_notifies_once_after_start(tmp_path: Path) -> None:
    path = str(tmp_path / "n.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        listener.settimeout(2)
        sd.remember_notify(tmp_path, path, "conmon")
        sd.notify_started(tmp_path, 99)
        assert listener.recv(100) == b"MAINPID=99\nREADY=1"
        sd.notify_started(tmp_path, 99)  # the marker is gone: a restart says nothing
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.recv(100)
    sd.remember_notify(tmp_path, path, "container")
    assert not (tmp_path / "sdnotify").exists()
    sd.notify(str(tmp_path / "gone.sock"), "READY=1")  # a dead socket is not an error


def test_merge_env_replaces_by_name() -> None:
    assert sd.merge_env(["A=1", "B=2"], ["B=3", "C=4"]) == ["A=1", "B=3", "C=4"]
