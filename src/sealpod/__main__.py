"""Entry point.  ``--version`` answers before anything heavy is imported: start-up time
is part of being a drop-in for podman in scripts that call it thousands of times."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import NoReturn


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-v"]):
        from sealpod import __version__
        from sealpod.cli.context import program_name

        sys.stdout.write(f"{program_name()} version {__version__}\n")
        return 0
    from sealpod.cli.main import run_cli

    return run_cli(args)


def leave(code: int | None) -> NoReturn:
    """End the process with ``code``, skipping the interpreter's teardown when nothing needs it.

    Why: tearing down ~170 imported modules takes ~10 ms, as long as the rest of a ``ps``, and
    every command is a fresh process.  What the teardown would still do is done here first
    (standard streams flushed, logging's handlers closed); when anything else could need it
    (another thread alive, an atexit callback registered), the normal exit runs instead.
    Launchers call this; ``main`` itself returns, for callers inside a process of their own."""
    import atexit
    import os

    status = 0 if code is None else code
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # the reader went away: what was not written is lost either way
        pass
    threading = sys.modules.get("threading")
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.shutdown()
    if (threading is None or threading.active_count() <= 1) and \
            atexit._ncallbacks() <= (1 if logging is not None else 0):  # logging's own: done just above
        os._exit(status & 0xFF)
    sys.exit(status)


if __name__ == "__main__":
    leave(main())
