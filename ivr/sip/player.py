"""Feeding prompt audio into a call at the pace the call sends it.

The engine gives each call a transmit buffer of raw PCM that its RTP clock
drains every packet time. A prompt is handed over in one write when it fits
(most do), and the player then sleeps until the buffer should have drained,
rather than waking every few packets to ask: waking and asking for every
call was a fifth of the service's Python time. A prompt longer than the
buffer is topped up when what is left falls to LEAD_SECONDS. Barge-in does
not depend on how far ahead we are: cancelling flushes the buffer at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

# How much audio must still be queued when a long prompt is topped up: far
# enough ahead to ride out a busy event loop.
LEAD_SECONDS = 0.3
# The shortest sleep between looks at the buffer: once the RTP clock is
# found behind our estimate, it is asked again this often until it has caught up.
TICK_SECONDS = 0.02
BYTES_PER_SECOND = 8000 * 2  # 8 kHz, 16-bit mono


class AudioSink(Protocol):
    """What the player needs of a call's audio (baresip's CallAudio has this shape)."""

    def write(self, pcm: bytes | memoryview) -> int: ...

    def buffered(self) -> int: ...

    def flush(self) -> None: ...


async def play_pcm(
    sink: AudioSink,
    pcm: bytes,
    bytes_per_second: int = BYTES_PER_SECOND,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Send `pcm` through the sink; returns once every byte has been transmitted.

    Cancelling the task stops the prompt and discards what is still buffered.
    `pause` is how the player waits (tests step a fake RTP clock with it).
    """
    lead = int(bytes_per_second * LEAD_SECONDS) & ~1
    rest = memoryview(pcm)
    try:
        while True:
            if rest:
                rest = rest[sink.write(rest) :]
            queued = sink.buffered()
            if not rest and queued <= 0:
                return
            # Look again when it should have drained: to the lead (or half of what
            # is queued, if the buffer is smaller than that) while there is more
            # to write, to nothing once everything is written.
            keep = min(lead, queued // 2) if rest else 0
            await pause(max(TICK_SECONDS, (queued - keep) / bytes_per_second))
    except asyncio.CancelledError:
        sink.flush()
        raise
