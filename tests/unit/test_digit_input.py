"""A press sent as a telephone-event and as tones reaches the menu once."""

from __future__ import annotations

import numpy as np

from ivr.sip.digits import DigitInput

RATE = 8000


def dual_tone(low: float, high: float, seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    wave = (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)) * 0.25
    return (wave * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return bytes(int(RATE * seconds) * 2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def feed(digits: DigitInput, clock: Clock, pcm: bytes, chunk: float = 0.04) -> None:
    step = int(RATE * chunk) * 2
    for start in range(0, len(pcm), step):
        piece = pcm[start : start + step]
        clock.now += len(piece) / 2 / RATE
        digits.audio(piece)


def test_same_press_by_event_and_tones_counts_once() -> None:
    clock, heard = Clock(), []
    digits = DigitInput(heard.append, clock, inband=True)
    digits.signalled("3")  # the RFC 4733 event start arrives first
    feed(digits, clock, dual_tone(697, 1477, 0.12) + silence(0.3))
    assert heard == ["3"]


def test_two_presses_of_the_same_key_count_twice() -> None:
    clock, heard = Clock(), []
    digits = DigitInput(heard.append, clock, inband=True)
    feed(digits, clock, dual_tone(697, 1209, 0.1) + silence(0.5))
    feed(digits, clock, dual_tone(697, 1209, 0.1) + silence(0.5))
    assert heard == ["1", "1"]


def test_without_inband_audio_is_ignored() -> None:
    clock, heard = Clock(), []
    digits = DigitInput(heard.append, clock, inband=False)
    feed(digits, clock, dual_tone(697, 1477, 0.12) + silence(0.3))
    digits.signalled("2")
    assert heard == ["2"]
