"""One inbound call, end to end: the glue between the SIP engine and the pure flow.

The session turns engine callbacks into flow events on one queue, asks the
flow what to do, and carries the commands out: play audio, arm the timer,
commit the fault, hang up. Everything the flow decides is in the flow;
everything here is I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ivr.callers import identify_caller
from ivr.config import TrunkConfig
from ivr.flow.call_flow import CallFlow, FlowSettings, State
from ivr.flow.events import (
    Answered,
    CancelTimer,
    Command,
    DigitPressed,
    Event,
    FaultNotRecorded,
    FaultRecorded,
    Hangup,
    HungUp,
    Outcome,
    Play,
    PlaybackFinished,
    Priority,
    RecordFault,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import SpeechPart
from ivr.records import NewCall, Records
from ivr.sip.engine import InboundCall
from ivr.sla import BusinessCalendar

log = logging.getLogger(__name__)


class Speech(Protocol):
    def audio(self, parts: tuple[SpeechPart, ...]) -> bytes: ...


@dataclass
class SessionDeps:
    records: Records
    speech: Speech
    trunk: TrunkConfig
    calendar: BusinessCalendar
    flow_settings: FlowSettings
    clock: Callable[[], datetime]
    source_of: Callable[[InboundCall], Coroutine[Any, Any, str | None]]
    on_fault: Callable[[str, Priority], None] = lambda reference, priority: None


@dataclass(frozen=True)
class _Stamped:
    kind: str
    generation: int
    event: Event


class CallSession:
    def __init__(self, call: InboundCall, deps: SessionDeps) -> None:
        self.call = call
        self.deps = deps
        self.flow = CallFlow(deps.flow_settings)
        self._events: asyncio.Queue[Event | _Stamped] = asyncio.Queue()
        # Timer and playback events carry the generation that produced them,
        # so one that was overtaken (a prompt replaced, a timer re-armed)
        # never reaches the flow as if it were current.
        self._generation = {"timer": 0, "playback": 0}
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._playback: asyncio.Task[None] | None = None
        self._call_pk: int | None = None
        call.on_digit(lambda key: self._events.put_nowait(DigitPressed(key)))
        call.on_closed(lambda _reason: self._events.put_nowait(HungUp()))

    async def run(self) -> None:
        try:
            await self._run()
        except Exception:
            log.exception("call %s failed", self.call.call_id)
            if self.flow.summary.outcome is Outcome.IN_PROGRESS:
                self.flow.summary.outcome = Outcome.FAILED
            await self.call.hangup()
        finally:
            self._stop_playback()
            self._cancel_timer()
            if self._call_pk is not None:
                try:
                    await self.deps.records.close_call(
                        self._call_pk, self.flow.summary, self.deps.clock()
                    )
                except Exception:
                    log.exception("could not close the log of call %s", self.call.call_id)

    async def _run(self) -> None:
        deps = self.deps
        started = deps.clock()
        source = await deps.source_of(self.call)
        self.call.source_address = source
        presented = identify_caller(
            self.call.from_header,
            self.call.asserted_identity,
            source_trusted=deps.trunk.is_trusted(source),
            require_trusted_source=deps.trunk.require_trusted_source,
        )
        opened = await deps.records.open_call(
            NewCall(
                sip_call_id=self.call.call_id,
                from_header=self.call.from_header,
                display_name=presented.display_name,
                asserted_identity=self.call.asserted_identity,
                source_address=source,
                cli=presented.cli,
                verification=presented.reason,
                started_at=started,
            )
        )
        self._call_pk = opened.id
        if not await self.call.answer():
            self.flow.handle(HungUp(), self._loop.time())
            return
        answered_at = deps.clock()
        await deps.records.mark_answered(opened.id, answered_at)
        after_hours = not deps.calendar.is_open(answered_at)
        local_now = answered_at.astimezone(deps.calendar.tz)
        first = Answered(
            verified=opened.verified,
            after_hours=after_hours,
            next_opening=deps.calendar.next_opening(answered_at) if after_hours else None,
            local_now=local_now,
        )
        await self._execute(self.flow.handle(first, self._loop.time()))
        while self.flow.state is not State.DONE:
            item = await self._events.get()
            event = self._current(item)
            if event is not None:
                await self._execute(self.flow.handle(event, self._loop.time()))

    def _current(self, item: Event | _Stamped) -> Event | None:
        if isinstance(item, _Stamped):
            return item.event if self._generation[item.kind] == item.generation else None
        return item

    async def _execute(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, Play):
                self._start_playback(command)
            elif isinstance(command, StopPlayback):
                self._stop_playback()
            elif isinstance(command, SetTimer):
                self._arm_timer(command.deadline)
            elif isinstance(command, CancelTimer):
                self._cancel_timer()
            elif isinstance(command, RecordFault):
                self._events.put_nowait(await self._record(command.priority))
            elif isinstance(command, Hangup):
                await self.call.hangup()

    async def _record(self, priority: Priority) -> Event:
        assert self._call_pk is not None
        try:
            reference = await self.deps.records.record_fault(
                self._call_pk, priority, self.deps.clock()
            )
        except Exception as exc:
            log.exception("fault from call %s NOT recorded", self.call.call_id)
            return FaultNotRecorded(str(exc))
        log.info(
            "fault %s (%s) committed from call %s; reading reference %s to the caller",
            reference,
            priority.value,
            self.call.call_id,
            reference,
        )
        self.deps.on_fault(reference, priority)
        return FaultRecorded(reference)

    def _start_playback(self, play: Play) -> None:
        self._stop_playback()
        pcm = self.deps.speech.audio(play.parts)
        self._generation["playback"] += 1
        self._playback = self._loop.create_task(self._play(pcm, self._generation["playback"]))

    async def _play(self, pcm: bytes, generation: int) -> None:
        await self.call.play(pcm)
        self._playback = None
        self._events.put_nowait(_Stamped("playback", generation, PlaybackFinished()))

    def _stop_playback(self) -> None:
        self._generation["playback"] += 1
        if self._playback is not None:
            self._playback.cancel()
            self._playback = None

    def _arm_timer(self, deadline: float) -> None:
        self._cancel_timer()
        self._generation["timer"] += 1
        fired = _Stamped("timer", self._generation["timer"], TimerExpired())
        self._timer = self._loop.call_at(deadline, lambda: self._events.put_nowait(fired))

    def _cancel_timer(self) -> None:
        self._generation["timer"] += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def run_session(call: InboundCall, deps: SessionDeps) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await CallSession(call, deps).run()
