"""One inbound call, end to end: who is calling, the call log, and the fault.

The flow decides; the runner carries out what it decides on the call; this
module supplies what only the service knows (the caller check, the clock,
the database) and handles the one command that needs it: RecordFault.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ivr.audio.describing import DescriptionBoard
from ivr.audio.description_recorder import Recorder
from ivr.callers import identify_caller
from ivr.config import RecordingConfig, TrunkConfig
from ivr.db_writer import DbWriter, NewCall
from ivr.domain import Outcome, Priority
from ivr.flow.call_flow import CallFlow, FlowSettings, State
from ivr.flow.events import (
    Answered,
    CheckCredentials,
    Command,
    CredentialsChecked,
    Event,
    FaultNotRecorded,
    FaultRecorded,
    HungUp,
    RecordFault,
    RecordingStopped,
    StartRecording,
    StopRecording,
)
from ivr.flow.speech import Prompt
from ivr.flow.status import OpenFaults
from ivr.runner import HOLD_PROMPT_AFTER_SECONDS, FlowRunner, Speech, holding
from ivr.sip.engine import InboundCall
from ivr.sip.guard import is_scanner
from ivr.sla import BusinessCalendar

log = logging.getLogger(__name__)

# How long a caller may wait, after answer, for an outage message that is not
# in memory yet (normally it is, or is read from the cache in milliseconds).
ANNOUNCEMENT_WAIT = 5.0
# How often a recording checks its time limit and whether audio still arrives.
RECORDING_WATCH_SECONDS = 0.25
# Where a call is cut short, politely, when the service stops: nothing is
# committed yet. Elsewhere the call is left to finish (it ends in seconds).
ENDED_ON_SHUTDOWN = (State.MENU, State.CONFIRM, State.RECENT_FAULT)


@dataclass
class SessionDeps:
    writer: DbWriter
    speech: Speech
    trunk: TrunkConfig
    calendar: BusinessCalendar
    flow_settings: FlowSettings
    clock: Callable[[], datetime]
    source_of: Callable[[InboundCall], Coroutine[Any, Any, str | None]]
    on_fault: Callable[[str, Priority], None] = lambda reference, priority: None
    # Makes free text's audio ready (blocking: it may synthesise); run in a thread.
    prepare_text: Callable[[str], None] | None = None
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    recent_fault_minutes: float = 60.0
    open_fault_status: bool = True
    inband_dtmf: bool = True
    # INVITEs whose User-Agent names one of these are refused unanswered.
    scanner_user_agents: tuple[str, ...] = ()
    # Tells a page call that the customer is describing the fault, then that it is kept.
    descriptions: DescriptionBoard = field(default_factory=DescriptionBoard)


class CallSession:
    def __init__(self, call: InboundCall, deps: SessionDeps) -> None:
        self.call = call
        self.deps = deps
        self.flow = CallFlow(deps.flow_settings)
        self._call_pk: int | None = None
        self._runner: FlowRunner | None = None
        self._recorder: Recorder | None = None
        self._recording_reference: str | None = None
        self._recording_watch: asyncio.Task[None] | None = None
        self._shutting_down = False
        self._marking_answered: asyncio.Future[None] | None = None

    async def run(self) -> None:
        try:
            await self._run()
        except Exception:
            log.exception("call %s failed", self.call.call_id)
            if self.flow.summary.outcome is Outcome.IN_PROGRESS:
                self.flow.summary.outcome = Outcome.FAILED
            await self.call.hangup()
        finally:
            await self._finish_recording("hangup")
            if self._marking_answered is not None:
                try:
                    await self._marking_answered
                except Exception:
                    log.exception("could not log the answer of call %s", self.call.call_id)
            if self._call_pk is not None:
                try:
                    await self.deps.writer.close_call(
                        self._call_pk, self.flow.summary, self.deps.clock()
                    )
                except Exception:
                    log.exception("could not close the log of call %s", self.call.call_id)

    async def _run(self) -> None:
        deps = self.deps
        started = deps.clock()
        if is_scanner(self.call.user_agent, deps.scanner_user_agents):
            log.warning(
                "call %s from %s refused: scanner User-Agent %r",
                self.call.call_id,
                await deps.source_of(self.call),
                (self.call.user_agent or "")[:80],
            )
            await self.call.hangup()
            return
        # Answer at once, and meanwhile find where the INVITE came from and
        # write the call log row: the caller should wait neither for the SIP
        # trace to be read (which trust needs, not the answer) nor for our
        # database (queued behind every other call's writes).
        answering = None if self._shutting_down else asyncio.ensure_future(self.call.answer())
        source = await deps.source_of(self.call)
        self.call.source_address = source
        presented = identify_caller(
            self.call.from_header,
            self.call.asserted_identity,
            source_trusted=deps.trunk.is_trusted(source),
            require_trusted_source=deps.trunk.require_trusted_source,
            from_count=self.call.from_count,
        )
        opened = await deps.writer.open_call(
            NewCall(
                sip_call_id=self.call.call_id,
                from_header=self.call.from_header,
                display_name=presented.display_name,
                asserted_identity=self.call.asserted_identity,
                source_address=source,
                cli=presented.cli,
                verification=presented.reason,
                started_at=started,
                identity_source=presented.identity_source,
            )
        )
        self._call_pk = opened.id
        runner = FlowRunner(
            self.call,
            self.flow,
            deps.speech,
            self._handle,
            on_turn=lambda: self.call.hear_inband_digits(self.flow.takes_keys),
        )
        self._runner = runner
        if self._shutting_down or answering is None:
            if answering is not None:
                await answering
            self.flow.summary.outcome = Outcome.FAILED
            await self.call.hangup()
            self.flow.handle(HungUp(), runner.now())
            return
        if not await answering:
            self.flow.handle(HungUp(), runner.now())
            return
        if deps.inband_dtmf:
            self.call.listen_for_inband_digits()
        answered_at = deps.clock()
        # Not waited for: it is queued before this call's next reads and writes,
        # so it commits with them (group commit), and the greeting need not
        # wait for a transaction of its own.
        self._marking_answered = asyncio.ensure_future(
            deps.writer.mark_answered(opened.id, answered_at)
        )
        after_hours = not deps.calendar.is_open(answered_at)
        next_opening = deps.calendar.next_opening(answered_at) if after_hours else None
        if next_opening is not None:
            log.info("call %s after hours; office opens %s", self.call.call_id, next_opening)
        first = Answered(
            verified=opened.verified,
            after_hours=after_hours,
            next_opening=next_opening,
            local_now=answered_at.astimezone(deps.calendar.tz),
            recent_reference=await self._recent_fault(opened.customer, answered_at),
            open_faults=await self._open_faults(
                opened.customer if opened.verified else None, answered_at
            ),
            announcement=await self._announcement(answered_at) if opened.verified else None,
        )
        await runner.run(first)

    def shutdown(self) -> None:
        """The service is stopping: end this call politely, keeping what it collected.

        Not answered yet: declined. Choosing a priority or confirming it
        (nothing committed): the caller hears `shutting_down`, then BYE,
        and the call is logged as failed, with its keys. Describing the
        fault: the recording is closed (and kept) and the reference read.
        Anything else (committing, reading the reference, a last message)
        ends by itself within seconds.
        """
        self._shutting_down = True
        if self._recorder is not None:
            asyncio.get_running_loop().create_task(self._stop_recording_for("shutdown"))
        if self._runner is not None:
            self._runner.end_call((Prompt("shutting_down"),), self._end_on_shutdown)

    def _end_on_shutdown(self) -> bool:
        if self.flow.state not in ENDED_ON_SHUTDOWN:
            return False
        self.flow.summary.outcome = Outcome.FAILED
        log.info("call %s ended: the service is stopping", self.call.call_id)
        return True

    async def _announcement(self, now: datetime) -> str | None:
        """The current outage message with its audio ready, or None.

        The audio is made ready in a worker thread (usually a cache hit:
        `ivr outages add` and start-up render it), so the event loop never
        waits on synthesis. A message not ready within ANNOUNCEMENT_WAIT is
        left out of this call rather than leaving the caller in silence.
        """
        try:
            message = await self.deps.writer.current_outage(now)
            if message is not None and self.deps.prepare_text is not None:
                ready = asyncio.to_thread(self.deps.prepare_text, message)
                await asyncio.wait_for(ready, ANNOUNCEMENT_WAIT)
        except TimeoutError:
            log.warning(
                "call %s: outage message not ready in time; not announced", self.call.call_id
            )
            return None
        except Exception:
            log.exception("call %s: cannot announce the current outage", self.call.call_id)
            return None
        if message is not None:
            log.info("call %s: announcing the current outage", self.call.call_id)
        return message

    async def _recent_fault(self, customer: str | None, now: datetime) -> str | None:
        minutes = self.deps.recent_fault_minutes
        if customer is None or minutes <= 0:
            return None
        return await self.deps.writer.recent_fault(customer, now - timedelta(minutes=minutes))

    async def _open_faults(self, customer: str | None, now: datetime) -> OpenFaults | None:
        """The verified customer's open faults, for the status line; None if it cannot be read."""
        if customer is None or not self.deps.open_fault_status:
            return None
        try:
            summary = await self.deps.writer.open_faults(customer, now, self.deps.calendar.tz)
        except Exception:
            log.exception("call %s: could not read the caller's open faults", self.call.call_id)
            return None
        if summary is not None:
            log.info(
                "call %s: telling the caller of fault %s and %d other open fault(s)",
                self.call.call_id,
                summary.newest.reference,
                summary.others,
            )
        return summary

    async def _handle(self, command: Command) -> Event | None:
        if isinstance(command, RecordFault):
            return await self._record(command.priority)
        if isinstance(command, CheckCredentials):
            return await self._check_credentials(command)
        if isinstance(command, StartRecording):
            self._start_recording(command)
            return None
        if isinstance(command, StopRecording):
            return await self._finish_recording("key")
        raise TypeError(f"unexpected command {command!r}")

    async def _check_credentials(self, command: CheckCredentials) -> Event:
        assert self._call_pk is not None
        now = self.deps.clock()
        try:
            customer = await self.deps.writer.verify_by_pin(
                self._call_pk, command.account, command.pin, now
            )
        except Exception:
            log.exception("call %s: could not check an account and PIN", self.call.call_id)
            customer = None
        if customer is None:
            log.info("call %s: account and PIN not recognised", self.call.call_id)
            return CredentialsChecked(None)
        log.info("call %s: verified by PIN as %s", self.call.call_id, customer)
        return CredentialsChecked(
            customer,
            await self._recent_fault(customer, now),
            await self._open_faults(customer, now),
        )

    def _start_recording(self, command: StartRecording) -> None:
        settings = self.deps.recording
        self._recording_reference = command.reference
        self._recorder = Recorder(
            settings.directory,
            command.reference,
            self.deps.clock(),
            min(command.max_seconds, settings.max_seconds),
            settings.silence_seconds,
            now=asyncio.get_running_loop().time(),
        )
        self.deps.descriptions.started(command.reference)
        self.call.discard_received_audio()
        self.call.on_audio(self._on_audio)
        self._recording_watch = asyncio.get_running_loop().create_task(self._watch_recording())
        log.info(
            "call %s: recording the description of fault %s", self.call.call_id, command.reference
        )
        if self._shutting_down:
            asyncio.get_running_loop().create_task(self._stop_recording_for("shutdown"))

    def _on_audio(self, pcm: bytes) -> None:
        if self._recorder is None:
            return
        reason = self._recorder.feed(pcm, asyncio.get_running_loop().time())
        if reason is not None:
            asyncio.get_running_loop().create_task(self._stop_recording_for(reason))

    async def _watch_recording(self) -> None:
        loop = asyncio.get_running_loop()
        while self._recorder is not None:
            reason = self._recorder.check(loop.time())
            if reason is not None:
                await self._stop_recording_for(reason)
                return
            await asyncio.sleep(RECORDING_WATCH_SECONDS)

    async def _stop_recording_for(self, reason: str) -> None:
        event = await self._finish_recording(reason)
        if event is not None and self._runner is not None:
            self._runner.inject(event)

    async def _finish_recording(self, ended_by: str) -> Event | None:
        """Close the WAV and attach it to the fault; kept whatever ended it."""
        recorder, self._recorder = self._recorder, None
        if recorder is None or self._recording_reference is None:
            return None
        watch, self._recording_watch = self._recording_watch, None
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
        self.call.off_audio(self._on_audio)
        kept: str | None = None
        try:
            finished = recorder.finish(ended_by)
            try:
                await self.deps.writer.add_recording(
                    self._recording_reference, self._call_pk, finished
                )
                kept = str(finished.path)
            except Exception:
                log.exception("recording %s could not be attached", finished.path)
        finally:
            # Whatever happened, the customer is no longer describing it.
            self.deps.descriptions.finished(self._recording_reference, kept)
        log.info(
            "recorded %.1f s for fault %s (ended by %s)",
            finished.seconds,
            self._recording_reference,
            finished.ended_by,
        )
        return RecordingStopped(finished.ended_by, finished.seconds)

    async def _record(self, priority: Priority) -> Event:
        assert self._call_pk is not None
        try:
            committed = await holding(
                self.call,
                self.deps.speech.audio((Prompt("please_hold"),)),
                HOLD_PROMPT_AFTER_SECONDS,
                self.deps.writer.record_fault(self._call_pk, priority, self.deps.clock()),
            )
        except Exception as exc:
            log.exception("fault from call %s NOT recorded", self.call.call_id)
            return FaultNotRecorded(str(exc))
        reference = committed.reference
        log.info(
            "fault %s (%s) committed from call %s; reading reference %s to the caller",
            reference,
            priority.value,
            self.call.call_id,
            reference,
        )
        self.deps.on_fault(reference, priority)  # the page rings before anything is read
        pageable = (
            await self.deps.writer.who_is_paged(reference, committed.reported_at)
            if committed.pages
            else None
        )
        tz = self.deps.calendar.tz
        return FaultRecorded(
            reference,
            acknowledge_by=committed.deadlines.acknowledge_by.astimezone(tz),
            local_now=self.deps.clock().astimezone(tz),
            engineer_called=pageable != (),
        )
