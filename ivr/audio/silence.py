"""Deciding that a caller has stopped talking (pure: PCM in, verdict out)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 8000
FRAME_SECONDS = 0.02


class SilenceDetector:
    """Says when the caller has been quiet for `silence_seconds` in a row.

    Frames are 20 ms; a frame is quiet when its RMS level is below
    `threshold_db` (dBFS). Telephone line noise sits around -60 to -50 dBFS
    and speech well above -40, so -45 separates them with margin.
    """

    def __init__(
        self,
        silence_seconds: float = 5.0,
        threshold_db: float = -45.0,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        self.frame = int(sample_rate * FRAME_SECONDS)
        self.needed = max(1, round(silence_seconds / FRAME_SECONDS))
        self.threshold = 32768.0 * 10 ** (threshold_db / 20)
        self._quiet_frames = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self.heard_speech = False

    def feed(self, pcm: bytes) -> bool:
        """Take received PCM; True once the quiet stretch is long enough."""
        samples = np.concatenate([self._pending, np.frombuffer(pcm, dtype="<i2")])
        whole = len(samples) // self.frame * self.frame
        self._pending = samples[whole:]
        if whole:
            frames = samples[:whole].astype(np.float64).reshape(-1, self.frame)
            levels = np.sqrt(np.mean(frames**2, axis=1))
            for level in levels:
                if level < self.threshold:
                    self._quiet_frames += 1
                else:
                    self._quiet_frames = 0
                    self.heard_speech = True
        return self._quiet_frames >= self.needed
