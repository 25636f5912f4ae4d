"""Every key a caller presses, once: RFC 4733 / SIP INFO from the engine plus in-band tones.

The engine already reports telephone-events and INFO digits once each; a
handset that also sends the tones in the audio would have each press
counted twice. Every report goes through one DigitMerger on one clock.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.dtmf.dedupe import DigitMerger, DigitSource
from ivr.dtmf.goertzel import InbandDetector

BYTES_PER_SECOND = 8000 * 2


class DigitInput:
    def __init__(
        self, deliver: Callable[[str], None], clock: Callable[[], float], inband: bool
    ) -> None:
        self._deliver = deliver
        self._clock = clock
        self._merger = DigitMerger()
        self._detector = InbandDetector() if inband else None

    @property
    def listens_to_audio(self) -> bool:
        return self._detector is not None

    def restart_detector(self) -> None:
        """Forget audio heard so far (a tone half heard before a gap is not a key)."""
        if self._detector is not None:
            self._detector = InbandDetector()

    def signalled(self, key: str) -> None:
        """A digit the engine reported (RFC 4733 event start or SIP INFO)."""
        self._offer(key, "rfc4733", self._clock())

    def audio(self, pcm: bytes) -> None:
        """Received audio, just read: its first sample is len(pcm) older than now."""
        if self._detector is None:
            return
        started = self._clock() - len(pcm) / BYTES_PER_SECOND
        for event in self._detector.feed(pcm, started):
            if event.kind == "down":
                self._offer(event.key, "inband", event.at)

    def _offer(self, key: str, source: DigitSource, at: float) -> None:
        if self._merger.offer(key, source, at):
            self._deliver(key)
