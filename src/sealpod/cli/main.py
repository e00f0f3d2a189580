"""Argument dispatch, global flags and the translation of errors into exit codes.

Global flags may stand before or after the command, as with Podman's persistent
flags, so every command parser inherits them from one parent parser.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from sealpod.cli.commands import COMMANDS, GROUPS, HIDDEN, SUMMARIES
from sealpod.cli.context import CliContext, Command, program_name
from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False  # typing costs ~2 ms of every command's start-up; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, NoReturn

LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad flags as Podman does: one line, exit 125."""

    def format_help(self) -> str:
        from sealpod.cli.usage import command_help

        return command_help(self)

    def _get_formatter(self) -> argparse.HelpFormatter:
        """argparse builds one for every add_argument (to check metavars), and the default one asks
        the terminal for its width and imports shutil each time; our help has its own layout."""
        return argparse.HelpFormatter(prog=self.prog, width=100)

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        """An integer flag takes what Go's int64 holds: a larger number is cobra's "out of range" error,
        never a Python integer that would overflow later (the state DB, runc, a timer)."""
        value = super()._get_value(action, arg_string)
        if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < 1 << 63:
            names = sorted(action.option_strings, key=len)
            flag = ", ".join(names) if len(names) > 1 and not names[0].startswith("--") else (names or ["?"])[-1]
            self.error(f'invalid argument "{arg_string}" for "{flag}" flag: strconv.ParseInt: parsing '
                       f'"{arg_string}": value out of range')
        return value

    def _parse_optional(self, arg_string: str) -> Any:
        """cobra takes ``--rm=false``/``-t=true`` for every boolean flag; argparse only ``--rm``."""
        found = super()._parse_optional(arg_string)
        if not (isinstance(found, tuple) and len(found) == 3 and found[2] is not None):
            return found
        action, option, value = found
        if not isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction) or \
                arg_string != f"{option}={value}":  # "-af" is -a -f, not -a=f
            return found
        from sealpod.cli.args import parse_bool

        try:
            flag = parse_bool(str(value))
        except argparse.ArgumentTypeError:
            self.error(f'invalid argument "{value}" for "{option}" flag: strconv.ParseBool: parsing "{value}": '
                       "invalid syntax")
        const = flag if isinstance(action, argparse._StoreTrueAction) else not flag
        return argparse._StoreConstAction(option_strings=action.option_strings, dest=action.dest, const=const,
                                          default=action.default), option, None

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            from sealpod.cli.usage import surplus_message

            surplus = surplus_message(self, message.removeprefix("unrecognized arguments: ").split())
            if surplus:
                raise InvalidArgument(surplus)
            flag = message.removeprefix("unrecognized arguments: ").split()[0]
            letter = next((c for c in flag[1:].split("=")[0] if f"-{c}" not in self._option_string_actions), "") \
                if flag.startswith("-") and not flag.startswith("--") and len(flag) > 1 else ""
            # cobra names the first unknown letter of a short flag
            message = f"unknown shorthand flag: '{letter}' in {flag}" if letter else "unknown flag: " + flag
        if message.startswith("the following arguments are required: "):
            from sealpod.cli.usage import missing_message

            words = missing_message(self, message.removeprefix("the following arguments are required: ").split(", "))
            if words:
                raise InvalidArgument(words)
        import re

        unknown = re.match(r"argument COMMAND: invalid choice: '(.*)' \(choose from", message)
        if unknown:  # a sub-command of a command made of sub-parsers (system connection)
            raise InvalidArgument(f"unrecognized command `{self.prog} {unknown.group(1)}`\nTry '{self.prog} --help' "
                                  "for more information")
        typed_value = re.fullmatch(r"argument (\S+): invalid (int|uint|float) value: '(.*)'", message, re.DOTALL)
        if typed_value:  # cobra's words: the flag as its help names it, and Go's parse error
            names = sorted(typed_value.group(1).split("/"), key=len)
            flag = ", ".join(names) if len(names) > 1 and not names[0].startswith("--") else names[-1]
            func = {"float": "ParseFloat", "uint": "ParseUint"}.get(typed_value.group(2), "ParseInt")
            value = typed_value.group(3)
            message = f'invalid argument "{value}" for "{flag}" flag: strconv.{func}: parsing "{value}": invalid syntax'
        missing = re.fullmatch(r"argument (\S+): expected one argument", message)
        if missing:  # cobra's words, for the spelling the user typed
            aliases = missing.group(1).split("/")
            typed = next((a for a in aliases if a in sys.argv), aliases[0])
            message = (f"flag needs an argument: {typed}" if typed.startswith("--") else
                       f"flag needs an argument: '{typed[1:]}' in {typed}")
        raise InvalidArgument(f"{message}\nSee '{self.prog} --help'")


def _path_or_none(text: str) -> Path | None:
    """An empty --root/--runroot means the default, never the current directory."""
    return Path(text) if text else None


def global_parser() -> ArgumentParser:
    p = ArgumentParser(add_help=False)
    g = p.add_argument_group("global options")
    S = argparse.SUPPRESS
    g.add_argument("--root", type=_path_or_none, default=S, help="path to the graph root directory")
    g.add_argument("--runroot", type=_path_or_none, default=S, help="path to the run root directory")
    g.add_argument("--storage-driver", default=S, help="storage driver (overlay, vfs)")
    g.add_argument("--storage-opt", action="append", default=S, help="storage driver option")
    g.add_argument("--log-level", default=S, metavar="LEVEL",
                   help="log messages at and above LEVEL (trace, debug, info, warn, warning, error, fatal, panic)")
    g.add_argument("--cgroup-manager", default=S, choices=("cgroupfs", "systemd"), help="cgroup manager")
    g.add_argument("--runtime", default=S, help="path or name of the OCI runtime")
    g.add_argument("--conmon", default=S, help="path of the conmon binary")
    g.add_argument("--network-cmd-path", default=S, help="path to the command for configuring the network")
    g.add_argument("--ssh", default=S, help='define the ssh mode (default "golang")')
    g.add_argument("--syslog", action="store_true", default=S,
                   help="output logging information to syslog as well as the console (default false)")
    g.add_argument("--namespace", default=S, help="set the libpod namespace, used to create new containers and to "
                   "list them")
    g.add_argument("--tmpdir", type=Path, default=S, help="path to the tmp directory for libpod state content")
    g.add_argument("--volumepath", type=_path_or_none, default=S, help="path to the volume directory")
    g.add_argument("--network-config-dir", "--cni-config-dir", dest="network_config_dir", type=_path_or_none,
                   default=S, help="path of the network configuration directory")
    g.add_argument("--events-backend", default=S, choices=("file", "journald", "none"), help="events backend")
    g.add_argument("--url", "--host", "-H", dest="url", default=S, help="URL of a sealpod/podman service")
    g.add_argument("--connection", "-c", default=S, help="named connection to use")
    g.add_argument("--identity", default=S, help="path to SSH identity file, (CONTAINER_SSHKEY)")
    g.add_argument("--remote", "-r", action="store_true", default=S, help="access a remote service")
    g.add_argument("--noout", action="store_true", default=S, help="do not print anything to stdout")
    g.add_argument("--runtime-flag", action="append", default=S, help="add global flags for the container runtime")
    g.add_argument("--default-mounts-file", type=Path, default=S, help=S)  # hidden, as in Podman: mounts.conf
    g.add_argument("--hooks-dir", action="append", default=S, help="set the OCI hooks directory path (may be set "
                   "multiple times)")
    g.add_argument("--context", default=S, help='name of the context to use (only "default")')
    g.add_argument("--config", default=S, help=S)  # Docker's: taken and ignored with a warning, as Podman
    return p


def takes_value() -> frozenset[str]:
    """The global flags that take a value.  Imported when asked: ``--help`` and completion of
    command names need no engine (and its configuration modules) loaded."""
    from sealpod.engine import GLOBAL_FLAGS_WITH_VALUE

    return GLOBAL_FLAGS_WITH_VALUE


def _leading_flags(argv: list[str]) -> list[str]:
    """The global flags before the command (their values skipped)."""
    flags, i, valued = [], 0, takes_value()
    while i < len(argv) and argv[i].startswith("-"):
        flags.append(argv[i])
        i += 2 if argv[i] in valued else 1
    return flags


def _split_command(argv: list[str]) -> tuple[str | None, list[str], list[str]]:
    """Find the command words among leading global flags; return (command, before, after)."""
    valued = takes_value()
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in valued else 1
    if i >= len(argv):
        return None, argv, []
    first = argv[i]
    if first == "help":
        return first, argv[:i], argv[i + 1:]
    if first in GROUPS and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
        two = f"{first} {argv[i + 1]}"
        if two in GROUPS and i + 2 < len(argv) and not argv[i + 2].startswith("-"):  # image trust show
            if f"{two} {argv[i + 2]}" in COMMANDS:
                return f"{two} {argv[i + 2]}", argv[:i], argv[i + 3:]
            raise InvalidArgument(f"unrecognized command `{program_name()} {two} {argv[i + 2]}`\n"
                                  f"Try '{program_name()} {two} --help' for more information")
        if two in COMMANDS or two in GROUPS:
            return two, argv[:i], argv[i + 2:]
        raise InvalidArgument(f"unrecognized command `{program_name()} {two}`\nTry '{program_name()} {first} --help' "
                              "for more information")
    if first in COMMANDS or first in GROUPS:
        return first, argv[:i], argv[i + 1:]
    unknown = next((a for a in argv[i + 1:] if a.startswith("-") and a != "-" and a.split("=")[0] not in valued
                    and a not in ("--help", "-h")), None)
    if unknown is not None:  # cobra rejects a flag before it looks at the command word
        raise InvalidArgument(f"unknown flag: {unknown.split('=')[0]}\nSee '{program_name()} --help'")
    raise InvalidArgument(f"unrecognized command `{program_name()} {first}`\nTry '{program_name()} --help' for more "
                          "information")


def _summary(full: str) -> str:
    """A command's one-line summary, from its own table (help output only: imports are fine)."""
    ref = COMMANDS.get(full)
    if ref is None:
        return SUMMARIES.get(full, GROUPS.get(full, ""))
    try:
        command: Command = importlib.import_module(ref.module).COMMANDS[ref.name]
    except (ImportError, KeyError):
        return SUMMARIES.get(full, "")
    return command.summary


def _usage(group: str | None = None, before: list[str] | None = None) -> str:
    """cobra's shape, which scripts parse: ``Available Commands:`` up to ``Options:``.  The top level
    lists the global options; ``--remote`` only where it could change anything, as in Podman: not when
    a service is already chosen (CONTAINER_HOST, CONTAINER_CONNECTION, --url, --connection)."""
    if group is None:
        names = sorted({c for c in (*COMMANDS, *GROUPS) if " " not in c and c not in HIDDEN} | {"help"})
        title = "Manage pods, containers and images"
        lines = [title, "", "Usage:", f"  {program_name()} [options] [command]", "", "Available Commands:"]
    else:
        names = sorted({c[len(group) + 1:].split(" ")[0] for c in COMMANDS
                        if c.startswith(group + " ") and c not in HIDDEN})
        title = GROUPS[group]
        lines = [title, "", "Description:", f"  {title}", "", "Usage:", f"  {program_name()} {group} [command]", "",
                 "Available Commands:"]
    for name in names:
        text = "Help about any command" if name == "help" else _summary(f"{group} {name}" if group else name)
        lines.append(f"  {name:<12} {text}")
    if group is None:
        from sealpod.cli.usage import global_options

        chosen = os.environ.get("CONTAINER_HOST") or os.environ.get("CONTAINER_CONNECTION") or any(
            w.partition("=")[0] in _REMOTE_FLAGS - {"--remote", "-r"} for w in _leading_flags(before or []))
        lines += ["", global_options(global_parser(), hide={"--remote"} if chosen else set()).rstrip("\n")]
    return "\n".join(lines) + "\n"


def _configure_logging(level: str, name: str, argv: list[str]) -> None:
    """Like Podman, say at info level which level filters, and at trace level what was asked."""
    if level in ("warn", "warning"):
        return  # the default: no handler needed, and logging costs ~10 ms to import
    import logging

    from sealpod.cli.logfmt import TRACE, handler

    mapping = {"trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
               "warning": logging.WARNING, "error": logging.ERROR, "fatal": logging.CRITICAL,
               "panic": logging.CRITICAL}
    logging.basicConfig(level=mapping[level], handlers=[handler()])
    log = logging.getLogger("sealpod")
    log.info("%s filtering at log level %s", program_name(), level)
    log.log(TRACE, "running %s %s with %s", program_name(), name, " ".join(argv))


def _global_namespace(before: list[str]) -> tuple[list[str], str | None]:
    """``--namespace NS`` before the command, taken out here: ``ps`` has a ``--namespace`` of its
    own (``--ns``), which only a flag after the command means, as in Podman."""
    out: list[str] = []
    value: str | None = None
    i = 0
    while i < len(before):
        word = before[i]
        if word == "--namespace" and i + 1 < len(before):
            value, i = before[i + 1], i + 2
            continue
        if word.startswith("--namespace="):
            value = word.partition("=")[2]
        else:
            out.append(word)
        i += 1
    return out, value


def _docker_debug(before: list[str]) -> tuple[list[str], bool]:
    """Docker's ``-D``/``--debug`` before the command means ``--log-level=debug`` (``info -D`` is info's own)."""
    out, debug, i, valued = [], False, 0, takes_value()
    while i < len(before):
        word = before[i]
        if word in ("-D", "--debug"):
            debug = True
        else:
            out += before[i:i + 2] if word in valued else [word]
            i += 1 if word in valued else 0
        i += 1
    return out, debug


_REMOTE_FLAGS = frozenset({"--url", "--host", "-H", "--remote", "-r", "--connection", "-c"})


def _local_only(name: str) -> bool:
    """Commands that edit the local connection configuration, as in Podman: never forwarded."""
    return name == "system connection" or name.startswith("context ")


def _remote_mode(name: str, before: list[str]) -> bool | None:
    """Whether to forward the command to a service (cheap: no file is read); None when this
    process is the one a service runs for a remote client."""
    if "_SEALPOD_SERVED" in os.environ:
        return None
    if _local_only(name):
        return False
    if os.environ.get("CONTAINER_HOST") or os.environ.get("CONTAINER_CONNECTION"):
        return True
    return any(w.partition("=")[0] in _REMOTE_FLAGS for w in _leading_flags(before))


def _parser(name: str) -> tuple[Command, ArgumentParser]:
    ref = COMMANDS[name]
    command: Command = importlib.import_module(ref.module).COMMANDS[ref.name]
    parser = ArgumentParser(prog=f"{program_name()} {name}", description=command.summary, parents=[global_parser()],
                            allow_abbrev=False, conflict_handler="resolve")
    command.setup(parser)
    return command, parser


def _help(words: list[str]) -> int:
    """``sealpod help [GROUP] [COMMAND]``: the same text as ``--help``; an unknown topic shows the top."""
    topic = " ".join(words)
    if not words:
        sys.stdout.write(_usage())
    elif topic in COMMANDS:
        sys.stdout.write(_parser(topic)[1].format_help())
    elif topic in GROUPS:
        sys.stdout.write(_usage(topic))
    else:
        sys.stdout.write("Unknown help topic [" + " ".join(f"`{w}`" for w in words) + "]\n" + _usage())
    return 0


def _check_global_words(before: list[str], after: list[str]) -> None:
    """--context takes only "default", as Podman's."""
    words = before + after
    for i, word in enumerate(words):
        flag, eq, value = word.partition("=")
        if flag == "--context":
            value = value if eq else (words[i + 1] if i + 1 < len(words) else "")
            if value != "default":
                raise InvalidArgument(f'{program_name()} does not support {value}, the only --context value '
                                      'allowed is "default"')


def _dispatch(argv: list[str]) -> int:
    if {"--version", "-v"} & set(_leading_flags(argv)):  # cobra's --version wins over what follows
        from sealpod import __version__

        sys.stdout.write(f"{program_name()} version {__version__}\n")
        return 0
    name, before, after = _split_command(argv)
    if name is None and ({"--version", "-v"} & set(before)):
        from sealpod import __version__

        sys.stdout.write(f"{program_name()} version {__version__}\n")
        return 0
    if name is None or name in GROUPS:
        if {"-h", "--help"} & set(argv) or name in GROUPS:
            sys.stdout.write(_usage(name, before))
            if name in GROUPS and not ({"-h", "--help"} & set(argv)) and not after:
                raise InvalidArgument(f"missing command '{program_name()} {name} COMMAND'")
            return 0
        sys.stdout.write(_usage(None, before))
        raise InvalidArgument(f"missing command '{program_name()} COMMAND'\nTry '{program_name()} --help' for more "
                              "information.")
    if name == "help":
        if {"-h", "--help"} & set(after):
            sys.stdout.write(f"Help provides help for any command in the application.\nSimply type {program_name()} "
                             f"help [path to command] for full details.\n\nUsage:\n  {program_name()} help [command] "
                             "[flags]\n")
            return 0
        return _help([w for w in after if not w.startswith("-")])
    if name in ("__complete", "__completeNoDesc"):  # the words are the line being completed, not flags
        from sealpod.cli.completion import complete

        return complete(name, before, after)
    _check_global_words(before, after)
    before, debug = _docker_debug(before)
    remote = _remote_mode(name, before)
    if remote:
        from sealpod.cli.remote import run_remote

        return run_remote(name, before, after)
    command, parser = _parser(name)
    # cobra takes operands after flags anywhere; commands without a REMAINDER operand may opt in
    # (not for --help: argparse prints the usage while the intermixed parse has its operands rewritten)
    intermixed = parser.get_default("intermixed") and not {"-h", "--help"} & set(before + after)
    parse = parser.parse_intermixed_args if intermixed else parser.parse_args
    from sealpod.cli.usage import glue_dash_values

    before, namespace = _global_namespace(before)
    args = parse(glue_dash_values(parser, before + after))
    if namespace is not None:
        args.namespace = namespace
    if remote is None:  # run by a service for a remote client
        from sealpod.cli.remote import check_served, served_flag_count

        check_served(parser, (before + after)[served_flag_count(os.environ) or 0:])
    elif not _local_only(name) and any(getattr(args, d, None) for d in ("url", "connection", "remote")):
        from sealpod.cli.remote import run_remote

        return run_remote(name, before, after, args)
    from sealpod.cli.usage import latest_conflict

    conflict = latest_conflict(name, parser, args)
    if conflict:
        raise InvalidArgument(conflict)
    level = getattr(args, "log_level", "warn")
    if level.lower() in LOG_LEVELS and hasattr(args, "log_level"):  # logrus takes any case: INFO is info
        level = args.log_level = level.lower()
    if level not in LOG_LEVELS:  # Podman's wording and exit code, without the "Error: " prefix
        sys.stderr.write(f'Log Level "{level}" is not supported, choose from: {", ".join(LOG_LEVELS)}\n')
        return 1
    if debug:
        if hasattr(args, "log_level"):
            sys.stderr.write("Setting --log-level and --debug is not allowed\n")
            return 1
        level = args.log_level = "debug"
    _configure_logging(level, name, before + after)
    if hasattr(args, "config"):  # after "filtering at log level", and hidden by --log-level error, as Podman
        from sealpod.utils.logrus import warning

        warning("The --config flag is ignored by Podman. Exists for Docker compatibility")
    if getattr(args, "noout", False):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of this process
    ctx = CliContext(args)
    try:
        return command.run(args, ctx)
    finally:
        ctx.close()


def _quiet_stdout() -> None:
    """The reader of our stdout went away (``| head``): what is still buffered goes nowhere, so
    that Python's flush at exit does not print a BrokenPipeError of its own."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def run_cli(argv: list[str]) -> int:
    """Run one command; every SealpodError becomes ``Error: ...`` and its exit code."""
    try:
        code = _dispatch(argv)
        sys.stdout.flush()
        return code
    except SealpodError as e:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {e.message}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except UnicodeDecodeError as e:  # a file or stream that should have been text: never a traceback
        sys.stdout.flush()
        sys.stderr.write(f"Error: invalid UTF-8 in input at byte {e.start}\n")
        return 125
    except OSError as e:
        import logging

        logging.getLogger("sealpod").debug("unexpected error", exc_info=True)
        sys.stderr.write(f"Error: {e.strerror or e}{': ' + str(e.filename) if e.filename else ''}\n")
        return 125
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback for users
        import logging

        logging.getLogger("sealpod").debug("internal error", exc_info=True)
        sqlite = sys.modules.get("sqlite3")  # loaded if the error can be one of its own: no import here
        if sqlite is not None and isinstance(e, sqlite.Error):  # locked past the busy timeout, disk full, ...
            sys.stderr.write(f"Error: state database: {e}\n")
            return 125
        sys.stderr.write(f"Error: internal error: {type(e).__name__}: {e}\n")
        return 125
