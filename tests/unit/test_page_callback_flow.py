"""The engineer calls the customer back from the page call: 1, then 5 (pure flow)."""

from __future__ import annotations

from ivr.flow.events import (
    Answered,
    CallCustomer,
    CancelTimer,
    CustomerAnswered,
    CustomerLeft,
    CustomerNotReached,
    DigitPressed,
    Hangup,
    HungUp,
    JoinCustomer,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Prompt
from ivr.paging.page_flow import RINGBACK, PageFlow, PageSettings, page_message
from ivr.paging.policy import AttemptResult
from tests.unit.test_page_flow import FAULT, NOW


def acknowledged(callback: bool = True, plays: int = 2) -> PageFlow:
    flow = PageFlow(
        page_message([FAULT], NOW), PageSettings(plays=plays, key_timeout=5), callback=callback
    )
    flow.handle(Answered(verified=True), 0.0)
    commands = flow.handle(DigitPressed("1"), 1.0)
    assert flow.result is AttemptResult.ACKNOWLEDGED
    if callback:
        assert commands == [
            StopPlayback(),
            Play((Prompt("page_acknowledged"), Prompt("page_callback_option")), barge_in=True),
        ]
    return flow


def calling(flow: PageFlow) -> None:
    commands = flow.handle(DigitPressed("5"), 2.0)
    assert commands == [
        StopPlayback(),
        Play((Prompt("page_callback_calling"), *RINGBACK)),
        CallCustomer(),
    ]


def test_without_callback_1_thanks_and_hangs_up_as_before() -> None:
    flow = acknowledged(callback=False)
    assert not flow.done
    assert flow.handle(DigitPressed("5"), 2.0) == []
    assert flow.handle(PlaybackFinished(), 3.0) == [Hangup()]
    assert flow.done


def test_5_calls_the_customer_with_ringing_until_answered_then_joins() -> None:
    flow = acknowledged()
    calling(flow)
    assert flow.handle(PlaybackFinished(), 5.0) == [Play(RINGBACK)]
    assert flow.handle(PlaybackFinished(), 8.0) == [Play(RINGBACK)]
    assert flow.handle(CustomerAnswered(), 9.0) == [StopPlayback(), JoinCustomer()]
    assert flow.handle(PlaybackFinished(), 9.1) == []  # the ringing cut off
    assert flow.callbacks == 1 and flow.keys == ["1", "5"]


def test_keys_while_joined_are_neither_relayed_nor_acted_on() -> None:
    flow = acknowledged()
    calling(flow)
    assert flow.handle(DigitPressed("2"), 4.0) == []
    flow.handle(CustomerAnswered(), 5.0)
    for key in "152*":
        assert flow.handle(DigitPressed(key), 6.0) == []
    assert flow.keys == ["1", "5"]
    assert flow.result is AttemptResult.ACKNOWLEDGED


def test_the_customer_hanging_up_ends_the_engineers_call() -> None:
    flow = acknowledged()
    calling(flow)
    flow.handle(CustomerAnswered(), 5.0)
    assert flow.handle(CustomerLeft(), 60.0) == [StopPlayback(), Hangup()]
    assert flow.done and flow.result is AttemptResult.ACKNOWLEDGED


def test_the_engineer_hanging_up_while_joined_ends_the_flow_acknowledged() -> None:
    flow = acknowledged()
    calling(flow)
    flow.handle(CustomerAnswered(), 5.0)
    assert flow.handle(HungUp(), 60.0) == []
    assert flow.done and flow.result is AttemptResult.ACKNOWLEDGED


def test_busy_is_said_and_5_offered_again() -> None:
    flow = acknowledged()
    calling(flow)
    commands = flow.handle(CustomerNotReached("busy"), 4.0)
    assert commands == [
        StopPlayback(),
        Play((Prompt("page_callback_busy"), Prompt("page_callback_option")), barge_in=True),
    ]
    calling(flow)
    assert flow.callbacks == 2


def test_no_answer_and_failure_each_have_their_words() -> None:
    for why, prompt in (
        ("no_answer", "page_callback_no_answer"),
        ("failed", "page_callback_failed"),
    ):
        flow = acknowledged()
        calling(flow)
        (_stop, play) = flow.handle(CustomerNotReached(why), 4.0)
        assert isinstance(play, Play) and play.parts[0] == Prompt(prompt)


def test_an_offer_unanswered_is_said_again_then_goodbye() -> None:
    flow = acknowledged(plays=2)
    assert flow.handle(PlaybackFinished(), 3.0) == [SetTimer(8.0)]
    assert flow.handle(TimerExpired(), 8.0) == [
        Play((Prompt("page_callback_option"),), barge_in=True)
    ]
    assert flow.handle(PlaybackFinished(), 9.0) == [SetTimer(14.0)]
    assert flow.handle(TimerExpired(), 14.0) == [Play((Prompt("page_goodbye"),), barge_in=False)]
    assert flow.handle(PlaybackFinished(), 15.0) == [Hangup()]
    assert flow.done and flow.result is AttemptResult.ACKNOWLEDGED


def test_star_repeats_the_offer_and_other_keys_are_ignored() -> None:
    flow = acknowledged()
    flow.handle(PlaybackFinished(), 3.0)
    assert flow.handle(DigitPressed("9"), 4.0) == []
    assert flow.handle(DigitPressed("*"), 4.5) == [
        StopPlayback(),
        CancelTimer(),
        Play((Prompt("page_callback_option"),), barge_in=True),
    ]


def test_customer_events_outside_a_callback_are_ignored() -> None:
    flow = acknowledged()
    assert flow.handle(CustomerAnswered(), 3.0) == []
    assert flow.handle(CustomerNotReached("busy"), 3.0) == []
    assert flow.handle(CustomerLeft(), 3.0) == []
    assert not flow.done
