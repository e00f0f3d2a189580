"""Log lines shaped as Podman's (logrus): ``DEBU[0000] msg`` on a terminal, else
``time="..." level=debug msg="..."``, which scripts and Podman's own tests match on."""

from __future__ import annotations

import json
import logging
import sys
import time

TRACE = 5  # logrus's level below debug (--log-level=trace)
_NAMES = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
          logging.ERROR: "error", logging.CRITICAL: "fatal"}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._/@^+")


def quote(text: str) -> str:
    """logrus quotes a value only when it holds anything beyond a few safe characters."""
    if text and all(c in _SAFE for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _timestamp(created: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
    if stamp.endswith("+0000"):
        return stamp[:-5] + "Z"
    return f"{stamp[:-2]}:{stamp[-2:]}"  # RFC 3339's offset has a colon


class LogrusFormatter(logging.Formatter):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + self.formatException(record.exc_info)
        name = _NAMES.get(record.levelno, record.levelname.lower())
        if self.tty:
            return f"{name.upper()[:4]}[0000] {msg}"
        return f'time="{_timestamp(record.created)}" level={name} msg={quote(msg)}'


def handler() -> logging.Handler:
    """A stderr handler in the shape a terminal or a pipe gets from Podman."""
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(LogrusFormatter(sys.stderr.isatty()))
    return out


def warn(msg: str) -> None:
    """One warning in logrus's shape, whatever the log level (Podman warns so even at the default)."""
    record = logging.LogRecord("sealpod", logging.WARNING, "", 0, msg, None, None)
    sys.stderr.write(LogrusFormatter(sys.stderr.isatty()).format(record) + "\n")


def error(msg: str) -> None:
    """One error line in logrus's shape for a problem that does not stop the command (Podman's logrus.Errorf)."""
    record = logging.LogRecord("sealpod", logging.ERROR, "", 0, msg, None, None)
    sys.stderr.write(LogrusFormatter(sys.stderr.isatty()).format(record) + "\n")
