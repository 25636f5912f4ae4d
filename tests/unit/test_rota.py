"""The rota and overrides, with time set by hand (2026: BST from 29 Mar to 25 Oct)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.paging.rota import (
    Override,
    Rota,
    escalation_chain,
    first_handover,
    on_call,
    on_call_until,
    parse_weekday,
    slot_at,
)

LONDON = ZoneInfo("Europe/London")
MON = 0
SUN = 6


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def weekly(*names: str) -> Rota:
    """Mondays 09:00 London from Mon 5 Jan 2026 (GMT): A, B, C, A, ..."""
    return Rota(names or ("A", "B", "C"), utc(2026, 1, 5, 9, 0), time(9, 0), MON, tz=LONDON)


def cover(name: str, start: datetime, end: datetime, created: datetime | None = None) -> Override:
    return Override(name, start, end, created or utc(2026, 1, 1))


# ---- the rota alone -------------------------------------------------------------


def test_nobody_before_the_first_handover() -> None:
    rota = weekly()
    assert on_call(rota, [], utc(2026, 1, 5, 8, 59, 59)) is None
    assert on_call(rota, [], utc(2026, 1, 5, 9, 0)) == "A"


def test_handover_boundary_is_exact() -> None:
    rota = weekly()
    assert on_call(rota, [], utc(2026, 1, 12, 8, 59, 59)) == "A"
    assert on_call(rota, [], utc(2026, 1, 12, 9, 0)) == "B"
    assert on_call(rota, [], utc(2026, 1, 19, 9, 0)) == "C"
    assert on_call(rota, [], utc(2026, 1, 26, 9, 0)) == "A"


def test_handover_follows_wall_clock_into_summer_time() -> None:
    # Mon 30 Mar 2026 09:00 BST is 08:00 UTC; 12 weeks after the start: A again.
    rota = weekly()
    assert on_call(rota, [], utc(2026, 3, 30, 7, 59)) == "C"
    assert on_call(rota, [], utc(2026, 3, 30, 8, 0)) == "A"
    slot = slot_at(rota, utc(2026, 3, 30, 8, 30))
    assert slot is not None
    assert slot.starts_at == utc(2026, 3, 30, 8, 0)
    # The week with the change in it is an hour short.
    week = slot_at(rota, utc(2026, 3, 29, 12))
    assert week is not None
    assert week.ends_at - week.starts_at == timedelta(days=7, hours=-1)


def test_handover_follows_wall_clock_back_to_greenwich_time() -> None:
    # Mon 26 Oct 2026 09:00 GMT is 09:00 UTC; 42 weeks after the start: A.
    rota = weekly()
    assert on_call(rota, [], utc(2026, 10, 26, 8, 30)) == "C"
    assert on_call(rota, [], utc(2026, 10, 26, 9, 0)) == "A"
    assert on_call(rota, [], utc(2026, 10, 19, 8, 0)) == "C"  # 09:00 BST the week before


def test_handover_in_the_skipped_hour_happens_just_after_the_gap() -> None:
    # Sundays 01:30; on 29 Mar 2026 01:30 does not exist: the handover is at 02:30 BST.
    rota = Rota(("A", "B"), utc(2026, 3, 22, 1, 30), time(1, 30), SUN, tz=LONDON)
    assert rota.handover_at(1) == utc(2026, 3, 29, 1, 30)
    assert on_call(rota, [], utc(2026, 3, 29, 1, 29)) == "A"
    assert on_call(rota, [], utc(2026, 3, 29, 1, 30)) == "B"


def test_handover_in_the_repeated_hour_happens_the_first_time() -> None:
    # 25 Oct 2026 01:30 happens twice; the first (BST) is 00:30 UTC.
    rota = Rota(("A", "B"), utc(2026, 10, 18, 0, 30), time(1, 30), SUN, tz=LONDON)
    assert rota.handover_at(1) == utc(2026, 10, 25, 0, 30)
    assert on_call(rota, [], utc(2026, 10, 25, 0, 29)) == "A"
    assert on_call(rota, [], utc(2026, 10, 25, 1, 15)) == "B"
    # Asked in local time, the two 01:15s are told apart by fold.
    assert on_call(rota, [], datetime(2026, 10, 25, 1, 15, tzinfo=LONDON, fold=0)) == "A"
    assert on_call(rota, [], datetime(2026, 10, 25, 1, 15, tzinfo=LONDON, fold=1)) == "B"


def test_fortnightly_period() -> None:
    rota = Rota(("A", "B"), utc(2026, 1, 5, 9), time(9, 0), MON, period_days=14, tz=LONDON)
    assert on_call(rota, [], utc(2026, 1, 12, 9)) == "A"
    assert on_call(rota, [], utc(2026, 1, 19, 9)) == "B"


def test_start_must_be_a_handover() -> None:
    with pytest.raises(ValueError, match="not a handover"):
        Rota(("A",), utc(2026, 1, 6, 9), time(9, 0), MON, tz=LONDON)  # a Tuesday
    with pytest.raises(ValueError, match="not a handover"):
        Rota(("A",), utc(2026, 1, 5, 10), time(9, 0), MON, tz=LONDON)
    with pytest.raises(ValueError, match="timezone-aware"):
        Rota(("A",), datetime(2026, 1, 5, 9), time(9, 0), MON, tz=LONDON)
    with pytest.raises(ValueError, match="at least one"):
        Rota((), utc(2026, 1, 5, 9), time(9, 0), MON, tz=LONDON)


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call(weekly(), [], datetime(2026, 1, 7, 12))


def test_first_handover_at_or_after() -> None:
    # From Wed 7 Jan: the next Monday. From Mon 09:00 exactly: that instant.
    assert first_handover(utc(2026, 1, 7), time(9), MON, LONDON) == utc(2026, 1, 12, 9)
    assert first_handover(utc(2026, 1, 5, 9), time(9), MON, LONDON) == utc(2026, 1, 5, 9)
    assert first_handover(utc(2026, 1, 5, 9, 1), time(9), MON, LONDON) == utc(2026, 1, 12, 9)
    # In summer the same wall-clock time is an hour earlier in UTC.
    assert first_handover(utc(2026, 6, 1), time(9), MON, LONDON) == utc(2026, 6, 1, 8)


def test_parse_weekday() -> None:
    assert parse_weekday("mon") == 0
    assert parse_weekday("Sunday") == 6
    with pytest.raises(ValueError):
        parse_weekday("funday")


# ---- overrides --------------------------------------------------------------------


def test_override_wins_inside_its_span_only() -> None:
    rota = weekly()
    holiday = [cover("D", utc(2026, 1, 6, 9), utc(2026, 1, 8, 9))]
    assert on_call(rota, holiday, utc(2026, 1, 6, 8, 59)) == "A"
    assert on_call(rota, holiday, utc(2026, 1, 6, 9)) == "D"
    assert on_call(rota, holiday, utc(2026, 1, 8, 8, 59)) == "D"
    assert on_call(rota, holiday, utc(2026, 1, 8, 9)) == "A"


def test_latest_created_override_wins_whatever_the_order() -> None:
    rota = weekly()
    week = cover("D", utc(2026, 1, 5, 9), utc(2026, 1, 12, 9), created=utc(2026, 1, 1))
    swap = cover("E", utc(2026, 1, 7), utc(2026, 1, 8), created=utc(2026, 1, 3))
    for overrides in ([week, swap], [swap, week]):
        assert on_call(rota, overrides, utc(2026, 1, 7, 12)) == "E"
        assert on_call(rota, overrides, utc(2026, 1, 9, 12)) == "D"


def test_equal_creation_times_later_in_the_list_wins() -> None:
    first = cover("D", utc(2026, 1, 6), utc(2026, 1, 9))
    second = cover("E", utc(2026, 1, 6), utc(2026, 1, 9))
    assert on_call(weekly(), [first, second], utc(2026, 1, 7)) == "E"


def test_override_needs_a_positive_span() -> None:
    with pytest.raises(ValueError, match="end after"):
        cover("D", utc(2026, 1, 6), utc(2026, 1, 6))


def test_override_without_a_rota_or_before_it_starts() -> None:
    span = [cover("D", utc(2026, 1, 1), utc(2026, 1, 2))]
    assert on_call(None, span, utc(2026, 1, 1, 12)) == "D"
    assert on_call(weekly(), span, utc(2026, 1, 1, 12)) == "D"
    assert on_call(None, span, utc(2026, 1, 3)) is None


# ---- the escalation chain -------------------------------------------------------------


def test_chain_is_current_then_the_rota_onwards() -> None:
    rota = weekly()
    assert escalation_chain(rota, [], utc(2026, 1, 12, 10)) == ["B", "C", "A"]
    assert escalation_chain(rota, [], utc(2026, 1, 19, 10)) == ["C", "A", "B"]


def test_chain_with_an_outside_override_puts_the_displaced_engineer_last() -> None:
    span = [cover("D", utc(2026, 1, 12, 9), utc(2026, 1, 19, 9))]
    assert escalation_chain(weekly(), span, utc(2026, 1, 14)) == ["D", "C", "A", "B"]


def test_chain_never_repeats_a_name() -> None:
    span = [cover("C", utc(2026, 1, 12, 9), utc(2026, 1, 19, 9))]
    assert escalation_chain(weekly(), span, utc(2026, 1, 14)) == ["C", "A", "B"]
    rota = Rota(("A", "B", "A", "C"), utc(2026, 1, 5, 9), time(9), MON, tz=LONDON)
    assert escalation_chain(rota, [], utc(2026, 1, 6)) == ["A", "B", "C"]


def test_chain_is_empty_when_nobody_is_on_call() -> None:
    assert escalation_chain(weekly(), [], utc(2026, 1, 1)) == []
    assert escalation_chain(None, [], utc(2026, 1, 1)) == []


# ---- until when ---------------------------------------------------------------------


def test_on_call_until_next_handover_or_override_edge() -> None:
    rota = weekly()
    assert on_call_until(rota, [], utc(2026, 1, 6)) == utc(2026, 1, 12, 9)
    span = [cover("D", utc(2026, 1, 7), utc(2026, 1, 8))]
    assert on_call_until(rota, span, utc(2026, 1, 6)) == utc(2026, 1, 7)
    assert on_call_until(rota, span, utc(2026, 1, 7, 12)) == utc(2026, 1, 8)
    assert on_call_until(rota, [], utc(2026, 1, 1)) == utc(2026, 1, 5, 9)


def test_on_call_until_skips_edges_that_change_nothing() -> None:
    rota = weekly("A")
    assert on_call_until(rota, [], utc(2026, 1, 6)) is None
    same = [cover("A", utc(2026, 1, 7), utc(2026, 1, 8))]
    assert on_call_until(rota, same, utc(2026, 1, 6)) is None
