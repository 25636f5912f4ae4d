"""A page nobody acknowledged starts again from level 1, stored: on the
timeline, in `ivr pages list`'s rows, surviving a restart (it waits in the
database), and given up once the acknowledge deadline is long past.
SQLite and PostgreSQL; each `with db.sessions.begin()` is one commit, as the
scheduler makes them; time stepped by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.domain import Priority
from ivr.faults.lifecycle import Action
from ivr.paging.policy import AttemptResult, Level, Policy, after
from ivr.paging.rota import Rota
from ivr.sla import Deadlines
from ivr.store.db import Database
from ivr.store.engineers import add_engineer
from ivr.store.fault_changes import reprioritise
from ivr.store.faults import move_fault, timeline_entries
from ivr.store.models import Fault, Page, PageAttempt
from ivr.store.oncall import set_rota
from ivr.store.outbox import list_messages
from ivr.store.pages import (
    GaveUp,
    advance,
    begin_attempt,
    claim_due_pages,
    finish_attempt,
    next_due_at,
    open_page,
    page_as_dict,
    stopped_pages,
)

T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
ACK_BY = T0 + timedelta(minutes=30)
POLICY = Policy(
    levels=(
        Level("oncall", ring_seconds=30, attempts=1),
        Level("next", ring_seconds=30, attempts=1),
    ),
    repeats=1,
    retry_failed_seconds=600,
    give_up_after_seconds=3600,
    failed_notify=("ops@example.com",),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/restarts.db"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    database.create_schema()
    with database.sessions.begin() as session:
        add_engineer(session, "Alice", "sip:alice@pbx.example")
        add_engineer(session, "Bob", "sip:bob@pbx.example")
        set_rota(session, Rota(("Alice", "Bob"), datetime(2026, 1, 5, 9, tzinfo=UTC), time(9), 0))
    yield database
    database.dispose()


def report(db: Database) -> int:
    with db.sessions.begin() as session:
        fault = Fault(
            reference="100001", priority="critical", customer="Acme", reported_at=T0,
            acknowledge_by=ACK_BY, respond_by=T0 + timedelta(hours=2),
            resolve_by=T0 + timedelta(hours=24),
        )  # fmt: skip
        session.add(fault)
        session.flush()
        return open_page(session, fault, T0).id


def turn(db: Database, now: datetime, result: AttemptResult) -> tuple[int, str | None]:
    """One scheduler turn on the page due now: (page id, engineer rung)."""
    with db.sessions.begin() as session:
        (page,) = claim_due_pages(session, now, "node-1", 120)
        attempt = begin_attempt(session, page, POLICY, now, owner="node-1")
        page_id, attempt_id, name = page.id, attempt.id, attempt.engineer_name
    with db.sessions.begin() as session:
        current = session.get_one(Page, page_id)
        finish_attempt(session, session.get_one(PageAttempt, attempt_id), result, now)
        advance(session, current, after(POLICY, current.step, result), now, policy=POLICY)
    return page_id, name


def fail_round(db: Database, start: datetime) -> tuple[int, datetime]:
    """Alice then Bob do not answer, a minute apart; returns the page and when it failed."""
    page_id, first = turn(db, start, AttemptResult.NO_ANSWER)
    failed = start + timedelta(minutes=1)
    assert turn(db, failed, AttemptResult.NO_ANSWER) == (page_id, "Bob")
    assert first == "Alice"
    return page_id, failed


def timeline(db: Database) -> list[tuple[str, datetime, str]]:
    with db.sessions() as session:
        fault = session.scalars(select(Fault)).one()
        return [(n.kind, n.created_at, n.body) for n in timeline_entries(session, fault)]


def pages(db: Database) -> list[dict[str, object]]:
    with db.sessions() as session:
        return [page_as_dict(p) for p in session.scalars(select(Page).order_by(Page.id))]


def test_a_failed_page_starts_again_from_level_one_after_the_retry_time(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    first = report(db)
    _, failed = fail_round(db, T0)
    restart_at = failed + timedelta(minutes=10)
    with db.sessions() as session:
        fault = session.scalars(select(Fault)).one()
        assert fault.status == "page_failed"
        # Nothing to do until the restart is due: a service restarted now waits for it.
        assert next_due_at(session, failed) == restart_at
        assert claim_due_pages(session, restart_at - timedelta(seconds=1), "node-1", 120) == []
    assert [(p["id"], p["status"], p["restart"]) for p in pages(db)] == [
        (first, "failed", 0),
        (first + 1, "active", 1),
    ]
    assert "ops@example.com" in caplog.text
    with db.sessions() as session:  # failed_notify is e-mailed with the failure
        (notice,) = list_messages(session)
        assert (notice.kind, notice.recipients, notice.reference) == (
            "notice",
            ["ops@example.com"],
            "100001",
        )
        body = str(notice.facts["body"])
        assert "Nobody answered the alert page for fault 100001" in body
        assert "Customer: Acme" in body and "To acknowledge by: Wed 07 Jan 2026 03:30 UTC" in body
        assert "starts again from level 1 at Wed 07 Jan 2026 03:11 UTC" in body
    second, name = turn(db, restart_at, AttemptResult.NO_ANSWER)
    assert (second, name) == (first + 1, "Alice")  # level 1 again
    entries = timeline(db)
    assert entries[0][:2] == ("page_failed", failed)
    assert "starts again from level 1 in 10 minutes" in entries[0][2]
    assert entries[1] == ("paging_restarted", restart_at, f"restart 1 (page {second})")
    # Acknowledged on the restart: the fault leaves page_failed, paging stops.
    assert turn(db, restart_at + timedelta(minutes=1), AttemptResult.ACKNOWLEDGED)[1] == "Bob"
    with db.sessions() as session:
        # The call that acknowledged goes on (a callback to the customer, say):
        # only a page cancelled from elsewhere hangs its call up.
        assert stopped_pages(session, [second]) == []
    with db.sessions() as session:
        fault = session.scalars(select(Fault)).one()
        assert (fault.status, fault.acknowledged_by) == ("acknowledged", "Bob")
    assert [(p["kind"], p["status"]) for p in pages(db)] == [
        ("alert", "failed"),
        ("alert", "acknowledged"),
        ("reminder", "active"),
    ]


def test_restarts_stop_once_the_acknowledge_deadline_is_an_hour_past(db: Database) -> None:
    report(db)
    start = T0
    while True:
        _, failed = fail_round(db, start)
        with db.sessions() as session:
            due = next_due_at(session, failed)
        if due is None:
            break
        start = due
    restarts = [p for p in pages(db) if p["restart"]]
    # Failing at 03:01, 03:12, ..., each restart 10 minutes later, the last
    # one no later than 04:30 (acknowledge by 03:30, plus an hour).
    assert len(restarts) == 8
    assert all(p["status"] == "failed" for p in pages(db))
    kinds = [kind for kind, _, _ in timeline(db)]
    assert kinds.count("paging_restarted") == 8
    assert kinds.count("failed_again") == 8
    last = timeline(db)[-1]
    assert last[0] == "failed_again" and "paging gives up" in last[2]


def test_a_restart_due_after_the_give_up_time_closes_instead_of_ringing(db: Database) -> None:
    report(db)
    fail_round(db, T0)
    too_late = ACK_BY + timedelta(minutes=61)  # the service was down until now
    with db.sessions.begin() as session:
        (page,) = claim_due_pages(session, too_late, "node-1", 120)
        with pytest.raises(GaveUp, match="paging gave up"):
            begin_attempt(session, page, POLICY, too_late, owner="node-1")
    assert [p["status"] for p in pages(db)] == ["failed", "failed"]
    assert pages(db)[1]["attempts"] == []
    assert timeline(db)[-1][0] == "paging_gave_up"


def test_acknowledging_from_the_command_line_stops_the_waiting_restart(db: Database) -> None:
    report(db)
    _, failed = fail_round(db, T0)
    with db.sessions.begin() as session:
        fault = session.scalars(select(Fault)).one()
        move_fault(session, fault, Action.ACKNOWLEDGE, failed, by="carol")
    with db.sessions.begin() as session:
        assert claim_due_pages(session, failed + timedelta(minutes=10), "node-1", 120) == []
    assert [p["status"] for p in pages(db)] == ["failed", "cancelled"]


def test_a_new_fault_does_not_join_a_restart_waiting_for_its_time(db: Database) -> None:
    first = report(db)
    _, failed = fail_round(db, T0)
    with db.sessions.begin() as session:
        fault = Fault(reference="100002", priority="critical", customer="Acme", reported_at=failed)
        session.add(fault)
        session.flush()
        assert open_page(session, fault, failed).id == first + 2  # paged now, on its own


def test_lowering_the_priority_stops_a_page_mid_call_and_it_stays_stopped(db: Database) -> None:
    page_id = report(db)
    with db.sessions.begin() as session:
        (page,) = claim_due_pages(session, T0, "node-1", 120)
        attempt_id = begin_attempt(session, page, POLICY, T0, owner="node-1").id
    # The phone is ringing (the page is leased) when the priority is lowered.
    with db.sessions.begin() as session:
        fault = session.scalars(select(Fault)).one()
        deadlines = Deadlines(ACK_BY, T0 + timedelta(hours=4), T0 + timedelta(hours=48))
        reprioritise(
            session, fault, Priority.HIGH, deadlines, POLICY, at=T0, by="carol", reason="not down"
        )
        assert stopped_pages(session, [page_id]) == [page_id]  # the scheduler hangs up
    assert pages(db)[0]["status"] == "cancelled"
    with db.sessions.begin() as session:
        finish_attempt(session, session.get_one(PageAttempt, attempt_id), AttemptResult.STOPPED, T0)
        assert next_due_at(session, T0) is None
