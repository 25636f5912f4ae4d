"""Group commit: the writes queued while one commits go in one transaction together,
and a write that fails alone does not take the others with it.

On SQLite and on a real PostgreSQL server (tests/pg.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import NoResultFound

from ivr.db_writer import DbWriter, NewCall
from ivr.domain import Outcome, Priority
from ivr.flow.events import CallSummary
from ivr.paging.policy import Policy
from ivr.sla import BusinessCalendar
from ivr.store.db import Database, Unavailable
from ivr.store.models import CallRecord
from ivr.store.sessions import Session

T = TypeVar("T")
T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


class CountingDatabase(Database):
    """A real database that counts its transactions, and refuses the next ones if told."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.transactions = 0
        self.down = 0  # this many next transactions find the database away

    def transaction(self, work: Callable[[Session], T]) -> T:
        self.transactions += 1
        if self.down:
            self.down -= 1
            raise Unavailable("connection refused")
        return super().transaction(work)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CountingDatabase]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/group.db"
    else:
        url = request.getfixturevalue("postgres_url")
    database = CountingDatabase(url)
    database.create_schema()
    database.transactions = 0
    yield database
    database.dispose()


class SteppedTime:
    """The writer's clock and pause: pausing moves the clock on, nothing sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def writer(db: CountingDatabase) -> Iterator[DbWriter]:
    time = SteppedTime()
    line = DbWriter(
        db, BusinessCalendar(), Policy(), clock=time.clock, pause=time.pause, probe_seconds=None
    )
    yield line
    line.close()


def arriving(n: int) -> NewCall:
    return NewCall(
        sip_call_id=f"group-{n}@phone",
        from_header=None,
        display_name=None,
        asserted_identity=None,
        source_address="127.0.0.1",
        cli="+442079460000",
        verification="test",
        started_at=T0,
    )


def calls(db: Database) -> list[CallRecord]:
    with db.sessions() as session:
        return list(session.scalars(select(CallRecord).order_by(CallRecord.sip_call_id)))


def ended(outcome: Outcome) -> CallSummary:
    summary = CallSummary()
    summary.outcome = outcome
    return summary


async def test_writes_queued_together_commit_in_one_transaction(
    db: CountingDatabase, writer: DbWriter
) -> None:
    opened = await asyncio.gather(*(writer.open_call(arriving(n)) for n in range(20)))
    assert db.transactions == 1
    assert len({call.id for call in opened}) == 20
    # Each caller got its own row, in the order the calls came.
    assert [call.sip_call_id for call in calls(db)] == sorted(
        arriving(n).sip_call_id for n in range(20)
    )
    assert [call.id for call in opened] == sorted(call.id for call in opened)


async def test_a_write_that_fails_alone_does_not_lose_the_others(
    db: CountingDatabase, writer: DbWriter
) -> None:
    first, second = await asyncio.gather(*(writer.open_call(arriving(n)) for n in range(2)))
    db.transactions = 0
    at = T0 + timedelta(seconds=1)
    results = await asyncio.gather(
        writer.mark_answered(first.id, at),
        writer.close_call(999_999, ended(Outcome.ABANDONED), at),  # no such call: a bug of ours
        writer.close_call(second.id, ended(Outcome.ABANDONED), at),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], NoResultFound)
    # The group, rolled back, then each write alone.
    assert db.transactions == 1 + 3
    one, two = calls(db)
    assert one.answered_at is not None and one.ended_at is None
    assert two.outcome == Outcome.ABANDONED.value and two.ended_at is not None


async def test_a_database_away_fails_the_group_and_each_write_retries(
    db: CountingDatabase, writer: DbWriter
) -> None:
    db.down = 1
    opened = await asyncio.gather(*(writer.open_call(arriving(n)) for n in range(5)))
    assert len({call.id for call in opened}) == 5
    # Not one by one against a database that is away: the retries go as a group too.
    assert db.transactions == 2
    assert len(calls(db)) == 5


async def test_a_lone_write_is_its_own_transaction(db: CountingDatabase, writer: DbWriter) -> None:
    await writer.open_call(arriving(1))
    await writer.open_call(arriving(2))
    assert db.transactions == 2
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CallRecord)) == 2


async def test_a_fault_that_pages_commits_before_other_writes_and_without_them(
    db: CountingDatabase, writer: DbWriter
) -> None:
    opened = await asyncio.gather(*(writer.open_call(arriving(n)) for n in range(4)))
    db.transactions = 0
    at = T0 + timedelta(seconds=1)
    # Queued together, the fault last: it still commits first, in a transaction of its own.
    others = [asyncio.ensure_future(writer.mark_answered(call.id, at)) for call in opened[:3]]
    ordinary = asyncio.ensure_future(writer.record_fault(opened[3].id, Priority.HIGH, at))
    critical = asyncio.ensure_future(writer.record_fault(opened[0].id, Priority.CRITICAL, at))
    finished: list[str] = []

    def note(name: str) -> Callable[[object], None]:
        return lambda _: finished.append(name)

    critical.add_done_callback(note("critical"))
    ordinary.add_done_callback(note("ordinary"))
    others[0].add_done_callback(note("other"))
    await asyncio.gather(critical, ordinary, *others)
    assert critical.result().pages
    assert finished[0] == "critical"
    assert db.transactions == 2
