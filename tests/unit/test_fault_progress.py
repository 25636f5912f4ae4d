"""Faults moving through their stages, and the clock each one runs to (store level)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.faults.clock import next_owed
from ivr.faults.lifecycle import Action, IllegalMove
from ivr.store.db import Database
from ivr.store.faults import (
    fault_as_dict,
    fault_times,
    find_fault,
    list_faults,
    move_fault,
    timeline_entries,
)
from ivr.store.models import Fault

# Critical, reported Saturday 28 Nov 2026 22:00 GMT: 2 h / 3 h / 24 h on the clock.
T0 = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/faults.db")
    database.create_schema()
    yield database
    database.dispose()


def add(
    db: Database,
    reference: str = "123456",
    *,
    priority: str = "critical",
    status: str = "open",
    reported_at: datetime = T0,
    resolve: bool = True,
) -> None:
    with db.sessions.begin() as session:
        session.add(
            Fault(
                reference=reference,
                priority=priority,
                status=status,
                reported_at=reported_at,
                acknowledge_by=reported_at + 2 * H,
                respond_by=reported_at + 3 * H,
                resolve_by=reported_at + 24 * H if resolve else None,
            )
        )


def progress(
    db: Database, stage: str, at: datetime, by: str | None = None, reference: str = "123456"
) -> dict[str, object]:
    with db.sessions.begin() as session:
        fault = find_fault(session, reference)
        assert fault is not None
        move_fault(session, fault, Action(stage), at, by=by)
    return shown(db, reference)


def shown(db: Database, reference: str = "123456") -> dict[str, object]:
    with db.sessions() as session:
        fault = find_fault(session, reference)
        assert fault is not None
        return fault_as_dict(fault)


def iso(value: datetime) -> str:
    return value.isoformat()


# ---- progress ------------------------------------------------------------------------------


def test_acknowledge_then_respond_then_resolve(db: Database) -> None:
    add(db)
    row = progress(db, "acknowledge", T0 + H, "Alice")
    assert (row["status"], row["acknowledged_at"], row["acknowledged_by"]) == (
        "acknowledged",
        iso(T0 + H),
        "Alice",
    )
    assert row["responded_at"] is None
    row = progress(db, "respond", T0 + 2 * H, "Bob")
    assert (row["status"], row["responded_at"]) == ("responded", iso(T0 + 2 * H))
    assert (row["acknowledged_at"], row["acknowledged_by"]) == (iso(T0 + H), "Alice")
    row = progress(db, "resolve", T0 + 5 * H)
    assert (row["status"], row["resolved_at"], row["responded_at"]) == (
        "resolved",
        iso(T0 + 5 * H),
        iso(T0 + 2 * H),
    )


def test_respond_implies_acknowledge(db: Database) -> None:
    add(db)
    row = progress(db, "respond", T0 + H, "Bob")
    assert row["status"] == "responded"
    assert row["acknowledged_at"] == row["responded_at"] == iso(T0 + H)
    assert row["acknowledged_by"] == "Bob"


def test_resolve_implies_respond_and_acknowledge(db: Database) -> None:
    add(db)
    row = progress(db, "resolve", T0 + H)
    assert row["status"] == "resolved"
    assert row["acknowledged_at"] == row["responded_at"] == row["resolved_at"] == iso(T0 + H)
    assert row["acknowledged_by"] is None


def test_a_failed_page_can_still_be_acknowledged(db: Database) -> None:
    add(db, status="page_failed")
    row = progress(db, "acknowledge", T0 + 3 * H, "Carol")
    assert row["status"] == "acknowledged"


@pytest.mark.parametrize(
    ("done", "stage", "message"),
    [
        (
            ["resolve"],
            "resolve",
            "fault 123456 is already resolved at 2026-11-28T23:00+00:00; "
            "it cannot be resolved again",
        ),
        (["resolve"], "acknowledge", "already resolved at .*; it cannot be acknowledged now"),
        (["acknowledge"], "acknowledge", "already acknowledged at .*; it cannot be ack"),
        (["respond"], "acknowledge", "already responded at .*; it cannot be acknowledged now"),
        (["respond"], "respond", "it cannot be responded to again"),
    ],
)
def test_moving_backwards_or_repeating_is_refused(
    db: Database, done: list[str], stage: str, message: str
) -> None:
    add(db)
    for step in done:
        progress(db, step, T0 + H)
    before = shown(db)
    with pytest.raises(IllegalMove, match=message.replace("+", r"\+")):
        progress(db, stage, T0 + 2 * H)
    assert shown(db) == before


def test_a_time_before_the_report_or_the_previous_stage_is_refused(db: Database) -> None:
    add(db)
    with pytest.raises(IllegalMove, match="before it was reported"):
        progress(db, "acknowledge", T0 - timedelta(minutes=1))
    progress(db, "acknowledge", T0 + 2 * H)
    with pytest.raises(IllegalMove, match="before its previous stage"):
        progress(db, "respond", T0 + H)
    assert shown(db)["status"] == "acknowledged"


def test_unknown_stage_and_naive_time_are_programming_errors(db: Database) -> None:
    add(db)
    with pytest.raises(ValueError, match="not a valid Action"):
        progress(db, "close", T0 + H)
    with pytest.raises(ValueError, match="timezone-aware"):
        progress(db, "acknowledge", datetime(2026, 11, 28, 23, 0))


# ---- the clock -------------------------------------------------------------------------------


def clock_of(db: Database, now: datetime, reference: str = "123456") -> dict[str, object]:
    with db.sessions() as session:
        fault = find_fault(session, reference)
        assert fault is not None
        row = fault_as_dict(fault, now)
        assert (next_owed(fault_times(fault), now) is None) == (row["next_deadline"] is None)
    return {k: row[k] for k in ("next_deadline", "next_deadline_at", "overdue")}


def test_the_clock_moves_to_the_next_stage_owed(db: Database) -> None:
    add(db)
    assert clock_of(db, T0 + H) == {
        "next_deadline": "acknowledge",
        "next_deadline_at": iso(T0 + 2 * H),
        "overdue": False,
    }
    # Exactly at the deadline it is still due, not overdue.
    assert clock_of(db, T0 + 2 * H)["overdue"] is False
    assert clock_of(db, T0 + 2 * H + timedelta(seconds=1))["overdue"] is True
    progress(db, "acknowledge", T0 + H)
    assert clock_of(db, T0 + 4 * H) == {
        "next_deadline": "respond",
        "next_deadline_at": iso(T0 + 3 * H),
        "overdue": True,
    }
    progress(db, "respond", T0 + 4 * H)
    assert clock_of(db, T0 + 4 * H)["next_deadline"] == "resolve"
    progress(db, "resolve", T0 + 5 * H)
    assert clock_of(db, T0 + 30 * H) == {
        "next_deadline": None,
        "next_deadline_at": None,
        "overdue": False,
    }


def test_a_standard_fault_responded_to_owes_nothing_more(db: Database) -> None:
    add(db, priority="standard", resolve=False)
    progress(db, "respond", T0 + H)
    assert clock_of(db, T0 + 100 * H)["next_deadline"] is None


def test_json_without_now_has_no_clock_fields(db: Database) -> None:
    add(db)
    assert "next_deadline" not in shown(db)


def test_list_faults_filters_by_span_and_resolution(db: Database) -> None:
    add(db, "100001", reported_at=T0 - 30 * 24 * H)  # October
    add(db, "100002", reported_at=T0)
    add(db, "100003", reported_at=T0 + 2 * H)  # Sunday 29 Nov
    progress(db, "resolve", T0 + H, reference="100002")
    with db.sessions() as session:
        november = list_faults(
            session,
            since=datetime(2026, 11, 1, tzinfo=UTC),
            before=datetime(2026, 12, 1, tzinfo=UTC),
            limit=None,
        )
        assert [f.reference for f in november] == ["100003", "100002"]
        assert [f.reference for f in list_faults(session, unresolved=True)] == [
            "100003",
            "100001",
        ]


def test_every_move_leaves_its_entries_on_the_timeline(db: Database) -> None:
    """The timeline is read, never pieced together: an implied stage has its own entry."""
    add(db)
    progress(db, "acknowledge", T0 + H, "Carol")
    progress(db, "resolve", T0 + 2 * H, "Dan")
    with db.sessions() as session:
        fault = find_fault(session, "123456")
        assert fault is not None
        entries = [(e.kind, e.author, e.created_at) for e in timeline_entries(session, fault)]
    assert entries == [
        ("acknowledged", "Carol", T0 + H),
        ("responded", "Dan", T0 + 2 * H),
        ("resolved", "Dan", T0 + 2 * H),
    ]


def test_a_refused_move_writes_nothing(db: Database) -> None:
    add(db)
    progress(db, "resolve", T0 + H)
    with pytest.raises(IllegalMove):
        progress(db, "respond", T0 + 2 * H)
    with db.sessions() as session:
        fault = find_fault(session, "123456")
        assert fault is not None
        assert [e.kind for e in timeline_entries(session, fault)] == [
            "acknowledged",
            "responded",
            "resolved",
        ]
