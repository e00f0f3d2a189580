"""Podman 4.3.1's ``image scp`` between users of one machine (test/system/120-load.bats "podman image
scp transfer", test/e2e/image_scp_test.go): root's store to the user `sealtest`'s default store and
back, with -q, a new name, by ID; and the errors for bad operands, unknown users, missing images.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator

import pytest

from sealpod.utils.proc import run as proc_run
from tests.rig.registry import RegistryServer
from tests.rig.rootless import USER, require_rootless_setup
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("scp"), seeded_registry.host) as runner:
        yield runner


def _as_user(ctr: SealpodRunner, *args: str) -> tuple[int, str]:
    """sealpod as `sealtest` on its default store (its HOME), as image scp reaches it."""
    user = require_rootless_setup()
    argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--",
            sys.executable, "-m", "sealpod", *args]
    env = {"PATH": os.environ["PATH"], "HOME": user.pw_dir, "USER": USER, "LOGNAME": USER}
    out = proc_run(argv, check=False, env=env, cwd="/")
    return out.returncode, out.stdout.decode() + out.stderr.decode()


@pytest.fixture
def newname(ctr: SealpodRunner) -> Iterator[str]:
    """A name unlikely to exist at the destination; removed from both stores afterwards."""
    require_rootless_setup()
    name = f"foo.bar/nonesuch/c_{uuid.uuid4().hex[:10]}:mytag"
    yield name
    _as_user(ctr, "rmi", "-f", name, _two(name))
    ctr.run("rmi", "-f", name, check=False)


def _two(name: str) -> str:
    return name.replace(":mytag", "") + "two"


def _digest(ctr: SealpodRunner, name: str) -> str:
    return ctr.run("image", "inspect", "--format", "{{.Digest}}", name).stdout.strip()


def test_scp_to_the_user_and_back_keeps_the_digest(ctr: SealpodRunner, newname: str) -> None:
    """bats "podman image scp transfer": progress on the way there, only "Loaded image" with -q."""
    src_digest = _digest(ctr, IMAGE)
    ctr.run("tag", IMAGE, newname)
    out = ctr.run("image", "scp", newname, f"{USER}@localhost::")
    both = out.stdout + out.stderr
    for step in ("Copying blob ", "Copying config ", "Writing manifest", "Storing signatures"):
        assert step in both, both
    assert out.stdout == f"Loaded image: {newname}\n"
    assert _as_user(ctr, "image", "exists", newname)[0] == 0

    ctr.run("untag", IMAGE, newname)
    out = ctr.run("image", "scp", "-q", f"{USER}@localhost::{newname}")
    assert out.stdout == f"Loaded image: {newname}\n" and out.stderr == ""
    assert _digest(ctr, newname) == src_digest


def test_scp_back_under_a_new_name_and_by_id(ctr: SealpodRunner, newname: str) -> None:
    """A second operand names the copy; an image ID is a valid source (bats: foobar:123, foobartwo)."""
    src_digest = _digest(ctr, IMAGE)
    local = f"{newname.split(':')[0]}-local:123"
    ctr.run("tag", IMAGE, newname)
    ctr.run("image", "scp", "-q", newname, f"{USER}@localhost::")
    ctr.run("untag", IMAGE, newname)
    try:
        ctr.run("image", "scp", "-q", f"{USER}@localhost::{newname}", local)
        assert _digest(ctr, local) == src_digest
        image_id = ctr.run("image", "inspect", "--format", "{{.ID}}", local).stdout.strip()
        two = _two(newname)
        out = ctr.run("image", "scp", "-q", image_id, f"{USER}@localhost::{two}")
        assert out.stdout.startswith("Loaded image: ")
        code, listing = _as_user(ctr, "image", "inspect", "--format", "{{.ID}} {{.RepoTags}}", two)
        assert code == 0 and listing.startswith(image_id) and f"{two}:latest" in listing, listing
    finally:
        ctr.run("rmi", "-f", local, check=False)


@pytest.mark.parametrize(("operands", "message"), [
    (["FOOBAR"], "Error: must specify a destination: invalid argument"),
    (["QA::"], "Error: no source image specified: invalid argument"),
    (["nobody-such-user@localhost::"], "Error: no source image specified: invalid argument"),
    ([IMAGE, "nosuchuser_xyz@localhost::"], "Error: user: unknown user nosuchuser_xyz"),
    (["a@localhost::", "b@localhost::"], "Error: a source image must be specified: invalid argument"),
    ([IMAGE, f"{USER}@localhost"], "Error: $SUDO_USER must be defined to find the default rootless user"),
])
def test_scp_bad_operands(ctr: SealpodRunner, operands: list[str], message: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Podman's checks of the operands, each a one-line error and exit 125."""
    monkeypatch.delitem(ctr.env, "SUDO_USER", raising=False)
    out = ctr.run("image", "scp", *operands, check=False)
    assert out.returncode == 125, out.stderr
    assert out.stderr.strip() == message


def test_scp_missing_image_either_way(ctr: SealpodRunner) -> None:
    """bats: "Error: IMAGE: image not known", exit 125, pushing and pulling alike."""
    require_rootless_setup()
    nope = "nope.nope/nonesuch:notag"
    for operands in ([f"{USER}@localhost::{nope}"], [nope, f"{USER}@localhost::"]):
        out = ctr.run("image", "scp", *operands, check=False)
        assert out.returncode == 125, out.stderr
        assert out.stderr.strip() == f"Error: {nope}: image not known"


def test_scp_remote_host_is_refused_in_one_line(ctr: SealpodRunner) -> None:
    """A connection (ssh host) is not reached: one line, exit 125, no traceback."""
    out = ctr.run("image", "scp", IMAGE, "QA::", check=False)
    assert out.returncode == 125
    assert out.stderr.startswith("Error: ") and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_scp_help_uses_podman_words(ctr: SealpodRunner) -> None:
    out = ctr.run("image", "scp", "--help").stdout
    assert "securely copy images" in out
    assert "image scp [options] IMAGE [HOST::]" in out
    assert "-q, --quiet" in out and "Suppress the output" in out

