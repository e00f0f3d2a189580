"""Rootless: the unprivileged user `sealtest` pulls and runs containers; nothing grants host root."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.http import http_get
from tests.rig.registry import RegistryServer
from tests.rig.rootless import RootlessRunner, rootless_store
from tests.rig.sealpod import SealpodRunner, mounts_under

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def rl(seeded_registry: RegistryServer) -> Iterator[RootlessRunner]:
    """One rootless store per module holding the tiny busybox image."""
    with rootless_store(seeded_registry.host, IMAGE) as runner:
        yield runner
    assert not mounts_under(runner.base), "the host saw mounts of the user's namespace"


def _subids(user: str) -> tuple[int, int]:
    for line in Path("/etc/subuid").read_text().splitlines():
        name, start, count = line.split(":")
        if name == user:
            return int(start), int(count)
    raise AssertionError(f"no subuid entry for {user}")


def test_unshare_maps_root_to_the_user_and_subids(rl: RootlessRunner) -> None:
    out = rl.run("unshare", "cat", "/proc/self/uid_map").stdout.split()
    start, count = _subids("sealtest")
    assert out == ["0", str(rl.uid), "1", "1", str(start), str(count)]
    assert rl.run("unshare", "id", "-u").stdout.strip() == "0"


def test_info_reports_rootless_driver_and_mappings(rl: RootlessRunner) -> None:
    info = json.loads(rl.run("info", "--format", "json").stdout)
    assert info["host"]["security"]["rootless"] is True
    assert info["store"]["graphDriverName"] == "overlay"
    assert info["host"]["idMappings"]["uidmap"][0] == {"container_id": 0, "host_id": rl.uid, "size": 1}
    assert info["store"]["graphRoot"] == str(rl.root)


def test_run_id_is_root_inside_mapped_to_the_user(rl: RootlessRunner) -> None:
    out = rl.run("run", "--rm", "--network", "none", IMAGE, "sh", "-c", "id -u; cat /proc/self/uid_map").stdout
    lines = out.split("\n")
    assert lines[0] == "0"
    first = lines[1].split()
    assert first[:3] == ["0", str(rl.uid), "1"]


def test_layer_files_belong_to_the_user_on_the_host(rl: RootlessRunner) -> None:
    owners = {st.st_uid for p in (rl.root / "overlay").rglob("*") if not p.is_symlink()
              for st in [p.lstat()]}
    start, count = _subids("sealtest")
    assert owners, "no layer files"
    assert all(o == rl.uid or start <= o < start + count for o in owners), owners
    assert 0 not in owners


def test_detached_exec_logs_ps_rm_as_the_user(rl: RootlessRunner) -> None:
    cid = rl.run("run", "-d", "--network", "none", "--name", "rl-web", IMAGE,
                 "sh", "-c", "echo started; exec sleep 1000").stdout.strip()
    try:
        assert rl.run("ps", "-q", "--no-trunc").stdout.split() == [cid]
        assert rl.run("exec", "rl-web", "id", "-u").stdout == "0\n"
        assert rl.run("logs", "rl-web").stdout == "started\n"
        pid = json.loads(rl.run("container", "inspect", "rl-web").stdout)[0]["State"]["Pid"]
        owner = os.stat(f"/proc/{pid}").st_uid
        assert owner == rl.uid, f"container process owned by {owner} on the host"
        host_ps = rl.run_host("ps", "-o", "user=", "-p", str(pid))
        assert host_ps.strip() == "sealtest"
    finally:
        rl.run("rm", "-f", "-t", "0", "rl-web")
    assert rl.run("ps", "-aq").stdout == ""


def test_non_root_user_in_the_container_is_a_subordinate_id(rl: RootlessRunner) -> None:
    cid = rl.run("run", "-d", "--network", "none", "--user", "1000:1000", IMAGE, "sleep", "1000").stdout.strip()
    try:
        pid = json.loads(rl.run("container", "inspect", cid).stdout)[0]["State"]["Pid"]
        start, _ = _subids("sealtest")
        assert os.stat(f"/proc/{pid}").st_uid == start + 999
    finally:
        rl.run("rm", "-f", "-t", "0", cid)


def test_named_volume_keeps_data_owned_by_the_user(rl: RootlessRunner) -> None:
    rl.run("volume", "create", "rl-data")
    rl.run("run", "--rm", "--network", "none", "-v", "rl-data:/data", IMAGE, "sh", "-c", "echo kept > /data/f")
    out = rl.run("run", "--rm", "--network", "none", "-v", "rl-data:/data", IMAGE, "cat", "/data/f")
    assert out.stdout == "kept\n"
    mountpoint = json.loads(rl.run("volume", "inspect", "rl-data").stdout)[0]["Mountpoint"]
    assert os.stat(Path(mountpoint) / "f").st_uid == rl.uid
    rl.run("volume", "rm", "rl-data")


def test_escape_attempt_creates_no_root_owned_file(rl: RootlessRunner) -> None:
    target = Path("/root/owned")
    target.unlink(missing_ok=True)
    out = rl.run("run", "--rm", "--privileged", "--network", "none", "-v", "/:/host", IMAGE,
                 "chroot", "/host", "touch", "/root/owned", check=False)
    try:
        if target.exists():
            assert target.stat().st_uid != 0, "a rootless container created a root-owned file on the host"
        else:
            assert out.returncode != 0
    finally:
        target.unlink(missing_ok=True)


@pytest.mark.parametrize("flag", [["-m", "64m"], ["--cpus", "1"], ["--pids-limit", "10"], ["--memory=0"]])
def test_resource_limits_without_cgroup_delegation(rl: RootlessRunner, flag: list[str]) -> None:
    """Podman 4.3.1 as a user: on cgroup v1 every limit asked for is dropped with a plain warning line and
    the container runs (030-run.bats "--memory=0"); on v2 without systemd they are refused."""
    out = rl.run("run", "--rm", "--network", "none", *flag, IMAGE, "echo", "ran", check=False)
    if not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        assert (out.returncode, out.stdout) == (0, "ran\n")
        assert out.stderr == "Resource limits are not supported and ignored on cgroups V1 rootless systems\n"
        return
    assert out.returncode == 125
    assert out.stderr == ("Error: invalid configuration, cannot specify resource limits without cgroups v2 "
                          "and --cgroup-manager=systemd\n")


def test_published_port_reaches_a_rootless_httpd_on_port_80(rl: RootlessRunner) -> None:
    from tests.rig.registry import free_port

    port = free_port()
    rl.run("run", "-d", "--name", "rl-httpd", "-p", f"{port}:80", IMAGE, "sh", "-c",
           "mkdir -p /www && echo hello-rootless > /www/index.html && exec busybox httpd -f -p 80 -h /www")
    try:
        assert b"hello-rootless" in http_get(port)
        assert rl.run("port", "rl-httpd").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
        inside = rl.run("exec", "rl-httpd", "sh", "-c", "ip -4 addr show tap0; cat /etc/resolv.conf").stdout
        assert "10.0.2.100" in inside and "nameserver 10.0.2.3" in inside
    finally:
        rl.run("rm", "-f", "-t", "0", "rl-httpd")
    assert not [line for line in rl.run_host("ps", "-eo", "args").splitlines() if "slirp4netns" in line
                and str(rl.runroot) in line], "slirp4netns outlived its container"


def test_privileged_host_port_is_refused_with_advice(rl: RootlessRunner) -> None:
    out = rl.run("run", "--rm", "-p", "80:80", IMAGE, "true", check=False)
    assert out.returncode != 0
    assert "rootlessport cannot expose privileged port 80" in out.stderr
    assert rl.run("ps", "-aq").stdout == ""


def _uid_map(rl: RootlessRunner, *flags: str) -> list[list[int]]:
    out = rl.run("run", "--rm", "--network", "none", *flags, IMAGE, "cat", "/proc/self/uid_map").stdout
    return [[int(x) for x in line.split()] for line in out.splitlines()]


def test_userns_keep_id_runs_as_the_user_and_nomap_leaves_it_out(rl: RootlessRunner) -> None:
    start, count = _subids("sealtest")
    out = rl.run("run", "--rm", "--network", "none", "--userns", "keep-id", IMAGE, "id", "-u").stdout
    assert out == f"{rl.uid}\n"
    # Read from inside, the maps name ids of the user's namespace (0 is the user, 1.. its subordinate ids).
    keep = _uid_map(rl, "--userns", "keep-id")
    assert [rl.uid, 0, 1] in keep and [0, 1, rl.uid] in keep
    assert _uid_map(rl, "--userns", "nomap") == [[0, 1, count]]
    assert rl.run("run", "--rm", "--network", "none", "--userns", "keep-id:uid=7,gid=7", IMAGE,
                  "id", "-u").stdout == "7\n"


def test_userns_auto_containers_get_disjoint_ranges_and_own_their_files(rl: RootlessRunner) -> None:
    start, count = _subids("sealtest")
    ids = [rl.run("run", "-d", "--network", "none", "--userns", "auto:size=2000", IMAGE, "sh", "-c",
                  "touch /made-here; exec sleep 1000").stdout.strip() for _ in range(2)]
    try:
        ranges = []
        for cid in ids:
            doc = json.loads(rl.run("container", "inspect", cid).stdout)[0]
            pid = doc["State"]["Pid"]
            (line,) = Path(f"/proc/{pid}/uid_map").read_text().splitlines()
            inner, host, size = (int(x) for x in line.split())
            assert inner == 0 and size == 2000 and start <= host and host + size <= start + count
            assert os.stat(f"/proc/{pid}").st_uid == host  # its root is a subordinate id, not the user
            ranges.append(range(host, host + size))
        assert not set(ranges[0]) & set(ranges[1]), ranges
        # Each one's files belong to its own range: the other's root cannot touch them.
        for cid, r in zip(ids, ranges, strict=True):
            assert rl.run("exec", cid, "stat", "-c", "%u", "/made-here").stdout == "0\n"
            diff = next((rl.root / "overlay-containers" / cid / "diff").glob("made-here"))
            assert diff.stat().st_uid == r.start
    finally:
        rl.run("rm", "-f", "-t", "0", *ids)


def test_userns_flags_are_checked(rl: RootlessRunner) -> None:
    bad = rl.run("run", "--rm", "--userns", "bogus", IMAGE, "true", check=False)
    assert bad.returncode == 125 and "unrecognized namespace mode bogus passed" in bad.stderr
    bad = rl.run("run", "--rm", "--uidmap", "0:1:x", IMAGE, "true", check=False)
    assert bad.returncode == 125 and "CONTAINER_ID:HOST_ID:SIZE" in bad.stderr
    assert _uid_map(rl, "--uidmap", "0:1:500") == [[0, 1, 500]]


def test_rootful_userns_auto_takes_ranges_of_the_containers_user(seeded_registry: RegistryServer) -> None:
    import shutil
    import tempfile

    from tests.rig.sealpod import store_with_image

    start, count = _subids("containers")
    # runc mounts the rootfs from inside the container's namespace: its root (not the host's) must
    # be able to walk to it, and pytest's tmp_path lies under a 0700 directory
    base = Path(tempfile.mkdtemp(prefix="sealpod-userns-"))
    base.chmod(0o711)
    with store_with_image(base, seeded_registry.host) as root:
        ids = [root.run("run", "-d", "--network", "none", "--userns", "auto", IMAGE, "sleep", "1000").stdout.strip()
               for _ in range(2)]
        hosts = []
        for cid in ids:
            pid = json.loads(root.run("container", "inspect", cid).stdout)[0]["State"]["Pid"]
            (line,) = Path(f"/proc/{pid}/uid_map").read_text().splitlines()
            inner, host, size = (int(x) for x in line.split())
            assert inner == 0 and start <= host and host + size <= start + count
            assert os.stat(f"/proc/{pid}").st_uid == host
            hosts.append(range(host, host + size))
        assert not set(hosts[0]) & set(hosts[1])
        keep = root.run("run", "--rm", "--userns", "keep-id", IMAGE, "true", check=False)
        assert keep.returncode == 125 and "only supported in rootless mode" in keep.stderr
    shutil.rmtree(base, ignore_errors=True)


def _host_address() -> str | None:
    """An address of this host other than loopback (slirp4netns keeps the host's 127.0.0.1 out of reach)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            return str(s.getsockname()[0])
        except OSError:
            return None


def test_outbound_tcp_leaves_through_slirp4netns(rl: RootlessRunner) -> None:
    import socket
    import threading

    address = _host_address()
    if address is None or address.startswith("127."):
        pytest.skip("no non-loopback address on this host")
    server = socket.create_server(("0.0.0.0", 0))
    port = server.getsockname()[1]
    seen: list[str] = []

    def answer() -> None:
        conn, peer = server.accept()
        with conn:
            seen.append(peer[0])
            conn.sendall(b"pong\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        out = rl.run("run", "--rm", IMAGE, "sh", "-c", f"nc {address} {port} </dev/null", timeout=60)
        assert out.stdout == "pong\n"
    finally:
        server.close()
    thread.join(5)
    assert seen  # the host saw a connection: from the user's own socket, no bridge, no NAT rule


def test_a_dead_pause_process_is_replaced(rl: RootlessRunner) -> None:
    import signal
    import time

    pid_file = rl.runroot / "pause.pid"
    old = int(pid_file.read_text())
    os.kill(old, signal.SIGKILL)
    for _ in range(100):
        if not Path(f"/proc/{old}").exists() or Path(f"/proc/{old}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.02)
    assert rl.run("run", "--rm", "--network", "none", IMAGE, "id", "-u").stdout == "0\n"
    new = int(pid_file.read_text())
    assert new != old and os.stat(f"/proc/{new}").st_uid == rl.uid


def test_system_migrate_stops_containers_and_reset_removes_everything(seeded_registry: RegistryServer) -> None:
    user = RootlessRunner(search_registries=[seeded_registry.host], insecure_registries=[seeded_registry.host])
    try:
        user.run("pull", "-q", IMAGE)
        cid = user.run("run", "-d", "--network", "none", IMAGE, "sleep", "1000").stdout.strip()
        pause = int((user.runroot / "pause.pid").read_text())
        user.run("system", "migrate")
        assert not Path(f"/proc/{pause}/cmdline").exists() or b"sealpod-pause" not in Path(
            f"/proc/{pause}/cmdline").read_bytes()
        state = json.loads(user.run("container", "inspect", cid).stdout)[0]["State"]
        assert state["Running"] is False
        reset = user.run("system", "reset", "-f")
        assert reset.returncode == 0
        assert not user.root.exists() or not any(user.root.iterdir())
        assert user.run("images", "-q").stdout == ""
    finally:
        user.close()


def test_unshare_is_for_rootless_users_only(sealpod: SealpodRunner) -> None:
    out = sealpod.run("unshare", "true", check=False)
    assert out.returncode == 125 and out.stderr == "Error: please use unshare with rootless\n"


def test_a_user_without_runtime_dir_or_auth_file_pulls_and_logs_in(rl: RootlessRunner) -> None:
    """After `su -` neither XDG_RUNTIME_DIR nor REGISTRY_AUTH_FILE is set: inside the user namespace the
    default auth file was /run/containers/0/auth.json, root's, and every pull failed on it."""
    env = {k: v for k, v in rl.env.items() if k not in ("XDG_RUNTIME_DIR", "REGISTRY_AUTH_FILE")}
    saved, rl.env = rl.env, env
    try:
        rl.run("pull", "-q", "sealtest/tiny")
        assert rl.run("run", "--rm", "sealtest/tiny", "echo", "pulled").stdout == "pulled\n"
    finally:
        rl.env = saved


def test_rootless_bats_details(rl: RootlessRunner) -> None:
    """030-run.bats as a user: an unknown --hostuser fails the start with 126, and keep-id's first start
    prints nothing but the command's own output (run -d's ID alone: scripts capture it)."""
    bogus = rl.run("run", "--rm", "--hostuser=no-such-user-xyz", "sealtest/tiny", "true", check=False)
    assert (bogus.returncode, bogus.stderr) == (126, "Error: user: unknown user no-such-user-xyz\n")
    started = rl.run("run", "-d", "--userns=keep-id", "sealtest/tiny", "sleep", "100")
    assert started.stderr == "" and len(started.stdout.strip()) == 64
    rl.run("rm", "-f", "-t", "0", started.stdout.strip())


def test_keep_id_adds_the_users_own_passwd_and_group_lines(rl: RootlessRunner) -> None:
    """Podman 4.3.1 as a user, --userns=keep-id: /etc/passwd names the user as on the host (gecos too,
    the working directory as home), /etc/group its group; `id -un` and `exec --user NAME` find it (075-exec.bats)."""
    import pwd

    me = pwd.getpwuid(rl.uid)
    out = rl.run("run", "--rm", "--userns=keep-id", "-w", "/tmp", "sealtest/tiny", "sh", "-c",
                 f"id -un; grep :x:{me.pw_gid}: /etc/group; grep ^{me.pw_name}: /etc/passwd; echo $HOME").stdout
    assert out.splitlines() == [me.pw_name, f"{me.pw_name}:x:{me.pw_gid}:{me.pw_name}",
                                f"{me.pw_name}:*:{rl.uid}:{me.pw_gid}:{me.pw_gecos}:/tmp:/bin/sh", "/tmp"]
    cid = rl.run("run", "-d", "--userns=keep-id", "sealtest/tiny", "sleep", "100").stdout.strip()
    try:
        assert rl.run("exec", "--user", me.pw_name, cid, "id", "-u").stdout == f"{rl.uid}\n"
    finally:
        rl.run("rm", "-f", "-t", "0", cid)


def test_rootless_pod_top_shm_and_top_users(rl: RootlessRunner) -> None:
    """200-pod.bats and 170-run-userns.bats as a user: `pod top` of members in PID namespaces of their own
    lists their processes only (a rootless container on cgroup v1 has no cgroup of its own: its cgroup's
    procs were the whole session), pod members share /dev/shm, and `top huser,user` of a nomap container
    shows the host's id of its root and the name the container knows it by."""
    pod = rl.run("pod", "create", "--infra=false").stdout.strip()
    try:
        for _ in range(2):
            rl.run("run", "-d", "--pod", pod, "sealtest/tiny", "sleep", "300")
        rows = rl.run("pod", "top", pod).stdout.splitlines()
        assert len(rows) == 3 and all(r.split()[-2:] == ["sleep", "300"] for r in rows[1:]), rows
    finally:
        rl.run("pod", "rm", "-f", "-t", "0", pod)
    rl.run("pod", "create", "--name", "shmpod")
    try:
        rl.run("run", "--rm", "--pod", "shmpod", "sealtest/tiny", "touch", "/dev/shm/shared")
        assert rl.run("run", "--rm", "--pod", "shmpod", "sealtest/tiny", "ls", "/dev/shm").stdout == "shared\n"
    finally:
        rl.run("pod", "rm", "-f", "-t", "0", "shmpod")
    first_subuid = _subids(rl.user.pw_name)[0]
    cid = rl.run("run", "-d", "--userns=nomap", "sealtest/tiny", "sleep", "300").stdout.strip()
    try:
        assert rl.run("top", cid, "huser,user").stdout.splitlines()[1].split() == [str(first_subuid), "root"]
    finally:
        rl.run("rm", "-f", "-t", "0", cid)


def test_rootless_pod_with_the_hosts_network(rl: RootlessRunner) -> None:
    """700-play.bats "kube --network host" as a user: a member of a pod whose infra has the host's network
    shares it without a setns into the host's namespace (which the user's runc may not enter: "can't get
    final child's PID from pipe"), and without the rootless port sysctl runc refuses there."""
    rl.run("pod", "create", "--name", "hostpod", "--network", "host")
    try:
        out = rl.run("run", "--rm", "--pod", "hostpod", "sealtest/tiny", "readlink", "/proc/self/ns/net").stdout
        assert out.strip() == os.readlink("/proc/self/ns/net")
    finally:
        rl.run("pod", "rm", "-f", "-t", "0", "hostpod")


def test_keep_id_home_is_the_users_own_when_the_container_has_it(rl: RootlessRunner) -> None:
    """030-run.bats "add username to /etc/passwd if --userns=keep-id" (#8013): HOME and ~ are the user's home
    when a volume is mounted there, else the working directory."""
    import pwd

    me = pwd.getpwuid(rl.uid)
    home = me.pw_dir
    probe = ("sh", "-c", f"echo $(pwd;echo $HOME;grep ^{me.pw_name}: /etc/passwd | cut -d: -f6)")
    assert rl.run("run", "--rm", "--userns=keep-id", "-w", "/tmp", "sealtest/tiny", *probe).stdout == \
        "/tmp /tmp /tmp\n"
    assert rl.run("run", "--rm", "-v", home, "--userns=keep-id", "-w", "/tmp", "sealtest/tiny", *probe).stdout == \
        f"/tmp {home} {home}\n"
    rl.run("volume", "prune", "-f")

