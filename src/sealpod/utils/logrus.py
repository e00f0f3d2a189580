"""Warnings and errors shaped as Podman prints them through logrus, for every layer.

On a terminal: ``\\x1b[33mWARN\\x1b[0m[0000] message`` (the level in colour, the seconds since the
command started, the message padded to 44 columns); otherwise ``time="..." level=warning msg="..."``,
which scripts and Podman's own tests match on.  At the default log level (warn) the command sets up
no logging at all (it costs ~7 ms to import), so :func:`log` writes such lines itself; once a level
was chosen (``--log-level``), the ``logging`` handler the command installed filters and writes them:
``--log-level error`` hides warnings, as in Podman.
"""

from __future__ import annotations

import json
import os
import sys
import time

TRACE = 5  # logrus's level below debug (--log-level=trace)
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50  # logging's numbers, without importing it
_NAMES = {TRACE: "trace", DEBUG: "debug", INFO: "info", WARNING: "warning", ERROR: "error", CRITICAL: "fatal"}
_COLORS = {"trace": 37, "debug": 37, "info": 36, "warning": 33, "error": 31, "fatal": 31, "panic": 31}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


def quote(text: str) -> str:
    """logrus quotes a value only when it holds anything beyond a few safe characters."""
    if text and all(c in _SAFE for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def timestamp(created: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
    if stamp.endswith("+0000"):
        return stamp[:-5] + "Z"
    return f"{stamp[:-2]}:{stamp[-2:]}"  # RFC 3339's offset has a colon


def level_name(level: int) -> str:
    return _NAMES.get(level) or ("fatal" if level > ERROR else "error" if level > WARNING else "warning")


def _elapsed(created: float) -> int:
    """Whole seconds from this process's start to ``created`` (logrus counts from its own start)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rpartition(")")[2].split()[19])  # field 22: start time, in clock ticks
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    started = time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    return max(0, int(created - started))


def line(level: int, msg: str, created: float, tty: bool) -> str:
    """One log line as logrus's text formatter writes it, without the newline."""
    name = level_name(level)
    msg = msg.removesuffix("\n")
    if tty:
        return f"\x1b[{_COLORS[name]}m{name.upper()[:4]}\x1b[0m[{_elapsed(created):04d}] {msg:<44} "
    return f'time="{timestamp(created)}" level={name} msg={quote(msg)}'


def log(level: int, msg: str) -> None:
    """Say ``msg`` at ``level``: through the handler the command installed when it chose a log level
    (which filters), else directly, as the default level (warn) shows warnings and errors."""
    logging = sys.modules.get("logging")
    if logging is not None and logging.getLogger().handlers:
        logging.getLogger("sealpod").log(level, msg)
        return
    if level >= WARNING:
        sys.stderr.write(line(level, msg, time.time(), sys.stderr.isatty()) + "\n")
        sys.stderr.flush()


def warning(msg: str) -> None:
    """A problem that does not stop the command (Podman's logrus.Warn)."""
    log(WARNING, msg)


def error(msg: str) -> None:
    """An error that does not stop the command (Podman's logrus.Errorf)."""
    log(ERROR, msg)


def info(msg: str) -> None:
    """Shown from ``--log-level info`` on (Podman's logrus.Info)."""
    log(INFO, msg)
