"""Calling the customer back for the engineer on a page call, and joining the two.

The page flow asks (CallCustomer, JoinCustomer); this carries it out on the
engineer's live call: dial the customer, tell them who is calling and
about which fault, report back to the flow, then relay audio until either
side hangs up. What is written down (the call record, the response) is the
`CallbackLog`'s business, so this module knows no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from ivr.flow.events import (
    CallCustomer,
    Command,
    CustomerAnswered,
    CustomerLeft,
    CustomerNotReached,
    Event,
    JoinCustomer,
)
from ivr.flow.speech import Digits, Prompt
from ivr.runner import Speech
from ivr.sip.bridge import Bridge
from ivr.sip.engine import ActiveCall, DialOutcome, DialResult

log = logging.getLogger(__name__)

NOT_REACHED = {
    DialOutcome.BUSY: "busy",
    DialOutcome.NO_ANSWER: "no_answer",
    DialOutcome.REJECTED: "failed",
    DialOutcome.FAILED: "failed",
}
# A callback's outcome in the call log (ivr.store.callbacks).
JOINED = "joined"
CUSTOMER_LEFT = "customer_left"  # hung up while told who was calling
ABANDONED = "abandoned"  # the engineer had gone when the customer answered


class CallbackLog(Protocol):
    """What is written down as a callback goes: each call opens its own record."""

    async def dialling(self) -> None: ...

    async def answered(self, sip_call_id: str) -> None: ...

    async def ended(self, outcome: str, sip_call_id: str) -> None: ...


class CustomerCallback:
    """One page call's callbacks to the customer (5 may be pressed again after a failure)."""

    def __init__(
        self,
        dial: Callable[[str, float], Awaitable[DialResult]],
        speech: Speech,
        uri: str,
        ring_seconds: float,
        reference: str,
        record: CallbackLog,
    ) -> None:
        self._dial = dial
        self.speech = speech
        self.uri = uri
        self.ring_seconds = ring_seconds
        self.reference = reference
        self.record = record
        self._customer: ActiveCall | None = None
        self._task: asyncio.Task[None] | None = None
        self._ringing: asyncio.Future[DialResult] | None = None
        self._engineer_gone = False

    def handles(self, command: Command) -> bool:
        return isinstance(command, CallCustomer | JoinCustomer)

    def start(
        self, command: Command, engineer: ActiveCall, inject: Callable[[Event], None]
    ) -> None:
        """Begin what `command` asks, in the background; the flow hears of the result."""
        work = (
            self._call(inject)
            if isinstance(command, CallCustomer)
            else self._join(engineer, inject)
        )
        self._task = asyncio.get_running_loop().create_task(work)

    async def _call(self, inject: Callable[[Event], None]) -> None:
        try:
            await self._dial_and_greet(inject)
        except Exception:
            # The engineer is told, not left listening to ringing forever.
            log.exception("callback to %s failed", self.uri)
            if self._customer is not None:
                await self._customer.hangup()
            inject(CustomerNotReached("failed"))

    async def _dial_and_greet(self, inject: Callable[[Event], None]) -> None:
        await self.record.dialling()
        self._ringing = asyncio.ensure_future(self._dial(self.uri, self.ring_seconds))
        try:
            dialled = await self._ringing
        except asyncio.CancelledError:
            if not self._engineer_gone:
                raise
            # The engineer hung up while the customer's phone rang: the engine
            # CANCELled the INVITE, so nobody answers to silence.
            log.info("callback to %s: cancelled, the engineer hung up", self.uri)
            await self.record.ended(ABANDONED, "")
            return
        call = dialled.call
        if dialled.outcome is not DialOutcome.ANSWERED or call is None:
            log.info("callback to %s: %s %s", self.uri, dialled.outcome.value, dialled.reason)
            await self.record.ended(dialled.outcome.value, call.call_id if call else "")
            inject(CustomerNotReached(NOT_REACHED[dialled.outcome]))
            return
        if self._engineer_gone:
            await call.hangup()
            await self.record.ended(ABANDONED, call.call_id)
            return
        self._customer = call
        await self.record.answered(call.call_id)
        greeting = (Prompt("callback_about"), Digits(self.reference), Prompt("callback_connecting"))
        await _play_unless_closed(call, self.speech.audio(greeting))
        if call.closed or self._engineer_gone:
            await call.hangup()
            left = ABANDONED if self._engineer_gone else CUSTOMER_LEFT
            await self.record.ended(left, call.call_id)
            inject(CustomerLeft())
            return
        inject(CustomerAnswered())

    async def _join(self, engineer: ActiveCall, inject: Callable[[Event], None]) -> None:
        customer = self._customer
        if customer is None:
            inject(CustomerLeft())
            return
        try:
            await Bridge(engineer, customer).run()
            await self.record.ended(JOINED, customer.call_id)
        finally:
            inject(CustomerLeft())

    async def close(self) -> None:
        """The engineer's call is over: finish what is under way, leaving no call up.

        A customer still ringing stops ringing (the dial is cancelled, and the
        engine sends CANCEL); one who answers as that happens is hung up at once.
        """
        self._engineer_gone = True
        if self._customer is not None:
            await self._customer.hangup()
        if self._ringing is not None and not self._ringing.done():
            self._ringing.cancel()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            if self._customer is not None:
                await self._customer.hangup()


async def _play_unless_closed(call: ActiveCall, pcm: bytes) -> None:
    """Play `pcm`, stopping the moment the call closes (a closed call never drains)."""
    loop = asyncio.get_running_loop()
    closed: asyncio.Future[None] = loop.create_future()

    def ended(_reason: str) -> None:
        if not closed.done():
            closed.set_result(None)

    call.on_closed(ended)
    if call.closed:
        return
    playing = loop.create_task(call.play(pcm))
    await asyncio.wait({playing, closed}, return_when=asyncio.FIRST_COMPLETED)
    playing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await playing
