"""Recording what a caller says to a WAV file, kept even if they hang up mid-sentence.

Audio is written to disk as it arrives (not held in memory), so a hang-up
or a crash loses at most the last buffer; the header is finalised when the
recording stops for any reason.
"""

from __future__ import annotations

import hashlib
import wave
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ivr.audio.silence import SilenceDetector

SAMPLE_RATE = 8000


@dataclass(frozen=True)
class FinishedRecording:
    path: Path
    seconds: float
    sha256: str
    ended_by: str


class Recorder:
    def __init__(
        self,
        directory: Path,
        reference: str,
        started: datetime,
        max_seconds: float,
        silence_seconds: float,
        now: float,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{reference}-{started:%Y%m%dT%H%M%S%f}.wav"
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in finish()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._max_bytes = int(max_seconds * SAMPLE_RATE) * 2
        self._written = 0
        self._silence = SilenceDetector(silence_seconds)
        self._silence_seconds = silence_seconds
        self._deadline = now + max_seconds
        self._last_audio = now
        self.stop_reason: str | None = None

    def check(self, now: float) -> str | None:
        """Stop on the clock too: a caller whose audio stops arriving (muted, on hold,
        a broken NAT) sends no silence to detect, and must not be recorded forever."""
        if self.stop_reason is None:
            if now >= self._deadline:
                self.stop_reason = "limit"
            elif now - self._last_audio >= self._silence_seconds:
                self.stop_reason = "silence"
        return self.stop_reason

    def feed(self, pcm: bytes, now: float) -> str | None:
        """Append received audio; returns why the recording should stop, if it should."""
        if self.stop_reason is not None:
            return self.stop_reason
        self._last_audio = now
        room = self._max_bytes - self._written
        chunk = pcm[: max(0, room)]
        self._wav.writeframesraw(chunk)
        self._written += len(chunk)
        if self._written >= self._max_bytes:
            self.stop_reason = "limit"
        elif self._silence.feed(chunk):
            self.stop_reason = "silence"
        return self.stop_reason

    def finish(self, ended_by: str) -> FinishedRecording:
        self._wav.close()
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return FinishedRecording(
            path=self.path,
            seconds=self._written / 2 / SAMPLE_RATE,
            sha256=digest,
            ended_by=self.stop_reason or ended_by,
        )
