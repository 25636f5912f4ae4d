"""The call log: one row per call, written when the call starts and closed when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from ivr.domain import Outcome
from ivr.store.models import CallRecord, Fault


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    cli: str | None = None
    outcome: str | None = None
    priority: str | None = None  # of the fault the call names (calls.fault_reference)
    limit: int = 100


def filtered_calls(filters: CallFilter) -> Select[CallRecord]:
    """The calls matching `filters`, unordered: the CLI and the web page share it."""
    query = select(CallRecord)
    if filters.since is not None:
        query = query.where(CallRecord.started_at >= filters.since)
    if filters.until is not None:
        query = query.where(CallRecord.started_at < filters.until)
    if filters.cli is not None:
        query = query.where(CallRecord.cli == filters.cli)
    if filters.outcome is not None:
        query = query.where(CallRecord.outcome == filters.outcome)
    if filters.priority is not None:
        # faults.reference is unique, so the join never repeats a call.
        query = query.join(Fault, Fault.reference == CallRecord.fault_reference).where(
            Fault.priority == filters.priority
        )
    return query


def list_calls(session: Session, filters: CallFilter | None = None) -> list[CallRecord]:
    filters = filters or CallFilter()
    query = filtered_calls(filters)
    query = query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).limit(filters.limit)
    return list(session.scalars(query))


def iter_calls(session: Session, filters: CallFilter, batch: int = 1000) -> Iterator[CallRecord]:
    """Every call matching `filters`, oldest first, loaded `batch` rows at a time.

    For exports: a year of calls is streamed, never held in memory at once.
    `filters.limit` does not apply.
    """
    query = filtered_calls(filters).order_by(CallRecord.started_at, CallRecord.id)
    yield from session.scalars(query.execution_options(yield_per=batch))


def close_interrupted_calls(session: Session, node: str) -> int:
    """Mark the calls `node` was carrying when it last stopped as interrupted.

    Run by the node itself as it starts, before it takes a call: any of its
    calls still in progress then died with the previous process. Their end
    is left empty, because nobody knows when the caller gave up. Returns
    how many there were.
    """
    result = session.execute(
        update(CallRecord)
        .where(
            CallRecord.node == node,
            CallRecord.outcome == Outcome.IN_PROGRESS.value,
            CallRecord.ended_at.is_(None),
        )
        .values(outcome=Outcome.INTERRUPTED.value)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def call_as_dict(call: CallRecord) -> dict[str, object]:
    return {
        "id": call.id,
        "sip_call_id": call.sip_call_id,
        "direction": call.direction,
        "kind": call.kind,
        "page_id": call.page_id,
        "from": call.from_header,
        "display_name": call.display_name,
        "asserted_identity": call.asserted_identity,
        "source_address": call.source_address,
        "cli": call.cli,
        "verified": call.verified,
        "verified_by": call.verified_by,
        "verification": call.verification,
        "customer": call.customer,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "digits": call.digits,
        "outcome": call.outcome,
        "fault_reference": call.fault_reference,
        "reference_heard": call.reference_heard,
        "node": call.node,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
