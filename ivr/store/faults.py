"""Faults: created with a unique reference, read back by reference, moved through their stages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.sla import Deadlines, next_deadline
from ivr.store.models import Fault, utcnow
from ivr.store.paging import cancel_reminders

REFERENCE_DIGITS = 6

OPEN = "open"
PAGE_FAILED = "page_failed"  # open, and nobody answered the page (set by paging)
ACKNOWLEDGED = "acknowledged"
RESPONDED = "responded"
RESOLVED = "resolved"
STATUSES = (OPEN, PAGE_FAILED, ACKNOWLEDGED, RESPONDED, RESOLVED)

# How far along each status is; a fault only ever moves to a higher rank.
# page_failed is an open fault that paging gave up on: any progress clears it.
_RANK = MappingProxyType({OPEN: 0, PAGE_FAILED: 0, ACKNOWLEDGED: 1, RESPONDED: 2, RESOLVED: 3})

# stage (the verb an operator types) -> the status it leads to
STAGES = MappingProxyType({"acknowledge": ACKNOWLEDGED, "respond": RESPONDED, "resolve": RESOLVED})


class FaultProgressError(ValueError):
    """The fault cannot move that way (already there, or the times do not add up)."""


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
    if unresolved:
        query = query.where(Fault.status != RESOLVED)
    query = query.order_by(Fault.reported_at.desc(), Fault.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# ---- progress -------------------------------------------------------------------------


def _iso_minutes(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


def progress_fault(
    session: Session, fault: Fault, stage: str, at: datetime, by: str | None = None
) -> Fault:
    """Move `fault` to `stage` ("acknowledge", "respond" or "resolve") at instant `at`.

    A later stage implies the earlier ones: responding also acknowledges a
    fault nobody acknowledged, resolving also responds, at the same instant.
    Times already recorded are kept. `by` names who acknowledged, and is
    kept only when this step is the acknowledgement. Moving backwards or
    sideways, or to a time before the fault or its previous stage, is refused
    with the fault unchanged.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware")
    target = STAGES[stage]
    current = fault.status
    if current not in _RANK:
        raise FaultProgressError(f"fault {fault.reference} has unknown status {current!r}")
    if _RANK[current] >= _RANK[target]:
        already = {
            ACKNOWLEDGED: fault.acknowledged_at,
            RESPONDED: fault.responded_at,
            RESOLVED: fault.resolved_at,
        }[current]
        when = f" at {_iso_minutes(already)}" if already is not None else ""
        participle = {"acknowledge": "acknowledged", "respond": "responded to"}.get(
            stage, "resolved"
        )
        again = "again" if current == target else "now"
        raise FaultProgressError(
            f"fault {fault.reference} is already {current}{when}; it cannot be {participle} {again}"
        )
    if at < fault.reported_at:
        raise FaultProgressError(
            f"cannot {stage} fault {fault.reference} at {_iso_minutes(at)}: "
            f"before it was reported ({_iso_minutes(fault.reported_at)})"
        )
    earlier = [t for t in (fault.acknowledged_at, fault.responded_at) if t is not None]
    if earlier and at < max(earlier):
        raise FaultProgressError(
            f"cannot {stage} fault {fault.reference} at {_iso_minutes(at)}: "
            f"before its previous stage ({_iso_minutes(max(earlier))})"
        )
    if fault.acknowledged_at is None:
        fault.acknowledged_at = at
        if by:
            fault.acknowledged_by = by.strip()[:200] or None
    if _RANK[target] >= _RANK[RESPONDED] and fault.responded_at is None:
        fault.responded_at = at
    if target == RESOLVED:
        fault.resolved_at = at
    fault.status = target
    session.flush()
    if fault.responded_at is not None:
        cancel_reminders(session, fault, utcnow())
    return fault


# ---- the clock each fault runs to ------------------------------------------------------


@dataclass(frozen=True)
class FaultClock:
    """The stage a fault owes next, when, and whether that has passed."""

    stage: str
    due: datetime
    overdue: bool


def fault_clock(fault: Fault, now: datetime) -> FaultClock | None:
    """What `fault` owes next as of `now` (pure); None when nothing more is owed."""
    if fault.acknowledge_by is None or fault.respond_by is None:
        return None  # a fault without its clock (never made by the service)
    owed = next_deadline(
        Deadlines(fault.acknowledge_by, fault.respond_by, fault.resolve_by),
        acknowledged_at=fault.acknowledged_at,
        responded_at=fault.responded_at,
        resolved_at=fault.resolved_at,
    )
    if owed is None:
        return None
    stage, due = owed
    return FaultClock(stage, due, now > due)


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
        "reported_at": iso(fault.reported_at),
        "acknowledge_by": iso(fault.acknowledge_by),
        "respond_by": iso(fault.respond_by),
        "resolve_by": iso(fault.resolve_by),
        "acknowledged_at": iso(fault.acknowledged_at),
        "acknowledged_by": fault.acknowledged_by,
        "responded_at": iso(fault.responded_at),
        "resolved_at": iso(fault.resolved_at),
    }
    if now is not None:
        clock = fault_clock(fault, now)
        row["next_deadline"] = clock.stage if clock else None
        row["next_deadline_at"] = iso(clock.due) if clock else None
        row["overdue"] = clock.overdue if clock else False
    return row


OPEN_STATUSES = ("open", "acknowledged", "responded", "page_failed")


def recent_open_fault(session: Session, customer: str, since: datetime) -> str | None:
    """The latest fault this customer reported since `since` that is not yet resolved."""
    return session.scalar(
        select(Fault.reference)
        .where(
            Fault.customer == customer,
            Fault.reported_at >= since,
            Fault.status.in_(OPEN_STATUSES),
        )
        .order_by(Fault.reported_at.desc())
        .limit(1)
    )
