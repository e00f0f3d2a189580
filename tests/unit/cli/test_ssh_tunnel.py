"""Pure logic of ssh:// connections: ssh's command line, its diagnostics in Podman's words, and
which identity a command uses."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from sealpod.cli.remote import _strip_remote_flags, resolve_target
from sealpod.cli.ssh_tunnel import check_identity, ssh_argv, ssh_failure
from sealpod.config.connections import parse_uri
from sealpod.errors import InvalidArgument


def test_ssh_argv_never_prompts_and_names_only_what_was_given(tmp_path: Path) -> None:
    argv = ssh_argv(parse_uri("ssh://me@example.org:2222/run/x.sock"), "/keys/id", {"HOME": str(tmp_path)})
    assert argv[0] == "ssh" and argv[-2:] == ["--", "example.org"]
    pairs = list(zip(argv, argv[1:], strict=False))
    for option in ("BatchMode=yes", "StrictHostKeyChecking=accept-new", "IdentitiesOnly=yes",
                   f'UserKnownHostsFile="{tmp_path}/.ssh/known_hosts"'):
        assert ("-o", option) in pairs
    assert ("-i", "/keys/id") in pairs and ("-p", "2222") in pairs and ("-l", "me") in pairs
    plain = ssh_argv(parse_uri("ssh://example.org"), "", {})
    assert "-p" not in plain and "-l" not in plain and "-i" not in plain  # ssh's (and ssh_config's) defaults
    assert not any(a.startswith("UserKnownHostsFile") for a in plain)


@pytest.mark.parametrize(("log", "expected"), [
    ("me@h: Permission denied (publickey,password).\n",
     "failed to connect: ssh: handshake failed: ssh: unable to authenticate, attempted methods "
     "[none publickey password], no supported methods remain"),
    ("ssh: connect to host h port 2222: Connection refused\n", "failed to connect: dial tcp h:2222: connect: "
     "connection refused"),
    ("ssh: Could not resolve hostname h: Name or service not known\n",
     "failed to connect: dial tcp: lookup h: no such host"),
    ("@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n...\nHost key verification failed.\n",
     "failed to connect: ssh: handshake failed: knownhosts: key mismatch"),
    ("No ED25519 host key is known for [h]:2222 and you have requested strict checking.\n"
     "Host key verification failed.\n", "failed to connect: ssh: handshake failed: knownhosts: key is unknown"),
    ("Warning: Permanently added '[h]:2222' (ED25519) to the list of known hosts.\nsomething odd\n",
     "failed to connect: ssh: something odd"),
    ("", "failed to connect: ssh: ssh exited without saying why"),
])
def test_ssh_failures_in_podmans_words(log: str, expected: str) -> None:
    assert str(ssh_failure(parse_uri("ssh://me@h:2222/x.sock"), log)) == expected


def test_identity_must_exist(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("")
    assert check_identity(str(key)) == str(key)
    assert check_identity("") == ""
    with pytest.raises(InvalidArgument, match="no such file"):
        check_identity(str(tmp_path / "missing"))


def test_identity_flag_is_not_forwarded() -> None:
    forwarded, opts = _strip_remote_flags(["--url", "ssh://h/x", "--identity", "/k", "--log-level=debug"])
    assert forwarded == ["--log-level=debug"] and opts.identity == "/k" and opts.url == "ssh://h/x"
    assert _strip_remote_flags(["--identity=/j"])[1].identity == "/j"


def test_identity_order(tmp_path: Path) -> None:
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nactive_service = "a"\n[engine.service_destinations.a]\nuri = "ssh://h/a.sock"\n'
                    'identity = "/conn-key"\n')
    env = {"CONTAINERS_CONF": str(conf), "HOME": str(tmp_path)}

    def ns(identity: str | None = None, url: str | None = None) -> argparse.Namespace:
        return argparse.Namespace(url=url, connection=None, remote=True, identity=identity)

    assert resolve_target(ns(), env) == (parse_uri("ssh://h/a.sock"), "/conn-key")
    assert resolve_target(ns(), {**env, "CONTAINER_SSHKEY": "/env-key"})[1] == "/env-key"
    assert resolve_target(ns("/flag-key"), {**env, "CONTAINER_SSHKEY": "/env-key"})[1] == "/flag-key"
    assert resolve_target(ns(url="ssh://o/x.sock"), env)[1] == ""  # a URL does not borrow a connection's key
