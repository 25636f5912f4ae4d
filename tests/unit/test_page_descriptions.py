"""The engineer hears the customer's own words: "press 3" on the page call (pure, time by hand)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ivr.audio.describing import DescriptionBoard
from ivr.flow.events import (
    Answered,
    CancelTimer,
    DescriptionKept,
    DigitPressed,
    NoteDescriptionPlayed,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Prompt, WavFile
from ivr.paging.page_flow import Descriptions, PagedFault, PageFlow, PageSettings, page_message
from ivr.paging.policy import AttemptResult

LONDON = ZoneInfo("Europe/London")
REPORTED = datetime(2026, 11, 25, 14, 5, tzinfo=LONDON)
NOW = datetime(2026, 11, 25, 14, 6, tzinfo=LONDON)
FAULT = PagedFault("471203", "Acme Widgets Ltd", "+442079460000", REPORTED)
MESSAGE = page_message([FAULT], NOW)
OPTION = Prompt("page_description_option")
STILL = Prompt("page_still_describing")
NEWER, OLDER = "var/recordings/471203-b.wav", "var/recordings/471203-a.wav"


def flow_with(descriptions: Descriptions, plays: int = 2) -> tuple[PageFlow, Play]:
    flow = PageFlow(MESSAGE, PageSettings(plays=plays, key_timeout=5), descriptions)
    (play,) = flow.handle(Answered(verified=True), 0.0)
    assert isinstance(play, Play) and play.barge_in
    return flow, play


def test_without_a_description_the_page_is_as_before() -> None:
    _flow, play = flow_with(Descriptions())
    assert play.parts == tuple(MESSAGE)


def test_a_kept_description_adds_press_3_after_the_options() -> None:
    _flow, play = flow_with(Descriptions((NEWER,)))
    assert play.parts == (*MESSAGE, OPTION)


def test_pressing_3_plays_the_recordings_newest_first_notes_it_then_the_options() -> None:
    flow, _ = flow_with(Descriptions((NEWER, OLDER)))
    commands = flow.handle(DigitPressed("3"), 4.0)
    assert commands == [
        StopPlayback(),
        Play((WavFile(NEWER), WavFile(OLDER)), barge_in=True),
        NoteDescriptionPlayed(2),
    ]
    assert flow.handle(PlaybackFinished(), 20.0) == [
        Play((Prompt("page_options"), OPTION), barge_in=True)
    ]
    # The options alone are followed by time to choose, not the whole message.
    assert flow.handle(PlaybackFinished(), 26.0) == [SetTimer(31.0)]
    assert flow.result is None and flow.descriptions_played == 1


def test_after_the_description_a_key_acknowledges() -> None:
    flow, _ = flow_with(Descriptions((NEWER,)))
    flow.handle(DigitPressed("3"), 4.0)
    flow.handle(PlaybackFinished(), 20.0)
    flow.handle(PlaybackFinished(), 26.0)
    commands = flow.handle(DigitPressed("1"), 28.0)
    assert CancelTimer() in commands
    assert flow.result is AttemptResult.ACKNOWLEDGED


def test_silence_after_the_description_says_the_message_again_while_plays_are_left() -> None:
    flow, _ = flow_with(Descriptions((NEWER,)), plays=2)
    flow.handle(DigitPressed("3"), 4.0)
    flow.handle(PlaybackFinished(), 20.0)
    flow.handle(PlaybackFinished(), 26.0)
    (again,) = flow.handle(TimerExpired(), 31.0)
    assert again == Play((*MESSAGE, OPTION), barge_in=True)
    assert flow.handle(PlaybackFinished(), 50.0) == [SetTimer(55.0)]
    flow.handle(TimerExpired(), 55.0)
    assert flow.result is AttemptResult.NO_KEY


def test_3_without_a_description_is_ignored() -> None:
    flow, _ = flow_with(Descriptions())
    assert flow.handle(DigitPressed("3"), 2.0) == []


def test_still_describing_is_said_and_3_waits_for_the_recording() -> None:
    flow, play = flow_with(Descriptions(describing=True))
    assert play.parts == (*MESSAGE, STILL)
    assert flow.handle(DigitPressed("3"), 2.0) == []


def test_a_description_kept_during_the_message_is_offered_when_it_ends() -> None:
    flow, _ = flow_with(Descriptions(describing=True), plays=2)
    assert flow.handle(DescriptionKept(NEWER), 3.0) == []
    assert flow.handle(PlaybackFinished(), 10.0) == [
        Play((Prompt("page_options"), OPTION), barge_in=True)
    ]
    commands = flow.handle(DigitPressed("3"), 11.0)
    assert Play((WavFile(NEWER),), barge_in=True) in commands


def test_a_description_kept_while_waiting_for_a_key_is_offered_at_once() -> None:
    flow, _ = flow_with(Descriptions(describing=True), plays=1)
    assert flow.handle(PlaybackFinished(), 10.0) == [SetTimer(15.0)]
    assert flow.handle(DescriptionKept(NEWER), 12.0) == [
        CancelTimer(),
        Play((Prompt("page_options"), OPTION), barge_in=True),
    ]


def test_a_repeat_callers_new_description_plays_first() -> None:
    flow, _ = flow_with(Descriptions((OLDER,)))
    flow.handle(DescriptionKept(NEWER), 3.0)
    commands = flow.handle(DigitPressed("3"), 4.0)
    assert Play((WavFile(NEWER), WavFile(OLDER)), barge_in=True) in commands


def test_nothing_is_offered_once_the_page_is_closing() -> None:
    flow, _ = flow_with(Descriptions(describing=True))
    flow.handle(DigitPressed("1"), 2.0)
    assert flow.handle(DescriptionKept(NEWER), 3.0) == []
    assert flow.handle(DigitPressed("3"), 4.0) == []


def test_the_board_says_who_is_describing_and_tells_listeners_once_kept() -> None:
    board = DescriptionBoard()
    heard: list[str] = []
    board.started("471203")
    assert board.describing(["471203", "555666"])
    stop = board.listen(["471203"], heard.append)
    board.finished("471203", NEWER)
    assert heard == [NEWER] and not board.describing(["471203"])
    stop()
    board.started("471203")
    board.finished("471203", OLDER)
    assert heard == [NEWER]


def test_a_recording_not_kept_ends_describing_without_an_offer() -> None:
    board = DescriptionBoard()
    heard: list[str] = []
    board.started("471203")
    board.listen(["471203"], heard.append)
    board.finished("471203", None)
    assert heard == [] and not board.describing(["471203"])
