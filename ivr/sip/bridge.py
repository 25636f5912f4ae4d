"""Joining two live calls: audio relayed both ways, keys not, either hang-up ends both.

The engine has no bridge of its own, so the relay is ours: a thread of its
own (not the event loop, which a busy moment would let slip, and not the
prompt player's 60 ms tick) moves what each call received into the other's
transmit buffer every 20 ms, the calls' packet time. Only whole 20 ms frames
are kept in flight: a transmit buffer that has grown beyond
`MAX_BUFFERED_FRAMES` (the far clock runs a little fast, or the thread was
late) loses its oldest audio, so the added delay stays about one packet
time plus the engine's own jitter buffer, never growing over a long call.
Keys arrive out of band (RFC 4733, SIP INFO) and never enter the audio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import baresip

from ivr.sip.engine import ActiveCall

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit mono
MAX_BUFFERED_FRAMES = 3
READ_BYTES = 16000


@dataclass
class BridgeStats:
    """What the relay did, for the log and the benchmark."""

    frames: int = 0  # ticks that moved audio one way or the other
    dropped_bytes: int = 0  # audio discarded to keep the delay from growing
    late_ticks: int = 0  # ticks that began more than a frame late


class _Leg:
    """One direction of the relay: what `source` receives, `sink` sends."""

    def __init__(self, source: baresip.CallAudio, sink: baresip.CallAudio) -> None:
        self.source = source
        self.sink = sink

    def move(self, stats: BridgeStats) -> None:
        pcm = self.source.read(READ_BYTES)
        if not pcm:
            return
        stats.frames += 1
        room = MAX_BUFFERED_FRAMES * FRAME_BYTES - self.sink.info().tx_buffered
        if len(pcm) > room:
            keep = max(0, room) & ~1
            stats.dropped_bytes += len(pcm) - keep
            pcm = pcm[len(pcm) - keep :] if keep else b""
        if pcm:
            self.sink.write(pcm)


class Bridge:
    """Two answered calls joined until either ends; `await bridge.run()`."""

    def __init__(self, a: ActiveCall, b: ActiveCall) -> None:
        self.a = a
        self.b = b
        self.stats = BridgeStats()
        self._stop = threading.Event()

    async def run(self) -> None:
        """Relay until one side hangs up (or `stop()`), then hang up both."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def closed(_reason: str) -> None:
            if not ended.done():
                ended.set_result(None)

        for call in (self.a, self.b):
            call.on_closed(closed)  # the engine reports on the event loop
        if self.a.closed or self.b.closed:
            closed("")
        for call in (self.a, self.b):
            call.discard_received_audio()  # what was said before the join is not replayed late
        relay = threading.Thread(
            target=self._relay, args=(lambda: loop.call_soon_threadsafe(closed, "relay failed"),),
            name="bridge", daemon=True,
        )  # fmt: skip
        relay.start()
        try:
            await ended
        finally:
            self._stop.set()
            await asyncio.to_thread(relay.join)
            await asyncio.gather(self.a.hangup(), self.b.hangup())
        log.info(
            "bridge %s <-> %s ended: %d frames relayed, %d bytes dropped, %d late ticks",
            self.a.call_id, self.b.call_id, self.stats.frames,
            self.stats.dropped_bytes, self.stats.late_ticks,
        )  # fmt: skip

    def stop(self) -> None:
        self._stop.set()

    def _relay(self, failed: Callable[[], object]) -> None:
        a_audio, b_audio = _audio(self.a), _audio(self.b)
        legs = (_Leg(a_audio, b_audio), _Leg(b_audio, a_audio))
        deadline = time.monotonic()
        # Waiting on the stop event is the pacing: it wakes at once to stop.
        while not self._stop.wait(max(0.0, deadline - time.monotonic())):
            now = time.monotonic()
            if now - deadline > FRAME_SECONDS:
                self.stats.late_ticks += 1
                deadline = now  # catch up once, do not burst
            deadline += FRAME_SECONDS
            for leg in legs:
                try:
                    leg.move(self.stats)
                except (baresip.AudioRestarted, baresip.AudioNotActive):
                    continue  # re-bound next tick; a call that closed ends run()
                except Exception:
                    log.exception("bridge relay failed")
                    failed()  # ends both calls rather than leave them joined in silence
                    return


def _audio(call: ActiveCall) -> baresip.CallAudio:
    return call._call.audio  # the engine's own call: the bridge is part of ivr.sip
