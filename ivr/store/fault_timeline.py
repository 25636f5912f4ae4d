"""A fault's timeline for the web page: the call, the pages and their calls, notes and moves.

Everything here is read from rows that recorded it when it happened; the
fault's moves (acknowledged, responded, resolved, paging failed) are the
entries `ivr.store.faults.move_fault` wrote, whoever made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.faults import timeline_entries
from ivr.store.models import Fault, Page, Recording
from ivr.store.pages import REMINDER, list_pages


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # call, reported, page, attempt, acknowledged, responded, resolved, note, failed
    title: str
    who: str | None = None
    detail: str = ""
    call_id: int | None = None
    status: str | None = None  # the attempt's result, for its badge
    number: str | None = None  # the caller's number (E.164), shown formatted
    recording_id: int | None = None  # a recording to play in the browser


# How a page's end reads on its fault's timeline. An acknowledgement or a
# failure is the fault's own entry (written by the move, whoever made it),
# so only a page that stopped because the fault was dealt with elsewhere
# needs an entry of its own here.
_PAGE_END = {
    "cancelled": ("page", "Paging stopped (the fault was dealt with, or no longer pages)"),
}

_ENTRY_TITLES = {
    "note": "Note",
    "acknowledged": "Acknowledged",
    "responded": "Responded",
    "resolved": "Resolved",
    "page_failed": "Paging failed: nobody acknowledged",
    "reprioritised": "Priority changed",
    "out_of_scope": "Closed as out of scope",
    "played": "The customer's description was played to the engineer",
    "failed_again": "Paging failed again: nobody acknowledged",
    "paging_restarted": "Paging started again from level 1",
    "paging_gave_up": "Paging gave up",
}


def fault_timeline(session: Session, fault: Fault) -> tuple[list[Entry], list[Page]]:
    """Everything that happened to a fault, oldest first, and the pages about it."""
    entries: list[Entry] = []
    call = fault.call
    if call is not None:
        checked = "verified handset" if call.verified else "handset not verified"
        entries.append(
            Entry(
                call.started_at,
                "call",
                "Call received",
                who=call.display_name,
                detail=f"{checked}; keys pressed {call.digits or '-'}",
                call_id=call.id,
                number=call.cli,
            )
        )
    # The priority the customer chose; a later change is its own entry.
    chosen = fault.reported_priority or fault.priority
    via = "" if fault.channel == "phone" else f" by {fault.channel}"
    ticket = f" (ticket {fault.ticket_ref})" if fault.ticket_ref else ""
    entries.append(
        Entry(
            fault.reported_at,
            "reported",
            f"Fault reported{via}{ticket}, {chosen} priority",
            detail=fault.description or "",
        )
    )
    pages = list_pages(session, fault.reference)
    for page in pages:
        if page.kind == REMINDER:
            who = page.target or "the engineer who acknowledged"
            title = (
                f"Reminder set: {who} is rung again before the response deadline (page {page.id})"
            )
        elif page.restart:
            title = f"Paging to start again from level 1 (page {page.id}, restart {page.restart})"
        else:
            title = f"Paging started (page {page.id})"
        entries.append(Entry(page.created_at, "page", title))
        for attempt in page.attempts:
            parts = [
                f"round {attempt.repeat + 1}, level {attempt.level + 1}, try {attempt.attempt + 1}"
            ]
            if attempt.sip_status:
                parts.append(f"SIP {attempt.sip_status}")
            if attempt.detail:
                parts.append(attempt.detail)
            detail = " · ".join(parts)
            result = attempt.result or "ringing"
            entries.append(
                Entry(
                    attempt.started_at,
                    "attempt",
                    f"Called {attempt.engineer_name or 'nobody'}",
                    who=attempt.contact,
                    detail=detail,
                    status=result,
                )
            )
        if page.ended_at is not None and page.status in _PAGE_END:
            kind, title = _PAGE_END[page.status]
            if page.kind == REMINDER and page.status == "cancelled":
                title = "Reminder stopped (the fault was responded to)"
            entries.append(Entry(page.ended_at, kind, title, who=page.acknowledged_by))
    for recording in session.scalars(
        select(Recording).where(Recording.fault_id == fault.id).order_by(Recording.id)
    ):
        ended = {"key": "caller pressed a key", "silence": "caller went quiet"}.get(
            recording.ended_by, recording.ended_by.replace("_", " ")
        )
        entries.append(
            Entry(
                recording.created_at,
                "recording",
                "Caller's description recorded",
                detail=f"{recording.seconds:.0f} s" + (f", ended: {ended}" if ended else ""),
                recording_id=recording.id,
            )
        )
    for note in timeline_entries(session, fault):
        failed = note.kind in ("page_failed", "failed_again", "paging_gave_up")
        kind = "failed" if failed else note.kind
        title = _ENTRY_TITLES.get(note.kind, note.kind)
        entries.append(Entry(note.created_at, kind, title, who=note.author, detail=note.body))
    order = {"call": 0, "recording": 1, "reported": 2, "page": 3, "attempt": 4}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 9)))
    return entries, pages
