"""The call log: one row per call, written when the call starts and closed when it ends.

Listings read it with SQLAlchemy Core (`ivr.store.tables`), on a Connection:
`ivr calls list` then never imports or configures the ORM, which cost it
more than its query. Rows come back as Core rows, with the same attribute
names as `CallRecord`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy import Connection, Row, Select, select, update

from ivr.domain import Outcome
from ivr.store.tables import CALLS, FAULTS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ivr.store.models import CallRecord

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class CallFilter:
    since: datetime | None = None
    until: datetime | None = None
    cli: str | None = None
    outcome: str | None = None
    priority: str | None = None  # of the fault the call names (calls.fault_reference)
    limit: int = 100


def filtered_calls(filters: CallFilter, query: Select[*Ts]) -> Select[*Ts]:
    """`query` (of the calls table, or of CallRecord) narrowed to the calls matching
    `filters`, unordered: the CLI and the web page share it."""
    if filters.since is not None:
        query = query.where(CALLS.c.started_at >= filters.since)
    if filters.until is not None:
        query = query.where(CALLS.c.started_at < filters.until)
    if filters.cli is not None:
        query = query.where(CALLS.c.cli == filters.cli)
    if filters.outcome is not None:
        query = query.where(CALLS.c.outcome == filters.outcome)
    if filters.priority is not None:
        # faults.reference is unique, so the join never repeats a call.
        query = query.join(FAULTS, FAULTS.c.reference == CALLS.c.fault_reference).where(
            FAULTS.c.priority == filters.priority
        )
    return query


def list_calls(connection: Connection, filters: CallFilter | None = None) -> list[Row[Any]]:
    """The newest `filters.limit` calls matching `filters`, newest first."""
    filters = filters or CallFilter()
    query = filtered_calls(filters, select(CALLS))
    query = query.order_by(CALLS.c.started_at.desc(), CALLS.c.id.desc()).limit(filters.limit)
    return list(connection.execute(query))


def iter_calls(
    connection: Connection, filters: CallFilter, batch: int = 1000
) -> Iterator[Row[Any]]:
    """Every call matching `filters`, oldest first, fetched `batch` rows at a time.

    For exports: a year of calls is streamed, never held in memory at once.
    `filters.limit` does not apply.
    """
    query = filtered_calls(filters, select(CALLS)).order_by(CALLS.c.started_at, CALLS.c.id)
    yield from connection.execute(query.execution_options(yield_per=batch))


def close_interrupted_calls(session: Session, node: str) -> int:
    """Mark the calls `node` was carrying when it last stopped as interrupted.

    Run by the node itself as it starts, before it takes a call: any of its
    calls still in progress then died with the previous process. Their end
    is left empty, because nobody knows when the caller gave up. Returns
    how many there were.
    """
    result = session.execute(
        update(CALLS)
        .where(
            CALLS.c.node == node,
            CALLS.c.outcome == Outcome.IN_PROGRESS.value,
            CALLS.c.ended_at.is_(None),
        )
        .values(outcome=Outcome.INTERRUPTED.value)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def call_as_dict(call: CallRecord | Row[Any]) -> dict[str, object]:
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
