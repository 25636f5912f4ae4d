"""DTMF that does not arrive as a SIP event: in-band tones, and one press heard twice.

`InbandDetector` finds key presses in received audio; `DigitMerger` makes a
press that arrives by more than one route (RFC 4733, SIP INFO, in-band) count
once. Both are pure: the SIP adapter owns the sockets and the clock.
"""

from ivr.dtmf.dedupe import DigitMerger, DigitSource
from ivr.dtmf.goertzel import KEYS, InbandDetector, ToneEvent, ToneKind

__all__ = ["KEYS", "DigitMerger", "DigitSource", "InbandDetector", "ToneEvent", "ToneKind"]
