"""The monthly SLA report, counted by hand from a small month of faults (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.domain import Priority, Stage
from ivr.faults.clock import FaultTimes, stage_outcome
from ivr.sla_report import Month, sla_report

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def utc(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def critical(reported: datetime, **done: datetime | None) -> FaultTimes:
    return FaultTimes(
        Priority.CRITICAL, reported, reported + 2 * H, reported + 3 * H, reported + 24 * H, **done
    )


def standard(
    reported: datetime, ack_by: datetime, respond_by: datetime, **done: datetime | None
) -> FaultTimes:
    return FaultTimes(Priority.STANDARD, reported, ack_by, respond_by, None, **done)


@pytest.mark.parametrize(
    ("due", "done", "expected"),
    [
        (None, None, "no_deadline"),
        (None, utc(2), "no_deadline"),
        (utc(5), utc(4), "met"),
        (utc(5), utc(5), "met"),  # on the deadline is in time
        (utc(5), utc(5, 1), "missed"),
        (utc(30, 12), None, "pending"),  # due exactly now: still pending
        (utc(30, 11), None, "missed"),
        (utc(1, month=12), None, "pending"),
    ],
)
def test_stage_outcome(due: datetime | None, done: datetime | None, expected: str) -> None:
    reported = utc(1)
    times = FaultTimes(Priority.HIGH, reported, due, due, None, acknowledged_at=done)
    assert stage_outcome(times, Stage.ACKNOWLEDGE, NOW) == expected


def test_a_month_of_faults() -> None:
    faults = [
        # Critical 1: everything in time.
        critical(
            utc(2, 10), acknowledged_at=utc(2, 11), responded_at=utc(2, 12), resolved_at=utc(3)
        ),
        # Critical 2: acknowledged late, never responded, long past the resolution deadline.
        critical(utc(10, 10), acknowledged_at=utc(10, 13)),
        # Critical 3: resolved straight away, which counts for all three stages.
        critical(utc(20, 10), resolved_at=utc(20, 11)),
        # Critical 4: reported an hour ago, nothing done yet.
        critical(NOW - H),
        # Standard: acknowledged in time; respond overdue; resolution has no deadline.
        standard(utc(27, 10), utc(27, 17), utc(30, 11), acknowledged_at=utc(27, 12)),
        # Standard: responded (so acknowledged too) late, after both deadlines.
        standard(utc(26, 10), utc(26, 17), utc(27, 13), responded_at=utc(27, 14)),
        # Outside the month on either side: not counted.
        critical(utc(31, 23, month=10)),
        critical(utc(1, 0, month=12)),
    ]
    report = sla_report(faults, Month.parse("2026-11", LONDON), NOW)
    data = report.as_dict()
    assert data["month"] == "2026-11"
    assert data["from"] == "2026-11-01T00:00:00+00:00"
    assert data["to"] == "2026-12-01T00:00:00+00:00"
    assert data["priorities"] == {
        "standard": {
            "reported": 2,
            "out_of_scope": 0,
            "acknowledge": {"met": 1, "missed": 1, "pending": 0, "no_deadline": 0},
            "respond": {"met": 0, "missed": 2, "pending": 0, "no_deadline": 0},
            "resolve": {"met": 0, "missed": 0, "pending": 0, "no_deadline": 2},
        },
        "high": {
            "reported": 0,
            "out_of_scope": 0,
            "acknowledge": {"met": 0, "missed": 0, "pending": 0, "no_deadline": 0},
            "respond": {"met": 0, "missed": 0, "pending": 0, "no_deadline": 0},
            "resolve": {"met": 0, "missed": 0, "pending": 0, "no_deadline": 0},
        },
        "critical": {
            "reported": 4,
            "out_of_scope": 0,
            "acknowledge": {"met": 2, "missed": 1, "pending": 1, "no_deadline": 0},
            "respond": {"met": 2, "missed": 1, "pending": 1, "no_deadline": 0},
            "resolve": {"met": 2, "missed": 1, "pending": 1, "no_deadline": 0},
        },
    }


def test_months_are_local_so_summer_months_start_at_23_00_utc() -> None:
    july = Month.parse("2026-07", LONDON)
    assert july.start == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    assert july.end == datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    # A fault at 23:30 UTC on 30 June is 00:30 on 1 July in London.
    late_june = critical(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert sla_report([late_june], july, NOW).lines[Priority.CRITICAL].reported == 1
    december = Month.parse("2026-12", LONDON)
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_month_containing_uses_local_time() -> None:
    # 23:30 UTC on 31 Oct 2026 is GMT already (clocks went back on the 25th): still October.
    assert Month.containing(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), LONDON).label == "2026-10"
    # 23:30 UTC on 31 Aug is 00:30 BST on 1 September.
    assert Month.containing(datetime(2026, 8, 31, 23, 30, tzinfo=UTC), LONDON).label == "2026-09"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "Nov 2026", "2026-1", "", "2026-11-01"])
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text, LONDON)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_report([], Month.parse("2026-11", LONDON), datetime(2026, 11, 30))
