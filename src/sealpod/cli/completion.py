"""Shell completion: `sealpod completion SHELL` and the hidden `__complete` / `__completeNoDesc`.

The scripts (see completion_scripts) call back ``sealpod __complete WORDS... CURRENT``; this module
answers the way cobra does, which Podman's tests and users' shells rely on: one candidate a line
(``NAME<TAB>DESCRIPTION`` unless NoDesc), then ``:DIRECTIVE``, and on stderr
``Completion ended with directive: ...``.  What a positional operand completes to is read from
its metavar (the same UPPER-CASE word `--help` shows), so completion and help never disagree.
"""

from __future__ import annotations

import argparse
import sys

from sealpod.cli.context import CliContext, Command, program_name
from sealpod.errors import InvalidArgument, SealpodError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ERROR, NO_SPACE, NO_FILE, FILTER_EXT, FILTER_DIRS, KEEP_ORDER = 1, 2, 4, 8, 16, 32
_DIRECTIVE_NAMES = ((ERROR, "Error"), (NO_SPACE, "NoSpace"), (NO_FILE, "NoFileComp"),
                    (FILTER_EXT, "FilterFileExt"), (FILTER_DIRS, "FilterDirs"), (KEEP_ORDER, "KeepOrder"))
SHELLS = ("bash", "zsh", "fish", "powershell")

# operand words (as in --help) -> what they complete to; words that name local paths or commands
_KINDS = {"CONTAINER": "container", "POD": "pod", "IMAGE": "image", "LIST": "image", "NETWORK": "network",
          "VOLUME": "volume", "SECRET": "secret", "REGISTRY": "registry"}
_PATHLIKE = ("PATH", "CONTEXT", "FILE", "COMMAND", "ARG", "URI", "TARBALL")
# which containers a verb offers (Podman's completions only offer those the verb can act on)
_RUNNING = frozenset({"running"})
_STATES: dict[str, frozenset[str]] = {
    "stop": _RUNNING, "kill": _RUNNING, "pause": _RUNNING, "attach": _RUNNING, "exec": _RUNNING,
    "top": _RUNNING, "stats": _RUNNING, "healthcheck run": _RUNNING, "unpause": frozenset({"paused"}),
    "start": frozenset({"configured", "created", "stopped", "exited"}),
    "init": frozenset({"configured", "created"}), "cleanup": frozenset({"stopped", "exited"}),
}
_FLAG_VALUES: dict[str, tuple[str, ...]] = {
    "--log-level": ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"),
    "--cgroups": ("enabled", "disabled", "no-conmon", "split"),
    "--pull": ("always", "missing", "never", "newer"),
    "--restart": ("no", "on-failure", "always", "unless-stopped"),
    "--format": ("json",),
    "--cgroupns": ("host", "private"),
}
_NETWORK_MODES = ("bridge", "host", "none", "private", "slirp4netns", "pasta", "container:", "ns:")
_PATH_WORDS = ("file", "path", "dir", "directory", "authfile", "cidfile", "root")


class Answer:
    """Candidates (with descriptions) and cobra's directive bits."""

    __slots__ = ("candidates", "directive", "debug")

    def __init__(self, candidates: Sequence[tuple[str, str]] = (), directive: int = NO_FILE) -> None:
        self.candidates = list(candidates)
        self.directive = directive
        self.debug: list[str] = []


def directive_text(directive: int) -> str:
    """``ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp``; ``...Default`` for 0."""
    names = [f"ShellCompDirective{n}" for bit, n in _DIRECTIVE_NAMES if directive & bit]
    return ", ".join(names) or "ShellCompDirectiveDefault"


def render(answer: Answer, descriptions: bool) -> tuple[str, str]:
    """(stdout, stderr) as cobra writes them."""
    out = []
    for name, desc in answer.candidates:
        out.append(f"{name}\t{desc}" if descriptions and desc else name)
    out.append(f":{answer.directive}")
    err = [f"[Debug] {d}" for d in answer.debug]
    err.append(f"Completion ended with directive: {directive_text(answer.directive)}")
    return "\n".join(out) + "\n", "\n".join(err) + "\n"


# --- locating the command in the words typed so far ------------------------------------------------

def _global_takes_value(word: str) -> bool:
    from sealpod.cli.main import takes_value

    return word in takes_value()


def locate(words: Sequence[str]) -> tuple[str, str, list[str], list[str]]:
    """Split the typed words into (kind, name, global flag words, words after the command).

    ``kind`` is ``root`` (no command yet), ``group`` (a group word only), ``help`` or ``command``.
    """
    from sealpod.cli.commands import COMMANDS, GROUPS

    flags: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and word != "-":
            takes = _global_takes_value(word)
            flags += words[i:i + 2] if takes else [word]
            i += 2 if takes else 1
            continue
        if word == "help":
            return "help", "help", flags, list(words[i + 1:])
        path, j = word, i + 1
        while j < len(words) and f"{path} {words[j]}" in COMMANDS.keys() | GROUPS.keys():
            path, j = f"{path} {words[j]}", j + 1
        if path in COMMANDS:
            return "command", path, flags, list(words[j:])
        if path in GROUPS and j == len(words):
            return "group", path, flags, []
        return "unknown", path, flags, list(words[j:])
    return "root", "", flags, []


def _command_names(group: str | None, current: str, descriptions: bool) -> Answer:
    from sealpod.cli.commands import COMMANDS, GROUPS, HIDDEN

    if group is None:
        names = {c for c in [*COMMANDS, *GROUPS] if " " not in c and c not in HIDDEN} | {"help"}
    else:
        depth = group.count(" ") + 1
        names = {c.split(" ")[depth] for c in [*COMMANDS, *GROUPS] if c.startswith(group + " ") and c not in HIDDEN}
    chosen = sorted(n for n in names if n.startswith(current))
    if not descriptions:
        return Answer([(n, "") for n in chosen])
    from sealpod.cli.main import _summary

    full = (lambda n: n) if group is None else (lambda n: f"{group} {n}")
    return Answer([(n, "Help about any command" if n == "help" else _summary(full(n))) for n in chosen])


# --- flags -----------------------------------------------------------------------------------------

def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _repeatable(action: argparse.Action) -> bool:
    return isinstance(action, argparse._AppendAction | argparse._CountAction | argparse._ExtendAction)


def flag_names(parser: argparse.ArgumentParser, used: set[argparse.Action], current: str) -> Answer:
    """The command's flags, then the global ones; flags given already are left out, as cobra does."""
    from sealpod.cli.usage import GLOBAL_GROUP

    own: list[argparse.Action] = []
    glob: list[argparse.Action] = []
    for group in parser._action_groups:
        for action in group._group_actions:
            if action.help == argparse.SUPPRESS or (action in used and not _repeatable(action)):
                continue
            if action.option_strings:
                (glob if group.title == GLOBAL_GROUP else own).append(action)
    out: list[tuple[str, str]] = []
    for actions in (own, glob):
        for action in sorted(actions, key=lambda a: max(a.option_strings, key=len).lstrip("-")):
            help_text = (action.help or "").replace("%%", "%")
            options = sorted(action.option_strings, key=lambda o: not o.startswith("--"))
            if isinstance(action, argparse._HelpAction):
                options = ["--help"]
            out += [(o, help_text) for o in options if o.startswith(current)]
    return Answer(out)


def _pathlike(action: argparse.Action) -> bool:
    words = " ".join([*action.option_strings, str(action.metavar or ""), action.dest]).lower()
    return any(w in words for w in _PATH_WORDS) or "path" in (action.help or "").lower()


def flag_values(ctx: CliContext, action: argparse.Action, current: str, command: str = "") -> Answer:
    """Values for one flag: its choices, the objects it names, or files where it takes a path."""
    options = set(action.option_strings)
    if "--format" in options:
        from sealpod.cli.completion_formats import template_candidates

        fields = template_candidates(command, current)
        if fields is not None:  # inside "{{.": the template's fields; the word goes on
            return Answer([(f, "") for f in fields], directive=NO_SPACE | NO_FILE)
    if action.choices:
        return _prefixed([str(c) for c in action.choices], current)
    for option, values in _FLAG_VALUES.items():
        if option in options:
            return _prefixed(list(values), current)
    lookups: dict[str, Callable[[], list[str]]] = {
        "--pod": lambda: _pods(ctx, current), "--volumes-from": lambda: _containers(ctx, current, None),
        "--secret": lambda: _secrets(ctx), "--network": lambda: [*_networks(ctx), *_NETWORK_MODES],
        "--net": lambda: [*_networks(ctx), *_NETWORK_MODES],
    }
    for option, lookup in lookups.items():
        if option in options:
            return _prefixed(lookup(), current)
    return Answer(directive=0 if _pathlike(action) else NO_FILE)


def _prefixed(values: Sequence[str], current: str) -> Answer:
    return Answer([(v, "") for v in values if v.startswith(current)])


# --- objects ---------------------------------------------------------------------------------------

def _with_ids(pairs: Sequence[tuple[str, str]], current: str) -> list[str]:
    """Names starting with what is typed; short IDs too once two characters are typed."""
    out = [name for _, name in pairs if name.startswith(current)]
    if len(current) >= 2:
        out += [ident[:12] for ident, _ in pairs if ident.startswith(current)]
    return out


def _containers(ctx: CliContext, current: str, states: frozenset[str] | None) -> list[str]:
    recs = ctx.engine.containers.list_containers()
    return _with_ids([(r.id, r.name) for r in recs if states is None or str(r.state) in states], current)


def _pods(ctx: CliContext, current: str) -> list[str]:
    return _with_ids([(p.id, p.name) for p in ctx.engine.pods.list_pods()], current)


def _images(ctx: CliContext, current: str) -> list[str]:
    """Every name as stored (``localhost/x:tag``) and, once typed, without its registry (``x:tag``)."""
    out: list[str] = []
    for image in ctx.engine.images.list_images():
        if len(current) >= 2 and image.id.startswith(current):
            out.append(image.id[:12])
        for name in image.names:
            if name.startswith(current):
                out.append(name)
            first, _, rest = name.partition("/")
            short = rest if rest and ("." in first or ":" in first or first == "localhost") else name
            if current and short != name and short.startswith(current):
                out.append(short)
    return out


def _networks(ctx: CliContext) -> list[str]:
    return [n.name for n in ctx.engine.networks.list_networks()]


def _secrets(ctx: CliContext) -> list[str]:
    return [s.name for s in ctx.engine.secrets.all()]


def _objects(ctx: CliContext, kind: str, current: str, command: str) -> list[str]:
    if kind == "container":
        verb = command if command == "healthcheck run" else command.split()[-1]
        return _containers(ctx, current, _STATES.get(verb))
    if kind == "pod":
        return _pods(ctx, current)
    if kind == "image":
        return _images(ctx, current)
    if kind == "network":
        return [n for n in _networks(ctx) if n.startswith(current)]
    if kind == "volume":
        return [v.name for v in ctx.engine.volumes.all() if v.name.startswith(current)]
    if kind == "secret":
        return [s for s in _secrets(ctx) if s.startswith(current)]
    return [r for r in ctx.engine.registries.unqualified_search_registries if r.startswith(current)]


# --- operands --------------------------------------------------------------------------------------

def _positional_at(parser: argparse.ArgumentParser, index: int) -> tuple[argparse.Action | None, bool]:
    """The operand the ``index``-th word fills, and whether it is the first word of that operand."""
    from sealpod.cli.usage import _positionals

    seen = 0
    for action in _positionals(parser):
        nargs = action.nargs
        count = nargs if isinstance(nargs, int) else 1
        if nargs in (argparse.ZERO_OR_MORE, argparse.ONE_OR_MORE, argparse.REMAINDER):
            return action, index == seen
        if index < seen + count:
            return action, index == seen
        seen += count
    return None, False


def operand_answer(ctx: CliContext, command: str, parser: argparse.ArgumentParser, index: int,
                   current: str) -> Answer:
    """What the operand's metavar names: objects, a shell, a path (the shell's own completion), or nothing."""
    action, first = _positional_at(parser, index)
    if action is None:
        return Answer()
    meta = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if action.nargs == argparse.REMAINDER and not first:
        return Answer(directive=0)
    kinds = [kind for word, kind in _KINDS.items() if word in meta.upper().split("|") or word in meta.upper()]
    if meta.startswith("{") and not kinds:  # {bash|zsh}: the words themselves; {CONTAINER...|POD...}: objects
        return _prefixed(meta.strip("{}").split("|"), current)
    if command.split()[-1] == "cp":
        from sealpod.engine.path_listing import list_in_container

        name, colon, path = current.partition(":")
        if colon:
            answer = _paths_in(lambda d: list_in_container(ctx.engine, name, d), path, f"{name}:")
            answer.directive = NO_SPACE  # the word goes on: more of the path, or the other operand
            return answer
        return Answer([(f"{c}:", "") for c in _containers(ctx, current, None)], directive=NO_SPACE)
    if kinds:
        names: list[str] = []
        for kind in dict.fromkeys(kinds):
            names += _objects(ctx, kind, current, command)
        return Answer([(n, "") for n in dict.fromkeys(names)])
    if any(word in meta.upper() for word in _PATHLIKE):
        return Answer(directive=0)
    return Answer()


def _paths_in(lister: Callable[[str], list[tuple[str, bool]]], typed: str, prefix: str = "") -> Answer:
    """A path typed inside an image or container, completed as Podman does: a directory named in full
    is opened (``/etc`` lists ``/etc/...``), else the typed directory's entries that start with the
    typed name; directories end in a slash.  One file ends the word, anything else goes on (NoSpace).
    Nothing to list from (no such image): the shell's own files."""
    head, slash, tail = (typed or "/").rpartition("/")
    try:
        entries = [(n, d) for n, d in lister(head if slash else "") if n.startswith(tail)]
        if tail and (tail, True) in entries:
            inner = lister(f"{head}/{tail}")
            head, slash, entries = f"{head}{slash}{tail}", "/", inner or [("", False)]
    except (SealpodError, OSError):
        return Answer(directive=0)
    shown = [f"{prefix}{head}{slash}{n}{'/' if d else ''}" for n, d in entries]
    single_file = len(entries) == 1 and not entries[0][1] and entries[0][0]
    return Answer([(c, "") for c in shown], directive=0 if single_file else NO_SPACE)


# --- the walk over a command's words ---------------------------------------------------------------

class _Walk:
    """What the typed words after the command mean: operands so far, flags used, a flag awaiting its value."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self.operands = 0
        self.words: list[str] = []  # the operands typed
        self.used: set[argparse.Action] = set()
        self.pending: argparse.Action | None = None
        self.literal = False  # after "--", or inside a command line passed on (run IMAGE CMD...)
        self.passes_on = any(a.nargs == argparse.REMAINDER for a in parser._actions if not a.option_strings)

    def feed(self, word: str) -> None:
        if self.pending is not None:
            self.pending = None
        elif self.literal or not word.startswith("-") or word == "-":
            self.operands += 1
            self.words.append(word)
            self.literal = self.literal or self.passes_on  # cobra stops at the first operand of these
        elif word == "--":
            self.literal = True
        else:
            self._flag(word)

    def _flag(self, word: str) -> None:
        option, eq, _ = word.partition("=")
        table = self.parser._option_string_actions
        action = table.get(option)
        if action is None and not option.startswith("--"):  # -it, -p8080
            for j, letter in enumerate(option[1:]):
                action = table.get("-" + letter)
                if action is None:
                    return
                self.used.add(action)
                if _takes_value(action):
                    if j == len(option) - 2 and not eq:
                        self.pending = action
                    return
            return
        if action is not None:
            self.used.add(action)
            if _takes_value(action) and not eq:
                self.pending = action


def _command_answer(ctx: CliContext, name: str, rest: Sequence[str], current: str) -> Answer:
    from sealpod.cli.main import _parser
    from sealpod.engine.path_listing import list_in_image

    parser = _parser(name)[1]
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if sub is not None:  # `system connection add ...`: complete the sub-command's own words
        typed = [i for i, w in enumerate(rest) if not w.startswith("-")]
        if not typed:
            return Answer([(c, "") for c in sub.choices if c.startswith(current) and not current.startswith("-")])
        parser, rest = sub.choices.get(rest[typed[0]], parser), rest[typed[0] + 1:]
    walk = _Walk(parser)
    for word in rest:
        walk.feed(word)
    if walk.pending is not None:
        return flag_values(ctx, walk.pending, current, name)
    if not walk.literal and current.startswith("-"):
        option, eq, value = current.partition("=")
        action = parser._option_string_actions.get(option)
        if eq and action is not None and _takes_value(action):
            return flag_values(ctx, action, value, name)
        return flag_names(parser, walk.used, current)
    if name in ("create", "run", "container create", "container run") and walk.words:
        return _paths_in(lambda d: list_in_image(ctx.engine, walk.words[0], d), current)  # after IMAGE
    return operand_answer(ctx, name, parser, walk.operands, current)


def _global_flags(ctx: CliContext, current: str) -> Answer:
    from sealpod.cli.main import global_parser

    return flag_names(global_parser(), set(), current)


def answer(ctx: CliContext, words: Sequence[str], descriptions: bool) -> Answer:
    """cobra's answer for the last word of ``words`` (the one being typed; "" for a new word)."""
    typed, current = list(words[:-1]), (words[-1] if words else "")
    kind, name, _flags, rest = locate(typed)
    if kind in ("root", "help") and current.startswith("-"):
        return _global_flags(ctx, current)
    if kind == "root":
        return _command_names(None, current, descriptions)
    if kind == "group":
        return _command_names(name, current, descriptions)
    if kind == "help":
        return _help_answer(rest, current, descriptions)
    if kind == "unknown":
        return Answer(directive=0)
    return _command_answer(ctx, name, rest, current)


def _help_answer(rest: Sequence[str], current: str, descriptions: bool) -> Answer:
    from sealpod.cli.commands import GROUPS

    if not rest:
        return _command_names(None, current, descriptions)
    if len(rest) == 1 and rest[0] in GROUPS:
        return _command_names(rest[0], current, descriptions)
    return Answer()


def _context_for(before: Sequence[str], words: Sequence[str]) -> CliContext:
    """Global flags given before ``__complete`` or among the completed words locate the store."""
    from sealpod.cli.main import global_parser

    flagged: list[str] = list(before)
    i = 0
    while i < len(words):
        if words[i].startswith("-") and _global_takes_value(words[i].partition("=")[0]):
            flagged += words[i:i + 2] if "=" not in words[i] else [words[i]]
            i += 1 if "=" in words[i] else 2
            continue
        i += 1
    try:
        namespace, _ = global_parser().parse_known_args(flagged)
    except SealpodError:  # a half-typed global flag: the store the service was started with, then
        namespace, _ = global_parser().parse_known_args(list(before))
    return CliContext(namespace)


def complete(name: str, before: Sequence[str], words: Sequence[str]) -> int:
    """``sealpod __complete WORDS...``: never fails, as a shell hook must not."""
    descriptions = name == "__complete"
    ctx = _context_for(before, words[:-1])
    try:
        result = answer(ctx, words, descriptions)
    except (SealpodError, OSError) as e:
        result = Answer(directive=ERROR)
        result.debug.append(f"[Error] {getattr(e, 'message', None) or e}")
    finally:
        ctx.close()
    out, err = render(result, descriptions)
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return 0


# --- `sealpod completion SHELL` --------------------------------------------------------------------

def _setup_completion(p: argparse.ArgumentParser) -> None:
    p.add_argument("shell", nargs="?", metavar="{bash|zsh|fish|powershell}")
    p.add_argument("-f", "--file", default="", help="Output the completion to file rather than stdout.")
    p.add_argument("--no-desc", action="store_true", help="Don't include descriptions in the completion output.")


def _run_completion(args: argparse.Namespace, ctx: CliContext) -> int:
    from sealpod.cli.completion_scripts import script

    if args.shell is None:
        raise InvalidArgument("accepts 1 arg(s), received 0")
    if args.shell not in SHELLS:
        raise InvalidArgument(f'invalid argument "{args.shell}" for "{program_name()} completion"')
    text = script(args.shell, descriptions=not args.no_desc)
    if args.file and args.file != "-":
        try:
            with open(args.file, "w") as f:
                f.write(text)
        except OSError as e:  # Go's wording, as Podman prints it
            raise InvalidArgument(f"open {args.file}: {(e.strerror or str(e)).lower()}") from None
    else:
        sys.stdout.write(text)
    return 0


def _setup_complete(p: argparse.ArgumentParser) -> None:
    p.add_argument("words", nargs=argparse.REMAINDER, metavar="ARG")


def _run_complete(args: argparse.Namespace, ctx: CliContext) -> int:
    """Only reached through ``--help``-less parsing paths; main hands the raw words to complete()."""
    return complete("__complete", [], args.words)


def _run_complete_nodesc(args: argparse.Namespace, ctx: CliContext) -> int:
    return complete("__completeNoDesc", [], args.words)


COMMANDS: dict[str, Command] = {
    "completion": Command("Generate shell autocompletions", _setup_completion, _run_completion),
    "__complete": Command("Request shell completion choices for the specified command-line",
                          _setup_complete, _run_complete),
    "__completeNoDesc": Command("Request shell completion choices for the specified command-line, without "
                                "descriptions", _setup_complete, _run_complete_nodesc),
}
