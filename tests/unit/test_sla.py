"""The SLA clock, checked against deadlines worked out by hand from the calendar.

Reference facts used below (England and Wales, 2026):
- BST starts Sun 29 Mar 01:00 UTC and ends Sun 25 Oct 01:00 UTC, so core
  hours 09:00-17:00 local are 08:00-16:00 UTC in between, 09:00-17:00 UTC otherwise.
- Bank holidays: Good Friday 3 Apr, Easter Monday 6 Apr, Christmas Fri 25 Dec,
  Boxing Day Sat 26 Dec substituted on Mon 28 Dec; New Year's Day Fri 1 Jan 2027.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.config import HoursConfig
from ivr.domain import Priority
from ivr.sla import (
    DEFAULT_SLA_RULES,
    BusinessCalendar,
    Clock,
    Deadlines,
    SlaRule,
    SlaRules,
    Target,
    deadlines,
    describe_remaining,
)

LONDON = ZoneInfo("Europe/London")
CAL = BusinessCalendar()


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---- deadlines ----------------------------------------------------------------

# (case, priority, reported at, acknowledge by, respond by, resolve by), all worked by hand.
DEADLINE_CASES = [
    (
        # 7 core hours left Monday; ack needs 1 more (Tue 10:00), respond 5 more (Tue 14:00).
        "standard mid-morning",
        Priority.STANDARD,
        local(2026, 11, 2, 10, 0),
        utc(2026, 11, 3, 10, 0),
        utc(2026, 11, 3, 14, 0),
        None,
    ),
    (
        # Opening is the start: 8h fills Monday to the close exactly.
        "standard at exactly 09:00",
        Priority.STANDARD,
        local(2026, 11, 2, 9, 0),
        utc(2026, 11, 2, 17, 0),
        utc(2026, 11, 3, 13, 0),
        None,
    ),
    (
        # Counting starts at 09:00: 8h to Tue 17:00; 12h = 8 Tue + 4 Wed.
        "standard before 09:00",
        Priority.STANDARD,
        local(2026, 11, 3, 7, 30),
        utc(2026, 11, 3, 17, 0),
        utc(2026, 11, 4, 13, 0),
        None,
    ),
    (
        # 17:00 is closed: counting starts Thu 09:00; resolve = Thu, Fri, Mon, Tue, Wed.
        "high at exactly 17:00",
        Priority.HIGH,
        local(2026, 11, 4, 17, 0),
        utc(2026, 11, 5, 14, 0),
        utc(2026, 11, 5, 17, 0),
        utc(2026, 11, 11, 17, 0),
    ),
    (
        # 1h Thursday, then Fri: ack 4h in (13:00), respond 7h in (16:00);
        # resolve 1 + 8 Fri + 8 Mon + 8 Tue + 8 Wed = 33, 7 more on Thu 12 -> 16:00.
        "high at 16:00 spills into next day",
        Priority.HIGH,
        local(2026, 11, 5, 16, 0),
        utc(2026, 11, 6, 13, 0),
        utc(2026, 11, 6, 16, 0),
        utc(2026, 11, 12, 16, 0),
    ),
    (
        # 2h Friday, weekend skipped: ack 6h into Monday, respond 2 + 8 Mon + 2 Tue.
        "standard Friday afternoon into Monday",
        Priority.STANDARD,
        local(2026, 11, 6, 15, 0),
        utc(2026, 11, 9, 15, 0),
        utc(2026, 11, 10, 11, 0),
        None,
    ),
    (
        "standard on Saturday starts Monday 09:00",
        Priority.STANDARD,
        local(2026, 11, 7, 11, 0),
        utc(2026, 11, 9, 17, 0),
        utc(2026, 11, 10, 13, 0),
        None,
    ),
    (
        "standard on Sunday evening starts Monday 09:00",
        Priority.STANDARD,
        local(2026, 11, 8, 22, 0),
        utc(2026, 11, 9, 17, 0),
        utc(2026, 11, 10, 13, 0),
        None,
    ),
    (
        # Fri 16:00 GMT: 1h Friday. Clocks go forward Sunday; Monday's core
        # hours are 09:00-17:00 BST = 08:00-16:00 UTC. Ack: 7h Monday -> 16:00 BST.
        # Respond: 1 + 8 Mon + 3 Tue -> 12:00 BST.
        "standard across spring clock change",
        Priority.STANDARD,
        local(2026, 3, 27, 16, 0),
        utc(2026, 3, 30, 15, 0),
        utc(2026, 3, 31, 11, 0),
        None,
    ),
    (
        # Fri 14:00 BST: 3h Friday. Clocks go back Sunday, Monday is GMT.
        # Ack 2h Mon -> 11:00 GMT; respond 5h Mon -> 14:00 GMT;
        # resolve 3 + 8 Mon..Thu (35) + 5 Fri 30 Oct -> 14:00 GMT.
        "high across autumn clock change",
        Priority.HIGH,
        local(2026, 10, 23, 14, 0),
        utc(2026, 10, 26, 11, 0),
        utc(2026, 10, 26, 14, 0),
        utc(2026, 10, 30, 14, 0),
    ),
    (
        # Sat 23:30 GMT; the clocks jump at 01:00 UTC, elapsed hours do not.
        "critical across spring clock change counts elapsed hours",
        Priority.CRITICAL,
        local(2026, 3, 28, 23, 30),
        utc(2026, 3, 29, 1, 30),
        utc(2026, 3, 29, 2, 30),
        utc(2026, 3, 29, 23, 30),  # 00:30 BST Monday: 25 wall-clock hours, 24 real
    ),
    (
        # 00:30 BST Sunday = 23:30 UTC Saturday.
        "critical across autumn clock change counts elapsed hours",
        Priority.CRITICAL,
        local(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 25, 2, 30),
        utc(2026, 10, 25, 23, 30),  # 23:30 GMT Sunday: 23 wall-clock hours, 24 real
    ),
    (
        "critical on Christmas Day runs at all hours",
        Priority.CRITICAL,
        local(2026, 12, 25, 10, 0),
        utc(2026, 12, 25, 12, 0),
        utc(2026, 12, 25, 13, 0),
        utc(2026, 12, 26, 10, 0),
    ),
    (
        # 2h Thu 24th; 25th Christmas, weekend, 28th Boxing Day substitute.
        # Ack 6h Tue 29th; respond 2 + 8 Tue + 2 Wed 30th.
        "standard before Christmas skips the Boxing Day substitute",
        Priority.STANDARD,
        local(2026, 12, 24, 15, 0),
        utc(2026, 12, 29, 15, 0),
        utc(2026, 12, 30, 11, 0),
        None,
    ),
    (
        # Reported on the substitute day itself: starts Tue 29th. Resolve:
        # Tue, Wed, Thu 31st, (Fri 1 Jan 2027 holiday), Mon 4th, Tue 5th.
        "high on the Boxing Day substitute, resolve into 2027",
        Priority.HIGH,
        local(2026, 12, 28, 10, 0),
        utc(2026, 12, 29, 14, 0),
        utc(2026, 12, 29, 17, 0),
        utc(2027, 1, 5, 17, 0),
    ),
    (
        # Thu 2 Apr 13:00 BST: 4h Thursday; Good Friday, weekend, Easter Monday.
        # Ack 1h Tue 7th -> 10:00 BST; respond 4h -> 13:00 BST;
        # resolve 4 + 8 Tue..Fri (36) + 4 Mon 13th -> 13:00 BST.
        "high before Easter skips Good Friday and Easter Monday",
        Priority.HIGH,
        local(2026, 4, 2, 13, 0),
        utc(2026, 4, 7, 9, 0),
        utc(2026, 4, 7, 12, 0),
        utc(2026, 4, 13, 12, 0),
    ),
    (
        "standard on Good Friday starts Tuesday after Easter",
        Priority.STANDARD,
        local(2026, 4, 3, 10, 0),
        utc(2026, 4, 7, 16, 0),
        utc(2026, 4, 8, 12, 0),
        None,
    ),
    (
        # Same instant as Mon 2 Nov 10:00 GMT, given in New York (EST).
        "reported_at in another zone",
        Priority.STANDARD,
        datetime(2026, 11, 2, 5, 0, tzinfo=ZoneInfo("America/New_York")),
        utc(2026, 11, 3, 10, 0),
        utc(2026, 11, 3, 14, 0),
        None,
    ),
]


@pytest.mark.parametrize(
    ("priority", "reported_at", "ack", "respond", "resolve"),
    [case[1:] for case in DEADLINE_CASES],
    ids=[case[0] for case in DEADLINE_CASES],
)
def test_deadlines(
    priority: Priority,
    reported_at: datetime,
    ack: datetime,
    respond: datetime,
    resolve: datetime | None,
) -> None:
    result = deadlines(priority, reported_at, CAL)
    assert result == Deadlines(acknowledge_by=ack, respond_by=respond, resolve_by=resolve)
    for value in (result.acknowledge_by, result.respond_by, result.resolve_by):
        assert value is None or value.utcoffset() == timedelta(0)


# ---- configured rules ([sla] in sip.conf) ---------------------------------------------

MON_TO_SAT = BusinessCalendar(days=frozenset(range(6)))


def rules_with(priority: Priority, rule: SlaRule) -> SlaRules:
    return {**DEFAULT_SLA_RULES, priority: rule}


def test_critical_respond_in_one_clock_hour() -> None:
    rules = rules_with(
        Priority.CRITICAL,
        SlaRule(Target(0.5, Clock.ELAPSED), Target(1, Clock.ELAPSED), Target(8, Clock.ELAPSED)),
    )
    # Christmas Day, a bank holiday, 10:00 GMT: the clock runs all the same.
    result = deadlines(Priority.CRITICAL, local(2026, 12, 25, 10, 0), CAL, rules)
    assert result == Deadlines(
        acknowledge_by=utc(2026, 12, 25, 10, 30),
        respond_by=utc(2026, 12, 25, 11, 0),
        resolve_by=utc(2026, 12, 25, 18, 0),
    )


def test_high_on_core_hours_with_a_monday_to_saturday_week() -> None:
    reported = local(2026, 11, 6, 15, 0)  # Friday 15:00 GMT: 2 core hours left that day
    # Monday to Friday: 2h Friday, then Monday; 40h = 2 + 8 x 4 (Mon-Thu) + 6 on Fri 13th.
    assert deadlines(Priority.HIGH, reported, CAL) == Deadlines(
        acknowledge_by=utc(2026, 11, 9, 12, 0),
        respond_by=utc(2026, 11, 9, 15, 0),
        resolve_by=utc(2026, 11, 13, 15, 0),
    )
    # Monday to Saturday: Saturday 7th counts; 40h = 2 + 8 (Sat) + 8 x 3 (Mon-Wed) + 6 on Thu.
    assert deadlines(Priority.HIGH, reported, MON_TO_SAT, DEFAULT_SLA_RULES) == Deadlines(
        acknowledge_by=utc(2026, 11, 7, 12, 0),
        respond_by=utc(2026, 11, 7, 15, 0),
        resolve_by=utc(2026, 11, 12, 15, 0),
    )


def test_configured_high_resolve_none_and_standard_resolve_in_core_hours() -> None:
    rules: SlaRules = {
        **DEFAULT_SLA_RULES,
        Priority.STANDARD: SlaRule(
            Target(8, Clock.CORE), Target(12, Clock.CORE), Target(16, Clock.CORE)
        ),
        Priority.HIGH: SlaRule(Target(5, Clock.CORE), Target(8, Clock.CORE), None),
    }
    reported = local(2026, 11, 2, 10, 0)  # Monday: 7h Monday, 8h Tuesday, 1h Wednesday
    assert deadlines(Priority.STANDARD, reported, CAL, rules).resolve_by == utc(2026, 11, 4, 10, 0)
    assert deadlines(Priority.HIGH, reported, CAL, rules).resolve_by is None


def test_a_target_may_count_clock_hours_for_a_core_priority() -> None:
    rules = rules_with(
        Priority.STANDARD, SlaRule(Target(8, Clock.ELAPSED), Target(12, Clock.CORE), None)
    )
    # Friday 16:00 GMT: 8 clock hours is midnight; 12 core hours = 1 + 8 (Mon) + 3: Tue 12:00.
    result = deadlines(Priority.STANDARD, local(2026, 11, 6, 16, 0), CAL, rules)
    assert result.acknowledge_by == utc(2026, 11, 7, 0, 0)
    assert result.respond_by == utc(2026, 11, 10, 12, 0)


def test_the_default_rules_are_the_published_sla() -> None:
    reported = local(2026, 11, 6, 16, 0)
    for priority in Priority:
        assert deadlines(priority, reported, CAL) == deadlines(
            priority, reported, CAL, DEFAULT_SLA_RULES
        )


@pytest.mark.parametrize("hours", [0, -1, float("nan"), float("inf"), 24 * 365 + 1])
def test_target_hours_must_be_positive_and_at_most_a_year(hours: float) -> None:
    with pytest.raises(ValueError, match="more than 0 and at most 8760"):
        Target(hours, Clock.CORE)


def test_a_later_stage_may_not_be_due_sooner_on_the_same_clock() -> None:
    with pytest.raises(ValueError, match=r"respond \(1 clock hours\) .* acknowledge \(2 clock"):
        SlaRule(Target(2, Clock.ELAPSED), Target(1, Clock.ELAPSED), None)
    with pytest.raises(ValueError, match=r"resolve \(7 core hours\) .* respond \(8 core"):
        SlaRule(Target(5, Clock.CORE), Target(8, Clock.CORE), Target(7, Clock.CORE))
    # Equal is fine, and different clocks are not compared.
    SlaRule(Target(2, Clock.CORE), Target(2, Clock.CORE), Target(1, Clock.ELAPSED))


# ---- is_open / next_opening ------------------------------------------------------

OPEN_CASES = [
    ("Monday 09:00 opens", local(2026, 11, 2, 9, 0), True),
    ("Monday 08:59:59", local(2026, 11, 2, 8, 59, 59), False),
    ("Monday 16:59", local(2026, 11, 2, 16, 59), True),
    ("Monday 17:00 is closed", local(2026, 11, 2, 17, 0), False),
    ("Saturday noon", local(2026, 11, 7, 12, 0), False),
    ("Sunday noon", local(2026, 11, 8, 12, 0), False),
    ("Christmas Day", local(2026, 12, 25, 12, 0), False),
    ("Boxing Day substitute Monday", local(2026, 12, 28, 12, 0), False),
    ("Tuesday after Christmas", local(2026, 12, 29, 12, 0), True),
    ("Good Friday", local(2026, 4, 3, 12, 0), False),
    ("Easter Monday", local(2026, 4, 6, 12, 0), False),
    ("BST Monday 08:30 UTC is 09:30 local", utc(2026, 3, 30, 8, 30), True),
    ("BST Monday 16:30 UTC is 17:30 local", utc(2026, 3, 30, 16, 30), False),
    ("GMT Monday 08:30 UTC is 08:30 local", utc(2026, 11, 2, 8, 30), False),
    (
        "New York 04:00 EST is 09:00 GMT",
        datetime(2026, 11, 2, 4, 0, tzinfo=ZoneInfo("America/New_York")),
        True,
    ),
]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [case[1:] for case in OPEN_CASES],
    ids=[case[0] for case in OPEN_CASES],
)
def test_is_open(instant: datetime, expected: bool) -> None:
    assert CAL.is_open(instant) is expected


NEXT_OPENING_CASES = [
    ("open: the same instant", utc(2026, 11, 2, 10, 15), local(2026, 11, 2, 10, 15)),
    ("before opening", local(2026, 11, 3, 7, 0), local(2026, 11, 3, 9, 0)),
    ("Friday 17:00 -> Monday", local(2026, 11, 6, 17, 0), local(2026, 11, 9, 9, 0)),
    ("Christmas Eve evening", local(2026, 12, 24, 17, 30), local(2026, 12, 29, 9, 0)),
    ("Thursday before Easter", local(2026, 4, 2, 18, 0), local(2026, 4, 7, 9, 0)),
    ("New Year's Eve evening", local(2026, 12, 31, 20, 0), local(2027, 1, 4, 9, 0)),
]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [case[1:] for case in NEXT_OPENING_CASES],
    ids=[case[0] for case in NEXT_OPENING_CASES],
)
def test_next_opening(instant: datetime, expected: datetime) -> None:
    result = CAL.next_opening(instant)
    assert result == expected
    assert result.tzinfo == LONDON


def test_next_opening_across_spring_change_is_local_nine() -> None:
    result = CAL.next_opening(local(2026, 3, 27, 17, 0))
    assert (result.date(), result.time()) == (date(2026, 3, 30), time(9, 0))
    assert result.utcoffset() == timedelta(hours=1)
    assert result == utc(2026, 3, 30, 8, 0)


# ---- core hours arithmetic ------------------------------------------------------


def test_add_core_hours_returns_utc() -> None:
    result = CAL.add_core_hours(local(2026, 6, 1, 10, 0), 1)
    assert result == utc(2026, 6, 1, 10, 0)  # 11:00 BST
    assert result.tzinfo is UTC


def test_add_zero_core_hours_outside_hours_is_next_opening() -> None:
    assert CAL.add_core_hours(local(2026, 11, 7, 12, 0), 0) == utc(2026, 11, 9, 9, 0)


def test_add_fractional_core_hours() -> None:
    assert CAL.add_core_hours(local(2026, 11, 2, 16, 30), 0.75) == utc(2026, 11, 3, 9, 15)


def test_add_negative_core_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_core_hours(local(2026, 11, 2, 10, 0), -1)


BETWEEN_CASES = [
    ("Friday 15:00 to Monday 11:00", local(2026, 11, 6, 15, 0), local(2026, 11, 9, 11, 0), 4.0),
    ("reversed is negative", local(2026, 11, 9, 11, 0), local(2026, 11, 6, 15, 0), -4.0),
    ("same instant", local(2026, 11, 2, 10, 0), local(2026, 11, 2, 10, 0), 0.0),
    ("within a weekend", local(2026, 11, 7, 9, 0), local(2026, 11, 8, 17, 0), 0.0),
    ("across spring change", local(2026, 3, 27, 16, 0), local(2026, 3, 30, 10, 0), 2.0),
    ("Christmas week", local(2026, 12, 24, 9, 0), local(2026, 12, 31, 17, 0), 32.0),
    ("Easter", local(2026, 4, 2, 0, 0), local(2026, 4, 8, 0, 0), 16.0),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [case[1:] for case in BETWEEN_CASES],
    ids=[case[0] for case in BETWEEN_CASES],
)
def test_core_hours_between(a: datetime, b: datetime, expected: float) -> None:
    assert CAL.core_hours_between(a, b) == pytest.approx(expected)


# ---- calendar configuration ------------------------------------------------------


def test_configured_hours_make_the_calendar() -> None:
    cal = HoursConfig(open=time(8, 0), close=time(18, 0)).calendar(LONDON)
    assert cal.is_open(local(2026, 11, 2, 8, 0))
    assert cal.is_open(local(2026, 11, 2, 17, 30))
    assert not cal.is_open(local(2026, 11, 2, 18, 0))


def test_working_days_are_configurable() -> None:
    # Sunday to Thursday: Friday and Saturday are closed.
    cal = HoursConfig(days=frozenset({6, 0, 1, 2, 3})).calendar(LONDON)
    assert cal.is_open(local(2026, 11, 8, 12, 0))  # Sunday
    assert not cal.is_open(local(2026, 11, 6, 12, 0))  # Friday
    assert cal.next_opening(local(2026, 11, 5, 17, 0)) == local(2026, 11, 8, 9, 0)
    # Bank holidays stay closed whatever the week: Christmas Day 2026 is a Friday,
    # Boxing Day substituted on Monday 28th.
    every_day = BusinessCalendar(days=frozenset(range(7)))
    assert every_day.is_open(local(2026, 12, 27, 12, 0))  # Sunday
    assert not every_day.is_open(local(2026, 12, 28, 12, 0))


@pytest.mark.parametrize("days", [frozenset(), frozenset({7}), frozenset({-1, 0})])
def test_working_days_must_be_weekday_numbers(days: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="days must be a non-empty set of weekday numbers"):
        BusinessCalendar(days=days)


def test_country_only_region_has_no_english_subdivision_days() -> None:
    # 17 March (St Patrick's Day) is a bank holiday in Northern Ireland only.
    ni = BusinessCalendar(holiday_region="GB-NIR")
    assert not ni.is_open(local(2026, 3, 17, 12, 0))
    assert CAL.is_open(local(2026, 3, 17, 12, 0))
    assert BusinessCalendar(holiday_region="GB").is_business_day(date(2026, 11, 2))


def test_close_before_open_is_refused() -> None:
    with pytest.raises(ValueError, match="after open"):
        BusinessCalendar(open=time(17, 0), close=time(9, 0))


@pytest.mark.parametrize("region", ["", "GB_ENG", "G", "GB-ENG-X"])
def test_malformed_region_is_refused(region: str) -> None:
    with pytest.raises(ValueError, match="COUNTRY"):
        BusinessCalendar(holiday_region=region)


def test_unknown_region_is_refused_on_use() -> None:
    cal = BusinessCalendar(holiday_region="ZZ")
    with pytest.raises(ValueError, match="unknown holiday region 'ZZ'"):
        cal.is_open(local(2026, 11, 2, 10, 0))


# ---- naive datetimes -------------------------------------------------------------

NAIVE = datetime(2026, 11, 2, 10, 0)
AWARE = local(2026, 11, 2, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: CAL.is_open(NAIVE),
        lambda: CAL.next_opening(NAIVE),
        lambda: CAL.add_core_hours(NAIVE, 1),
        lambda: CAL.core_hours_between(NAIVE, AWARE),
        lambda: CAL.core_hours_between(AWARE, NAIVE),
        lambda: deadlines(Priority.CRITICAL, NAIVE, CAL),
        lambda: describe_remaining(NAIVE, AWARE),
        lambda: describe_remaining(AWARE, NAIVE),
    ],
    ids=[
        "is_open",
        "next_opening",
        "add_core_hours",
        "between-a",
        "between-b",
        "deadlines",
        "remaining-deadline",
        "remaining-now",
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


# ---- describe_remaining -----------------------------------------

DEADLINE = utc(2026, 11, 6, 13, 0)
REMAINING_CASES = [
    ("2h 15m left", DEADLINE - timedelta(hours=2, minutes=15), "2h 15m left"),
    ("seconds round down when left", DEADLINE - timedelta(minutes=5, seconds=59), "0h 05m left"),
    ("exactly due is not overdue", DEADLINE, "0h 00m left"),
    ("overdue by 1h 03m", DEADLINE + timedelta(hours=1, minutes=3), "overdue by 1h 03m"),
    ("seconds late round up", DEADLINE + timedelta(seconds=1), "overdue by 0h 01m"),
    ("long waits in hours", DEADLINE - timedelta(days=2, hours=1), "49h 00m left"),
    ("other zone", datetime(2026, 11, 6, 12, 30, tzinfo=LONDON), "0h 30m left"),
]


@pytest.mark.parametrize(
    ("now", "expected"),
    [case[1:] for case in REMAINING_CASES],
    ids=[case[0] for case in REMAINING_CASES],
)
def test_describe_remaining(now: datetime, expected: str) -> None:
    assert describe_remaining(DEADLINE, now) == expected
