"""Ringing an engineer: one way, for real pages and for `ivr page test` alike.

Dial, and if they answer, play the page flow until they press a key or
hang up; then hang up. Whatever the outcome, it is an `AttemptResult`
with the SIP status and a line of detail, as the page's attempt row keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ivr.flow.events import Answered, Command, Event
from ivr.flow.speech import SpeechPart
from ivr.pager.callback import CustomerCallback
from ivr.paging.page_flow import Descriptions, PageFlow, PageSettings
from ivr.paging.policy import AttemptResult
from ivr.runner import CommandHandler, FlowRunner, Speech
from ivr.sip.engine import DialOutcome, DialResult

DIAL_RESULTS = {
    DialOutcome.BUSY: AttemptResult.BUSY,
    DialOutcome.NO_ANSWER: AttemptResult.NO_ANSWER,
    DialOutcome.REJECTED: AttemptResult.REJECTED,
    DialOutcome.FAILED: AttemptResult.FAILED,
}


def contact_uri(contact: str, registrar: str | None) -> str | None:
    """Where to ring a stored contact: a sip:/sips: URI as it is, a telephone
    number through the trunk's registrar; None for a number with no trunk."""
    if contact.startswith(("sip:", "sips:")):
        return contact
    if not registrar:
        return None
    return f"sip:{contact}@{registrar}"


class Dialer(Protocol):
    async def dial(self, uri: str, ring_timeout: float) -> DialResult: ...


@dataclass(frozen=True)
class RingResult:
    result: AttemptResult
    sip_status: int | None
    detail: str


@dataclass(frozen=True)
class PageScript:
    """What a page call says and offers, built at the moment the engineer answers.

    `handler` carries out the flow's commands beyond the call's own (the
    description heard, for the timeline); `subscribe`, given the way to
    feed the flow an event, starts telling it of descriptions kept while the
    call is up, and returns how to stop. With `callback`, 5 is offered once
    the engineer acknowledges: the customer is called and joined to them.
    """

    message: Sequence[SpeechPart]
    descriptions: Descriptions = field(default_factory=Descriptions)
    handler: CommandHandler | None = None
    subscribe: Callable[[Callable[[Event], None]], Callable[[], None]] | None = None
    callback: CustomerCallback | None = None


class PageDialer:
    def __init__(self, dialer: Dialer, speech: Speech, settings: PageSettings) -> None:
        self.dialer = dialer
        self.speech = speech
        self.settings = settings

    async def ring(
        self,
        uri: str,
        ring_seconds: float,
        message: Callable[[], Awaitable[Sequence[SpeechPart] | PageScript]],
    ) -> RingResult:
        """Ring `uri`; once answered, say `message()` (built then, at the moment of answer)."""
        dialled = await self.dialer.dial(uri, ring_seconds)
        if dialled.outcome is not DialOutcome.ANSWERED or dialled.call is None:
            status = dialled.sip_status
            return RingResult(DIAL_RESULTS[dialled.outcome], status, dialled.reason)
        stop: Callable[[], None] | None = None
        callback: CustomerCallback | None = None
        engineer = dialled.call
        try:
            built = await message()
            script = built if isinstance(built, PageScript) else PageScript(built)
            callback = script.callback
            flow = PageFlow(
                list(script.message),
                self.settings,
                script.descriptions,
                callback=callback is not None,
            )

            async def handle(command: Command) -> Event | None:
                if callback is not None and callback.handles(command):
                    callback.start(command, engineer, runner.inject)
                    return None
                if script.handler is None:
                    raise TypeError(f"no handler for {command!r}")
                return await script.handler(command)

            runner = FlowRunner(engineer, flow, self.speech, handle)
            # No await between the script's last look at the descriptions and
            # here: a description kept from now on reaches the flow.
            if script.subscribe is not None:
                stop = script.subscribe(runner.inject)
            await runner.run(Answered(verified=True))
        finally:
            if stop is not None:
                stop()
            if callback is not None:
                await callback.close()
            await engineer.hangup()
        result = flow.result or AttemptResult.HUNG_UP
        return RingResult(result, 200, f"keys {''.join(flow.keys) or 'none'}")
