"""`play_pcm`: the whole prompt goes out, play ends when it has, and barge-in cuts it at once.

The sink stands in for a call's transmit buffer (engine._CallAudioSink:
write, buffered, flush), with a capacity like the engine's. Its "RTP clock"
is moved by the player's own pauses (a pause of s seconds transmits s
seconds of audio) or, with the clock stopped, by the test by hand. No test
waits on the wall clock.
"""

from __future__ import annotations

import asyncio

import pytest

from ivr.sip.player import BYTES_PER_SECOND, LEAD_SECONDS, TICK_SECONDS, play_pcm

LEAD = int(BYTES_PER_SECOND * LEAD_SECONDS)
PACKET = 320  # 20 ms of 8 kHz 16-bit audio


class FakeSink:
    """A transmit buffer of `capacity` bytes, drained by a pretend RTP clock."""

    def __init__(self, capacity: int = 10 * BYTES_PER_SECOND, clock_rate: float = 1.0) -> None:
        self.capacity = capacity
        self.clock_rate = clock_rate  # how much of a pause the clock really runs
        self.running = True
        self.queued = bytearray()  # written, not yet transmitted
        self.sent = bytearray()  # transmitted to the caller
        self.writes = 0
        self.looks = 0
        self.flushes = 0
        self.ran_dry = 0  # times the clock found nothing queued before the end
        self.pauses: list[float] = []

    def write(self, pcm: bytes | memoryview) -> int:
        accepted = bytes(pcm[: self.capacity - len(self.queued)])
        self.queued += accepted
        self.writes += 1
        return len(accepted)

    def buffered(self) -> int:
        self.looks += 1
        return len(self.queued)

    def flush(self) -> None:
        self.queued.clear()
        self.flushes += 1

    def drain(self, count: int) -> None:
        count -= count % 2
        if count > len(self.queued):
            self.ran_dry += 1
        self.sent += self.queued[:count]
        del self.queued[:count]

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.running:
            self.drain(round(seconds * BYTES_PER_SECOND * self.clock_rate))
        await asyncio.sleep(0)


def prompt(seconds: float) -> bytes:
    """Distinct bytes throughout, so that order and completeness both show."""
    size = int(BYTES_PER_SECOND * seconds)
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_prompt_that_fits_is_handed_over_whole_and_looked_at_when_it_has_played() -> None:
    pcm = prompt(2.0)
    sink = FakeSink()
    await play_pcm(sink, pcm, pause=sink.pause)
    assert bytes(sink.sent) == pcm
    assert sink.writes == 1
    # Once after writing, once when it should have drained: not every few packets.
    assert sink.looks == 2
    assert sink.pauses == [2.0]
    assert sink.flushes == 0


async def test_a_prompt_longer_than_the_buffer_is_topped_up_before_it_runs_dry() -> None:
    pcm = prompt(5.0)
    sink = FakeSink(capacity=BYTES_PER_SECOND)  # one second of buffer
    await play_pcm(sink, pcm, pause=sink.pause)
    assert bytes(sink.sent) == pcm
    assert sink.ran_dry == 0
    # Each top-up comes when the lead is left: about one look per 0.7 s played.
    assert sink.looks <= 10


async def test_a_buffer_smaller_than_the_lead_still_gets_every_byte_without_busy_looking() -> None:
    pcm = prompt(1.0)
    sink = FakeSink(capacity=LEAD // 3)
    await play_pcm(sink, pcm, pause=sink.pause)
    assert bytes(sink.sent) == pcm
    assert sink.looks <= 2 * len(pcm) // (LEAD // 3) + 4


async def test_an_rtp_clock_behind_the_estimate_is_waited_for_until_it_has_caught_up() -> None:
    pcm = prompt(1.0)
    sink = FakeSink(clock_rate=0.9)
    await play_pcm(sink, pcm, pause=sink.pause)
    assert bytes(sink.sent) == pcm
    assert sink.pauses[:2] == [1.0, pytest.approx(0.1)]  # what is left, when it is left
    assert all(pause >= TICK_SECONDS for pause in sink.pauses)
    assert len(sink.pauses) <= 4


async def test_play_ends_only_when_the_buffer_has_drained() -> None:
    pcm = prompt(0.1)
    sink = FakeSink()
    sink.running = False  # the clock is stopped until the test moves it
    task = asyncio.create_task(play_pcm(sink, pcm, pause=sink.pause))
    await turns(20)
    assert bytes(sink.queued) == pcm
    assert not task.done()  # written is not heard
    sink.drain(len(pcm) - 2)
    await turns(20)
    assert not task.done()  # one sample still to go
    sink.drain(2)
    await turns(5)
    assert task.done()
    await task
    assert bytes(sink.sent) == pcm
    assert sink.flushes == 0


async def test_cancelling_a_play_flushes_the_buffer_at_once() -> None:
    pcm = prompt(3.0)
    sink = FakeSink()
    sink.running = False
    task = asyncio.create_task(play_pcm(sink, pcm, pause=sink.pause))
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
    sink.running = False
    task = asyncio.create_task(play_pcm(sink, pcm, pause=sink.pause))
    await turns(20)
    assert bytes(sink.queued) == pcm  # all written; waiting for it to be sent
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.flushes == 1
    assert sink.queued == bytearray()
