"""What /healthz and /metrics read from the database: a ping and a handful of GROUP BYs.

The counts come back as plain data; the web's `metrics` module turns them
into the Prometheus text format without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ivr.store.customers import count_lockouts
from ivr.store.models import CallRecord, Fault, OutboxMessage, Page, PageAttempt


def ping(session: Session) -> None:
    """Raises whatever the driver raises when the database cannot answer."""
    session.execute(text("SELECT 1"))


@dataclass(frozen=True)
class Counts:
    calls_by_outcome: dict[str, int]
    faults_by_priority_status: list[tuple[str, str, int]]
    attempts_by_result: dict[str, int]  # finished page attempts only
    pages_by_status: dict[str, int]
    # (priority, reported_at, acknowledged_at) of every acknowledged fault
    acknowledged: list[tuple[str, datetime, datetime]]
    pin_lockouts: int = 0  # times an account was locked after too many wrong PINs
    emails_by_status: dict[str, int] | None = None  # the outbox: pending, sent, failed


def read_counts(session: Session) -> Counts:
    by_outcome = dict(
        session.execute(select(CallRecord.outcome, func.count()).group_by(CallRecord.outcome)).all()
    )
    faults = session.execute(
        select(Fault.priority, Fault.status, func.count()).group_by(Fault.priority, Fault.status)
    ).all()
    attempts = dict(
        session.execute(
            select(PageAttempt.result, func.count())
            .where(PageAttempt.result.is_not(None))
            .group_by(PageAttempt.result)
        ).all()
    )
    pages = dict(session.execute(select(Page.status, func.count()).group_by(Page.status)).all())
    emails = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    acknowledged = [
        (priority, reported_at, acknowledged_at)
        for priority, reported_at, acknowledged_at in session.execute(
            select(Fault.priority, Fault.reported_at, Fault.acknowledged_at).where(
                Fault.acknowledged_at.is_not(None)
            )
        )
        if acknowledged_at is not None
    ]
    return Counts(
        calls_by_outcome={str(k): int(v) for k, v in by_outcome.items()},
        faults_by_priority_status=[(str(p), str(s), int(n)) for p, s, n in faults],
        attempts_by_result={str(k): int(v) for k, v in attempts.items()},
        pages_by_status={str(k): int(v) for k, v in pages.items()},
        acknowledged=acknowledged,
        pin_lockouts=count_lockouts(session),
        emails_by_status={str(k): int(v) for k, v in emails.items()},
    )
