"""Feeding prompt audio into a call at the pace the call sends it.

The engine gives each call a transmit buffer of raw PCM that its RTP clock
drains every packet time. We keep the buffer topped up a little ahead of
the clock (never far ahead, so that a barge-in flush is immediate) and
call the prompt finished when the buffer has drained to nothing.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

# How far ahead of the RTP clock we keep the buffer filled, and how often we
# look at it: far enough to ride out a busy event loop, short enough that a
# flush on barge-in silences the caller at once.
LEAD_SECONDS = 0.3
TICK_SECONDS = 0.06
BYTES_PER_SECOND = 8000 * 2  # 8 kHz, 16-bit mono


class AudioSink(Protocol):
    """What the player needs of a call's audio (baresip's CallAudio has this shape)."""

    def write(self, pcm: bytes) -> int: ...

    def buffered(self) -> int: ...

    def flush(self) -> None: ...


async def play_pcm(sink: AudioSink, pcm: bytes, bytes_per_second: int = BYTES_PER_SECOND) -> None:
    """Send `pcm` through the sink; returns once every byte has been transmitted.

    Cancelling the task stops the prompt and discards what is still buffered.
    """
    lead = int(bytes_per_second * LEAD_SECONDS) & ~1
    offset = 0
    try:
        while offset < len(pcm):
            room = lead - sink.buffered()
            if room > 0:
                offset += sink.write(pcm[offset : offset + room])
            await asyncio.sleep(TICK_SECONDS)
        while sink.buffered() > 0:
            await asyncio.sleep(TICK_SECONDS)
    except asyncio.CancelledError:
        sink.flush()
        raise
