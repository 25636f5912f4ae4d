"""Events into and commands out of the call flow: small frozen dataclasses.

Events are what happened on the call (as seen by the SIP adapter or the
service); commands are what the flow wants done. Neither carries a socket,
a session or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ivr.domain import Outcome, Priority
from ivr.flow.speech import SpeechPart
from ivr.flow.status import OpenFaults

# ---- events -----------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """The call is up and the caller has been checked.

    `verified` is the outcome of the handset lookup; `after_hours` and
    `next_opening` come from the business calendar; `announcement` is a
    current outage message, if any.
    """

    verified: bool
    after_hours: bool = False
    next_opening: datetime | None = None
    local_now: datetime | None = None
    announcement: str | None = None
    recent_reference: str | None = None  # an open fault this customer reported lately
    open_faults: OpenFaults | None = None  # this customer's open faults, to be told first


@dataclass(frozen=True)
class PlaybackFinished:
    """The last Play command's audio has all been sent (not stopped early)."""


@dataclass(frozen=True)
class DigitPressed:
    key: str

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key not in "0123456789*#ABCD":
            raise ValueError(f"not a DTMF key: {self.key!r}")


@dataclass(frozen=True)
class TimerExpired:
    """The timer set by the last SetTimer has run out."""


@dataclass(frozen=True)
class FaultRecorded:
    """The fault is committed to the database under this reference.

    `acknowledge_by` is its stored acknowledgement deadline and `local_now`
    the moment of the commit, both in the caller's time zone, so the caller
    can be told when to expect us. `engineer_called` is False for a fault
    that pages when nobody can be paged right now: the caller is not told
    an engineer is being called when none is.
    """

    reference: str
    acknowledge_by: datetime | None = None
    local_now: datetime | None = None
    engineer_called: bool = True


@dataclass(frozen=True)
class FaultNotRecorded:
    """Committing the fault failed; the caller must be told how else to report."""

    reason: str


@dataclass(frozen=True)
class RecordingStopped:
    """The description recording has ended (key, silence, time limit) and is saved."""

    reason: str
    seconds: float = 0.0


@dataclass(frozen=True)
class CredentialsChecked:
    """The account number and PIN a caller typed were checked.

    `customer` is None when they were not recognised (wrong, unknown or a
    locked account: the caller is told only that they were not recognised).
    `recent_reference` is that customer's open fault reported lately, if any.
    """

    customer: str | None
    recent_reference: str | None = None
    open_faults: OpenFaults | None = None  # that customer's, never anyone else's


@dataclass(frozen=True)
class DescriptionKept:
    """A description of a paged fault was kept while its page call is up.

    The customer was still speaking when the engineer answered; from now on
    the engineer may hear it. `path` is the WAV file, the newest description.
    """

    path: str


@dataclass(frozen=True)
class CustomerAnswered:
    """The customer answered the engineer's callback and has been told who is calling."""


@dataclass(frozen=True)
class CustomerNotReached:
    """The callback to the customer did not connect: `why` is busy, no_answer or failed."""

    why: str


@dataclass(frozen=True)
class CustomerLeft:
    """The joined call ended on the customer's side (or the join itself failed)."""


@dataclass(frozen=True)
class HungUp:
    """The caller (or the network) ended the call."""


Event = (
    Answered
    | PlaybackFinished
    | DigitPressed
    | TimerExpired
    | FaultRecorded
    | FaultNotRecorded
    | RecordingStopped
    | CredentialsChecked
    | DescriptionKept
    | CustomerAnswered
    | CustomerNotReached
    | CustomerLeft
    | HungUp
)


# ---- commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Say these parts in order. With barge_in, a key press stops the prompt."""

    parts: tuple[SpeechPart, ...]
    barge_in: bool = False


@dataclass(frozen=True)
class StopPlayback:
    pass


@dataclass(frozen=True)
class SetTimer:
    """Arm the call's single timer for `deadline` (same clock as `now`)."""

    deadline: float


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class RecordFault:
    """Commit a fault with this priority, then report FaultRecorded or FaultNotRecorded."""

    priority: Priority


@dataclass(frozen=True)
class CheckCredentials:
    """Check this account number and PIN, then report CredentialsChecked."""

    account: str
    pin: str = field(repr=False)  # never in a log line


@dataclass(frozen=True)
class StartRecording:
    """Record what the caller says, for the fault with this reference.

    The adapter stops on its own at `max_seconds` or after a long silence,
    and always reports RecordingStopped; a hang-up keeps what was said.
    """

    reference: str
    max_seconds: float


@dataclass(frozen=True)
class StopRecording:
    pass


@dataclass(frozen=True)
class NoteDescriptionPlayed:
    """The engineer chose to hear the customer's description: put it on the fault's timeline."""

    recordings: int


@dataclass(frozen=True)
class CallCustomer:
    """Call the customer back; report CustomerAnswered or CustomerNotReached."""


@dataclass(frozen=True)
class JoinCustomer:
    """Join the engineer's call to the answered customer's; report CustomerLeft when it ends."""


@dataclass(frozen=True)
class Hangup:
    pass


Command = (
    Play
    | StopPlayback
    | SetTimer
    | CancelTimer
    | RecordFault
    | CheckCredentials
    | StartRecording
    | StopRecording
    | NoteDescriptionPlayed
    | CallCustomer
    | JoinCustomer
    | Hangup
)


@dataclass
class CallSummary:
    """What the call log keeps of the flow: the keys, the choice and the outcome."""

    outcome: Outcome = Outcome.IN_PROGRESS
    digits: list[str] = field(default_factory=list)
    priority: Priority | None = None
    reference: str | None = None
    reference_heard: bool = False  # the reference's digits played to the end at least once
    verified_by_pin: str | None = None  # the customer a PIN proved the caller to be
