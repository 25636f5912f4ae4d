"""The call flow, every path, with time stepped by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.flow.call_flow import CallFlow, FlowSettings, IllegalEvent, State
from ivr.flow.events import (
    Answered,
    CancelTimer,
    DigitPressed,
    FaultNotRecorded,
    FaultRecorded,
    Hangup,
    HungUp,
    Outcome,
    Play,
    PlaybackFinished,
    Priority,
    RecordFault,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Digits, Moment, Prompt, Text

LONDON = ZoneInfo("Europe/London")
SETTINGS = FlowSettings(first_digit_timeout=10.0, tries=3)


def prompt_ids(command: object) -> list[str]:
    assert isinstance(command, Play)
    return [part.id for part in command.parts if isinstance(part, Prompt)]


def answered_flow(**answered: object) -> tuple[CallFlow, list[object]]:
    flow = CallFlow(SETTINGS)
    commands = flow.handle(Answered(verified=True, **answered), now=0.0)  # type: ignore[arg-type]
    return flow, list(commands)


def press(flow: CallFlow, keys: str, now: float = 1.0) -> list[object]:
    out: list[object] = []
    for key in keys:
        out += flow.handle(DigitPressed(key), now)
    return out


def confirm(flow: CallFlow) -> list[object]:
    """Press 1 during the read-back: the prompt stops (barge-in), then the record."""
    commands = press(flow, "1")
    assert commands[0] == StopPlayback()
    return commands[1:]


def test_verified_caller_hears_greeting_then_menu_with_barge_in() -> None:
    flow, commands = answered_flow()
    assert prompt_ids(commands[0]) == ["greeting", "menu"]
    assert isinstance(commands[0], Play) and commands[0].barge_in
    assert flow.state is State.MENU


def test_critical_report_happy_path_records_before_reading_reference() -> None:
    flow, _ = answered_flow()
    commands = press(flow, "3")
    assert isinstance(commands[0], StopPlayback)
    assert prompt_ids(commands[1]) == ["you_chose", "priority_critical", "confirm"]
    commands = confirm(flow)
    assert commands == [RecordFault(Priority.CRITICAL)]
    # Nothing is said until the fault is committed.
    assert flow.state is State.RECORDING
    commands = flow.handle(FaultRecorded("471203"), 2.0)
    play = commands[0]
    assert isinstance(play, Play) and not play.barge_in
    assert Digits("471203") in play.parts
    assert "engineer_paged" in prompt_ids(play)
    assert flow.handle(PlaybackFinished(), 9.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.REPORTED
    assert flow.summary.reference == "471203"
    assert flow.summary.digits == ["3", "1"]
    assert flow.summary.priority is Priority.CRITICAL


@pytest.mark.parametrize(
    ("key", "priority", "prompt"),
    [("1", Priority.STANDARD, "priority_standard"), ("2", Priority.HIGH, "priority_high")],
)
def test_each_priority_is_read_back(key: str, priority: Priority, prompt: str) -> None:
    flow, _ = answered_flow()
    commands = press(flow, key)
    assert prompt in prompt_ids(commands[-1])
    assert confirm(flow) == [RecordFault(priority)]
    play = flow.handle(FaultRecorded("123456"), 2.0)[0]
    assert "engineer_paged" not in prompt_ids(play)


def test_choose_again_returns_to_menu_and_records_the_new_choice() -> None:
    flow, _ = answered_flow()
    press(flow, "1")
    commands = press(flow, "2")
    assert prompt_ids(commands[-1]) == ["menu"]
    assert flow.summary.priority is None
    press(flow, "3")
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]


def test_timer_is_armed_only_after_the_prompt_finishes() -> None:
    flow, _ = answered_flow()
    assert flow.handle(PlaybackFinished(), now=5.0) == [SetTimer(15.0)]


def test_no_input_repeats_menu_then_gives_up_with_no_choice() -> None:
    flow, _ = answered_flow()
    now = 0.0
    for attempt in range(SETTINGS.tries - 1):
        now += 5
        flow.handle(PlaybackFinished(), now)
        now += 10
        commands = flow.handle(TimerExpired(), now)
        assert prompt_ids(commands[-1]) == ["menu"], attempt
    flow.handle(PlaybackFinished(), now + 5)
    commands = flow.handle(TimerExpired(), now + 15)
    assert prompt_ids(commands[-1]) == ["no_choice"]
    assert flow.handle(PlaybackFinished(), now + 20) == [Hangup()]
    assert flow.summary.outcome is Outcome.NO_CHOICE


def test_wrong_key_hears_invalid_and_menu_again() -> None:
    flow, _ = answered_flow()
    commands = press(flow, "7")
    assert prompt_ids(commands[-1]) == ["invalid_choice", "menu"]
    press(flow, "9")
    commands = press(flow, "0")
    assert prompt_ids(commands[-1]) == ["no_choice"]
    assert flow.summary.digits == ["7", "9", "0"]


def test_star_repeats_menu_without_using_a_try() -> None:
    flow, _ = answered_flow()
    for _ in range(5):
        commands = press(flow, "*")
        assert prompt_ids(commands[-1]) == ["menu"]
    assert flow.state is State.MENU


def test_cancelled_timer_that_fires_late_is_ignored() -> None:
    flow, _ = answered_flow()
    flow.handle(PlaybackFinished(), 1.0)
    commands = press(flow, "3", now=2.0)
    assert CancelTimer() in commands
    assert flow.handle(TimerExpired(), 11.0) == []
    assert flow.state is State.CONFIRM


def test_keys_during_reference_are_ignored() -> None:
    flow, _ = answered_flow()
    press(flow, "31")
    flow.handle(FaultRecorded("654321"), 2.0)
    assert press(flow, "5") == []
    assert flow.summary.digits == ["3", "1"]


def test_unknown_caller_is_told_alternatives_and_no_fault_is_possible() -> None:
    flow = CallFlow(SETTINGS)
    commands = flow.handle(Answered(verified=False), 0.0)
    assert prompt_ids(commands[0]) == ["greeting", "unknown_caller"]
    assert press(flow, "3") == []
    assert flow.handle(PlaybackFinished(), 5.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.REJECTED


def test_hangup_mid_menu_is_abandoned_and_keeps_digits() -> None:
    flow, _ = answered_flow()
    press(flow, "3")
    flow.handle(HungUp(), 3.0)
    assert flow.summary.outcome is Outcome.ABANDONED
    assert flow.summary.digits == ["3"]
    assert flow.state is State.DONE
    assert flow.handle(DigitPressed("1"), 4.0) == []


def test_hangup_during_reference_stays_reported() -> None:
    flow, _ = answered_flow()
    press(flow, "21")
    flow.handle(FaultRecorded("222333"), 2.0)
    flow.handle(HungUp(), 3.0)
    assert flow.summary.outcome is Outcome.REPORTED


def test_record_failure_tells_caller_and_logs_failed() -> None:
    flow, _ = answered_flow()
    press(flow, "31")
    commands = flow.handle(FaultNotRecorded("database down"), 2.0)
    assert prompt_ids(commands[-1]) == ["record_failed"]
    assert flow.summary.outcome is Outcome.FAILED


def test_after_hours_offers_only_critical_and_says_when_office_opens() -> None:
    now = datetime(2026, 11, 28, 22, 0, tzinfo=LONDON)
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
    flow, commands = answered_flow(after_hours=True, next_opening=opening, local_now=now)
    play = commands[0]
    assert isinstance(play, Play)
    assert Moment(opening, now) in play.parts
    assert prompt_ids(play) == [
        "greeting",
        "after_hours_closed",
        "office_opens",
        "after_hours_menu",
    ]
    commands = press(flow, "1")
    assert prompt_ids(commands[-1]) == ["after_hours_goodbye"]
    assert flow.summary.outcome is Outcome.AFTER_HOURS


def test_after_hours_critical_is_taken() -> None:
    flow, _ = answered_flow(after_hours=True)
    press(flow, "3")
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]


def test_outage_announcement_comes_before_the_menu() -> None:
    flow, commands = answered_flow(announcement="Planned maintenance tonight.")
    play = commands[0]
    assert isinstance(play, Play)
    assert play.parts[1:3] == (Prompt("announcement"), Text("Planned maintenance tonight."))


def test_events_before_answer_are_illegal() -> None:
    with pytest.raises(IllegalEvent):
        CallFlow(SETTINGS).handle(DigitPressed("1"), 0.0)


def test_hangup_before_answer_is_abandoned() -> None:
    flow = CallFlow(SETTINGS)
    flow.handle(HungUp(), 0.0)
    assert flow.summary.outcome is Outcome.ABANDONED


def test_bad_key_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError):
        DigitPressed("x")
