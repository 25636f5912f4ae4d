"""When a page has nothing left to do, and how it closes.

Shared by the paging protocol (`ivr.store.pages`) and by a fault's moves
(`ivr.store.faults`): a response made on the command line must stop the
reminder it makes pointless, and that is the same rule the scheduler
applies when it next claims the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain import PageKind, PageStatus
from ivr.store import leases
from ivr.store.models import Fault, Page, PageFault


def lease_free(now: datetime) -> Any:
    return leases.lease_free(Page, now)


def is_moot(page: Page) -> bool:
    """Nothing is left to page for: an alert's faults were all acknowledged some
    other way (the CLI, the web page), a reminder's were all responded to; or
    they were closed as out of scope."""
    if not page.faults:
        return False
    if page.kind == PageKind.REMINDER.value:
        return all(
            f.responded_at is not None or f.resolved_at is not None or f.closed_at is not None
            for f in page.faults
        )
    return all(f.acknowledged_at is not None or f.closed_at is not None for f in page.faults)


def close_page(page: Page, status: str, now: datetime) -> None:
    page.status = status
    page.ended_at = now
    page.next_action_at = None
    page.lease_owner = None
    page.lease_until = None


def cancel_reminders(session: Session, fault: Fault, now: datetime) -> list[Page]:
    """Stop the reminders a response to `fault` has made pointless.

    A reminder being called right now (leased) is left alone: its call is
    recorded as usual and the page is found moot when it is next claimed.
    """
    if fault.id is None:
        return []
    reminders = session.scalars(
        select(Page)
        .join(PageFault, PageFault.page_id == Page.id)
        .where(
            PageFault.fault_id == fault.id,
            Page.status == PageStatus.ACTIVE.value,
            Page.kind == PageKind.REMINDER.value,
            lease_free(now),
        )
    ).all()
    cancelled = [cancel_page(session, page, now) for page in reminders if is_moot(page)]
    return cancelled


def cancel_page(session: Session, page: Page, now: datetime) -> Page:
    """Stop paging without touching the faults (they were dealt with elsewhere)."""
    if page.status == PageStatus.ACTIVE.value:
        close_page(page, PageStatus.CANCELLED.value, now)
        session.flush()
    return page


def cancel_pages_for(
    session: Session, fault: Fault, now: datetime, still_pages: Callable[[Fault], bool]
) -> list[Page]:
    """Stop the running pages about `fault` once none of their faults `still_pages`.

    For CLI SECURE's decisions (a lower priority, out of scope). A page being
    called right now (leased) is stopped too: the scheduler calling for it
    sees the page is no longer active, hangs the call up and records the
    attempt as stopped, without moving the page on.
    """
    if fault.id is None:
        return []
    running = session.scalars(
        select(Page)
        .join(PageFault, PageFault.page_id == Page.id)
        .where(PageFault.fault_id == fault.id, Page.status == PageStatus.ACTIVE.value)
    ).all()
    return [
        cancel_page(session, page, now)
        for page in running
        if not any(still_pages(f) for f in page.faults)
    ]
