"""`[general] log_format = text | json`; no second timestamp when stderr is systemd's journal."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from ivr.config import ConfigError, LogFormat, load_config
from ivr.logs import formatter, on_journal


def record(level: int = logging.WARNING) -> logging.LogRecord:
    made = logging.LogRecord("ivr.service", level, __file__, 1, "busy: %d calls", (3,), None)
    made.created = 1_764_770_400.25  # 2025-12-03T14:00:00.250Z
    return made


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sip.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_log_format_is_text_by_default_or_json(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "[general]\n"), environ={}).log_format is LogFormat.TEXT
    chosen = load_config(write(tmp_path, "[general]\nlog_format = JSON\n"), environ={})
    assert chosen.log_format is LogFormat.JSON


def test_an_unknown_log_format_is_refused_by_line_and_name(tmp_path: Path) -> None:
    path = write(tmp_path, "[general]\nlog_format = xml\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: [general] log_format: expected text or json, got 'xml'"
    ]


def test_json_is_one_object_per_line_with_time_level_logger_message() -> None:
    line = formatter(LogFormat.JSON, journal=False).format(record())
    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2025-12-03T14:00:00.250+00:00",
        "level": "WARNING",
        "logger": "ivr.service",
        "message": "busy: 3 calls",
    }


def test_json_keeps_a_traceback_inside_its_one_line() -> None:
    try:
        raise ValueError("bad prompt")
    except ValueError:
        failed = logging.LogRecord(
            "ivr.session", logging.ERROR, __file__, 1, "call failed", (), sys.exc_info()
        )
    line = formatter(LogFormat.JSON, journal=False).format(failed)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "call failed"
    assert "ValueError: bad prompt" in data["exception"]


def test_text_has_its_own_time_outside_the_journal() -> None:
    line = formatter(LogFormat.TEXT, journal=False).format(record())
    assert line.endswith(" WARNING ivr.service: busy: 3 calls")
    assert line[:4].isdigit()  # the time first


def test_text_in_the_journal_has_no_time_but_the_syslog_priority() -> None:
    text = formatter(LogFormat.TEXT, journal=True)
    assert text.format(record()) == "<4>WARNING ivr.service: busy: 3 calls"
    assert text.format(record(logging.ERROR)) == "<3>ERROR ivr.service: busy: 3 calls"
    assert text.format(record(logging.INFO)) == "<6>INFO ivr.service: busy: 3 calls"


def test_json_in_the_journal_keeps_its_time_and_gets_the_priority() -> None:
    line = formatter(LogFormat.JSON, journal=True).format(record(logging.ERROR))
    assert line.startswith("<3>{")
    assert json.loads(line[3:])["time"] == "2025-12-03T14:00:00.250+00:00"


def test_the_journal_is_recognised_by_the_device_and_inode_of_stderr(tmp_path: Path) -> None:
    """As systemd.exec(5) says: $JOURNAL_STREAM alone may be inherited by a shell."""
    with (tmp_path / "stream").open("w") as stream, (tmp_path / "other").open("w") as other:
        stat = os.fstat(stream.fileno())
        environ = {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
        assert on_journal(stream, environ)
        assert not on_journal(other, environ)
        assert not on_journal(stream, {})
        assert not on_journal(stream, {"JOURNAL_STREAM": "garbage"})
        assert not on_journal(io.StringIO(), environ)  # no file descriptor at all
