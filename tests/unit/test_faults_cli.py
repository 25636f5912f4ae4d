"""`ivr faults` and `ivr sla report` through the real command line, with a throwaway sip.conf."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result

from ivr.store.db import Database
from ivr.store.models import Fault
from tests.unit import cli

H = timedelta(hours=1)
# Saturday 28 Nov 2026, 22:00 GMT.
T0 = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


# What the command line's clock reads, unless a test says otherwise.
NOW = T0 + H


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return cli.write_conf(tmp_path)


def add_fault(
    conf: Path,
    reference: str,
    reported_at: datetime = T0,
    *,
    priority: str = "critical",
    status: str = "open",
    customer: str | None = "Acme Ltd",
    cli: str | None = None,
    **done: datetime,
) -> None:
    db = Database(f"sqlite:///{conf.parent}/x.db")
    db.create_schema()
    with db.sessions.begin() as session:
        session.add(
            Fault(
                reference=reference,
                priority=priority,
                status=status,
                customer=customer,
                cli=cli,
                reported_at=reported_at,
                acknowledge_by=reported_at + 2 * H,
                respond_by=reported_at + 3 * H,
                resolve_by=reported_at + 24 * H if priority != "standard" else None,
                **done,
            )
        )
    db.dispose()


def ivr(conf: Path, *args: str) -> Result:
    return cli.ivr(conf, *args, now=NOW)


def ok(conf: Path, *args: str, now: datetime = NOW) -> str:
    return cli.ok(conf, *args, now=now)


def as_json(conf: Path, *args: str, now: datetime = NOW) -> object:
    return json.loads(ok(conf, *args, "--json", now=now))


# ---- list ---------------------------------------------------------------------------------


def test_list_shows_time_left_and_time_overdue(conf: Path) -> None:
    add_fault(conf, "100001", T0)  # acknowledge by 00:00: 1 h left at 23:00
    add_fault(conf, "100002", T0 - 3 * H)  # acknowledge by 21:00: overdue by 2 h
    add_fault(conf, "100003", T0 - 4 * H, status="resolved", resolved_at=T0 - 3 * H)
    lines = ok(conf, "faults", "list").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("100001  critical open         phone  2026-11-28 22:00  ")
    assert "acknowledge by Sun 29 Nov 00:00 (1h 00m left)" in lines[0]
    assert lines[0].endswith("Acme Ltd")
    assert "acknowledge by Sat 28 Nov 21:00 (overdue by 2h 00m)" in lines[1]
    assert "resolved" in lines[2] and "left" not in lines[2]


def test_list_json_has_the_clock_fields(conf: Path) -> None:
    add_fault(conf, "100001", T0, acknowledged_at=T0 + H / 2, status="acknowledged")
    add_fault(conf, "100002", T0 - 3 * H)
    add_fault(conf, "100003", T0 - 4 * H, status="resolved", resolved_at=T0 - 3 * H)
    rows = as_json(conf, "faults", "list")
    assert isinstance(rows, list)
    clock = {
        r["reference"]: (r["next_deadline"], r["next_deadline_at"], r["overdue"]) for r in rows
    }
    assert clock == {
        "100001": ("respond", "2026-11-29T01:00:00+00:00", False),
        "100002": ("acknowledge", "2026-11-28T21:00:00+00:00", True),
        "100003": (None, None, False),
    }


def test_breached_lists_only_faults_past_a_pending_deadline(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    add_fault(conf, "100002", T0 - 3 * H)
    # Acknowledged in time, but its response (due 20:00) is overdue.
    add_fault(conf, "100003", T0 - 5 * H, status="acknowledged", acknowledged_at=T0 - 4 * H)
    # Late on every stage, but resolved: nothing is owed any more.
    add_fault(conf, "100004", T0 - 30 * H, status="resolved", resolved_at=T0 - 2 * H)
    rows = as_json(conf, "faults", "list", "--breached")
    assert isinstance(rows, list)
    assert [r["reference"] for r in rows] == ["100002", "100003"]
    assert all(r["overdue"] for r in rows)
    text = ok(conf, "faults", "list", "--breached")
    assert "100001" not in text and "respond by Sat 28 Nov 20:00 (overdue by 3h 00m)" in text


def test_breached_with_nothing_breached(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    assert ok(conf, "faults", "list", "--breached").strip() == "no breached faults"


def test_a_failed_page_is_shown_loudly(conf: Path) -> None:
    add_fault(conf, "100001", T0, status="page_failed")
    add_fault(conf, "100002", T0 - H)
    lines = ok(conf, "faults", "list").splitlines()
    assert lines[0].startswith("PAGE FAILED: 100001")
    assert not lines[1].startswith("PAGE FAILED")
    assert "PAGE FAILED" in ok(conf, "faults", "show", "100001")
    rows = as_json(conf, "faults", "list", "--status", "page_failed")
    assert isinstance(rows, list)
    assert [r["reference"] for r in rows] == ["100001"]


def refs(conf: Path, *args: str) -> list[str]:
    rows = as_json(conf, "faults", "list", *args)
    assert isinstance(rows, list)
    return [r["reference"] for r in rows]


@pytest.fixture
def four(conf: Path) -> Path:
    """Four faults from two numbers, an hour apart, newest first: 100004 at 22:00."""
    add_fault(conf, "100001", T0 - 3 * H, priority="standard", cli="+442079460000")
    add_fault(conf, "100002", T0 - 2 * H, priority="high", cli="+442079460001")
    add_fault(conf, "100003", T0 - H, priority="critical", cli="+442079460000")
    add_fault(conf, "100004", T0, priority="critical", cli=None)
    return conf


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["100004", "100003", "100002", "100001"]),
        (("--priority", "critical"), ["100004", "100003"]),
        (("--priority", "high"), ["100002"]),
        (("--priority", "standard"), ["100001"]),
        (("--since", "2026-11-28T20:00"), ["100004", "100003", "100002"]),
        (("--until", "2026-11-28T21:00"), ["100002", "100001"]),  # before, not at, 21:00
        (
            ("--since", "2026-11-28T19:30Z", "--until", "2026-11-28T21:30+00:00"),
            ["100003", "100002"],
        ),
        (("--cli", "020 7946 0000"), ["100003", "100001"]),
        (("--cli", "tel:+442079460001"), ["100002"]),
        (("--cli", "00442079460000", "--priority", "critical"), ["100003"]),
        (("--since", "2026-11-28T20:00", "--limit", "1"), ["100004"]),
        (("--priority", "high", "--since", "2026-11-28T22:00"), []),
    ],
)
def test_list_filters(four: Path, args: tuple[str, ...], expected: list[str]) -> None:
    assert refs(four, *args) == expected


def test_list_filters_in_text_and_with_nothing_found(four: Path) -> None:
    lines = ok(four, "faults", "list", "--cli", "020 7946 0001").splitlines()
    assert len(lines) == 1 and lines[0].startswith("100002  high")
    assert ok(four, "faults", "list", "--since", "2026-11-29").strip() == "no faults"


@pytest.mark.parametrize(
    ("args", "option", "message"),
    [
        (("--since", "last week"), "'--since'", "is not an ISO 8601 date-time"),
        (("--until", "2026-10-25T01:30"), "'--until'", "happens twice in Europe/London"),
        (("--cli", "nobody"), "'--cli'", "is not a telephone number"),
        (("--priority", "urgent"), "'--priority'", "is not one of"),
        (("--status", "lost"), "'--status'", "is not one of"),
        (("--limit", "-1"), "'--limit'", "is not in the range"),
    ],
)
def test_list_bad_filters_are_usage_errors(
    conf: Path, args: tuple[str, ...], option: str, message: str
) -> None:
    result = ivr(conf, "faults", "list", *args)
    assert result.exit_code == 2, result.output
    assert option in result.output and message in result.output


# ---- progress -----------------------------------------------------------------------------


def test_ack_respond_resolve_with_by_and_at(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    out = ok(conf, "faults", "ack", "100001", "--by", "Alice", "--at", "2026-11-28T22:30")
    assert "fault 100001 acknowledged at Sat 28 Nov 2026 22:30 GMT, acknowledged by Alice" in out
    assert "next: respond by Sun 29 Nov 01:00" in out
    ok(conf, "faults", "respond", "100001", "--at", "2026-11-28T22:45Z")
    out = ok(conf, "faults", "resolve", "100001")  # now: 23:00
    assert "fault 100001 resolved at Sat 28 Nov 2026 23:00 GMT" in out
    assert "next: resolved" in out
    row = as_json(conf, "faults", "show", "100001")
    assert isinstance(row, dict)
    assert row["status"] == "resolved"
    assert row["acknowledged_by"] == "Alice"
    assert row["acknowledged_at"] == "2026-11-28T22:30:00+00:00"
    assert row["responded_at"] == "2026-11-28T22:45:00+00:00"
    assert row["resolved_at"] == "2026-11-28T23:00:00+00:00"
    assert row["next_deadline"] is None


def test_resolve_straight_away_says_what_it_implied(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    out = ok(conf, "faults", "resolve", "100001", "--by", "Bob")
    assert "resolved at Sat 28 Nov 2026 23:00 GMT (acknowledged and responded too)" in out
    assert "acknowledged by Bob" in out


def test_resolving_twice_is_a_clear_error(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    ok(conf, "faults", "resolve", "100001")
    result = ivr(conf, "faults", "resolve", "100001")
    assert result.exit_code == 1
    assert "fault 100001 is already resolved" in result.output
    assert "cannot be resolved again" in result.output


def test_unknown_reference_bad_and_future_times(conf: Path) -> None:
    add_fault(conf, "100001", T0)
    result = ivr(conf, "faults", "ack", "999999")
    assert result.exit_code == 1 and "no fault with reference 999999" in result.output
    result = ivr(conf, "faults", "ack", "100001", "--at", "yesterday")
    assert result.exit_code == 2 and "'--at'" in result.output
    result = ivr(conf, "faults", "ack", "100001", "--at", "2026-11-29T09:00")
    assert result.exit_code == 2 and "is in the future" in result.output
    result = ivr(conf, "faults", "ack", "100001", "--at", "2026-11-28T21:00")
    assert result.exit_code == 1 and "before it was reported" in result.output
    row = as_json(conf, "faults", "show", "100001")
    assert isinstance(row, dict) and row["status"] == "open"


# ---- sla report ---------------------------------------------------------------------------


def test_sla_report_json_and_text(conf: Path) -> None:
    add_fault(conf, "100001", T0 - 10 * 24 * H, status="resolved", resolved_at=T0 - 10 * 24 * H + H)
    add_fault(conf, "100002", T0 - 3 * H)  # acknowledge and respond missed, resolve pending
    add_fault(conf, "100003", T0, priority="standard")  # all pending (no resolve deadline)
    add_fault(conf, "100004", datetime(2026, 10, 30, tzinfo=UTC))  # October: not counted
    data = as_json(conf, "sla", "report", "--month", "2026-11")
    assert isinstance(data, dict)
    assert data["month"] == "2026-11"
    assert data["as_of"] == "2026-11-28T23:00:00+00:00"
    critical = data["priorities"]["critical"]
    assert critical["reported"] == 2
    none = {"no_deadline": 0}
    assert critical["acknowledge"] == {"met": 1, "missed": 1, "pending": 0, **none}
    assert critical["resolve"] == {"met": 1, "missed": 0, "pending": 1, **none}
    standard = data["priorities"]["standard"]
    assert standard["respond"] == {"met": 0, "missed": 0, "pending": 1, **none}
    assert standard["resolve"]["no_deadline"] == 1
    assert data["priorities"]["high"]["reported"] == 0

    text = ok(conf, "sla", "report", "--month", "2026-11")
    assert "SLA report for November 2026 (Europe/London), as of Sat 28 Nov 2026 23:00 GMT" in text
    assert "critical         2  acknowledge      1      1       0" in text
    assert "resolve      no deadline" in text

    # Without --month: the month it is now.
    data = as_json(conf, "sla", "report", now=datetime(2026, 10, 31, 12, tzinfo=UTC))
    assert isinstance(data, dict)
    assert data["month"] == "2026-10"
    assert data["priorities"]["critical"]["reported"] == 1


def test_sla_report_refuses_a_bad_month(conf: Path) -> None:
    result = ivr(conf, "sla", "report", "--month", "November")
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
