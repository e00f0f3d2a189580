"""Podman-shaped help text and argument-count errors, derived from each command's argparse parser.

Scripts and Podman's own tests read `--help` the way cobra prints it (a ``Usage:`` line with
``[options]`` and UPPER-CASE operands, an ``Options:`` section) and expect cobra's wording when
operands are missing or surplus; argparse's own shapes would break them.  Only `--help` and error
paths import this module.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Set

GLOBAL_GROUP = "global options"

# Commands whose first operand means something else with --latest (a command, descriptors, a port).
_LATEST_SHIFTS = frozenset({"exec", "top", "port", "ps", "list", "ls"})


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not a.option_strings]


def _operand(action: argparse.Action) -> str:
    meta = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if meta.startswith("{"):
        return meta  # cobra's own words for it, as Podman writes them ({CONTAINER...|POD...})
    nargs = action.nargs
    if nargs is None:
        return meta
    if nargs == argparse.OPTIONAL:
        return f"[{meta}]"
    if nargs == argparse.ZERO_OR_MORE:
        return f"[{meta}...]"
    if nargs == argparse.ONE_OR_MORE:
        return f"{meta} [{meta}...]"
    if nargs == argparse.REMAINDER:
        return f"[{meta} [ARG...]]"
    if isinstance(nargs, int):
        return " ".join([meta] * nargs)
    return f"[{meta}...]"


def _own_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The command's flags: not the global ones (they belong to `sealpod --help`), not -h."""
    out = []
    for group in parser._action_groups:
        if group.title == GLOBAL_GROUP:
            continue
        out += [a for a in group._group_actions if a.option_strings and a.help != argparse.SUPPRESS
                and not isinstance(a, argparse._HelpAction)]
    return out


def synopsis(parser: argparse.ArgumentParser) -> str:
    """``sealpod CMD [options] OPERANDS``, operands in upper case, optional ones last."""
    words = [parser.prog]
    if any(isinstance(a, argparse._SubParsersAction) for a in _positionals(parser)):
        return f"{parser.prog} [command]"  # a group, as cobra shows it (scripts recurse on this)
    if _own_options(parser):
        words.append("[options]")
    words += [_operand(a) for a in _positionals(parser)]
    return " ".join(words)


def _subcommands(parser: argparse.ArgumentParser) -> str:
    """cobra's ``Available Commands:`` table for a command made of argparse sub-parsers."""
    rows = [(c.dest, c.help or "") for a in _positionals(parser) if isinstance(a, argparse._SubParsersAction)
            for c in a._choices_actions]
    return "".join(f"  {name:<12}{text}\n" for name, text in rows)


def options_table(actions: Iterable[argparse.Action]) -> str:
    """cobra's layout: ``  -a, --all`` or ``      --format string``, help aligned in a column."""
    rows = []
    for a in actions:
        shorts = [o for o in a.option_strings if not o.startswith("--")]
        longs = [o for o in a.option_strings if o.startswith("--")]
        left = f"{shorts[0]}, " if shorts else "    "
        left += longs[0] if longs else ""
        if a.nargs != 0 and not (a.nargs == argparse.OPTIONAL and a.const is True):  # a bool taking =false
            named = "uint" if getattr(a.type, "__name__", "") == "uint" else "string"  # build_flags.uint
            left += " " + {int: "int", float: "float"}.get(a.type, named)  # type: ignore[call-overload]
        rows.append((left, (a.help or "").replace("%%", "%")))
    width = max((len(left) for left, _ in rows), default=0) + 3
    return "".join(f"  {left:<{width}}{text}".rstrip() + "\n" for left, text in rows)


def command_help(parser: argparse.ArgumentParser) -> str:
    summary = parser.description or ""
    out = f"{summary}\n\nDescription:\n  {summary}\n\nUsage:\n  {synopsis(parser)}\n"
    if synopsis(parser).endswith(" [command]"):
        out += "\nAvailable Commands:\n" + _subcommands(parser)
    own = _own_options(parser)
    if own:
        out += "\nOptions:\n" + options_table(own)
    return out


def global_options(parser: argparse.ArgumentParser, hide: Set[str] = frozenset()) -> str:
    """The global flags (except hidden ones and those named in ``hide``), sorted as cobra sorts them."""
    actions = [a for g in parser._action_groups if g.title == GLOBAL_GROUP for a in g._group_actions
               if a.help != argparse.SUPPRESS and not hide & set(a.option_strings)]
    actions.sort(key=lambda a: next((o for o in a.option_strings if o.startswith("--")), "").lstrip("-"))
    return "Options:\n" + options_table(actions)


def surplus_message(parser: argparse.ArgumentParser, extras: list[str]) -> str | None:
    """cobra's words for operands a command cannot take; None when the surplus is a flag."""
    if not extras or extras[0].startswith("-"):
        return None
    positionals = _positionals(parser)
    sub = next((a for a in positionals if isinstance(a, argparse._SubParsersAction)), None)
    if sub is not None:  # the surplus belongs to the sub-command given (argparse hands it back up)
        import sys

        chosen = next((sub.choices[w] for w in sys.argv if w in sub.choices), None)
        return surplus_message(chosen, extras) if chosen is not None else None
    if not positionals:
        return f"`{parser.prog}` takes no arguments"
    bounded = [a.nargs for a in positionals]
    if any(n in (argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE, argparse.REMAINDER) for n in bounded):
        return None
    most = sum(n if isinstance(n, int) else 1 for n in bounded)
    received = most + sum(1 for e in extras if not e.startswith("-"))
    if all(n is None or isinstance(n, int) for n in bounded):
        return f"accepts {most} arg(s), received {received}"
    return f"accepts at most {most} arg(s), received {received}"


def latest_conflict(name: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Podman refuses --latest together with --all or with names, in every command that has it."""
    if not getattr(args, "latest", False) or name.split()[-1] in _LATEST_SHIFTS:
        return None
    if name == "pod stats":  # its own check, with its own words
        given = getattr(args, "all", False) is True or any(getattr(args, a.dest, None) for a in _positionals(parser))
        return "--all, --latest and arguments cannot be used together" if given else None
    if getattr(args, "pod_id_file", None):  # the pod command checks that flag with the others, in Podman's order
        return None
    # Podman's words: "pods" only in pod logs; inspect's "arguments"; every other command says "containers"
    what = {"pod logs": "pods", "inspect": "arguments", "container inspect": "arguments",
            "pod inspect": "arguments"}.get(name, "containers")
    if getattr(args, "all", False) is True:
        return "--all and --latest cannot be used together"
    for action in _positionals(parser):
        if getattr(args, action.dest, None):
            return f"--latest and {what} cannot be used together"
    return None


def _optional_bool(action: argparse.Action) -> bool:
    """A flag declared as a Go bool that may be given a value (``--flag``, ``--flag=false``)."""
    from sealpod.cli.args import parse_bool

    return action.nargs == "?" and action.const is True and action.type is parse_bool


def glue_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """cobra gives a value-taking flag the next word even when it starts with a dash (``--since -1s``,
    ``--tail -1``); argparse would take that word for a flag.  Glued as ``--since=-1s`` here.  Words
    after the first operand of a command that passes a command line on (``run IMAGE CMD...``) are
    left alone."""
    takes_value = {o: a for a in parser._actions for o in a.option_strings if a.nargs is None}
    remainder = any(a.nargs == argparse.REMAINDER for a in _positionals(parser))
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--" or (remainder and not word.startswith("-")):
            return out + argv[i:]
        if word in parser._option_string_actions and _optional_bool(parser._option_string_actions[word]):
            # a cobra bool flag takes its value only glued (--start=false): the next word is an operand
            action = parser._option_string_actions[word]
            out.append(f"{next((o for o in action.option_strings if o.startswith('--')), word)}=true")
            i += 1
            continue
        if word in takes_value and i + 1 < len(argv):
            nxt = argv[i + 1]
            if nxt.startswith("-") and nxt not in parser._option_string_actions:
                out.append(f"{word}={nxt}" if word.startswith("--") else word + nxt)
            else:
                out += [word, nxt]
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def missing_message(parser: argparse.ArgumentParser, missing: list[str]) -> str | None:
    """cobra's words when operands are missing (argparse: "the following arguments are required");
    None for a command made of sub-commands, whose own message stands."""
    positionals = _positionals(parser)
    if any(isinstance(a, argparse._SubParsersAction) for a in positionals):
        return None

    def least(action: argparse.Action) -> int:
        n = action.nargs
        return n if isinstance(n, int) else 0 if n in (argparse.OPTIONAL, argparse.ZERO_OR_MORE,
                                                         argparse.REMAINDER) else 1

    names = {str(a.metavar) if isinstance(a.metavar, str) else a.dest.upper(): a for a in positionals}
    names.update({_operand(a).split()[0].strip("[]."): a for a in positionals})
    if any(m not in names for m in missing):  # a required flag, not an operand: argparse's words stand
        return None
    lacking = [names[m] for m in missing]
    fewest = sum(least(a) for a in positionals)
    received = fewest - sum(least(a) for a in lacking)
    if any(a.nargs in (argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE, argparse.REMAINDER) for a in positionals):
        return f"requires at least {fewest} arg(s), only received {received}"
    most = sum(a.nargs if isinstance(a.nargs, int) else 1 for a in positionals)
    if most != fewest:
        return f"accepts between {fewest} and {most} arg(s), received {received}"
    return f"accepts {most} arg(s), received {received}"
