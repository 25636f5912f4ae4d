"""The bridge's relay step: what one call received goes to the other, never piling up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from ivr.sip.bridge import FRAME_BYTES, MAX_BUFFERED_FRAMES, BridgeStats, _Leg


@dataclass
class Info:
    tx_buffered: int


@dataclass
class FakeAudio:
    """A call's audio as the engine's CallAudio shows it: a receive and a transmit buffer."""

    received: bytes = b""
    sent: bytes = b""
    tx_buffered: int = 0
    writes: list[int] = field(default_factory=list)

    def read(self, max_bytes: int) -> bytes:
        data, self.received = self.received[:max_bytes], self.received[max_bytes:]
        return data

    def write(self, pcm: bytes) -> int:
        self.sent += pcm
        self.tx_buffered += len(pcm)
        self.writes.append(len(pcm))
        return len(pcm)

    def info(self) -> Info:
        return Info(self.tx_buffered)


def leg(source: FakeAudio, sink: FakeAudio) -> _Leg:
    return _Leg(cast(Any, source), cast(Any, sink))


def test_a_frame_received_is_sent_on_as_it_is() -> None:
    a, b, stats = FakeAudio(received=bytes(range(200)) * 2), FakeAudio(), BridgeStats()
    leg(a, b).move(stats)
    assert b.sent == bytes(range(200)) * 2 and stats.dropped_bytes == 0


def test_nothing_received_writes_nothing() -> None:
    a, b, stats = FakeAudio(), FakeAudio(), BridgeStats()
    leg(a, b).move(stats)
    assert b.writes == [] and stats.frames == 0


def test_a_backlog_keeps_only_the_newest_audio_up_to_the_bound() -> None:
    backlog = b"".join(bytes([n]) * FRAME_BYTES for n in range(10))  # 200 ms at once
    a, b, stats = FakeAudio(received=backlog), FakeAudio(tx_buffered=FRAME_BYTES), BridgeStats()
    leg(a, b).move(stats)
    room = (MAX_BUFFERED_FRAMES - 1) * FRAME_BYTES
    assert b.sent == backlog[-room:]  # the newest, so the delay does not grow
    assert stats.dropped_bytes == len(backlog) - room


def test_a_full_transmit_buffer_drops_the_frame() -> None:
    full = MAX_BUFFERED_FRAMES * FRAME_BYTES
    a, b, stats = FakeAudio(received=bytes(FRAME_BYTES)), FakeAudio(tx_buffered=full), BridgeStats()
    leg(a, b).move(stats)
    assert b.writes == [] and stats.dropped_bytes == FRAME_BYTES
