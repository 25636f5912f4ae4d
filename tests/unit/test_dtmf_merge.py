"""A key press counts once, whether it comes as RFC 4733, SIP INFO, in-band tones, or all three."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.dtmf import DigitMerger, DigitSource, InbandDetector
from ivr.dtmf.goertzel import COLUMN_HZ, KEYPAD, ROW_HZ

Report = tuple[str, DigitSource, float]


def offers(merger: DigitMerger, reports: list[Report]) -> list[bool]:
    return [merger.offer(key, source, at) for key, source, at in reports]


def test_a_press_sent_as_rfc4733_and_in_band_is_delivered_once() -> None:
    merger = DigitMerger()
    assert offers(merger, [("5", "rfc4733", 10.00), ("5", "inband", 10.03)]) == [True, False]


def test_whichever_route_reports_first_is_the_one_delivered() -> None:
    merger = DigitMerger()
    assert offers(merger, [("5", "inband", 10.00), ("5", "rfc4733", 10.04)]) == [True, False]


def test_all_three_routes_for_one_press_are_one_press() -> None:
    merger = DigitMerger()
    reports: list[Report] = [("#", "rfc4733", 3.0), ("#", "info", 3.05), ("#", "inband", 2.99)]
    assert offers(merger, reports) == [True, False, False]


def test_the_same_route_twice_is_two_presses_however_close() -> None:
    for source in ("rfc4733", "info", "inband"):
        merger = DigitMerger()
        assert offers(merger, [("1", source, 1.0), ("1", source, 1.0)]) == [True, True]


def test_a_different_key_is_a_new_press_whatever_the_route() -> None:
    merger = DigitMerger()
    assert offers(merger, [("1", "rfc4733", 1.0), ("2", "inband", 1.01)]) == [True, True]


def test_the_window_is_inclusive_and_measured_either_way() -> None:
    merger = DigitMerger(window=0.25)
    assert offers(merger, [("7", "rfc4733", 1.0), ("7", "inband", 1.25)]) == [True, False]
    merger = DigitMerger(window=0.25)
    assert offers(merger, [("7", "rfc4733", 1.0), ("7", "inband", 0.75)]) == [True, False]
    merger = DigitMerger(window=0.25)
    assert offers(merger, [("7", "rfc4733", 1.0), ("7", "inband", 1.26)]) == [True, True]


def test_two_quick_presses_each_sent_both_ways_pair_up_even_out_of_order() -> None:
    """An auto-dialler's "11": 4733 for both arrives before the in-band detector has decided."""
    merger = DigitMerger()
    reports: list[Report] = [
        ("1", "rfc4733", 0.00),
        ("1", "rfc4733", 0.10),
        ("1", "inband", 0.11),  # the second press: nearest in time
        ("1", "inband", 0.01),  # the first press, reported late
    ]
    assert offers(merger, reports) == [True, True, False, False]
    # A third report of the first press from a route already heard is a new press.
    assert merger.offer("1", "inband", 0.02) is True


def test_limit_one_key_twice_within_the_window_each_by_one_route_only_counts_once() -> None:
    """The documented limit: with the other copies lost, the second press looks like a duplicate."""
    merger = DigitMerger()
    assert offers(merger, [("4", "rfc4733", 5.0), ("4", "inband", 5.2)]) == [True, False]


def test_a_zero_window_merges_only_reports_at_the_same_instant() -> None:
    merger = DigitMerger(window=0.0)
    assert offers(merger, [("9", "rfc4733", 1.0), ("9", "inband", 1.0)]) == [True, False]
    assert offers(merger, [("9", "rfc4733", 2.0), ("9", "inband", 2.001)]) == [True, True]


def test_a_long_call_keeps_working_and_forgets_old_presses() -> None:
    merger = DigitMerger()
    for i in range(10_000):
        at = i * 0.5
        assert offers(merger, [("0", "rfc4733", at), ("0", "inband", at + 0.02)]) == [True, False]
    assert len(merger._presses) <= 2  # only what a late report could still match


def test_bad_reports_and_windows_are_refused() -> None:
    merger = DigitMerger()
    with pytest.raises(ValueError, match="not a DTMF key"):
        merger.offer("E", "rfc4733", 0.0)
    with pytest.raises(ValueError, match="not a DTMF key"):
        merger.offer("12", "rfc4733", 0.0)
    with pytest.raises(ValueError, match="unknown digit source 'sip'"):
        merger.offer("1", "sip", 0.0)  # type: ignore[arg-type]
    for window in (-0.1, float("nan")):
        with pytest.raises(ValueError, match="window"):
            DigitMerger(window=window)


def dual_tone(key: str, seconds: float, rate: int = 8000) -> np.ndarray:
    row = next(r for r, keys in enumerate(KEYPAD) if key in keys)
    col = KEYPAD[row].index(key)
    t = np.arange(round(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * ROW_HZ[row] * t) + np.sin(2 * np.pi * COLUMN_HZ[col] * t)
    return (wave * 8000).astype(np.int16)


def test_detector_and_rfc4733_together_deliver_each_digit_once() -> None:
    """A handset that sends "2580" both ways: what the menu sees is "2580"."""
    rate, gap = 8000, np.zeros(800, dtype=np.int16)
    audio = np.concatenate([part for key in "2580" for part in (gap, dual_tone(key, 0.12))] + [gap])
    # RFC 4733 reports each press at its start, as received, 20-60 ms late.
    rfc4733 = [(key, 0.1 + i * 0.22 + 0.02 + 0.01 * i) for i, key in enumerate("2580")]

    merger, detector = DigitMerger(), InbandDetector(rate)
    delivered: list[str] = []
    heard_inband: list[str] = []
    data = audio.astype("<i2").tobytes()
    for offset in range(0, len(data), 320):
        now = offset / 2 / rate
        while rfc4733 and rfc4733[0][1] <= now:
            key, at = rfc4733.pop(0)
            if merger.offer(key, "rfc4733", at):
                delivered.append(key)
        for event in detector.feed(data[offset : offset + 320], now):
            if event.kind == "down":
                heard_inband.append(event.key)
                if merger.offer(event.key, "inband", event.at):
                    delivered.append(event.key)
    assert heard_inband == list("2580")  # every press really did arrive twice
    assert delivered == list("2580")
