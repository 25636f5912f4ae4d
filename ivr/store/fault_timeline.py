"""A fault's timeline for the web page: the call, the pages and their calls, notes.

Moved here unchanged from the web page; the fault lifecycle rewrite
replaces it with a timeline that is read, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.models import Fault, Recording
from ivr.store.notes import FaultNote, list_notes
from ivr.store.paging import REMINDER, Page, list_pages


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


_PAGE_END = {
    "acknowledged": ("acknowledged", "Page acknowledged"),
    "failed": ("failed", "Paging failed: nobody acknowledged"),
    "cancelled": ("page", "Paging stopped (the fault was dealt with)"),
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
    entries.append(
        Entry(fault.reported_at, "reported", f"Fault reported, {fault.priority} priority")
    )
    pages = list_pages(session, fault.reference)
    for page in pages:
        if page.kind == REMINDER:
            who = page.target or "the engineer who acknowledged"
            title = f"Reminder set: {who} is rung again at the response deadline (page {page.id})"
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
    notes: list[FaultNote] = list_notes(session, fault)
    logged = {n.kind for n in notes}
    for note in notes:
        title = {
            "note": "Note",
            "acknowledged": "Acknowledged",
            "responded": "Responded",
            "resolved": "Resolved",
        }.get(note.kind, note.kind)
        entries.append(Entry(note.created_at, note.kind, title, who=note.author, detail=note.body))
    # Stages done elsewhere (by pressing 1 on a page call, or another tool) have no note.
    paged_ack = any(p.status == "acknowledged" for p in pages)
    if fault.acknowledged_at is not None and "acknowledged" not in logged and not paged_ack:
        entries.append(
            Entry(fault.acknowledged_at, "acknowledged", "Acknowledged", who=fault.acknowledged_by)
        )
    for kind, at in (("responded", fault.responded_at), ("resolved", fault.resolved_at)):
        if at is not None and kind not in logged:
            entries.append(Entry(at, kind, kind.capitalize()))
    order = {"call": 0, "recording": 1, "reported": 2, "page": 3, "attempt": 4}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 9)))
    return entries, pages
