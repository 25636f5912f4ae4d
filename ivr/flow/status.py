"""What a customer hears about their own open faults, before the menu (pure).

A customer ringing back usually wants to know where their fault stands
before deciding whether to add to it or report another. The session reads
the summary for the verified customer only (never another customer's), as
data; this module turns it into speech parts, newest fault first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.domain import Priority, Stage
from ivr.flow.speech import Digits, Moment, Prompt, SpeechPart

STATUS_PRIORITY_PROMPTS = {
    Priority.STANDARD: "status_standard",
    Priority.HIGH: "status_high",
    Priority.CRITICAL: "status_critical",
}
STATUS_DUE_PROMPTS = {
    Stage.ACKNOWLEDGE: "status_due_acknowledge",
    Stage.RESPOND: "status_due_respond",
    Stage.RESOLVE: "status_due_resolve",
}


@dataclass(frozen=True)
class OpenFault:
    """One open fault as the customer is told of it; times are local."""

    reference: str
    priority: Priority
    acknowledged_at: datetime | None = None
    next_stage: Stage | None = None  # what the SLA owes next, if anything
    due: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class OpenFaults:
    """The caller's newest open fault, how many more they have, and when it was read."""

    newest: OpenFault
    others: int
    local_now: datetime


def status_parts(summary: OpenFaults) -> list[SpeechPart]:
    """ "You have an open fault, reference N, critical, acknowledged today at 7:02 a.m.;
    a response is due today at 9:45 a.m." then "and N other open faults"."""
    fault, now = summary.newest, summary.local_now
    parts: list[SpeechPart] = [
        Prompt("status_open_fault"),
        Digits(fault.reference),
        Prompt(STATUS_PRIORITY_PROMPTS[fault.priority]),
    ]
    if fault.acknowledged_at is not None:
        parts += [Prompt("status_acknowledged"), Moment(fault.acknowledged_at, now)]
    if fault.next_stage is not None and fault.due is not None:
        parts += [Prompt(STATUS_DUE_PROMPTS[fault.next_stage]), Moment(fault.due, now)]
        if fault.overdue:
            parts.append(Prompt("status_overdue"))
    if summary.others == 1:
        parts.append(Prompt("status_one_other"))
    elif summary.others > 1:
        parts += [Prompt("status_and"), Digits(str(summary.others)), Prompt("status_others")]
    return parts
