"""Pure arithmetic behind the dashboard and the charts: days, months, countdowns.

Every function takes `now` and the time zone; none reads the clock or the
database, so the pages and their tests agree on what "today" means across
a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.faults.clock import FaultTimes, next_owed
from ivr.sla import describe_remaining


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant (UTC) a local day starts; 23 or 25 hours apart across a clock change."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(now: datetime, tz: ZoneInfo, days: int) -> list[tuple[date, datetime, datetime]]:
    """The last `days` local days ending with today: (day, start, end) in UTC, oldest first."""
    today = now.astimezone(tz).date()
    out = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        out.append((day, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)))
    return out


def month_starts(now: datetime, tz: ZoneInfo, months: int) -> list[date]:
    """The first day of each of the last `months` local months, oldest first."""
    local = now.astimezone(tz).date().replace(day=1)
    firsts = []
    year, month = local.year, local.month
    for _ in range(months):
        firsts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return firsts[::-1]


@dataclass(frozen=True)
class Countdown:
    stage: str  # acknowledge, respond, resolve
    due: datetime
    text: str  # "2h 15m left" / "overdue by 0h 05m"
    overdue: bool
    urgent: bool  # less than an hour left


def countdown(times: FaultTimes, now: datetime) -> Countdown | None:
    """The next deadline the fault still owes, and how long is left, for the dashboard."""
    owed = next_owed(times, now)
    if owed is None:
        return None
    due = owed.due
    return Countdown(
        stage=owed.stage.value,
        due=due,
        text=describe_remaining(due, now),
        overdue=due < now,
        urgent=now <= due < now + timedelta(hours=1),
    )
