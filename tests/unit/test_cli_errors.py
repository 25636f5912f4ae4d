"""Each command that once printed a traceback now says what was wrong, with exit 1 or 2.

Also the entry point's last resort (one line and exit 1 for what nobody
foresaw, the traceback only with --debug), and the one clock every command
reads from the CLI context.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.admin import sla_cli
from ivr.admin.cli import one_line
from tests.unit.cli import ivr, ok, write_conf

ROOT = Path(__file__).resolve().parents[2]
SHORT_PROMPTS = ROOT / "tests" / "data" / "prompts-short"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return write_conf(tmp_path)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("sla", "deadlines", "--priority", "high", "--reported-at", "9999-12-31T16:00"),
            2,
            "'--reported-at': 9999-12-31T16:00 is out of range: give a year from 1970 to 2199",
        ),
        (
            ("sla", "report", "--month", "0000-01"),
            2,
            "'--month': 0000-01 is out of range: give a year from 1970 to 2199",
        ),
        (
            ("outages", "remove", "99999999999999999999999"),
            2,
            "99999999999999999999999 is not in the range 1<=x<=2147483647",
        ),
        (
            ("oncall", "remove-override", "--", "-5"),  # "--": an argument, not an option
            2,
            "-5 is not in the range 1<=x<=2147483647",
        ),
        (
            ("faults", "ack", "100001", "--at", "0001-01-01T00:00+14:00"),
            2,
            "'--at': 0001-01-01T00:00+14:00 is out of range",
        ),
        (
            ("db", "upgrade", "--revision", "head+5"),
            1,
            "cannot upgrade to 'head+5': no such revision",
        ),
        (
            ("handsets", "remove", "\udcff"),
            2,
            "'\\udcff' is not UTF-8 text",
        ),
    ],
)
def test_values_that_once_raised_are_messages(
    conf: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = ivr(conf, *args)
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output and "unexpected error" not in result.output


def test_prompts_say_into_a_missing_directory_is_a_usage_error(conf: Path) -> None:
    result = ivr(conf, "prompts", "say", "hi", "--out", "/nonexistent/x.wav")
    assert result.exit_code == 2, result.output
    assert "'--out': /nonexistent is not a directory that exists" in result.output


def test_prompts_say_to_a_name_too_long_is_refused_before_speaking(
    conf: Path, tmp_path: Path
) -> None:
    result = ivr(conf, "prompts", "say", "hi", "--out", str(tmp_path / ("x" * 300)))
    assert result.exit_code == 1, result.output
    assert "cannot write" in result.output and "File name too long" in result.output


# ---- ivr serve on a port already taken -----------------------------------------------------


@pytest.fixture
def taken_tcp_port() -> Iterator[int]:
    """A TCP port held open for the test: the engine binds TCP as well as UDP on its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, taken_tcp_port: int) -> None:
    conf = write_conf(
        tmp_path,
        f"listen = 127.0.0.1:{taken_tcp_port}\n"
        f"data_dir = {tmp_path / 'data'}\n"
        "metrics_listen =\n"
        f"[prompts]\ncatalogue_dir = {SHORT_PROMPTS}\ncache_dir = {tmp_path / 'cache'}\n"
        f"recorded_dir = {tmp_path / 'recorded'}\n"
        "[guard]\nenabled = no\n",
    )
    done = subprocess.run(
        [sys.executable, "-m", "ivr.admin.cli", "--config", str(conf), "serve"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"Error: not starting: cannot listen for SIP on 127.0.0.1:{taken_tcp_port} (udp, tcp)"
    )
    assert "Address already in use" in last
    assert "fault line ready" not in done.stdout


# ---- the last resort -----------------------------------------------------------------------


@pytest.fixture
def broken_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure nobody foresaw, injected into `ivr sla report`."""

    def boom(*_args: object) -> None:
        raise RuntimeError("the report\nbroke")

    monkeypatch.setattr(sla_cli, "sla_report", boom)


@pytest.mark.usefixtures("broken_report")
def test_an_unforeseen_error_is_one_line_and_exit_1(conf: Path) -> None:
    result = ivr(conf, "sla", "report", "--month", "2026-11")
    assert result.exit_code == 1
    assert result.output == (
        "Error: unexpected error (RuntimeError): the report broke "
        "(run with --debug for the traceback)\n"
    )


@pytest.mark.usefixtures("broken_report")
def test_debug_lets_the_traceback_through(conf: Path) -> None:
    result = ivr(conf, "--debug", "sla", "report", "--month", "2026-11")
    assert isinstance(result.exception, RuntimeError)


def test_one_line_escapes_what_a_terminal_cannot_print() -> None:
    assert one_line("bad\udcffbytes\n  and\tmore") == "bad\\udcffbytes and more"


# ---- one clock -------------------------------------------------------------------------------


def test_every_command_reads_the_clock_the_context_is_given(conf: Path) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    # Nobody is on call in this empty database: exit 1, with the answer all the same.
    oncall = ivr(conf, "oncall", "now", "--json", now=now)
    assert oncall.exit_code == 1
    assert json.loads(oncall.stdout)["at"] == "2026-11-25T10:00:00+00:00"
    report = json.loads(ok(conf, "sla", "report", "--json", now=now))
    assert (report["month"], report["as_of"]) == ("2026-11", "2026-11-25T10:00:00+00:00")
