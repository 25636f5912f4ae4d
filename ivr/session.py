"""One inbound call, end to end: who is calling, the call log, and the fault.

The flow decides; the runner carries out what it decides on the call; this
module supplies what only the service knows (the caller check, the clock,
the database) and handles the one command that needs it: RecordFault.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr.callers import identify_caller
from ivr.config import TrunkConfig
from ivr.flow.call_flow import CallFlow, FlowSettings
from ivr.flow.events import (
    Answered,
    Command,
    Event,
    FaultNotRecorded,
    FaultRecorded,
    HungUp,
    Outcome,
    Priority,
    RecordFault,
)
from ivr.records import NewCall, Records
from ivr.runner import FlowRunner, Speech
from ivr.sip.engine import InboundCall
from ivr.sla import BusinessCalendar

log = logging.getLogger(__name__)


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


class CallSession:
    def __init__(self, call: InboundCall, deps: SessionDeps) -> None:
        self.call = call
        self.deps = deps
        self.flow = CallFlow(deps.flow_settings)
        self._call_pk: int | None = None

    async def run(self) -> None:
        try:
            await self._run()
        except Exception:
            log.exception("call %s failed", self.call.call_id)
            if self.flow.summary.outcome is Outcome.IN_PROGRESS:
                self.flow.summary.outcome = Outcome.FAILED
            await self.call.hangup()
        finally:
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
        runner = FlowRunner(self.call, self.flow, deps.speech, self._handle)
        if not await self.call.answer():
            self.flow.handle(HungUp(), runner.now())
            return
        answered_at = deps.clock()
        await deps.records.mark_answered(opened.id, answered_at)
        after_hours = not deps.calendar.is_open(answered_at)
        first = Answered(
            verified=opened.verified,
            after_hours=after_hours,
            next_opening=deps.calendar.next_opening(answered_at) if after_hours else None,
            local_now=answered_at.astimezone(deps.calendar.tz),
        )
        await runner.run(first)

    async def _handle(self, command: Command) -> Event | None:
        if not isinstance(command, RecordFault):
            raise TypeError(f"unexpected command {command!r}")
        return await self._record(command.priority)

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


async def run_session(call: InboundCall, deps: SessionDeps) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await CallSession(call, deps).run()
