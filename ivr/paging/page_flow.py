"""What an engineer hears on a page call, and what counts as acknowledged (pure).

Only a key press acknowledges: voicemail that listens politely, an
engineer who hangs up, a call that rings out are all "not acknowledged",
and the escalation policy moves on. Events and `now` in, commands out, as
for the caller's flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.flow.events import (
    Answered,
    CancelTimer,
    Command,
    DigitPressed,
    Event,
    Hangup,
    HungUp,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Digits, Moment, Prompt, SpeechPart, Text
from ivr.paging.policy import AttemptResult

ACKNOWLEDGE_KEY = "1"
PASS_KEY = "2"
REPEAT_KEY = "*"


@dataclass(frozen=True)
class PagedFault:
    reference: str
    customer: str | None
    cli: str | None
    reported_at: datetime  # local time
    by_pin: bool = False  # the caller proved who they are with a PIN, not their handset


@dataclass(frozen=True)
class PageSettings:
    plays: int = 3  # the message is said this many times before giving up
    key_timeout: float = 5.0  # seconds after the last play to wait for a key


def page_message(
    faults: list[PagedFault], now_local: datetime, *, reminder: bool = False
) -> list[SpeechPart]:
    """The page: critical fault, customer, each reference, when, from which number.

    A reminder opens by saying the fault was acknowledged and its response is
    now due, so the engineer knows it is not a new fault.
    """
    parts: list[SpeechPart] = [Prompt("page_reminder_intro" if reminder else "page_intro")]
    first = faults[0]
    if first.customer:
        parts += [Prompt("page_customer"), Text(first.customer)]
    for fault in faults:
        parts += [Prompt("page_reference"), Digits(fault.reference)]
    parts += [Prompt("page_reported"), Moment(first.reported_at, now_local)]
    if first.cli:
        parts += [Prompt("page_caller"), Digits(first.cli.lstrip("+"))]
    if first.by_pin:
        parts.append(Prompt("page_verified_by_pin"))
    parts.append(Prompt("page_options"))
    return parts


class PageFlow:
    def __init__(self, message: list[SpeechPart], settings: PageSettings | None = None) -> None:
        self.message = tuple(message)
        self.settings = settings or PageSettings()
        self.result: AttemptResult | None = None
        self.keys: list[str] = []
        self._plays_left = self.settings.plays
        self._closing = False
        self._timer = False
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def handle(self, event: Event, now: float) -> list[Command]:
        if self._done:
            return []
        if isinstance(event, HungUp):
            self._done = True
            if self.result is None:
                self.result = AttemptResult.HUNG_UP
            return []
        if isinstance(event, Answered):
            return self._say_message()
        if isinstance(event, PlaybackFinished):
            return self._finished(now)
        if isinstance(event, DigitPressed):
            return self._key(event.key)
        if isinstance(event, TimerExpired) and self._timer:
            self._timer = False
            self.result = AttemptResult.NO_KEY
            return self._close("page_goodbye")
        return []

    def _say_message(self) -> list[Command]:
        self._plays_left -= 1
        commands: list[Command] = []
        if self._timer:
            self._timer = False
            commands.append(CancelTimer())
        commands.append(Play(self.message, barge_in=True))
        return commands

    def _finished(self, now: float) -> list[Command]:
        if self._closing:
            self._done = True
            return [Hangup()]
        if self._plays_left > 0:
            return self._say_message()
        self._timer = True
        return [SetTimer(now + self.settings.key_timeout)]

    def _key(self, key: str) -> list[Command]:
        if self._closing:
            return []
        self.keys.append(key)
        if key == ACKNOWLEDGE_KEY:
            self.result = AttemptResult.ACKNOWLEDGED
            return [StopPlayback(), *self._close("page_acknowledged")]
        if key == PASS_KEY:
            self.result = AttemptResult.PASSED
            return [StopPlayback(), *self._close("page_passed")]
        if key == REPEAT_KEY:
            self._plays_left = max(self._plays_left, 1)
            return [StopPlayback(), *self._say_message()]
        return []  # other keys are ignored; the message carries on

    def _close(self, prompt_id: str) -> list[Command]:
        self._closing = True
        commands: list[Command] = []
        if self._timer:
            self._timer = False
            commands.append(CancelTimer())
        commands.append(Play((Prompt(prompt_id),), barge_in=False))
        return commands
