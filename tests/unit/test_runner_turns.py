"""FlowRunner's on_turn: called after each event the flow handles, to follow its state."""

from __future__ import annotations

import asyncio

from ivr.flow.call_flow import CallFlow, FlowSettings, State
from ivr.flow.events import Answered
from ivr.runner import FlowRunner
from tests.unit.test_runner_end_call import FakeCall, FakeSpeech


async def test_on_turn_follows_each_event_the_flow_handles() -> None:
    call = FakeCall()
    flow = CallFlow(FlowSettings(first_digit_timeout=60))
    seen: list[tuple[State, bool]] = []
    turned = asyncio.Event()

    def on_turn() -> None:
        seen.append((flow.state, flow.takes_keys))
        turned.set()

    runner = FlowRunner(call, flow, FakeSpeech(), on_turn=on_turn)  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(runner.run(Answered(verified=True)))
    await asyncio.wait_for(turned.wait(), 5)
    assert seen == [(State.MENU, True)]
    await call.hangup()
    await asyncio.wait_for(task, 5)
    assert seen[-1] == (State.DONE, False)
