"""Carrying pages out: wake when a step is due, call the engineer, record the result.

The truth is in the database (ivr.store.pages): each page's next step
and when it is due, and one row per attempted step, written before the
phone rings. This scheduler only wakes for due rows (APScheduler, one job
re-armed for the earliest due time), so a restart loses nothing: at
start-up unfinished attempts are closed as INTERRUPTED and every page
carries on from its next step; no step is dialled twice, none is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from ivr.audio.describing import DescriptionBoard
from ivr.domain import VerifiedBy
from ivr.flow.events import Command, DescriptionKept, Event, NoteDescriptionPlayed
from ivr.flow.speech import SpeechPart
from ivr.pager.callback import CustomerCallback
from ivr.pager.dialer import Dialer, PageDialer, PageScript, contact_uri
from ivr.paging.page_flow import Descriptions, PagedFault, PageSettings, page_message
from ivr.paging.policy import AttemptResult, Policy, after
from ivr.runner import Speech
from ivr.store.callbacks import callback_answered, callback_contact, close_callback, open_callback
from ivr.store.db import Database
from ivr.store.descriptions import description_paths, note_descriptions_played
from ivr.store.engineers import PagingError
from ivr.store.models import Page
from ivr.store.models import PageAttempt as AttemptRow
from ivr.store.pages import (
    ACTIVE,
    REMINDER,
    LeaseLost,
    StepAlreadyAttempted,
    advance,
    begin_attempt,
    claim_due_pages,
    finish_attempt,
    next_due_at,
    recover_interrupted,
    stopped_pages,
    take_over,
)

log = logging.getLogger(__name__)

SAFETY_SWEEP_SECONDS = 15
SWEEP_JOB = "page-sweep"  # the one-shot sweep: at most one waits at a time
# How often, while page calls are up, to look whether their pages were
# stopped from elsewhere (`ivr faults reprioritise` in another process).
LIVE_CHECK_SECONDS = 2
LEASE_MARGIN_SECONDS = 120


class TextSpeech(Speech, Protocol):
    def prepare_text(self, text: str) -> None: ...


@dataclass(frozen=True)
class StepWork:
    """What one attempt needs, read inside the claiming transaction."""

    page_id: int
    attempt_id: int
    engineer: str | None
    uri: str | None
    ring_seconds: float
    faults: list[PagedFault]
    detail: str
    reminder: bool = False
    callback_uri: str | None = None  # where the customer is called back; None: not offered


class PagingScheduler:
    def __init__(
        self,
        db: Database,
        dialer: Dialer,
        speech: TextSpeech,
        policy: Policy,
        *,
        owner: str,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        registrar: str | None,
        page_settings: PageSettings | None = None,
        descriptions: DescriptionBoard | None = None,
        callback: bool = False,
    ) -> None:
        self.db = db
        self.callback = callback
        self._dial = dialer.dial
        # Attempts acknowledged and recorded during the call (before a callback).
        self._recorded: set[int] = set()
        self.dialer = PageDialer(dialer, speech, page_settings or PageSettings())
        self.speech = speech
        self.policy = policy
        self.owner = owner
        self.tz = tz
        self.clock = clock
        self.registrar = registrar
        self.descriptions = descriptions or DescriptionBoard()
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._calls: set[asyncio.Task[None]] = set()
        # The call under way for each page, to hang up if the page is stopped.
        self._live: dict[int, asyncio.Future[tuple[AttemptResult, int | None, str]]] = {}
        self._sweeping: set[asyncio.Task[object]] = set()
        self._woken = False
        # Claims have a thread of their own: on the shared default pool a new
        # page's claim could queue behind speech synthesis or PIN hashing
        # (a tenth of a second each) for other calls.
        self._claimer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-claim")
        longest_ring = max(level.ring_seconds for level in policy.levels)
        self.lease_seconds: float = longest_ring + LEASE_MARGIN_SECONDS
        # Told each page call's result as it ends (node metrics).
        self.on_attempt: Callable[[AttemptResult], None] | None = None

    def reconfigure(
        self,
        policy: Policy,
        speech: TextSpeech,
        page_settings: PageSettings,
        lease_seconds: float | None = None,
    ) -> None:
        """Settings for the steps started from now on (SIGHUP); a page call ringing keeps its."""
        self.policy = policy
        self.speech = speech
        self.dialer = PageDialer(self.dialer.dialer, speech, page_settings)
        longest_ring = max(level.ring_seconds for level in policy.levels)
        self.lease_seconds = (
            lease_seconds if lease_seconds is not None else longest_ring + LEASE_MARGIN_SECONDS
        )

    async def start(self) -> None:
        moved = await asyncio.to_thread(self._recover)
        if moved:
            log.warning("resumed %d page(s) interrupted by a restart", moved)
        self._scheduler.start()
        self._scheduler.add_job(
            self._sweep, "interval", seconds=SAFETY_SWEEP_SECONDS, id="page-safety-sweep"
        )
        self._scheduler.add_job(
            self._watch_live, "interval", seconds=LIVE_CHECK_SECONDS, id="page-live-check"
        )
        self.wake()

    async def stop(self) -> None:
        """Stop waking, let a sweep in progress finish its claim, and let page calls end.

        A sweep is not cancelled half-way: its claim is one transaction in a
        thread, and cancelling the coroutine would only leave APScheduler
        reporting a cancelled job, not stop the claim.
        """
        self._scheduler.shutdown(wait=False)
        if self._sweeping:
            await asyncio.wait(self._sweeping, timeout=30)
        if self._calls:
            await asyncio.wait(self._calls, timeout=60)
        self._claimer.shutdown(wait=False)

    def wake(self, at: datetime | None = None) -> None:
        """Look for due steps at `at` (now by default): after a new page, or a step's end.

        Never puts off a sweep already waiting to run sooner: a step's end
        reads the next due time in a thread, and a new page committed during
        that read would otherwise have its wake replaced by the later time
        read before it (the page then waited for the safety sweep).
        """
        when = at or datetime.now(UTC)
        if at is None:
            # A sweep already running would make APScheduler skip this one
            # (one instance at a time): the running sweep looks again instead.
            self._woken = True
        waiting = self._scheduler.get_job(SWEEP_JOB)
        # (A job added before the scheduler starts has no run time yet.)
        due = getattr(waiting, "next_run_time", None)
        if due is not None and due <= when:
            return  # that sweep's rearm schedules anything due later
        self._scheduler.add_job(
            self._sweep,
            DateTrigger(run_date=when),
            id=SWEEP_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    # ---- database work (runs in a thread) ------------------------------------

    def _recover(self) -> int:
        with self.db.sessions.begin() as session:
            return len(recover_interrupted(session, self.policy, self.clock(), owner=self.owner))

    def _claim(self) -> list[StepWork]:
        now = self.clock()
        work: list[StepWork] = []
        with self.db.sessions.begin() as session:
            for page in claim_due_pages(session, now, self.owner, self.lease_seconds):
                try:
                    attempt = begin_attempt(session, page, self.policy, now, owner=self.owner)
                except StepAlreadyAttempted:
                    # Its node died mid-call and the lease has run out: close
                    # that attempt as interrupted and carry on from the next
                    # step, on the next turn of this sweep.
                    take_over(session, page, self.policy, now)
                    log.warning("page %d: taken over from a node that stopped mid-call", page.id)
                    self._woken = True
                    continue
                except (LeaseLost, PagingError) as exc:
                    log.error("page %d: %s", page.id, exc)
                    continue
                # Whom a callback rings: read with the page, offered if set.
                customer = None
                if self.callback and page.faults:
                    customer = callback_contact(session, page.faults[0].cli)
                work.append(self._work_for(page, attempt, customer))
        return work

    def _work_for(self, page: Page, attempt: AttemptRow, customer: str | None = None) -> StepWork:
        level = self.policy.levels[attempt.level]
        uri: str | None = None
        detail = attempt.detail
        if attempt.dialable and attempt.contact:
            uri = contact_uri(attempt.contact, self.registrar)
            if uri is None:
                detail = f"no trunk configured to dial {attempt.contact}"
        paged = [
            PagedFault(
                reference=f.reference,
                customer=f.customer,
                cli=f.cli,
                reported_at=f.reported_at.astimezone(self.tz),
                by_pin=f.verified_by == VerifiedBy.PIN.value,
                respond_by=f.respond_by.astimezone(self.tz) if f.respond_by else None,
            )
            for f in page.faults
        ]
        return StepWork(
            page.id,
            attempt.id,
            attempt.engineer_name,
            uri,
            level.ring_seconds,
            paged,
            detail,
            reminder=page.kind == REMINDER,
            callback_uri=contact_uri(customer, self.registrar) if customer else None,
        )

    def _record(
        self, work: StepWork, result: AttemptResult, status: int | None, detail: str
    ) -> None:
        now = self.clock()
        with self.db.sessions.begin() as session:
            attempt = session.get_one(AttemptRow, work.attempt_id)
            page = session.get_one(Page, work.page_id)
            if attempt.ended_at is None:
                finish_attempt(session, attempt, result, now, sip_status=status, detail=detail)
            else:
                result = AttemptResult(attempt.result)
            if page.status != ACTIVE:
                # Stopped during the call (a lower priority, out of scope): it stays stopped.
                log.info(
                    "page %d step %s: %s (%s); the page was %s during the call",
                    page.id,
                    attempt.step,
                    result.value,
                    work.engineer or "nobody",
                    page.status,
                )
                return
            decision = after(self.policy, page.step, result)
            advance(session, page, decision, now, policy=self.policy)
            log.info(
                "page %d step %s: %s (%s) -> page %s",
                page.id,
                attempt.step,
                result.value,
                work.engineer or "nobody",
                page.status,
            )

    def _next_due(self) -> datetime | None:
        with self.db.sessions() as session:
            return next_due_at(session, self.clock())

    # ---- the loop ---------------------------------------------------------------

    async def _sweep(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._sweeping.add(task)
            task.add_done_callback(self._sweeping.discard)
        while True:
            self._woken = False
            try:
                loop = asyncio.get_running_loop()
                work = await loop.run_in_executor(self._claimer, self._claim)
            except Exception:
                log.exception("could not claim due pages")
                return
            for item in work:
                task = asyncio.get_running_loop().create_task(self._carry_out(item))
                self._calls.add(task)
                task.add_done_callback(self._calls.discard)
            if not self._woken:
                break
        await self._rearm()

    async def _rearm(self) -> None:
        try:
            due = await asyncio.to_thread(self._next_due)
        except Exception:
            log.exception("could not read the next page due time")
            return
        if due is not None:
            self.wake(max(due, datetime.now(UTC)) + timedelta(milliseconds=10))

    async def _watch_live(self) -> None:
        """Hang up the calls whose page was stopped while they were under way."""
        if not self._live:
            return
        page_ids = list(self._live)

        def stopped() -> list[int]:
            with self.db.sessions() as session:
                return stopped_pages(session, page_ids)

        try:
            ended = await asyncio.to_thread(stopped)
        except Exception:
            log.exception("could not read whether page calls were stopped")
            return
        for page_id in ended:
            call = self._live.get(page_id)
            if call is not None and not call.done():
                log.warning("page %d was stopped during its call; hanging up", page_id)
                call.cancel()

    async def _carry_out(self, work: StepWork) -> None:
        result, status, detail = AttemptResult.FAILED, None, work.detail
        try:
            if work.uri is not None:
                call = asyncio.ensure_future(self._call(work))
                self._live[work.page_id] = call
                try:
                    result, status, detail = await call
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise  # the service is stopping, not the page
                    result, detail = AttemptResult.STOPPED, "hung up: the page was stopped"
                finally:
                    self._live.pop(work.page_id, None)
        except Exception as exc:
            log.exception("page %d: the call failed", work.page_id)
            result, detail = AttemptResult.FAILED, f"internal error: {exc}"
        if self.on_attempt is not None:
            self.on_attempt(result)
        try:
            if work.attempt_id in self._recorded:
                self._recorded.discard(work.attempt_id)  # acknowledged before the callback
            else:
                await asyncio.to_thread(self._record, work, result, status, detail)
        except Exception:
            log.exception("page %d: could not record the attempt", work.page_id)
        await self._rearm()

    async def _call(self, work: StepWork) -> tuple[AttemptResult, int | None, str]:
        assert work.uri is not None
        customer = work.faults[0].customer
        # The customer's name is synthesised while the phone rings, not before
        # the INVITE (a critical page never waits for speech), and is ready
        # before the engineer hears anything.
        naming = (
            asyncio.ensure_future(asyncio.to_thread(self.speech.prepare_text, customer))
            if customer
            else None
        )
        log.info("page %d: calling %s at %s", work.page_id, work.engineer, work.uri)

        answered = False

        async def message() -> PageScript:
            nonlocal answered
            answered = True
            log.info("page %d: %s answered", work.page_id, work.engineer)
            faults = work.faults
            if not await _finished(naming, work.page_id):
                faults = [replace(faults[0], customer=None), *faults[1:]]
            now_local = self.clock().astimezone(self.tz)
            return await self._script(work, page_message(faults, now_local, reminder=work.reminder))

        try:
            rung = await self.dialer.ring(work.uri, work.ring_seconds, message)
        finally:
            if not answered:
                await _finished(naming, work.page_id)  # never leave its error unread
        return rung.result, rung.sip_status, rung.detail

    # ---- the customer's description, on the page call ---------------------------

    async def _script(self, work: StepWork, parts: list[SpeechPart]) -> PageScript:
        """The page with the faults' descriptions: those kept, and whether one is under way.

        A description kept while the database is read is read again, and
        the board is looked at last, with no await before the dialer
        subscribes, so none falls between the two.
        """
        references = [fault.reference for fault in work.faults]
        board = self.descriptions
        under_way = board.describing(references)
        paths = await self._read_paths(work.page_id, references)
        if under_way and not board.describing(references):
            paths = await self._read_paths(work.page_id, references)
        descriptions = Descriptions(tuple(paths), board.describing(references))

        async def handler(command: Command) -> Event | None:
            if not isinstance(command, NoteDescriptionPlayed):
                raise TypeError(f"unexpected command {command!r}")
            try:
                await asyncio.to_thread(self._note_played, work, command.recordings)
            except Exception:
                log.exception("page %d: could not note the description played", work.page_id)
            return None

        def subscribe(inject: Callable[[Event], None]) -> Callable[[], None]:
            return board.listen(references, lambda path: inject(DescriptionKept(path)))

        callback = None
        if work.callback_uri is not None:
            callback = CustomerCallback(
                self._dial, self.speech, work.callback_uri, work.ring_seconds,
                work.faults[0].reference, _CallbackRecord(self, work),
            )  # fmt: skip
        return PageScript(parts, descriptions, handler, subscribe, callback)

    async def _read_paths(self, page_id: int, references: list[str]) -> list[str]:
        """The descriptions' files, newest first; none if they cannot be read (the page goes on)."""

        def read() -> list[str]:
            with self.db.sessions() as session:
                return description_paths(session, references)

        try:
            return await asyncio.to_thread(read)
        except Exception:
            log.exception("page %d: could not read the faults' descriptions", page_id)
            return []

    def _note_played(self, work: StepWork, recordings: int) -> None:
        engineer = work.engineer or "an engineer"
        detail = f"{recordings} recording(s) played to {engineer} on page {work.page_id}"
        references = [fault.reference for fault in work.faults]
        with self.db.sessions.begin() as session:
            note_descriptions_played(session, references, engineer, detail, self.clock())
        log.info("page %d: %s", work.page_id, detail)


async def _finished(naming: asyncio.Future[None] | None, page_id: int) -> bool:
    """Whether the customer's name is ready to be said (False: say the page without it)."""
    if naming is None:
        return False
    try:
        await naming
    except Exception:
        log.exception(
            "page %d: the customer's name could not be spoken; paging without it", page_id
        )
        return False
    return True


class _CallbackRecord:
    """A page's callbacks, written down: each dial its own call row.

    The acknowledgement is recorded before the first dial (the page call
    may last as long as the conversation; the page must not wait for it).
    """

    def __init__(self, scheduler: PagingScheduler, work: StepWork) -> None:
        self.scheduler = scheduler
        self.work = work
        self.call_id: int | None = None

    async def dialling(self) -> None:
        s, work = self.scheduler, self.work
        if work.attempt_id not in s._recorded:
            await asyncio.to_thread(
                s._record,
                work,
                AttemptResult.ACKNOWLEDGED,
                200,
                "keys 15 (called the customer back)",
            )
            s._recorded.add(work.attempt_id)
        reference = work.faults[0].reference

        def write() -> int:
            with s.db.sessions.begin() as session:
                return open_callback(
                    session, page_id=work.page_id, reference=reference,
                    number=work.faults[0].cli, node=s.owner, at=s.clock(),
                )  # fmt: skip

        self.call_id = await asyncio.to_thread(write)
        log.info("page %d: calling the customer back at %s", work.page_id, work.callback_uri)

    async def answered(self, sip_call_id: str) -> None:
        s, work, call_id = self.scheduler, self.work, self.call_id
        if call_id is None:
            return

        def write() -> bool:
            with s.db.sessions.begin() as session:
                return callback_answered(session, call_id, sip_call_id, s.clock(), work.engineer)

        try:
            responded = await asyncio.to_thread(write)
        except Exception:
            log.exception("page %d: could not record the callback answered", work.page_id)
            return
        log.info(
            "page %d: the customer answered the callback%s",
            work.page_id, "; fault responded to" if responded else "",
        )  # fmt: skip

    async def ended(self, outcome: str, sip_call_id: str) -> None:
        s, work, call_id = self.scheduler, self.work, self.call_id
        self.call_id = None
        if call_id is None:
            return

        def write() -> None:
            with s.db.sessions.begin() as session:
                close_callback(session, call_id, sip_call_id, outcome, s.clock())

        try:
            await asyncio.to_thread(write)
        except Exception:
            log.exception("page %d: could not close the callback's call record", work.page_id)
        log.info("page %d: callback ended: %s", work.page_id, outcome)
