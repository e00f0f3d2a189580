"""Users and groups from an image rootfs (read safely), and the generated /etc files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealpod.errors import InvalidArgument, NoSuchUser
from sealpod.runtime.etcfiles import (
    ExecUser,
    group_with_gid,
    hostname_content,
    hosts_content,
    parse_add_host,
    passwd_with_user,
    read_in_root,
    resolv_conf_content,
    resolve_groups,
    resolve_user,
    secure_join,
)

PASSWD = """root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
broken:x:notanumber:1::/:/bin/sh
"""
GROUP = """root:x:0:
wheel:x:10:alice,bob
staff:x:50:alice
alice:x:1000:
video:x:44:
"""


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return root


def test_named_and_numeric_users(rootfs: Path) -> None:
    assert resolve_user(rootfs, "") == ExecUser(0, 0, (), "/root", "root")
    assert resolve_user(rootfs, "alice") == ExecUser(1000, 1000, (10, 50), "/home/alice", "alice")
    assert resolve_user(rootfs, "1000") == ExecUser(1000, 1000, (10, 50), "/home/alice", "alice")
    assert resolve_user(rootfs, "4242") == ExecUser(4242, 0, (), "/", "")


def test_user_and_group(rootfs: Path) -> None:
    assert resolve_user(rootfs, "alice:wheel") == ExecUser(1000, 10, (), "/home/alice", "alice")  # that group alone
    assert resolve_user(rootfs, "alice:777").gid == 777
    assert resolve_user(rootfs, "4242:video") == ExecUser(4242, 44, (), "/", "")
    assert resolve_user(rootfs, "daemon:0").gid == 0


def test_missing_user_or_group_is_podmans_error(rootfs: Path) -> None:
    with pytest.raises(NoSuchUser) as e:
        resolve_user(rootfs, "foo")
    assert str(e.value) == "unable to find user foo: no matching entries in passwd file"
    assert e.value.exit_code == 126
    with pytest.raises(NoSuchUser, match="^unable to find group foo: no matching entries in group file$"):
        resolve_user(rootfs, "alice:foo")


def test_image_without_etc_files(tmp_path: Path) -> None:
    assert resolve_user(tmp_path, "1000:1000") == ExecUser(1000, 1000, (), "/", "")
    with pytest.raises(NoSuchUser):
        resolve_user(tmp_path, "nobody")


def test_group_add(rootfs: Path) -> None:
    assert resolve_groups(rootfs, ["wheel", "27", "keep-groups", "video", "wheel"]) == (10, 27, 44)
    with pytest.raises(NoSuchUser, match="unable to find group nope"):
        resolve_groups(rootfs, ["nope"])


def test_symlink_to_host_file_is_not_followed(tmp_path: Path) -> None:
    host_secret = tmp_path / "host-passwd"
    host_secret.write_text("eve:x:4000:4000::/home/eve:/bin/sh\n")
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.symlink(host_secret, root / "etc" / "passwd")  # absolute: re-rooted inside the rootfs
    with pytest.raises(NoSuchUser):
        resolve_user(root, "eve")
    os.unlink(root / "etc" / "passwd")
    os.symlink("../../../../../../../" + str(host_secret), root / "etc" / "passwd")  # climbing out
    with pytest.raises(NoSuchUser):
        resolve_user(root, "eve")
    assert read_in_root(root, "/etc/passwd") is None


def test_symlinks_inside_rootfs_resolve(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "real").mkdir(parents=True)
    (root / "real" / "passwd").write_text("bob:x:7:7::/b:/bin/sh\n")
    os.symlink("/real", root / "etc")
    assert resolve_user(root, "bob").uid == 7
    (root / "etc2").mkdir()
    os.symlink("../real/passwd", root / "etc2" / "passwd")
    assert read_in_root(root, "/etc2/passwd") == "bob:x:7:7::/b:/bin/sh\n"
    assert secure_join(root, "/../../x") == root / "x"


def test_symlink_loop_and_non_files(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc" / "passwd").mkdir(parents=True)
    assert read_in_root(root, "/etc/passwd") is None
    os.symlink("/loop", root / "loop")
    with pytest.raises(OSError):
        secure_join(root, "/loop/x")
    assert read_in_root(root, "/loop") is None


def test_passwd_and_group_additions(rootfs: Path) -> None:
    assert passwd_with_user(rootfs, 1000, 1000) is None
    text = passwd_with_user(rootfs, 4242, 0, "/tmp")
    assert text is not None and text.startswith(PASSWD)
    assert text.endswith("4242:*:4242:0:container user:/tmp:/bin/sh\n")
    assert group_with_gid(rootfs, 10) is None
    assert (group_with_gid(rootfs, 99) or "").endswith("99:x:99:\n")


def test_hosts() -> None:
    base = "127.0.0.1 localhost  # comment\n\n::1 localhost ip6-localhost\n"
    text = hosts_content(["abc123", "web"], base=base, host_containers_internal="10.88.0.1",
                         ips=["10.88.0.5"], extra_hosts=[parse_add_host("db;db.local:10.0.0.9")])
    assert text.splitlines() == [
        "10.0.0.9\tdb db.local",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost",
        "10.88.0.1\thost.containers.internal",
        "10.88.0.5\tabc123 web",
    ]
    default = hosts_content(["h"])
    assert default.startswith("127.0.0.1\tlocalhost localhost.localdomain")
    assert default.endswith("127.0.0.1\th\n")
    assert parse_add_host("v6:[::2]") == ("::2", ("v6",))
    with pytest.raises(InvalidArgument):
        parse_add_host("name:not-an-ip")


def test_hostname() -> None:
    assert hostname_content("abc") == "abc"


def test_resolv_conf() -> None:
    host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"
    assert resolv_conf_content(host) == "search corp.example\nnameserver 10.0.0.2\noptions edns0\n"
    assert "127.0.0.53" in resolv_conf_content(host, host_network=True)
    only_local = "nameserver 127.0.0.53\n"
    assert resolv_conf_content(only_local) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
    assert "2001:4860:4860::8888" in resolv_conf_content(only_local, ipv6=True)
    text = resolv_conf_content(host, nameservers=["1.1.1.1"], searches=["."], options=["ndots:2"])
    assert text == "nameserver 1.1.1.1\noptions ndots:2\n"
    text = resolv_conf_content(only_local, network_nameservers=["10.89.0.1"])
    assert text == "nameserver 10.89.0.1\n"
