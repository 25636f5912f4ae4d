"""A customer's status line: exact speech parts, then the recent-fault options (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.domain import Outcome, Priority, Stage
from ivr.flow.call_flow import CallFlow, FlowSettings, State
from ivr.flow.events import (
    Answered,
    CredentialsChecked,
    DigitPressed,
    Play,
    StartRecording,
    StopPlayback,
)
from ivr.flow.speech import Digits, Moment, Prompt
from ivr.flow.status import OpenFault, OpenFaults, status_parts
from ivr.store.db import Database
from ivr.store.fault_status import open_fault_summary
from ivr.store.models import Fault

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)
ACKED = datetime(2026, 11, 25, 7, 2, tzinfo=LONDON)
DUE = datetime(2026, 11, 25, 9, 45, tzinfo=LONDON)
CRITICAL = OpenFault("471203", Priority.CRITICAL, ACKED, Stage.RESPOND, DUE)
OPTIONS = [Prompt("recent_fault_options"), Prompt("status_repeat")]


def test_the_newest_fault_is_read_with_its_acknowledgement_and_next_deadline() -> None:
    assert status_parts(OpenFaults(CRITICAL, 0, NOW)) == [
        Prompt("status_open_fault"),
        Digits("471203"),
        Prompt("status_critical"),
        Prompt("status_acknowledged"),
        Moment(ACKED, NOW),
        Prompt("status_due_respond"),
        Moment(DUE, NOW),
    ]


def test_an_unacknowledged_overdue_fault_and_others() -> None:
    fault = OpenFault("555666", Priority.HIGH, None, Stage.ACKNOWLEDGE, DUE, overdue=True)
    assert status_parts(OpenFaults(fault, 2, NOW)) == [
        Prompt("status_open_fault"),
        Digits("555666"),
        Prompt("status_high"),
        Prompt("status_due_acknowledge"),
        Moment(DUE, NOW),
        Prompt("status_overdue"),
        Prompt("status_and"),
        Digits("2"),
        Prompt("status_others"),
    ]
    assert status_parts(OpenFaults(fault, 1, NOW))[-1] == Prompt("status_one_other")


def test_a_fault_that_owes_nothing_more_says_no_deadline() -> None:
    fault = OpenFault("555666", Priority.STANDARD)
    assert status_parts(OpenFaults(fault, 0, NOW)) == [
        Prompt("status_open_fault"),
        Digits("555666"),
        Prompt("status_standard"),
    ]


def answered(summary: OpenFaults, **event: object) -> tuple[CallFlow, Play]:
    flow = CallFlow(FlowSettings(first_digit_timeout=10.0, tries=3))
    (play,) = flow.handle(Answered(verified=True, open_faults=summary, **event), 0.0)  # type: ignore[arg-type]
    assert isinstance(play, Play) and play.barge_in
    return flow, play


def test_a_verified_caller_hears_the_status_before_the_options() -> None:
    summary = OpenFaults(CRITICAL, 0, NOW)
    flow, play = answered(summary)
    assert flow.state is State.RECENT_FAULT
    assert list(play.parts) == [Prompt("greeting"), *status_parts(summary), *OPTIONS]


def test_3_says_it_again_and_1_adds_a_description_to_that_fault() -> None:
    summary = OpenFaults(CRITICAL, 2, NOW)
    flow, _ = answered(summary)
    again = flow.handle(DigitPressed("3"), 1.0)
    assert again == [StopPlayback(), Play((*status_parts(summary), *OPTIONS), barge_in=True)]
    flow.handle(DigitPressed("1"), 2.0)
    assert flow.summary.reference == "471203"
    assert flow.state is State.DESCRIBE_PROMPT


def test_2_reports_a_new_fault() -> None:
    flow, _ = answered(OpenFaults(CRITICAL, 0, NOW))
    commands = flow.handle(DigitPressed("2"), 1.0)
    assert flow.state is State.MENU and isinstance(commands[-1], Play)
    assert commands[-1].parts == (Prompt("menu"),)


def test_a_recent_fault_is_the_one_added_to() -> None:
    flow, _ = answered(OpenFaults(CRITICAL, 1, NOW), recent_reference="471203")
    flow.handle(DigitPressed("1"), 1.0)
    assert flow.summary.reference == "471203"


def test_a_pin_verified_caller_hears_their_status_too() -> None:
    flow = CallFlow(FlowSettings(first_digit_timeout=10.0, tries=3))
    flow.handle(Answered(verified=False), 0.0)
    flow.handle(DigitPressed("1"), 1.0)
    flow.handle(DigitPressed("#"), 1.5)
    flow.handle(DigitPressed("9"), 2.0)
    flow.handle(DigitPressed("#"), 2.5)
    summary = OpenFaults(CRITICAL, 0, NOW)
    (play,) = flow.handle(CredentialsChecked("Acme Ltd", None, summary), 3.0)
    assert isinstance(play, Play) and list(play.parts) == [*status_parts(summary), *OPTIONS]


def test_without_open_faults_3_in_the_menu_is_still_critical() -> None:
    flow = CallFlow(FlowSettings(first_digit_timeout=10.0, tries=3))
    flow.handle(Answered(verified=True), 0.0)
    commands = flow.handle(DigitPressed("3"), 1.0)
    assert flow.state is State.CONFIRM and flow.summary.priority is Priority.CRITICAL
    assert isinstance(commands[-1], Play)
    assert flow.summary.outcome is Outcome.IN_PROGRESS
    assert not any(isinstance(c, StartRecording) for c in commands)


# ---- the store's side: only the caller's own faults ----------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/faults.db")
    database.create_schema()
    return database


def add(db: Database, reference: str, customer: str, reported: datetime, **row: object) -> None:
    with db.sessions.begin() as session:
        session.add(
            Fault(
                reference=reference,
                priority=row.pop("priority", "critical"),
                status=row.pop("status", "open"),
                customer=customer,
                cli="+442079460000",
                reported_at=reported,
                acknowledge_by=reported + timedelta(minutes=30),
                respond_by=reported + timedelta(hours=4),
                resolve_by=reported + timedelta(hours=8),
                **row,
            )
        )


def test_the_summary_is_the_customers_newest_open_fault_and_a_count(db: Database) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    acked = datetime(2026, 11, 25, 7, 2, tzinfo=UTC)
    add(db, "111111", "Acme", now - timedelta(hours=5))
    add(
        db, "222222", "Acme", now - timedelta(hours=3), status="acknowledged", acknowledged_at=acked
    )
    add(db, "333333", "Acme", now - timedelta(hours=1), status="resolved")
    add(db, "444444", "Other", now - timedelta(minutes=5))
    with db.sessions() as session:
        summary = open_fault_summary(session, "Acme", now, LONDON)
        assert open_fault_summary(session, "Nobody", now, LONDON) is None
    assert summary is not None
    assert summary.others == 1
    assert summary.newest.reference == "222222"
    assert summary.newest.acknowledged_at == acked.astimezone(LONDON)
    assert summary.newest.next_stage is Stage.RESPOND
    assert summary.newest.due == (now + timedelta(hours=1)).astimezone(LONDON)
    assert summary.local_now == now.astimezone(LONDON)
    db.dispose()
