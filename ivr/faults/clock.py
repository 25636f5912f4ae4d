"""What a fault owes and whether it kept its SLA: one rule for every report, list and page.

A later stage implies the earlier ones (a response is also an
acknowledgement, a fix is also a response), so a stage counts as done at
the earliest of its own time and the times of the stages after it. The
monthly report, the dashboard's verdicts, the fault list's "next deadline"
and the reminder all read these functions, so they cannot disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ivr.domain import Priority, Stage


class StageOutcome(enum.StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"  # not done, not yet due
    NO_DEADLINE = "no_deadline"  # the SLA sets none (a standard fault's resolution)
    OUT_OF_SCOPE = "out_of_scope"  # closed as not CLI SECURE's to fix: neither met nor missed


@dataclass(frozen=True)
class FaultTimes:
    """What the SLA clock needs of one fault: its deadlines and progress (UTC-aware)."""

    priority: Priority
    reported_at: datetime
    acknowledge_by: datetime | None
    respond_by: datetime | None
    resolve_by: datetime | None
    acknowledged_at: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None  # closed out of scope

    def __post_init__(self) -> None:
        for name in ("reported_at", "acknowledged_at", "responded_at", "resolved_at", "closed_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ValueError(f"{name} must be timezone-aware, got {value!r}")

    def due(self, stage: Stage) -> datetime | None:
        return {
            Stage.ACKNOWLEDGE: self.acknowledge_by,
            Stage.RESPOND: self.respond_by,
            Stage.RESOLVE: self.resolve_by,
        }[stage]

    def done_at(self, stage: Stage) -> datetime | None:
        """When `stage` was done: the earliest of its own time and any later stage's."""
        order = [self.acknowledged_at, self.responded_at, self.resolved_at]
        done = [t for t in order[list(Stage).index(stage) :] if t is not None]
        return min(done) if done else None


def stage_outcome(times: FaultTimes, stage: Stage, now: datetime) -> StageOutcome:
    """A fault closed out of scope is out of scope at every stage, even one done late:
    the SLA never applied to it."""
    if times.closed_at is not None:
        return StageOutcome.OUT_OF_SCOPE
    due, done = times.due(stage), times.done_at(stage)
    if due is None:
        return StageOutcome.NO_DEADLINE
    if done is not None:
        return StageOutcome.MET if done <= due else StageOutcome.MISSED
    return StageOutcome.MISSED if now > due else StageOutcome.PENDING


def sla_verdict(times: FaultTimes, now: datetime) -> StageOutcome | None:
    """The fault's verdict as a whole: MET, MISSED, or None while still open to either.

    Missed as soon as any stage is late, done or not; met once every stage
    with a deadline was done in time; None while a deadline is ahead and unmet
    (or when the fault has no deadlines at all); OUT_OF_SCOPE once closed as such.
    """
    if times.closed_at is not None:
        return StageOutcome.OUT_OF_SCOPE
    outcomes = [stage_outcome(times, stage, now) for stage in Stage]
    if StageOutcome.MISSED in outcomes:
        return StageOutcome.MISSED
    if StageOutcome.PENDING in outcomes or all(o is StageOutcome.NO_DEADLINE for o in outcomes):
        return None
    return StageOutcome.MET


@dataclass(frozen=True)
class Owed:
    """The stage a fault owes next, when, and whether that has passed."""

    stage: Stage
    due: datetime
    overdue: bool


def next_owed(times: FaultTimes, now: datetime) -> Owed | None:
    """The earliest stage still owed as of `now`, or None when nothing more is owed.

    An engineer who skips straight to responding is not chased for the
    acknowledgement. An overdue stage is still returned: it is still owed.
    A fault made without its clock, or closed out of scope, owes nothing.
    """
    if times.closed_at is not None:
        return None
    if times.acknowledge_by is None or times.respond_by is None:
        return None
    for stage in Stage:
        if times.done_at(stage) is not None:
            continue
        due = times.due(stage)
        return None if due is None else Owed(stage, due, now > due)
    return None


def worth_paging(acknowledge_by: datetime, now: datetime) -> bool:
    """Whether paging for a fault can still get it acknowledged in time.

    A fault typed in from a ticket hours after it was reported has missed
    its acknowledgement already: ringing an engineer at once would not save
    it, so it is worked from the list like any other late fault. Up to and
    at the deadline itself, a page can still make it.
    """
    return now <= acknowledge_by
