"""Entry point.  ``--version`` answers before anything heavy is imported: start-up time
is part of being a drop-in for podman in scripts that call it thousands of times."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-v"]):
        from sealpod import __version__
        from sealpod.cli.context import program_name

        sys.stdout.write(f"{program_name()} version {__version__}\n")
        return 0
    from sealpod.cli.main import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
