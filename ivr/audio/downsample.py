"""Wideband audio from a caller brought down to the 8 kHz the rest of the line works in.

A G.722 call decodes to 16 kHz. Key detection, silence detection and the
recorded description all work at 8 kHz, so received audio is low-passed
below 4 kHz (so nothing folds back) and every other sample kept. Audio
arrives in chunks of any length; the filter's history and which sample is
kept next carry over from one chunk to the next, so the result is the same
however it was cut.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TARGET_RATE = 8000
TAPS = 63  # odd, so the filter delays by a whole number of samples
CUTOFF_HZ = 3600.0  # pass the telephone band, stop before 4 kHz


def _low_pass(rate: int) -> npt.NDArray[np.float64]:
    n = np.arange(TAPS) - (TAPS - 1) / 2
    taps = np.sinc(2 * CUTOFF_HZ / rate * n) * np.hamming(TAPS)
    result: npt.NDArray[np.float64] = taps / taps.sum()
    return result


class Downsampler:
    """16-bit mono PCM at `rate` (a whole multiple of 8 kHz) in, 8 kHz out."""

    def __init__(self, rate: int) -> None:
        if rate % TARGET_RATE:
            raise ValueError(f"{rate} Hz is not a whole multiple of {TARGET_RATE} Hz")
        self.factor = rate // TARGET_RATE
        self._taps = _low_pass(rate)
        self._history = np.zeros(TAPS - 1)
        self._phase = 0  # index, in the next chunk, of the next sample to keep

    def __call__(self, pcm: bytes) -> bytes:
        if self.factor == 1:
            return pcm
        samples = np.frombuffer(pcm[: len(pcm) & ~1], dtype="<i2").astype(np.float64)
        if not len(samples):
            return b""
        padded = np.concatenate((self._history, samples))
        filtered = np.convolve(padded, self._taps, mode="valid")  # one per new sample
        self._history = padded[len(padded) - (TAPS - 1) :]
        kept = filtered[self._phase :: self.factor]
        self._phase = (self._phase - len(samples)) % self.factor
        return np.clip(np.round(kept), -32768, 32767).astype("<i2").tobytes()
