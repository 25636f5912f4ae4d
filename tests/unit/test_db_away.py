"""The database goes away: bounded waits, idempotent retries, loud failures.

Time is stepped by hand: the writer's clock and pause are fakes, so a
30-second outage takes no time and every wait is exact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select, text

from ivr.config import ConfigError, load_config
from ivr.db_wait import (
    FIRST_RETRY_SECONDS,
    MAX_RETRY_SECONDS,
    REMIND_SECONDS,
    Availability,
    RetryWindow,
)
from ivr.db_writer import DatabaseWaitExceeded, DbWriter, NewCall
from ivr.domain import Outcome, Priority
from ivr.flow.events import CallSummary
from ivr.paging.policy import Policy
from ivr.sla import BusinessCalendar
from ivr.store.db import Database, StorageFull, Unavailable
from ivr.store.models import CallRecord, Fault, Page
from ivr.store.sessions import Session
from tests.ports import free_port

T = TypeVar("T")
T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)


# ---- the pure rules --------------------------------------------------------------


def test_retries_come_quickly_then_at_most_a_second_apart_and_stop_at_the_limit() -> None:
    window = RetryWindow(started=100.0, limit=3.0)
    now = 100.0
    delays = []
    while (delay := window.failed(now)) is not None:
        delays.append(delay)
        now += delay
    assert delays == [FIRST_RETRY_SECONDS, 0.5, MAX_RETRY_SECONDS, MAX_RETRY_SECONDS, 0.25]
    assert now == 103.0  # the last attempt at the limit, none after it
    assert window.attempts == len(delays) + 1


def test_no_wait_configured_gives_up_after_the_first_failure() -> None:
    assert RetryWindow(started=5.0, limit=0.0).failed(5.0) is None


def test_the_log_says_once_that_the_database_is_away_reminds_and_says_when_it_is_back() -> None:
    availability = Availability()
    assert availability.succeeded(0.0) is None  # nothing to say while all is well
    assert availability.failed(1.0, "refused") == "database UNAVAILABLE: refused"
    assert availability.failed(2.0, "refused") is None  # not one line per attempt
    reminder = availability.failed(1.0 + REMIND_SECONDS, "refused")
    assert reminder == "database still UNAVAILABLE after 10 s: refused"
    assert availability.succeeded(16.5) == "database available again after 15.5 s"
    assert not availability.down


# ---- the writer, on a database that fails as told ---------------------------------


class FlakyDatabase(Database):
    """A real SQLite database whose next transactions fail as planned.

    "down": refused before any work (the server is away);
    "lost": committed, then reported as a broken connection (the answer to
    COMMIT was lost); "full": the disk is full.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.plan: list[str] = []
        self.attempts = 0

    def transaction(self, work: Callable[[Session], T]) -> T:
        self.attempts += 1
        step = self.plan.pop(0) if self.plan else "ok"
        if step == "down":
            raise Unavailable("connection refused")
        if step == "full":
            raise StorageFull("the database's disk is full")
        result = super().transaction(work)
        if step == "lost":
            raise Unavailable("server closed the connection unexpectedly")
        return result


class SteppedTime:
    """The writer's clock and pause: pausing moves the clock on, nothing sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def db(tmp_path: Path) -> Iterator[FlakyDatabase]:
    database = FlakyDatabase(f"sqlite:///{tmp_path}/away.db")
    database.create_schema()
    yield database
    database.dispose()


@pytest.fixture
def time() -> SteppedTime:
    return SteppedTime()


def writer(db: Database, time: SteppedTime, wait: float = 30.0) -> DbWriter:
    return DbWriter(
        db,
        BusinessCalendar(),
        Policy(),
        node="here:5060",
        wait_seconds=wait,
        clock=time.clock,
        pause=time.pause,
        probe_seconds=None,
    )


def arriving(call_id: str) -> NewCall:
    return NewCall(
        sip_call_id=call_id,
        from_header=None,
        display_name=None,
        asserted_identity=None,
        source_address="127.0.0.1",
        cli="+442079460000",
        verification="test",
        started_at=T0,
    )


def count(db: Database, model: type[object]) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def test_a_fault_confirmed_while_the_database_is_away_is_committed_when_it_returns(
    db: FlakyDatabase, time: SteppedTime, caplog: pytest.LogCaptureFixture
) -> None:
    line = writer(db, time)
    try:
        call = await line.open_call(arriving("a"))
        db.plan = ["down"] * 6
        with caplog.at_level(logging.INFO, logger="ivr.db_writer"):
            fault = await line.record_fault(call.id, Priority.CRITICAL, T0)
    finally:
        line.close()
    assert sum(time.pauses) == pytest.approx(4.75)  # 0.25 + 0.5 + 4 x 1: well within 30 s
    assert count(db, Fault) == 1 and count(db, Page) == 1
    messages = [record.getMessage() for record in caplog.records]
    assert "database UNAVAILABLE: connection refused" in messages
    assert f"the fault of call record {call.id} waiting for the database (up to 30 s)" in messages
    assert "database available again after 4.8 s" in messages
    with db.sessions() as session:
        assert session.get_one(CallRecord, call.id).fault_reference == fault.reference


async def test_a_commit_whose_answer_was_lost_is_not_made_twice(
    db: FlakyDatabase, time: SteppedTime
) -> None:
    line = writer(db, time)
    try:
        call = await line.open_call(arriving("a"))
        db.plan = ["lost", "down", "lost"]
        fault = await line.record_fault(call.id, Priority.CRITICAL, T0)
        db.plan = ["lost"]
        again = await line.open_call(arriving("a"))  # the call's row, found again
        db.plan = ["lost"]
        await line.close_call(call.id, CallSummary(Outcome.REPORTED, reference=fault.reference), T0)
    finally:
        line.close()
    assert db.attempts == 1 + 4 + 2 + 2
    assert again.id == call.id
    assert count(db, CallRecord) == 1
    assert count(db, Fault) == 1  # one fault ...
    assert count(db, Page) == 1  # ... and one page for it
    with db.sessions() as session:
        stored = session.scalars(select(Fault)).one()
        assert stored.reference == fault.reference  # the caller hears the stored one
        assert session.get_one(CallRecord, call.id).outcome == Outcome.REPORTED.value


async def test_a_database_away_beyond_the_wait_fails_the_fault_and_writes_nothing(
    db: FlakyDatabase, time: SteppedTime, caplog: pytest.LogCaptureFixture
) -> None:
    line = writer(db, time, wait=5.0)
    try:
        call = await line.open_call(arriving("a"))
        db.plan = ["down"] * 100
        with pytest.raises(DatabaseWaitExceeded, match="within 5 s"):
            await line.record_fault(call.id, Priority.CRITICAL, T0)
    finally:
        line.close()
    assert sum(time.pauses) == pytest.approx(5.0)  # bounded: never longer than the wait
    assert count(db, Fault) == 0
    assert any("NOT written" in record.getMessage() for record in caplog.records)


async def test_a_full_disk_fails_at_once_and_loudly(
    db: FlakyDatabase, time: SteppedTime, caplog: pytest.LogCaptureFixture
) -> None:
    line = writer(db, time)
    try:
        call = await line.open_call(arriving("a"))
        db.plan = ["full"]
        with pytest.raises(StorageFull):
            await line.record_fault(call.id, Priority.CRITICAL, T0)
    finally:
        line.close()
    assert time.pauses == []  # not waited for: it does not empty itself
    loud = [record for record in caplog.records if record.levelno == logging.CRITICAL]
    assert len(loud) == 1 and "DATABASE DISK FULL" in loud[0].getMessage()


# ---- the real drivers' errors -------------------------------------------------------


def test_a_postgresql_server_that_is_not_there_is_unavailable() -> None:
    # Nothing listens on this loopback port: the connection is refused.
    away = Database(f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(Unavailable) as raised:
            away.transaction(lambda session: session.execute(text("SELECT 1")))
        assert not isinstance(raised.value, StorageFull)
        with pytest.raises(Unavailable):
            away.ping()
    finally:
        away.dispose()


def test_a_full_sqlite_database_is_storage_full(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/small.db")

    def fill(session: Session) -> None:
        session.execute(text("CREATE TABLE IF NOT EXISTS filler (blob BLOB)"))
        pages = session.execute(text("PRAGMA page_count")).scalar_one()
        # The file may not grow: as if its disk had no more room.
        session.execute(text(f"PRAGMA max_page_count = {int(pages) + 1}"))
        session.execute(text("INSERT INTO filler VALUES (randomblob(1000000))"))

    try:
        with pytest.raises(StorageFull, match="disk is full"):
            database.transaction(fill)
    finally:
        database.dispose()


def test_the_wait_is_configurable_and_checked(tmp_path: Path) -> None:
    conf = tmp_path / "sip.conf"
    conf.write_text("[general]\ndatabase_wait_seconds = 12.5\n", encoding="utf-8")
    assert load_config(conf).database_wait_seconds == 12.5
    conf.write_text("[general]\ndatabase_wait_seconds = 9000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[general\] database_wait_seconds: must be from 0"):
        load_config(conf)
