"""`ivr sla deadlines` (and `ivr sla report`'s use of [sla]) through the real command line,
with a throwaway sip.conf."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.admin.cli import main
from ivr.store.db import Database
from ivr.store.models import Fault


def write_conf(tmp_path: Path, extra: str = "") -> Path:
    conf = tmp_path / "sip.conf"
    conf.write_text(f"[general]\ndatabase = sqlite:///{tmp_path}/x.db\n{extra}", encoding="utf-8")
    return conf


def run(conf: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(conf), "sla", "deadlines", *args])


def report(conf: Path, *args: str) -> Result:
    """`ivr sla report` as if it were Sat 28 Nov 2026 12:00 UTC."""
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    return CliRunner().invoke(
        main, ["--config", str(conf), "sla", "report", *args], obj=lambda: now
    )


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


# ---- configured targets and working week (sip.conf [sla], [hours] days) ---------------------


def test_a_configured_target_is_used(tmp_path: Path) -> None:
    # Critical responded to within 1 clock hour, on Christmas Day.
    conf = write_conf(
        tmp_path, "[sla]\ncritical = ack 0.5 clock, respond 1 clock, resolve 8 clock\n"
    )
    result = run(conf, "--priority", "critical", "--reported-at", "2026-12-25T10:00", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "priority": "critical",
        "reported_at": "2026-12-25T10:00:00+00:00",
        "acknowledge_by": "2026-12-25T10:30:00+00:00",
        "respond_by": "2026-12-25T11:00:00+00:00",
        "resolve_by": "2026-12-25T18:00:00+00:00",
    }


def test_a_configured_working_week_is_used(tmp_path: Path) -> None:
    # High, Fri 6 Nov 2026 15:00 GMT, Monday to Saturday: 2h Friday, then Saturday.
    conf = write_conf(tmp_path, "[hours]\ndays = mon-sat\n")
    result = run(conf, "--priority", "high", "--reported-at", "2026-11-06T15:00", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["acknowledge_by"] == "2026-11-07T12:00:00+00:00"
    assert data["respond_by"] == "2026-11-07T15:00:00+00:00"
    assert data["resolve_by"] == "2026-11-12T15:00:00+00:00"


def test_a_configured_resolve_none_prints_issue_dependent(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[sla]\nhigh = ack 5 core, respond 8 core, resolve none\n")
    result = run(conf, "--priority", "high", "--reported-at", "2026-11-06T15:00")
    assert result.exit_code == 0, result.output
    assert "resolve_by: none (issue dependent)" in result.output


def test_a_bad_sla_section_is_reported_with_its_key(tmp_path: Path) -> None:
    conf = write_conf(tmp_path, "[sla]\nhigh = ack 5 core, respond 8 core\n")
    result = run(conf, "--priority", "high", "--reported-at", "2026-11-06T15:00")
    assert result.exit_code == 1
    assert "[sla] high: no resolve given" in result.output


def test_report_shows_no_deadline_where_the_configured_rules_set_none(tmp_path: Path) -> None:
    conf = write_conf(
        tmp_path,
        "[sla]\nstandard = ack 8 core, respond 12 core, resolve 80 core\n"
        "high = ack 5 core, respond 8 core, resolve none\n",
    )
    assert CliRunner().invoke(main, ["--config", str(conf), "db", "upgrade"]).exit_code == 0
    result = report(conf, "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert rows[0] == ["standard", "0", "acknowledge", "0", "0", "0"]
    assert rows[2] == ["resolve", "0", "0", "0"]  # standard's, now with a deadline
    assert rows[3] == ["high", "0", "acknowledge", "0", "0", "0"]
    assert rows[5] == ["resolve", "no", "deadline"]  # high's, now with none


def test_report_still_counts_deadlines_faults_were_given_before_a_change(tmp_path: Path) -> None:
    # A high fault logged while resolve was 40 core hours keeps that deadline
    # after [sla] sets none, and the report still counts it.
    conf = write_conf(tmp_path, "[sla]\nhigh = ack 5 core, respond 8 core, resolve none\n")
    db = Database(f"sqlite:///{tmp_path}/x.db")
    db.create_schema()
    reported = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    with db.sessions.begin() as session:
        session.add(
            Fault(
                reference="100001",
                priority="high",
                status="open",
                reported_at=reported,
                acknowledge_by=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
                respond_by=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
                resolve_by=datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
            )
        )
    db.dispose()
    result = report(conf, "--month", "2026-11")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert rows[3] == ["high", "1", "acknowledge", "0", "1", "0"]
    assert rows[5] == ["resolve", "0", "0", "1"]
