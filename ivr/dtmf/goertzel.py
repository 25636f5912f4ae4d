"""In-band DTMF: key presses found in the received audio itself.

Some handsets and gateways send digits only as tones in the audio, so the
service has to listen for them. Pure on purpose (see STYLE.md): bytes and the
stream time of their first byte go in, key-down/key-up events come out. No
socket, no clock; the SIP adapter feeds decoded PCM and passes the events on,
and tests feed audio files and get identical answers every run.

How a window is judged
----------------------
Audio is cut into windows of `BLOCK_MS` (102 samples at 8 kHz, the block size
of spandsp and Asterisk), one every half window. Each window gets the
Goertzel terms (one DFT bin each) at the eight DTMF frequencies and at their
second harmonics, and holds a key only if all of these hold:

* level: both tones at least `MIN_TONE_DBM0` (-42 dBm0 each, spandsp's floor);
* relative peak: the strongest row tone beats every other row tone, and the
  strongest column tone every other column tone, by `RELATIVE_PEAK_DB`;
* twist: the high (column) tone at most `NORMAL_TWIST_DB` (8 dB) above the
  low (row) tone, the low at most `REVERSE_TWIST_DB` (4 dB) above the high,
  as Q.24 and Bell name them (spandsp and Asterisk allow the 8 dB the other
  way, to a louder low tone, which is also where speech puts its energy);
* energy: the two tones carry at least `MIN_TONE_FRACTION` of the window's
  energy; speech and music spread theirs over many frequencies;
* second harmonic: each tone's second harmonic is well below the tone, as in
  a generated tone and unlike a voiced sound.

A key goes down after `DOWN_WINDOWS` consecutive windows hold it and up after
`UP_WINDOWS` consecutive windows do not; one held key is one press however
long it is held, and a drop-out of up to about 10 ms does not split it.

Why these numbers
-----------------
102 samples resolve 78 Hz, just enough for DTMF tones (73 Hz apart at the
closest) to sit near each other's first null; 205 samples would resolve
finer but a 40 ms tone could then never fill two windows. The energy test
is what rejects short tones: a window the tone only partly covers scores
about the covered share, so a hit needs a window at least 70 % covered.
Four such windows half a window apart need 41 + 153 = 194 samples (24 ms)
of tone, so a 20 ms burst is never a key (Q.24: reject under 23 ms), while
any 40 ms tone, wherever it starts, fully covers four consecutive windows
(it needs 102 + 4 * 51 - 1 = 305 samples, 38 ms). Four windows also contain
two disjoint 102-sample blocks, which is the usual "two blocks in a row"
debounce.

The energy share is measured with a least-squares fit of the key's two tones
(computed from the same Goertzel terms) rather than the bare bin powers: in
a window this short the two tones are not orthogonal, and the bare sum
swings by about 10 % with their relative phase. The harmonic check fits
tones and harmonics together for the same reason: 1336 Hz lies 58 Hz from
the second harmonic of 697 Hz, well inside one bin, and would otherwise read
as a harmonic of key "2"; it also lets each tone drift off its nominal
frequency (a ramp term per tone), or a 1633 Hz tone 1.5 % high would leak
into the 1704 Hz harmonic of 852 Hz. The row harmonic limit is the looser
(3 dB against 12 dB) because under 8 dB normal twist the row tone is the
weak one and, in noise, its harmonic estimate is mostly noise.

Tones off by 1.5 % (Q.24's must-accept limit) are accepted across the whole
twist range; off by 3.5 % (must reject) the energy share falls to about
half. On 45 s of espeak-ng speech (six voices, digits and prompts) no
window passes every check; without the energy test 74 single windows would,
which is why it sits beside the debounce rather than replacing it.

The Goertzel terms are computed as one matrix product of the windows with
precomputed cosine and sine tables. That is the same number the Goertzel
recurrence ends with (it is one DFT term); in Python the recurrence is a
loop per sample, and a service decoding many calls on one event loop cannot
afford that.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

ToneKind = Literal["down", "up"]

ROW_HZ = (697.0, 770.0, 852.0, 941.0)
COLUMN_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
# The keypad by row, then column: KEYPAD[row][column].
KEYPAD = ("123A", "456B", "789C", "*0#D")
KEYS = "".join(KEYPAD)

BLOCK_MS = 12.75  # 102 samples at 8 kHz
DOWN_WINDOWS = 4
UP_WINDOWS = 4
MIN_TONE_DBM0 = -42.0
RELATIVE_PEAK_DB = 6.0
NORMAL_TWIST_DB = 8.0
REVERSE_TWIST_DB = 4.0
# A tone 1.5 % off frequency reads up to 1.4 dB low in a 102-sample window,
# which moves the measured twist; the limits above must still be accepted.
TWIST_ALLOWANCE_DB = 1.5
MIN_TONE_FRACTION = 0.7
ROW_HARMONIC_DB = 3.0
COLUMN_HARMONIC_DB = 12.0

# G.711's 0 dBm0 sine peaks 3.17 dB below full scale: 5664 of 8159 in
# 14-bit linear, 22656 in the 16-bit samples we are given.
_DBM0_PEAK = 22656.0

_Float = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ToneEvent:
    """A key going down or up, at the stream time the tone began or ended."""

    key: str
    kind: ToneKind
    at: float

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key not in KEYS:
            raise ValueError(f"not a DTMF key: {self.key!r}")
        if self.kind not in ("down", "up"):
            raise ValueError(f"tone event kind must be 'down' or 'up', got {self.kind!r}")


def _db(ratio_db: float) -> float:
    """A power ratio from decibels; thresholds are written in dB to read like the specs."""
    return float(10.0 ** (ratio_db / 10.0))


def _inverse_gram(columns: _Float) -> _Float:
    """(A^T A)^-1: with it, A^T x (which the Goertzel terms are) gives the least-squares fit."""
    return np.asarray(np.linalg.inv(columns.T @ columns), dtype=np.float64)


@dataclass(frozen=True)
class _Analysis:
    """What every detector at one sample rate shares: the window, the basis the
    Goertzel terms come from and the inverse Gram matrices of each key's fit.

    Built once per rate (`_analysis`): a detector is made for every call and
    again whenever a call starts listening, and building these (32 matrix
    inversions) cost more than a second of that call's listening.
    """

    window: int
    basis: _Float
    pair_idx: npt.NDArray[np.intp]
    harm_idx: npt.NDArray[np.intp]
    pair_inv: _Float
    harm_inv: _Float


@functools.cache
def _analysis(sample_rate: int) -> _Analysis:
    window = round(sample_rate * BLOCK_MS / 1000.0)
    n = np.arange(window, dtype=np.float64)

    fundamentals = ROW_HZ + COLUMN_HZ
    freqs = np.array(fundamentals + tuple(2.0 * f for f in fundamentals))
    phase = 2.0 * np.pi * np.outer(n, freqs) / sample_rate
    # Columns 0-31: the Goertzel terms, cos then sin, for the 8 tones and
    # their 8 harmonics. Columns 32-47: the same for the 8 tones times a
    # centred ramp, the change of a tone with its frequency, so that the
    # harmonic fit can let a tone sit off its nominal frequency.
    ramp = (n - (window - 1) / 2.0)[:, None]
    cos, sin = np.cos(phase), np.sin(phase)
    basis: _Float = np.concatenate([cos, sin, ramp * cos[:, :8], ramp * sin[:, :8]], axis=1)

    # Per key (row * 4 + column): which columns model its two tones (and
    # with their harmonics and ramps), and the inverse Gram matrices that
    # turn those windows' terms into least-squares fits.
    pair_idx: list[list[int]] = []
    harm_idx: list[list[int]] = []
    for r in range(4):
        for c in range(4):
            tones = [r, 4 + c]
            both = tones + [8 + r, 12 + c]
            pair_idx.append(tones + [16 + i for i in tones])
            ramps = [32 + i for i in tones] + [40 + i for i in tones]
            harm_idx.append(both + [16 + i for i in both] + ramps)
    analysis = _Analysis(
        window=window,
        basis=basis,
        pair_idx=np.array(pair_idx),
        harm_idx=np.array(harm_idx),
        pair_inv=np.stack([_inverse_gram(basis[:, i]) for i in pair_idx]),
        harm_inv=np.stack([_inverse_gram(basis[:, i]) for i in harm_idx]),
    )
    shared: tuple[np.ndarray[Any, Any], ...] = (
        analysis.basis,
        analysis.pair_idx,
        analysis.harm_idx,
        analysis.pair_inv,
        analysis.harm_inv,
    )
    for array in shared:
        array.flags.writeable = False  # every detector at this rate reads it
    return analysis


class InbandDetector:
    """Finds DTMF key presses in 16-bit little-endian mono PCM, fed in chunks of any size.

    `feed` takes the bytes as they arrive and the stream time of their first
    byte, and returns the events that the new audio settles. A chunk may
    split a sample; whatever does not fill a window yet waits for the next
    chunk, so how the audio is chunked never changes what is found. A
    "down" event's time is the start of the first window that held the key,
    an "up" event's the end of the last one; both are reported a few windows
    later, once the debounce has decided.
    """

    def __init__(self, sample_rate: int = 8000) -> None:
        if sample_rate < 8000:
            # Below 8 kHz the highest second harmonic (3266 Hz) aliases.
            raise ValueError(f"sample rate must be at least 8000 Hz, got {sample_rate}")
        self._rate = sample_rate
        analysis = _analysis(sample_rate)
        self._n = analysis.window
        self._hop = self._n // 2
        self._basis = analysis.basis
        self._pair_idx = analysis.pair_idx
        self._harm_idx = analysis.harm_idx
        self._pair_inv = analysis.pair_inv
        self._harm_inv = analysis.harm_inv

        self._min_amp2 = (_DBM0_PEAK * 10.0 ** (MIN_TONE_DBM0 / 20.0)) ** 2

        self._buf = bytearray()
        self._buf_at = 0.0
        self._key: str | None = None  # the key that is down
        self._last_hit_at = 0.0  # start of the last window that held it
        self._misses = 0
        self._candidate: str | None = None  # a key not yet down
        self._candidate_at = 0.0
        self._run = 0

    @property
    def window_seconds(self) -> float:
        """The analysis window; event times are good to about a third of it."""
        return self._n / self._rate

    def feed(self, pcm: bytes, at: float) -> list[ToneEvent]:
        """Take the next received audio; `at` is the stream time of its first byte.

        Events carry times on the clock `at` is on, so stamp chunks with the
        clock the other DTMF routes use if their reports are to be merged.
        """
        # Re-anchor what is buffered to this chunk's clock, so times follow
        # the caller's clock even across a lost packet or a clock step.
        self._buf_at = at - len(self._buf) / 2 / self._rate
        self._buf += pcm
        available = len(self._buf) // 2
        if available < self._n:
            return []
        count = (available - self._n) // self._hop + 1
        used = (count - 1) * self._hop + self._n
        samples = np.frombuffer(self._buf, dtype="<i2", count=used).astype(np.float64)
        starts = np.arange(count) * self._hop
        windows = samples[starts[:, None] + np.arange(self._n)]
        keys = self._classify(windows)

        events: list[ToneEvent] = []
        for i, key in enumerate(keys):
            self._step(key, self._buf_at + starts[i] / self._rate, events)

        consumed = count * self._hop
        del self._buf[: 2 * consumed]
        self._buf_at += consumed / self._rate
        return events

    def _classify(self, windows: _Float) -> list[str | None]:
        """The key each window holds, or None: every check at once over all windows."""
        count = len(windows)
        terms = windows @ self._basis
        power = terms[:, 0:8] ** 2 + terms[:, 16:24] ** 2
        rows, cols = power[:, 0:4], power[:, 4:8]
        r = rows.argmax(axis=1)
        c = cols.argmax(axis=1)
        every = np.arange(count)
        p_row, p_col = rows[every, r], cols[every, c]
        energy = np.einsum("ij,ij->i", windows, windows)

        key_idx = r * 4 + c
        pair = np.take_along_axis(terms, self._pair_idx[key_idx], axis=1)
        fit = np.einsum("nij,nj->ni", self._pair_inv[key_idx], pair)
        fitted_energy = np.einsum("ni,ni->n", fit, pair)
        a_row = fit[:, 0] ** 2 + fit[:, 2] ** 2  # squared amplitudes
        a_col = fit[:, 1] ** 2 + fit[:, 3] ** 2

        ok = (a_row >= self._min_amp2) & (a_col >= self._min_amp2)
        ok &= a_col <= a_row * _db(NORMAL_TWIST_DB + TWIST_ALLOWANCE_DB)
        ok &= a_row <= a_col * _db(REVERSE_TWIST_DB + TWIST_ALLOWANCE_DB)
        peak = _db(RELATIVE_PEAK_DB)
        ok &= np.sort(rows, axis=1)[:, -2] * peak <= p_row
        ok &= np.sort(cols, axis=1)[:, -2] * peak <= p_col
        ok &= fitted_energy >= MIN_TONE_FRACTION * energy

        harm = np.take_along_axis(terms, self._harm_idx[key_idx], axis=1)
        coef = np.einsum("nij,nj->ni", self._harm_inv[key_idx], harm)
        amp2 = coef[:, 0:4] ** 2 + coef[:, 4:8] ** 2  # row, column, 2*row, 2*column
        ok &= amp2[:, 2] * _db(ROW_HARMONIC_DB) <= amp2[:, 0]
        ok &= amp2[:, 3] * _db(COLUMN_HARMONIC_DB) <= amp2[:, 1]

        hits = zip(key_idx.tolist(), ok.tolist(), strict=True)
        return [KEYS[k] if hit else None for k, hit in hits]

    def _step(self, key: str | None, at: float, events: list[ToneEvent]) -> None:
        """Debounce one window's verdict; `at` is the window's start."""
        if key is not None and key == self._key:
            self._last_hit_at = at
            self._misses = 0
            self._candidate = None
            self._run = 0
            return
        if key is None:
            self._candidate = None
            self._run = 0
        elif key == self._candidate:
            self._run += 1
        else:
            self._candidate, self._candidate_at, self._run = key, at, 1

        if self._key is not None:
            self._misses += 1
            if self._misses >= UP_WINDOWS:
                end = self._last_hit_at + self.window_seconds
                if self._candidate is not None:
                    # A new key straight after the old one: end the old one
                    # no later than the new one starts.
                    end = min(end, self._candidate_at)
                events.append(ToneEvent(self._key, "up", end))
                self._key = None
        if self._key is None and self._candidate is not None and self._run >= DOWN_WINDOWS:
            events.append(ToneEvent(self._candidate, "down", self._candidate_at))
            self._key = self._candidate
            self._last_hit_at = at
            self._misses = 0
            self._candidate = None
            self._run = 0
