"""What the pages read: plain functions taking a session, like the rest of `ivr.store`.

The call log pages by keyset: the next page starts after the last row shown
((started_at, id) strictly less, newest first), so page 10,000 costs what
page 1 does, and the (started_at, id) index (or (cli, started_at) /
(outcome, started_at), whose row id breaks ties) answers both the filter
and the order without a sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select, tuple_
from sqlalchemy.orm import Session

from ivr.admin.web.reports import Countdown, countdown, day_bounds, local_midnight, month_starts
from ivr.domain import UNRESOLVED_STATUSES, FaultStatus
from ivr.faults.clock import sla_verdict
from ivr.store.calls import CallFilter, filtered_calls
from ivr.store.faults import fault_times, timeline_entries
from ivr.store.models import CallRecord, Fault, Page, Recording
from ivr.store.pages import REMINDER, list_pages, pending_pages

# ---- the call log --------------------------------------------------------------------


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
        instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        return cls(instant, int(row))

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
    query = filtered_calls(filters)
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
    return session.get(CallRecord, call_id)


def find_recording(session: Session, recording_id: int) -> Recording | None:
    return session.get(Recording, recording_id)


def faults_for_call(session: Session, call: CallRecord) -> list[Fault]:
    return list(session.scalars(select(Fault).where(Fault.call_id == call.id).order_by(Fault.id)))


# ---- counts ---------------------------------------------------------------------------


def calls_by_day(
    session: Session, now: datetime, tz: ZoneInfo, days: int
) -> tuple[list[datetime], dict[tuple[int, str], int]]:
    """Calls per local day and outcome over the last `days` days, in one indexed query.

    Returns each day's start (UTC) and counts keyed by (day index, outcome).
    Days are bucketed with a CASE over the day boundaries, which works the
    same on SQLite and PostgreSQL and is right across clock changes.
    """
    bounds = day_bounds(now, tz, days)
    bucket = case(
        *[(CallRecord.started_at < end, index) for index, (_d, _s, end) in enumerate(bounds)],
        else_=-1,
    ).label("day")
    rows = session.execute(
        select(bucket, CallRecord.outcome, func.count())
        .where(CallRecord.started_at >= bounds[0][1], CallRecord.started_at < bounds[-1][2])
        .group_by(bucket, CallRecord.outcome)
    ).all()
    counts = {(int(day), outcome): int(n) for day, outcome, n in rows if day >= 0}
    return [start for _d, start, _e in bounds], counts


def calls_today(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, int]:
    start = local_midnight(now.astimezone(tz).date(), tz)
    rows = session.execute(
        select(CallRecord.outcome, func.count())
        .where(CallRecord.started_at >= start, CallRecord.started_at <= now)
        .group_by(CallRecord.outcome)
    ).all()
    return {outcome: int(n) for outcome, n in rows}


def sla_by_month(
    session: Session, now: datetime, tz: ZoneInfo, months: int
) -> tuple[list[datetime], dict[tuple[int, str, str], int]]:
    """SLA verdicts per local month (of the report) and priority: (month, priority, verdict)."""
    firsts = month_starts(now, tz, months)
    starts = [local_midnight(day, tz) for day in firsts]
    faults = session.scalars(select(Fault).where(Fault.reported_at >= starts[0]))
    counts: dict[tuple[int, str, str], int] = {}
    for fault in faults:
        verdict = sla_verdict(fault_times(fault), now)
        if verdict is None:
            continue
        month = max(i for i, start in enumerate(starts) if fault.reported_at >= start)
        key = (month, fault.priority, verdict.value)
        counts[key] = counts.get(key, 0) + 1
    return starts, counts


# ---- the dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFault:
    fault: Fault
    countdown: Countdown | None


def open_faults(session: Session, now: datetime, limit: int = 200) -> list[OpenFault]:
    """Unresolved faults, the most pressing first: overdue, then soonest deadline."""
    faults = session.scalars(
        select(Fault)
        .where(Fault.status.in_(UNRESOLVED_STATUSES))
        .order_by(Fault.reported_at.desc(), Fault.id.desc())
        .limit(limit)
    )
    rows = [OpenFault(f, countdown(fault_times(f), now)) for f in faults]
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r.countdown.due if r.countdown else far, -r.fault.id))
    return rows


def failed_pages(session: Session) -> list[Fault]:
    return list(
        session.scalars(
            select(Fault)
            .where(Fault.status == FaultStatus.PAGE_FAILED.value)
            .order_by(Fault.reported_at.desc(), Fault.id.desc())
        )
    )


def active_pages(session: Session) -> list[Page]:
    pages = pending_pages(session)
    for page in pages:
        page.attempts  # noqa: B018  (load while the session is open)
    return pages


# ---- a fault's timeline ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # call, reported, page, attempt, acknowledged, responded, resolved, note, failed
    title: str
    who: str | None = None
    detail: str = ""
    call_id: int | None = None
    status: str | None = None  # the attempt's result, for its badge
    number: str | None = None  # the caller's number (E.164), shown formatted
    recording_id: int | None = None  # a recording to play in the browser


# How a page's end reads on its fault's timeline. An acknowledgement or a
# failure is the fault's own entry (written by the move), so only a page
# that stopped because the fault was dealt with elsewhere needs one here.
_PAGE_END = {
    "cancelled": ("page", "Paging stopped (the fault was dealt with)"),
}

_ENTRY_TITLES = {
    "note": "Note",
    "acknowledged": "Acknowledged",
    "responded": "Responded",
    "resolved": "Resolved",
    "page_failed": "Paging failed: nobody acknowledged",
}


def fault_timeline(session: Session, fault: Fault) -> tuple[list[Entry], list[Page]]:
    """Everything that happened to a fault, oldest first, and the pages about it."""
    entries: list[Entry] = []
    call = fault.call
    if call is not None:
        checked = "verified handset" if call.verified else "handset not verified"
        entries.append(
            Entry(
                call.started_at,
                "call",
                "Call received",
                who=call.display_name,
                detail=f"{checked}; keys pressed {call.digits or '-'}",
                call_id=call.id,
                number=call.cli,
            )
        )
    entries.append(
        Entry(fault.reported_at, "reported", f"Fault reported, {fault.priority} priority")
    )
    pages = list_pages(session, fault.reference)
    for page in pages:
        if page.kind == REMINDER:
            who = page.target or "the engineer who acknowledged"
            title = f"Reminder set: {who} is rung again at the response deadline (page {page.id})"
        else:
            title = f"Paging started (page {page.id})"
        entries.append(Entry(page.created_at, "page", title))
        for attempt in page.attempts:
            parts = [
                f"round {attempt.repeat + 1}, level {attempt.level + 1}, try {attempt.attempt + 1}"
            ]
            if attempt.sip_status:
                parts.append(f"SIP {attempt.sip_status}")
            if attempt.detail:
                parts.append(attempt.detail)
            detail = " · ".join(parts)
            result = attempt.result or "ringing"
            entries.append(
                Entry(
                    attempt.started_at,
                    "attempt",
                    f"Called {attempt.engineer_name or 'nobody'}",
                    who=attempt.contact,
                    detail=detail,
                    status=result,
                )
            )
        if page.ended_at is not None and page.status in _PAGE_END:
            kind, title = _PAGE_END[page.status]
            if page.kind == REMINDER and page.status == "cancelled":
                title = "Reminder stopped (the fault was responded to)"
            entries.append(Entry(page.ended_at, kind, title, who=page.acknowledged_by))
    for recording in session.scalars(
        select(Recording).where(Recording.fault_id == fault.id).order_by(Recording.id)
    ):
        ended = {"key": "caller pressed a key", "silence": "caller went quiet"}.get(
            recording.ended_by, recording.ended_by.replace("_", " ")
        )
        entries.append(
            Entry(
                recording.created_at,
                "recording",
                "Caller's description recorded",
                detail=f"{recording.seconds:.0f} s" + (f", ended: {ended}" if ended else ""),
                recording_id=recording.id,
            )
        )
    for note in timeline_entries(session, fault):
        kind = "failed" if note.kind == "page_failed" else note.kind
        title = _ENTRY_TITLES.get(note.kind, note.kind)
        entries.append(Entry(note.created_at, kind, title, who=note.author, detail=note.body))
    order = {"call": 0, "recording": 1, "reported": 2, "page": 3, "attempt": 4}
    entries.sort(key=lambda e: (e.at, order.get(e.kind, 9)))
    return entries, pages


@dataclass(frozen=True)
class Stage:
    name: str
    due: datetime | None
    done: datetime | None
    verdict: str  # met, missed, due, none


def stages(fault: Fault, now: datetime) -> list[Stage]:
    """Each SLA stage with its deadline, when it was done, and whether that was in time."""
    out: list[Stage] = []
    rows: Sequence[tuple[str, datetime | None, datetime | None]] = (
        ("Acknowledge", fault.acknowledge_by, fault.acknowledged_at),
        ("Respond", fault.respond_by, fault.responded_at),
        ("Resolve", fault.resolve_by, fault.resolved_at),
    )
    for name, due, done in rows:
        if due is None:
            verdict = "none"
        elif done is not None:
            verdict = "met" if done <= due else "missed"
        else:
            verdict = "missed" if now > due else "due"
        out.append(Stage(name, due, done, verdict))
    return out
