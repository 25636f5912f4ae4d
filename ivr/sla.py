"""The SLA clock: the business calendar and the deadlines a fault must meet.

Pure on purpose: every function takes the instants it needs and never reads
the clock or the database, so the paging scheduler, the admin CLI and the
tests all get identical answers for the same inputs, and a test can step
across a weekend, a bank holiday or a clock change without waiting.

Instants go in timezone-aware (naive ones are refused, because a naive
"16:00" is ambiguous twice a year in the UK) and deadlines come out in UTC,
which is what the database stores and what compares safely.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ivr.domain import Priority

if TYPE_CHECKING:
    import holidays

# A calendar with no working day for this long is misconfigured; stop rather
# than loop for ever looking for the next opening.
_MAX_CLOSED_DAYS = 3660

# Working days as date.weekday() numbers: Monday is 0, Sunday 6.
ALL_DAYS = frozenset(range(7))
MONDAY_TO_FRIDAY = frozenset(range(5))

_REGION = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z0-9]+))?$")


def _require_aware(value: datetime, name: str) -> datetime:
    """Refuse naive datetimes: guessing their zone would move deadlines by an hour."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got naive {value.isoformat()}; "
            "attach a tzinfo (e.g. datetime.UTC or ZoneInfo('Europe/London'))"
        )
    return value


@dataclass(frozen=True)
class BusinessCalendar:
    """Core hours: open to close local time on working days, bank holidays excepted.

    `days` are the working days as `date.weekday()` numbers (Monday is 0);
    Monday to Friday unless sip.conf's `[hours] days` says otherwise.

    `holiday_region` is "COUNTRY" or "COUNTRY-SUBDIV" as the `holidays`
    package names them ("GB-ENG" is England and Wales' bank holidays,
    substitute days included). The holiday table is built on first use and
    fills in years as they are asked for, so a calendar is cheap to create.
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    open: time = time(9, 0)
    close: time = time(17, 0)
    holiday_region: str = "GB-ENG"
    days: frozenset[int] = MONDAY_TO_FRIDAY

    def __post_init__(self) -> None:
        if not self.days or not self.days <= ALL_DAYS:
            raise ValueError(
                f"days must be a non-empty set of weekday numbers 0-6, got {sorted(self.days)}"
            )
        if self.open.tzinfo is not None or self.close.tzinfo is not None:
            raise ValueError("open and close are local wall-clock times; give them without tzinfo")
        if self.close <= self.open:
            raise ValueError(f"close ({self.close}) must be after open ({self.open})")
        if not _REGION.match(self.holiday_region):
            raise ValueError(
                f"holiday_region must be COUNTRY or COUNTRY-SUBDIV (e.g. 'GB-ENG'), "
                f"got {self.holiday_region!r}"
            )

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # cached_property writes the instance __dict__ directly, so this
        # works on a frozen dataclass and stays out of eq/hash.
        match = _REGION.match(self.holiday_region)
        assert match is not None  # checked in __post_init__
        country, subdiv = match.group(1).upper(), match.group(2)
        # Imported here, with the table: importing holidays loads every
        # country it knows, which a CLI command that never asks would pay for.
        import holidays

        try:
            return holidays.country_holidays(country, subdiv=subdiv.upper() if subdiv else None)
        except NotImplementedError as exc:
            raise ValueError(f"unknown holiday region {self.holiday_region!r}: {exc}") from None

    def load(self, today: date) -> None:
        """Build the holiday table for this year and next now, before any call asks.

        Importing the holidays package and working out a year takes about a
        third of a second, which the first caller after a start (and every
        call waiting on the event loop meanwhile) would otherwise wait for.
        """
        self.is_business_day(today)
        self.is_business_day(date(today.year + 1, 1, 1))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self._holidays

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's core hours as UTC instants, so that durations are real elapsed time."""
        if not self.is_business_day(day):
            return None
        start = datetime.combine(day, self.open, tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(day, self.close, tzinfo=self.tz).astimezone(UTC)
        return start, end

    def _windows_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Core windows in order, starting with the local day that holds `instant`."""
        day = instant.astimezone(self.tz).date()
        closed = 0
        while True:
            window = self._window(day)
            if window is None:
                closed += 1
                if closed > _MAX_CLOSED_DAYS:
                    raise ValueError(
                        f"no business day within {_MAX_CLOSED_DAYS} days of {day}; "
                        "check the calendar"
                    )
            else:
                closed = 0
                yield window
            day += timedelta(days=1)

    def is_open(self, instant: datetime) -> bool:
        """Open from `open` inclusive to `close` exclusive: a call at 17:00 is after hours."""
        moment = _require_aware(instant, "instant").astimezone(UTC)
        window = self._window(moment.astimezone(self.tz).date())
        return window is not None and window[0] <= moment < window[1]

    def next_opening(self, instant: datetime) -> datetime:
        """When core time next runs, in local time for reading aloud; now if already open."""
        moment = _require_aware(instant, "instant").astimezone(UTC)
        for start, end in self._windows_from(moment):
            if moment < end:
                return max(start, moment).astimezone(self.tz)
        raise AssertionError("unreachable: _windows_from never ends")  # pragma: no cover

    def add_core_hours(self, start: datetime, hours: float) -> datetime:
        """Spend `hours` of core time from `start`; time outside core hours does not count.

        A deadline that uses up a day's core time exactly lands on that day's
        close, not on the next opening, because "by 17:00" is the honest reading.
        """
        moment = _require_aware(start, "start").astimezone(UTC)
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        remaining = timedelta(hours=hours)
        for window_start, window_end in self._windows_from(moment):
            if moment >= window_end:
                continue
            begin = max(window_start, moment)
            available = window_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _windows_from never ends")  # pragma: no cover

    def core_hours_between(self, a: datetime, b: datetime) -> float:
        """Core hours from `a` to `b`; negative when `b` is before `a`, like subtraction."""
        first = _require_aware(a, "a").astimezone(UTC)
        second = _require_aware(b, "b").astimezone(UTC)
        if second < first:
            return -self.core_hours_between(second, first)
        total = timedelta(0)
        for window_start, window_end in self._windows_from(first):
            if window_start >= second:
                break
            overlap = min(window_end, second) - max(window_start, first)
            if overlap > timedelta(0):
                total += overlap
        return total / timedelta(hours=1)


# ---- the SLA as data ----------------------------------------------------------


class Clock(enum.Enum):
    """Which hours a target counts.

    CORE counts business hours only (standard and high priority); ELAPSED
    counts every real hour, nights, weekends and holidays included, because
    critical faults are worked after hours.
    """

    # The values are the words sip.conf's [sla] uses: "ack 2 clock" is two
    # hours on the clock.
    CORE = "core"
    ELAPSED = "clock"


# A target longer than a year is a typo (and would take long to count out).
MAX_TARGET_HOURS = 24 * 365


@dataclass(frozen=True)
class Target:
    hours: float
    clock: Clock

    def __post_init__(self) -> None:
        if not 0 < self.hours <= MAX_TARGET_HOURS:  # also refuses NaN
            raise ValueError(
                f"hours must be more than 0 and at most {MAX_TARGET_HOURS}, got {self.hours}"
            )


@dataclass(frozen=True)
class SlaRule:
    acknowledge: Target
    respond: Target
    resolve: Target | None  # None: "issue dependent", no committed resolution time

    def __post_init__(self) -> None:
        # A later stage implies the earlier ones (see ivr.faults.clock), so a
        # later stage due sooner than an earlier one on the same clock is a
        # mistake. Targets on different clocks compare differently at
        # different instants, so they are not checked.
        stages = [("acknowledge", self.acknowledge), ("respond", self.respond)]
        if self.resolve is not None:
            stages.append(("resolve", self.resolve))
        for (first, a), (second, b) in pairwise(stages):
            if a.clock is b.clock and b.hours < a.hours:
                raise ValueError(
                    f"{second} ({b.hours:g} {b.clock.value} hours) must not be due sooner "
                    f"than {first} ({a.hours:g} {a.clock.value} hours)"
                )


# The rules in force, one per priority; sip.conf's [sla] section
# (ivr.config.Config.sla) builds them, and these are its defaults.
SlaRules = Mapping[Priority, SlaRule]

DEFAULT_SLA_RULES: SlaRules = MappingProxyType(
    {
        # The published table says "within 8 hours" / "12 hours"; standard
        # issues are not worked after hours, so these are core hours.
        Priority.STANDARD: SlaRule(
            acknowledge=Target(8, Clock.CORE),
            respond=Target(12, Clock.CORE),
            resolve=None,
        ),
        # "5 days" is five business days of core time.
        Priority.HIGH: SlaRule(
            acknowledge=Target(5, Clock.CORE),
            respond=Target(8, Clock.CORE),
            resolve=Target(40, Clock.CORE),
        ),
        Priority.CRITICAL: SlaRule(
            acknowledge=Target(2, Clock.ELAPSED),
            respond=Target(3, Clock.ELAPSED),
            resolve=Target(24, Clock.ELAPSED),
        ),
    }
)


@dataclass(frozen=True)
class Deadlines:
    acknowledge_by: datetime
    respond_by: datetime
    resolve_by: datetime | None


def _deadline(target: Target, reported_at: datetime, calendar: BusinessCalendar) -> datetime:
    if target.clock is Clock.ELAPSED:
        # UTC arithmetic: 24 hours across a clock change is 24 real hours,
        # which local wall-clock arithmetic would get wrong by one.
        return reported_at.astimezone(UTC) + timedelta(hours=target.hours)
    return calendar.add_core_hours(reported_at, target.hours)


def deadlines(
    priority: Priority,
    reported_at: datetime,
    calendar: BusinessCalendar,
    rules: SlaRules = DEFAULT_SLA_RULES,
) -> Deadlines:
    """The fixed deadlines a fault reported at `reported_at` must meet, all in UTC.

    `rules` are the targets in force (sip.conf's [sla], `Config.sla`); the
    default is the published SLA.
    """
    _require_aware(reported_at, "reported_at")
    rule = rules[priority]
    return Deadlines(
        acknowledge_by=_deadline(rule.acknowledge, reported_at, calendar),
        respond_by=_deadline(rule.respond, reported_at, calendar),
        resolve_by=None if rule.resolve is None else _deadline(rule.resolve, reported_at, calendar),
    )


def describe_remaining(deadline: datetime, now: datetime) -> str:
    """Time to a deadline for an operator to read, e.g. "2h 15m left" or "overdue by 1h 03m".

    Time left is rounded down and lateness rounded up, so the text never
    promises more time than there is, nor says "overdue by 0h 00m".
    """
    delta = _require_aware(deadline, "deadline") - _require_aware(now, "now")
    if delta >= timedelta(0):
        minutes = int(delta // timedelta(minutes=1))
        return f"{minutes // 60}h {minutes % 60:02d}m left"
    late = -delta
    minutes = -int(-late // timedelta(minutes=1))  # ceiling
    return f"overdue by {minutes // 60}h {minutes % 60:02d}m"
