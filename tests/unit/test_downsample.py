"""A G.722 caller's 16 kHz audio brought to 8 kHz: the band kept, what is above it removed."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.audio.downsample import Downsampler


def tone(frequency: float, rate: int = 16000, seconds: float = 1.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * frequency * t) * 10000).astype("<i2").tobytes()


def level(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)[200:]  # past the filter's start
    return float(np.sqrt(np.mean(samples**2)))


def peak_hz(pcm: bytes, rate: int = 8000) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(samples))) * rate / len(samples))


def test_a_tone_in_the_telephone_band_comes_through_at_8_khz() -> None:
    out = Downsampler(16000)(tone(1000))
    assert len(out) == 16000  # one second at 8 kHz
    assert peak_hz(out) == pytest.approx(1000, abs=2)
    assert level(out) == pytest.approx(level(tone(1000)), rel=0.05)


def test_what_would_fold_back_is_removed() -> None:
    # 6 kHz would alias to 2 kHz, in the middle of the DTMF band.
    assert level(Downsampler(16000)(tone(6000))) < level(tone(6000)) * 0.01


def test_chunks_of_any_length_give_the_same_audio() -> None:
    pcm = tone(697) + tone(1209)
    whole = Downsampler(16000)(pcm)
    cut = Downsampler(16000)
    pieces, offset = [], 0
    for size in (2, 6, 318, 640, 3, 1000):  # bytes; odd sizes split a sample's two bytes
        pieces.append(cut(pcm[offset : offset + size]))
        offset += size - size % 2
    pieces.append(cut(pcm[offset:]))
    assert b"".join(pieces) == whole


def test_narrowband_audio_passes_untouched() -> None:
    pcm = tone(440, rate=8000)
    assert Downsampler(8000)(pcm) is pcm


def test_a_rate_that_is_not_a_multiple_of_8_khz_is_refused() -> None:
    with pytest.raises(ValueError, match="11025 Hz is not a whole multiple of 8000 Hz"):
        Downsampler(11025)
