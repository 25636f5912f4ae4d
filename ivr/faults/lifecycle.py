"""How a fault moves, as one table: status x action -> status, with the rules on time.

In the manner of h11's `_state.py`: every move a fault can make is a row of
`TRANSITIONS`, and anything else is refused with the fault unchanged. The
command line, the web page and paging all ask `decide` what an action does,
and the store applies the answer and writes one timeline entry per stage
it fills, so the fault's timeline is read, never reconstructed.

The rules the table cannot hold on its own:
- A later stage implies the earlier ones: responding also acknowledges a
  fault nobody acknowledged, resolving also responds, at the same instant.
  Times already recorded are kept.
- A stage that is already done cannot be done again (even on a fault whose
  status was later set to page_failed by an unanswered reminder).
- Times run forward: no stage (nor an out-of-scope closure) before the
  report, nor before the stage before it.
- Reprioritising and closing out of scope are CLI SECURE's decisions: they
  need a reason (`Action.needs_reason`), which the timeline keeps.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from ivr.domain import FaultStatus, Stage

MAX_NAME = 200
_ORDER = tuple(Stage)


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESPOND = "respond"
    RESOLVE = "resolve"
    PAGING_FAILED = "paging_failed"  # every level of a page went unanswered
    REPRIORITISE = "reprioritise"  # CLI SECURE decided the final priority
    CLOSE_OUT_OF_SCOPE = "close_out_of_scope"  # not ours to fix (a third party's)

    @property
    def stage(self) -> Stage | None:
        """The SLA stage this action completes (None for the actions that complete none)."""
        return _STAGE_OF.get(self)

    @property
    def needs_reason(self) -> bool:
        """CLI SECURE's own decisions are explained on the timeline, or refused."""
        return self in (Action.REPRIORITISE, Action.CLOSE_OUT_OF_SCOPE)


_STAGE_OF = {
    Action.ACKNOWLEDGE: Stage.ACKNOWLEDGE,
    Action.RESPOND: Stage.RESPOND,
    Action.RESOLVE: Stage.RESOLVE,
}


_S = FaultStatus
_A = Action

TRANSITIONS: MappingProxyType[tuple[FaultStatus, Action], FaultStatus] = MappingProxyType(
    {
        (_S.OPEN, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
        (_S.OPEN, _A.RESPOND): _S.RESPONDED,
        (_S.OPEN, _A.RESOLVE): _S.RESOLVED,
        (_S.OPEN, _A.PAGING_FAILED): _S.PAGE_FAILED,
        (_S.PAGE_FAILED, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
        (_S.PAGE_FAILED, _A.RESPOND): _S.RESPONDED,
        (_S.PAGE_FAILED, _A.RESOLVE): _S.RESOLVED,
        (_S.ACKNOWLEDGED, _A.RESPOND): _S.RESPONDED,
        (_S.ACKNOWLEDGED, _A.RESOLVE): _S.RESOLVED,
        # An unanswered reminder: acknowledged, but nobody answers for the response.
        (_S.ACKNOWLEDGED, _A.PAGING_FAILED): _S.PAGE_FAILED,
        (_S.RESPONDED, _A.RESOLVE): _S.RESOLVED,
        # A new priority leaves the status as it is, on any fault still open.
        (_S.OPEN, _A.REPRIORITISE): _S.OPEN,
        (_S.PAGE_FAILED, _A.REPRIORITISE): _S.PAGE_FAILED,
        (_S.ACKNOWLEDGED, _A.REPRIORITISE): _S.ACKNOWLEDGED,
        (_S.RESPONDED, _A.REPRIORITISE): _S.RESPONDED,
        # Out of scope closes a fault at any point before it is resolved.
        (_S.OPEN, _A.CLOSE_OUT_OF_SCOPE): _S.OUT_OF_SCOPE,
        (_S.PAGE_FAILED, _A.CLOSE_OUT_OF_SCOPE): _S.OUT_OF_SCOPE,
        (_S.ACKNOWLEDGED, _A.CLOSE_OUT_OF_SCOPE): _S.OUT_OF_SCOPE,
        (_S.RESPONDED, _A.CLOSE_OUT_OF_SCOPE): _S.OUT_OF_SCOPE,
    }
)


class IllegalMove(ValueError):
    """The fault cannot move that way; the message says why, for the person who tried."""


@dataclass(frozen=True)
class FaultState:
    """What the lifecycle needs of a fault (UTC-aware instants)."""

    reference: str
    status: FaultStatus
    reported_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None  # closed out of scope

    def done_at(self, stage: Stage) -> datetime | None:
        return {
            Stage.ACKNOWLEDGE: self.acknowledged_at,
            Stage.RESPOND: self.responded_at,
            Stage.RESOLVE: self.resolved_at,
        }[stage]

    def furthest_done(self) -> Stage | None:
        """The latest stage with a time recorded (earlier ones count as done with it)."""
        done = [stage for stage in _ORDER if self.done_at(stage) is not None]
        return done[-1] if done else None


@dataclass(frozen=True)
class Move:
    """What an action does to a fault: the state after it, and the stages it filled."""

    action: Action
    at: datetime
    by: str | None
    before: FaultState
    after: FaultState
    filled: tuple[Stage, ...]  # in order; the last is the action's own, earlier ones implied

    @property
    def implied(self) -> tuple[Stage, ...]:
        return self.filled[:-1] if self.action.stage is not None else self.filled


_PARTICIPLE = {
    Stage.ACKNOWLEDGE: "acknowledged",
    Stage.RESPOND: "responded to",
    Stage.RESOLVE: "resolved",
}


_VERB = {
    Action.PAGING_FAILED: "marked page_failed",
    Action.REPRIORITISE: "given a new priority",
    Action.CLOSE_OUT_OF_SCOPE: "closed as out of scope",
}


def _minutes(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


def _clean_by(by: str | None) -> str | None:
    if by is None:
        return None
    return by.strip()[:MAX_NAME] or None


def decide(state: FaultState, action: Action, at: datetime, by: str | None = None) -> Move:
    """What `action` at `at` by `by` does to a fault in `state`; IllegalMove if it may not.

    `by` is kept as who acknowledged only when this move fills the
    acknowledgement.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("`at` must be timezone-aware")
    stage = action.stage
    furthest = state.furthest_done()
    if stage is not None and furthest is not None and _ORDER.index(furthest) >= _ORDER.index(stage):
        done = state.done_at(furthest)
        assert done is not None
        again = "again" if furthest is stage else "now"
        raise IllegalMove(
            f"fault {state.reference} is already {furthest.done_status} at {_minutes(done)}; "
            f"it cannot be {_PARTICIPLE[stage]} {again}"
        )
    target = TRANSITIONS.get((state.status, action))
    if target is None:
        verb = _PARTICIPLE[stage] if stage is not None else _VERB[action]
        raise IllegalMove(f"fault {state.reference} is {state.status}; it cannot be {verb} now")
    if at < state.reported_at:
        raise IllegalMove(
            f"cannot {action} fault {state.reference} at {_minutes(at)}: "
            f"before it was reported ({_minutes(state.reported_at)})"
        )
    earlier = [t for t in (state.acknowledged_at, state.responded_at) if t is not None]
    ordered = stage is not None or target is FaultStatus.OUT_OF_SCOPE
    if ordered and earlier and at < max(earlier):
        raise IllegalMove(
            f"cannot {action} fault {state.reference} at {_minutes(at)}: "
            f"before its previous stage ({_minutes(max(earlier))})"
        )
    filled: list[Stage] = []
    if stage is not None:
        for owed in _ORDER[: _ORDER.index(stage) + 1]:
            if state.done_at(owed) is None:
                filled.append(owed)
    who = _clean_by(by)
    after = FaultState(
        reference=state.reference,
        status=target,
        reported_at=state.reported_at,
        acknowledged_at=at if Stage.ACKNOWLEDGE in filled else state.acknowledged_at,
        acknowledged_by=who if Stage.ACKNOWLEDGE in filled else state.acknowledged_by,
        responded_at=at if Stage.RESPOND in filled else state.responded_at,
        resolved_at=at if Stage.RESOLVE in filled else state.resolved_at,
        closed_at=at if target is FaultStatus.OUT_OF_SCOPE else state.closed_at,
    )
    return Move(action, at, who, state, after, tuple(filled))


def may(state: FaultState, action: Action) -> bool:
    """Whether `action` applies to a fault in `state` at all (times aside)."""
    stage, furthest = action.stage, state.furthest_done()
    if stage is not None and furthest is not None and _ORDER.index(furthest) >= _ORDER.index(stage):
        return False
    return (state.status, action) in TRANSITIONS
