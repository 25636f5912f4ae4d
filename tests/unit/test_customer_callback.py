"""Carrying a callback out, up to the dial: what the flow hears when the customer is not reached.

No sockets: the dial is a coroutine giving the engine's own DialResult,
and the log is a list. Joined calls are proven over real SIP in
tests/e2e/test_callback.py.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from ivr.flow.events import CallCustomer, CustomerNotReached, Event
from ivr.flow.speech import SpeechPart
from ivr.pager.callback import CustomerCallback
from ivr.sip.engine import DialOutcome, DialResult


class Speech:
    def audio(self, parts: tuple[SpeechPart, ...]) -> bytes:
        return b"\0\0" * len(parts)


class Log:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.written: list[str] = []

    async def dialling(self) -> None:
        if self.fail:
            raise RuntimeError("database away")
        self.written.append("dialling")

    async def answered(self, sip_call_id: str) -> None:
        self.written.append(f"answered {sip_call_id}")

    async def ended(self, outcome: str, sip_call_id: str) -> None:
        self.written.append(f"ended {outcome}")


async def attempt(result: DialResult, log: Log) -> tuple[list[Event], list[str]]:
    dialled: list[tuple[str, float]] = []

    async def dial(uri: str, ring: float) -> DialResult:
        dialled.append((uri, ring))
        return result

    heard: list[Event] = []
    done = asyncio.Event()

    def inject(event: Event) -> None:
        heard.append(event)
        done.set()

    callback = CustomerCallback(dial, Speech(), "sip:desk@pbx.example", 20.0, "471203", log)
    callback.start(CallCustomer(), cast(Any, None), inject)
    await asyncio.wait_for(done.wait(), 10)
    await callback.close()
    return heard, [uri for uri, _ring in dialled]


async def test_a_busy_customer_is_reported_as_busy_and_logged() -> None:
    log = Log()
    heard, dialled = await attempt(DialResult(DialOutcome.BUSY, 486, "Busy Here"), log)
    assert heard == [CustomerNotReached("busy")] and dialled == ["sip:desk@pbx.example"]
    assert log.written == ["dialling", "ended busy"]


async def test_no_answer_and_refusals_have_their_reasons() -> None:
    for outcome, why in (
        (DialOutcome.NO_ANSWER, "no_answer"),
        (DialOutcome.REJECTED, "failed"),
        (DialOutcome.FAILED, "failed"),
    ):
        heard, _ = await attempt(DialResult(outcome, None, "x"), Log())
        assert heard == [CustomerNotReached(why)]


async def test_a_callback_that_cannot_be_logged_tells_the_engineer_instead_of_ringing_on() -> None:
    heard, dialled = await attempt(DialResult(DialOutcome.BUSY), Log(fail=True))
    assert heard == [CustomerNotReached("failed")] and dialled == []


async def test_an_engineer_who_hangs_up_while_the_customer_rings_stops_the_ringing() -> None:
    ringing = asyncio.Event()
    stopped: list[str] = []

    async def dial(uri: str, ring: float) -> DialResult:
        ringing.set()
        try:
            await asyncio.Event().wait()  # the customer's phone rings on
        except asyncio.CancelledError:
            stopped.append(uri)  # where the engine sends CANCEL
            raise
        raise AssertionError("unreachable")

    log = Log()
    heard: list[Event] = []
    callback = CustomerCallback(dial, Speech(), "sip:desk@pbx.example", 20.0, "471203", log)
    callback.start(CallCustomer(), cast(Any, None), heard.append)
    await asyncio.wait_for(ringing.wait(), 10)
    await asyncio.wait_for(callback.close(), 10)
    assert stopped == ["sip:desk@pbx.example"]
    assert log.written == ["dialling", "ended abandoned"]
    assert heard == []  # the engineer has gone: nobody to tell
