"""The acknowledgement timeout: an acknowledged fault not responded to shortly
before its response deadline pages the engineer who acknowledged it again.

On a real SQLite file; each `with db.sessions.begin()` block is one committed
transaction, as the scheduler would use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.faults.lifecycle import Action
from ivr.paging.policy import AttemptResult, Level, Policy, after
from ivr.paging.rota import Rota
from ivr.store.db import Database
from ivr.store.engineers import add_engineer
from ivr.store.faults import move_fault
from ivr.store.models import Fault, Page, PageAttempt
from ivr.store.oncall import set_rota
from ivr.store.pages import (
    ALERT,
    REMINDER,
    advance,
    begin_attempt,
    claim_due_pages,
    finish_attempt,
    next_due_at,
    open_page,
    recover_interrupted,
)

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # a Wednesday night, Alice's week
RESPOND_BY = T0 + timedelta(hours=3)
REMIND_AT = RESPOND_BY - timedelta(minutes=15)  # [paging] reminder_lead_minutes = 15
POLICY = Policy(
    levels=(
        Level("oncall", ring_seconds=30, attempts=2, retry_delay_seconds=60),
        Level("next", ring_seconds=30, attempts=1),
    ),
    repeats=1,
    ack_timeout=True,
    reminder_lead_seconds=900,
)
WITHOUT_REMINDERS = Policy(levels=POLICY.levels, repeats=1, ack_timeout=False)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/reminders.db")
    database.create_schema()
    with database.sessions.begin() as session:
        add_engineer(session, "Alice", "sip:alice@pbx.example")
        add_engineer(session, "Bob", "sip:bob@pbx.example")
        add_engineer(session, "Carol", "sip:carol@pbx.example")
        rota = Rota(("Alice", "Bob", "Carol"), datetime(2026, 1, 5, 9, tzinfo=UTC), time(9), 0)
        set_rota(session, rota)
    yield database
    database.dispose()


def report(
    db: Database, reference: str, respond_by: datetime | None = RESPOND_BY, customer: str = "Acme"
) -> int:
    """A critical fault with its response deadline, paged at T0; returns the page id."""
    with db.sessions.begin() as session:
        fault = Fault(
            reference=reference,
            priority="critical",
            customer=customer,
            reported_at=T0,
            acknowledge_by=T0 + timedelta(hours=2),
            respond_by=respond_by,
            resolve_by=T0 + timedelta(hours=24),
        )
        session.add(fault)
        session.flush()
        return open_page(session, fault, T0).id


def call(
    db: Database, page_id: int, now: datetime, result: AttemptResult, policy: Policy = POLICY
) -> str | None:
    """One scheduler turn: claim, begin (commit), dial, finish and advance (commit)."""
    with db.sessions.begin() as session:
        (page,) = [p for p in claim_due_pages(session, now, "node-1", 120) if p.id == page_id]
        attempt = begin_attempt(session, page, policy, now, owner="node-1")
        attempt_id, name = attempt.id, attempt.engineer_name
    with db.sessions.begin() as session:
        ended = session.get_one(PageAttempt, attempt_id)
        current = session.get_one(Page, page_id)
        finish_attempt(session, ended, result, now)
        decision = after(policy, current.step, result)
        advance(session, current, decision, now, policy=policy)
    return name


def pages(db: Database) -> list[tuple[str, str, str | None, datetime | None, list[str]]]:
    """(kind, status, target, next due, fault references) of every page, oldest first."""
    with db.sessions() as session:
        return [
            (p.kind, p.status, p.target, p.next_action_at, [f.reference for f in p.faults])
            for p in session.scalars(select(Page).order_by(Page.id))
        ]


def reminder_id(db: Database) -> int:
    with db.sessions() as session:
        found = session.scalar(select(Page.id).where(Page.kind == REMINDER))
        assert found is not None
        return found


def test_acknowledging_schedules_a_reminder_its_lead_before_the_response_deadline(
    db: Database,
) -> None:
    alert = report(db, "100001")
    report(db, "100002", respond_by=RESPOND_BY + timedelta(hours=1))  # joins the same page
    acked = T0 + timedelta(minutes=5)
    assert call(db, alert, acked, AttemptResult.ACKNOWLEDGED) == "Alice"
    assert pages(db) == [
        (ALERT, "acknowledged", None, None, ["100001", "100002"]),
        (REMINDER, "active", "Alice", REMIND_AT, ["100001", "100002"]),
    ]
    with db.sessions() as session:
        # The scheduler sleeps until the earliest response deadline.
        assert next_due_at(session, acked) == REMIND_AT
        assert claim_due_pages(session, REMIND_AT - timedelta(seconds=1), "node-1", 120) == []


def test_the_reminder_rings_the_acknowledger_first_even_off_the_rota(db: Database) -> None:
    alert = report(db, "100001")
    # Alice (on call) passes it on; Bob acknowledges.
    assert call(db, alert, T0, AttemptResult.PASSED) == "Alice"
    assert call(db, alert, T0, AttemptResult.ACKNOWLEDGED) == "Bob"
    reminder = reminder_id(db)
    assert pages(db)[1][:3] == (REMINDER, "active", "Bob")
    # At the deadline Bob is rung (not Alice, who is still on call), twice as
    # the first level says, then the level after it as a new page would.
    assert call(db, reminder, REMIND_AT, AttemptResult.NO_ANSWER) == "Bob"
    retry = REMIND_AT + timedelta(seconds=60)
    assert call(db, reminder, retry, AttemptResult.BUSY) == "Bob"
    assert call(db, reminder, retry, AttemptResult.ACKNOWLEDGED) == "Bob"  # level 2: "next"
    kinds = [(kind, status) for kind, status, *_ in pages(db)]
    # Acknowledging a reminder opens no further reminder: no loop.
    assert kinds == [(ALERT, "acknowledged"), (REMINDER, "acknowledged")]
    with db.sessions() as session:
        fault = session.scalars(select(Fault)).one()
        # The fault keeps its first acknowledgement, which the SLA clock reads.
        assert (fault.acknowledged_by, fault.acknowledged_at, fault.status) == (
            "Bob",
            T0,
            "acknowledged",
        )


def test_a_new_fault_from_the_customer_is_paged_now_not_joined_to_a_reminder(
    db: Database,
) -> None:
    alert = report(db, "100001")
    call(db, alert, T0, AttemptResult.ACKNOWLEDGED)
    second = report(db, "100002")
    assert second not in (alert, reminder_id(db))
    assert pages(db)[2] == (ALERT, "active", None, T0, ["100002"])


@pytest.mark.parametrize("how", ["cli", "web-respond", "web-resolve"])
def test_responding_before_the_deadline_cancels_the_reminder(db: Database, how: str) -> None:
    alert = report(db, "100001")
    call(db, alert, T0, AttemptResult.ACKNOWLEDGED)
    with db.sessions.begin() as session:
        fault = session.scalars(select(Fault)).one()
        at = T0 + timedelta(hours=1)
        if how == "cli":
            move_fault(session, fault, Action.RESPOND, at)
        elif how == "web-respond":
            move_fault(session, fault, Action.RESPOND, at, by="admin")
        else:
            move_fault(session, fault, Action.RESOLVE, at, by="admin")
    assert [status for _kind, status, *_ in pages(db)] == ["acknowledged", "cancelled"]
    with db.sessions() as session:
        assert next_due_at(session, T0 + timedelta(hours=1)) is None


def test_a_reminder_still_owing_another_fault_is_kept(db: Database) -> None:
    alert = report(db, "100001")
    report(db, "100002")
    call(db, alert, T0, AttemptResult.ACKNOWLEDGED)
    with db.sessions.begin() as session:
        first = session.scalar(select(Fault).where(Fault.reference == "100001"))
        assert first is not None
        move_fault(session, first, Action.RESPOND, T0 + timedelta(hours=1), by="admin")
    assert pages(db)[1][1] == "active"


def test_a_reminder_found_moot_when_due_is_cancelled_not_rung(db: Database) -> None:
    alert = report(db, "100001")
    call(db, alert, T0, AttemptResult.ACKNOWLEDGED)
    with db.sessions.begin() as session:
        # Responded by some path that does not cancel reminders itself.
        fault = session.scalars(select(Fault)).one()
        fault.responded_at, fault.status = T0 + timedelta(hours=1), "responded"
    with db.sessions.begin() as session:
        assert claim_due_pages(session, REMIND_AT, "node-1", 120) == []
    assert pages(db)[1][1] == "cancelled"


@pytest.mark.parametrize(
    ("respond_by", "policy"),
    [
        (RESPOND_BY, WITHOUT_REMINDERS),  # ack_timeout = no
        (T0 + timedelta(minutes=1), POLICY),  # acknowledged after the deadline
        (T0 + timedelta(minutes=19), POLICY),  # acknowledged with less than the lead left
        (None, POLICY),  # a fault without an SLA clock
    ],
)
def test_no_reminder_when_off_past_or_without_a_deadline(
    db: Database, respond_by: datetime | None, policy: Policy
) -> None:
    alert = report(db, "100001", respond_by=respond_by)
    call(db, alert, T0 + timedelta(minutes=5), AttemptResult.ACKNOWLEDGED, policy)
    assert [kind for kind, *_ in pages(db)] == [ALERT]


def test_an_acknowledgement_recovered_after_a_crash_still_schedules_the_reminder(
    db: Database,
) -> None:
    alert = report(db, "100001")
    with db.sessions.begin() as session:
        (page,) = claim_due_pages(session, T0, "node-1", 120)
        attempt = begin_attempt(session, page, POLICY, T0, owner="node-1")
        finish_attempt(session, attempt, AttemptResult.ACKNOWLEDGED, T0)
        # ...and the process dies before advancing the page.
    with db.sessions.begin() as session:
        moved = recover_interrupted(session, POLICY, T0 + timedelta(minutes=1), owner="node-1")
        assert [p.id for p in moved] == [alert]
    assert [(kind, status, target) for kind, status, target, *_ in pages(db)] == [
        (ALERT, "acknowledged", None),
        (REMINDER, "active", "Alice"),
    ]


def test_a_reminder_nobody_answers_marks_the_fault_page_failed(db: Database) -> None:
    alert = report(db, "100001")
    call(db, alert, T0, AttemptResult.ACKNOWLEDGED)
    reminder = reminder_id(db)
    called = [
        call(db, reminder, REMIND_AT, AttemptResult.NO_ANSWER),
        call(db, reminder, REMIND_AT + timedelta(seconds=60), AttemptResult.BUSY),
        call(db, reminder, REMIND_AT + timedelta(seconds=60), AttemptResult.NO_KEY),
    ]
    assert called == ["Alice", "Alice", "Bob"]
    assert pages(db)[1][1] == "failed"
    with db.sessions.begin() as session:
        fault = session.scalars(select(Fault)).one()
        # Loud, and still on the record as acknowledged by Alice at T0.
        assert (fault.status, fault.acknowledged_by, fault.acknowledged_at) == (
            "page_failed",
            "Alice",
            T0,
        )
        # A response clears it.
        move_fault(session, fault, Action.RESPOND, RESPOND_BY + timedelta(minutes=5))
        assert fault.status == "responded"
