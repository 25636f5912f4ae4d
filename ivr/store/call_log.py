"""The call log as the web page reads it: keyset pages, one call, its faults and recordings.

The call log pages by keyset: the next page starts after the last row shown
((started_at, id) strictly less, newest first), so page 10,000 costs what
page 1 does, and the (started_at, id) index (or (cli, started_at) /
(outcome, started_at), whose row id breaks ties) answers both the filter
and the order without a sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from ivr.store.calls import CallFilter, filtered_calls
from ivr.store.models import CallRecord, Fault, Recording

# The largest row id either database can hold (SQLite INTEGER, PostgreSQL
# BIGINT). A larger number names no row; bound into a query it would make
# the driver raise rather than find nothing.
ROW_ID_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


class PositionOutOfRange(ValueError):
    """A call log position in the right form that no row could ever have."""


@dataclass(frozen=True)
class Cursor:
    """A position in the call log: the (started_at, id) of a row, as text for a URL."""

    started_at: datetime
    id: int

    def encode(self) -> str:
        micros = int(self.started_at.astimezone(UTC).timestamp() * 1_000_000)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        micros, sep, row = text.partition("-")
        if not sep or not micros.isdigit() or not row.isdigit():
            raise ValueError(f"{text!r} is not a call log position")
        if int(micros) > _LATEST_MICROS or int(row) > ROW_ID_MAX:
            raise PositionOutOfRange(f"{text!r} is beyond any call in the log")
        return cls(_EPOCH + timedelta(microseconds=int(micros)), int(row))

    @classmethod
    def of(cls, call: CallRecord) -> Cursor:
        return cls(call.started_at, call.id)


@dataclass(frozen=True)
class CallPage:
    calls: list[CallRecord]
    older: Cursor | None  # the next page back in time, if any
    newer: Cursor | None  # the page before this one, if this is not the newest


def call_log_query(
    filters: CallFilter, *, before: Cursor | None = None, after: Cursor | None = None
) -> Select[Any]:
    """The call log's SELECT: filters, keyset position and order (LIMIT is `filters.limit`+1).

    With `after`, rows newer than the cursor come oldest first (the caller
    reverses them); otherwise newest first, older than `before`.
    """
    key = tuple_(CallRecord.started_at, CallRecord.id)
    query = filtered_calls(filters, select(CallRecord))
    if after is not None:
        query = query.where(key > (after.started_at, after.id))
        order = (CallRecord.started_at.asc(), CallRecord.id.asc())
    else:
        if before is not None:
            query = query.where(key < (before.started_at, before.id))
        order = (CallRecord.started_at.desc(), CallRecord.id.desc())
    return query.order_by(*order).limit(filters.limit + 1)


def call_log_page(
    session: Session,
    filters: CallFilter,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> CallPage:
    rows = list(session.scalars(call_log_query(filters, before=before, after=after)))
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    if after is not None:
        rows.reverse()
        return CallPage(
            rows,
            older=Cursor.of(rows[-1]) if rows else after,
            newer=Cursor.of(rows[0]) if more and rows else None,
        )
    return CallPage(
        rows,
        older=Cursor.of(rows[-1]) if more and rows else None,
        newer=Cursor.of(rows[0]) if before is not None and rows else None,
    )


def find_call(session: Session, call_id: int) -> CallRecord | None:
    return session.get(CallRecord, call_id) if 0 < call_id <= ROW_ID_MAX else None


def find_recording(session: Session, recording_id: int) -> Recording | None:
    return session.get(Recording, recording_id) if 0 < recording_id <= ROW_ID_MAX else None


def faults_for_call(session: Session, call: CallRecord) -> list[Fault]:
    return list(session.scalars(select(Fault).where(Fault.call_id == call.id).order_by(Fault.id)))
