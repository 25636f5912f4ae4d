"""What an engineer hears on a page call, and what counts as acknowledged (pure).

Only a key press acknowledges: voicemail that listens politely, an
engineer who hangs up, a call that rings out are all "not acknowledged",
and the escalation policy moves on. Events and `now` in, commands out, as
for the caller's flow.

When the fault has a recorded description the options add "press 3 to
hear the customer's description": the engineer can judge the fault in the
customer's own words before acknowledging it. A customer still describing
when the engineer answers is said so, and 3 is offered once it is kept.

Once acknowledged, an engineer who can call the customer back is offered 5:
the fault line rings the customer (the engineer hears ringing) and joins
the two calls when the customer answers. A callback that fails is said so
and offered again, since a busy customer may be free a minute later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ivr.flow.events import (
    Answered,
    CallCustomer,
    CancelTimer,
    Command,
    CustomerAnswered,
    CustomerLeft,
    CustomerNotReached,
    DescriptionKept,
    DigitPressed,
    Event,
    Hangup,
    HungUp,
    JoinCustomer,
    NoteDescriptionPlayed,
    Play,
    PlaybackFinished,
    SetTimer,
    StopPlayback,
    TimerExpired,
)
from ivr.flow.speech import Digits, Minutes, Moment, Prompt, SpeechPart, Text, Tone, WavFile
from ivr.paging.policy import AttemptResult

ACKNOWLEDGE_KEY = "1"
PASS_KEY = "2"
DESCRIPTION_KEY = "3"
CALLBACK_KEY = "5"
REPEAT_KEY = "*"

# What the engineer hears while the customer's phone rings: a second of
# ring tone, two of quiet (a 0 Hz tone is silence), said again until answered.
RINGBACK: tuple[SpeechPart, ...] = (Tone(425.0, 1.0), Tone(0.0, 2.0))
# Why a callback did not connect, and what the engineer is told.
NOT_REACHED = {
    "busy": Prompt("page_callback_busy"),
    "no_answer": Prompt("page_callback_no_answer"),
    "failed": Prompt("page_callback_failed"),
}


@dataclass(frozen=True)
class PagedFault:
    reference: str
    customer: str | None
    cli: str | None
    reported_at: datetime  # local time
    by_pin: bool = False  # the caller proved who they are with a PIN, not their handset
    respond_by: datetime | None = None  # a reminder says how long is left


@dataclass(frozen=True)
class PageSettings:
    plays: int = 3  # the message is said this many times before giving up
    key_timeout: float = 5.0  # seconds after the last play to wait for a key


def page_message(
    faults: list[PagedFault], now_local: datetime, *, reminder: bool = False
) -> list[SpeechPart]:
    """The page: critical fault, customer, each reference, when, from which number.

    A reminder opens by saying the fault was acknowledged and how long is
    left before its response is due, so the engineer knows it is not a new
    fault and how urgent it is.
    """
    parts: list[SpeechPart] = [Prompt("page_reminder_intro" if reminder else "page_intro")]
    first = faults[0]
    if reminder and first.respond_by is not None:
        left = math.ceil((first.respond_by - now_local).total_seconds() / 60)
        if left > 0:
            parts += [Prompt("page_response_due_in"), Minutes(min(left, 60 * 60 - 1))]
        else:
            parts.append(Prompt("page_response_overdue"))
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


@dataclass(frozen=True)
class Descriptions:
    """The customer's recorded descriptions of the paged faults, as the page call starts.

    `paths` are WAV files, newest first; `describing` is True while a
    customer is still recording one (it is offered once kept).
    """

    paths: tuple[str, ...] = ()
    describing: bool = False


class PageFlow:
    def __init__(
        self,
        message: list[SpeechPart],
        settings: PageSettings | None = None,
        descriptions: Descriptions | None = None,
        *,
        callback: bool = False,
    ) -> None:
        self.message = tuple(message)
        self.settings = settings or PageSettings()
        self.result: AttemptResult | None = None
        self.keys: list[str] = []
        self.descriptions_played = 0  # times the engineer heard the description
        known = descriptions or Descriptions()
        self._paths = known.paths
        self._describing = known.describing and not known.paths
        self._offer_pending = False  # a description was kept since the options were last said
        self._saying: str | None = None  # message, options or description: what is playing
        self._plays_left = self.settings.plays
        self._closing = False
        self._timer = False
        self._done = False
        # page (the message and its keys), offer (5 offered after 1), calling
        # (the customer's phone rings), joined (engineer and customer talk).
        self.callback = callback  # whether 5 is offered once acknowledged
        self.callbacks = 0  # times the engineer pressed 5
        self._stage = "page"
        self._offers_left = 0

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
        if isinstance(event, DescriptionKept):
            return self._kept(event.path)
        if isinstance(event, CustomerAnswered) and self._stage == "calling":
            self._stage = "joined"
            self._saying = None
            return [StopPlayback(), JoinCustomer()]
        if isinstance(event, CustomerNotReached) and self._stage == "calling":
            why = NOT_REACHED.get(event.why, NOT_REACHED["failed"])
            return [StopPlayback(), *self._offer(why, again=True)]
        if isinstance(event, CustomerLeft) and self._stage in ("calling", "joined"):
            self._done = True
            return [StopPlayback(), Hangup()]
        if isinstance(event, TimerExpired) and self._timer:
            self._timer = False
            if self._stage == "offer":
                if self._offers_left > 0:
                    return self._offer()
                return self._close("page_goodbye")
            if self._plays_left > 0:  # after the description: the message carries on
                return self._say_message()
            self.result = AttemptResult.NO_KEY
            return self._close("page_goodbye")
        return []

    def _description_parts(self) -> list[SpeechPart]:
        if self._paths:
            return [Prompt("page_description_option")]
        if self._describing:
            return [Prompt("page_still_describing")]
        return []

    def _options(self) -> tuple[SpeechPart, ...]:
        return (Prompt("page_options"), *self._description_parts())

    def _say_message(self) -> list[Command]:
        self._plays_left -= 1
        self._offer_pending = False
        self._saying = "message"
        commands = self._cancel_timer()
        commands.append(Play((*self.message, *self._description_parts()), barge_in=True))
        return commands

    def _say_options(self) -> list[Command]:
        self._offer_pending = False
        self._saying = "options"
        commands = self._cancel_timer()
        commands.append(Play(self._options(), barge_in=True))
        return commands

    def _cancel_timer(self) -> list[Command]:
        if not self._timer:
            return []
        self._timer = False
        return [CancelTimer()]

    def _finished(self, now: float) -> list[Command]:
        said, self._saying = self._saying, None
        if self._closing:
            self._done = True
            return [Hangup()]
        if said == "ringing" and self._stage == "calling":
            self._saying = "ringing"
            return [Play(RINGBACK)]
        if self._stage != "page":  # an offer said: wait for 5
            if said == "offer":
                self._timer = True
                return [SetTimer(now + self.settings.key_timeout)]
            return []
        if said == "description" or self._offer_pending:
            return self._say_options()
        if said == "message" and self._plays_left > 0:
            return self._say_message()
        # After the options alone (a description heard) the engineer is given
        # time to choose; the message is said again only if no key comes.
        self._timer = True
        return [SetTimer(now + self.settings.key_timeout)]

    def _kept(self, path: str) -> list[Command]:
        self._paths = (path, *self._paths)
        self._describing = False
        if self._closing or self._stage != "page":
            return []
        if self._timer:  # waiting for a key in silence: say the new option now
            return self._say_options()
        self._offer_pending = True  # said when what is playing now ends
        return []

    def _key(self, key: str) -> list[Command]:
        if self._closing or self._stage in ("calling", "joined"):
            return []  # keys are not the customer's to hear, nor a command while joined
        self.keys.append(key)
        if self._stage == "offer":
            if key == CALLBACK_KEY:
                return self._call_customer()
            if key == REPEAT_KEY:
                self._offers_left = max(self._offers_left, 1)
                return [StopPlayback(), *self._offer()]
            return []
        if key == ACKNOWLEDGE_KEY:
            self.result = AttemptResult.ACKNOWLEDGED
            if self.callback:
                return [StopPlayback(), *self._offer(Prompt("page_acknowledged"), again=True)]
            return [StopPlayback(), *self._close("page_acknowledged")]
        if key == PASS_KEY:
            self.result = AttemptResult.PASSED
            return [StopPlayback(), *self._close("page_passed")]
        if key == DESCRIPTION_KEY and self._paths:
            self.descriptions_played += 1
            self._saying = "description"
            commands: list[Command] = [StopPlayback(), *self._cancel_timer()]
            recordings = tuple(WavFile(path) for path in self._paths)
            commands += [
                Play(recordings, barge_in=True),
                NoteDescriptionPlayed(len(self._paths)),
            ]
            return commands
        if key == REPEAT_KEY:
            self._plays_left = max(self._plays_left, 1)
            return [StopPlayback(), *self._say_message()]
        return []  # other keys are ignored; the message carries on

    def _offer(self, lead: SpeechPart | None = None, *, again: bool = False) -> list[Command]:
        """Offer 5 (after `lead`); `again` starts a fresh count of offers."""
        self._stage = "offer"
        if again:
            self._offers_left = self.settings.plays
        self._offers_left -= 1
        self._saying = "offer"
        commands = self._cancel_timer()
        parts = (
            (Prompt("page_callback_option"),)
            if lead is None
            else (lead, Prompt("page_callback_option"))
        )
        commands.append(Play(parts, barge_in=True))
        return commands

    def _call_customer(self) -> list[Command]:
        self._stage = "calling"
        self._saying = "ringing"
        self.callbacks += 1
        commands: list[Command] = [StopPlayback(), *self._cancel_timer()]
        commands += [Play((Prompt("page_callback_calling"), *RINGBACK)), CallCustomer()]
        return commands

    def _close(self, prompt_id: str) -> list[Command]:
        self._closing = True
        self._saying = None
        commands = self._cancel_timer()
        commands.append(Play((Prompt(prompt_id),), barge_in=False))
        return commands
