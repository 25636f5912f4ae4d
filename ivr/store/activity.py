"""How busy the line has been: calls per day and outcome, and the faults of recent months.

The day and month boundaries come in already computed (the web's
`reports` module knows the local calendar); this module only counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ivr.store.models import CallRecord, Fault


def calls_by_day(
    session: Session, bounds: Sequence[tuple[datetime, datetime]]
) -> dict[tuple[int, str], int]:
    """Calls per (start, end) span and outcome, in one indexed query: {(span index, outcome): n}.

    Spans are bucketed with a CASE over their ends, which works the same on
    SQLite and PostgreSQL and is right across clock changes (a local day
    may be 23 or 25 hours long).
    """
    bucket = case(
        *[(CallRecord.started_at < end, index) for index, (_start, end) in enumerate(bounds)],
        else_=-1,
    ).label("day")
    rows = session.execute(
        select(bucket, CallRecord.outcome, func.count())
        .where(CallRecord.started_at >= bounds[0][0], CallRecord.started_at < bounds[-1][1])
        .group_by(bucket, CallRecord.outcome)
    ).all()
    return {(int(day), outcome): int(n) for day, outcome, n in rows if day >= 0}


def calls_since(session: Session, start: datetime, now: datetime) -> dict[str, int]:
    """Calls from `start` up to `now`, by outcome."""
    rows = session.execute(
        select(CallRecord.outcome, func.count())
        .where(CallRecord.started_at >= start, CallRecord.started_at <= now)
        .group_by(CallRecord.outcome)
    ).all()
    return {outcome: int(n) for outcome, n in rows}


def faults_reported_since(session: Session, start: datetime) -> list[Fault]:
    return list(session.scalars(select(Fault).where(Fault.reported_at >= start)))
