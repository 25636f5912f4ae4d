"""What needs an engineer now: unresolved faults, failed pages, pages still ringing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain import UNRESOLVED_STATUSES, FaultStatus
from ivr.store.models import Fault, Page
from ivr.store.pages import pending_pages


def unresolved_faults(session: Session, limit: int = 200) -> list[Fault]:
    """The newest unresolved faults; the web orders them by their next deadline."""
    return list(
        session.scalars(
            select(Fault)
            .where(Fault.status.in_(UNRESOLVED_STATUSES))
            .order_by(Fault.reported_at.desc(), Fault.id.desc())
            .limit(limit)
        )
    )


def failed_pages(session: Session) -> list[Fault]:
    return list(
        session.scalars(
            select(Fault)
            .where(Fault.status == FaultStatus.PAGE_FAILED.value)
            .order_by(Fault.reported_at.desc(), Fault.id.desc())
        )
    )


def active_pages(session: Session) -> list[Page]:
    pages = pending_pages(session)
    for page in pages:
        page.attempts  # noqa: B018  (load while the session is open)
    return pages
