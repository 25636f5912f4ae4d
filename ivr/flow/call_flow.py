"""The fault-reporting call flow as a pure state machine.

greet → (unknown caller: account number and PIN, or explain and hang up)
      → (open fault reported lately: add to it, or report a new one)
      → menu → confirm → record → read reference → what happens next
      → describe after the tone → reference again → goodbye

`handle(event, now)` takes one event and the current time and returns the
commands to carry out. It never touches a socket, clock or database, so
every path, timeout included, is tested by stepping `now` by hand.

Rules the flow keeps for callers:
- a fault is recorded only after the caller confirmed its priority, so a
  critical report is never mistaken for another priority;
- the reference is spoken only after FaultRecorded, i.e. after the commit,
  and at once, before anything else is asked of the caller, so a caller who
  hangs up during the description still has it;
- out of hours only critical faults are taken, as the SLA says, unless the
  operator chose to take every fault (their clocks start at the opening);
  a caller whose fault is not taken is told so plainly, never that it was;
- a PIN's digits are never kept in the call's summary of keys.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from ivr.domain import AfterHours, Outcome, Priority, UnknownCallers
from ivr.flow.events import (
    Answered,
    CallSummary,
    CancelTimer,
    CheckCredentials,
    Command,
    CredentialsChecked,
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
from ivr.flow.status import status_parts

REPEAT_KEY = "*"
STATUS_AGAIN_KEY = "3"  # in the recent-fault options after the status line: hear it again

PRIORITY_PROMPTS = {
    Priority.STANDARD: "priority_standard",
    Priority.HIGH: "priority_high",
    Priority.CRITICAL: "priority_critical",
}


class State(enum.Enum):
    WAITING = "waiting"  # not answered yet
    REJECTING = "rejecting"  # telling an unknown caller how else to report
    ASK_ACCOUNT = "ask_account"  # an unknown caller typing an account number
    ASK_PIN = "ask_pin"  # ... then its PIN
    CHECKING = "checking"  # the account and PIN being checked
    MENU = "menu"  # choosing a priority
    CONFIRM = "confirm"  # hearing the choice read back
    RECENT_FAULT = "recent_fault"  # add to the open fault, or report a new one?
    RECORDING = "recording"  # fault being committed
    FIRST_REFERENCE = "first_reference"  # the reference, read as soon as it is committed
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
    unknown_callers: UnknownCallers = UnknownCallers.PIN
    after_hours: AfterHours = AfterHours.CRITICAL_ONLY
    max_entry_digits: int = 12  # longer than any account number or PIN


ENTRY_STATES = (State.ASK_ACCOUNT, State.ASK_PIN)
KEY_STATES = (State.MENU, State.CONFIRM, State.RECENT_FAULT, *ENTRY_STATES)


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
        self._entry = ""  # digits typed so far for an account number or PIN
        self._account = ""
        self._next_steps: list[SpeechPart] = []

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
            return self._on_recorded(event)
        if isinstance(event, FaultNotRecorded):
            return self._on_not_recorded()
        if isinstance(event, RecordingStopped):
            return self._on_recording_stopped()
        if isinstance(event, CredentialsChecked):
            return self._on_credentials(event)
        raise IllegalEvent(f"unknown event {event!r}")

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    @property
    def takes_keys(self) -> bool:
        """Whether a key pressed now could count (a menu, an entry, ending a description).

        In-band keys cost reading and analysing the caller's audio all the
        time; the service does so only while this holds (keys pressed at
        other times are ignored anyway, see `_on_digit`).
        """
        return self.state in KEY_STATES or self.state in (State.DESCRIBE_PROMPT, State.DESCRIBING)

    @property
    def after_hours(self) -> bool:
        return bool(self._answered and self._answered.after_hours)

    @property
    def critical_only(self) -> bool:
        """Out of hours with only critical faults taken by phone (the SLA's default)."""
        return self.after_hours and self.settings.after_hours is AfterHours.CRITICAL_ONLY

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

    def _office_opens(self) -> list[SpeechPart]:
        answered = self._answered
        if answered is None or answered.next_opening is None or answered.local_now is None:
            return []
        return [Prompt("office_opens"), Moment(answered.next_opening, answered.local_now)]

    def _menu_parts(self) -> list[SpeechPart]:
        if not self.after_hours:
            return [Prompt("menu")]
        parts: list[SpeechPart] = [Prompt("after_hours_closed"), *self._office_opens()]
        parts.append(Prompt("after_hours_menu" if self.critical_only else "menu"))
        return parts

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
            if self.settings.unknown_callers is UnknownCallers.PIN:
                return self._ask_account([Prompt("greeting"), Prompt("unknown_caller_pin")])
            self.state = State.REJECTING
            self.summary.outcome = Outcome.REJECTED
            return self._play([Prompt("greeting"), Prompt("unknown_caller")], barge_in=False)
        if self._recent_target() is not None:
            return self._ask_recent(first=True)
        return self._ask_menu(first=True)

    # ---- an unknown caller proving who they are -----------------------------------

    def _ask_account(self, parts: list[SpeechPart]) -> list[Command]:
        self.state = State.ASK_ACCOUNT
        self._entry = ""
        return self._play([*parts, Prompt("enter_account")], barge_in=True)

    def _ask_pin(self) -> list[Command]:
        self.state = State.ASK_PIN
        self._entry = ""
        return self._play([Prompt("enter_pin")], barge_in=True)

    def _entry_digit(self, key: str, now: float) -> list[Command]:
        """A key typed into an account number or PIN; # ends the entry."""
        if key == REPEAT_KEY:
            if self.state is State.ASK_ACCOUNT:
                return self._ask_account([])
            return self._ask_pin()
        if key != "#":
            if key.isdigit() and len(self._entry) < self.settings.max_entry_digits:
                self._entry += key
            self._timer_armed = True  # the next key is awaited as long as the first
            return [SetTimer(now + self.settings.first_digit_timeout)]
        entry, self._entry = self._entry, ""
        if self.state is State.ASK_ACCOUNT:
            if not entry:
                return self._entry_failed()
            self._account = entry
            return self._ask_pin()
        self.state = State.CHECKING
        commands: list[Command] = []
        if self._timer_armed:
            self._timer_armed = False
            commands.append(CancelTimer())
        commands.append(CheckCredentials(self._account, entry))
        return commands

    def _entry_failed(self) -> list[Command]:
        """A wrong or empty entry: ask again from the account number, three tries in all."""
        self._tries += 1
        if self._tries >= self.settings.tries:
            return self._farewell("details_goodbye", Outcome.REJECTED)
        return self._ask_account([Prompt("details_not_recognised")])

    def _on_credentials(self, event: CredentialsChecked) -> list[Command]:
        if self.state is not State.CHECKING:
            raise IllegalEvent(f"CredentialsChecked in state {self.state.value}")
        if event.customer is None:
            return self._entry_failed()
        self._tries = 0
        self.summary.verified_by_pin = event.customer
        if self._answered is not None:
            self._answered = replace(
                self._answered,
                verified=True,
                recent_reference=event.recent_reference,
                open_faults=event.open_faults,
            )
        if self._recent_target() is not None:
            return self._ask_recent(first=False)
        return self._ask_menu(first=False)

    def _greeting(self) -> list[SpeechPart]:
        parts: list[SpeechPart] = [Prompt("greeting")]
        if self._answered is not None and self._answered.announcement:
            parts += [Prompt("announcement"), Text(self._answered.announcement)]
        return parts

    def _recent_target(self) -> str | None:
        """The fault a description would be added to: the one reported lately, else the
        newest open one the caller was just told of (it is theirs, and still open)."""
        answered = self._answered
        if answered is None:
            return None
        if answered.recent_reference:
            return answered.recent_reference
        if answered.open_faults is not None:
            return answered.open_faults.newest.reference
        return None

    def _recent_parts(self) -> list[SpeechPart]:
        assert self._answered is not None
        if self._answered.open_faults is not None:
            return [
                *status_parts(self._answered.open_faults),
                Prompt("recent_fault_options"),
                Prompt("status_repeat"),
            ]
        assert self._answered.recent_reference
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
        if self.state is State.READING_REFERENCE:
            self.summary.reference_heard = True
        if self.state in (State.REJECTING, State.FAREWELL, State.READING_REFERENCE):
            self.state = State.DONE
            return [Hangup()]
        if self.state is State.FIRST_REFERENCE:
            self.summary.reference_heard = True
            return self._what_happens_next()
        if self.state is State.DESCRIBE_PROMPT:
            return self._start_describing()
        if self.state in KEY_STATES:
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
        if self.state not in KEY_STATES:
            return []  # keys during a message that cannot be interrupted are ignored
        if self._playing and not self._playing_barge_in:
            return []
        commands: list[Command] = []
        if self._playing:
            self._playing = False
            commands.append(StopPlayback())
        if self.state in ENTRY_STATES:
            return commands + self._entry_digit(key, now)  # a PIN is never kept in the log
        self.summary.digits.append(key)
        if self.state is State.MENU:
            commands += self._menu_choice(key)
        elif self.state is State.RECENT_FAULT:
            commands += self._recent_choice(key)
        else:
            commands += self._confirm_choice(key)
        return commands

    def _recent_choice(self, key: str) -> list[Command]:
        assert self._answered is not None
        if key == "1":
            self._adding_to_recent = True
            self.summary.reference = self._recent_target()
            return self._invite_description()
        if key == "2":
            self._tries = 0
            return self._ask_menu(first=False)
        if key == REPEAT_KEY or (key == STATUS_AGAIN_KEY and self._answered.open_faults):
            return self._ask_recent(first=False)
        return self._invalid([Prompt("invalid_choice"), *self._recent_parts()])

    def _menu_choice(self, key: str) -> list[Command]:
        if key == REPEAT_KEY:
            return self._ask_menu(first=False)
        priority = Priority.from_key(key)
        if priority is Priority.CRITICAL or (priority is not None and not self.critical_only):
            self._tries = 0
            return self._ask_confirm(priority)
        if priority is not None:
            # Out of hours, standard and high faults are taken by ticket or
            # email, not by phone: say so plainly, with nothing that sounds
            # as if this one was logged.
            self.summary.outcome = Outcome.AFTER_HOURS
            self.state = State.FAREWELL
            parts = [Prompt("after_hours_not_taken"), *self._office_opens()]
            return self._play([*parts, Prompt("after_hours_other_ways")], barge_in=False)
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
        if self.state in ENTRY_STATES:
            return self._entry_failed()
        if self.state not in KEY_STATES:
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
        outcome = Outcome.AFTER_HOURS if self.critical_only else Outcome.NO_CHOICE
        return self._farewell("no_choice", outcome)

    def _on_recorded(self, event: FaultRecorded) -> list[Command]:
        if self.state is not State.RECORDING:
            raise IllegalEvent(f"FaultRecorded in state {self.state.value}")
        self.summary.reference = event.reference
        self.summary.outcome = Outcome.REPORTED
        self._next_steps = self._next_steps_for(event)
        self.state = State.FIRST_REFERENCE
        parts: list[SpeechPart] = [Prompt("fault_logged"), Digits(event.reference)]
        return self._play(parts, barge_in=False)

    def _next_steps_for(self, event: FaultRecorded) -> list[SpeechPart]:
        """What the caller is told will happen, from the fault as it was stored."""
        parts: list[SpeechPart] = []
        if self.summary.priority is Priority.CRITICAL:
            parts.append(Prompt("engineer_paged" if event.engineer_called else "no_engineer_now"))
        elif self.after_hours:
            parts.append(Prompt("after_hours_logged"))
        if event.acknowledge_by is not None and event.local_now is not None:
            parts += [Prompt("acknowledge_by"), Moment(event.acknowledge_by, event.local_now)]
        return parts

    def _what_happens_next(self) -> list[Command]:
        if self.settings.describe:
            return self._invite_description(self._next_steps)
        self.state = State.READING_REFERENCE
        return self._play([*self._next_steps, *self._reference_again()], barge_in=False)

    def _reference_again(self) -> list[SpeechPart]:
        assert self.summary.reference is not None
        return [Prompt("reference_again"), Digits(self.summary.reference), Prompt("goodbye")]

    def _invite_description(self, before: list[SpeechPart] | None = None) -> list[Command]:
        self.state = State.DESCRIBE_PROMPT
        parts: list[SpeechPart] = [*(before or []), Prompt("describe_fault"), Tone()]
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
            parts = []
        return self._play([*parts, *self._reference_again()], barge_in=False)

    def _on_not_recorded(self) -> list[Command]:
        if self.state is not State.RECORDING:
            raise IllegalEvent(f"FaultNotRecorded in state {self.state.value}")
        return self._farewell("record_failed", Outcome.FAILED)
