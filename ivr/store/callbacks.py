"""The engineer's callback to a customer: where to ring them, and its call record.

A callback is a call of its own in the call log (outbound, kind `callback`,
linked to the fault and the page), so the CDR export bills and counts it
like any other. The customer answering is the fault's initial response:
an engineer is then talking to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr.faults.lifecycle import Action, IllegalMove
from ivr.store.faults import find_fault, move_fault
from ivr.store.handsets import find_handset
from ivr.store.models import CallRecord
from ivr.store.tables import CALLBACK

RESPONSE_NOTE = "the engineer called the customer back through the fault line"


def callback_contact(session: Session, number: str | None) -> str | None:
    """What to ring for the customer who called from `number`: their handset's
    contact if it has one, else the number itself; None when it was withheld."""
    if not number:
        return None
    handset = find_handset(session, number)
    if handset is not None and handset.contact:
        return handset.contact
    return number


def open_callback(
    session: Session, *, page_id: int, reference: str, number: str | None, node: str | None,
    at: datetime,
) -> int:  # fmt: skip
    fault = find_fault(session, reference)
    record = CallRecord(
        sip_call_id="",
        direction="outbound",
        kind=CALLBACK,
        page_id=page_id,
        cli=number,
        verified=True,
        verification="called back from a page",
        customer=fault.customer if fault else None,
        customer_id=fault.customer_id if fault else None,
        fault_reference=reference,
        started_at=at,
        node=node,
    )
    session.add(record)
    session.flush()
    return record.id


def callback_answered(
    session: Session, call_id: int, sip_call_id: str, at: datetime, engineer: str | None
) -> bool:
    """Mark the callback answered and the fault responded to; True if this was its response."""
    record = session.get_one(CallRecord, call_id)
    record.sip_call_id = sip_call_id[:255]
    record.answered_at = at
    fault = find_fault(session, record.fault_reference or "")
    if fault is None or fault.responded_at is not None:
        return False
    try:
        move_fault(
            session, fault, Action.RESPOND, at, by=engineer, author=engineer or "paging",
            comment=RESPONSE_NOTE,
        )  # fmt: skip
    except IllegalMove:
        return False  # resolved or closed meanwhile: nothing to respond to
    return True


def close_callback(
    session: Session, call_id: int, sip_call_id: str, outcome: str, at: datetime
) -> None:
    record = session.get_one(CallRecord, call_id)
    if sip_call_id:
        record.sip_call_id = sip_call_id[:255]
    record.outcome = outcome[:20]
    record.ended_at = at
