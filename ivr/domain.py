"""The words every layer shares: a fault's priority, status and stages, and how a call ended.

They live here, below everything else, so that the SLA clock, the
configuration, the store and the web page can name a priority without
importing the call flow, and so that each status is spelt once.
"""

from __future__ import annotations

import enum


class Priority(enum.Enum):
    STANDARD = "standard"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def key(self) -> str:
        """The key a caller presses to choose it."""
        return {"standard": "1", "high": "2", "critical": "3"}[self.value]

    @classmethod
    def from_key(cls, key: str) -> Priority | None:
        return {"1": cls.STANDARD, "2": cls.HIGH, "3": cls.CRITICAL}.get(key)


class Outcome(enum.Enum):
    """How a call ended, as admins read it in the call log."""

    IN_PROGRESS = "in_progress"
    REPORTED = "reported"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    NO_CHOICE = "no_choice"
    AFTER_HOURS = "after_hours"
    UPDATED = "updated"  # a repeat caller added a description to an open fault
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the node carrying the call stopped during it


class FaultStatus(enum.StrEnum):
    """Where a fault stands. `page_failed` is an open (or acknowledged) fault that paging
    gave up on: shown loudly until someone makes progress on it. `out_of_scope` is a
    fault CLI SECURE closed as not its to fix (a third party's, by the SLA): closed like
    a resolved one, but neither met nor missed."""

    OPEN = "open"
    PAGE_FAILED = "page_failed"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"
    RESOLVED = "resolved"
    OUT_OF_SCOPE = "out_of_scope"


# The statuses a fault ends in: nothing more is owed, nobody is paged for it.
CLOSED_STATUSES = (FaultStatus.RESOLVED.value, FaultStatus.OUT_OF_SCOPE.value)
UNRESOLVED_STATUSES = tuple(s.value for s in FaultStatus if s.value not in CLOSED_STATUSES)


class Channel(enum.StrEnum):
    """How a fault reached CLI SECURE. The SLA allows all three; every one runs on the
    same clock, references and paging, so a channel is only ever shown and counted."""

    PHONE = "phone"
    EMAIL = "email"
    TICKET = "ticket"


class Stage(enum.StrEnum):
    """The three things the SLA times, in the order they are owed."""

    ACKNOWLEDGE = "acknowledge"
    RESPOND = "respond"
    RESOLVE = "resolve"

    @property
    def done_status(self) -> FaultStatus:
        """The status a fault has once this stage is done."""
        return _DONE_STATUS[self]


_DONE_STATUS = {
    Stage.ACKNOWLEDGE: FaultStatus.ACKNOWLEDGED,
    Stage.RESPOND: FaultStatus.RESPONDED,
    Stage.RESOLVE: FaultStatus.RESOLVED,
}


class PageStatus(enum.StrEnum):
    ACTIVE = "active"  # still ringing people, or waiting to
    ACKNOWLEDGED = "acknowledged"  # someone pressed 1
    FAILED = "failed"  # every level went unanswered
    CANCELLED = "cancelled"  # the fault was dealt with some other way


class PageKind(enum.StrEnum):
    """What a page is for. An alert is opened when a fault is reported; a reminder
    when an alert is acknowledged, due at the fault's response deadline, ringing
    the engineer who acknowledged before the rest of the policy."""

    ALERT = "alert"
    REMINDER = "reminder"


class VerifiedBy(enum.StrEnum):
    """How a caller was shown to be a customer, kept on the call and on its fault.

    `handset`: the calling number is a handset we supplied; `trusted_pai`:
    a P-Asserted-Identity from a trusted trunk named one; `pin`: an account
    number and its PIN, keyed from any phone.
    """

    HANDSET = "handset"
    TRUSTED_PAI = "trusted_pai"
    PIN = "pin"


class UnknownCallers(enum.StrEnum):
    """What the call flow does with a caller whose number it does not know ([general])."""

    PIN = "pin"  # may prove who they are with an account number and PIN
    REFUSE = "refuse"  # told how else to report, and the call ends


class AfterHours(enum.StrEnum):
    """Which faults the call flow takes out of hours ([hours] after_hours)."""

    CRITICAL_ONLY = "critical_only"  # the SLA: only critical faults by phone out of hours
    ALL = "all"  # every fault is taken; its clock starts when the office opens
