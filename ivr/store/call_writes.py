"""The service's writes on the call log and faults, one short transaction each.

Plain functions taking a session (the service's single writer thread owns
the transaction, `ivr.db_writer`; `ivr faults add` logs faults from the
other channels through the same `log_fault`). A fault whose priority pages engineers
gets its page in the same transaction as the fault itself: there is no
moment at which a committed critical fault exists without a pending page.

Every write here is idempotent: when the database goes away mid-commit the
writer cannot know whether the commit was made, and runs the same write
again once the database is back. Running one twice leaves what running it
once did (one call row, one fault per call, one row per recording).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain import Channel, Outcome, Priority, VerifiedBy
from ivr.faults.clock import worth_paging
from ivr.sla import Deadlines
from ivr.store.customers import check_pin
from ivr.store.faults import find_fault, new_reference, reference_taken
from ivr.store.handsets import find_handset
from ivr.store.models import CallRecord, Customer, Fault, Recording
from ivr.store.outbox import LOGGED, queue_fault_email
from ivr.store.pages import open_page

MAX_REFERENCE_ATTEMPTS = 20
MAX_STORED_TEXT = 512


@dataclass(frozen=True)
class NewCall:
    sip_call_id: str
    from_header: str | None
    display_name: str | None
    asserted_identity: str | None
    source_address: str | None
    cli: str | None
    verification: str
    started_at: datetime
    identity_source: str = "from"  # where the number came from: "pai", "from" or "none"


@dataclass(frozen=True)
class OpenedCall:
    id: int
    verified: bool
    customer: str | None


@dataclass(frozen=True)
class DescriptionFile:
    """A caller's description as saved on disk, to attach to their fault."""

    path: str
    seconds: float
    sha256: str
    ended_by: str


def _clip(value: str | None, limit: int = MAX_STORED_TEXT) -> str | None:
    return value[:limit] if value is not None else None


def _verified_by(known: bool, identity_source: str) -> str | None:
    if not known:
        return None
    trusted = identity_source == "pai"
    return (VerifiedBy.TRUSTED_PAI if trusted else VerifiedBy.HANDSET).value


def open_call(session: Session, new: NewCall, node: str | None) -> OpenedCall:
    """Log the call as it arrives, verified against the handsets table.

    A row this node already wrote for the same SIP call and start time (a
    retried commit that had in fact been made) is returned, not doubled.
    """
    existing = session.scalars(
        select(CallRecord).where(
            CallRecord.sip_call_id == (_clip(new.sip_call_id, 255) or ""),
            CallRecord.started_at == new.started_at,
            CallRecord.node == node if node is not None else CallRecord.node.is_(None),
        )
    ).first()
    if existing is not None:
        return OpenedCall(existing.id, existing.verified, existing.customer)
    handset = find_handset(session, new.cli) if new.cli else None
    verification = new.verification
    if new.cli and handset is None:
        verification = f"{verification}; {new.cli} is not a registered handset"
    record = CallRecord(
        sip_call_id=_clip(new.sip_call_id, 255) or "",
        from_header=_clip(new.from_header),
        display_name=_clip(new.display_name, 255),
        asserted_identity=_clip(new.asserted_identity),
        source_address=_clip(new.source_address, 64),
        cli=new.cli,
        verified=handset is not None,
        verification=_clip(verification, 255) or "",
        customer=handset.customer if handset else None,
        customer_id=handset.customer_id if handset else None,
        verified_by=_verified_by(handset is not None, new.identity_source),
        started_at=new.started_at,
        node=node,
    )
    session.add(record)
    session.flush()
    return OpenedCall(record.id, handset is not None, record.customer)


def mark_answered(session: Session, call_id: int, at: datetime) -> None:
    session.get_one(CallRecord, call_id).answered_at = at


def log_fault(
    session: Session,
    *,
    priority: Priority,
    reported_at: datetime,
    clock: Deadlines,
    pages: bool,
    now: datetime,
    channel: Channel,
    customer: str | None,
    customer_id: int | None,
    cli: str | None = None,
    verified_by: str | None = None,
    call_id: int | None = None,
    ticket_ref: str | None = None,
    description: str | None = None,
) -> Fault:
    """Log a new fault, from any channel, with a fresh reference and its SLA deadlines.

    The one place a fault is born, so a fault typed in from a ticket gets
    exactly what a phone report gets. With `pages` (its priority pages
    engineers), its page is opened in this transaction, due `now`, unless the
    acknowledgement is already past saving (`worth_paging`); the customer's
    e-mail is queued in it too.
    """
    reference = new_reference()
    attempts = 1
    while reference_taken(session, reference):
        attempts += 1
        if attempts > MAX_REFERENCE_ATTEMPTS:
            raise RuntimeError("could not find a free fault reference")
        reference = new_reference()
    fault = Fault(
        reference=reference,
        priority=priority.value,
        reported_priority=priority.value,
        channel=channel.value,
        ticket_ref=ticket_ref,
        description=description,
        customer=customer,
        customer_id=customer_id,
        verified_by=verified_by,
        cli=cli,
        call_id=call_id,
        reported_at=reported_at,
        acknowledge_by=clock.acknowledge_by,
        respond_by=clock.respond_by,
        resolve_by=clock.resolve_by,
    )
    session.add(fault)
    session.flush()
    if pages and worth_paging(clock.acknowledge_by, now):
        open_page(session, fault, now)
    queue_fault_email(session, fault, LOGGED, now)
    return fault


def create_fault(
    session: Session,
    call_id: int,
    priority: Priority,
    reported_at: datetime,
    clock: Deadlines,
    *,
    pages: bool,
) -> str:
    """The new phone fault's reference; with `pages`, its page is opened in this transaction.

    A call reports at most one fault, so the fault this call already has is
    the one a retried commit made: its reference is returned and nothing is
    written (the retry's key is the call's row id, which the caller's
    session holds before it asks for the fault).
    """
    made = committed_fault_of(session, call_id)
    if made is not None:
        return made
    call = session.get_one(CallRecord, call_id)
    fault = log_fault(
        session,
        priority=priority,
        reported_at=reported_at,
        clock=clock,
        pages=pages,
        now=reported_at,
        channel=Channel.PHONE,
        customer=call.customer,
        customer_id=call.customer_id,
        cli=call.cli,
        verified_by=call.verified_by,
        call_id=call.id,
    )
    call.fault_reference = fault.reference
    return fault.reference


def committed_fault_of(session: Session, call_id: int) -> str | None:
    """The reference of the fault call `call_id` reported, if it has one yet."""
    return session.scalars(
        select(Fault.reference).where(Fault.call_id == call_id).order_by(Fault.id).limit(1)
    ).first()


def attach_description(
    session: Session, reference: str, call_id: int | None, description: DescriptionFile
) -> None:
    """Attach the recording to the fault, once (a retry finds the file already attached)."""
    fault = find_fault(session, reference)
    if fault is None:
        raise LookupError(f"no fault {reference} to attach a recording to")
    attached = session.scalars(
        select(Recording.id).where(
            Recording.fault_id == fault.id, Recording.path == description.path
        )
    ).first()
    if attached is not None:
        return
    session.add(
        Recording(
            fault_id=fault.id,
            call_id=call_id,
            path=description.path,
            seconds=description.seconds,
            sha256=description.sha256,
            ended_by=description.ended_by,
        )
    )


def close_call(
    session: Session,
    call_id: int,
    *,
    outcome: Outcome,
    digits: str,
    reference: str | None,
    reference_heard: bool,
    ended_at: datetime,
) -> None:
    record = session.get_one(CallRecord, call_id)
    record.ended_at = ended_at
    record.reference_heard = reference_heard
    record.digits = digits[:64]
    record.outcome = outcome.value
    if reference:
        record.fault_reference = reference


def verify_by_pin(
    session: Session,
    call_id: int,
    account: str,
    pin: str,
    now: datetime,
) -> Customer | None:
    """Check an unknown caller's account and PIN; on a match the call is theirs.

    The call row then names the customer and says how it was verified, so
    the fault it reports carries both (`create_fault` copies them). A
    failure is counted towards the account's lock-out by `check_pin`.
    """
    call = session.get_one(CallRecord, call_id)
    customer = check_pin(session, account, pin, call.cli, now)
    if customer is None:
        return None
    call.customer = customer.name
    call.customer_id = customer.id
    call.verified = True
    call.verified_by = VerifiedBy.PIN.value
    note = f"{call.verification}; verified by PIN (account {account})"
    call.verification = _clip(note, 255) or ""
    return customer
