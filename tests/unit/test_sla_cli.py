"""`ivr sla deadlines` through the real command line, with a throwaway sip.conf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main


def write_conf(tmp_path: Path, extra: str = "") -> Path:
    conf = tmp_path / "sip.conf"
    conf.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n{extra}", encoding="utf-8")
    return conf


def run(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), "sla", "deadlines", *args])


def test_json_keys_and_local_offsets(tmp_path: Path) -> None:
    # High, Thu 5 Nov 2026 16:00 GMT: 1h Thursday, then into Friday (worked in test_sla).
    result = run(
        write_conf(tmp_path), "--priority", "high", "--reported-at", "2026-11-05T16:00", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "priority": "high",
        "reported_at": "2026-11-05T16:00:00+00:00",
        "acknowledge_by": "2026-11-06T13:00:00+00:00",
        "respond_by": "2026-11-06T16:00:00+00:00",
        "resolve_by": "2026-11-12T16:00:00+00:00",
    }


def test_json_uses_summer_time_offset_and_null_resolve(tmp_path: Path) -> None:
    # Standard, Fri 27 Mar 2026 16:00 GMT, given in UTC; deadlines fall after the change.
    result = run(
        write_conf(tmp_path),
        "--priority",
        "standard",
        "--reported-at",
        "2026-03-27T16:00Z",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["acknowledge_by"] == "2026-03-30T16:00:00+01:00"
    assert data["respond_by"] == "2026-03-31T12:00:00+01:00"
    assert data["resolve_by"] is None


def test_explicit_offset_is_converted_to_local(tmp_path: Path) -> None:
    result = run(
        write_conf(tmp_path),
        "--priority",
        "critical",
        "--reported-at",
        "2026-11-05T11:00-05:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reported_at"] == "2026-11-05T16:00:00+00:00"
    assert data["resolve_by"] == "2026-11-06T16:00:00+00:00"


def test_time_without_offset_uses_configured_zone(tmp_path: Path) -> None:
    # In Tokyo (UTC+9, no DST) 10:00 Monday is open: 8 core hours end 18:00 local.
    conf = write_conf(tmp_path, "timezone = Asia/Tokyo\n[hours]\nopen = 10:00\nclose = 18:00\n")
    result = run(conf, "--priority", "standard", "--reported-at", "2026-11-02T10:00", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["reported_at"] == "2026-11-02T10:00:00+09:00"
    assert data["acknowledge_by"] == "2026-11-02T18:00:00+09:00"


def test_text_output_in_local_time(tmp_path: Path) -> None:
    result = run(
        write_conf(tmp_path), "--priority", "standard", "--reported-at", "2026-11-06T15:00"
    )
    assert result.exit_code == 0, result.output
    assert "Mon 09 Nov 2026 15:00 GMT" in result.output
    assert "Tue 10 Nov 2026 11:00 GMT" in result.output
    assert "none" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--priority", "high", "--reported-at", "yesterday"], "not an ISO 8601"),
        (["--priority", "high", "--reported-at", "2026-03-29T01:30"], "does not exist"),
        (["--priority", "high", "--reported-at", "2026-10-25T01:30"], "happens twice"),
        (["--priority", "urgent", "--reported-at", "2026-11-05T16:00"], "--priority"),
        (["--priority", "high"], "--reported-at"),
    ],
    ids=["not-iso", "skipped-hour", "repeated-hour", "bad-priority", "missing-time"],
)
def test_bad_input_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(write_conf(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_holiday_region_is_reported(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[hours]\nholidays = ZZ\n")
    result = run(conf, "--priority", "high", "--reported-at", "2026-11-05T16:00")
    assert result.exit_code == 1
    assert "unknown holiday region 'ZZ'" in result.output
