"""The fault lifecycle as a table, and the one SLA clock every report reads (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.admin.web.reports import countdown
from ivr.domain import FaultStatus, Priority, Stage
from ivr.faults.clock import FaultTimes, StageOutcome, next_owed, sla_verdict, stage_outcome
from ivr.faults.lifecycle import TRANSITIONS, Action, FaultState, IllegalMove, decide, may
from ivr.sla_report import Month, sla_report

UTC_ZONE = ZoneInfo("UTC")

T0 = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)


def state(status: FaultStatus = FaultStatus.OPEN, **times: datetime | None) -> FaultState:
    return FaultState("123456", status, T0, **times)  # type: ignore[arg-type]


# ---- the transition table ------------------------------------------------------------


def test_every_status_and_action_is_either_a_row_or_refused_unchanged() -> None:
    stage_times = {
        FaultStatus.OPEN: {},
        FaultStatus.PAGE_FAILED: {},
        FaultStatus.ACKNOWLEDGED: {"acknowledged_at": T0},
        FaultStatus.RESPONDED: {"acknowledged_at": T0, "responded_at": T0},
        FaultStatus.RESOLVED: {"acknowledged_at": T0, "responded_at": T0, "resolved_at": T0},
        FaultStatus.OUT_OF_SCOPE: {"closed_at": T0},
    }
    for status in FaultStatus:
        before = state(status, **stage_times[status])
        for action in Action:
            expected = TRANSITIONS.get((status, action))
            assert may(before, action) == (expected is not None), (status, action)
            if expected is None:
                with pytest.raises(IllegalMove):
                    decide(before, action, T0 + H)
            else:
                assert decide(before, action, T0 + H).after.status is expected


def test_resolving_an_open_fault_fills_the_earlier_stages_at_the_same_instant() -> None:
    move = decide(state(), Action.RESOLVE, T0 + H, "  Dan  ")
    assert move.filled == (Stage.ACKNOWLEDGE, Stage.RESPOND, Stage.RESOLVE)
    assert move.implied == (Stage.ACKNOWLEDGE, Stage.RESPOND)
    assert (move.after.acknowledged_at, move.after.responded_at, move.after.resolved_at) == (
        T0 + H,
        T0 + H,
        T0 + H,
    )
    assert move.after.acknowledged_by == "Dan"


def test_times_already_recorded_are_kept_and_who_acknowledged_is_not_overwritten() -> None:
    acked = state(FaultStatus.ACKNOWLEDGED, acknowledged_at=T0 + H, acknowledged_by="Carol")
    move = decide(acked, Action.RESPOND, T0 + 2 * H, "Dan")
    assert move.filled == (Stage.RESPOND,)
    assert move.after.acknowledged_at == T0 + H
    assert move.after.acknowledged_by == "Carol"


def test_an_unanswered_reminder_marks_an_acknowledged_fault_page_failed_but_keeps_its_times() -> (
    None
):
    acked = state(FaultStatus.ACKNOWLEDGED, acknowledged_at=T0 + H)
    move = decide(acked, Action.PAGING_FAILED, T0 + 3 * H)
    assert move.after.status is FaultStatus.PAGE_FAILED
    assert move.filled == ()
    assert move.after.acknowledged_at == T0 + H
    # ... and it cannot then be acknowledged a second time, only responded to.
    assert not may(move.after, Action.ACKNOWLEDGE)
    assert decide(move.after, Action.RESPOND, T0 + 4 * H).after.status is FaultStatus.RESPONDED


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (T0 - timedelta(minutes=1), "before it was reported"),
        (T0 + H, "before its previous stage"),
    ],
)
def test_time_runs_forward(at: datetime, message: str) -> None:
    acked = state(FaultStatus.ACKNOWLEDGED, acknowledged_at=T0 + 2 * H)
    with pytest.raises(IllegalMove, match=message):
        decide(acked, Action.RESPOND, at)


def test_a_naive_instant_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(state(), Action.ACKNOWLEDGE, datetime(2026, 11, 28, 23, 0))


# ---- the clock ---------------------------------------------------------------------------

HIGH_ACK, HIGH_RESPOND, HIGH_RESOLVE = T0 + H, T0 + 4 * H, T0 + 120 * H
T = T0 + timedelta(minutes=30)


def high(**done: datetime | None) -> FaultTimes:
    return FaultTimes(Priority.HIGH, T0, HIGH_ACK, HIGH_RESPOND, HIGH_RESOLVE, **done)


def standard(**done: datetime | None) -> FaultTimes:
    return FaultTimes(Priority.STANDARD, T0, HIGH_ACK, HIGH_RESPOND, None, **done)


NEXT_CASES = [
    ("nothing yet", high(), (Stage.ACKNOWLEDGE, HIGH_ACK)),
    ("acknowledged", high(acknowledged_at=T), (Stage.RESPOND, HIGH_RESPOND)),
    ("responded", high(acknowledged_at=T, responded_at=T), (Stage.RESOLVE, HIGH_RESOLVE)),
    ("responded without ack", high(responded_at=T), (Stage.RESOLVE, HIGH_RESOLVE)),
    ("resolved", high(acknowledged_at=T, responded_at=T, resolved_at=T), None),
    ("resolved straight away", high(resolved_at=T), None),
    ("standard responded: no resolve target", standard(acknowledged_at=T, responded_at=T), None),
    ("standard acknowledged", standard(acknowledged_at=T), (Stage.RESPOND, HIGH_RESPOND)),
]


@pytest.mark.parametrize(
    ("times", "expected"), [c[1:] for c in NEXT_CASES], ids=[c[0] for c in NEXT_CASES]
)
def test_next_owed(times: FaultTimes, expected: tuple[Stage, datetime] | None) -> None:
    owed = next_owed(times, T)
    assert (None if owed is None else (owed.stage, owed.due)) == expected


def test_exactly_at_the_deadline_is_still_in_time() -> None:
    assert stage_outcome(high(acknowledged_at=HIGH_ACK), Stage.ACKNOWLEDGE, T) is StageOutcome.MET
    assert stage_outcome(high(), Stage.ACKNOWLEDGE, HIGH_ACK) is StageOutcome.PENDING
    owed = next_owed(high(), HIGH_ACK)
    assert owed is not None and not owed.overdue


def test_naive_progress_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        high(acknowledged_at=datetime(2026, 11, 28, 23, 0))


VERDICT_CASES = [
    high(),
    high(acknowledged_at=T),
    high(acknowledged_at=T0 + 2 * H),
    high(resolved_at=T),
    high(acknowledged_at=T, responded_at=T0 + 5 * H, resolved_at=T0 + 6 * H),
    standard(acknowledged_at=T, responded_at=T),
    standard(responded_at=T0 + 5 * H),
]


@pytest.mark.parametrize("times", VERDICT_CASES)
@pytest.mark.parametrize("hours_later", [0.5, 3, 200])
def test_the_monthly_report_the_web_verdict_and_the_countdown_agree(
    times: FaultTimes, hours_later: float
) -> None:
    """One rule: the report's per-stage counts, the web's verdict and the dashboard's
    countdown are all read from `ivr.faults.clock`, so they cannot disagree."""
    now = T0 + timedelta(hours=hours_later)
    report = sla_report([times], Month.containing(T0, UTC), now)
    counts = report.lines[times.priority].stages
    missed = sum(counts[stage].missed for stage in Stage)
    pending = sum(counts[stage].pending for stage in Stage)
    verdict = sla_verdict(times, now)
    if missed:
        assert verdict is StageOutcome.MISSED
    elif pending:
        assert verdict is None
    else:
        assert verdict is StageOutcome.MET
    shown = countdown(times, now)
    owed = next_owed(times, now)
    assert (shown is None) == (owed is None)
    if shown is not None and owed is not None:
        assert (shown.stage, shown.due, shown.overdue) == (owed.stage.value, owed.due, owed.overdue)


# ---- CLI SECURE's decisions: a new priority, out of scope ----------------------------


@pytest.mark.parametrize(
    "status",
    [FaultStatus.OPEN, FaultStatus.PAGE_FAILED, FaultStatus.ACKNOWLEDGED, FaultStatus.RESPONDED],
)
def test_a_fault_still_open_may_be_reprioritised_in_place_or_closed_out_of_scope(
    status: FaultStatus,
) -> None:
    assert TRANSITIONS[(status, Action.REPRIORITISE)] is status
    assert TRANSITIONS[(status, Action.CLOSE_OUT_OF_SCOPE)] is FaultStatus.OUT_OF_SCOPE
    closed = decide(state(status), Action.CLOSE_OUT_OF_SCOPE, T0 + H, "alice")
    assert closed.after.closed_at == T0 + H
    assert closed.filled == ()


@pytest.mark.parametrize("status", [FaultStatus.RESOLVED, FaultStatus.OUT_OF_SCOPE])
def test_a_closed_fault_takes_no_further_move(status: FaultStatus) -> None:
    for action in Action:
        assert (status, action) not in TRANSITIONS
    with pytest.raises(IllegalMove, match="cannot be given a new priority"):
        decide(state(status), Action.REPRIORITISE, T0 + H)


def test_only_cli_secures_decisions_need_a_reason() -> None:
    assert {a for a in Action if a.needs_reason} == {
        Action.REPRIORITISE,
        Action.CLOSE_OUT_OF_SCOPE,
    }


def test_out_of_scope_is_neither_met_nor_missed_and_owes_nothing() -> None:
    late = high(acknowledged_at=HIGH_ACK + H, closed_at=HIGH_ACK + 2 * H)
    now = HIGH_RESOLVE + H
    assert sla_verdict(late, now) is StageOutcome.OUT_OF_SCOPE
    assert {stage_outcome(late, s, now) for s in Stage} == {StageOutcome.OUT_OF_SCOPE}
    assert next_owed(late, now) is None
    report = sla_report([late, high()], Month.containing(T0, UTC_ZONE), now).as_dict()
    line = report["priorities"]["high"]  # type: ignore[index]
    assert line["reported"] == 2 and line["out_of_scope"] == 1
    assert line["acknowledge"]["met"] == 0 and line["acknowledge"]["missed"] == 1
