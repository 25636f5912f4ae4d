"""The escalation state machine, driven by hand (sip.conf [paging]: test_config_paging.py)."""

from __future__ import annotations

import pytest

from ivr.paging.policy import (
    Acknowledged,
    AttemptResult,
    Decision,
    Exhausted,
    Level,
    Next,
    Policy,
    Step,
    after,
    first_step,
    target_for,
)

NOT_ACKNOWLEDGED = [r for r in AttemptResult if r not in (AttemptResult.ACKNOWLEDGED,)]
FAILURES = [r for r in NOT_ACKNOWLEDGED if r is not AttemptResult.PASSED]

# Distinct numbers so each delay in a walk says which rule produced it.
LADDER = Policy(
    levels=(
        Level(
            "oncall",
            ring_seconds=30,
            attempts=2,
            retry_delay_seconds=60,
            wait_before_next_seconds=5,
        ),
        Level(
            "next", ring_seconds=30, attempts=3, retry_delay_seconds=90, wait_before_next_seconds=7
        ),
    ),
    repeats=2,
)


def walk(policy: Policy, results: list[AttemptResult]) -> list[tuple[Step, Decision]]:
    """Apply results in turn from the first step; stop when the page ends."""
    step = first_step(policy)
    trail: list[tuple[Step, Decision]] = []
    for result in results:
        decision = after(policy, step, result)
        trail.append((step, decision))
        if not isinstance(decision, Next):
            break
        step = decision.step
    return trail


def test_everyone_fails_walks_every_step_once_then_exhausts() -> None:
    trail = walk(LADDER, [AttemptResult.NO_ANSWER] * 20)
    steps = [step for step, _ in trail]
    assert steps == [
        Step(0, 0, 0),
        Step(0, 0, 1),
        Step(0, 1, 0),
        Step(0, 1, 1),
        Step(0, 1, 2),
        Step(1, 0, 0),
        Step(1, 0, 1),
        Step(1, 1, 0),
        Step(1, 1, 1),
        Step(1, 1, 2),
    ]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    delays = [d.delay_seconds for _, d in trail if isinstance(d, Next)]
    assert delays == [60, 5, 90, 90, 7, 60, 5, 90, 90]
    assert trail[-1][1] == Exhausted()


@pytest.mark.parametrize("result", FAILURES)
def test_every_failure_is_retried_then_escalated(result: AttemptResult) -> None:
    assert after(LADDER, Step(0, 0, 0), result) == Next(Step(0, 0, 1), 60)
    assert after(LADDER, Step(0, 0, 1), result) == Next(Step(0, 1, 0), 5)
    assert after(LADDER, Step(0, 1, 2), result) == Next(Step(1, 0, 0), 7)
    assert after(LADDER, Step(1, 1, 2), result) == Exhausted()


def test_busy_is_retried_then_escalated() -> None:
    trail = walk(LADDER, [AttemptResult.BUSY, AttemptResult.BUSY, AttemptResult.ACKNOWLEDGED])
    assert [d for _, d in trail] == [
        Next(Step(0, 0, 1), 60),
        Next(Step(0, 1, 0), 5),
        Acknowledged(),
    ]


@pytest.mark.parametrize("step", [Step(0, 0, 0), Step(0, 1, 2), Step(1, 1, 2)])
def test_acknowledged_stops_from_any_step(step: Step) -> None:
    assert after(LADDER, step, AttemptResult.ACKNOWLEDGED) == Acknowledged()


def test_pass_jumps_to_the_next_level_at_once() -> None:
    assert after(LADDER, Step(0, 0, 0), AttemptResult.PASSED) == Next(Step(0, 1, 0), 0)
    assert after(LADDER, Step(0, 0, 1), AttemptResult.PASSED) == Next(Step(0, 1, 0), 0)


def test_pass_on_the_last_level_starts_the_next_repeat_or_exhausts() -> None:
    assert after(LADDER, Step(0, 1, 0), AttemptResult.PASSED) == Next(Step(1, 0, 0), 0)
    assert after(LADDER, Step(1, 1, 1), AttemptResult.PASSED) == Exhausted()


def test_interrupted_is_never_retried_as_the_same_step() -> None:
    for step in (Step(0, 0, 0), Step(0, 0, 1), Step(0, 1, 2)):
        decision = after(LADDER, step, AttemptResult.INTERRUPTED)
        assert isinstance(decision, Next)
        assert decision.step > step


def test_single_level_single_round() -> None:
    policy = Policy(levels=(Level("oncall", attempts=1),), repeats=1)
    assert after(policy, Step(0, 0, 0), AttemptResult.HUNG_UP) == Exhausted()
    assert after(policy, Step(0, 0, 0), AttemptResult.PASSED) == Exhausted()


def test_step_outside_the_policy_is_refused() -> None:
    for step in (Step(2, 0, 0), Step(0, 2, 0), Step(0, 0, 2), Step(-1, 0, 0)):
        with pytest.raises(ValueError, match="not a step"):
            after(LADDER, step, AttemptResult.BUSY)


def test_steps_order_as_the_walk_does() -> None:
    assert Step(0, 1, 0) > Step(0, 0, 5)
    assert Step(1, 0, 0) > Step(0, 9, 9)


def test_policy_and_level_validate() -> None:
    with pytest.raises(ValueError):
        Level("everyone")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Level("oncall", attempts=0)
    with pytest.raises(ValueError):
        Level(())
    with pytest.raises(ValueError):
        Policy(levels=())
    with pytest.raises(ValueError):
        Policy(repeats=0)
    with pytest.raises(ValueError):
        Policy(priorities=frozenset({"urgent"}))


def test_default_policy_pages_critical_only() -> None:
    policy = Policy()
    assert policy.pages("critical")
    assert not policy.pages("high")
    assert [lv.targets for lv in policy.levels] == ["oncall", "next"]
    assert policy.repeats == 2
    assert len(walk(policy, [AttemptResult.NO_ANSWER] * 20)) == 8


# ---- targets ---------------------------------------------------------------------------


def test_target_for_each_kind() -> None:
    chain = ["Alice", "Bob", "Carol"]
    assert target_for(Level("oncall"), chain) == "Alice"
    assert target_for(Level("next"), chain) == "Bob"
    named = Level(("Dave", "Erin"))
    assert [target_for(named, chain, k) for k in range(3)] == ["Dave", "Erin", "Dave"]


def test_target_for_missing_people_is_none() -> None:
    assert target_for(Level("oncall"), []) is None
    assert target_for(Level("next"), ["Alice"]) is None
