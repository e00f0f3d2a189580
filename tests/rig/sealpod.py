"""Running the real `sealpod` command line in an isolated world.

Each :class:`SealpodRunner` gets its own graph root, run root, HOME/XDG directories, an empty
containers.conf, its own registries.conf and auth file, so a test sees neither the machine's
configuration nor another test's state.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from sealpod.errors import CommandFailed
from sealpod.utils.proc import run as proc_run

# Variables that would let the caller's configuration leak into the test.
_SCRUBBED_PREFIXES = ("CONTAINERS_", "REGISTRY_AUTH_FILE", "DOCKER_", "XDG_", "SEALPOD_", "PODMAN_")

# What a Debian host's /usr/share/containers/containers.conf says (CONTAINERS_CONF hides that file):
# the 11 capabilities, not the 14 built in when there is no containers.conf at all.
DISTRIBUTION_CONTAINERS_CONF = """[containers]
default_capabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP",
                        "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]
"""


def skip_or_fail(reason: str) -> NoReturn:
    """Skip locally, but fail under CI, where nothing may be skipped silently."""
    if os.environ.get("CI"):
        pytest.fail(f"required test component unavailable (CI is set, so this fails): {reason}")
    pytest.skip(reason)


def require_root() -> None:
    if os.geteuid() != 0:
        skip_or_fail("needs root (euid is not 0)")


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


class SealpodRunner:
    """One isolated sealpod installation under ``base`` (normally the test's ``tmp_path``)."""

    @staticmethod
    def _empty_storage_conf(base: Path) -> Path:
        """An empty sealpod storage.conf: built-in defaults, never the machine's /etc file."""
        path = base / "storage.conf"
        base.mkdir(parents=True, exist_ok=True)
        path.write_text("")
        return path

    def __init__(self, base: Path, *, search_registries: Sequence[str] = (),
                 insecure_registries: Sequence[str] = ()) -> None:
        self.base = base
        self.root = base / "root"
        self.runroot = base / "runroot"
        self.home = base / "home"
        for d in (self.root, self.runroot, self.home / ".config", self.home / ".local" / "share"):
            d.mkdir(parents=True, exist_ok=True)
        xdg_runtime = self.home / "run"
        xdg_runtime.mkdir(mode=0o700, exist_ok=True)
        self.containers_conf = base / "containers.conf"
        self.containers_conf.write_text(DISTRIBUTION_CONTAINERS_CONF)
        self.registries_conf = base / "registries.conf"
        self.auth_file = base / "auth.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        env.update({
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(xdg_runtime),
            "CONTAINERS_CONF": str(self.containers_conf),
            "CONTAINERS_REGISTRIES_CONF": str(self.registries_conf),
            "REGISTRY_AUTH_FILE": str(self.auth_file),
            "DOCKER_CONFIG": str(self.home / ".docker"),
            "SEALPOD_STORAGE_CONF": str(self._empty_storage_conf(base)),
        })
        self.env: dict[str, str] = env
        self.write_registries_conf(search_registries, insecure_registries)

    def write_registries_conf(self, search: Sequence[str] = (), insecure: Sequence[str] = (),
                              extra: str = "") -> Path:
        """(Re)write registries.conf: search list, insecure ``[[registry]]`` entries, raw ``extra`` TOML."""
        lines = [f"unqualified-search-registries = {_toml_list(search)}", ""]
        for host in insecure:
            lines += ["[[registry]]", f'location = "{host}"', "insecure = true", ""]
        if extra:
            lines.append(extra)
        self.registries_conf.write_text("\n".join(lines))
        return self.registries_conf

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "sealpod", "--root", str(self.root), "--runroot", str(self.runroot),
                *args]

    def make_searchable(self) -> None:
        """Containers with a user namespace of their own reach the rootfs as their mapped root, so
        the directories above the store must be searchable by others; done right before use, as
        other pytest sessions reset /tmp/pytest-of-root to 0700."""
        for parent in self.root.parents:
            if parent != Path("/") and not parent.stat().st_mode & 0o001:
                parent.chmod(parent.stat().st_mode | 0o011)

    def run(self, *args: str, check: bool = True, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``sealpod ARGS``; with ``check``, a non-zero exit fails the test with the full story."""
        argv = self.argv(*args)
        try:
            raw = proc_run(argv, check=False, input=input.encode() if input is not None else None,
                           env=self.env, cwd=self.base, timeout=timeout)
        except CommandFailed as e:  # timeout: the gateway has no output to give, say so plainly
            raise AssertionError(f"sealpod {shlex.join(args)}: {e}\nargv: {shlex.join(argv)}") from e
        res = subprocess.CompletedProcess(argv, raw.returncode, raw.stdout.decode(errors="replace"),
                                          raw.stderr.decode(errors="replace"))
        if check and res.returncode != 0:
            raise AssertionError(describe(res))
        return res


def describe(res: subprocess.CompletedProcess[str]) -> str:
    args = [str(a) for a in res.args]
    return (f"command failed with exit code {res.returncode}\n"
            f"argv: {shlex.join(args)}\n"
            f"--- stdout ---\n{res.stdout.rstrip()}\n"
            f"--- stderr ---\n{res.stderr.rstrip()}")


def mounts_under(path: Path) -> list[str]:
    """Mount table lines of this host that lie under ``path`` (leaks a test must not leave)."""
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(path) in line]


@contextlib.contextmanager
def store_with_image(base: Path, registry_host: str, image: str = "sealtest/tiny") -> Iterator[SealpodRunner]:
    """A root-only runner whose store holds ``image`` from the rig registry; afterwards every
    container is removed and no mount of the store may remain."""
    require_root()
    runner = SealpodRunner(base, search_registries=[registry_host], insecure_registries=[registry_host])
    runner.run("pull", "-q", image)
    yield runner
    runner.run("rm", "-af", "-t", "0", check=False)
    runner.run("volume", "rm", "-af", check=False)
    leftovers = mounts_under(runner.root)
    assert not leftovers, f"mounts left behind: {leftovers}"


def build_context(base: Path, name: str, containerfile: str, **files: str) -> Path:
    """A build context directory ``base/name`` with a Containerfile and the given files."""
    ctx = base / name
    ctx.mkdir()
    (ctx / "Containerfile").write_text(containerfile)
    for fname, text in files.items():
        (ctx / fname).write_text(text)
    return ctx
