"""One key press, counted once, however many routes it arrives by.

A handset may send the same press as an RFC 4733 telephone-event, as tones
in the audio (which the in-band detector then also finds) and sometimes as a
SIP INFO as well. The menu must see one digit, not two or three.

The rule
--------
A report is the same press as one already delivered if it is for the same
key, comes from a *different* source, that press has not yet been heard from
this source, and the two are at most `window` seconds apart. Anything else
is a new press. A second report from the same source is always a new press,
because each source already reports a press once (the engine merges the
RFC 4733 packets of one event; SIP drops retransmitted INFOs; the in-band
detector reports one "down" per press). When several delivered presses
qualify, the nearest in time takes the report, so two quick presses of the
same key, each sent both ways, pair up correctly even if the reports arrive
out of order.

Limits
------
* The same key pressed twice within `window`, with each press reaching us by
  a different route only (say the first only as RFC 4733 and the second only
  in-band, the other copy lost), is taken as one press. At 0.25 s that needs
  a quick double press (or an auto-dialler: Q.24 allows 40 ms tone, 40 ms
  gap) and a lost copy at once; a window shorter than the lag between routes
  would instead count real duplicates twice, which is the commoner failure.
* All `at` values must come from one clock: the adapter stamps every report
  (in-band "down" events included, by feeding the detector times on that
  clock) with when the press began or arrived; the window absorbs the tens
  of milliseconds between the two.
* Sources must be named truly: an INFO offered as "rfc4733" alongside the
  same press's telephone-event looks like a second press.
* A SIP INFO sent when the key is released (some phones do) can trail a long
  press by more than `window`; it is then counted again.
* Offer key-down reports only: an RFC 4733 event's start, an INFO, an
  in-band "down". Ends of presses are not presses.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Literal, get_args

from ivr.dtmf.goertzel import KEYS

DigitSource = Literal["rfc4733", "info", "inband"]
_SOURCES: frozenset[str] = frozenset(get_args(DigitSource))

# Presses kept for matching; more than can fall in one window at any
# plausible dialling speed, and a bound on memory if times misbehave.
_KEEP = 32


@dataclass
class _Press:
    key: str
    at: float
    sources: set[str] = field(default_factory=set)


class DigitMerger:
    """Decides, report by report, whether a key report is a new press to deliver."""

    def __init__(self, window: float = 0.25) -> None:
        if not window >= 0.0:
            raise ValueError(f"window must be a non-negative number of seconds, got {window!r}")
        self._window = window
        self._presses: deque[_Press] = deque(maxlen=_KEEP)
        self._latest = float("-inf")

    @property
    def window(self) -> float:
        return self._window

    def offer(self, key: str, source: DigitSource, at: float) -> bool:
        """True if this report is a new press that should be delivered."""
        if len(key) != 1 or key not in KEYS:
            raise ValueError(f"not a DTMF key: {key!r}")
        if source not in _SOURCES:
            raise ValueError(f"unknown digit source {source!r}; expected one of {sorted(_SOURCES)}")

        self._latest = max(self._latest, at)
        # Older than any report could still match: late reports are at most
        # a window behind the newest, and match presses a window further back.
        horizon = self._latest - 2 * self._window
        while self._presses and self._presses[0].at < horizon:
            self._presses.popleft()

        same = [
            p
            for p in self._presses
            if p.key == key and source not in p.sources and abs(p.at - at) <= self._window
        ]
        if same:
            min(same, key=lambda p: abs(p.at - at)).sources.add(source)
            return False
        self._presses.append(_Press(key, at, {source}))
        return True
