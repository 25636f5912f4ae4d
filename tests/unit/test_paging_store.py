"""Paging storage on a real SQLite file: the step guarantee, leases, restart recovery.

Each `with db.sessions.begin()` block is one committed transaction, as the
scheduler would use them; a "crash" is simply not running the next block.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.paging.policy import AttemptResult, Level, Next, Policy, Step, after
from ivr.paging.rota import Rota
from ivr.store.db import Database
from ivr.store.engineers import PagingError, add_engineer, list_engineers, remove_engineer
from ivr.store.models import Fault, OnCallOverride, Page, PageAttempt
from ivr.store.oncall import add_override, chain_at, on_call_at, set_rota, who_is_on_call
from ivr.store.pages import (
    LeaseLost,
    StepAlreadyAttempted,
    advance,
    begin_attempt,
    claim_due_pages,
    finish_attempt,
    list_attempts,
    next_due_at,
    open_page,
    pending_pages,
    recover_interrupted,
    take_over,
)

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # a Wednesday night, Alice's week
POLICY = Policy(
    levels=(
        Level("oncall", ring_seconds=30, attempts=2, retry_delay_seconds=60),
        Level("next", ring_seconds=30, attempts=1),
    ),
    repeats=1,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/paging.db")
    database.create_schema()
    with database.sessions.begin() as session:
        add_engineer(session, "Alice", "sip:alice@192.0.2.10")
        add_engineer(session, "Bob", "020 7946 0001")
        add_engineer(session, "Carol", "sip:carol@pbx.example:5070")
        set_rota(
            session,
            Rota(
                ("Alice", "Bob", "Carol"),
                datetime(2026, 1, 5, 9, tzinfo=UTC),
                time(9),
                0,
                tz=LONDON,
            ),
        )
    yield database
    database.dispose()


def new_fault(db: Database, reference: str, customer: str | None = "Acme Ltd") -> int:
    with db.sessions.begin() as session:
        fault = Fault(reference=reference, priority="critical", customer=customer, reported_at=T0)
        session.add(fault)
        session.flush()
        return fault.id


def page_for(db: Database, reference: str, now: datetime = T0) -> int:
    fault_id = new_fault(db, reference)
    with db.sessions.begin() as session:
        fault = session.get(Fault, fault_id)
        assert fault is not None
        return open_page(session, fault, now).id


def call(
    db: Database, page_id: int, now: datetime, result: AttemptResult, sip: int | None = None
) -> str | None:
    """One scheduler turn: claim, begin (commit), dial, finish and advance (commit)."""
    with db.sessions.begin() as session:
        pages = claim_due_pages(session, now, "node-1", 120)
        page = next(p for p in pages if p.id == page_id)
        attempt = begin_attempt(session, page, POLICY, now, owner="node-1")
        attempt_id, name = attempt.id, attempt.engineer_name
    with db.sessions.begin() as session:
        ended = session.get(PageAttempt, attempt_id)
        current = session.get(Page, page_id)
        assert ended is not None and current is not None
        if ended.dialable:
            finish_attempt(session, ended, result, now, sip_status=sip)
        advance(session, current, after(POLICY, current.step, AttemptResult(ended.result)), now)
    return name


def load_page(db: Database, page_id: int) -> Page:
    with db.sessions() as session:
        page = session.get(Page, page_id)
        assert page is not None
        return page


# ---- engineers and the rota ---------------------------------------------------------------


def test_contacts_are_normalised(db: Database) -> None:
    with db.sessions() as session:
        contacts = {e.name: e.contact for e in list_engineers(session)}
    assert contacts == {
        "Alice": "sip:alice@192.0.2.10",
        "Bob": "+442079460001",
        "Carol": "sip:carol@pbx.example:5070",
    }


@pytest.mark.parametrize(
    ("name", "contact", "message"),
    [
        ("Dave", "not a number", "telephone number"),
        ("Dave", "sip:", "not a SIP URI"),
        ("Dave", "sip:dave@ bad host", "not a SIP URI"),
        ("Alice", "sip:other@host", "already exists"),
        ("Da|ve", "sip:dave@host", "may not contain"),
        ("  ", "sip:dave@host", "name is required"),
    ],
)
def test_bad_engineers_are_refused(db: Database, name: str, contact: str, message: str) -> None:
    with pytest.raises(PagingError, match=message), db.sessions.begin() as session:
        add_engineer(session, name, contact)


def test_rota_needs_known_engineers(db: Database) -> None:
    rota = Rota(("Alice", "Zed"), datetime(2026, 1, 5, 9, tzinfo=UTC), time(9), 0, tz=LONDON)
    with pytest.raises(PagingError, match="Zed"), db.sessions.begin() as session:
        set_rota(session, rota)


def test_on_call_and_chain_follow_rota_and_overrides(db: Database) -> None:
    with db.sessions.begin() as session:
        assert on_call_at(session, T0) == "Alice"
        assert chain_at(session, T0) == ["Alice", "Bob", "Carol"]
        add_override(session, "Carol", T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        assert on_call_at(session, T0) == "Carol"
        assert chain_at(session, T0) == ["Carol", "Bob", "Alice"]
        answer = who_is_on_call(session, T0)
        assert (answer.engineer, answer.source, answer.until) == (
            "Carol",
            "override",
            T0 + timedelta(hours=1),
        )


def test_override_for_unknown_engineer_or_backwards_span(db: Database) -> None:
    with pytest.raises(PagingError, match="no engineer called 'Zed'"), db.sessions.begin() as s:
        add_override(s, "Zed", T0, T0 + timedelta(hours=1))
    with pytest.raises(PagingError, match="end after"), db.sessions.begin() as s:
        add_override(s, "Bob", T0, T0)


def test_remove_engineer(db: Database) -> None:
    with pytest.raises(PagingError, match="in the rota"), db.sessions.begin() as session:
        remove_engineer(session, "Alice")
    with db.sessions.begin() as session:
        add_engineer(session, "Dave", "sip:dave@host")
        add_override(session, "Dave", T0, T0 + timedelta(days=1))
    with db.sessions.begin() as session:
        remove_engineer(session, "Dave")
    with db.sessions() as session:
        assert session.scalars(select(OnCallOverride)).all() == []
        assert on_call_at(session, T0) == "Alice"


# ---- opening pages ---------------------------------------------------------------------------


def test_open_page_starts_at_the_first_step_due_now(db: Database) -> None:
    page = load_page(db, page_for(db, "100001"))
    assert (page.status, page.step, page.next_action_at) == ("active", Step(0, 0, 0), T0)


def test_open_page_is_idempotent_and_joins_the_same_customer(db: Database) -> None:
    first = page_for(db, "100001")
    second = page_for(db, "100002")  # same customer, still being paged: joins
    other_id = new_fault(db, "100003", customer="Other plc")
    with db.sessions.begin() as session:
        fault = session.get(Fault, other_id)
        assert fault is not None
        other = open_page(session, fault, T0).id
        again = open_page(session, fault, T0).id
    assert second == first
    assert other != first and again == other
    with db.sessions() as session:
        page = session.get(Page, first)
        assert page is not None
        assert [f.reference for f in page.faults] == ["100001", "100002"]


# ---- the step guarantee --------------------------------------------------------------------


def test_a_step_cannot_be_attempted_twice(db: Database) -> None:
    page_id = page_for(db, "100001")
    with db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        attempt = begin_attempt(session, page, POLICY, T0)
        assert (attempt.engineer_name, attempt.contact) == ("Alice", "sip:alice@192.0.2.10")
        assert attempt.dialable
    with pytest.raises(StepAlreadyAttempted), db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        begin_attempt(session, page, POLICY, T0)
    # And the database itself refuses, whatever the code above checks.
    with pytest.raises(IntegrityError), db.sessions.begin() as session:
        session.add(PageAttempt(page_id=page_id, repeat=0, level=0, attempt=0, started_at=T0))


def test_steps_only_move_forward(db: Database) -> None:
    page_id = page_for(db, "100001")
    call(db, page_id, T0, AttemptResult.BUSY, 486)
    with pytest.raises(PagingError, match="only move forward"), db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        advance(session, page, Next(Step(0, 0, 0), 0), T0)


def test_begin_attempt_needs_the_lease_when_an_owner_is_given(db: Database) -> None:
    page_id = page_for(db, "100001")
    with pytest.raises(LeaseLost), db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        begin_attempt(session, page, POLICY, T0, owner="node-1")


def test_nobody_to_call_is_a_failed_attempt_not_a_dial(db: Database) -> None:
    lonely = Policy(levels=(Level(("Nobody",), attempts=1),), repeats=1)
    page_id = page_for(db, "100001")
    with db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        attempt = begin_attempt(session, page, lonely, T0)
        assert not attempt.dialable
        assert attempt.result == "failed"
        assert "no engineer called 'Nobody'" in attempt.detail
        advance(session, page, after(lonely, page.step, AttemptResult.FAILED), T0)
        assert page.status == "failed"


# ---- whole pages ---------------------------------------------------------------------------


def test_acknowledgement_stops_paging_and_fills_the_fault(db: Database) -> None:
    page_id = page_for(db, "100001")
    page_for(db, "100002")  # joined
    assert call(db, page_id, T0, AttemptResult.BUSY, 486) == "Alice"
    later = T0 + timedelta(seconds=60)
    assert call(db, page_id, later, AttemptResult.ACKNOWLEDGED, 200) == "Alice"
    page = load_page(db, page_id)
    assert (page.status, page.acknowledged_by, page.acknowledged_at) == (
        "acknowledged",
        "Alice",
        later,
    )
    assert page.next_action_at is None
    with db.sessions() as session:
        faults = session.scalars(select(Fault).order_by(Fault.reference)).all()
        assert [(f.status, f.acknowledged_by, f.acknowledged_at) for f in faults] == [
            ("acknowledged", "Alice", later),
            ("acknowledged", "Alice", later),
        ]
        assert pending_pages(session) == []
        assert claim_due_pages(session, later + timedelta(days=1), "node-1", 120) == []


def test_everyone_failing_marks_the_fault_page_failed(db: Database) -> None:
    page_id = page_for(db, "100001")
    now = T0
    called = []
    for result in (AttemptResult.NO_ANSWER, AttemptResult.REJECTED, AttemptResult.NO_KEY):
        called.append(call(db, page_id, now, result))
        page = load_page(db, page_id)
        now = page.next_action_at or now
    assert called == ["Alice", "Alice", "Bob"]
    assert load_page(db, page_id).status == "failed"
    with db.sessions() as session:
        fault = session.scalar(select(Fault).where(Fault.reference == "100001"))
        assert fault is not None and fault.status == "page_failed"
        attempts = list_attempts(session, "100001")
        assert [(a.step, a.result) for a in attempts] == [
            (Step(0, 0, 0), "no_answer"),
            (Step(0, 0, 1), "rejected"),
            (Step(0, 1, 0), "no_key"),
        ]


def test_pass_goes_to_the_next_engineer_at_once(db: Database) -> None:
    page_id = page_for(db, "100001")
    call(db, page_id, T0, AttemptResult.PASSED)
    page = load_page(db, page_id)
    assert (page.step, page.next_action_at) == (Step(0, 1, 0), T0)
    assert call(db, page_id, T0, AttemptResult.ACKNOWLEDGED) == "Bob"


# ---- leases --------------------------------------------------------------------------------


def test_claim_returns_only_due_unleased_pages(db: Database) -> None:
    due = page_for(db, "100001")
    fault_id = new_fault(db, "300001", customer="Later plc")
    with db.sessions.begin() as session:
        fault = session.get(Fault, fault_id)
        assert fault is not None
        future = open_page(session, fault, T0 + timedelta(minutes=5)).id
    with db.sessions.begin() as session:
        assert [p.id for p in claim_due_pages(session, T0, "node-1", 120)] == [due]
    with db.sessions.begin() as session:
        # Leased by node-1: node-2 gets nothing, even once the other page is due.
        assert claim_due_pages(session, T0 + timedelta(seconds=60), "node-2", 120) == []
    with db.sessions.begin() as session:
        claimed = claim_due_pages(session, T0 + timedelta(minutes=5), "node-2", 120)
        assert sorted(p.id for p in claimed) == sorted([due, future])  # lease expired at 120 s
        assert {p.lease_owner for p in claimed} == {"node-2"}


def test_claim_cancels_pages_acknowledged_some_other_way(db: Database) -> None:
    page_id = page_for(db, "100001")
    with db.sessions.begin() as session:
        fault = session.scalar(select(Fault).where(Fault.reference == "100001"))
        assert fault is not None
        fault.acknowledged_at, fault.acknowledged_by, fault.status = T0, "admin", "acknowledged"
    with db.sessions.begin() as session:
        assert claim_due_pages(session, T0, "node-1", 120) == []
    assert load_page(db, page_id).status == "cancelled"


def test_next_due_at(db: Database) -> None:
    with db.sessions() as session:
        assert next_due_at(session, T0) is None
    page_for(db, "100001")
    with db.sessions() as session:
        assert next_due_at(session, T0) == T0
    # While its call is in progress the page is not due again before the
    # lease runs out: the scheduler must not spin on it.
    with db.sessions.begin() as session:
        assert len(claim_due_pages(session, T0, "node-1", 120)) == 1
    with db.sessions() as session:
        assert next_due_at(session, T0) == T0 + timedelta(seconds=120)


# ---- restart -------------------------------------------------------------------------------


def crash_mid_call(db: Database, page_id: int, now: datetime, owner: str = "node-1") -> None:
    """Claim and begin an attempt, commit, and never finish it: kill -9 while ringing."""
    with db.sessions.begin() as session:
        page = next(p for p in claim_due_pages(session, now, owner, 120) if p.id == page_id)
        begin_attempt(session, page, POLICY, now, owner=owner)


def test_restart_finishes_the_attempt_interrupted_and_advances_one_step(db: Database) -> None:
    page_id = page_for(db, "100001")
    crash_mid_call(db, page_id, T0)
    restart = T0 + timedelta(minutes=10)  # the lease (120 s) has long expired
    with db.sessions.begin() as session:
        moved = recover_interrupted(session, POLICY, restart)
        assert [p.id for p in moved] == [page_id]
    page = load_page(db, page_id)
    assert page.step == Step(0, 0, 1)  # not (0, 0, 0) again, and not (0, 1, 0)
    assert page.next_action_at == restart + timedelta(seconds=60)
    assert page.lease_owner is None
    with db.sessions.begin() as session:
        assert recover_interrupted(session, POLICY, restart) == []  # nothing left to do
        assert claim_due_pages(session, restart, "node-1", 120) == []  # retry not yet due
    assert call(db, page_id, restart + timedelta(seconds=60), AttemptResult.ACKNOWLEDGED) == "Alice"
    with db.sessions() as session:
        attempts = list_attempts(session)
        assert [(a.step, a.result) for a in attempts] == [
            (Step(0, 0, 0), "interrupted"),
            (Step(0, 0, 1), "acknowledged"),
        ]
        assert attempts[0].ended_at == restart


def test_recovery_leaves_pages_another_live_node_holds(db: Database) -> None:
    page_id = page_for(db, "100001")
    crash_mid_call(db, page_id, T0, owner="node-2")
    with db.sessions.begin() as session:
        assert recover_interrupted(session, POLICY, T0 + timedelta(seconds=30)) == []
    # Its own lease from before the restart is fair game, even unexpired.
    with db.sessions.begin() as session:
        moved = recover_interrupted(session, POLICY, T0 + timedelta(seconds=30), owner="node-2")
        assert [p.id for p in moved] == [page_id]


def test_recovery_applies_a_finished_attempt_whose_advance_was_lost(db: Database) -> None:
    page_id = page_for(db, "100001")
    with db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        attempt = begin_attempt(session, page, POLICY, T0)
        finish_attempt(session, attempt, AttemptResult.PASSED, T0)
    with db.sessions.begin() as session:
        recover_interrupted(session, POLICY, T0 + timedelta(seconds=5))
    assert load_page(db, page_id).step == Step(0, 1, 0)


def test_finish_attempt_only_once(db: Database) -> None:
    page_id = page_for(db, "100001")
    with pytest.raises(PagingError, match="already ended"), db.sessions.begin() as session:
        page = session.get(Page, page_id)
        assert page is not None
        attempt = begin_attempt(session, page, POLICY, T0)
        finish_attempt(session, attempt, AttemptResult.BUSY, T0, sip_status=486)
        finish_attempt(session, attempt, AttemptResult.ACKNOWLEDGED, T0)


def test_another_node_takes_over_a_page_once_the_dead_nodes_lease_runs_out(
    db: Database,
) -> None:
    page_id = page_for(db, "100001")
    crash_mid_call(db, page_id, T0, owner="node-1")
    later = T0 + timedelta(seconds=300)
    with db.sessions.begin() as session:
        (page,) = claim_due_pages(session, later, "node-2", 120)
        with pytest.raises(StepAlreadyAttempted):
            begin_attempt(session, page, POLICY, later, owner="node-2")
        take_over(session, page, POLICY, later)
    with db.sessions() as session:
        page = session.get_one(Page, page_id)
        assert page.step > Step(0, 0, 0)
        assert page.attempts[0].result == "interrupted"
        next_step = page.step
    with db.sessions.begin() as session:
        (again,) = claim_due_pages(session, later + timedelta(seconds=61), "node-2", 120)
        attempt = begin_attempt(session, again, POLICY, later + timedelta(seconds=61))
        assert attempt.step == next_step
