"""Pure arithmetic behind the dashboard and the charts: days, months, SLA verdicts.

Every function takes `now` and the time zone; none reads the clock or the
database, so the pages and their tests agree on what "today" means across
a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.sla import Deadlines, describe_remaining, next_deadline

MET = "met"
MISSED = "missed"


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
class FaultTimes:
    """What a verdict needs from a fault, so this module never sees the ORM."""

    acknowledge_by: datetime | None
    respond_by: datetime | None
    resolve_by: datetime | None
    acknowledged_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None


def _first(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def sla_verdict(times: FaultTimes, now: datetime) -> str | None:
    """MET, MISSED, or None while a deadline is still ahead and unmet.

    A stage is done at the earliest of itself and the stages after it (a fix
    is also a response). Missed as soon as any stage is late, done or not;
    met once every stage with a deadline was done in time.
    """
    acknowledged = _first(times.acknowledged_at, times.responded_at, times.resolved_at)
    responded = _first(times.responded_at, times.resolved_at)
    stages = [
        (times.acknowledge_by, acknowledged),
        (times.respond_by, responded),
        (times.resolve_by, times.resolved_at),
    ]
    pending = False
    for due, done in stages:
        if due is None:
            continue
        if (done is not None and done > due) or (done is None and now > due):
            return MISSED
        if done is None:
            pending = True
    if pending:
        return None
    if all(due is None for due, _ in stages):
        return None
    return MET


@dataclass(frozen=True)
class Countdown:
    stage: str  # acknowledge, respond, resolve
    due: datetime
    text: str  # "2h 15m left" / "overdue by 0h 05m"
    overdue: bool
    urgent: bool  # less than an hour left


def countdown(times: FaultTimes, now: datetime) -> Countdown | None:
    """The next deadline the fault still owes, and how long is left, for the dashboard."""
    if times.acknowledge_by is None or times.respond_by is None:
        return None
    owed = next_deadline(
        Deadlines(times.acknowledge_by, times.respond_by, times.resolve_by),
        acknowledged_at=times.acknowledged_at,
        responded_at=times.responded_at,
        resolved_at=times.resolved_at,
    )
    if owed is None:
        return None
    stage, due = owed
    return Countdown(
        stage=stage,
        due=due,
        text=describe_remaining(due, now),
        overdue=due < now,
        urgent=now <= due < now + timedelta(hours=1),
    )
