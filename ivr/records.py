"""The service's transactions on the call log and faults.

Every write goes through one worker thread: SQLite allows one writer at a
time anyway, and a single queue keeps commits in the order calls made
them. Each method is one short transaction that has committed when it
returns, so a reference is never spoken before its fault is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.domain import Priority
from ivr.flow.events import CallSummary
from ivr.paging.policy import Policy
from ivr.recording import FinishedRecording
from ivr.sla import DEFAULT_SLA_RULES, BusinessCalendar, SlaRules, deadlines
from ivr.store.db import Database
from ivr.store.faults import find_fault, new_reference, recent_open_fault, reference_taken
from ivr.store.handsets import find_handset
from ivr.store.models import CallRecord, Fault, Recording
from ivr.store.outages import current_outage
from ivr.store.pages import open_page

log = logging.getLogger(__name__)
T = TypeVar("T")

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


@dataclass(frozen=True)
class OpenedCall:
    id: int
    verified: bool
    customer: str | None


def _clip(value: str | None, limit: int = MAX_STORED_TEXT) -> str | None:
    return value[:limit] if value is not None else None


class Records:
    def __init__(
        self,
        db: Database,
        calendar: BusinessCalendar,
        paging: Policy,
        node: str | None = None,
        *,
        rules: SlaRules = DEFAULT_SLA_RULES,
    ) -> None:
        self.db = db
        self.calendar = calendar
        self.rules = rules  # the SLA targets in force (sip.conf [sla])
        self.paging = paging
        self.node = node
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")

    async def _run(self, work: Callable[[Session], T]) -> T:
        def transaction() -> T:
            with self.db.sessions.begin() as session:
                return work(session)

        return await asyncio.get_running_loop().run_in_executor(self._writer, transaction)

    async def open_call(self, new: NewCall) -> OpenedCall:
        """Log the call as it arrives, verified against the handsets table."""

        def work(session: Session) -> OpenedCall:
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
                started_at=new.started_at,
                node=self.node,
            )
            session.add(record)
            session.flush()
            return OpenedCall(record.id, handset is not None, record.customer)

        return await self._run(work)

    async def mark_answered(self, call_id: int, at: datetime) -> None:
        def work(session: Session) -> None:
            record = session.get_one(CallRecord, call_id)
            record.answered_at = at

        await self._run(work)

    async def record_fault(self, call_id: int, priority: Priority, reported_at: datetime) -> str:
        """Create the fault with its SLA deadlines; returns its reference once committed.

        A fault whose priority pages engineers gets its page in the same
        transaction: there is no moment at which a committed critical fault
        exists without a pending page, whatever happens to the process.
        """
        clock = deadlines(priority, reported_at, self.calendar, self.rules)

        def work(session: Session) -> str:
            call = session.get_one(CallRecord, call_id)
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
                customer=call.customer,
                cli=call.cli,
                call_id=call.id,
                reported_at=reported_at,
                acknowledge_by=clock.acknowledge_by,
                respond_by=clock.respond_by,
                resolve_by=clock.resolve_by,
            )
            session.add(fault)
            if self.paging.pages(priority.value):
                open_page(session, fault, reported_at)
            call.fault_reference = reference
            return reference

        for _ in range(3):
            try:
                return await self._run(work)
            except IntegrityError:
                # Another node took the same reference between our check and
                # our commit: draw again.
                log.warning("fault reference collision; drawing another")
        raise RuntimeError("could not commit the fault after three reference collisions")

    async def recent_fault(self, customer: str, since: datetime) -> str | None:
        """The reference of this customer's latest open fault reported since `since`."""

        def work(session: Session) -> str | None:
            return recent_open_fault(session, customer, since)

        return await self._run(work)

    async def add_recording(
        self, reference: str, call_id: int | None, recording: FinishedRecording
    ) -> None:
        def work(session: Session) -> None:
            fault = find_fault(session, reference)
            if fault is None:
                raise LookupError(f"no fault {reference} to attach a recording to")
            session.add(
                Recording(
                    fault_id=fault.id,
                    call_id=call_id,
                    path=str(recording.path),
                    seconds=recording.seconds,
                    sha256=recording.sha256,
                    ended_by=recording.ended_by,
                )
            )

        await self._run(work)

    async def close_call(self, call_id: int, summary: CallSummary, ended_at: datetime) -> None:
        def work(session: Session) -> None:
            record = session.get_one(CallRecord, call_id)
            record.ended_at = ended_at
            record.digits = "".join(summary.digits)[:64]
            record.outcome = summary.outcome.value
            if summary.reference:
                record.fault_reference = summary.reference

        await self._run(work)

    async def current_outage(self, now: datetime) -> str | None:
        """The outage message callers hear at `now`, if any.

        A read, so it runs in its own short session off the event loop
        rather than queueing behind the writer's commits.
        """

        def read() -> str | None:
            with self.db.sessions() as session:
                outage = current_outage(session, now)
                return outage.message if outage is not None else None

        return await asyncio.to_thread(read)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
