"""The call log stays fast over a million calls: every page is an index range, never a sort.

A million rows are generated in SQLite by the test itself (a recursive CTE,
no data committed), then `EXPLAIN QUERY PLAN` of the call log's own query
is read for each kind of page: it must walk an index in order and must not
build a temporary B-tree to sort. A deep page is also timed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, event

from ivr.store.call_log import Cursor, call_log_page, call_log_query
from ivr.store.calls import CallFilter
from ivr.store.db import Database

ROWS = 1_000_000
START = datetime(2025, 6, 1, tzinfo=UTC)
STEP_SECONDS = 30  # a million calls 30 s apart: about 347 days
OUTCOMES = ("reported", "rejected", "after_hours", "no_choice", "abandoned", "failed", "reported")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("million") / "calls.db"
    database = Database(f"sqlite:///{path}")
    database.create_schema()
    database.dispose()
    began = time.monotonic()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    outcome_case = " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(OUTCOMES))
    # started_at is written as SQLAlchemy stores it on SQLite (UTC, microseconds).
    raw.execute(
        f"""
        WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < {ROWS - 1})
        INSERT INTO calls (id, sip_call_id, direction, cli, verified, verification,
                           started_at, digits, outcome)
        SELECT x + 1,
               'gen-' || x,
               'inbound',
               '+4420794600' || printf('%02d', x % 97),
               x % 5 <> 0,
               '',
               datetime({int(START.timestamp())} + x * {STEP_SECONDS}, 'unixepoch') || '.000000',
               '',
               CASE x % {len(OUTCOMES)} {outcome_case} END
        FROM n
        """
    )
    raw.commit()
    # What a long-running database has: statistics the planner weighs indexes by.
    raw.execute("ANALYZE")
    raw.commit()
    raw.close()
    seconds = time.monotonic() - began
    print(f"seeding a million calls took {seconds:.1f} s")
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


def at(index: int) -> datetime:
    return START + timedelta(seconds=STEP_SECONDS * index)


def plan(database: Database, query: Select[Any]) -> str:
    """EXPLAIN QUERY PLAN of `query` exactly as SQLAlchemy sends it (SQL and bound values)."""
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        sent.append((statement, params))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        with database.sessions() as session:
            session.execute(query).all()
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    statement, params = sent[-1]
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
    return "\n".join(str(row[-1]) for row in rows)


DEEP = Cursor(at(ROWS // 3), ROWS // 3 + 1)
CASES = {
    "newest page": (CallFilter(limit=50), None, None, "ix_calls_started_at_id"),
    "deep page": (CallFilter(limit=50), DEEP, None, "ix_calls_started_at_id"),
    "newer page": (CallFilter(limit=50), None, DEEP, "ix_calls_started_at_id"),
    "date range": (
        CallFilter(since=at(1000), until=at(900_000), limit=50),
        DEEP,
        None,
        "ix_calls_started_at_id",
    ),
    "by caller": (CallFilter(cli="+442079460042", limit=50), DEEP, None, "ix_calls_cli_started_at"),
    "by outcome": (
        CallFilter(outcome="rejected", limit=50),
        DEEP,
        None,
        "ix_calls_outcome_started_at",
    ),
    "by outcome and range": (
        CallFilter(outcome="failed", since=at(10), until=at(500_000), limit=50),
        None,
        None,
        "ix_calls_outcome_started_at",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_call_log_query_walks_an_index_without_sorting(million: Database, case: str) -> None:
    filters, before, after, index = CASES[case]
    text = plan(million, call_log_query(filters, before=before, after=after))
    print(f"{case}: {text}")
    assert f"USING INDEX {index}" in text or f"USING COVERING INDEX {index}" in text, text
    assert "TEMP B-TREE" not in text, text
    assert not any(line.strip() == "SCAN calls" for line in text.splitlines()), text


def test_a_deep_page_is_as_quick_as_the_first(million: Database) -> None:
    with million.sessions() as session:
        began = time.monotonic()
        first = call_log_page(session, CallFilter(limit=50))
        first_seconds = time.monotonic() - began
        assert len(first.calls) == 50
        assert first.calls[0].id == ROWS
        began = time.monotonic()
        deep = call_log_page(session, CallFilter(outcome="rejected", limit=50), before=DEEP)
        deep_seconds = time.monotonic() - began
    assert len(deep.calls) == 50
    assert all(c.outcome == "rejected" for c in deep.calls)
    assert all((c.started_at, c.id) < (DEEP.started_at, DEEP.id) for c in deep.calls)
    assert first_seconds < 0.5 and deep_seconds < 0.5, (first_seconds, deep_seconds)
