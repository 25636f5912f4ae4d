"""Where and how `ivr serve` and `ivr web` write their log: text or JSON lines on stderr.

`[general] log_format = json` is for log shippers: one object per line with
time, level, logger and message (and the traceback, if any), nothing to
parse with a regular expression. Text is for people.

Under systemd, stderr is the journal, which stamps every line itself: a
text line then carries no time of its own (it would be shown twice), and
each line starts with its syslog priority (`<3>` for an error), which the
journal reads and strips, so that `journalctl -p err` finds the errors.
The journal is recognised as systemd documents it: $JOURNAL_STREAM names
the device and inode of the stream, which must be our stderr (a shell
started from a unit inherits the variable but not the stream).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

from ivr.config import LogFormat

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

# sd-daemon(3): SD_ERR and friends, read by the journal from the start of a line.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def _priority(levelno: int) -> int:
    for level, priority in sorted(_PRIORITY.items(), reverse=True):
        if levelno >= level:
            return priority
    return 7


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


class JournalPrefix(logging.Formatter):
    """Another formatter's line, prefixed with the record's syslog priority for the journal."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        prefix = f"<{_priority(record.levelno)}>"
        # A traceback's lines are lines of their own in the journal: each gets the priority.
        return "\n".join(prefix + line for line in text.split("\n"))


def on_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `stream` is the journal systemd connected us to ($JOURNAL_STREAM is DEV:INODE)."""
    env = os.environ if environ is None else environ
    device, sep, inode = env.get("JOURNAL_STREAM", "").partition(":")
    if not sep:
        return False
    try:
        stat = os.fstat(stream.fileno())
        return (stat.st_dev, stat.st_ino) == (int(device), int(inode))
    except (OSError, ValueError, AttributeError):
        return False


def formatter(log_format: LogFormat, journal: bool) -> logging.Formatter:
    """The formatter for `log_format`, written for the journal when `journal` is true."""
    if log_format is LogFormat.JSON:
        inner: logging.Formatter = JsonFormatter()
    elif journal:
        inner = logging.Formatter(JOURNAL_TEXT_FORMAT)
    else:
        inner = logging.Formatter(TEXT_FORMAT)
    return JournalPrefix(inner) if journal else inner


def configure(
    log_format: LogFormat,
    level: str | int,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Send every log record at `level` and above to `stream` (stderr) in `log_format`.

    Like logging.basicConfig, it does nothing when the root logger already
    has a handler (a test's log capture, say), and returns whether it did.
    """
    root = logging.getLogger()
    if root.handlers:
        return False
    out = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter(log_format, on_journal(out, environ)))
    root.addHandler(handler)
    root.setLevel(level)
    return True
