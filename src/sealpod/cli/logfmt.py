"""Log lines shaped as Podman's (logrus): ``DEBU[0000] msg`` (in colour) on a terminal, else
``time="..." level=debug msg="..."``, which scripts and Podman's own tests match on.  The shape
itself is :mod:`sealpod.utils.logrus`'s, which every layer uses for its warnings."""

from __future__ import annotations

import logging
import sys

from sealpod.utils import logrus
from sealpod.utils.logrus import TRACE, quote

__all__ = ["TRACE", "LogrusFormatter", "error", "handler", "quote", "warn"]


class LogrusFormatter(logging.Formatter):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += "\n" + self.formatException(record.exc_info)
        return logrus.line(record.levelno, msg, record.created, self.tty)


def handler() -> logging.Handler:
    """A stderr handler in the shape a terminal or a pipe gets from Podman."""
    out = logging.StreamHandler(sys.stderr)
    out.setFormatter(LogrusFormatter(sys.stderr.isatty()))
    return out


def warn(msg: str) -> None:
    """One warning in logrus's shape, unless the log level hides it (``--log-level error``)."""
    logrus.warning(msg)


def error(msg: str) -> None:
    """One error line in logrus's shape for a problem that does not stop the command (Podman's logrus.Errorf)."""
    logrus.error(msg)
