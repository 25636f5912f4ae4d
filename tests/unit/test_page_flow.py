"""The engineer's side of a page: only a key press acknowledges."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.flow.events import (
    Answered,
    DigitPressed,
    Hangup,
    HungUp,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Digits, Minutes, Moment, Prompt, Text
from ivr.paging.page_flow import PagedFault, PageFlow, PageSettings, page_message
from ivr.paging.policy import AttemptResult
from ivr.prompts.catalogue import default_pieces, minutes_pieces

LONDON = ZoneInfo("Europe/London")
REPORTED = datetime(2026, 11, 25, 14, 5, tzinfo=LONDON)
NOW = datetime(2026, 11, 25, 14, 6, tzinfo=LONDON)
FAULT = PagedFault("471203", "Acme Widgets Ltd", "+442079460000", REPORTED)


def started(plays: int = 2) -> PageFlow:
    flow = PageFlow(page_message([FAULT], NOW), PageSettings(plays=plays, key_timeout=5))
    commands = flow.handle(Answered(verified=True), 0.0)
    assert isinstance(commands[-1], Play) and commands[-1].barge_in
    return flow


def test_message_names_customer_reference_time_and_number() -> None:
    parts = page_message([FAULT], NOW)
    assert parts[0] == Prompt("page_intro")
    assert Text("Acme Widgets Ltd") in parts
    assert Digits("471203") in parts
    assert Moment(REPORTED, NOW) in parts
    assert Digits("442079460000") in parts
    assert parts[-1] == Prompt("page_options")


def test_a_reminder_says_so_first_then_the_same_details() -> None:
    parts = page_message([FAULT], NOW, reminder=True)
    assert parts[0] == Prompt("page_reminder_intro")
    assert parts[1:] == page_message([FAULT], NOW)[1:]


def test_a_reminder_says_how_long_is_left_before_the_response_is_due() -> None:
    due = replace(FAULT, respond_by=NOW + timedelta(minutes=14, seconds=30))
    parts = page_message([due], NOW, reminder=True)
    assert parts[:3] == [
        Prompt("page_reminder_intro"),
        Prompt("page_response_due_in"),
        Minutes(15),  # rounded up: never less time than there is
    ]
    assert parts[3:] == page_message([FAULT], NOW)[1:]
    late = replace(FAULT, respond_by=NOW - timedelta(minutes=1))
    assert page_message([late], NOW, reminder=True)[1] == Prompt("page_response_overdue")


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (15, "fifteen minutes"),
        (1, "one minute"),
        (60, "one hour"),
        (125, "two hours and five minutes"),
    ],
)
def test_a_span_is_said_in_hours_and_minutes(minutes: int, words: str) -> None:
    pieces = default_pieces()
    assert " ".join(pieces[p] for p in minutes_pieces(minutes)) == words


def test_joined_faults_are_all_read_out() -> None:
    second = PagedFault("555666", "Acme Widgets Ltd", "+442079460000", REPORTED)
    parts = page_message([FAULT, second], NOW)
    assert Digits("471203") in parts and Digits("555666") in parts


def test_pressing_1_acknowledges_even_if_the_engineer_hangs_up_during_thanks() -> None:
    flow = started()
    commands = flow.handle(DigitPressed("1"), 3.0)
    assert commands[0] == StopPlayback()
    assert flow.result is AttemptResult.ACKNOWLEDGED
    flow.handle(HungUp(), 4.0)
    assert flow.result is AttemptResult.ACKNOWLEDGED
    assert flow.done


def test_pressing_2_passes_and_hangs_up_after_saying_so() -> None:
    flow = started()
    flow.handle(DigitPressed("2"), 3.0)
    assert flow.result is AttemptResult.PASSED
    assert flow.handle(PlaybackFinished(), 5.0) == [Hangup()]
    assert flow.done


def test_voicemail_hears_the_message_repeated_then_no_key() -> None:
    flow = started(plays=2)
    again = flow.handle(PlaybackFinished(), 10.0)
    assert isinstance(again[-1], Play)
    assert flow.handle(PlaybackFinished(), 20.0) == [SetTimer(25.0)]
    closing = flow.handle(TimerExpired(), 25.0)
    assert isinstance(closing[-1], Play)
    assert flow.result is AttemptResult.NO_KEY
    assert flow.handle(PlaybackFinished(), 27.0) == [Hangup()]


def test_hang_up_without_a_key_is_not_acknowledged() -> None:
    flow = started()
    flow.handle(HungUp(), 2.0)
    assert flow.result is AttemptResult.HUNG_UP


def test_star_repeats_and_other_keys_are_ignored() -> None:
    flow = started(plays=1)
    assert flow.handle(DigitPressed("9"), 1.0) == []
    commands = flow.handle(DigitPressed("*"), 2.0)
    assert commands[0] == StopPlayback() and isinstance(commands[-1], Play)
    assert flow.result is None
