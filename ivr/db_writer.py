"""The service's transactions on the call log and faults.

Every write goes through one worker thread: SQLite allows one writer at a
time anyway, and a single queue keeps commits in the order calls made
them. Each method is one short transaction that has committed when it
returns, so a reference is never spoken before its fault is durable.

When the database goes away (a PostgreSQL restart, a dropped network) a
write is tried again until it commits or `wait_seconds` have passed
(`[general] database_wait_seconds`), and then fails with DatabaseWaitExceeded:
a caller is kept waiting a bounded time, never forever. Because a failed
COMMIT may in fact have been made, every write is idempotent
(`ivr.store.call_writes`): a retried fault is found by its call, not made
twice. A full disk is not waited for: it does not empty itself in seconds,
so the write fails at once and the log says so loudly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from ivr.audio.description_recorder import FinishedRecording
from ivr.db_wait import DEFAULT_WAIT_SECONDS, REMIND_SECONDS, Availability, RetryWindow
from ivr.domain import Priority
from ivr.flow.events import CallSummary
from ivr.flow.status import OpenFaults
from ivr.paging.policy import Policy
from ivr.sla import DEFAULT_SLA_RULES, BusinessCalendar, Deadlines, SlaRules, deadlines
from ivr.store import call_writes
from ivr.store.call_writes import DescriptionFile, NewCall, OpenedCall
from ivr.store.db import Conflict, Database, StorageFull, Unavailable
from ivr.store.fault_status import open_fault_summary
from ivr.store.faults import recent_open_fault
from ivr.store.oncall import pageable_now
from ivr.store.outages import current_outage
from ivr.store.sessions import Session

__all__ = ["CommittedFault", "DatabaseWaitExceeded", "DbWriter", "NewCall", "OpenedCall"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# The most writes committed in one transaction: enough for every call of a
# busy node at once, few enough that one slow group does not hold the rest.
MAX_GROUP = 64


@dataclass(frozen=True)
class CommittedFault:
    """A fault as committed: what the caller is told comes from here."""

    reference: str
    reported_at: datetime
    deadlines: Deadlines
    pages: bool  # its priority pages engineers


@dataclass(frozen=True)
class _Failed:
    """A write's exception, carried back from the writer thread beside the others' results."""

    error: Exception


@dataclass(frozen=True)
class _Queued(Generic[T]):
    """A write waiting for the writer, and the future its caller awaits."""

    work: Callable[[Session], T]
    done: asyncio.Future[T]
    urgent: bool = False  # a fault that pages: committed ahead of the rest, without them

    def deliver(self, outcome: object) -> None:
        if self.done.done():  # its caller was cancelled
            return
        if isinstance(outcome, _Failed):
            self.done.set_exception(outcome.error)
        else:
            self.done.set_result(outcome)  # type: ignore[arg-type]


class DatabaseWaitExceeded(Unavailable):
    """The database stayed away longer than the bounded wait: the write was not made."""


class DbWriter:
    def __init__(
        self,
        db: Database,
        calendar: BusinessCalendar,
        paging: Policy,
        node: str | None = None,
        *,
        rules: SlaRules = DEFAULT_SLA_RULES,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
        probe_seconds: float | None = 2.0,
    ) -> None:
        """`clock` and `pause` are the waits' time (tests step them by hand);
        `probe_seconds`, how often the database is pinged while away (None: never),
        so that its return is logged even when no call is writing."""
        self.db = db
        self.calendar = calendar
        self.rules = rules  # the SLA targets in force (sip.conf [sla])
        self.paging = paging
        self.node = node
        self.wait_seconds = wait_seconds
        self._clock = clock
        self._pause = pause
        self._probe_seconds = probe_seconds
        self._probe: asyncio.Task[None] | None = None
        self.availability = Availability()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._queued: list[_Queued[Any]] = []
        self._committing: asyncio.Task[None] | None = None
        # For node metrics: writes queued or in progress, and each commit's seconds.
        self.pending = 0
        self.on_commit: Callable[[float], None] | None = None

    async def _run_once(self, work: Callable[[Session], T], urgent: bool = False) -> T:
        """One attempt at `work`, committed with whatever else is queued by then
        (an urgent one before the others, with only the urgent ones)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        if urgent:
            # After the urgent ones already waiting, before everything else.
            ahead = sum(1 for queued in self._queued if queued.urgent)
            self._queued.insert(ahead, _Queued(work, done, urgent=True))
        else:
            self._queued.append(_Queued(work, done))
        if self._committing is None or self._committing.done():
            self._committing = loop.create_task(self._commit_queued())
        self.pending += 1
        try:
            return await done
        finally:
            self.pending -= 1

    async def _commit_queued(self) -> None:
        """Group commit: while one transaction commits, the writes queued meanwhile
        wait, and then go in one transaction together; one COMMIT (one fsync) for
        many calls is what keeps the writer from being the service's bottleneck."""
        loop = asyncio.get_running_loop()
        while self._queued:
            # Faults that page go first, in a group of their own: a critical
            # fault's commit (and so its page) must not wait for a big group of
            # other calls' writes, and many at once (an outage) still share one.
            urgent = sum(1 for queued in self._queued if queued.urgent)
            size = min(urgent or MAX_GROUP, MAX_GROUP)
            group, self._queued = self._queued[:size], self._queued[size:]
            works = [queued.work for queued in group]
            try:
                outcomes = await loop.run_in_executor(self._writer, self._commit_group, works)
            except Exception as exc:  # the writer is shut down: nobody may wait for ever
                outcomes = [_Failed(exc)] * len(group)
            for queued, outcome in zip(group, outcomes, strict=True):
                queued.deliver(outcome)

    def _commit_group(self, works: list[Callable[[Session], object]]) -> list[object]:
        """Each work's result (or `_Failed`), committed in one transaction if they all can.

        A failure that is the database's (away, disk full) is every work's: each
        retries on its own schedule (`_run`). Any other failure may be one
        work's own (a reference another node took, a bug), so the group is
        rolled back and each work runs alone, and the others still commit.
        """
        if len(works) > 1:
            try:
                return self._timed(lambda session: [work(session) for work in works])
            except Unavailable as exc:
                return [_Failed(exc)] * len(works)
            except Exception:
                log.debug("a group of %d writes failed; writing them one by one", len(works))
        outcomes: list[object] = []
        for work in works:
            try:
                outcomes.append(self._timed(work))
            except Exception as exc:
                outcomes.append(_Failed(exc))
        return outcomes

    def _timed(self, work: Callable[[Session], T]) -> T:
        started = time.perf_counter()
        result = self.db.transaction(work)
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)
        return result

    async def _run(
        self, work: Callable[[Session], T], what: str = "a write", *, urgent: bool = False
    ) -> T:
        """Commit `work` (idempotent), waiting a bounded time for a database that is away."""
        window = RetryWindow(self._clock(), self.wait_seconds)
        while True:
            try:
                result = await self._run_once(work, urgent)
            except StorageFull as exc:
                self._failed(exc)
                log.critical(
                    "DATABASE DISK FULL: %s was NOT written (%s); free space on the "
                    "database's filesystem now",
                    what,
                    exc,
                )
                raise
            except Unavailable as exc:
                self._failed(exc)
                delay = window.failed(self._clock())
                if delay is None:
                    log.error(
                        "%s NOT written: the database did not come back within %g s",
                        what,
                        self.wait_seconds,
                    )
                    raise DatabaseWaitExceeded(
                        f"the database did not come back within {self.wait_seconds:g} s ({exc})"
                    ) from exc
                if window.attempts == 1:
                    log.warning("%s waiting for the database (up to %g s)", what, self.wait_seconds)
                await self._pause(delay)
                continue
            self._succeeded()
            if window.attempts:
                log.info("%s committed after %d failed attempt(s)", what, window.attempts)
            return result

    def _failed(self, exc: Unavailable) -> None:
        line = self.availability.failed(self._clock(), str(exc))
        if line is not None:
            log.error("%s", line)
        if self._probe_seconds is not None and (self._probe is None or self._probe.done()):
            self._probe = asyncio.get_running_loop().create_task(self._watch_outage())

    def _succeeded(self) -> None:
        line = self.availability.succeeded(self._clock())
        if line is not None:
            log.warning("%s", line)

    async def _watch_outage(self) -> None:
        """Ping the away database until it answers, so the log says when it is back
        (and keeps saying it is away) even while no call writes."""
        assert self._probe_seconds is not None
        while self.availability.down:
            await self._pause(min(self._probe_seconds, REMIND_SECONDS))
            if not self.availability.down:
                return
            try:
                await asyncio.to_thread(self.db.ping)
            except Unavailable as exc:
                line = self.availability.failed(self._clock(), str(exc))
                if line is not None:
                    log.error("%s", line)
                continue
            except Exception:
                log.exception("could not ping the database")
                continue
            self._succeeded()

    async def open_call(self, new: NewCall) -> OpenedCall:
        """Log the call as it arrives, verified against the handsets table."""
        return await self._run(
            lambda session: call_writes.open_call(session, new, self.node),
            f"the log of call {new.sip_call_id[:80]}",
        )

    async def mark_answered(self, call_id: int, at: datetime) -> None:
        await self._run(
            lambda session: call_writes.mark_answered(session, call_id, at),
            f"the answer of call record {call_id}",
        )

    async def record_fault(
        self, call_id: int, priority: Priority, reported_at: datetime
    ) -> CommittedFault:
        """Create the fault with its SLA deadlines; returns it once committed.

        Safe to retry: a call's fault is made once (`call_writes.create_fault`
        returns the one a lost COMMIT made), so the reference returned is the
        one stored, whatever happened to the connection.
        """
        clock = deadlines(priority, reported_at, self.calendar, self.rules)
        pages = self.paging.pages(priority.value)

        def work(session: Session) -> str:
            return call_writes.create_fault(
                session, call_id, priority, reported_at, clock, pages=pages
            )

        for _ in range(3):
            try:
                reference = await self._run(
                    work, f"the fault of call record {call_id}", urgent=pages
                )
            except Conflict:
                # Another node took the same reference between our check and
                # our commit: draw again.
                log.warning("fault reference collision; drawing another")
                continue
            return CommittedFault(reference, reported_at, clock, pages)
        raise RuntimeError("could not commit the fault after three reference collisions")

    async def who_is_paged(self, reference: str, at: datetime) -> tuple[str, ...] | None:
        """Who the fault's page can ring, read after the commit (None if that read fails).

        Never part of the fault's own transaction: nothing about the rota may
        stop a critical fault from being committed.
        """

        def read(session: Session) -> tuple[str, ...]:
            return pageable_now(session, self.paging, at)

        try:
            pageable = await asyncio.to_thread(self.db.read, read)
        except Exception:
            log.exception("fault %s: could not read who is on call", reference)
            return None
        if not pageable:
            log.error(
                "fault %s pages, but nobody can be paged now (empty rota, no engineers, "
                "or only inactive ones): see `ivr oncall now`",
                reference,
            )
        return pageable

    async def verify_by_pin(
        self, call_id: int, account: str, pin: str, now: datetime
    ) -> str | None:
        """The customer's name when the account and PIN match (the call is then theirs).

        Run in a thread of its own, not on the writer: the PIN's memory-hard
        hash takes a tenth of a second, and no other call's commit (a
        critical fault's above all) may wait behind it.
        """

        def work(session: Session) -> str | None:
            customer = call_writes.verify_by_pin(session, call_id, account, pin, now)
            return customer.name if customer is not None else None

        return await asyncio.to_thread(self.db.transaction, work)

    async def recent_fault(self, customer: str, since: datetime) -> str | None:
        """The reference of this customer's latest open fault reported since `since`."""
        return await self._run(
            lambda session: recent_open_fault(session, customer, since),
            f"the recent faults of {customer}",
        )

    async def open_faults(self, customer: str, now: datetime, tz: ZoneInfo) -> OpenFaults | None:
        """This customer's open faults, for the status line they hear first."""
        return await self._run(lambda session: open_fault_summary(session, customer, now, tz))

    async def add_recording(
        self, reference: str, call_id: int | None, recording: FinishedRecording
    ) -> None:
        description = DescriptionFile(
            str(recording.path), recording.seconds, recording.sha256, recording.ended_by
        )
        await self._run(
            lambda session: call_writes.attach_description(
                session, reference, call_id, description
            ),
            f"the recording of fault {reference}",
        )

    async def close_call(self, call_id: int, summary: CallSummary, ended_at: datetime) -> None:
        await self._run(
            lambda session: call_writes.close_call(
                session,
                call_id,
                outcome=summary.outcome,
                digits="".join(summary.digits),
                reference=summary.reference,
                reference_heard=summary.reference_heard,
                ended_at=ended_at,
            ),
            f"the end of call record {call_id}",
        )

    async def current_outage(self, now: datetime) -> str | None:
        """The outage message callers hear at `now`, if any.

        A read, so it runs in its own short session off the event loop
        rather than queueing behind the writer's commits.
        """

        def read(session: Session) -> str | None:
            outage = current_outage(session, now)
            return outage.message if outage is not None else None

        return await asyncio.to_thread(self.db.read, read)

    def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        self._writer.shutdown(wait=True)
