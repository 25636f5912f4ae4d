"""The lease protocol for rows that exactly one worker of many must act on.

Pages (the schedulers of every node) and outbox e-mails (the senders of
every node) are taken the same way: candidates are chosen, then each is
leased with a conditional UPDATE that only one worker can win, on SQLite as
on PostgreSQL (where SKIP LOCKED also keeps workers from queueing behind
each other). A worker that dies loses its leases when they run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.orm import Session

from ivr.store.models import OutboxMessage, Page

Leased = type[Page] | type[OutboxMessage]


def lease_free(model: Leased, now: datetime) -> ColumnElement[bool]:
    """Nobody holds the row, or their lease has run out."""
    return or_(model.lease_until.is_(None), model.lease_until <= now)


def take_leases(
    session: Session,
    model: Leased,
    *,
    waiting: ColumnElement[bool],
    due: ColumnElement[bool],
    order_by: Sequence[Any],
    now: datetime,
    owner: str,
    lease_seconds: float,
    limit: int,
) -> list[int]:
    """Lease up to `limit` rows that are `waiting` and `due`; the ids this worker won.

    `waiting` is checked again as the lease is taken (a row done meanwhile is
    not taken); `due` only when choosing.
    """
    free = lease_free(model, now)
    candidates = select(model.id).where(waiting, due, free).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    until = now + timedelta(seconds=lease_seconds)
    won: list[int] = []
    for row_id in list(session.scalars(candidates)):
        result = cast(
            "CursorResult[Any]",
            session.execute(
                update(model)
                .where(model.id == row_id, waiting, free)
                .values(lease_owner=owner, lease_until=until)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            won.append(row_id)
    return won
