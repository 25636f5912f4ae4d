"""Outages: scheduled maintenance or a known incident, announced to callers while current.

An outage covers the half-open span [starts_at, ends_at). When several are
current at once, callers hear the one that started last: it is the newest
news (an incident declared during a maintenance window, say).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.models import Outage

MAX_MESSAGE_CHARS = 600  # about a minute of speech; callers wait through it every call


class OutageError(ValueError):
    """The outage cannot be stored as given."""


def normalise_message(message: str) -> str:
    """The message as it is spoken and stored: runs of whitespace become one space."""
    return " ".join(message.split())


def add_outage(
    session: Session, starts_at: datetime, ends_at: datetime, message: str, now: datetime
) -> Outage:
    text = normalise_message(message)
    if not text:
        raise OutageError("the message is empty; callers would hear nothing")
    if len(text) > MAX_MESSAGE_CHARS:
        raise OutageError(
            f"the message is {len(text)} characters; keep it under {MAX_MESSAGE_CHARS} "
            "(every caller hears it before the menu)"
        )
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if ends_at <= starts_at:
        raise OutageError(
            f"the outage must end after it starts ({ends_at.isoformat()} is not after "
            f"{starts_at.isoformat()})"
        )
    outage = Outage(starts_at=starts_at, ends_at=ends_at, message=text, created_at=now)
    session.add(outage)
    session.flush()
    return outage


def list_outages(session: Session, now: datetime, *, include_past: bool = False) -> list[Outage]:
    """Outages by start time: current and future ones, or every one with `include_past`."""
    query = select(Outage)
    if not include_past:
        query = query.where(Outage.ends_at > now)
    return list(session.scalars(query.order_by(Outage.starts_at, Outage.id)))


def overlapping(session: Session, outage: Outage) -> list[Outage]:
    """Other outages whose span shares some time with `outage`'s."""
    query = select(Outage).where(
        Outage.id != outage.id,
        Outage.starts_at < outage.ends_at,
        Outage.ends_at > outage.starts_at,
    )
    return list(session.scalars(query.order_by(Outage.starts_at, Outage.id)))


def remove_outage(session: Session, outage_id: int) -> Outage:
    outage = session.get(Outage, outage_id)
    if outage is None:
        raise OutageError(f"no outage with id {outage_id}")
    session.delete(outage)
    session.flush()
    return outage


def current_outage(session: Session, now: datetime) -> Outage | None:
    """The outage callers hear at `now`: of those covering it, the one that started last."""
    query = (
        select(Outage)
        .where(Outage.starts_at <= now, Outage.ends_at > now)
        .order_by(Outage.starts_at.desc(), Outage.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def outage_as_dict(outage: Outage, now: datetime) -> dict[str, object]:
    return {
        "id": outage.id,
        "starts_at": outage.starts_at.isoformat(),
        "ends_at": outage.ends_at.isoformat(),
        "message": outage.message,
        "created_at": outage.created_at.isoformat(),
        "current": outage.starts_at <= now < outage.ends_at,
    }
