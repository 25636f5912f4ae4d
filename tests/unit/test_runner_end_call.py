"""FlowRunner.end_call: the service stopping ends a call with a last message, then BYE."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ivr.domain import Outcome
from ivr.flow.call_flow import CallFlow, FlowSettings, State
from ivr.flow.events import Answered
from ivr.flow.speech import Prompt, SpeechPart
from ivr.runner import FlowRunner


class FakeCall:
    """Stands in for ActiveCall: records what was played and whether it hung up."""

    def __init__(self) -> None:
        self.closed = False
        self.played: list[bytes] = []
        self.hung_up = 0
        self._closed: list[Callable[[str], None]] = []

    def on_digit(self, listener: Callable[[str], None]) -> None:
        pass

    def on_closed(self, listener: Callable[[str], None]) -> None:
        self._closed.append(listener)

    async def play(self, pcm: bytes) -> None:
        self.played.append(pcm)
        await asyncio.sleep(0)

    async def hangup(self) -> None:
        self.hung_up += 1
        if not self.closed:
            self.closed = True
            for listener in self._closed:
                listener("")


class FakeSpeech:
    def audio(self, parts: tuple[SpeechPart, ...]) -> bytes:
        return "|".join(p.id for p in parts if isinstance(p, Prompt)).encode()


async def start(wanted: Callable[[], bool]) -> tuple[FakeCall, CallFlow, asyncio.Task[None]]:
    call = FakeCall()
    flow = CallFlow(FlowSettings(first_digit_timeout=60))
    runner = FlowRunner(call, flow, FakeSpeech())  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(runner.run(Answered(verified=True)))
    await asyncio.sleep(0.01)
    assert flow.state is State.MENU
    runner.end_call((Prompt("shutting_down"),), wanted)
    return call, flow, task


async def test_end_call_says_the_last_message_then_hangs_up() -> None:
    call, flow, task = await start(lambda: True)
    await asyncio.wait_for(task, 5)
    assert call.played[-1] == b"shutting_down"
    assert call.hung_up == 1
    assert flow.done
    assert flow.summary.outcome is Outcome.ABANDONED  # the session relabels it


async def test_end_call_is_skipped_when_no_longer_wanted() -> None:
    call, flow, task = await start(lambda: False)
    await asyncio.sleep(0.05)
    assert not task.done()
    assert call.hung_up == 0
    assert b"shutting_down" not in call.played
    assert flow.state is State.MENU
    await call.hangup()  # the caller goes away; the runner ends normally
    await asyncio.wait_for(task, 5)
