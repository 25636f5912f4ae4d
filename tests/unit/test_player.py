"""`play_pcm`: the whole prompt goes out, play ends when it has, and barge-in cuts it at once.

The sink stands in for a call's transmit buffer (engine._CallAudioSink:
write, buffered, flush). Its "RTP clock" is stepped by the test: either a
fixed number of bytes each time the player looks at the buffer, or by hand.
The player's tick is set to nothing, so no test waits on the wall clock.
"""

from __future__ import annotations

import asyncio

import pytest

from ivr.sip import player
from ivr.sip.player import BYTES_PER_SECOND, LEAD_SECONDS, play_pcm

LEAD = int(BYTES_PER_SECOND * LEAD_SECONDS)
PACKET = 320  # 20 ms of 8 kHz 16-bit audio


class FakeSink:
    """A transmit buffer drained by a pretend RTP clock."""

    def __init__(self, drain_per_look: int = 0, accept_at_most: int | None = None) -> None:
        self.drain_per_look = drain_per_look
        self.accept_at_most = accept_at_most
        self.queued = bytearray()  # written, not yet transmitted
        self.sent = bytearray()  # transmitted to the caller
        self.most_queued = 0
        self.writes = 0
        self.flushes = 0

    def write(self, pcm: bytes) -> int:
        accepted = pcm if self.accept_at_most is None else pcm[: self.accept_at_most]
        self.queued += accepted
        self.most_queued = max(self.most_queued, len(self.queued))
        self.writes += 1
        return len(accepted)

    def buffered(self) -> int:
        self.drain(self.drain_per_look)
        return len(self.queued)

    def flush(self) -> None:
        self.queued.clear()
        self.flushes += 1

    def drain(self, count: int) -> None:
        self.sent += self.queued[:count]
        del self.queued[:count]


@pytest.fixture(autouse=True)
def no_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(player, "TICK_SECONDS", 0)


def prompt(seconds: float) -> bytes:
    """Distinct bytes throughout, so that order and completeness both show."""
    size = int(BYTES_PER_SECOND * seconds)
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_the_whole_prompt_is_sent_in_order_and_never_far_ahead() -> None:
    pcm = prompt(2.0)
    sink = FakeSink(drain_per_look=PACKET)
    await play_pcm(sink, pcm)
    assert bytes(sink.sent) == pcm
    assert sink.queued == bytearray()
    assert sink.flushes == 0
    # Never more than the lead in the buffer: that is what makes a flush immediate.
    assert sink.most_queued <= LEAD


async def test_a_sink_that_takes_less_than_offered_still_gets_every_byte() -> None:
    pcm = prompt(1.0)
    sink = FakeSink(drain_per_look=PACKET, accept_at_most=100)
    await play_pcm(sink, pcm)
    assert bytes(sink.sent) == pcm


async def test_play_ends_only_when_the_buffer_has_drained() -> None:
    pcm = prompt(0.1)  # less than the lead: all of it is written at once
    sink = FakeSink()  # the clock is stopped until the test moves it
    task = asyncio.create_task(play_pcm(sink, pcm))
    await turns(20)
    assert bytes(sink.queued) == pcm
    assert not task.done()  # written is not heard
    sink.drain(len(pcm) - 1)
    await turns(20)
    assert not task.done()  # one byte still to go
    sink.drain(1)
    await turns(5)
    assert task.done()
    await task
    assert bytes(sink.sent) == pcm
    assert sink.flushes == 0


async def test_cancelling_a_play_flushes_the_buffer_at_once() -> None:
    pcm = prompt(3.0)
    sink = FakeSink()
    task = asyncio.create_task(play_pcm(sink, pcm))
    await turns(10)
    sink.drain(PACKET * 5)  # the caller has heard the first 100 ms
    await turns(10)
    assert len(sink.queued) > 0
    writes = sink.writes
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.flushes == 1
    assert sink.queued == bytearray()  # nothing more reaches the caller
    assert sink.writes == writes  # and nothing more is written
    assert len(sink.sent) == PACKET * 5
    assert bytes(sink.sent) == pcm[: PACKET * 5]


async def test_cancelling_while_waiting_for_the_drain_flushes_too() -> None:
    pcm = prompt(0.1)
    sink = FakeSink()
    task = asyncio.create_task(play_pcm(sink, pcm))
    await turns(20)
    assert bytes(sink.queued) == pcm  # all written; waiting for it to be sent
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.flushes == 1
    assert sink.queued == bytearray()
