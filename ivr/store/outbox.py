"""The e-mail outbox: queueing messages with the change they tell of, and the sender's leases.

Messages are rows written in the caller's transaction, so a fault that is
committed always has its message, and a rolled-back change has none. The
sender in `ivr serve` (`ivr.mail.sender`) claims due rows with a lease,
sends, and marks them sent:

- a message still pending when a process dies was never handed to SMTP, so
  a restart sends it once;
- a message whose sender died between the SMTP server's acceptance and
  `mark_sent` (a window of one commit) is sent again once its lease runs
  out: never lost, and the second copy has the same Message-ID, which mail
  clients treat as the same message.

Claiming is a conditional UPDATE on the lease (with SKIP LOCKED on
PostgreSQL), so nodes sharing a database never send the same row at once.
Functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.leases import take_leases
from ivr.store.models import Customer, Fault, OutboxMessage

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)

# The kinds of message: a fault's own (the timeline entry kind it tells of),
# and an operational notice to arbitrary addresses (`queue_message`).
LOGGED = "logged"
NOTICE = "notice"
MAX_ERROR = 500


@dataclass(frozen=True)
class Backoff:
    """How a failing message is retried: doubling delays, then given up on."""

    first_seconds: float = 30.0
    max_seconds: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failure (1 for the first)."""
        return min(self.first_seconds * 2 ** max(attempts - 1, 0), self.max_seconds)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _token(reference: str | None) -> str:
    return f"{reference or NOTICE}.{secrets.token_hex(8)}"


def customer_addresses(session: Session, fault: Fault) -> list[str]:
    if fault.customer_id is None:
        return []
    customer = session.get(Customer, fault.customer_id)
    return list(customer.emails or []) if customer is not None else []


def fault_facts(fault: Fault) -> dict[str, object]:
    """What a customer's message says about the fault, as it stands now."""
    return {
        "reference": fault.reference,
        "customer": fault.customer,
        "priority": fault.priority,
        "reported_priority": fault.reported_priority,
        "status": fault.status,
        "channel": fault.channel,
        "cli": fault.cli,
        "ticket_ref": fault.ticket_ref,
        "reported_at": _iso(fault.reported_at),
        "acknowledge_by": _iso(fault.acknowledge_by),
        "respond_by": _iso(fault.respond_by),
        "resolve_by": _iso(fault.resolve_by),
        "acknowledged_by": fault.acknowledged_by,
    }


def queue_fault_email(
    session: Session,
    fault: Fault,
    kind: str,
    at: datetime,
    *,
    by: str | None = None,
    comment: str = "",
) -> OutboxMessage | None:
    """Queue the customer's message that `fault` was logged or moved (`kind`) at `at`.

    A customer without e-mail addresses (a handset-only customer, or none
    known) gets nothing: None, and nothing is written.
    """
    recipients = customer_addresses(session, fault)
    if not recipients:
        return None
    facts = fault_facts(fault) | {"at": _iso(at), "by": by, "comment": comment}
    return _queue(session, kind, recipients, facts, at, fault)


def queue_message(
    session: Session,
    recipients: Sequence[str],
    subject: str,
    body: str,
    at: datetime,
    *,
    fault: Fault | None = None,
) -> OutboxMessage | None:
    """Queue an operational message (plain text) to any addresses, in the caller's transaction.

    With `fault`, the subject is prefixed with its reference. None when
    there is nobody to send to.
    """
    addresses = [address.strip() for address in recipients if address.strip()]
    if not addresses:
        return None
    facts: dict[str, object] = {"subject": subject, "body": body, "at": _iso(at)}
    return _queue(session, NOTICE, addresses, facts, at, fault)


def _queue(
    session: Session,
    kind: str,
    recipients: list[str],
    facts: dict[str, object],
    at: datetime,
    fault: Fault | None,
) -> OutboxMessage:
    reference = fault.reference if fault is not None else None
    message = OutboxMessage(
        kind=kind,
        fault_id=fault.id if fault is not None else None,
        reference=reference,
        recipients=recipients,
        facts=facts,
        token=_token(reference),
        status=PENDING,
        attempts=0,
        next_attempt_at=at,
        created_at=at,
    )
    session.add(message)
    session.flush()
    return message


def thread_tokens(session: Session, message: OutboxMessage) -> list[str]:
    """The tokens of the messages queued before this one about the same fault, oldest first."""
    if message.fault_id is None:
        return []
    return list(
        session.scalars(
            select(OutboxMessage.token)
            .where(OutboxMessage.fault_id == message.fault_id, OutboxMessage.id < message.id)
            .order_by(OutboxMessage.id)
        )
    )


def claim_due(
    session: Session, now: datetime, owner: str, lease_seconds: float, limit: int = 20
) -> list[OutboxMessage]:
    """Lease the pending messages that are due and that no other sender holds."""
    claimed = take_leases(
        session,
        OutboxMessage,
        waiting=OutboxMessage.status == PENDING,
        due=OutboxMessage.next_attempt_at <= now,
        order_by=(OutboxMessage.next_attempt_at, OutboxMessage.id),
        now=now,
        owner=owner,
        lease_seconds=lease_seconds,
        limit=limit,
    )
    if not claimed:
        return []
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )


def _held(session: Session, message_id: int, owner: str) -> OutboxMessage | None:
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status != PENDING or message.lease_owner != owner:
        return None
    return message


def mark_sent(session: Session, message_id: int, owner: str, now: datetime) -> bool:
    """Record delivery; False if the lease was lost meanwhile (another sender took it)."""
    message = _held(session, message_id, owner)
    if message is None:
        return False
    message.status = SENT
    message.sent_at = now
    message.attempts += 1
    message.lease_owner = message.lease_until = None
    message.last_error = None
    return True


def mark_attempt_failed(
    session: Session, message_id: int, owner: str, now: datetime, error: str, backoff: Backoff
) -> OutboxMessage | None:
    """Count a failed attempt: retried after the backoff, or FAILED after the last attempt."""
    message = _held(session, message_id, owner)
    if message is None:
        return None
    message.attempts += 1
    message.last_error = error[:MAX_ERROR]
    message.lease_owner = message.lease_until = None
    if message.attempts >= backoff.max_attempts:
        message.status = FAILED
    else:
        message.next_attempt_at = now + timedelta(seconds=backoff.delay(message.attempts))
    return message


def next_due(session: Session) -> datetime | None:
    """When the earliest pending message is next due (to sleep until then)."""
    return session.scalar(
        select(OutboxMessage.next_attempt_at)
        .where(OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.next_attempt_at)
        .limit(1)
    )


def list_messages(
    session: Session, status: str | None = None, limit: int | None = 200
) -> list[OutboxMessage]:
    """Messages newest first."""
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    query = query.order_by(OutboxMessage.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


class NotRetryable(LookupError):
    """There is no such message, or it is not one that failed."""


def retry_message(session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """Send a failed message again from scratch (its attempts start over)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotRetryable(f"no e-mail {message_id}")
    if message.status != FAILED:
        raise NotRetryable(f"e-mail {message_id} is {message.status}, not failed")
    message.status = PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.lease_owner = message.lease_until = None
    return message


def subject_hint(message: OutboxMessage) -> str:
    """A short line for listings: the notice's subject, or the fault's kind of message."""
    if message.kind == NOTICE:
        return str(message.facts.get("subject", ""))
    return message.kind


def message_as_dict(message: OutboxMessage) -> dict[str, object]:
    return {
        "id": message.id,
        "kind": message.kind,
        "reference": message.reference,
        "recipients": list(message.recipients),
        "subject": subject_hint(message),
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": _iso(message.next_attempt_at),
        "last_error": message.last_error,
        "created_at": _iso(message.created_at),
        "sent_at": _iso(message.sent_at),
    }
