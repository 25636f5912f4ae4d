"""The call log: one row per call, written when the call starts and closed when it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ivr.store.models import CallRecord


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    cli: str | None = None
    outcome: str | None = None
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
    return query


def list_calls(session: Session, filters: CallFilter | None = None) -> list[CallRecord]:
    filters = filters or CallFilter()
    query = filtered_calls(filters)
    query = query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc()).limit(filters.limit)
    return list(session.scalars(query))


def call_as_dict(call: CallRecord) -> dict[str, object]:
    return {
        "id": call.id,
        "sip_call_id": call.sip_call_id,
        "direction": call.direction,
        "from": call.from_header,
        "display_name": call.display_name,
        "asserted_identity": call.asserted_identity,
        "source_address": call.source_address,
        "cli": call.cli,
        "verified": call.verified,
        "verification": call.verification,
        "customer": call.customer,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "digits": call.digits,
        "outcome": call.outcome,
        "fault_reference": call.fault_reference,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
