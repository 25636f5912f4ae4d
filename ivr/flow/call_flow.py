"""The fault-reporting call flow as a pure state machine.

greet → (unknown caller: explain and hang up)
      → (open fault reported lately: add to it, or report a new one)
      → menu → confirm → record → describe after the tone → read reference → goodbye

`handle(event, now)` takes one event and the current time and returns the
commands to carry out. It never touches a socket, clock or database, so
every path, timeout included, is tested by stepping `now` by hand.

Rules the flow keeps for callers:
- a fault is recorded only after the caller confirmed its priority, so a
  critical report is never mistaken for another priority;
- the reference is spoken only after FaultRecorded, i.e. after the commit;
- out of hours only critical faults are taken, as the SLA says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ivr.domain import Outcome, Priority
from ivr.flow.events import (
    Answered,
    CallSummary,
    CancelTimer,
    Command,
    DigitPressed,
    Event,
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
from ivr.flow.speech import Digits, Moment, Prompt, SpeechPart, Text, Tone

REPEAT_KEY = "*"

PRIORITY_PROMPTS = {
    Priority.STANDARD: "priority_standard",
    Priority.HIGH: "priority_high",
    Priority.CRITICAL: "priority_critical",
}


class State(enum.Enum):
    WAITING = "waiting"  # not answered yet
    REJECTING = "rejecting"  # telling an unknown caller how else to report
    MENU = "menu"  # choosing a priority
    CONFIRM = "confirm"  # hearing the choice read back
    RECENT_FAULT = "recent_fault"  # add to the open fault, or report a new one?
    RECORDING = "recording"  # fault being committed
    DESCRIBE_PROMPT = "describe_prompt"  # "describe the fault after the tone"
    DESCRIBING = "describing"  # the caller's description is being recorded
    READING_REFERENCE = "reading_reference"
    FAREWELL = "farewell"  # a last message, then hang up
    DONE = "done"


@dataclass(frozen=True)
class FlowSettings:
    first_digit_timeout: float = 10.0
    tries: int = 3
    describe: bool = True  # invite a spoken description after the fault is logged
    max_description_seconds: float = 120.0


class IllegalEvent(RuntimeError):
    """The event cannot happen in this state (a bug in the caller of the flow)."""


class CallFlow:
    """One caller's way through the fault line."""

    def __init__(self, settings: FlowSettings | None = None) -> None:
        self.settings = settings or FlowSettings()
        self.state = State.WAITING
        self.summary = CallSummary()
        self._answered: Answered | None = None
        self._tries = 0
        self._timer_armed = False
        self._playing = False
        self._playing_barge_in = False
        self._adding_to_recent = False

    # ---- public interface ---------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Command]:
        """Advance the flow by one event; return what must be done."""
        if self.state is State.DONE:
            return []
        if isinstance(event, HungUp):
            return self._on_hangup()
        if isinstance(event, Answered):
            if self.state is not State.WAITING:
                raise IllegalEvent(f"Answered in state {self.state.value}")
            return self._on_answered(event)
        if self.state is State.WAITING:
            raise IllegalEvent(f"{type(event).__name__} before the call was answered")
        if isinstance(event, PlaybackFinished):
            self._playing = False
            return self._on_playback_finished(now)
        if isinstance(event, DigitPressed):
            return self._on_digit(event.key, now)
        if isinstance(event, TimerExpired):
            if not self._timer_armed:
                return []  # a timer that was cancelled as it fired
            self._timer_armed = False
            return self._on_timeout(now)
        if isinstance(event, FaultRecorded):
            return self._on_recorded(event.reference)
        if isinstance(event, FaultNotRecorded):
            return self._on_not_recorded()
        if isinstance(event, RecordingStopped):
            return self._on_recording_stopped()
        raise IllegalEvent(f"unknown event {event!r}")

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    @property
    def after_hours(self) -> bool:
        return bool(self._answered and self._answered.after_hours)

    # ---- helpers that build commands ------------------------------------------

    def _play(self, parts: list[SpeechPart], *, barge_in: bool) -> list[Command]:
        self._playing = True
        self._playing_barge_in = barge_in
        commands: list[Command] = []
        if self._timer_armed:
            self._timer_armed = False
            commands.append(CancelTimer())
        commands.append(Play(tuple(parts), barge_in=barge_in))
        return commands

    def _farewell(self, prompt_id: str, outcome: Outcome) -> list[Command]:
        self.summary.outcome = outcome
        self.state = State.FAREWELL
        return self._play([Prompt(prompt_id)], barge_in=False)

    def _menu_parts(self) -> list[SpeechPart]:
        answered = self._answered
        if answered is not None and answered.after_hours:
            parts: list[SpeechPart] = [Prompt("after_hours_closed")]
            if answered.next_opening is not None and answered.local_now is not None:
                parts += [Prompt("office_opens"), Moment(answered.next_opening, answered.local_now)]
            parts.append(Prompt("after_hours_menu"))
            return parts
        return [Prompt("menu")]

    def _ask_menu(self, *, first: bool) -> list[Command]:
        self.state = State.MENU
        parts = self._greeting() if first else []
        parts += self._menu_parts()
        return self._play(parts, barge_in=True)

    def _ask_confirm(self, priority: Priority) -> list[Command]:
        self.state = State.CONFIRM
        self.summary.priority = priority
        parts: list[SpeechPart] = [
            Prompt("you_chose"),
            Prompt(PRIORITY_PROMPTS[priority]),
            Prompt("confirm"),
        ]
        return self._play(parts, barge_in=True)

    # ---- transitions ------------------------------------------------------------

    def _on_answered(self, event: Answered) -> list[Command]:
        self._answered = event
        if not event.verified:
            self.state = State.REJECTING
            self.summary.outcome = Outcome.REJECTED
            return self._play([Prompt("greeting"), Prompt("unknown_caller")], barge_in=False)
        if event.recent_reference:
            return self._ask_recent(first=True)
        return self._ask_menu(first=True)

    def _greeting(self) -> list[SpeechPart]:
        parts: list[SpeechPart] = [Prompt("greeting")]
        if self._answered is not None and self._answered.announcement:
            parts += [Prompt("announcement"), Text(self._answered.announcement)]
        return parts

    def _recent_parts(self) -> list[SpeechPart]:
        assert self._answered is not None and self._answered.recent_reference
        return [
            Prompt("recent_fault"),
            Digits(self._answered.recent_reference),
            Prompt("recent_fault_options"),
        ]

    def _ask_recent(self, *, first: bool) -> list[Command]:
        self.state = State.RECENT_FAULT
        parts = self._greeting() if first else []
        return self._play(parts + self._recent_parts(), barge_in=True)

    def _on_hangup(self) -> list[Command]:
        if self.summary.outcome is Outcome.IN_PROGRESS:
            # A fault already committed keeps REPORTED; anything short of that
            # is an abandoned call with whatever keys were pressed.
            self.summary.outcome = Outcome.ABANDONED
        self.state = State.DONE
        commands: list[Command] = []
        if self._timer_armed:
            self._timer_armed = False
            commands.append(CancelTimer())
        return commands

    def _on_playback_finished(self, now: float) -> list[Command]:
        if self.state in (State.REJECTING, State.FAREWELL, State.READING_REFERENCE):
            self.state = State.DONE
            return [Hangup()]
        if self.state is State.DESCRIBE_PROMPT:
            return self._start_describing()
        if self.state in (State.MENU, State.CONFIRM, State.RECENT_FAULT):
            self._timer_armed = True
            return [SetTimer(now + self.settings.first_digit_timeout)]
        return []

    def _on_digit(self, key: str, now: float) -> list[Command]:
        if self.state is State.DESCRIBING:
            if key != "#":
                return []  # keys while describing are part of the recording
            self.summary.digits.append(key)
            return [StopRecording()]
        if self.state is State.DESCRIBE_PROMPT and key == "#":
            self.summary.digits.append(key)
            self._playing = False
            return [StopPlayback(), *self._read_reference()]
        if self.state not in (State.MENU, State.CONFIRM, State.RECENT_FAULT):
            return []  # keys during a message that cannot be interrupted are ignored
        if self._playing and not self._playing_barge_in:
            return []
        self.summary.digits.append(key)
        commands: list[Command] = []
        if self._playing:
            self._playing = False
            commands.append(StopPlayback())
        if self.state is State.MENU:
            commands += self._menu_choice(key)
        elif self.state is State.RECENT_FAULT:
            commands += self._recent_choice(key)
        else:
            commands += self._confirm_choice(key)
        return commands

    def _recent_choice(self, key: str) -> list[Command]:
        assert self._answered is not None and self._answered.recent_reference
        if key == "1":
            self._adding_to_recent = True
            self.summary.reference = self._answered.recent_reference
            return self._invite_description()
        if key == "2":
            self._tries = 0
            return self._ask_menu(first=False)
        if key == REPEAT_KEY:
            return self._ask_recent(first=False)
        return self._invalid([Prompt("invalid_choice"), *self._recent_parts()])

    def _menu_choice(self, key: str) -> list[Command]:
        if key == REPEAT_KEY:
            return self._ask_menu(first=False)
        priority = Priority.from_key(key)
        if priority is Priority.CRITICAL or (priority is not None and not self.after_hours):
            self._tries = 0
            return self._ask_confirm(priority)
        if priority is not None:
            # Out of hours, standard and high faults are taken by ticket or
            # email, not by phone; the menu already said so.
            return self._farewell("after_hours_goodbye", Outcome.AFTER_HOURS)
        return self._invalid([Prompt("invalid_choice"), *self._menu_parts()])

    def _confirm_choice(self, key: str) -> list[Command]:
        if key == "1":
            assert self.summary.priority is not None
            self.state = State.RECORDING
            commands: list[Command] = []
            if self._timer_armed:
                self._timer_armed = False
                commands.append(CancelTimer())
            commands.append(RecordFault(self.summary.priority))
            return commands
        if key == "2":
            self._tries = 0
            self.summary.priority = None
            return self._ask_menu(first=False)
        if key == REPEAT_KEY:
            assert self.summary.priority is not None
            return self._ask_confirm(self.summary.priority)
        assert self.summary.priority is not None
        return self._invalid(
            [
                Prompt("invalid_choice"),
                Prompt("you_chose"),
                Prompt(PRIORITY_PROMPTS[self.summary.priority]),
                Prompt("confirm"),
            ]
        )

    def _invalid(self, parts: list[SpeechPart]) -> list[Command]:
        self._tries += 1
        if self._tries >= self.settings.tries:
            return self._give_up()
        return self._play(parts, barge_in=True)

    def _on_timeout(self, now: float) -> list[Command]:
        if self.state not in (State.MENU, State.CONFIRM, State.RECENT_FAULT):
            return []
        self._tries += 1
        if self._tries >= self.settings.tries:
            return self._give_up()
        if self.state is State.MENU:
            return self._ask_menu(first=False)
        if self.state is State.RECENT_FAULT:
            return self._ask_recent(first=False)
        assert self.summary.priority is not None
        return self._ask_confirm(self.summary.priority)

    def _give_up(self) -> list[Command]:
        outcome = Outcome.AFTER_HOURS if self.after_hours else Outcome.NO_CHOICE
        return self._farewell("no_choice", outcome)

    def _on_recorded(self, reference: str) -> list[Command]:
        if self.state is not State.RECORDING:
            raise IllegalEvent(f"FaultRecorded in state {self.state.value}")
        self.summary.reference = reference
        self.summary.outcome = Outcome.REPORTED
        if self.settings.describe:
            return self._invite_description()
        return self._read_reference()

    def _invite_description(self) -> list[Command]:
        self.state = State.DESCRIBE_PROMPT
        parts: list[SpeechPart] = []
        if not self._adding_to_recent and self.summary.priority is Priority.CRITICAL:
            parts.append(Prompt("engineer_paged"))
        parts += [Prompt("describe_fault"), Tone()]
        return self._play(parts, barge_in=True)

    def _start_describing(self) -> list[Command]:
        assert self.summary.reference is not None
        self.state = State.DESCRIBING
        return [StartRecording(self.summary.reference, self.settings.max_description_seconds)]

    def _on_recording_stopped(self) -> list[Command]:
        if self.state is not State.DESCRIBING:
            return []
        return self._read_reference()

    def _read_reference(self) -> list[Command]:
        reference = self.summary.reference
        assert reference is not None
        self.state = State.READING_REFERENCE
        if self._adding_to_recent:
            self.summary.outcome = Outcome.UPDATED
            parts: list[SpeechPart] = [Prompt("description_added"), Digits(reference)]
        else:
            parts = [Prompt("fault_logged"), Digits(reference)]
            if self.summary.priority is Priority.CRITICAL and not self.settings.describe:
                parts.append(Prompt("engineer_paged"))
        parts += [Prompt("reference_again"), Digits(reference), Prompt("goodbye")]
        return self._play(parts, barge_in=False)

    def _on_not_recorded(self) -> list[Command]:
        if self.state is not State.RECORDING:
            raise IllegalEvent(f"FaultNotRecorded in state {self.state.value}")
        return self._farewell("record_failed", Outcome.FAILED)
