"""What people do to a fault: acknowledge, respond, resolve, and write notes.

Every action leaves a `FaultNote` saying who did it, when, and any comment,
so the fault's timeline reads as a log. A later stage implies the earlier
ones (a response is also an acknowledgement, a fix is also a response), so
an earlier stage still empty is filled with the same instant; this is also
what stops the pager ringing once someone responds. Functions take a
session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.store.models import Base, Fault, UtcDateTime, utcnow
from ivr.store.paging import cancel_reminders

NOTE = "note"
ACKNOWLEDGED = "acknowledged"
RESPONDED = "responded"
RESOLVED = "resolved"
KINDS = (NOTE, ACKNOWLEDGED, RESPONDED, RESOLVED)

MAX_NOTE = 4000


class FaultActionError(ValueError):
    """The action does not apply to the fault as it stands; the message says why."""


class FaultNote(Base):
    """One entry in a fault's log written by a person (a note, or an action with its comment)."""

    __tablename__ = "fault_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    fault_id: Mapped[int] = mapped_column(ForeignKey("faults.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=NOTE)
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def _clean(text: str | None, *, required: bool) -> str:
    body = (text or "").replace("\r\n", "\n").strip()
    if required and not body:
        raise FaultActionError("a note needs some text")
    if len(body) > MAX_NOTE:
        raise FaultActionError(f"a note must be at most {MAX_NOTE} characters")
    return body


def _record(
    session: Session, fault: Fault, kind: str, author: str, body: str, now: datetime
) -> FaultNote:
    note = FaultNote(fault_id=fault.id, kind=kind, author=author, body=body, created_at=now)
    session.add(note)
    session.flush()
    return note


def _not_resolved(fault: Fault, verb: str) -> None:
    if fault.resolved_at is not None or fault.status == RESOLVED:
        raise FaultActionError(f"fault {fault.reference} is resolved; it cannot be {verb}")


def add_note(session: Session, fault: Fault, author: str, text: str, now: datetime) -> FaultNote:
    return _record(session, fault, NOTE, author, _clean(text, required=True), now)


def acknowledge(
    session: Session, fault: Fault, author: str, now: datetime, comment: str = ""
) -> FaultNote:
    _not_resolved(fault, "acknowledged")
    if fault.acknowledged_at is not None:
        by = f" by {fault.acknowledged_by}" if fault.acknowledged_by else ""
        raise FaultActionError(f"fault {fault.reference} was already acknowledged{by}")
    body = _clean(comment, required=False)
    fault.acknowledged_at = now
    fault.acknowledged_by = author
    if fault.status in ("open", "page_failed"):
        fault.status = ACKNOWLEDGED
    return _record(session, fault, ACKNOWLEDGED, author, body, now)


def respond(
    session: Session, fault: Fault, author: str, now: datetime, comment: str = ""
) -> FaultNote:
    _not_resolved(fault, "responded to")
    if fault.responded_at is not None:
        raise FaultActionError(f"fault {fault.reference} was already responded to")
    body = _clean(comment, required=False)
    if fault.acknowledged_at is None:
        fault.acknowledged_at = now
        fault.acknowledged_by = author
    fault.responded_at = now
    fault.status = RESPONDED
    cancel_reminders(session, fault, now)
    return _record(session, fault, RESPONDED, author, body, now)


def resolve(
    session: Session, fault: Fault, author: str, now: datetime, comment: str = ""
) -> FaultNote:
    _not_resolved(fault, "resolved again")
    body = _clean(comment, required=False)
    if fault.acknowledged_at is None:
        fault.acknowledged_at = now
        fault.acknowledged_by = author
    if fault.responded_at is None:
        fault.responded_at = now
    fault.resolved_at = now
    fault.status = RESOLVED
    cancel_reminders(session, fault, now)
    return _record(session, fault, RESOLVED, author, body, now)


def list_notes(session: Session, fault: Fault) -> list[FaultNote]:
    return list(
        session.scalars(
            select(FaultNote)
            .where(FaultNote.fault_id == fault.id)
            .order_by(FaultNote.created_at, FaultNote.id)
        )
    )


def note_as_dict(note: FaultNote) -> dict[str, object]:
    return {
        "kind": note.kind,
        "author": note.author,
        "body": note.body,
        "created_at": note.created_at.isoformat(),
    }
