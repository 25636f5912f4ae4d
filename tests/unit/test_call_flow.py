"""The call flow, every path, with time stepped by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.domain import AfterHours, Outcome, Priority, UnknownCallers
from ivr.flow.call_flow import CallFlow, FlowSettings, IllegalEvent, State
from ivr.flow.events import (
    Answered,
    CancelTimer,
    CheckCredentials,
    CredentialsChecked,
    DigitPressed,
    FaultNotRecorded,
    FaultRecorded,
    Hangup,
    HungUp,
    Play,
    PlaybackFinished,
    RecordFault,
    RecordingStopped,
    SetTimer,
    StartRecording,
    StopPlayback,
    StopRecording,
    TimerExpired,
)
from ivr.flow.speech import Digits, Moment, Prompt, Text, Tone

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


def recorded(flow: CallFlow, reference: str, now: float = 2.0, **event: object) -> list[object]:
    """The fault is committed: the reference is read first, then what comes next."""
    first = flow.handle(FaultRecorded(reference, **event), now)  # type: ignore[arg-type]
    assert prompt_ids(first[-1]) == ["fault_logged"]
    assert isinstance(first[-1], Play) and first[-1].parts[-1] == Digits(reference)
    assert not first[-1].barge_in
    assert flow.state is State.FIRST_REFERENCE and not flow.summary.reference_heard
    commands = flow.handle(PlaybackFinished(), now + 1)
    assert flow.summary.reference_heard
    return list(commands)


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
    commands = recorded(flow, "471203")
    # The reference first, then that an engineer is being called, then the
    # invitation to describe the fault after the tone.
    assert prompt_ids(commands[0]) == ["engineer_paged", "describe_fault"]
    assert flow.handle(PlaybackFinished(), 4.0) == [StartRecording("471203", 120.0)]
    assert flow.handle(DigitPressed("#"), 9.0) == [StopRecording()]
    play = flow.handle(RecordingStopped("key", 5.0), 9.1)[0]
    assert isinstance(play, Play) and not play.barge_in
    assert prompt_ids(play) == ["reference_again", "goodbye"]
    assert Digits("471203") in play.parts
    assert flow.handle(PlaybackFinished(), 19.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.REPORTED
    assert flow.summary.reference == "471203"
    assert flow.summary.digits == ["3", "1", "#"]
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
    play = recorded(flow, "123456")[0]
    assert prompt_ids(play) == ["describe_fault"]
    assert isinstance(play, Play) and play.parts[-1] == Tone()


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
    recorded(flow, "654321")
    press(flow, "#")  # skips the description
    assert flow.state is State.READING_REFERENCE
    assert press(flow, "5") == []
    assert flow.summary.digits == ["3", "1", "#"]


def test_keys_other_than_hash_while_describing_are_part_of_the_recording() -> None:
    flow, _ = answered_flow()
    press(flow, "21")
    recorded(flow, "654321")
    flow.handle(PlaybackFinished(), 3.0)
    assert press(flow, "5") == []
    assert flow.state is State.DESCRIBING


def test_silence_or_time_limit_ends_the_description() -> None:
    flow, _ = answered_flow()
    press(flow, "11")
    recorded(flow, "654321")
    flow.handle(PlaybackFinished(), 3.0)
    play = flow.handle(RecordingStopped("silence", 7.0), 10.0)[0]
    assert prompt_ids(play) == ["reference_again", "goodbye"]


def test_hang_up_while_describing_keeps_the_fault_reported() -> None:
    flow, _ = answered_flow()
    press(flow, "31")
    recorded(flow, "654321")
    flow.handle(PlaybackFinished(), 3.0)
    flow.handle(HungUp(), 5.0)
    assert flow.summary.outcome is Outcome.REPORTED


def test_without_descriptions_the_reference_follows_the_commit() -> None:
    flow = CallFlow(FlowSettings(describe=False))
    flow.handle(Answered(verified=True), 0.0)
    press(flow, "3")
    confirm(flow)
    play = recorded(flow, "471203")[0]
    assert prompt_ids(play) == ["engineer_paged", "reference_again", "goodbye"]


def test_repeat_caller_adds_a_description_to_the_open_fault() -> None:
    flow, commands = answered_flow(recent_reference="777888")
    assert prompt_ids(commands[0]) == ["greeting", "recent_fault", "recent_fault_options"]
    assert Digits("777888") in commands[0].parts  # type: ignore[attr-defined]
    press(flow, "1")
    flow.handle(PlaybackFinished(), 3.0)
    assert flow.state is State.DESCRIBING
    play = flow.handle(RecordingStopped("key", 4.0), 8.0)[0]
    assert prompt_ids(play)[0] == "description_added"
    flow.handle(PlaybackFinished(), 12.0)
    assert flow.summary.outcome is Outcome.UPDATED
    assert flow.summary.reference == "777888"


def test_repeat_caller_may_report_a_new_fault() -> None:
    flow, _ = answered_flow(recent_reference="777888")
    commands = press(flow, "2")
    assert prompt_ids(commands[-1]) == ["menu"]
    press(flow, "3")
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]


def test_repeat_caller_wrong_key_hears_the_choice_again() -> None:
    flow, _ = answered_flow(recent_reference="777888")
    commands = press(flow, "9")
    assert prompt_ids(commands[-1]) == ["invalid_choice", "recent_fault", "recent_fault_options"]


def test_unknown_caller_is_told_alternatives_and_no_fault_is_possible() -> None:
    flow = CallFlow(replace(SETTINGS, unknown_callers=UnknownCallers.REFUSE))
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
    recorded(flow, "222333")
    press(flow, "#")
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
    # Told plainly that it was not taken, when the office opens, and how else.
    assert prompt_ids(commands[-1]) == [
        "after_hours_not_taken",
        "office_opens",
        "after_hours_other_ways",
    ]
    assert Moment(opening, now) in commands[-1].parts  # type: ignore[attr-defined]
    assert flow.summary.outcome is Outcome.AFTER_HOURS
    assert flow.summary.priority is None and flow.summary.reference is None


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


# ---- the read-back (CONFIRM): star, a wrong key, silence ------------------------------


def read_back(priority: str) -> list[str]:
    return ["you_chose", priority, "confirm"]


def test_star_during_read_back_repeats_it_without_using_a_try() -> None:
    flow, _ = answered_flow()
    press(flow, "2")
    for _ in range(SETTINGS.tries + 1):
        commands = press(flow, "*")
        assert commands[0] == StopPlayback()  # the read-back is cut at once
        play = commands[-1]
        assert prompt_ids(play) == read_back("priority_high")
        assert isinstance(play, Play) and play.barge_in
        assert flow.state is State.CONFIRM
    assert flow.summary.priority is Priority.HIGH
    assert confirm(flow) == [RecordFault(Priority.HIGH)]
    assert flow.summary.digits == ["2", "*", "*", "*", "*", "1"]


def test_star_after_the_read_back_finished_cancels_the_timer_and_repeats_it() -> None:
    flow, _ = answered_flow()
    press(flow, "3")
    assert flow.handle(PlaybackFinished(), 3.0) == [SetTimer(13.0)]
    commands = press(flow, "*", now=5.0)
    assert commands[0] == CancelTimer()
    assert StopPlayback() not in commands  # nothing was playing
    assert prompt_ids(commands[-1]) == read_back("priority_critical")
    assert flow.handle(TimerExpired(), 13.0) == []  # the cancelled timer, firing late


def test_wrong_key_during_read_back_hears_invalid_and_the_read_back_again() -> None:
    flow, _ = answered_flow()
    press(flow, "3")
    commands = press(flow, "5")
    assert commands[0] == StopPlayback()
    play = commands[-1]
    assert prompt_ids(play) == ["invalid_choice", *read_back("priority_critical")]
    assert isinstance(play, Play) and play.barge_in
    assert flow.state is State.CONFIRM
    assert flow.summary.priority is Priority.CRITICAL
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]


def test_wrong_keys_during_read_back_give_up_after_the_tries_with_no_fault() -> None:
    flow, _ = answered_flow()
    press(flow, "7")  # a wrong key in the menu: its try does not count at the read-back
    press(flow, "3")
    for _ in range(SETTINGS.tries - 1):
        commands = press(flow, "9")
        assert prompt_ids(commands[-1]) == ["invalid_choice", *read_back("priority_critical")]
    commands = press(flow, "9")
    play = commands[-1]
    assert prompt_ids(play) == ["no_choice"]
    assert isinstance(play, Play) and not play.barge_in
    assert not any(isinstance(command, RecordFault) for command in commands)
    assert flow.state is State.FAREWELL
    assert flow.handle(PlaybackFinished(), 5.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.NO_CHOICE
    assert flow.summary.digits == ["7", "3", "9", "9", "9"]


def test_silence_at_the_read_back_reads_it_again_then_gives_up() -> None:
    flow, _ = answered_flow()
    press(flow, "1", now=1.0)
    now = 1.0
    for _ in range(SETTINGS.tries - 1):
        now += 2
        assert flow.handle(PlaybackFinished(), now) == [SetTimer(now + 10.0)]
        now += 10
        commands = flow.handle(TimerExpired(), now)
        # The caller hears the read-back again, without "invalid".
        play = commands[-1]
        assert prompt_ids(play) == read_back("priority_standard")
        assert isinstance(play, Play) and play.barge_in
        assert flow.state is State.CONFIRM
    flow.handle(PlaybackFinished(), now + 2)
    commands = flow.handle(TimerExpired(), now + 12)
    assert prompt_ids(commands[-1]) == ["no_choice"]
    assert flow.handle(PlaybackFinished(), now + 14) == [Hangup()]
    assert flow.summary.outcome is Outcome.NO_CHOICE
    assert flow.summary.digits == ["1"]


def test_confirming_after_the_read_back_finished_cancels_the_timer() -> None:
    flow, _ = answered_flow()
    press(flow, "3", now=1.0)
    assert flow.handle(PlaybackFinished(), 3.0) == [SetTimer(13.0)]
    # Nothing is playing, so nothing to stop: the timer goes and the fault is recorded.
    assert press(flow, "1", now=6.0) == [CancelTimer(), RecordFault(Priority.CRITICAL)]
    assert flow.state is State.RECORDING
    assert flow.handle(TimerExpired(), 13.0) == []  # fired as it was cancelled
    assert flow.state is State.RECORDING


# ---- the repeat-caller question (RECENT_FAULT): silence and star -----------------------


RECENT_PARTS = ["recent_fault", "recent_fault_options"]


def test_silence_at_the_repeat_caller_question_asks_again_then_gives_up() -> None:
    flow, _ = answered_flow(recent_reference="777888")
    now = 0.0
    for _ in range(SETTINGS.tries - 1):
        now += 3
        assert flow.handle(PlaybackFinished(), now) == [SetTimer(now + 10.0)]
        now += 10
        play = flow.handle(TimerExpired(), now)[-1]
        assert prompt_ids(play) == RECENT_PARTS  # no greeting the second time
        assert isinstance(play, Play) and play.barge_in
        assert Digits("777888") in play.parts
        assert flow.state is State.RECENT_FAULT
    flow.handle(PlaybackFinished(), now + 3)
    commands = flow.handle(TimerExpired(), now + 13)
    assert prompt_ids(commands[-1]) == ["no_choice"]
    assert flow.handle(PlaybackFinished(), now + 15) == [Hangup()]
    assert flow.summary.outcome is Outcome.NO_CHOICE
    assert flow.summary.reference is None  # nothing was added to the open fault


def test_star_at_the_repeat_caller_question_repeats_it_without_using_a_try() -> None:
    flow, _ = answered_flow(recent_reference="777888")
    for _ in range(SETTINGS.tries + 1):
        commands = press(flow, "*")
        assert commands[0] == StopPlayback()
        play = commands[-1]
        assert prompt_ids(play) == RECENT_PARTS
        assert isinstance(play, Play) and Digits("777888") in play.parts
        assert flow.state is State.RECENT_FAULT
    press(flow, "1")
    assert flow.state is State.DESCRIBE_PROMPT
    assert flow.summary.reference == "777888"


# ---- messages that cannot be interrupted ------------------------------------------------


def test_keys_during_the_farewell_are_ignored() -> None:
    # Every prompt of the menu, the read-back and the repeat-caller question
    # may be interrupted; the farewell after them may not.
    flow, _ = answered_flow()
    press(flow, "777")
    assert flow.state is State.FAREWELL
    assert press(flow, "3") == []
    assert press(flow, "*") == []
    assert flow.summary.digits == ["7", "7", "7"]
    assert flow.handle(PlaybackFinished(), 5.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.NO_CHOICE


def test_keys_during_the_after_hours_goodbye_are_ignored() -> None:
    flow, _ = answered_flow(after_hours=True)
    play = press(flow, "2")[-1]
    assert prompt_ids(play) == ["after_hours_not_taken", "after_hours_other_ways"]
    assert isinstance(play, Play) and not play.barge_in
    assert press(flow, "3") == []
    assert flow.summary.priority is None
    assert flow.handle(PlaybackFinished(), 5.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.AFTER_HOURS


# ---- events that cannot happen in a state -----------------------------------------------


def in_menu() -> CallFlow:
    return answered_flow()[0]


def in_confirm() -> CallFlow:
    flow = in_menu()
    press(flow, "3")
    return flow


def in_recent_fault() -> CallFlow:
    return answered_flow(recent_reference="777888")[0]


def in_recording() -> CallFlow:
    flow = in_confirm()
    press(flow, "1")
    return flow


def in_describe_prompt() -> CallFlow:
    flow = in_recording()
    flow.handle(FaultRecorded("471203"), 2.0)
    return flow


def in_describing() -> CallFlow:
    flow = in_describe_prompt()
    flow.handle(PlaybackFinished(), 3.0)
    return flow


def in_reading_reference() -> CallFlow:
    flow = in_describing()
    flow.handle(RecordingStopped("key", 1.0), 4.0)
    return flow


def summary_of(flow: CallFlow) -> tuple[object, ...]:
    summary = flow.summary
    return (summary.outcome, list(summary.digits), summary.priority, summary.reference)


@pytest.mark.parametrize(
    "reach",
    [in_menu, in_confirm, in_recent_fault, in_recording, in_describing, in_reading_reference],
)
def test_a_second_answered_is_illegal_and_changes_nothing(reach: Callable[[], CallFlow]) -> None:
    flow = reach()
    state, before = flow.state, summary_of(flow)
    with pytest.raises(IllegalEvent, match="Answered"):
        flow.handle(Answered(verified=True), 9.0)
    assert flow.state is state
    assert summary_of(flow) == before


@pytest.mark.parametrize(
    "reach",
    [in_menu, in_confirm, in_recent_fault, in_describe_prompt, in_describing],
)
@pytest.mark.parametrize(
    "event",
    [FaultRecorded("999999"), FaultNotRecorded("database down")],
    ids=["FaultRecorded", "FaultNotRecorded"],
)
def test_a_commit_result_outside_recording_is_illegal_and_changes_nothing(
    reach: Callable[[], CallFlow], event: FaultRecorded | FaultNotRecorded
) -> None:
    flow = reach()
    state, before = flow.state, summary_of(flow)
    with pytest.raises(IllegalEvent, match=type(event).__name__):
        flow.handle(event, 9.0)
    assert flow.state is state
    assert summary_of(flow) == before


def test_the_flow_goes_on_after_an_illegal_event() -> None:
    flow = in_confirm()
    with pytest.raises(IllegalEvent):
        flow.handle(FaultRecorded("999999"), 2.0)
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]
    flow.handle(FaultRecorded("471203"), 3.0)
    assert flow.summary.reference == "471203"


# ---- an unknown caller proves who they are with an account number and PIN ---------------


def unknown_flow() -> tuple[CallFlow, list[object]]:
    flow = CallFlow(SETTINGS)
    return flow, list(flow.handle(Answered(verified=False), 0.0))


def test_an_unknown_caller_is_asked_for_their_account_number() -> None:
    flow, commands = unknown_flow()
    assert prompt_ids(commands[0]) == ["greeting", "unknown_caller_pin", "enter_account"]
    assert isinstance(commands[0], Play) and commands[0].barge_in
    assert flow.state is State.ASK_ACCOUNT


def test_account_then_pin_then_the_menu_and_the_pin_is_never_logged() -> None:
    flow, _ = unknown_flow()
    commands = press(flow, "1")  # typed over the prompt: it stops, and the next key is awaited
    assert commands == [StopPlayback(), SetTimer(11.0)]
    press(flow, "23456")
    commands = press(flow, "#")
    assert prompt_ids(commands[-1]) == ["enter_pin"] and flow.state is State.ASK_PIN
    press(flow, "4321")
    commands = press(flow, "#")
    assert commands[-1] == CheckCredentials("123456", "4321")
    assert flow.state is State.CHECKING
    assert press(flow, "9") == []  # nothing is taken while the details are checked
    commands = flow.handle(CredentialsChecked("Acme Ltd"), 5.0)
    assert prompt_ids(commands[-1]) == ["menu"]
    assert flow.summary.verified_by_pin == "Acme Ltd"
    press(flow, "3")
    assert confirm(flow) == [RecordFault(Priority.CRITICAL)]
    assert flow.summary.digits == ["3", "1"]  # the account and PIN are not among the keys
    assert "4321" not in repr(CheckCredentials("123456", "4321"))


def test_a_verified_pin_caller_with_an_open_fault_is_offered_it() -> None:
    flow, _ = unknown_flow()
    press(flow, "123456#4321#")
    commands = flow.handle(CredentialsChecked("Acme Ltd", recent_reference="777888"), 5.0)
    assert prompt_ids(commands[-1]) == ["recent_fault", "recent_fault_options"]


def test_three_wrong_entries_end_the_call_politely_with_no_fault() -> None:
    flow, _ = unknown_flow()
    for attempt in range(SETTINGS.tries - 1):
        press(flow, "123456#0000#")
        commands = flow.handle(CredentialsChecked(None), 5.0)
        assert prompt_ids(commands[-1]) == ["details_not_recognised", "enter_account"], attempt
    press(flow, "123456#0000#")
    commands = flow.handle(CredentialsChecked(None), 9.0)
    assert prompt_ids(commands[-1]) == ["details_goodbye"]
    assert flow.handle(PlaybackFinished(), 12.0) == [Hangup()]
    assert flow.summary.outcome is Outcome.REJECTED
    assert flow.summary.reference is None


def test_silence_or_an_empty_account_asks_again_then_gives_up() -> None:
    flow, _ = unknown_flow()
    flow.handle(PlaybackFinished(), 5.0)
    commands = flow.handle(TimerExpired(), 15.0)
    assert prompt_ids(commands[-1]) == ["details_not_recognised", "enter_account"]
    commands = press(flow, "#")  # hash alone: nothing was typed
    assert prompt_ids(commands[-1]) == ["details_not_recognised", "enter_account"]
    flow.handle(PlaybackFinished(), 20.0)
    commands = flow.handle(TimerExpired(), 30.0)
    assert prompt_ids(commands[-1]) == ["details_goodbye"]
    assert flow.summary.outcome is Outcome.REJECTED


def test_star_starts_the_entry_again() -> None:
    flow, _ = unknown_flow()
    press(flow, "999")
    commands = press(flow, "*")
    assert prompt_ids(commands[-1]) == ["enter_account"]
    press(flow, "123456#")
    press(flow, "12*")
    press(flow, "4321#")
    assert flow.state is State.CHECKING


# ---- what happens next -------------------------------------------------------------------


def test_the_caller_hears_by_when_from_the_stored_deadline() -> None:
    flow, _ = answered_flow()
    press(flow, "2")
    confirm(flow)
    now = datetime(2026, 11, 25, 9, 45, tzinfo=LONDON)
    due = datetime(2026, 11, 25, 14, 45, tzinfo=LONDON)
    commands = recorded(flow, "123456", acknowledge_by=due, local_now=now)
    assert prompt_ids(commands[0]) == ["acknowledge_by", "describe_fault"]
    assert Moment(due, now) in commands[0].parts  # type: ignore[attr-defined]


def test_a_critical_caller_is_not_told_an_engineer_is_called_when_nobody_can_be() -> None:
    flow, _ = answered_flow()
    press(flow, "3")
    confirm(flow)
    commands = recorded(flow, "123456", engineer_called=False)
    assert prompt_ids(commands[0]) == ["no_engineer_now", "describe_fault"]


def test_with_after_hours_all_a_standard_fault_is_taken_and_the_caller_told_when() -> None:
    flow = CallFlow(replace(SETTINGS, after_hours=AfterHours.ALL))
    now = datetime(2026, 11, 28, 22, 0, tzinfo=LONDON)
    opening = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
    commands = flow.handle(
        Answered(verified=True, after_hours=True, next_opening=opening, local_now=now), 0.0
    )
    assert prompt_ids(commands[0]) == ["greeting", "after_hours_closed", "office_opens", "menu"]
    press(flow, "1")
    assert confirm(flow) == [RecordFault(Priority.STANDARD)]
    due = datetime(2026, 11, 30, 17, 0, tzinfo=LONDON)
    commands = recorded(flow, "123456", acknowledge_by=due, local_now=now)
    assert prompt_ids(commands[0]) == ["after_hours_logged", "acknowledge_by", "describe_fault"]


def test_a_caller_who_hangs_up_during_the_first_reading_has_not_heard_it() -> None:
    flow, _ = answered_flow()
    press(flow, "3")
    confirm(flow)
    flow.handle(FaultRecorded("471203"), 2.0)
    flow.handle(HungUp(), 3.0)
    assert flow.summary.outcome is Outcome.REPORTED
    assert not flow.summary.reference_heard


def test_keys_count_only_in_menus_entries_and_around_the_description() -> None:
    """The service reads a caller's audio for in-band keys only while this holds."""
    flow = CallFlow(SETTINGS)
    assert not flow.takes_keys  # not answered yet
    flow.handle(Answered(verified=True), now=0.0)
    assert flow.state is State.MENU and flow.takes_keys
    press(flow, "3")
    assert flow.state is State.CONFIRM and flow.takes_keys
    confirm(flow)
    assert flow.state is State.RECORDING and not flow.takes_keys  # being committed
    recorded(flow, "471203")
    assert flow.state is State.DESCRIBE_PROMPT and flow.takes_keys  # '#' skips it
    flow.handle(PlaybackFinished(), 4.0)
    assert flow.state is State.DESCRIBING and flow.takes_keys  # '#' ends it
    flow.handle(DigitPressed("#"), 9.0)
    flow.handle(RecordingStopped("key", 5.0), 9.1)
    assert flow.state is State.READING_REFERENCE and not flow.takes_keys
    flow.handle(PlaybackFinished(), 19.0)
    assert flow.done and not flow.takes_keys
