"""Faults: created with a unique reference, read back by reference."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.store.models import Fault

REFERENCE_DIGITS = 6


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
    limit: int = 200,
) -> list[Fault]:
    query = select(Fault)
    if status is not None:
        query = query.where(Fault.status == status)
    if priority is not None:
        query = query.where(Fault.priority == priority)
    if since is not None:
        query = query.where(Fault.reported_at >= since)
    query = query.order_by(Fault.reported_at.desc(), Fault.id.desc()).limit(limit)
    return list(session.scalars(query))


def fault_as_dict(fault: Fault) -> dict[str, object]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "reference": fault.reference,
        "priority": fault.priority,
        "status": fault.status,
        "customer": fault.customer,
        "cli": fault.cli,
        "reported_at": iso(fault.reported_at),
        "acknowledge_by": iso(fault.acknowledge_by),
        "respond_by": iso(fault.respond_by),
        "resolve_by": iso(fault.resolve_by),
        "acknowledged_at": iso(fault.acknowledged_at),
        "acknowledged_by": fault.acknowledged_by,
        "responded_at": iso(fault.responded_at),
        "resolved_at": iso(fault.resolved_at),
    }
