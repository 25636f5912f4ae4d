"""Carrying a pure flow's commands out on one live call.

Engine callbacks (keys, hang-up) and our own timers and playback become
events on one queue; the flow answers each with commands; this runner
plays audio, arms the timer and hangs up. Commands it does not know (such
as committing a fault) go to the caller-supplied handler, whose returned
event is fed back to the flow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from ivr.flow.events import (
    CancelTimer,
    Command,
    DigitPressed,
    Event,
    Hangup,
    HungUp,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import SpeechPart
from ivr.sip.engine import ActiveCall
from ivr.sip.player import BYTES_PER_SECOND


class Speech(Protocol):
    def audio(self, parts: tuple[SpeechPart, ...]) -> bytes: ...


class Flow(Protocol):
    @property
    def done(self) -> bool: ...

    def handle(self, event: Event, now: float) -> list[Command]: ...


CommandHandler = Callable[[Command], Awaitable[Event | None]]

# A last message is given this long beyond its own length to be heard.
FAREWELL_SLACK_SECONDS = 3.0
# A command that takes longer than this (a commit waiting for the database
# to come back) is not waited out in silence: the caller is asked to hold.
HOLD_PROMPT_AFTER_SECONDS = 2.0

T = TypeVar("T")


async def holding(call: ActiveCall, audio: bytes, after: float, work: Awaitable[T]) -> T:
    """Await `work`; if it takes longer than `after` seconds the caller hears `audio` once.

    What a receptionist does when the system is slow: a moment's silence is
    normal, a long one sounds like a dropped call, so the caller is asked to
    hold. A hold message already started is finished, not cut off mid-word,
    before whatever follows `work` is said.
    """
    started = False

    async def hold() -> None:
        nonlocal started
        await asyncio.sleep(after)
        started = True
        with contextlib.suppress(Exception):  # a caller gone meanwhile hears nothing
            await call.play(audio)

    holder = asyncio.ensure_future(hold())
    try:
        return await work
    finally:
        if started:
            await holder
        else:
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder


@dataclass(frozen=True)
class _Stamped:
    """A timer or playback event with the generation that produced it.

    One that was overtaken (a prompt replaced, a timer re-armed) is dropped
    instead of reaching the flow as if it were current.
    """

    kind: str
    generation: int
    event: Event


@dataclass(frozen=True)
class _EndCall:
    """Asked from outside the flow: say `parts`, then hang up, if still `wanted()`."""

    parts: tuple[SpeechPart, ...]
    wanted: Callable[[], bool]


class FlowRunner:
    def __init__(
        self,
        call: ActiveCall,
        flow: Flow,
        speech: Speech,
        handler: CommandHandler | None = None,
        on_turn: Callable[[], None] | None = None,
    ) -> None:
        """`on_turn` is called after each event the flow has handled, so that the
        caller can follow the flow's state (e.g. listen for in-band keys only
        while they count)."""
        self.call = call
        self._on_turn = on_turn
        self.flow = flow
        self.speech = speech
        self.handler = handler
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[Event | _Stamped | _EndCall] = asyncio.Queue()
        self._generation = {"timer": 0, "playback": 0}
        self._timer: asyncio.TimerHandle | None = None
        self._playback: asyncio.Task[None] | None = None
        call.on_digit(lambda key: self._events.put_nowait(DigitPressed(key)))
        call.on_closed(lambda _reason: self._events.put_nowait(HungUp()))
        if call.closed:
            self._events.put_nowait(HungUp())

    def now(self) -> float:
        return self._loop.time()

    def inject(self, event: Event) -> None:
        """Deliver an event that arose outside a command (e.g. a recording that stopped)."""
        self._events.put_nowait(event)

    def end_call(self, parts: tuple[SpeechPart, ...], wanted: Callable[[], bool]) -> None:
        """At the runner's next turn, if `wanted()` then: say `parts` and hang up.

        For the service stopping. The flow is not asked (it knows nothing of
        the service); it hears HungUp once the call is down, so its summary
        keeps the keys collected. `wanted` is checked when the request comes
        up, after any command already under way (e.g. a fault being
        committed), so a call that has moved on can be left to finish.
        """
        self._events.put_nowait(_EndCall(parts, wanted))

    async def run(self, first: Event) -> None:
        """Feed `first`, then every event, until the flow is done."""
        try:
            await self._execute(self.flow.handle(first, self.now()))
            self._turned()
            while not self.flow.done:
                item = await self._events.get()
                if isinstance(item, _EndCall):
                    if item.wanted():
                        await self._say_and_hang_up(item.parts)
                    continue
                event = self._current(item)
                if event is not None:
                    await self._execute(self.flow.handle(event, self.now()))
                    self._turned()
        finally:
            self._stop_playback()
            self._cancel_timer()

    def _turned(self) -> None:
        if self._on_turn is not None:
            self._on_turn()

    async def _say_and_hang_up(self, parts: tuple[SpeechPart, ...]) -> None:
        self._stop_playback()
        self._cancel_timer()
        if not self.call.closed:
            pcm = self.speech.audio(parts)
            limit = len(pcm) / BYTES_PER_SECOND + FAREWELL_SLACK_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.call.play(pcm), limit)
        await self.call.hangup()
        await self._execute(self.flow.handle(HungUp(), self.now()))

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
            elif isinstance(command, Hangup):
                await self.call.hangup()
            elif self.handler is not None:
                event = await self.handler(command)
                if event is not None:
                    self._events.put_nowait(event)
            else:
                raise TypeError(f"no handler for {command!r}")

    def _start_playback(self, play: Play) -> None:
        self._stop_playback()
        pcm = self.speech.audio(play.parts)
        self._generation["playback"] += 1
        generation = self._generation["playback"]
        self._playback = self._loop.create_task(self._play(pcm, generation))

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
