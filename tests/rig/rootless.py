"""Running `sealpod` as the unprivileged user `sealtest` (created by scripts/setup.sh).

A :class:`RootlessRunner` is a :class:`SealpodRunner` whose commands run with the user's real
uid and gid (``setpriv``), its own HOME and XDG_RUNTIME_DIR, under a base directory the user
owns.  pytest's own tmp_path (under a 0700 directory of root) is out of its reach, so bases
live under /tmp/sealpod-rootless.  Teardown removes the user's containers, kills its pause
process (which releases every mount in its namespace) and then the files, as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from sealpod.utils.proc import run as proc_run
from tests.rig.sealpod import SealpodRunner, require_root, skip_or_fail

USER = "sealtest"
BASE = Path("/tmp/sealpod-rootless")


def _user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        skip_or_fail(f"no user {USER!r}: run scripts/setup.sh")


def _has_subids(name: str, path: Path) -> bool:
    try:
        return any(line.startswith(f"{name}:") for line in path.read_text().splitlines())
    except OSError:
        return False


def require_rootless_setup() -> pwd.struct_passwd:
    """The test user, with subordinate ids, newuidmap, and an interpreter it may run."""
    require_root()
    user = _user()
    for f in (Path("/etc/subuid"), Path("/etc/subgid")):
        if not _has_subids(USER, f):
            skip_or_fail(f"{f} has no entry for {USER}: run scripts/setup.sh")
    for tool in ("newuidmap", "newgidmap", "setpriv"):
        if shutil.which(tool) is None:
            skip_or_fail(f"{tool} is not installed (Debian packages uidmap, util-linux)")
    probe = proc_run(_setpriv(user) + [sys.executable, "-c", "import sealpod"], check=False, cwd="/")
    if probe.returncode != 0:
        skip_or_fail(f"user {USER} cannot run {sys.executable} with sealpod: "
                     f"{probe.stderr.decode(errors='replace').strip()[-300:]} (build the venv with /usr/bin/python3)")
    return user


def _setpriv(user: pwd.struct_passwd) -> list[str]:
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]


class RootlessRunner(SealpodRunner):
    """An isolated sealpod of the user `sealtest`: same API as SealpodRunner."""

    def __init__(self, *, search_registries: Sequence[str] = (), insecure_registries: Sequence[str] = ()) -> None:
        self.user = require_rootless_setup()
        BASE.mkdir(mode=0o711, exist_ok=True)
        base = BASE / uuid.uuid4().hex[:12]
        super().__init__(base, search_registries=search_registries, insecure_registries=insecure_registries)
        self.env["USER"] = self.env["LOGNAME"] = USER
        self.env.pop("CI", None)
        for dirpath, dirnames, filenames in os.walk(base):
            for name in (dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)):
                os.lchown(name, self.user.pw_uid, self.user.pw_gid)
        base.chmod(0o711)  # containers with their own id maps (nomap, auto) must reach their rootfs

    @property
    def uid(self) -> int:
        return self.user.pw_uid

    def argv(self, *args: str) -> list[str]:
        return _setpriv(self.user) + super().argv(*args)

    def as_user(self, *argv: str) -> list[str]:
        """Any command line, run as the test user (to probe what the user can reach)."""
        return _setpriv(self.user) + list(argv)

    def run_host(self, *argv: str) -> str:
        """A host command (as root, outside any namespace): what the host sees."""
        return proc_run(list(argv)).stdout.decode()

    def close(self) -> None:
        """Remove containers, end the user namespace (its mounts go with it), delete the files."""
        self.run("rm", "-af", "-t", "0", check=False)
        self.run("system", "migrate", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def rootless_store(registry_host: str, image: str = "sealtest/tiny") -> Iterator[RootlessRunner]:
    """A rootless store holding ``image`` from the rig registry, cleaned up afterwards."""
    runner = RootlessRunner(search_registries=[registry_host], insecure_registries=[registry_host])
    try:
        runner.run("pull", "-q", image)
        yield runner
    finally:
        runner.close()
