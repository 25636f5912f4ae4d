"""When paging runs out, the page starts again while the SLA can still be kept;
the reminder rings before the response deadline. Time is stepped by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.paging.policy import (
    GiveUpPaging,
    NotifyPagingFailed,
    PagingExhausted,
    Policy,
    RestartPaging,
    reminder_due,
    restart_still_due,
    when_exhausted,
)

T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
ACK_BY = T0 + timedelta(minutes=30)
POLICY = Policy(
    retry_failed_seconds=600, give_up_after_seconds=3600, failed_notify=("ops@example.com",)
)


def alert_failed(restart: int = 0, acknowledge_by: datetime | None = ACK_BY) -> PagingExhausted:
    return PagingExhausted(7, reminder=False, restart=restart, acknowledge_by=acknowledge_by)


def test_a_failed_alert_tells_failed_notify_and_restarts_after_the_retry_time() -> None:
    now = T0 + timedelta(minutes=8)
    restart_at = now + timedelta(minutes=10)
    assert when_exhausted(POLICY, alert_failed(), now) == (
        NotifyPagingFailed(7, ("ops@example.com",), restart_at),
        RestartPaging(restart_at, 1),
    )
    assert when_exhausted(POLICY, alert_failed(restart=3), now)[1] == RestartPaging(restart_at, 4)


def test_restarts_go_on_until_the_acknowledge_deadline_is_give_up_after_past() -> None:
    """Walked by hand: a page failing every 8 minutes, restarted 10 minutes later."""
    now, restart, restarts = T0, 0, []
    while True:
        now += timedelta(minutes=8)  # the levels take 8 minutes to fail
        commands = when_exhausted(POLICY, alert_failed(restart), now)
        outcome = commands[-1]
        if isinstance(outcome, GiveUpPaging):
            break
        assert isinstance(outcome, RestartPaging)
        restarts.append(outcome.at)
        now, restart = outcome.at, outcome.restart
    last_allowed = ACK_BY + timedelta(minutes=60)
    assert restarts[-1] <= last_allowed < restarts[-1] + timedelta(minutes=18)
    assert len(restarts) == 5  # 03:18, 03:36, 03:54, 04:12, 04:30 (limit 04:30)
    assert "is 60 minutes past" in outcome.why
    assert commands[0] == NotifyPagingFailed(7, ("ops@example.com",), None)


def test_the_restart_exactly_at_the_give_up_time_still_rings() -> None:
    now = ACK_BY + timedelta(minutes=50)
    assert when_exhausted(POLICY, alert_failed(), now)[1] == RestartPaging(
        ACK_BY + timedelta(minutes=60), 1
    )
    assert isinstance(
        when_exhausted(POLICY, alert_failed(), now + timedelta(seconds=1))[1], GiveUpPaging
    )


def test_a_failed_reminder_is_told_but_never_restarted() -> None:
    event = PagingExhausted(9, reminder=True, restart=0, acknowledge_by=ACK_BY)
    assert when_exhausted(POLICY, event, T0) == (NotifyPagingFailed(9, ("ops@example.com",), None),)


def test_nothing_owing_an_acknowledgement_gives_up() -> None:
    (notify, outcome) = when_exhausted(POLICY, alert_failed(acknowledge_by=None), T0)
    assert isinstance(outcome, GiveUpPaging)
    assert notify == NotifyPagingFailed(7, ("ops@example.com",), None)


def test_a_restart_found_due_after_the_give_up_time_is_not_dialled() -> None:
    limit = ACK_BY + timedelta(minutes=60)
    assert restart_still_due(POLICY, ACK_BY, limit) is None
    why = restart_still_due(POLICY, ACK_BY, limit + timedelta(seconds=1))
    assert why is not None and "60 minutes past" in why
    assert restart_still_due(POLICY, None, T0) is not None


def test_the_reminder_rings_its_lead_before_the_response_deadline() -> None:
    respond_by = T0 + timedelta(hours=2)
    policy = Policy(reminder_lead_seconds=900)
    assert reminder_due(policy, respond_by, T0) == respond_by - timedelta(minutes=15)
    # Acknowledged with less than the lead left: the page just heard was the reminder.
    assert reminder_due(policy, respond_by, respond_by - timedelta(minutes=15)) is None
    assert reminder_due(Policy(reminder_lead_seconds=0), respond_by, T0) == respond_by


@pytest.mark.parametrize(
    "bad",
    [
        {"retry_failed_seconds": 0},
        {"give_up_after_seconds": -1},
        {"reminder_lead_seconds": -1},
    ],
)
def test_the_policy_refuses_impossible_timings(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="seconds must"):
        Policy(**bad)  # type: ignore[arg-type]
