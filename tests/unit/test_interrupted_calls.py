"""A node restarting after a crash closes the calls it was carrying, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.db_writer import DbWriter, NewCall
from ivr.domain import Outcome
from ivr.flow.events import CallSummary
from ivr.paging.policy import Policy
from ivr.sla import BusinessCalendar
from ivr.store.calls import close_interrupted_calls
from ivr.store.db import Database
from ivr.store.models import CallRecord

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/calls.db")
    database.create_schema()
    yield database
    database.dispose()


def arriving(call_id: str, at: datetime) -> NewCall:
    return NewCall(
        sip_call_id=call_id,
        from_header=None,
        display_name=None,
        asserted_identity=None,
        source_address="127.0.0.1",
        cli=None,
        verification="no caller ID",
        started_at=at,
    )


async def test_only_this_nodes_unfinished_calls_become_interrupted(db: Database) -> None:
    here = DbWriter(db, BusinessCalendar(), Policy(), node="host-a:5060")
    there = DbWriter(db, BusinessCalendar(), Policy(), node="host-b:5060")
    try:
        finished = await here.open_call(arriving("finished", T0))
        await here.close_call(finished.id, CallSummary(Outcome.REJECTED), T0 + timedelta(seconds=9))
        await here.open_call(arriving("cut-off", T0))
        await there.open_call(arriving("elsewhere", T0))  # still live on the other node
    finally:
        here.close()
        there.close()

    with db.sessions.begin() as session:
        assert close_interrupted_calls(session, "host-a:5060") == 1
    with db.sessions.begin() as session:
        assert close_interrupted_calls(session, "host-a:5060") == 0  # once only
    with db.sessions() as session:
        rows = session.execute(
            select(
                CallRecord.sip_call_id, CallRecord.node, CallRecord.outcome, CallRecord.ended_at
            ).order_by(CallRecord.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("finished", "host-a:5060", "rejected", T0 + timedelta(seconds=9)),
        # Nobody knows when the caller gave up: the end stays empty.
        ("cut-off", "host-a:5060", "interrupted", None),
        ("elsewhere", "host-b:5060", "in_progress", None),
    ]
