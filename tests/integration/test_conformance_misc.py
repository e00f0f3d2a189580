"""Conformance with Podman's system tests for inspection and everyday commands.

Each test names the Podman BATS case (test/system/*.bats) whose assertions it pins; the scenarios
run against the real sealpod command line with real conmon, runc and overlay mounts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.rig.registry import RegistryServer
from tests.rig.sealpod import SealpodRunner, store_with_image

IMAGE = "sealtest/tiny"


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory, seeded_registry: RegistryServer) -> Iterator[SealpodRunner]:
    with store_with_image(tmp_path_factory.mktemp("conf"), seeded_registry.host) as runner:
        yield runner


def _out(res: object) -> str:
    return getattr(res, "stdout", "") + getattr(res, "stderr", "")


# --- 001-basic.bats -----------------------------------------------------------------------------

def test_basic_version_context_log_level_like_podman(tmp_path: Path) -> None:
    sp = SealpodRunner(tmp_path)
    out = sp.run("version").stdout
    assert re.search(r"^Version:\s+\S+", out, re.M) and re.search(r"^API Version:\s+\d", out, re.M)
    assert sp.run("--context=default", "version").returncode == 0
    res = sp.run("--context=swarm", "version", check=False)
    assert res.returncode == 125
    assert res.stderr == 'Error: sealpod does not support swarm, the only --context value allowed is "default"\n'
    res = sp.run("--log-level=telepathic", "info", check=False)
    assert res.returncode == 1 and res.stderr.startswith('Log Level "telepathic" is not supported')
    for level in ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"):
        assert sp.run(f"--log-level={level}", "version").returncode == 0
    res = sp.run(check=False)
    assert res.returncode == 125
    assert res.stderr == "Error: missing command 'sealpod COMMAND'\nTry 'sealpod --help' for more information.\n"


# --- 015-help.bats ------------------------------------------------------------------------------

def _help_commands(sp: SealpodRunner, path: tuple[str, ...]) -> list[str]:
    """What `sealpod help PATH` lists, read as Podman's tests read it (awk over the table)."""
    text = sp.run("help", *path).stdout
    found, inside = [], False
    for line in text.splitlines():
        if line.startswith("Available Commands:"):
            inside = True
        elif line.startswith("Options:"):
            inside = False
        elif inside and line.split():
            found.append(line.split()[0])
    return found


_NO_LATEST_CHECK = {"exec", "list", "port", "ps", "top"}


def _check_command(sp: SealpodRunner, path: tuple[str, ...], cmd: str) -> tuple[list[str], bool]:
    """The per-command checks of 015-help.bats' check_help; returns (problems, is_group)."""
    problems: list[str] = []
    full = " ".join(("sealpod", *path, cmd))
    helptext = sp.run(*path, cmd, "--help").stdout
    lines = helptext.splitlines()
    if "Usage:" not in lines or lines.index("Usage:") + 1 >= len(lines):
        return [f"{full}: no Usage"], False
    usage = lines[lines.index("Usage:") + 1]
    if not (usage + " ").startswith(f"  {full} "):
        problems.append(f"{full}: usage {usage!r} does not name the command")
    usage = usage.removeprefix(f"  {full}").strip()
    if usage.startswith("[command]"):
        return problems, True
    has_options = usage.startswith("[options]")
    rest = usage.removeprefix("[options]").strip()
    if re.search("[a-z]", rest) or re.search(r"\[.*\] [A-Z]", rest):
        problems.append(f"{full}: bad operands {rest!r}")
    if has_options != ("Options:" in helptext):
        problems.append(f"{full}: [options] and Options: disagree")

    def expect(args: tuple[str, ...], pattern: str, what: str) -> None:
        res = sp.run(*path, cmd, *args, check=False, input="")
        if res.returncode != 125 or not re.search(pattern, _out(res)):
            problems.append(f"{full} {what}: rc={res.returncode} {_out(res).strip()[:200]!r}")

    if not re.search("[A-Z]", rest) and cmd != "help":
        expect(("invalid-arg",), r"Error: .* takes no arguments", "invalid-arg")
    if "-l, --latest" in helptext and cmd not in _NO_LATEST_CHECK:
        expect(("-l", "nonexistent-container"), r"Error: .*--latest and (containers|pods|arguments) cannot be used "
               "together", "-l NAME")
        expect(("--all", "--latest"), r"Error: (--all and --latest cannot be used together|--all, --latest and "
               r"(containers|arguments) cannot be used together|unknown flag)", "--all --latest")
    if re.match("[A-Z]", rest):
        expect((), r"Error:.* (require|specif|must|provide|need|choose|accepts)", "without args")
    if "..." not in rest:
        n = len(rest.split())
        expect(tuple(f"x{i}" for i in range(n + 1)), rf"Error:.* (takes no arguments|requires exactly {n} arg|"
               rf"accepts at most|too many arguments|accepts {n} arg\(s\), received|accepts between .* and .* "
               r"arg\(s\), received )", f"with {n + 1} args")
    return problems, False


def _check_help(sp: SealpodRunner, path: tuple[str, ...], pool: ThreadPoolExecutor) -> list[str]:
    problems: list[str] = []
    commands = _help_commands(sp, path)
    if not commands:
        problems.append(f"sealpod {' '.join(path)}: no commands listed")
    results = list(pool.map(lambda c: (c, _check_command(sp, path, c)), commands))
    for cmd, (found, is_group) in results:
        problems += found
        if is_group and cmd != "help":
            problems += _check_help(sp, (*path, cmd), pool)
    res = sp.run(*path, check=False)
    want = f".*Usage:.*Error: missing command '.*{' '.join(path)} COMMAND'"
    if res.returncode != 125 or not re.match(want, _out(res), re.S):
        problems.append(f"sealpod {' '.join(path)} without subcommand: rc={res.returncode}")
    res = sp.run(*path, "NoSuchCommand", check=False)
    if res.returncode != 125 or not re.match(rf"Error: unrecognized command .*{' '.join(path)} NoSuchCommand",
                                             _out(res)):
        problems.append(f"sealpod {' '.join(path)} NoSuchCommand: rc={res.returncode} {_out(res)!r}")
    return problems


def test_help_basic_tests_like_podman(tmp_path: Path) -> None:
    """015-help.bats "podman help - basic tests": every command's --help, operand errors, -l conflicts."""
    sp = SealpodRunner(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        problems = _check_help(sp, (), pool)
    assert not problems, "\n".join(problems)
    for opt in ("help", "--help", "-h"):
        assert sp.run(opt).stdout.splitlines()[0] == "Manage pods, containers and images"


# --- 040-ps.bats --------------------------------------------------------------------------------

def test_ps_filter_like_podman(ctr: SealpodRunner) -> None:
    """040-ps.bats "podman ps --filter": status implies -a, stopped matches exited, id/name regexes, order."""
    ctr.run("run", "-d", "--name", "running", IMAGE, "sleep", "100")
    ctr.run("run", "--name", "stopped", IMAGE, "true")
    ctr.run("run", "--name", "failed", IMAGE, "false", check=False)
    ctr.run("create", "--name", "created", IMAGE, "echo", "hi")

    def names(*args: str) -> list[str]:
        return ctr.run("ps", *args, "--format", "{{.Names}}").stdout.split()

    assert names("--filter", "name=stopped") == []
    assert names("-a", "--filter", "name=stopped") == ["stopped"]
    assert names("--filter", "status=stopped", "--sort", "names") == ["failed", "stopped"]
    assert names("--filter", "status=exited", "--filter", "exited=0") == ["stopped"]
    assert names("--filter", "status=exited", "--filter", "exited=1") == ["failed"]
    assert names("--filter", "status=created") == ["created"]
    assert names("-a", "--filter", "status=exited", "--filter", "status=running", "--sort", "created") == [
        "running", "stopped", "failed"]
    assert names("-a") == ["running", "stopped", "failed", "created"]  # Podman: oldest first
    assert names("-a", "--filter", "name=^r.*g$") == ["running"]
    cid = ctr.run("inspect", "--format", "{{.Id}}", "running").stdout.strip()
    for prefix in (cid[:1], cid[:2], cid[:13]):
        for value in (prefix.lower(), prefix.upper(), f"^{prefix}"):
            assert "running" in names("-a", "--filter", f"id={value}"), value
    assert "running" not in names("-a", "--filter", f"id=^[^{cid[0]}]")
    assert ctr.run("ps", "-a", "--filter", "id=[^0-9a-f]", "--noheading").stdout == ""
    ctr.run("rm", "-f", "-t", "0", "running", "stopped", "failed", "created")


# --- 035-logs.bats ------------------------------------------------------------------------------

def test_logs_since_until_durations_like_podman(ctr: SealpodRunner) -> None:
    """035-logs.bats: `--since -1s -f` (a dash-led value, a future time), `--until 3s -f` stops after 3s."""
    ctr.run("run", "--name", "dur", IMAGE, "sh", "-c", "echo A; echo B")
    assert ctr.run("logs", "--since", "-1s", "-f", "dur").stdout == ""
    assert ctr.run("logs", "--since", "1h1m", "dur").stdout == "A\nB\n"
    assert ctr.run("logs", "--tail", "-1", "dur").stdout == "A\nB\n"
    ctr.run("run", "-d", "--name", "ticker", IMAGE, "sh", "-c", "n=1; while :; do echo t--$n; n=$((n+1)); "
            "sleep 0.1; done")
    start = time.monotonic()
    out = ctr.run("logs", "--until", "3s", "-f", "ticker", timeout=15).stdout
    assert 2 < time.monotonic() - start < 6
    assert out.startswith("t--1\nt--2\n")
    ctr.run("rm", "-f", "-t", "0", "dur", "ticker")


# --- 610-format.bats ----------------------------------------------------------------------------

_FORMAT_COMMANDS = (("version",), ("info",), ("ps", "-a"), ("images",), ("history", IMAGE), ("image", "inspect", IMAGE),
                    ("container", "inspect", "fmt"), ("inspect", "fmt"), ("volume", "ls"), ("volume", "inspect", "-a"),
                    ("network", "ls"), ("network", "inspect", "podman"), ("pod", "ps"), ("secret", "ls"),
                    ("stats", "--no-stream"), ("events", "--stream=false"), ("system", "df"))  # not mount: json only


def test_format_newline_and_json_like_podman(ctr: SealpodRunner) -> None:
    """610-format.bats "check Go template formatting": --format '{{"\\n"}}' must not be cut by unescaping."""
    ctr.run("run", "-d", "--name", "fmt", IMAGE, "sleep", "100")
    for argv in _FORMAT_COMMANDS:
        res = ctr.run(*argv, "--format", '{{"\\n"}}', check=False)
        assert res.returncode == 0 and "unterminated" not in res.stderr, (argv, res.stderr)
    assert ctr.run("version", "--format", '{{"\\n"}}').stdout == "\n"
    assert ctr.run("ps", "--format", '{{.Names}}\\t{{"x\\ty"}}').stdout == "fmt\tx\ty\n"
    ctr.run("rm", "-f", "-t", "0", "fmt")
