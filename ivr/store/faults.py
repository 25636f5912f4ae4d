"""Faults, stored: a unique reference, reading them back, and applying the lifecycle's moves.

The rules of how a fault moves are in `ivr.faults.lifecycle`; this module
applies its decisions to the row and writes the timeline entry for each,
whichever tool asked, so the command line, the web page and paging leave
the same trace, and the customer's e-mail about it is queued in the same
transaction (`ivr.store.outbox`). Functions take a session; the caller owns
the transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain import UNRESOLVED_STATUSES, FaultStatus, Priority
from ivr.faults.clock import FaultTimes, next_owed
from ivr.faults.lifecycle import Action, FaultState, IllegalMove, Move, decide
from ivr.store.models import Fault, FaultNote
from ivr.store.outbox import queue_fault_email
from ivr.store.page_state import cancel_reminders

REFERENCE_DIGITS = 6
MAX_NOTE = 4000
MAX_TICKET_REF = 100  # as `faults.ticket_ref` holds it

# The kinds of timeline entry: a note, or the status a move left the fault in.
NOTE = "note"
# The customer's recorded description was played to an engineer on a page call.
DESCRIPTION_PLAYED = "played"
PAGING_RESTARTED = "paging_restarted"
PAGING_GAVE_UP = "paging_gave_up"
PAGE_FAILED_AGAIN = "failed_again"  # at most 16 characters, as every kind


def new_reference() -> str:
    """A random six-digit reference, never starting with 0 (callers drop leading zeros)."""
    first = str(secrets.randbelow(9) + 1)
    rest = "".join(str(secrets.randbelow(10)) for _ in range(REFERENCE_DIGITS - 1))
    return first + rest


def reference_taken(session: Session, reference: str) -> bool:
    return session.scalar(select(Fault.id).where(Fault.reference == reference)) is not None


def find_fault(session: Session, reference: str) -> Fault | None:
    return session.scalar(select(Fault).where(Fault.reference == reference.strip()))


def list_faults(
    session: Session,
    *,
    status: str | None = None,
    priority: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    cli: str | None = None,
    channel: str | None = None,
    unresolved: bool = False,
    limit: int | None = 200,
) -> list[Fault]:
    """Faults newest first; `since` inclusive, `before` exclusive, `limit` None for all.

    `cli` is the caller's number in E.164, as the fault keeps it.
    """
    query = select(Fault)
    if status is not None:
        query = query.where(Fault.status == status)
    if priority is not None:
        query = query.where(Fault.priority == priority)
    if since is not None:
        query = query.where(Fault.reported_at >= since)
    if before is not None:
        query = query.where(Fault.reported_at < before)
    if cli is not None:
        query = query.where(Fault.cli == cli)
    if channel is not None:
        query = query.where(Fault.channel == channel)
    if unresolved:
        query = query.where(Fault.status.in_(UNRESOLVED_STATUSES))
    query = query.order_by(Fault.reported_at.desc(), Fault.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# ---- moving a fault, and its timeline -------------------------------------------------


def fault_state(fault: Fault) -> FaultState:
    return FaultState(
        reference=fault.reference,
        status=FaultStatus(fault.status),
        reported_at=fault.reported_at,
        acknowledged_at=fault.acknowledged_at,
        acknowledged_by=fault.acknowledged_by,
        responded_at=fault.responded_at,
        resolved_at=fault.resolved_at,
        closed_at=fault.closed_at,
    )


def fault_times(fault: Fault) -> FaultTimes:
    return FaultTimes(
        priority=Priority(fault.priority),
        reported_at=fault.reported_at,
        acknowledge_by=fault.acknowledge_by,
        respond_by=fault.respond_by,
        resolve_by=fault.resolve_by,
        acknowledged_at=fault.acknowledged_at,
        responded_at=fault.responded_at,
        resolved_at=fault.resolved_at,
        closed_at=fault.closed_at,
    )


def _clean_note(text: str | None, *, required: bool) -> str:
    body = (text or "").replace("\r\n", "\n").strip()
    if required and not body:
        raise IllegalMove("a note needs some text")
    if len(body) > MAX_NOTE:
        raise IllegalMove(f"a note must be at most {MAX_NOTE} characters")
    return body


# A move that leaves the status as it was is named for what it did.
_ENTRY_KIND = {Action.REPRIORITISE: "reprioritised"}

_REASON_FOR = {
    Action.REPRIORITISE: "change its priority",
    Action.CLOSE_OUT_OF_SCOPE: "close it as out of scope",
}


def require_reason(fault: Fault, action: Action, reason: str | None) -> None:
    """Refuse CLI SECURE's decisions made without a reason (`Action.needs_reason`)."""
    if action.needs_reason and not (reason or "").strip():
        raise IllegalMove(f"fault {fault.reference}: give a reason to {_REASON_FOR[action]}")


def _write_entry(
    session: Session, fault: Fault, kind: str, author: str, body: str, at: datetime
) -> FaultNote:
    entry = FaultNote(fault_id=fault.id, kind=kind, author=author[:100], body=body, created_at=at)
    session.add(entry)
    return entry


def move_fault(
    session: Session,
    fault: Fault,
    action: Action,
    at: datetime,
    *,
    by: str | None = None,
    author: str | None = None,
    comment: str = "",
) -> Move:
    """Apply `action` to `fault` as the lifecycle decides, and write its timeline entries.

    One entry per stage the move fills (an implied acknowledgement is an
    entry of its own, at the same instant), the comment on the action's own.
    `by` is who did it (kept as who acknowledged); `author` is who is named
    on the timeline when that differs (paging writes as "paging"). Refused
    with IllegalMove and the fault unchanged when the lifecycle says no.
    A response stops the reminders it makes pointless.
    """
    require_reason(fault, action, comment)
    body = _clean_note(comment, required=False)
    move = decide(fault_state(fault), action, at, by)
    after = move.after
    fault.status = after.status.value
    fault.closed_at = after.closed_at
    fault.acknowledged_at = after.acknowledged_at
    fault.acknowledged_by = after.acknowledged_by
    fault.responded_at = after.responded_at
    fault.resolved_at = after.resolved_at
    if fault.id is None:
        session.flush()
    writer = author or move.by or "unknown"
    if move.filled:
        for stage in move.filled:
            own = stage is action.stage
            _write_entry(session, fault, stage.done_status.value, writer, body if own else "", at)
    else:
        kind = _ENTRY_KIND.get(action, after.status.value)
        _write_entry(session, fault, kind, writer, body, at)
    session.flush()
    if fault.responded_at is not None:
        cancel_reminders(session, fault, at)
    if action is not Action.PAGING_FAILED:  # paging's trouble is ours, not the customer's
        queue_fault_email(
            session, fault, _ENTRY_KIND.get(action, after.status.value), at, by=writer, comment=body
        )
    return move


def add_note(session: Session, fault: Fault, author: str, text: str, at: datetime) -> FaultNote:
    entry = _write_entry(session, fault, NOTE, author, _clean_note(text, required=True), at)
    session.flush()
    return entry


def note_paging(session: Session, fault: Fault, kind: str, detail: str, at: datetime) -> FaultNote:
    """What paging did that is not a move of the fault: a restart, a repeat failure, giving up."""
    if kind not in (PAGING_RESTARTED, PAGING_GAVE_UP, PAGE_FAILED_AGAIN):
        raise ValueError(f"not a paging entry: {kind!r}")
    entry = _write_entry(session, fault, kind, "paging", detail, at)
    session.flush()
    return entry


def note_description_played(
    session: Session, fault: Fault, engineer: str, detail: str, at: datetime
) -> FaultNote:
    """An entry of its own kind, so the timeline shows who heard the customer and when."""
    entry = _write_entry(session, fault, DESCRIPTION_PLAYED, engineer, detail, at)
    session.flush()
    return entry


def timeline_entries(session: Session, fault: Fault) -> list[FaultNote]:
    """The fault's notes and moves, oldest first."""
    return list(
        session.scalars(
            select(FaultNote)
            .where(FaultNote.fault_id == fault.id)
            .order_by(FaultNote.created_at, FaultNote.id)
        )
    )


def fault_as_dict(fault: Fault, now: datetime | None = None) -> dict[str, object]:
    """A fault for JSON; with `now`, also what it owes next (`next_deadline`, ...)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    row: dict[str, object] = {
        "reference": fault.reference,
        "priority": fault.priority,
        "status": fault.status,
        "customer": fault.customer,
        "cli": fault.cli,
        "verified_by": fault.verified_by,
        "reported_at": iso(fault.reported_at),
        "acknowledge_by": iso(fault.acknowledge_by),
        "respond_by": iso(fault.respond_by),
        "resolve_by": iso(fault.resolve_by),
        "acknowledged_at": iso(fault.acknowledged_at),
        "acknowledged_by": fault.acknowledged_by,
        "responded_at": iso(fault.responded_at),
        "resolved_at": iso(fault.resolved_at),
        "closed_at": iso(fault.closed_at),
        "channel": fault.channel,
        "ticket_ref": fault.ticket_ref,
        "description": fault.description,
        "reported_priority": fault.reported_priority,
    }
    if now is not None:
        owed = next_owed(fault_times(fault), now)
        row["next_deadline"] = owed.stage.value if owed else None
        row["next_deadline_at"] = iso(owed.due) if owed else None
        row["overdue"] = owed.overdue if owed else False
    return row


def recent_open_fault(session: Session, customer: str, since: datetime) -> str | None:
    """The latest fault this customer reported since `since` that is not yet resolved."""
    return session.scalar(
        select(Fault.reference)
        .where(
            Fault.customer == customer,
            Fault.reported_at >= since,
            Fault.status.in_(UNRESOLVED_STATUSES),
        )
        .order_by(Fault.reported_at.desc())
        .limit(1)
    )
