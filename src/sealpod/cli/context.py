"""What every command receives: its parsed flags and a lazily created engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from sealpod.engine import Engine


def program_name() -> str:
    """The name the user called us by (``podman``, ``docker``, ``sealpod``), for usage lines and hints,
    as Podman prints its own argv[0]: ``python -m sealpod`` and ``python -c`` launchers say sealpod."""
    import os

    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 == "-c" or argv0.endswith(".py"):
        return "sealpod"
    return os.path.basename(argv0)


@dataclass(frozen=True)
class Command:
    """One CLI verb: how to declare its flags and how to run it."""

    summary: str
    setup: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, CliContext], int]


class CliContext:
    """Carries the global flags to the engine; the engine is built on first use only."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from sealpod.engine import Engine, GlobalFlags

            a = self.args
            self._engine = Engine.from_flags(GlobalFlags(
                root=getattr(a, "root", None), runroot=getattr(a, "runroot", None),
                storage_driver=getattr(a, "storage_driver", None),
                storage_opts=tuple(getattr(a, "storage_opt", ()) or ()),
                runtime=getattr(a, "runtime", None), cgroup_manager=getattr(a, "cgroup_manager", None),
                log_level=getattr(a, "log_level", None), tmpdir=getattr(a, "tmpdir", None),
                volumepath=getattr(a, "volumepath", None),
                network_config_dir=getattr(a, "network_config_dir", None),
                events_backend=getattr(a, "events_backend", None),
                runtime_flags=tuple(getattr(a, "runtime_flag", ()) or ()) or None,
                default_mounts_file=getattr(a, "default_mounts_file", None),
                hooks_dir=tuple(getattr(a, "hooks_dir", ())) or None, namespace=getattr(a, "namespace", None),
                conmon=getattr(a, "conmon", None), network_cmd_path=getattr(a, "network_cmd_path", None),
            ))
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()


def fail_with(errors: Sequence[Exception]) -> int:
    """Podman prints every error of a multi-object command; the last one decides the exit code."""
    sys.stdout.flush()
    for err in errors[:-1]:
        sys.stderr.write(f"Error: {err}\n")
    if errors:
        raise errors[-1]
    return 0
